package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/store/storetest"
	"github.com/edocgw/edocgw/internal/testenv"
)

func openSQLite(t testing.TB, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "edocgw.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t testing.TB, opts store.Options) *store.Store {
	t.Helper()
	return openURL(t, testenv.Postgres(t), opts)
}

func openURL(t testing.TB, url string, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, openSQLite)
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.Run(t, openPostgres)
}

// Two stores on one database stand for two edocgw processes.
func TestPostgresTwoProcesses(t *testing.T) {
	t.Parallel()
	dsn := testenv.Postgres(t)
	a := openURL(t, dsn, store.Options{})
	b := openURL(t, dsn, store.Options{})
	storetest.ConcurrentAppend(t, []*store.Store{a, b}, 2, 500)
	storetest.VerifyAll(t, a, 1000)
	storetest.VerifyAll(t, b, 1000)
}

// Open without migrations, then migrate twice, concurrently from two
// processes.
func TestMigrateLater(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	urls := map[string]func(t testing.TB) string{
		"sqlite":   func(t testing.TB) string { return filepath.Join(t.TempDir(), "x.db") },
		"postgres": func(t testing.TB) string { return testenv.Postgres(t) },
	}
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			u := url(t)
			s := openURL(t, u, store.Options{NoMigrate: true})
			if v, err := s.Version(ctx); err != nil || v != 0 {
				t.Fatalf("Version before Migrate = %d, %v", v, err)
			}
			other := openURL(t, u, store.Options{NoMigrate: true})
			errs := make(chan error, 2)
			for _, st := range []*store.Store{s, other} {
				go func() { errs <- st.Migrate(ctx) }()
			}
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			latest, _ := s.LatestVersion()
			if v, err := other.Version(ctx); err != nil || v != latest || v < 1 {
				t.Fatalf("Version = %d, %v, want %d", v, err, latest)
			}
			storetest.Append(t, other, storetest.Event(1))
			storetest.VerifyAll(t, s, 1)
		})
	}
}

func TestSQLitePath(t *testing.T) {
	tests := []struct {
		url, want string
		err       error
	}{
		{"sqlite:/var/lib/edocgw/db.sqlite", "/var/lib/edocgw/db.sqlite", nil},
		{"sqlite:///var/lib/edocgw/db.sqlite", "/var/lib/edocgw/db.sqlite", nil},
		{"sqlite:data/edocgw.db", "data/edocgw.db", nil},
		{"data/edocgw.db", "data/edocgw.db", nil},
		{"/abs/edocgw.db", "/abs/edocgw.db", nil},
		{"", "", store.ErrBadURL},
		{"sqlite:", "", store.ErrBadURL},
		{"sqlite::memory:", "", store.ErrBadURL},
		{"file:x.db", "", store.ErrBadURL},
		{"x.db?mode=ro", "", store.ErrBadURL},
		{"mysql://host/db", "", store.ErrBadURL},
	}
	for _, tc := range tests {
		got, err := store.SQLitePath(tc.url)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("SQLitePath(%q) = %q, %v; want %q, %v", tc.url, got, err, tc.want, tc.err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, url string
		want      error
	}{
		{"bad sqlite url", "sqlite::memory:", store.ErrBadURL},
		{"bad postgres url", "postgres://host:notaport/db", store.ErrBadURL},
		{"missing directory", filepath.Join(t.TempDir(), "no", "such", "dir.db"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.Open(ctx, tc.url, store.Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t, store.Options{})
	tests := []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"synchronous", "1"}, // NORMAL: walSync fsyncs the WAL after COMMIT
		{"temp_store", "2"},  // MEMORY: savepoint journals never spill to a file
		{"wal_autocheckpoint", "8000"},
	}
	for _, tc := range tests {
		var got string
		if err := s.InTx(ctx, func(tx store.Tx) error {
			return tx.QueryRow(ctx, "PRAGMA "+tc.pragma).Scan(&got)
		}); err != nil || got != tc.want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", tc.pragma, got, err, tc.want)
		}
	}
}

// Two stores on one SQLite file stand for two processes: BEGIN IMMEDIATE
// and the busy timeout keep one chain.
func TestSQLiteTwoProcesses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	a := openURL(t, path, store.Options{})
	b := openURL(t, "sqlite:"+path, store.Options{})
	storetest.ConcurrentAppend(t, []*store.Store{a, b}, 2, 200)
	storetest.VerifyAll(t, b, 400)
}
