package testenv

import (
	"os"
	"testing"
)

// unavailable ends the test because a server is missing: a skip, or under
// CI a failure with how to get it.
func unavailable(t testing.TB, what, howTo string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("testenv: %s (CI is set, so this fails instead of skipping): %s", what, howTo)
	}
	t.Skipf("SKIPPED: %s: %s", what, howTo)
}
