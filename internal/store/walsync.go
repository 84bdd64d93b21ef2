package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// walSync makes the embedded store's commits durable off the writer's
// path. The writer connection runs with synchronous=NORMAL: its COMMIT
// writes the WAL frames without an fsync, and walSync's goroutine then
// fsyncs the WAL once for every commit made meanwhile. The writer goes on
// with the next transaction while the disk works; the commits' callers are
// told only once their frames are on disk.
//
// With NORMAL a commit is visible to readers before it is durable, so a
// read, once it has its answer, waits for every commit that had begun by
// then (visible): no answer, and no decision made on one, rests on a
// commit that a power failure could still undo. That is what
// synchronous=FULL gives, where SQLite fsyncs before it publishes a
// commit; here the fsync of one commit runs while the writer builds the
// next. This holds within one process: another process on the same file
// (an admin command beside serve) syncs its own commits, and may be read
// here for the moment before it has.
//
// SQLite still syncs the WAL itself before a checkpoint and the database
// after one. A failed fsync is final: every commit waiting and every
// later one returns the error (the store must be reopened; recovery then
// keeps what reached the disk), as PostgreSQL stops on one.
type walSync struct {
	path string // the WAL file: the database's path + "-wal"

	begun   atomic.Uint64 // commits begun, numbered from 1
	durable atomic.Uint64 // every commit numbered up to this one is on disk

	mu      sync.Mutex
	cond    *sync.Cond  // signalled when a commit waits or the store closes
	commits []walWaiter // returned commits waiting for the next fsync
	readers []walWaiter // reads waiting for a commit's fsync
	failed  error
	closed  bool
	sync    func(*os.File) error // (*os.File).Sync; tests replace it
	file    *os.File             // opened at the first sync; run's alone
	stopped chan struct{}
}

// walWaiter is told once commit n is durable.
type walWaiter struct {
	n    uint64
	done func(error)
}

// errWALClosed is the error of commits still waiting when the store closes.
var errWALClosed = errors.New("store: closed before the commit was synced")

func newWALSync(dbPath string) *walSync {
	w := &walSync{path: dbPath + "-wal", sync: (*os.File).Sync, stopped: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	go w.run()
	return w
}

// commit runs COMMIT on t, numbered so that a read that may see it waits
// for it, and returns its number. The caller passes the number of a
// commit that succeeded to after or wait; a failed one is synced anyway
// (it may have written frames), so that reads never wait for a number no
// one will sync.
func (w *walSync) commit(t interface{ Commit() error }) (uint64, error) {
	n := w.begun.Add(1)
	err := t.Commit()
	if err != nil {
		w.after(n, func(error) {})
	}
	return n, err
}

// after calls done once commit n, which has returned, is durable, or with
// the error that stopped it. done runs on walSync's goroutine, or on the
// caller's when n is already durable, and must not block.
func (w *walSync) after(n uint64, done func(error)) {
	w.add(true, n, done)
}

// flush returns once every commit returned so far is durable: for writes
// made on the writer connection without commit (the migrations').
func (w *walSync) flush() error { return w.wait(w.begun.Add(1)) }

// add queues done for commit n, as a commit's or a reader's, or calls it
// now.
func (w *walSync) add(commit bool, n uint64, done func(error)) {
	w.mu.Lock()
	if err := w.stoppedErr(); err != nil {
		w.mu.Unlock()
		done(err)
		return
	}
	if w.durable.Load() >= n {
		w.mu.Unlock()
		done(nil)
		return
	}
	if commit {
		w.commits = append(w.commits, walWaiter{n: n, done: done})
		w.cond.Signal()
	} else {
		w.readers = append(w.readers, walWaiter{n: n, done: done})
	}
	w.mu.Unlock()
}

// stoppedErr is why no commit can be made durable any more, or nil. w.mu
// is held.
func (w *walSync) stoppedErr() error {
	switch {
	case w.failed != nil:
		return w.failed
	case w.closed:
		return errWALClosed
	}
	return nil
}

// wait returns once commit n, which has returned, is durable. It does not
// give up when a context ends: a commit's caller must not hear of it
// before it is durable.
func (w *walSync) wait(n uint64) error {
	ch := make(chan error, 1)
	w.after(n, func(err error) { ch <- err })
	return <-ch
}

// visible returns once every commit begun so far is durable, or when ctx
// ends. A read calls it once it has its rows, before it answers: a commit
// it may have seen had begun by then.
func (w *walSync) visible(ctx context.Context) error {
	n := w.begun.Load()
	if w.durable.Load() >= n {
		return nil
	}
	ch := make(chan error, 1)
	// A reader does not start a sync: the commit it waits for may still
	// be writing its frames. That commit's own after starts it.
	w.add(false, n, func(err error) { ch <- err })
	select {
	case err := <-ch:
		if err != nil {
			return fmt.Errorf("store: read: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("store: read waiting for a commit to reach the disk: %w", ctx.Err())
	}
}

// run syncs the WAL whenever returned commits wait, one fsync for all.
func (w *walSync) run() {
	defer close(w.stopped)
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for len(w.commits) == 0 && !w.closed {
			w.cond.Wait()
		}
		if w.closed {
			w.failAll(errWALClosed)
			return
		}
		// The commits waiting have returned: their frames are written.
		var n uint64
		for _, wt := range w.commits {
			n = max(n, wt.n)
		}
		syncFn := w.sync
		w.mu.Unlock()
		err := w.syncFile(syncFn)
		w.mu.Lock()
		if err != nil {
			w.failed = fmt.Errorf("store: fsync of %s failed; commits since the last fsync may be lost, and the store takes no more (reopen it): %w", w.path, err)
			w.failAll(w.failed)
			continue
		}
		w.durable.Store(max(w.durable.Load(), n))
		w.commits = w.release(w.commits)
		w.readers = w.release(w.readers)
	}
}

// release tells the waiters whose commit is durable and returns the rest.
// w.mu is held.
func (w *walSync) release(list []walWaiter) []walWaiter {
	d := w.durable.Load()
	keep := list[:0]
	for _, wt := range list {
		if wt.n <= d {
			wt.done(nil)
		} else {
			keep = append(keep, wt)
		}
	}
	return keep
}

// failAll tells every waiter err. w.mu is held.
func (w *walSync) failAll(err error) {
	for _, wt := range w.commits {
		wt.done(err)
	}
	for _, wt := range w.readers {
		wt.done(err)
	}
	w.commits, w.readers = nil, nil
}

// syncFile fsyncs the WAL file, opening it again if SQLite has replaced it
// (it deletes the WAL when the last connection closes). A WAL that does
// not exist holds no commit: SQLite removes it only after a checkpoint,
// which synced the database.
func (w *walSync) syncFile(syncFn func(*os.File) error) error {
	if w.file != nil {
		cur, err1 := os.Stat(w.path)
		open, err2 := w.file.Stat()
		if err1 != nil || err2 != nil || !os.SameFile(cur, open) {
			w.file.Close()
			w.file = nil
		}
	}
	if w.file == nil {
		f, err := os.OpenFile(w.path, os.O_RDWR, 0)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		w.file = f
	}
	return syncFn(w.file)
}

// close stops the goroutine; commits still waiting are told errWALClosed.
func (w *walSync) close() {
	w.mu.Lock()
	w.closed = true
	w.cond.Broadcast()
	w.mu.Unlock()
	<-w.stopped
	if w.file != nil {
		w.file.Close()
	}
}
