package store

import (
	"context"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/internal/testenv"
	"github.com/edocgw/edocgw/routing"
)

// TestDenseAuditValuesMatchMigrations: the conditions auditQuery repeats
// are those of migration 00012's partial indexes, in both dialects, and
// denseKindsCond lists denseKinds.
func TestDenseAuditValuesMatchMigrations(t *testing.T) {
	if want := "kind NOT IN ('" + strings.Join(denseKinds, "', '") + "')"; denseKindsCond != want {
		t.Fatalf("denseKindsCond = %q, want %q", denseKindsCond, want)
	}
	if want := "actor <> '" + denseActor + "'"; denseActorCond != want {
		t.Fatalf("denseActorCond = %q, want %q", denseActorCond, want)
	}
	for _, d := range []Dialect{SQLite, Postgres} {
		b, err := migrations.ReadFile("migrations/" + string(d) + "/00012_audit_dense.sql")
		if err != nil {
			t.Fatal(err)
		}
		up, _, _ := strings.Cut(string(b), "-- +goose Down")
		for _, cond := range []string{denseActorCond, denseKindsCond} {
			if !strings.Contains(up, "seq) WHERE "+cond+";") {
				t.Errorf("%s 00012 has no index WHERE %s", d, cond)
			}
		}
	}
}

// auditPlanCases: the filters and whether each reads the actor or the
// kind index. A dense value's filter must not use them (they do not hold
// it); any other value's must.
var auditPlanCases = []struct {
	name       string
	f          routing.AuditFilter
	index      string // the index the plan must use, or ""
	notIndexes []string
}{
	{"actor", routing.AuditFilter{Actor: "agency:000.00.22.G22"}, "audit_events_actor", nil},
	{"actor hub", routing.AuditFilter{Actor: "hub"}, "", []string{"audit_events_actor"}},
	{"rare kind", routing.AuditFilter{Kind: "audit.verified"}, "audit_events_kind", nil},
	{"rare prefix", routing.AuditFilter{Kind: "auth."}, "audit_events_kind", nil},
	{"dense kind", routing.AuditFilter{Kind: "delivery.acked"}, "", []string{"audit_events_kind"}},
	{"prefix with dense kinds", routing.AuditFilter{Kind: "delivery."}, "", []string{"audit_events_kind"}},
	{"prefix of one dense kind", routing.AuditFilter{Kind: "status."}, "", []string{"audit_events_kind"}},
}

// TestAuditQueryPlans: SQLite uses a partial index only when the query
// repeats its condition; this checks the planner's choice for each case.
func TestAuditQueryPlans(t *testing.T) {
	s := newSQLite(t)
	for _, tc := range auditPlanCases {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Limit = 100
			q, args := s.auditQuery(tc.f)
			checkPlan(t, queryPlan(t, s, q, args), tc.index, tc.notIndexes)
		})
	}
	for kind, index := range map[string]string{"audit.verified": "audit_events_kind", "delivery.acked": ""} {
		plan := queryPlan(t, s, lastEventQuery(kind), []any{kind})
		t.Run("last "+kind, func(t *testing.T) {
			checkPlan(t, plan, index, nil)
		})
	}
}

// queryPlan is SQLite's EXPLAIN QUERY PLAN of q, a line per step.
func queryPlan(t *testing.T, s *Store, q string, args []any) string {
	t.Helper()
	var plan []string
	err := s.query(context.Background(), "EXPLAIN QUERY PLAN "+q, args, func(scan func(...any) error) error {
		var id, parent, notused int
		var detail string
		err := scan(&id, &parent, &notused, &detail)
		plan = append(plan, detail)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// TestAuditQueryPlansPostgres: the same on PostgreSQL, with sequential
// scans priced out so that an index the query may use is used.
func TestAuditQueryPlansPostgres(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, testenv.Postgres(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, tc := range auditPlanCases {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Limit = 100
			q, args := s.auditQuery(tc.f)
			tx, err := s.pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				t.Fatal(err)
			}
			rows, err := tx.Query(ctx, "EXPLAIN "+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			checkPlan(t, strings.Join(plan, "\n"), tc.index, tc.notIndexes)
		})
	}
}

func checkPlan(t *testing.T, plan, index string, notIndexes []string) {
	t.Helper()
	if index != "" && !strings.Contains(plan, index) {
		t.Errorf("plan does not use %s:\n%s", index, plan)
	}
	for _, n := range notIndexes {
		if strings.Contains(plan, n) {
			t.Errorf("plan uses %s, which does not hold the value:\n%s", n, plan)
		}
	}
}
