package store

import (
	"io/fs"
	"regexp"
	"slices"
	"testing"
)

// Every migration exists for both dialects, under the same version and
// name, so that a schema version means the same tables on either backend.
func TestMigrationsInStep(t *testing.T) {
	name := regexp.MustCompile(`^\d{5}_[a-z0-9_]+\.sql$`)
	list := func(d Dialect) []string {
		var out []string
		entries, err := fs.ReadDir(migrations, "migrations/"+string(d))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !name.MatchString(e.Name()) {
				t.Errorf("%s: migration %q is not named NNNNN_name.sql", d, e.Name())
			}
			out = append(out, e.Name())
		}
		return out
	}
	pg, lite := list(Postgres), list(SQLite)
	if len(pg) == 0 || !slices.Equal(pg, lite) {
		t.Fatalf("migrations differ:\npostgres %v\nsqlite   %v", pg, lite)
	}
}
