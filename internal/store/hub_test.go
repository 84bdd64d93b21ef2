package store_test

import (
	"testing"

	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/store/storetest"
	"github.com/edocgw/edocgw/internal/testenv"
	"github.com/edocgw/edocgw/routing"
)

var _ routing.Store = (*store.Store)(nil)

// Two stores on one database claim the same queue as two processes would:
// each delivery goes to exactly one of them.
func TestPostgresTwoProcessesClaim(t *testing.T) {
	t.Parallel()
	dsn := testenv.Postgres(t)
	a := openURL(t, dsn, store.Options{})
	b := openURL(t, dsn, store.Options{})
	storetest.ConcurrentClaim(t, []*store.Store{a, b}, 6, 500)
}

// Two processes accepting the same packet: one wins, the other is told
// which one did.
func TestPostgresTwoProcessesDuplicates(t *testing.T) {
	t.Parallel()
	dsn := testenv.Postgres(t)
	a := openURL(t, dsn, store.Options{})
	b := openURL(t, dsn, store.Options{})
	storetest.ConcurrentDuplicates(t, []*store.Store{a, b}, 6)
}
