package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edocgw/edocgw/internal/store"
)

// testLeases: one holder at a time; the holder renews; another takes an
// expired lease; only the holder releases.
func testLeases(t *testing.T, open Open) {
	ctx := context.Background()
	now := t0
	s := open(t, store.Options{Now: func() time.Time { return now }})
	try := func(name, holder string, want bool) {
		t.Helper()
		got, err := s.TryLease(ctx, name, holder, time.Minute)
		if err != nil || got != want {
			t.Fatalf("TryLease(%s, %s) at +%v = %v, %v; want %v", name, holder, now.Sub(t0), got, err, want)
		}
	}
	try("poll:axis", "a", true)
	try("poll:axis", "b", false)
	try("poll:other", "b", true) // another name, another lease
	now = now.Add(50 * time.Second)
	try("poll:axis", "a", true) // renewed until +110 s
	now = now.Add(30 * time.Second)
	try("poll:axis", "b", false) // +80 s: a's renewal stands
	now = now.Add(31 * time.Second)
	try("poll:axis", "b", true) // +111 s: expired, b takes it
	try("poll:axis", "a", false)
	if err := s.ReleaseLease(ctx, "poll:axis", "a"); err != nil {
		t.Fatal(err)
	}
	try("poll:axis", "a", false) // a released nothing of b's
	if err := s.ReleaseLease(ctx, "poll:axis", "b"); err != nil {
		t.Fatal(err)
	}
	try("poll:axis", "a", true)
	for _, bad := range [][2]string{{"", "a"}, {"poll:axis", ""}} {
		if _, err := s.TryLease(ctx, bad[0], bad[1], time.Minute); !errors.Is(err, store.ErrBadArgument) {
			t.Errorf("TryLease(%q, %q) = %v, want ErrBadArgument", bad[0], bad[1], err)
		}
	}
}
