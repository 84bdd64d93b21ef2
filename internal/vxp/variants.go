package vxp

import "sync"

// A client's header map never forgets (§3.2), so a DMS that writes docId
// in one call and docid in another signs both from then on, one of them
// stale. The SDK's timestamp, fixed for the life of its service object,
// names that map: remembering what each map last signed tells which
// variant the current call changed.

// maxRemembered bounds the service objects remembered.
const maxRemembered = 4096

// variantMemory remembers, per service object (systemId and timestamp),
// the values of keys signed in several cases.
type variantMemory struct {
	mu   sync.Mutex
	seen map[string]map[string]string // object → exact key → value
	ring []string                     // objects, oldest first once full
	next int
}

// resolve picks the value of key among its variants in p: the only one,
// all equal, the only one whose value changed since the object's last
// request, or else the variant spelled exactly as key (the SDK's own
// spelling: docId), else the first in byte order. It records what the
// object signed for the next request.
func (m *variantMemory) resolve(object string, p Params, key string) string {
	vs := p.Variants(key)
	if len(vs) == 0 {
		return ""
	}
	same := true
	for _, k := range vs[1:] {
		same = same && p[k] == p[vs[0]]
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]map[string]string{}
	}
	prev, known := m.seen[object]
	var changed []string
	for _, k := range vs {
		if old, ok := prev[k]; !ok || old != p[k] {
			changed = append(changed, k)
		}
	}
	if !known {
		m.remember(object)
		prev = map[string]string{}
		m.seen[object] = prev
	}
	for _, k := range vs {
		prev[k] = p[k]
	}
	switch {
	case same:
		return p[vs[0]]
	case known && len(changed) == 1:
		return p[changed[0]]
	}
	return p.Get(key)
}

// remember makes room for a new object, forgetting the oldest.
func (m *variantMemory) remember(object string) {
	if len(m.ring) < maxRemembered {
		m.ring = append(m.ring, object)
		return
	}
	delete(m.seen, m.ring[m.next])
	m.ring[m.next] = object
	m.next = (m.next + 1) % maxRemembered
}
