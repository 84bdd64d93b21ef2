package vxpclient

import (
	"slices"
	"unicode/utf16"
)

// hashMap is a java.util.HashMap<String,String> as far as its iteration
// order goes (Java 8): entries by bucket, (table size − 1) & spread(hash),
// and within a bucket in the order keys were first put. The table starts at
// 16 buckets and doubles whenever the size passes three quarters of it;
// keys are never removed (the SDK never removes one). Buckets long enough
// to become trees (8 keys in a table of 64) do not occur here.
type hashMap struct {
	keys []string // in the order first put
	vals map[string]string
}

func newHashMap() *hashMap { return &hashMap{vals: map[string]string{}} }

// put sets k, keeping its place when it is already there.
func (m *hashMap) put(k, v string) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

func (m *hashMap) get(k string) (string, bool) {
	v, ok := m.vals[k]
	return v, ok
}

// order returns the keys in iteration order.
func (m *hashMap) order() []string {
	n := 16
	for len(m.keys) > n*3/4 {
		n *= 2
	}
	out := slices.Clone(m.keys)
	slices.SortStableFunc(out, func(a, b string) int {
		return int(bucket(a, n)) - int(bucket(b, n))
	})
	return out
}

func bucket(k string, n int) uint32 { return spread(javaHash(k)) & uint32(n-1) }

// javaHash is String.hashCode: s[0]·31^(n−1) + … over UTF-16 code units,
// in 32-bit arithmetic.
func javaHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// spread is HashMap.hash: the high half folded into the low.
func spread(h int32) uint32 {
	u := uint32(h)
	return u ^ u>>16
}
