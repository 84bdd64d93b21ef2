package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// maxGroup bounds the transactions committed together.
const maxGroup = 64

// group commits concurrent SQLite write transactions together: the one
// writer connection runs them one after another in one transaction, and a
// single COMMIT and one WAL fsync (walSync, while the writer runs the next
// batch) make them all durable. A transaction's caller hears of its
// success only after that fsync; one that fails is rolled back alone.
//
// The caller that finds the writer idle runs the first batch itself (a
// lone transaction costs no goroutine switch), after waiting
// Options.GatherWindow for others to join it; if more queued meanwhile, a
// writer goroutine takes over and runs batch after batch, the next as soon
// as one is committed, until the queue is empty. (Callers once took turns
// at leading, each handing the lead to the next: under load the new leader
// then waited a scheduling round, about 2 ms, while the writer connection
// sat idle.)
type group struct {
	mu      sync.Mutex
	queue   []*groupOp
	running bool // a caller or the writer goroutine runs the queue
	stats   writerCounters
}

// writerCounters accumulate WriterStats; the writer alone adds to them.
type writerCounters struct {
	groups, ops  atomic.Uint64
	busy, commit atomic.Int64 // nanoseconds
}

// WriterStats describe the work of the embedded store's one writer since
// the store opened: how it is grouped, and how much of the time it is busy.
// The writer runs every write in turn, so it is the first part of the
// embedded backend to saturate: when Busy grows by nearly a second each
// second, writes queue behind it.
type WriterStats struct {
	// Groups is the batches run, each one transaction (or, when one of
	// its operations failed, run again: see runGroup); Operations the
	// operations in them.
	Groups, Operations uint64
	// Busy is the wall time spent running batches, BEGIN to COMMIT;
	// Commit the part of it in COMMIT (writing the WAL, checkpoints).
	Busy, Commit time.Duration
}

// WriterStats reports the embedded writer's work so far; false on
// PostgreSQL, which has no single writer.
func (s *Store) WriterStats() (WriterStats, bool) {
	if s.dialect != SQLite {
		return WriterStats{}, false
	}
	c := &s.group.stats
	return WriterStats{Groups: c.groups.Load(), Operations: c.ops.Load(),
		Busy: time.Duration(c.busy.Load()), Commit: time.Duration(c.commit.Load())}, true
}

type groupOp struct {
	ctx  context.Context
	fn   func(Tx) error
	err  error
	pan  any           // a panic of fn, raised again in its caller
	done chan struct{} // closed when err is final
}

// writeTx runs fn in a write transaction like InTx; on SQLite it may share
// the transaction with concurrent callers (see group). fn must return
// every database error it meets: one it swallowed could leave the shared
// transaction rolled back under the others.
func (s *Store) writeTx(ctx context.Context, fn func(tx Tx) error) error {
	if s.dialect != SQLite {
		return s.InTx(ctx, fn)
	}
	op := &groupOp{ctx: ctx, fn: fn, done: make(chan struct{})}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, op)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		// The queue was empty: the first batch holds op, and those that
		// queue while it waits for them.
		if s.gather > 0 {
			time.Sleep(s.gather)
		}
		if s.runBatch() {
			go s.writeGroups()
		}
	}
	// Wait even when ctx ends: the outcome is final only when done.
	<-op.done
	if op.pan != nil {
		panic(op.pan)
	}
	return op.err
}

// writeGroups runs batches until the queue is empty.
func (s *Store) writeGroups() {
	for s.runBatch() {
	}
}

// runBatch runs the next batch from the queue and reports whether more
// wait; when none does, the queue is left to the next caller.
func (s *Store) runBatch() bool {
	g := &s.group
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	// The callers hear once the commit is on disk; the writer goes on.
	start := time.Now()
	commit := s.runGroup(batch)
	g.stats.busy.Add(int64(time.Since(start)))
	g.stats.groups.Add(1)
	g.stats.ops.Add(uint64(len(batch)))
	s.wal.after(commit, func(err error) {
		for _, op := range batch {
			if err != nil && op.err == nil {
				op.err = err
			}
			close(op.done)
		}
	})

	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.running = false
		g.queue = nil
		return false
	}
	return true
}

// runGroup runs the batch in one transaction. If an operation fails, the
// others run again with a savepoint each, so that it is rolled back alone
// (a batch of one keeps its error, unless a rerun may avoid it). If that
// fails as a whole (nothing committed), each runs again in a transaction of
// its own. It returns the number of the last group COMMIT it ran (see
// walSync.commit), 0 if none; the transactions of their own wait for their
// fsync themselves.
func (s *Store) runGroup(batch []*groupOp) uint64 {
	n, err := s.groupTx(batch, false)
	if errors.Is(err, errOpFailed) {
		switch {
		case len(batch) > 1: // nothing was committed: n is 0
			n, err = s.groupTx(batch, true)
		case !retryable(batch[0].err):
			return n
		}
	}
	if err == nil {
		return n
	}
	for _, op := range batch {
		op.err, op.pan = nil, nil
		op.err = s.inTx(op.ctx, context.WithoutCancel(op.ctx), func(tx Tx) error { return op.call(tx) })
	}
	return n
}

// errOpFailed ends a batch run without savepoints: an operation failed.
var errOpFailed = errors.New("store: an operation of the group failed")

// groupTx runs the ops of batch in one transaction and commits. Without
// savepoints, the first op that fails rolls back the whole transaction
// (errOpFailed): most batches have none, and a savepoint around each op
// costs a copy of every page it changes (about 8 % of the writer). With
// savepoints, a failed op is rolled back alone and the others commit. A
// non-nil error means nothing was committed. It returns the COMMIT's
// number (walSync.commit), 0 if it ran none.
func (s *Store) groupTx(batch []*groupOp, savepoints bool) (uint64, error) {
	ctx := context.Background() // the transaction is the batch's, not one caller's
	s.wstmts.prepareWanted(ctx)
	t, err := s.wdb.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return 0, err
	}
	committed := false
	defer func() {
		if !committed {
			_ = t.Rollback()
		}
	}()
	tx := &sqlTx{tx: t, stmts: s.wstmts, stmtCtx: ctx}
	for _, op := range batch {
		op.err, op.pan = nil, nil
		if err := op.ctx.Err(); err != nil {
			op.err = fmt.Errorf("store: transaction: %w", err)
			continue
		}
		if !savepoints {
			if op.err = op.call(tx); op.err != nil {
				return 0, errOpFailed
			}
			continue
		}
		if _, err := tx.Exec(ctx, "SAVEPOINT op"); err != nil {
			return 0, err
		}
		head := tx.head
		if op.err = op.call(tx); op.err != nil {
			// Fails when SQLite rolled the whole transaction back.
			if _, err := tx.Exec(ctx, "ROLLBACK TO op"); err != nil {
				return 0, err
			}
			tx.head = head
		}
		if _, err := tx.Exec(ctx, "RELEASE op"); err != nil {
			return 0, err
		}
	}
	committed = true // a failed Commit rolls back itself
	start := time.Now()
	n, err := s.wal.commit(t)
	s.group.stats.commit.Add(int64(time.Since(start)))
	if err != nil {
		return n, fmt.Errorf("store: commit: %w", err)
	}
	return n, nil
}

// call runs fn, turning a panic into an error (raised again by writeTx).
func (op *groupOp) call(tx Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			op.pan = p
			err = fmt.Errorf("store: transaction panicked: %v", p)
		}
	}()
	return op.fn(tx)
}
