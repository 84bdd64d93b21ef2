package cli

import (
	"errors"
	"io"
	"os"
	"runtime"
	"testing"
)

func TestDefaultProcs(t *testing.T) {
	for _, tc := range []struct {
		env   string
		found int
		want  int
	}{
		{"", 2, 4},  // twice the CPUs
		{"", 1, 2},  //
		{"3", 3, 3}, // the environment's GOMAXPROCS is kept
		{"1", 1, 1},
	} {
		if got := defaultProcs(onlyEnv("GOMAXPROCS", tc.env), tc.found); got != tc.want {
			t.Errorf("GOMAXPROCS=%q, runtime %d: default %d, want %d", tc.env, tc.found, got, tc.want)
		}
	}
}

func TestSetProcs(t *testing.T) {
	was := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(was) })
	if err := setProcs(was + 1); err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != was+1 {
		t.Errorf("GOMAXPROCS %d after --procs %d", got, was+1)
	}
	var u *usageError
	if err := setProcs(0); !errors.As(err, &u) {
		t.Errorf("--procs 0: %v, want a usage error", err)
	}
	if got := runtime.GOMAXPROCS(0); got != was+1 {
		t.Errorf("--procs 0 changed GOMAXPROCS to %d", got)
	}
}

// TestProcsDefaultStable: running a command again in one process does not
// double the threads again; the default is twice the runtime's own choice.
func TestProcsDefaultStable(t *testing.T) {
	was := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(was) })
	for range 3 {
		f := newFlags("bench", "", Env{Stderr: io.Discard})
		procs := addProcsFlag(f)
		if err := f.Parse(nil); err != nil {
			t.Fatal(err)
		}
		if err := setProcs(*procs); err != nil {
			t.Fatal(err)
		}
	}
	if want := defaultProcs(os.Getenv, startProcs); runtime.GOMAXPROCS(0) != want {
		t.Errorf("GOMAXPROCS %d after three runs, want %d", runtime.GOMAXPROCS(0), want)
	}
}

// onlyEnv is an environment (getenv) in which only key is set, to value.
func onlyEnv(key, value string) func(string) string {
	return func(k string) string {
		if k == key {
			return value
		}
		return ""
	}
}
