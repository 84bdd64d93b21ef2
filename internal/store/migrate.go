package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds the schema, one folder per dialect with the same
// version numbers in each.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// provider builds a goose provider for the store's dialect. done releases
// what it opened (never the store's own SQLite writer).
func (s *Store) provider() (p *goose.Provider, done func(), err error) {
	var (
		db      *sql.DB
		dialect goose.Dialect
		opts    = []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	)
	done = func() {}
	switch s.dialect {
	case Postgres:
		db, dialect = stdlib.OpenDBFromPool(s.pool), goose.DialectPostgres
		done = func() { db.Close() } // leaves the pool open
		// A session lock makes concurrent Migrate calls from several
		// processes take turns.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300)) // poll each second, up to 5 min
		if err != nil {
			done()
			return nil, nil, fmt.Errorf("store: migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	default:
		db, dialect = s.wdb, goose.DialectSQLite3
	}
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		done()
		return nil, nil, fmt.Errorf("store: migrations: %w", err)
	}
	p, err = goose.NewProvider(dialect, db, sub, opts...)
	if err != nil {
		done()
		return nil, nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, done, nil
}

// Migrate applies every pending migration. It is idempotent.
func (s *Store) Migrate(ctx context.Context) error {
	p, done, err := s.provider()
	if err != nil {
		return err
	}
	defer done()
	// PostgreSQL serializes migrators with goose's session lock. SQLite has
	// no such lock: a second process racing the first fails on a migration
	// the first already applied (it ran in a rolled-back transaction), so
	// it looks again, a few times, before reporting the error.
	for range 5 {
		if _, err = p.Up(ctx); err == nil || s.dialect == Postgres {
			break
		}
		if has, verr := p.HasPending(ctx); verr == nil && !has {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("store: migrate %s: %w", s.dialect, err)
	}
	if s.dialect == SQLite {
		// goose committed on the writer connection without walSync.
		return s.wal.flush()
	}
	return nil
}

// Version is the schema version applied to the database (0 for none).
func (s *Store) Version(ctx context.Context) (int64, error) {
	p, done, err := s.provider()
	if err != nil {
		return 0, err
	}
	defer done()
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// LatestVersion is the newest migration embedded in the binary.
func (s *Store) LatestVersion() (int64, error) {
	p, done, err := s.provider()
	if err != nil {
		return 0, err
	}
	defer done()
	srcs := p.ListSources()
	if len(srcs) == 0 {
		return 0, nil
	}
	return srcs[len(srcs)-1].Version, nil
}
