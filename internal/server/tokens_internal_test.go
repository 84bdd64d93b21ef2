package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/edocgw/edocgw/internal/authtoken"
	"github.com/edocgw/edocgw/routing"
)

// versionedTokens is a token store with a configuration version that a
// revocation bumps, counting its lookups.
type versionedTokens struct {
	mu      sync.Mutex
	tokens  map[authtoken.Hash]routing.Principal
	version int64
	lookups int
	down    bool
}

func (v *versionedTokens) LookupToken(_ context.Context, h authtoken.Hash) (routing.Principal, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.lookups++
	p, ok := v.tokens[h]
	if !ok {
		return routing.Principal{}, fmt.Errorf("token: %w", routing.ErrNotFound)
	}
	return p, nil
}

func (v *versionedTokens) ConfigVersion(context.Context) (int64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.down {
		return 0, errors.New("database down")
	}
	return v.version, nil
}

func (v *versionedTokens) revoke(h authtoken.Hash) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.tokens, h)
	v.version++
}

func (v *versionedTokens) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.lookups
}

func TestTokenCache(t *testing.T) {
	ctx := context.Background()
	a, b := authtoken.Of("token-a"), authtoken.Of("token-b")
	pa := routing.Principal{Role: routing.RoleAgency, Agency: "000.00.00.G22", Via: "token"}
	store := &versionedTokens{tokens: map[authtoken.Hash]routing.Principal{a: pa}, version: 1}
	now := time.Unix(1e9, 0)
	c := newTokenCache(store, store, func() time.Time { return now })
	lookup := func(h authtoken.Hash) (routing.Principal, error) { return c.LookupToken(ctx, h) }

	for range 3 {
		if p, err := lookup(a); err != nil || p != pa {
			t.Fatalf("lookup a = %+v, %v", p, err)
		}
	}
	if n := store.count(); n != 1 {
		t.Fatalf("%d lookups in the store for one token asked 3 times; want 1", n)
	}
	// Unknown tokens are asked every time (a new one works at once).
	for range 2 {
		if _, err := lookup(b); !errors.Is(err, routing.ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
	}
	if n := store.count(); n != 3 {
		t.Fatalf("%d lookups; want 3", n)
	}
	store.tokens[b] = pa // issued meanwhile
	if _, err := lookup(b); err != nil {
		t.Fatalf("new token: %v", err)
	}

	// A revocation takes effect once the version is read again.
	store.revoke(a)
	now = now.Add(tokenVersionEvery)
	if _, err := lookup(a); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("revoked token: %v", err)
	}
	// An entry lives at most tokenTTL even when the version stands still.
	if _, err := lookup(b); err != nil {
		t.Fatal(err)
	}
	n := store.count()
	for range 20 {
		now = now.Add(tokenTTL / 10)
		if _, err := lookup(b); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.count() - n; got < 2 || got > 20 {
		t.Fatalf("%d lookups over 2×TTL; want a few", got)
	}
	// Without a version, nothing is trusted: every lookup asks.
	store.down = true
	now = now.Add(tokenVersionEvery)
	n = store.count()
	for range 3 {
		if _, err := lookup(b); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.count() - n; got != 3 {
		t.Fatalf("%d lookups with the version unknown; want 3", got)
	}
}
