package agencyids

import (
	"slices"
	"strings"
)

// nameKey is one searchable folded string pointing to its agency: either the
// whole folded name or the suffix of it that starts at a word.
type nameKey struct {
	s string // a suffix of e.fold (shares its memory)
	e *entry
}

func cmpNameKey(a, b nameKey) int { return strings.Compare(a.s, b.s) }

// nameIndex is a sorted slice of keys plus a small sorted tail for
// incremental inserts; the tail is merged into main when it grows past
// tailMax, so n single inserts cost O(n²/tailMax) copying in total while a
// bulk insert sorts once. Keys are never removed one by one: keys that no
// longer match their entry's current name (after a rename) are stale,
// ignored by lookups and dropped at the next merge.
type nameIndex struct {
	main, tail []nameKey
	full       bool // keys are whole names (else inner-word suffixes)
}

const tailMax = 4096

// valid reports whether k still describes its entry's current name.
func (x *nameIndex) valid(k nameKey) bool {
	f := k.e.fold
	if x.full {
		return k.s == f
	}
	n := len(k.s)
	return n < len(f) && f[len(f)-n:] == k.s && f[len(f)-n-1] == ' '
}

func (x *nameIndex) insert(keys []nameKey) {
	if len(x.tail)+len(keys) <= tailMax {
		for _, k := range keys {
			i, _ := slices.BinarySearchFunc(x.tail, k, cmpNameKey)
			x.tail = slices.Insert(x.tail, i, k)
		}
		return
	}
	add := make([]nameKey, 0, len(x.tail)+len(keys))
	add = append(append(add, x.tail...), keys...)
	slices.SortFunc(add, cmpNameKey)
	x.tail = nil
	x.main = x.merge(x.main, add)
}

// merge merges two sorted slices into a new one, dropping stale keys.
func (x *nameIndex) merge(a, b []nameKey) []nameKey {
	out := make([]nameKey, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		var k nameKey
		if len(b) == 0 || (len(a) > 0 && a[0].s <= b[0].s) {
			k, a = a[0], a[1:]
		} else {
			k, b = b[0], b[1:]
		}
		if x.valid(k) {
			out = append(out, k)
		}
	}
	return out
}

// lowerBound returns the index of the first key >= p.
func lowerBound(ks []nameKey, p string) int {
	lo, hi := 0, len(ks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ks[m].s < p {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// collect offers every entry with a valid key starting with p to t. For the
// whole-name index keys are visited in name order, so the scan stops as soon
// as t is full and the keys pass its largest name.
func (x *nameIndex) collect(p string, t *topK) {
	for _, ks := range [2][]nameKey{x.main, x.tail} {
		for i := lowerBound(ks, p); i < len(ks) && strings.HasPrefix(ks[i].s, p); i++ {
			k := ks[i]
			if x.full && t.full() && k.s > t.h[0].fold {
				break
			}
			if x.valid(k) {
				t.offer(k.e)
			}
		}
	}
}

// keysOf returns the whole-name key and the inner-word keys of e.
func keysOf(e *entry, full, inner []nameKey) ([]nameKey, []nameKey) {
	f := e.fold
	full = append(full, nameKey{f, e})
	for i := 0; i < len(f)-1; i++ {
		if f[i] == ' ' {
			inner = append(inner, nameKey{f[i+1:], e})
		}
	}
	return full, inner
}

// entryLess orders search results: folded name, then name, then code.
func entryLess(a, b *entry) bool {
	if a.fold != b.fold {
		return a.fold < b.fold
	}
	if a.a.Name != b.a.Name {
		return a.a.Name < b.a.Name
	}
	return a.a.Code < b.a.Code
}

// topK keeps the limit smallest distinct entries offered (all of them when
// limit <= 0) in a max-heap.
type topK struct {
	limit int
	h     []*entry
	seen  map[*entry]struct{} // membership, once h is too big for a linear scan
}

func (t *topK) full() bool { return t.limit > 0 && len(t.h) >= t.limit }

func (t *topK) contains(e *entry) bool {
	if t.seen != nil {
		_, ok := t.seen[e]
		return ok
	}
	return slices.Contains(t.h, e)
}

func (t *topK) offer(e *entry) {
	if t.full() {
		if !entryLess(e, t.h[0]) {
			return // not better than the worst kept (or already kept)
		}
		if t.contains(e) {
			return
		}
		if t.seen != nil {
			delete(t.seen, t.h[0])
			t.seen[e] = struct{}{}
		}
		t.h[0] = e
		t.down(0)
		return
	}
	if t.contains(e) {
		return
	}
	t.h = append(t.h, e)
	if t.seen != nil {
		t.seen[e] = struct{}{}
	} else if len(t.h) > 32 {
		t.seen = make(map[*entry]struct{}, 2*len(t.h))
		for _, x := range t.h {
			t.seen[x] = struct{}{}
		}
	}
	t.up(len(t.h) - 1)
}

func (t *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !entryLess(t.h[p], t.h[i]) {
			return
		}
		t.h[p], t.h[i] = t.h[i], t.h[p]
		i = p
	}
}

func (t *topK) down(i int) {
	n := len(t.h)
	for {
		m, l, r := i, 2*i+1, 2*i+2
		if l < n && entryLess(t.h[m], t.h[l]) {
			m = l
		}
		if r < n && entryLess(t.h[m], t.h[r]) {
			m = r
		}
		if m == i {
			return
		}
		t.h[m], t.h[i] = t.h[i], t.h[m]
		i = m
	}
}

// sorted returns the kept entries in ascending order.
func (t *topK) sorted() []*entry {
	slices.SortFunc(t.h, func(a, b *entry) int {
		switch {
		case entryLess(a, b):
			return -1
		case entryLess(b, a):
			return 1
		}
		return 0
	})
	return t.h
}
