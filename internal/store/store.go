package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect names a backend.
type Dialect string

// The backends.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Errors of the store.
var (
	ErrBadURL      = errors.New("store: bad database URL")
	ErrForeignTx   = errors.New("store: transaction does not belong to this store")
	ErrBadArgument = errors.New("store: bad argument")
	ErrTooManyTry  = errors.New("store: transaction kept conflicting, retries exhausted")
	ErrCorrupt     = errors.New("store: stored row is malformed")
)

// Options tune Open. The zero value is usable.
type Options struct {
	// NoMigrate leaves the schema as it is; call Migrate yourself.
	NoMigrate bool
	// Now is the clock used to stamp events that carry no time (default time.Now).
	Now func() time.Time
	// MaxRetries bounds how often InTx reruns a transaction that hit a
	// serialization failure, deadlock or busy database (default 10).
	MaxRetries int
	// BusyTimeout is how long SQLite waits for a lock held by another
	// process (default 5s).
	BusyTimeout time.Duration
	// MaxConns caps the PostgreSQL pool and the SQLite read pool (default:
	// pgxpool's default; 4 readers for SQLite).
	MaxConns int32
	// GatherWindow, SQLite: how long a write that finds the writer idle
	// waits for others to join its transaction (default 0: none). A
	// transaction has a cost of its own (BEGIN, COMMIT, the WAL pages
	// that every commit rewrites), more than one write in it costs; at a
	// moderate rate, where writes would mostly commit alone, a few
	// milliseconds of latency save a good part of the writer's work.
	// Under load the writer is never idle and no write waits.
	GatherWindow time.Duration
}

// ServeGatherWindow is the Options.GatherWindow of serve: offered 1,000
// documents a second, the writer's transactions then hold about four
// operations instead of one or two (README, "Measured", machine K).
const ServeGatherWindow = 2 * time.Millisecond

// Store is the SQL metadata store. It is safe for concurrent use.
type Store struct {
	dialect Dialect
	now     func() time.Time
	retries int

	pool *pgxpool.Pool // PostgreSQL

	wdb *sql.DB // SQLite: the single writer connection
	rdb *sql.DB // SQLite: read-only pool
	// SQLite: the prepared statements of wdb and rdb.
	wstmts, rstmts *stmtCache
	group          group         // SQLite: group commit of writes
	gather         time.Duration // SQLite: Options.GatherWindow
	wal            *walSync      // SQLite: the fsync of the writer's commits
}

// Open connects to the database named by url and, unless opts.NoMigrate,
// brings its schema up to date.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.GatherWindow < 0 {
		return nil, fmt.Errorf("store: negative GatherWindow %v", opts.GatherWindow)
	}
	s := &Store{now: opts.Now, retries: opts.MaxRetries, gather: opts.GatherWindow}
	if s.now == nil {
		s.now = time.Now
	}
	if s.retries <= 0 {
		s.retries = 10
	}
	var err error
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		err = s.openPostgres(ctx, url, opts)
	} else {
		err = s.openSQLite(ctx, url, opts)
	}
	if err != nil {
		return nil, err
	}
	if !opts.NoMigrate {
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Store) openPostgres(ctx context.Context, url string, opts Options) error {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("store: open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return fmt.Errorf("store: open postgres: %w", err)
	}
	s.dialect, s.pool = Postgres, pool
	return nil
}

// SQLitePath returns the file path of a SQLite URL ("sqlite:PATH",
// "sqlite://PATH" or a plain PATH).
func SQLitePath(url string) (string, error) {
	p := url
	if rest, ok := strings.CutPrefix(p, "sqlite:"); ok {
		p = rest
		if rest, ok := strings.CutPrefix(p, "//"); ok {
			p = rest
		}
	}
	switch {
	case p == "":
		return "", fmt.Errorf("%w: empty SQLite path in %q", ErrBadURL, url)
	case strings.Contains(p, "://"):
		return "", fmt.Errorf("%w: unsupported scheme in %q", ErrBadURL, url)
	case strings.ContainsAny(p, "?#"):
		return "", fmt.Errorf("%w: SQLite path %q contains '?' or '#'", ErrBadURL, p)
	case p == ":memory:" || strings.HasPrefix(p, "file:"):
		return "", fmt.Errorf("%w: SQLite needs a plain file path, not %q", ErrBadURL, p)
	}
	return p, nil
}

func (s *Store) openSQLite(ctx context.Context, url string, opts Options) error {
	path, err := SQLitePath(url)
	if err != nil {
		return err
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	if err := registerWALVFS(); err != nil {
		return err
	}
	base := fmt.Sprintf("%s?vfs=%s&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", path, walVFSName, busy.Milliseconds())
	// temp_store(MEMORY) keeps the group commit's savepoint journals in
	// memory: past 64 KiB SQLite would spill them to a temporary file, a
	// pwrite for every page a grouped transaction touches.
	// wal_autocheckpoint(8000): the writer copies the WAL into the database
	// every 8,000 pages (32 MiB) rather than 1,000, so that the pages every
	// commit touches (the ends of the indexes) are copied once a checkpoint,
	// not eight times.
	// synchronous(NORMAL): COMMIT writes the WAL without an fsync, which
	// walSync then makes while the writer goes on (see walSync).
	wdb, err := sql.Open("sqlite", base+"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(8000)&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	wdb.SetMaxOpenConns(1) // one writer
	wdb.SetConnMaxIdleTime(0)
	if err := wdb.PingContext(ctx); err != nil { // creates the file, sets WAL
		wdb.Close()
		return fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	rdb, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		wdb.Close()
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	readers := int(opts.MaxConns)
	if readers <= 0 {
		readers = 4
	}
	rdb.SetMaxOpenConns(readers)
	rdb.SetMaxIdleConns(readers) // kept open, with their prepared statements
	s.dialect, s.wdb, s.rdb = SQLite, wdb, rdb
	s.wstmts, s.rstmts = newStmtCache(wdb), newStmtCache(rdb)
	s.wal = newWALSync(path)
	return nil
}

// Dialect reports the backend.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close releases the connections.
func (s *Store) Close() error {
	if s.pool != nil {
		s.pool.Close()
		return nil
	}
	s.rstmts.close()
	s.wstmts.close()
	err := errors.Join(s.rdb.Close(), s.wdb.Close())
	s.wal.close() // after the last connection: SQLite has checkpointed the WAL
	return err
}
