package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// Tx is one database transaction, as InTx hands it out. Statements use
// $1, $2, … placeholders on both backends; Dialect tells code that needs
// dialect-specific SQL which one it talks to.
type Tx interface {
	Dialect() Dialect
	// Exec runs a statement and returns the number of rows it affected.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows is the result of Tx.Query; Close it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Row is the result of Tx.QueryRow; Scan reports ErrNoRows when empty.
type Row interface {
	Scan(dest ...any) error
}

// ErrNoRows is what Row.Scan returns for an empty result, on both backends.
var ErrNoRows = errors.New("store: no rows")

// InTx runs fn in one transaction and commits it if fn returns nil. A
// serialization failure, a deadlock or a busy database reruns the whole
// transaction (so fn must only act on the database, or be safe to repeat),
// up to Options.MaxRetries times with a short random backoff.
func (s *Store) InTx(ctx context.Context, fn func(tx Tx) error) error {
	return s.inTx(ctx, nil, fn)
}

// inTx is InTx; on SQLite a non-nil stmtCtx runs fn's statements under it
// (see sqlTx.stmtCtx).
func (s *Store) inTx(ctx, stmtCtx context.Context, fn func(tx Tx) error) error {
	var err error
	for try := range s.retries {
		if try > 0 {
			d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(try, 6)))
			select {
			case <-ctx.Done():
				return fmt.Errorf("store: transaction: %w (after %w)", ctx.Err(), err)
			case <-time.After(d):
			}
		}
		if s.dialect == Postgres {
			err = s.pgTx(ctx, fn)
		} else {
			err = s.sqliteTx(ctx, stmtCtx, fn)
		}
		if err == nil || !retryable(err) {
			return err
		}
	}
	return fmt.Errorf("%w: %w", ErrTooManyTry, err)
}

func (s *Store) pgTx(ctx context.Context, fn func(tx Tx) error) error {
	t, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	done := false
	defer func() { // also when fn panics
		if !done {
			_ = t.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(&pgTx{t}); err != nil {
		return err
	}
	done = true // a failed Commit rolls back itself
	if err := t.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// sqliteTx runs fn in a write transaction on the writer connection; a
// non-nil stmtCtx runs fn's statements under it instead of the contexts fn
// passes (see sqlTx.stmtCtx).
func (s *Store) sqliteTx(ctx, stmtCtx context.Context, fn func(tx Tx) error) error {
	s.wstmts.prepareWanted(ctx)
	t, err := s.wdb.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	done := false
	defer func() { // also when fn panics: frees the one writer connection
		if !done {
			_ = t.Rollback()
		}
	}()
	if err := fn(&sqlTx{tx: t, stmts: s.wstmts, stmtCtx: stmtCtx}); err != nil {
		return err
	}
	done = true
	n, err := s.wal.commit(t)
	if err == nil {
		err = s.wal.wait(n) // a failed COMMIT is synced by walSync itself
	}
	if err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// retryable reports a conflict that a rerun of the transaction may avoid.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01" // serialization_failure, deadlock_detected
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == 5 || c == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	return false
}

type pgTx struct{ tx pgx.Tx }

func (t *pgTx) Dialect() Dialect { return Postgres }

func (t *pgTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (t *pgTx) Query(ctx context.Context, q string, args ...any) (Rows, error) {
	r, err := t.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgRows{r}, nil
}

func (t *pgTx) QueryRow(ctx context.Context, q string, args ...any) Row {
	return pgRow{t.tx.QueryRow(ctx, q, args...)}
}

type pgRows struct{ pgx.Rows }

func (r pgRows) Close() error { r.Rows.Close(); return r.Rows.Err() }

type pgRow struct{ pgx.Row }

func (r pgRow) Scan(dest ...any) error {
	if err := r.Row.Scan(dest...); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %w", ErrNoRows, err)
		}
		return err
	}
	return nil
}

// sqlTx runs statements prepared once per connection when it can.
type sqlTx struct {
	tx    *sql.Tx
	stmts *stmtCache
	// head is the audit event this transaction appended last (nil: read
	// the head from the table); a group commit restores it when it rolls
	// an operation back.
	head *archive.Event
	// stmtCtx, when set, replaces the context of every statement. A
	// grouped write transaction sets one that is never cancelled: an
	// interrupted INSERT or UPDATE makes SQLite roll back the whole
	// transaction, the other operations of the group included. And a
	// statement under a context that can end costs two goroutines
	// (database/sql's and the driver's watchers), started and woken per
	// statement on the one writer.
	stmtCtx context.Context
}

func (t *sqlTx) Dialect() Dialect { return SQLite }

// ctx is the context a statement runs under.
func (t *sqlTx) ctx(ctx context.Context) context.Context {
	if t.stmtCtx != nil {
		return t.stmtCtx
	}
	return ctx
}

func (t *sqlTx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	ctx = t.ctx(ctx)
	var (
		res sql.Result
		err error
	)
	if st := t.stmts.get(q); st != nil {
		res, err = t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	} else {
		res, err = t.tx.ExecContext(ctx, q, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *sqlTx) Query(ctx context.Context, q string, args ...any) (Rows, error) {
	ctx = t.ctx(ctx)
	if st := t.stmts.get(q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

func (t *sqlTx) QueryRow(ctx context.Context, q string, args ...any) Row {
	ctx = t.ctx(ctx)
	if st := t.stmts.get(q); st != nil {
		return sqlRow{t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)}
	}
	return sqlRow{t.tx.QueryRowContext(ctx, q, args...)}
}

type sqlRow struct{ *sql.Row }

func (r sqlRow) Scan(dest ...any) error {
	if err := r.Row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %w", ErrNoRows, err)
		}
		return err
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, ErrNoRows) }
