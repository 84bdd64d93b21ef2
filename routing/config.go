package routing

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/edocgw/edocgw/agencyids"
)

// snapshot is the configuration the hub routes with, rebuilt from the
// store when its version changes (an `edocgw agency add` in another
// process, another gateway instance).
type snapshot struct {
	version int64
	dir     *agencyids.Directory
	members map[agencyids.Code]Member
	peers   map[string]Peer
	routes  map[string]Route // by pattern
}

func newSnapshot(c *Config) (*snapshot, error) {
	s := &snapshot{
		version: c.Version,
		dir:     agencyids.NewDirectory(),
		members: make(map[agencyids.Code]Member, len(c.Members)),
		peers:   make(map[string]Peer, len(c.Peers)),
		routes:  make(map[string]Route, len(c.Routes)),
	}
	if err := s.dir.Load(c.Agencies); err != nil {
		return nil, fmt.Errorf("routing: directory: %w", err)
	}
	for _, m := range c.Members {
		s.members[m.Code] = m
	}
	for _, p := range c.Peers {
		s.peers[p.Name] = p
	}
	for _, r := range c.Routes {
		s.routes[r.Pattern] = r
	}
	return s, nil
}

// decision is where one recipient's copy goes.
type decision struct {
	kind   RouteKind
	peer   string
	member Member
}

// route decides how code is reached: a member stays local (pull or push);
// otherwise the most specific route (exact code, level-1 code, "*") names
// a peer. ok is false when nothing reaches it.
func (s *snapshot) route(code agencyids.Code) (decision, bool) {
	if m, ok := s.member(code); ok {
		if m.Mode == ModePush {
			return decision{kind: RoutePush, member: m}, true
		}
		return decision{kind: RoutePull, member: m}, true
	}
	for _, pat := range routePatterns(code) {
		if r, ok := s.routes[pat]; ok {
			return decision{kind: RoutePeer, peer: r.Peer}, true
		}
	}
	return decision{}, false
}

// member finds a member by the code as given or its alternative form.
func (s *snapshot) member(code agencyids.Code) (Member, bool) {
	if m, ok := s.members[code]; ok {
		return m, true
	}
	if a, ok := s.dir.Lookup(code); ok {
		for _, c := range []agencyids.Code{a.Code, a.AltCode} {
			if m, ok := s.members[c]; ok && c != "" {
				return m, true
			}
		}
	}
	return Member{}, false
}

// routePatterns lists the route patterns that match code, most specific
// first.
func routePatterns(code agencyids.Code) []string {
	out := []string{string(code)}
	if code.Valid() {
		if l1 := code.Level1(); l1 != "" {
			out = append(out, l1)
		}
	} else if i := strings.LastIndexByte(string(code), '.'); i >= 0 && i+1 < len(code) {
		// A lenient wire code (01.02.G22): its last group is the level-1 code.
		out = append(out, string(code[i+1:]))
	}
	return append(out, "*")
}

// sendsFor reports whether principal p may send packets whose From is
// code: an agency as itself or for a unit below it in the directory; a
// peer hub for the agencies the route table sends to it.
func (s *snapshot) sendsFor(p Principal, code agencyids.Code) bool {
	switch p.Role {
	case RoleAgency:
		if code == p.Agency {
			return true
		}
		if a, ok := s.dir.Lookup(code); ok && (a.Code == p.Agency || a.AltCode == p.Agency) {
			return true
		}
		// A unit of the agency (its descendant in the directory).
		for c := code; ; {
			a, ok := s.dir.Lookup(c)
			if !ok || a.Parent == "" || a.Parent == c {
				return false
			}
			if a.Parent == p.Agency {
				return true
			}
			c = a.Parent
		}
	case RoleHub:
		if _, local := s.member(code); local {
			return false
		}
		d, ok := s.route(code)
		return ok && d.kind == RoutePeer && d.peer == p.Peer
	}
	return false
}

// configCache keeps the current snapshot, asking the store for its version
// at most once per interval.
type configCache struct {
	store    Store
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	cur     *snapshot
	checked time.Time
}

func (c *configCache) get(ctx context.Context) (*snapshot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.cur != nil && now.Sub(c.checked) < c.interval {
		return c.cur, nil
	}
	if c.cur != nil {
		v, err := c.store.ConfigVersion(ctx)
		if err != nil {
			// Route with what we know; the store's failure shows elsewhere.
			return c.cur, nil
		}
		if v == c.cur.version {
			c.checked = now
			return c.cur, nil
		}
	}
	cfg, err := c.store.Config(ctx)
	if err != nil {
		if c.cur != nil {
			return c.cur, nil
		}
		return nil, unavailable("configuration", err)
	}
	s, err := newSnapshot(cfg)
	if err != nil {
		return nil, err
	}
	c.cur, c.checked = s, now
	return s, nil
}

// invalidate makes the next get read the store.
func (c *configCache) invalidate() {
	c.mu.Lock()
	c.checked = time.Time{}
	c.mu.Unlock()
}
