package store

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// walVFSName is the SQLite VFS the embedded store opens its database
// through: the default unix VFS, except that a WAL file's writes are
// gathered and reach the file in one pwrite per commit.
//
// SQLite writes a WAL frame as two pwrites, its 24-byte header and then
// the page, so a commit of 161 pages made 322 system calls, all on the one
// writer's thread. The frames of a transaction are contiguous, and no
// reader sees them before the commit frame is written and the wal-index
// header is updated after it; so the frames wait in a buffer until the
// page of the commit frame (a header whose database size is not 0), and
// are written together before that write returns, its error SQLite's. The
// buffer is also written before any other operation on the file (read,
// sync, truncate, size, close), before a write elsewhere in the file, and
// once it holds walBufMax bytes, so the file is never read or synced
// without the frames written before. The frames' durability is unchanged:
// the fsync that makes a commit durable (walSync) runs after COMMIT has
// returned, when its frames are in the file.
const walVFSName = "edocgw-wal"

// walBufMax bounds a WAL file's buffer.
const walBufMax = 4 << 20

var walVFS struct {
	once sync.Once
	err  error

	mu      sync.Mutex
	base    uintptr                   // the unix VFS (sqlite3_vfs*)
	methods map[uintptr]uintptr       // base io_methods → ours
	files   map[uintptr]*walFileState // open WAL files, by sqlite3_file*

	// SQLite's writes to WAL files, and the base VFS's writes of them.
	writes, baseWrites atomic.Uint64
}

// walFileState is the buffer of one open WAL file. SQLite calls a file's
// methods from one connection at a time; mu orders them for the race
// detector.
type walFileState struct {
	mu     sync.Mutex
	base   uintptr // the base VFS's io_methods for the file
	buf    uintptr // C memory (libc), cap bytes
	cap    int
	n      int   // bytes buffered
	off    int64 // file offset of buf[0]
	commit bool  // the last write was a commit frame's header
}

// registerWALVFS registers walVFSName once per process.
func registerWALVFS() error {
	walVFS.once.Do(func() { walVFS.err = doRegisterWALVFS() })
	return walVFS.err
}

func doRegisterWALVFS() error {
	tls := libc.NewTLS()
	defer tls.Close()
	base := sqlite3.Xsqlite3_vfs_find(tls, 0)
	if base == 0 {
		return fmt.Errorf("store: no default SQLite VFS")
	}
	name, err := libc.CString(walVFSName)
	if err != nil {
		return fmt.Errorf("store: register VFS: %w", err)
	}
	p := libc.Xcalloc(tls, 1, types.Size_t(unsafe.Sizeof(sqlite3.Tsqlite3_vfs{})))
	if p == 0 {
		return fmt.Errorf("store: register VFS: out of memory")
	}
	v := (*sqlite3.Tsqlite3_vfs)(cptr(p))
	*v = *(*sqlite3.Tsqlite3_vfs)(cptr(base))
	v.FpNext = 0
	v.FzName = name
	v.FxOpen = cFuncPointer(walVFSOpen)
	walVFS.base = base
	walVFS.methods = map[uintptr]uintptr{}
	walVFS.files = map[uintptr]*walFileState{}
	if rc := sqlite3.Xsqlite3_vfs_register(tls, p, 0); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("store: register VFS: SQLite error %d", rc)
	}
	return nil
}

// cFuncPointer turns a Go function into a C function pointer for the
// transpiled SQLite, as modernc.org/sqlite does (go.dev/s/go11func).
func cFuncPointer[T any](f T) uintptr {
	return *(*uintptr)(unsafe.Pointer(&struct{ f T }{f}))
}

// cptr is the C address p as a pointer. C memory is not Go's: the
// collector neither moves nor frees it.
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// cfunc is the C function pointer p as a Go function of type T.
func cfunc[T any](p uintptr) T { return *(*T)(unsafe.Pointer(&struct{ uintptr }{p})) }

func ioMethods(p uintptr) *sqlite3.Tsqlite3_io_methods {
	return (*sqlite3.Tsqlite3_io_methods)(cptr(p))
}

func fileMethods(f uintptr) uintptr {
	return (*sqlite3.Tsqlite3_file)(cptr(f)).FpMethods
}

// walVFSOpen opens through the base VFS and, for a WAL file, puts our
// methods in front of the base's.
func walVFSOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	base := (*sqlite3.Tsqlite3_vfs)(cptr(walVFS.base))
	rc := cfunc[func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32](base.FxOpen)(tls, pVfs, zName, pFile, flags, pOutFlags)
	if rc != sqlite3.SQLITE_OK || flags&sqlite3.SQLITE_OPEN_WAL == 0 {
		return rc
	}
	bm := fileMethods(pFile)
	if bm == 0 {
		return rc
	}
	walVFS.mu.Lock()
	ours, ok := walVFS.methods[bm]
	if !ok {
		ours = libc.Xcalloc(tls, 1, types.Size_t(unsafe.Sizeof(sqlite3.Tsqlite3_io_methods{})))
		if ours == 0 {
			walVFS.mu.Unlock()
			return rc // the base methods, unbuffered
		}
		m := ioMethods(ours)
		*m = *ioMethods(bm)
		m.FxClose = cFuncPointer(walFileClose)
		m.FxRead = cFuncPointer(walFileRead)
		m.FxWrite = cFuncPointer(walFileWrite)
		m.FxTruncate = cFuncPointer(walFileTruncate)
		m.FxSync = cFuncPointer(walFileSync)
		m.FxFileSize = cFuncPointer(walFileSize)
		walVFS.methods[bm] = ours
	}
	walVFS.files[pFile] = &walFileState{base: bm}
	walVFS.mu.Unlock()
	(*sqlite3.Tsqlite3_file)(cptr(pFile)).FpMethods = ours
	return rc
}

// walFile returns the state and the base methods of an open WAL file.
func walFile(pFile uintptr) (*walFileState, *sqlite3.Tsqlite3_io_methods) {
	walVFS.mu.Lock()
	st := walVFS.files[pFile]
	walVFS.mu.Unlock()
	return st, ioMethods(st.base)
}

// flush writes the buffered bytes through the base method.
func (st *walFileState) flush(tls *libc.TLS, pFile uintptr, bm *sqlite3.Tsqlite3_io_methods) int32 {
	if st.n == 0 {
		return sqlite3.SQLITE_OK
	}
	n := st.n
	st.n = 0
	return baseWrite(tls, pFile, bm, st.buf, n, st.off)
}

// walWriteMax is the most the unix VFS writes in one call: it masks a
// write's length with 0x1ffff, as SQLite itself never writes more.
const walWriteMax = 0x1ffff

// baseWrite writes n bytes at p to the file at off through the base
// method, in pieces it accepts.
func baseWrite(tls *libc.TLS, pFile uintptr, bm *sqlite3.Tsqlite3_io_methods, p uintptr, n int, off int64) int32 {
	write := cfunc[func(*libc.TLS, uintptr, uintptr, int32, int64) int32](bm.FxWrite)
	for n > 0 {
		walVFS.baseWrites.Add(1)
		k := min(n, walWriteMax)
		if rc := write(tls, pFile, p, int32(k), off); rc != sqlite3.SQLITE_OK {
			return rc
		}
		p, n, off = p+uintptr(k), n-k, off+int64(k)
	}
	return sqlite3.SQLITE_OK
}

func walFileWrite(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	walVFS.writes.Add(1)
	st, bm := walFile(pFile)
	st.mu.Lock()
	defer st.mu.Unlock()
	n := int(iAmt)
	if st.n > 0 && (iOfst != st.off+int64(st.n) || st.n+n > walBufMax) {
		if rc := st.flush(tls, pFile, bm); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	if n > walBufMax {
		return baseWrite(tls, pFile, bm, zBuf, n, iOfst)
	}
	if st.n+n > st.cap {
		c := max(2*st.cap, st.n+n, 64<<10)
		nb := libc.Xrealloc(tls, st.buf, types.Size_t(c))
		if nb == 0 {
			if rc := st.flush(tls, pFile, bm); rc != sqlite3.SQLITE_OK {
				return rc
			}
			return baseWrite(tls, pFile, bm, zBuf, n, iOfst)
		}
		st.buf, st.cap = nb, c
	}
	if st.n == 0 {
		st.off = iOfst
	}
	copy(unsafe.Slice((*byte)(cptr(st.buf+uintptr(st.n))), n), unsafe.Slice((*byte)(cptr(zBuf)), n))
	st.n += n
	// A frame header is 24 bytes: page number, then the database's size
	// in pages after a commit, 0 in any other frame.
	commitPage := st.commit
	st.commit = n == walFrameHeader && binary.BigEndian.Uint32(unsafe.Slice((*byte)(cptr(zBuf)), n)[4:8]) != 0
	if commitPage {
		return st.flush(tls, pFile, bm)
	}
	return sqlite3.SQLITE_OK
}

// walFrameHeader is the size of a WAL frame's header.
const walFrameHeader = 24

func walFileRead(tls *libc.TLS, pFile, zBuf uintptr, iAmt int32, iOfst int64) int32 {
	return flushed(tls, pFile, func(bm *sqlite3.Tsqlite3_io_methods) int32 {
		return cfunc[func(*libc.TLS, uintptr, uintptr, int32, int64) int32](bm.FxRead)(tls, pFile, zBuf, iAmt, iOfst)
	})
}

// flushed runs op on the file's base methods once what it has buffered
// is written.
func flushed(tls *libc.TLS, pFile uintptr, op func(bm *sqlite3.Tsqlite3_io_methods) int32) int32 {
	st, bm := walFile(pFile)
	st.mu.Lock()
	defer st.mu.Unlock()
	if rc := st.flush(tls, pFile, bm); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return op(bm)
}

func walFileTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	return flushed(tls, pFile, func(bm *sqlite3.Tsqlite3_io_methods) int32 {
		return cfunc[func(*libc.TLS, uintptr, int64) int32](bm.FxTruncate)(tls, pFile, size)
	})
}

func walFileSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	return flushed(tls, pFile, func(bm *sqlite3.Tsqlite3_io_methods) int32 {
		return cfunc[func(*libc.TLS, uintptr, int32) int32](bm.FxSync)(tls, pFile, flags)
	})
}

func walFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	return flushed(tls, pFile, func(bm *sqlite3.Tsqlite3_io_methods) int32 {
		return cfunc[func(*libc.TLS, uintptr, uintptr) int32](bm.FxFileSize)(tls, pFile, pSize)
	})
}

// walFileClose writes what is buffered, closes the file and frees the
// buffer.
func walFileClose(tls *libc.TLS, pFile uintptr) int32 {
	st, bm := walFile(pFile)
	st.mu.Lock()
	rc := st.flush(tls, pFile, bm)
	if st.buf != 0 {
		libc.Xfree(tls, st.buf)
		st.buf, st.cap = 0, 0
	}
	st.mu.Unlock()
	walVFS.mu.Lock()
	delete(walVFS.files, pFile)
	walVFS.mu.Unlock()
	crc := cfunc[func(*libc.TLS, uintptr) int32](bm.FxClose)(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return crc
}
