package server

import (
	"context"
	"sync"
	"time"

	"github.com/edocgw/edocgw/internal/authtoken"
	"github.com/edocgw/edocgw/routing"
)

// How long the token cache trusts what it knows (see tokenCache).
const (
	// tokenVersionEvery is how often the configuration version is read: a
	// revocation (which changes it) takes effect within this.
	tokenVersionEvery = 250 * time.Millisecond
	// tokenTTL bounds the life of an entry whatever the version says.
	tokenTTL = 5 * time.Second
	// maxTokens bounds the entries; a full cache starts again empty.
	maxTokens = 10000
)

// configVersioner is a token store whose configuration version grows
// with every change of credentials (internal/store implements it).
type configVersioner interface {
	ConfigVersion(ctx context.Context) (int64, error)
}

// tokenCache remembers the principals of known tokens, so that a request
// costs no database lookup. It forgets everything when the configuration
// version changes, which it reads at most every tokenVersionEvery (a
// revoked token works at most that long after the revocation), and each
// entry after tokenTTL. Unknown tokens are never remembered.
type tokenCache struct {
	next     Tokens
	versions configVersioner
	now      func() time.Time

	mu        sync.Mutex
	entries   map[authtoken.Hash]tokenEntry
	version   int64
	versionAt time.Time // when version was read; zero: unknown
}

type tokenEntry struct {
	p       routing.Principal
	expires time.Time
}

func newTokenCache(next Tokens, v configVersioner, now func() time.Time) *tokenCache {
	return &tokenCache{next: next, versions: v, now: now, entries: map[authtoken.Hash]tokenEntry{}}
}

// LookupToken implements Tokens.
func (c *tokenCache) LookupToken(ctx context.Context, h authtoken.Hash) (routing.Principal, error) {
	now := c.now()
	c.mu.Lock()
	if !c.fresh(ctx, now) {
		c.mu.Unlock()
		return c.next.LookupToken(ctx, h)
	}
	e, ok := c.entries[h]
	version := c.version
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.p, nil
	}
	p, err := c.next.LookupToken(ctx, h)
	if err != nil {
		return p, err
	}
	c.mu.Lock()
	// Remembered only if no change was seen meanwhile.
	if c.version == version && !c.versionAt.IsZero() {
		if len(c.entries) >= maxTokens {
			clear(c.entries)
		}
		c.entries[h] = tokenEntry{p: p, expires: now.Add(tokenTTL)}
	}
	c.mu.Unlock()
	return p, nil
}

// fresh reads the version when it is due and reports whether the entries
// may be used; c.mu is held.
func (c *tokenCache) fresh(ctx context.Context, now time.Time) bool {
	if !c.versionAt.IsZero() && now.Sub(c.versionAt) < tokenVersionEvery && now.After(c.versionAt) {
		return true
	}
	v, err := c.versions.ConfigVersion(ctx)
	if err != nil {
		// Unknown: ask the store each time until it answers.
		c.versionAt = time.Time{}
		clear(c.entries)
		return false
	}
	if v != c.version {
		clear(c.entries)
		c.version = v
	}
	c.versionAt = now
	return true
}
