package store

import (
	"context"
	"database/sql"
	"slices"
	"sync"
)

// maxStmts bounds the prepared statements kept per SQLite pool.
const maxStmts = 256

// stmtCache keeps the prepared statements of one SQLite pool by their
// text: parsing and planning a statement cost more than running the short
// ones the hub runs. A statement first seen inside a transaction is
// prepared before the next transaction begins, when no connection of the
// pool is held (the writer pool has one connection: preparing on the pool
// while a transaction holds it would wait forever).
type stmtCache struct {
	db *sql.DB

	mu   sync.Mutex
	m    map[string]*sql.Stmt // nil: failed to prepare, not tried again
	want []string
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

// get returns q's statement, or nil and notes that q is wanted.
func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[q]
	if !ok && len(c.m)+len(c.want) < maxStmts && !slices.Contains(c.want, q) {
		c.want = append(c.want, q)
	}
	return st
}

// prepared returns q's statement, preparing it now if need be; nil if it
// cannot be prepared or the cache is full. The caller holds no connection
// of the pool.
func (c *stmtCache) prepared(ctx context.Context, q string) *sql.Stmt {
	c.mu.Lock()
	st, ok := c.m[q]
	full := len(c.m) >= maxStmts
	c.mu.Unlock()
	if ok || full {
		return st
	}
	return c.add(ctx, q)
}

// prepareWanted prepares the statements noted by get. The caller holds no
// connection of the pool.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	c.mu.Lock()
	want := c.want
	c.want = nil
	c.mu.Unlock()
	for _, q := range want {
		c.add(ctx, q)
	}
}

func (c *stmtCache) add(ctx context.Context, q string) *sql.Stmt {
	st, err := c.db.PrepareContext(context.WithoutCancel(ctx), q)
	if err != nil {
		st = nil // run unprepared, where the error shows
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[q]; ok { // prepared meanwhile
		if st != nil {
			st.Close()
		}
		return old
	}
	c.m[q] = st
	return st
}

// close closes the statements; the pool is closed next.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		if st != nil {
			st.Close()
		}
	}
	c.m = map[string]*sql.Stmt{}
}
