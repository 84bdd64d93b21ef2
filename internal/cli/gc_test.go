package cli

import (
	"errors"
	"io"
	"runtime/debug"
	"testing"
	"time"

	"github.com/edocgw/edocgw/internal/bench"
)

func TestDefaultGCPercent(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int
	}{
		{"", 200},      // the gateway's own default
		{"100", 100},   // the environment's GOGC is kept
		{"50", 50},     //
		{"off", -1},    //
		{"-5", -1},     // negative is off, as the runtime reads it
		{"lots", 100},  // unreadable: the runtime's default
		{"9e9", 100},   // out of range likewise
		{"0", 0},       //
		{"1000", 1000}, //
	} {
		if got := defaultGCPercent(onlyEnv("GOGC", tc.env)); got != tc.want {
			t.Errorf("GOGC=%q: default %d, want %d", tc.env, got, tc.want)
		}
	}
}

// TestGCPercentFlag: --gc-percent reaches the runtime (bench's JSON
// reports it), and a value below -1 is a usage error that changes nothing.
func TestGCPercentFlag(t *testing.T) {
	was := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(was) })
	f := newFlags("serve", "", Env{Stderr: io.Discard})
	gc := addGCFlag(f)
	if err := f.Parse([]string{"--gc-percent", "300"}); err != nil {
		t.Fatal(err)
	}
	if err := setGCPercent(*gc); err != nil {
		t.Fatal(err)
	}
	if got := bench.ThisMachine(time.Time{}).GCPercent; got != 300 {
		t.Errorf("GC percent %d after --gc-percent 300", got)
	}
	var u *usageError
	if err := setGCPercent(-2); !errors.As(err, &u) {
		t.Errorf("--gc-percent -2: %v, want a usage error", err)
	}
	if got := bench.ThisMachine(time.Time{}).GCPercent; got != 300 {
		t.Errorf("--gc-percent -2 changed the GC percent to %d", got)
	}
	if err := setGCPercent(-1); err != nil {
		t.Fatal(err)
	}
	if got := bench.ThisMachine(time.Time{}).GCPercent; got != -1 {
		t.Errorf("GC percent %d after --gc-percent -1", got)
	}
}
