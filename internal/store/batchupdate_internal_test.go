package store

import (
	"strings"
	"testing"
)

func TestBatchable(t *testing.T) {
	u := func(id string, from ...any) rowUpdate { return rowUpdate{id: id, from: from} }
	sending := rowUpdate{id: "s", from: []any{"sending"}, sending: true}
	many := make([]rowUpdate, updateBatchRows+3)
	for i := range many {
		many[i] = u(string(rune('a'+i)), "queued")
	}
	for _, tc := range []struct {
		name string
		us   []rowUpdate
		want int
	}{
		{"one", []rowUpdate{u("a", "queued")}, 0},
		{"a run", []rowUpdate{u("a", "queued"), u("b", "queued"), u("c", "queued")}, 3},
		{"up to other states", []rowUpdate{u("a", "queued"), u("b", "queued"), u("c", "pulled"), u("d", "queued")}, 2},
		{"more states, the same", []rowUpdate{u("a", "queued", "pulled"), u("b", "queued", "pulled"), u("c", "queued")}, 2},
		{"up to a delivery again", []rowUpdate{u("a", "queued"), u("b", "queued"), u("a", "queued")}, 2},
		{"up to sending", []rowUpdate{u("a", "queued"), sending, u("b", "queued")}, 1},
		{"sending first", []rowUpdate{sending, u("a", "sending")}, 0},
		{"at most a statement's rows", many, updateBatchRows},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Store{dialect: SQLite}
			if got := s.batchable(tc.us); got != tc.want {
				t.Errorf("SQLite: %d, want %d", got, tc.want)
			}
			s.dialect = Postgres
			if got := s.batchable(tc.us); got > 1 {
				t.Errorf("PostgreSQL: %d, want none batched", got)
			}
		})
	}
}

// TestBatchUpdatePlan: the batched UPDATE finds each row by its id, not by
// a scan or the inbox index.
func TestBatchUpdatePlan(t *testing.T) {
	s := newSQLite(t)
	p := queryPlan(t, s, batchUpdateQuery(16, 1), make([]any, 16*7+1))
	if !strings.Contains(p, "SEARCH deliveries USING INDEX sqlite_autoindex_deliveries_1 (id=?)") {
		t.Errorf("plan of the batched update:\n%s\nwant deliveries searched by id", p)
	}
}
