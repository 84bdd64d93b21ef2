package store

import (
	"context"
	"fmt"
	"sync"
)

// maxGroup bounds the transactions committed together.
const maxGroup = 64

// group commits concurrent SQLite write transactions together: the one
// writer connection runs them one after another, each inside a savepoint
// of one transaction, and a single COMMIT (one WAL fsync) makes them all
// durable. A transaction's caller hears of its success only after that
// COMMIT; one that fails is rolled back to its savepoint alone. The
// callers take turns at leading: the first to arrive runs the batch that
// holds its own transaction and hands the lead to the first that queued
// meanwhile.
type group struct {
	mu      sync.Mutex
	queue   []*groupOp
	leading bool
}

type groupOp struct {
	ctx  context.Context
	fn   func(Tx) error
	err  error
	pan  any           // a panic of fn, raised again in its caller
	done chan struct{} // closed when err is final
	lead chan struct{} // this caller leads the next batch
}

// writeTx runs fn in a write transaction like InTx; on SQLite it may share
// the transaction with concurrent callers (see group). fn must return
// every database error it meets: one it swallowed could leave the shared
// transaction rolled back under the others.
func (s *Store) writeTx(ctx context.Context, fn func(tx Tx) error) error {
	if s.dialect != SQLite {
		return s.InTx(ctx, fn)
	}
	op := &groupOp{ctx: ctx, fn: fn, done: make(chan struct{}), lead: make(chan struct{}, 1)}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, op)
	if !g.leading {
		g.leading = true
		op.lead <- struct{}{}
	}
	g.mu.Unlock()
	// Wait even when ctx ends: the lead may come, and the others need it.
	select {
	case <-op.done:
	case <-op.lead:
		s.leadGroup()
		<-op.done
	}
	if op.pan != nil {
		panic(op.pan)
	}
	return op.err
}

// leadGroup runs one batch from the queue, then hands the lead on.
func (s *Store) leadGroup() {
	g := &s.group
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	s.runGroup(batch)
	for _, op := range batch {
		close(op.done)
	}

	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].lead <- struct{}{}
	} else {
		g.leading = false
		g.queue = nil
	}
	g.mu.Unlock()
}

// runGroup runs the batch in one transaction; if that fails as a whole
// (nothing committed), each runs again in a transaction of its own.
func (s *Store) runGroup(batch []*groupOp) {
	if len(batch) > 1 {
		if err := s.groupTx(batch); err == nil {
			return
		}
	}
	for _, op := range batch {
		op.err, op.pan = nil, nil
		op.err = s.inTx(op.ctx, context.WithoutCancel(op.ctx), func(tx Tx) error { return op.call(tx) })
	}
}

// groupTx runs each op of batch in a savepoint of one transaction and
// commits. A non-nil error means nothing was committed.
func (s *Store) groupTx(batch []*groupOp) error {
	ctx := context.Background() // the transaction is the batch's, not one caller's
	s.wstmts.prepareWanted(ctx)
	t, err := s.wdb.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			_ = t.Rollback()
		}
	}()
	tx := &sqlTx{tx: t, stmts: s.wstmts, stmtCtx: ctx}
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			op.err = fmt.Errorf("store: transaction: %w", err)
			continue
		}
		if _, err := tx.Exec(ctx, "SAVEPOINT op"); err != nil {
			return err
		}
		head := tx.head
		if op.err = op.call(tx); op.err != nil {
			// Fails when SQLite rolled the whole transaction back.
			if _, err := tx.Exec(ctx, "ROLLBACK TO op"); err != nil {
				return err
			}
			tx.head = head
		}
		if _, err := tx.Exec(ctx, "RELEASE op"); err != nil {
			return err
		}
	}
	committed = true // a failed Commit rolls back itself
	if err := t.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
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
