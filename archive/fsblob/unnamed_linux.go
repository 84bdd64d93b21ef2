package fsblob

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openUnnamed creates a file without a name in dir (O_TMPFILE), read-only
// for everyone once named: Put names it only when it is complete and
// synced, so there is no temporary name to create, chmod and remove.
func openUnnamed(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, blobMode)
	if err != nil {
		return nil, &os.PathError{Op: "open O_TMPFILE", Path: dir, Err: err}
	}
	return os.NewFile(uintptr(fd), dir+"/(unnamed)"), nil
}

// linkUnnamed gives the open unnamed file f the name final; it fails with
// an error satisfying errors.Is(err, fs.ErrExist) when the name is taken.
func linkUnnamed(f *os.File, final string) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := sc.Control(func(fd uintptr) {
		lerr = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(fd)), unix.AT_FDCWD, final, unix.AT_SYMLINK_FOLLOW)
	}); err != nil {
		return err
	}
	if lerr != nil {
		return &os.LinkError{Op: "link", Old: f.Name(), New: final, Err: lerr}
	}
	return nil
}

// syncFS returns a function that flushes the whole file system holding
// dir to stable storage (syncfs(2): file data and metadata, directory
// entries too), reporting write-back errors (Linux 5.8+). The directory
// stays open while the function is reachable.
func syncFS(dir string) (func() error, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	return func() error {
		if err := unix.Syncfs(int(f.Fd())); err != nil {
			return &os.PathError{Op: "syncfs", Path: dir, Err: err}
		}
		return nil
	}, nil
}
