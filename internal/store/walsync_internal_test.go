package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// setSync replaces the fsync of w.
func (w *walSync) setSync(fn func(*os.File) error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sync = fn
}

// waiters reports the commits and reads waiting.
func (w *walSync) waiters() (commits, readers int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.commits), len(w.readers)
}

// newTableStore is a new SQLite store with a table t (n INTEGER), created
// in a transaction of the store's own (synced by walSync).
func newTableStore(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	s := newSQLite(t)
	if err := s.InTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, "CREATE TABLE t (n INTEGER)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// closing reports whether close has begun.
func (w *walSync) closing() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// cancelled is a context that has ended.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestWALSyncBeforeTold: with the WAL's fsync held back, a write has
// committed (SQLite's own readers see it) but its caller is not told, and
// the store's reads do not answer with it; once the fsync returns, both
// go on.
func TestWALSyncBeforeTold(t *testing.T) {
	ctx := context.Background()
	s := newTableStore(t)
	started, release := make(chan struct{}), make(chan struct{})
	s.wal.setSync(func(f *os.File) error {
		started <- struct{}{}
		<-release
		return f.Sync()
	})
	wrote := make(chan error, 1)
	go func() {
		wrote <- s.writeTx(ctx, func(tx Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO t (n) VALUES (7)")
			return err
		})
	}()
	<-started // the commit has returned; its fsync is running

	var raw int
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&raw); err != nil || raw != 1 {
		t.Fatalf("SQLite's reader: %d rows, %v; want the committed row", raw, err)
	}
	select {
	case err := <-wrote:
		t.Fatalf("the writer was told (%v) before its commit was on disk", err)
	default:
	}
	if err := s.query(cancelled(), "SELECT count(*) FROM t", nil, func(func(...any) error) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("a read while the commit is not on disk: %v; want it to wait (context.Canceled)", err)
	}
	read := make(chan int, 1)
	go func() {
		var n int
		err := s.query(ctx, "SELECT count(*) FROM t", nil, func(scan func(...any) error) error { return scan(&n) })
		if err != nil {
			t.Error(err)
		}
		read <- n
	}()
	close(release)
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if n := <-read; n != 1 {
		t.Fatalf("read %d rows after the fsync; want 1", n)
	}
	if err := s.wal.visible(cancelled()); err != nil {
		t.Fatalf("nothing waits for a disk any more, yet: %v", err)
	}
}

// TestWALSyncFailure: a failed fsync fails the commits that waited for it
// and every later write and read, as the store cannot tell what reached
// the disk.
func TestWALSyncFailure(t *testing.T) {
	ctx := context.Background()
	s := newTableStore(t)
	s.wal.setSync(func(*os.File) error { return syscall.EIO })
	insert := func(tx Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO t (n) VALUES (1)")
		return err
	}
	if err := s.writeTx(ctx, insert); !errors.Is(err, syscall.EIO) {
		t.Fatalf("write whose fsync failed: %v; want EIO", err)
	}
	s.wal.setSync((*os.File).Sync)
	if err := s.writeTx(ctx, insert); !errors.Is(err, syscall.EIO) {
		t.Fatalf("a later write: %v; want the first failure (EIO)", err)
	}
	if err := s.InTx(ctx, insert); !errors.Is(err, syscall.EIO) {
		t.Fatalf("a later transaction of its own: %v; want EIO", err)
	}
	err := s.query(ctx, "SELECT count(*) FROM t", nil, func(func(...any) error) error { return nil })
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("a later read: %v; want EIO", err)
	}
}

// TestWALSyncReaderStartsNoSync: a read that may have seen a commit still
// writing its frames waits for that commit's own fsync, and does not
// start one that could run before the frames are written.
func TestWALSyncReaderStartsNoSync(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	if err := os.WriteFile(db+"-wal", []byte("frames"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newWALSync(db)
	defer w.close()
	var syncs atomic.Int32
	w.setSync(func(*os.File) error { syncs.Add(1); return nil })

	n := w.begun.Add(1) // a COMMIT under way
	read := make(chan error, 1)
	go func() { read <- w.visible(context.Background()) }()
	for {
		if _, r := w.waiters(); r == 1 {
			break
		}
	}
	if got := syncs.Load(); got != 0 {
		t.Fatalf("%d fsyncs started by a reader", got)
	}
	w.after(n, func(error) {}) // the COMMIT returned
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	if got := syncs.Load(); got != 1 {
		t.Fatalf("%d fsyncs for one commit; want 1", got)
	}
}

// TestWALSyncReplacedFile: the WAL fsynced is the one at the path now,
// reopened when SQLite has replaced it; no WAL at all needs no fsync.
func TestWALSyncReplacedFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	wal := db + "-wal"
	w := newWALSync(db)
	defer w.close()
	var synced []os.FileInfo
	w.setSync(func(f *os.File) error {
		fi, err := f.Stat()
		synced = append(synced, fi)
		return err
	})
	if err := w.wait(w.begun.Add(1)); err != nil || len(synced) != 0 {
		t.Fatalf("no WAL: %v, %d fsyncs; want none", err, len(synced))
	}
	for i := range 2 {
		os.Remove(wal)
		if err := os.WriteFile(wal, []byte("frames"), 0o600); err != nil {
			t.Fatal(err)
		}
		cur, err := os.Stat(wal)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.wait(w.begun.Add(1)); err != nil {
			t.Fatal(err)
		}
		if len(synced) != i+1 || !os.SameFile(synced[i], cur) {
			t.Fatalf("WAL %d: fsynced %d files, the last not the WAL at %s", i, len(synced), wal)
		}
	}
}

// TestWALSyncClosed: commits waiting when the store closes are told so,
// and later ones at once.
func TestWALSyncClosed(t *testing.T) {
	w := newWALSync(filepath.Join(t.TempDir(), "x.db"))
	release := make(chan struct{})
	started := make(chan struct{})
	if err := os.WriteFile(w.path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	w.setSync(func(*os.File) error { close(started); <-release; return nil })
	first := make(chan error, 1)
	w.after(w.begun.Add(1), func(err error) { first <- err })
	<-started
	second := make(chan error, 1)
	w.after(w.begun.Add(1), func(err error) { second <- err })
	// The fsync returns only once close has begun: otherwise the syncer
	// could sync again for the second commit before the store closes.
	stopped := make(chan struct{})
	go func() { w.close(); close(stopped) }()
	for !w.closing() {
		runtime.Gosched()
	}
	close(release)
	<-stopped
	if err := <-first; err != nil {
		t.Fatalf("the commit whose fsync ran: %v", err)
	}
	if err := <-second; !errors.Is(err, errWALClosed) {
		t.Fatalf("the commit waiting at close: %v; want errWALClosed", err)
	}
	if err := w.wait(w.begun.Add(1)); !errors.Is(err, errWALClosed) {
		t.Fatalf("a commit after close: %v; want errWALClosed", err)
	}
}

// failingCommit is a transaction whose COMMIT fails.
type failingCommit struct{}

func (failingCommit) Commit() error { return errors.New("disk I/O error") }

// TestWALSyncFailedCommit: a read that may have seen a COMMIT that then
// failed is not left waiting for a number no caller passes to after.
func TestWALSyncFailedCommit(t *testing.T) {
	w := newWALSync(filepath.Join(t.TempDir(), "x.db"))
	defer w.close()
	if _, err := w.commit(failingCommit{}); err == nil {
		t.Fatal("the failing COMMIT succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.visible(ctx); err != nil {
		t.Fatalf("a read after a failed COMMIT: %v", err)
	}
}
