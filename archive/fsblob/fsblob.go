package fsblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/internal/ingest"
)

const (
	blobDir  = "sha256"
	tmpDir   = "tmp"
	dirMode  = 0o750
	blobMode = 0o444
	// staleAfter is the age after which New removes a temporary file.
	staleAfter = 24 * time.Hour
)

// Options configure a Store. The zero value is valid.
type Options struct {
	// MaxSize is the largest blob Put accepts, in bytes; 0: no limit.
	MaxSize int64
	// Now is the clock used to age temporary files; nil: time.Now.
	Now func() time.Time
	// SyncEach makes every Put fsync its own file and directory; by
	// default, where the system allows, concurrent Puts are made durable
	// together by one syncfs(2) of the file system.
	SyncEach bool
}

// Store is a filesystem blob store. It is safe for concurrent use, also by
// several Stores (or processes) on the same directory.
type Store struct {
	root string
	max  int64
	// unnamed: Put writes an unnamed file (O_TMPFILE) and links it into
	// place, if New found that this file system supports it.
	unnamed bool
	// group, with unnamed files: concurrent Puts share one syncfs instead
	// of two fsyncs each (nil: each Put syncs its file and directory).
	group *syncer
	// dirs has a bit per leaf directory (the digest's first two bytes)
	// that a Put of this Store made or found, so that the next Put there
	// need not look it up again.
	dirs [1 << 16 / 64]atomic.Uint64
}

var _ archive.BlobStore = (*Store)(nil)

// copyBufs holds the buffers Put copies through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// New opens the store rooted at dir, creating the directory if needed, and
// removes temporary files older than a day.
func New(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("fsblob: no directory")
	}
	if opts.MaxSize < 0 {
		return nil, fmt.Errorf("fsblob: negative MaxSize %d", opts.MaxSize)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Store{root: dir, max: opts.MaxSize}
	for _, d := range []string{dir, filepath.Join(dir, blobDir), filepath.Join(dir, tmpDir)} {
		if err := os.MkdirAll(d, dirMode); err != nil {
			return nil, fmt.Errorf("fsblob: %w", err)
		}
	}
	if err := s.removeStale(now().Add(-staleAfter)); err != nil {
		return nil, err
	}
	s.unnamed = probeUnnamed(filepath.Join(dir, tmpDir))
	if s.unnamed && !opts.SyncEach {
		if sync, err := syncFS(dir); err == nil {
			s.group = &syncer{sync: sync}
		}
	}
	return s, nil
}

// probeUnnamed reports whether an unnamed file can be made and linked in dir.
func probeUnnamed(dir string) bool {
	f, err := openUnnamed(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	name := filepath.Join(dir, fmt.Sprintf("probe-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := linkUnnamed(f, name); err != nil {
		return false
	}
	return os.Remove(name) == nil
}

func (s *Store) removeStale(before time.Time) error {
	dir := filepath.Join(s.root, tmpDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("fsblob: %w", err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(before) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("fsblob: removing stale temporary file: %w", err)
		}
	}
	return nil
}

// path is where the blob d lives.
func (s *Store) path(d archive.Digest) string {
	h := d.String()
	return filepath.Join(s.root, blobDir, h[0:2], h[2:4], h)
}

// Put implements archive.BlobStore. The bytes go to a temporary file
// (unnamed where the file system allows), linked under its digest once
// complete; the file and the names leading to it are durable before Put
// returns (a syncfs shared by concurrent Puts, or fsyncs of the file and
// its directory).
func (s *Store) Put(ctx context.Context, r io.Reader) (d archive.Digest, n int64, err error) {
	if s.unnamed {
		return s.putUnnamed(ctx, r)
	}
	f, err := os.CreateTemp(filepath.Join(s.root, tmpDir), "put-*")
	if err != nil {
		return archive.Digest{}, 0, fmt.Errorf("fsblob: put: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		if rerr := os.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("fsblob: put: removing temporary file: %w", rerr)
		}
	}()

	in := ingest.New(ctx, r, s.max)
	buf := copyBufs.Get().(*[]byte)
	// writerOnly hides f's ReadFrom, which would ignore buf.
	_, err = io.CopyBuffer(writerOnly{f}, in, *buf)
	copyBufs.Put(buf)
	if in.Err() != nil {
		err = in.Err()
	}
	if err != nil {
		return archive.Digest{}, 0, fmt.Errorf("fsblob: put: %w", err)
	}
	if err := f.Sync(); err != nil {
		return archive.Digest{}, 0, fmt.Errorf("fsblob: put: %w", err)
	}
	if err := f.Chmod(blobMode); err != nil {
		return archive.Digest{}, 0, fmt.Errorf("fsblob: put: %w", err)
	}
	cerr := f.Close()
	f = nil
	if cerr != nil {
		return archive.Digest{}, 0, fmt.Errorf("fsblob: put: %w", cerr)
	}
	if err := ctx.Err(); err != nil {
		return archive.Digest{}, 0, fmt.Errorf("fsblob: put: %w", err)
	}

	d, n = in.Sum()
	final := s.path(d)
	dir := filepath.Dir(final)
	if err := s.leafDir(d, dir); err != nil {
		return archive.Digest{}, 0, err
	}
	err = os.Link(tmp, final)
	if errors.Is(err, fs.ErrNotExist) {
		// The directory went away since this Store made it.
		if err = s.remakeLeafDir(d, dir); err == nil {
			err = os.Link(tmp, final)
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		return d, n, nil // already stored
	default:
		// No hard links here: rename, unless the name is taken.
		if _, serr := os.Lstat(final); serr == nil {
			return d, n, nil
		}
		if err := os.Rename(tmp, final); err != nil {
			return archive.Digest{}, 0, fmt.Errorf("fsblob: put: %w", err)
		}
	}
	if err := syncDir(dir); err != nil {
		return archive.Digest{}, 0, fmt.Errorf("fsblob: put: %w", err)
	}
	return d, n, nil
}

// putUnnamed is Put through an unnamed file: made read-only, written,
// synced, then linked into place; closed unlinked, it leaves nothing.
func (s *Store) putUnnamed(ctx context.Context, r io.Reader) (archive.Digest, int64, error) {
	f, err := openUnnamed(filepath.Join(s.root, tmpDir))
	if err != nil {
		return archive.Digest{}, 0, fmt.Errorf("fsblob: put: %w", err)
	}
	defer f.Close()
	in := ingest.New(ctx, r, s.max)
	buf := copyBufs.Get().(*[]byte)
	_, err = io.CopyBuffer(writerOnly{f}, in, *buf)
	copyBufs.Put(buf)
	if in.Err() != nil {
		err = in.Err()
	}
	if err == nil && s.group == nil {
		err = f.Sync()
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return archive.Digest{}, 0, fmt.Errorf("fsblob: put: %w", err)
	}
	d, n := in.Sum()
	final := s.path(d)
	dir := filepath.Dir(final)
	if err := s.leafDir(d, dir); err != nil {
		return archive.Digest{}, 0, err
	}
	err = linkUnnamed(f, final)
	if errors.Is(err, fs.ErrNotExist) {
		if err = s.remakeLeafDir(d, dir); err == nil {
			err = linkUnnamed(f, final)
		}
	}
	switch {
	case err == nil, errors.Is(err, fs.ErrExist):
		// Already stored, maybe by a Put still waiting for its sync.
	default:
		return archive.Digest{}, 0, fmt.Errorf("fsblob: put: %w", err)
	}
	if s.group != nil {
		// One syncfs for the file, its name and new directories, shared
		// with the Puts that reached this point meanwhile.
		if err := s.group.wait(); err != nil {
			return archive.Digest{}, 0, fmt.Errorf("fsblob: put: %w", err)
		}
		return d, n, nil
	}
	if err := syncDir(dir); err != nil {
		return archive.Digest{}, 0, fmt.Errorf("fsblob: put: %w", err)
	}
	return d, n, nil
}

// leafDir makes sure that dir, the directory of d, exists: at once when
// this Store made or found it before. A bit is set only once mkdirs has
// returned, so a Put that skips mkdirs links after the directory's entry
// was made durable (one fsync each) or made at all (syncfs: the skipping
// Put's own syncfs, after its link, covers it).
func (s *Store) leafDir(d archive.Digest, dir string) error {
	i := int(d[0])<<8 | int(d[1])
	w, bit := &s.dirs[i/64], uint64(1)<<(i%64)
	if w.Load()&bit != 0 {
		return nil
	}
	if err := s.mkdirs(dir); err != nil {
		return err
	}
	w.Or(bit)
	return nil
}

// remakeLeafDir forgets that d's directory exists and makes it again.
func (s *Store) remakeLeafDir(d archive.Digest, dir string) error {
	i := int(d[0])<<8 | int(d[1])
	s.dirs[i/64].And(^(uint64(1) << (i % 64)))
	return s.leafDir(d, dir)
}

// mkdirs creates dir and its missing parents below the blob directory,
// fsyncing each parent that got a new entry.
func (s *Store) mkdirs(dir string) error {
	parent := filepath.Dir(dir)
	err := os.Mkdir(dir, dirMode) // no Stat first: it cost a system call as dear
	if errors.Is(err, fs.ErrNotExist) && parent != filepath.Join(s.root, blobDir) {
		if err := s.mkdirs(parent); err != nil {
			return err
		}
		err = os.Mkdir(dir, dirMode)
	}
	switch {
	case err == nil && s.group != nil:
		// The Put's syncfs covers the new entry.
	case err == nil:
		if err := syncDir(parent); err != nil {
			return fmt.Errorf("fsblob: put: %w", err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("fsblob: put: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

type writerOnly struct{ io.Writer }

// Open implements archive.BlobStore.
func (s *Store) Open(ctx context.Context, d archive.Digest) (archive.Blob, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fsblob: open %s: %w", d, err)
	}
	f, err := os.Open(s.path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fsblob: open %s: %w", d, archive.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("fsblob: open %s: %w", d, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("fsblob: open %s: %w", d, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("fsblob: open %s: %w: not a regular file", d, archive.ErrCorrupt)
	}
	return &blob{f: f, r: archive.NewVerifyingReader(f, d, info.Size()), size: info.Size()}, nil
}

// blob has exactly the methods of archive.Blob: promoting the file's
// WriteTo would let io.Copy bypass the verification.
type blob struct {
	f    *os.File
	r    io.Reader
	size int64
}

func (b *blob) Read(p []byte) (int, error)              { return b.r.Read(p) }
func (b *blob) ReadAt(p []byte, off int64) (int, error) { return b.f.ReadAt(p, off) }
func (b *blob) Close() error                            { return b.f.Close() }
func (b *blob) Size() int64                             { return b.size }
