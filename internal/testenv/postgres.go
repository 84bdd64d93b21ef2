package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgres is the server Postgres uses unless EDOCGW_TEST_POSTGRES
// names another.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// fallbackPostgres is tried when DefaultPostgres refuses user postgres.
const fallbackPostgres = "postgres://root@127.0.0.1:5432/test?sslmode=disable"

const (
	pgTimeout = 10 * time.Second
	pgHowTo   = "run a PostgreSQL server on 127.0.0.1:5432 that lets user postgres in " +
		"(e.g. apt-get install postgresql, trust auth for 127.0.0.1 in pg_hba.conf), " +
		"or set EDOCGW_TEST_POSTGRES to the DSN of a role that may create databases"
)

// Postgres creates an empty database edocgw_t_<random> for the test on the
// local server and returns its DSN; the database is dropped, with any
// connections left to it, when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	candidates := []string{os.Getenv("EDOCGW_TEST_POSTGRES")}
	if candidates[0] == "" {
		candidates = []string{DefaultPostgres, fallbackPostgres}
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgTimeout)
	defer cancel()
	var (
		admin string
		conn  *pgx.Conn
		err   error
	)
	for _, admin = range candidates {
		if conn, err = pgx.Connect(ctx, admin); err == nil {
			break
		}
	}
	u, perr := url.Parse(admin)
	if perr != nil {
		t.Fatalf("testenv: EDOCGW_TEST_POSTGRES: %v", perr)
	}
	if err != nil {
		unavailable(t, "PostgreSQL unreachable at "+u.Redacted(), fmt.Sprintf("%v; %s", err, pgHowTo))
		return ""
	}
	defer conn.Close(context.Background())

	name := "edocgw_t_" + randomHex(8)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("testenv: creating database %s on %s: %v", name, u.Redacted(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), pgTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("testenv: dropping database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: dropping database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
