package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/edocgw/edocgw/routing"
)

// updateBatchRows is the most rows one batched UPDATE changes.
const updateBatchRows = 16

// batchCols is the values of a row in the batched UPDATE: its id, then
// rowUpdate.set.
const batchCols = 1 + len(rowUpdate{}.set)

// batchable is how many of us, from the first, updateRows may apply with
// one statement: on SQLite, a run of updates that expect the same states
// (none of them sending, whose lease condition is a row's own), each of a
// different delivery, at most updateBatchRows. 0 or 1: update the first
// alone. (On SQLite a statement costs about as much as the row it
// changes: a page of fetches or acknowledgements is one statement here,
// not one per delivery. PostgreSQL keeps a statement per row.)
func (s *Store) batchable(us []rowUpdate) int {
	if s.dialect != SQLite || len(us) < 2 || us[0].sending {
		return 0
	}
	n := 1
	for n < len(us) && n < updateBatchRows {
		u := &us[n]
		if u.sending || !slices.Equal(u.from, us[0].from) || slices.ContainsFunc(us[:n], func(v rowUpdate) bool { return v.id == u.id }) {
			// A delivery twice: the second update must see the first's
			// result, as it would one after the other.
			break
		}
		n++
	}
	return n
}

// updateRows applies us, as batchable allows, with one UPDATE … FROM
// (VALUES …) … RETURNING: done[i] gets the row of us[i] as updated, or
// errs[i] routing.ErrStateConflict or routing.ErrNotFound when it matched
// nothing (and wrote nothing). An error of its own is the statement's.
func (s *Store) updateRows(ctx context.Context, tx Tx, us []rowUpdate, done []*routing.Delivery, errs []error) error {
	args := make([]any, 0, batchCols*len(us)+len(us[0].from))
	for i := range us {
		args = append(args, us[i].id)
		args = append(args, us[i].set[:]...)
	}
	args = append(args, us[0].from...)
	rows, err := s.txDeliveries(ctx, tx, batchUpdateQuery(len(us), len(us[0].from)), args...)
	if err != nil {
		return err
	}
	got := make(map[string]*routing.Delivery, len(rows))
	for _, d := range rows {
		got[d.ID] = d
	}
	for i := range us {
		if done[i] = got[us[i].id]; done[i] != nil {
			continue
		}
		err := stateConflict(ctx, tx, us[i].id)
		if !errors.Is(err, routing.ErrStateConflict) && !errors.Is(err, routing.ErrNotFound) {
			return err
		}
		errs[i] = err
	}
	return nil
}

var batchUpdateQueries sync.Map // [2]int{rows, states} → string

// batchUpdateQuery is the UPDATE of updateRows for rows updates that expect
// one of states states. VALUES' columns are column1 (the id) to column7
// (updated_at), as rowUpdate.set orders them.
func batchUpdateQuery(rows, states int) string {
	key := [2]int{rows, states}
	if q, ok := batchUpdateQueries.Load(key); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString("UPDATE deliveries SET state = v.column2, next_attempt_at = COALESCE(v.column3, deliveries.next_attempt_at)," +
		" lease_until = v.column4, last_error = v.column5, remote = v.column6, updated_at = v.column7 FROM (VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + placeholders(1+batchCols*i, batchCols) + ")")
	}
	b.WriteString(") AS v WHERE deliveries.id = v.column1 AND deliveries.state IN (" + placeholders(1+batchCols*rows, states) + ")")
	b.WriteString(" RETURNING " + prefixed("deliveries", deliveryColumns))
	q, _ := batchUpdateQueries.LoadOrStore(key, b.String())
	return q.(string)
}
