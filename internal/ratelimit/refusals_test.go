package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestRefusals(t *testing.T) {
	now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	l := New(func() time.Time { return now })
	for i := range Burst {
		if audit, suppressed, _ := l.Take("192.0.2.1:4000"); !audit || suppressed != 0 {
			t.Fatalf("failure %d: audit %v, suppressed %d", i+1, audit, suppressed)
		}
	}
	// The same address on another port is the same client.
	audit, _, retry := l.Take("192.0.2.1:4001")
	if audit || retry <= 0 || retry > time.Duration(float64(time.Second)/Rate)+time.Second {
		t.Fatalf("past the burst: audit %v, retry %v", audit, retry)
	}
	l.Take("192.0.2.1:4002")
	// Another address has its own bucket.
	if audit, _, _ := l.Take("[2001:db8::1]:443"); !audit {
		t.Fatal("another address was limited")
	}
	now = now.Add(time.Duration(float64(time.Second) / Rate))
	if audit, suppressed, _ := l.Take("192.0.2.1:4003"); !audit || suppressed != 2 {
		t.Fatalf("after a refill: audit %v, suppressed %d (want the 2 unaudited)", audit, suppressed)
	}
	if audit, _, _ := l.Take("192.0.2.1:4004"); audit {
		t.Fatal("the refill was spent")
	}
	// A long quiet time refills to Burst, no more.
	now = now.Add(time.Hour)
	for i := range Burst {
		if audit, _, _ := l.Take("192.0.2.1:1"); !audit {
			t.Fatalf("after an hour, failure %d not audited", i+1)
		}
	}
	if audit, _, _ := l.Take("192.0.2.1:1"); audit {
		t.Fatal("the bucket grew past Burst")
	}
	// No address: the text itself is the key.
	if audit, _, _ := l.Take("pipe"); !audit {
		t.Fatal("an address without a port")
	}
}

// The addresses tracked stay bounded: full buckets are forgotten first.
func TestRefusalsBounded(t *testing.T) {
	now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	l := New(func() time.Time { return now })
	for i := range refusalAddrs + 500 {
		l.Take(fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255))
	}
	if n := len(l.per); n > refusalAddrs {
		t.Fatalf("%d addresses tracked, bound %d", n, refusalAddrs)
	}
}
