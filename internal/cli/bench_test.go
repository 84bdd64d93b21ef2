package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/internal/bench"
	"github.com/edocgw/edocgw/internal/cli"
)

// TestBenchInProcess runs the load generator against the real gateway in
// this process, over HTTPS: every document is accepted and delivered,
// fetched and acknowledged one by one or a page at a time (the page listed
// first, or the next page fetched without a listing). It checks
// counts, never a timing.
func TestBenchInProcess(t *testing.T) {
	for _, pull := range [][]string{nil, {"--fetch", "page", "--ack", "page"}, {"--fetch", "next", "--ack", "page"}} {
		t.Run(strings.Join(append([]string{"pull"}, pull...), " "), func(t *testing.T) { benchInProcess(t, pull) })
	}
}

func benchInProcess(t *testing.T, pull []string) {
	code, out, stderr := run(t, append([]string{"bench", "--in-process", "--documents", "60", "--concurrency", "4", "--agencies", "3",
		"--mix", "10KB=1", "--json", "--data", t.TempDir(), "--spool-dir", t.TempDir(), "--poll", "20ms"}, pull...)...)
	if code != cli.ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	var res bench.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	d, dl, l := res.Documents, res.Deliveries, res.Latency
	if d.Sent != 60 || d.Accepted != 60 || len(d.Rejected) != 0 || d.Failed != 0 || len(res.Errors) != 0 {
		t.Fatalf("documents %+v, errors %v\n%s", d, res.Errors, stderr)
	}
	if dl.Expected != 60 || dl.Delivered != 60 || dl.Fetched != 60 || dl.Unmatched != 0 || dl.BytesFetched < 60*10<<10*9/10 {
		t.Fatalf("deliveries %+v", dl)
	}
	if l.Count != 60 || !(l.P50 > 0 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Fatalf("latency %+v", l)
	}
	if res.AcceptedPerSecond <= 0 || res.DeliveredPerSecond <= 0 || res.BytesPerSecond <= 0 || d.BytesAccepted < 60*10<<10*9/10 {
		t.Fatalf("rates %+v", res)
	}
	g := res.Gateway
	if g == nil || g.Source != "self" || !g.IncludesBench || g.PeakRSSBytes <= 0 || g.CPUSeconds <= 0 {
		t.Fatalf("gateway %+v", g)
	}
	// The embedded store's writer, read from the gateway's /metrics.
	if w := res.Writer; w == nil || w.Groups < 1 || w.OperationsPerGroup < 1 || w.BusySeconds <= 0 ||
		w.BusyFraction <= 0 || w.BusyFraction > 1 || w.CommitSeconds <= 0 || w.CommitSeconds > w.BusySeconds {
		t.Fatalf("writer %+v", w)
	}
	c := res.Config
	if c.Mode != "in-process" || c.Backend != "embedded" || c.Agencies != 3 || c.Documents != 60 || c.Concurrency != 4 ||
		!strings.HasPrefix(c.URL, "https://127.0.0.1:") || res.Machine.CPUs < 1 || res.Machine.Go == "" {
		t.Fatalf("config %+v, machine %+v", c, res.Machine)
	}
	if want := flagValue(pull, "--fetch", "each"); c.Fetch != want {
		t.Fatalf("fetch %q, want %q", c.Fetch, want)
	}
	// A connection each for the senders, the pullers and the start's
	// probes, give or take a race: not one per request or page.
	if n, most := res.Bench.Connections, int64(c.Concurrency+res.Config.Pullers+4); n < 1 || n > most {
		t.Fatalf("the generator opened %d connections; want 1 to %d", n, most)
	}
	if !strings.Contains(stderr, "signing documents 60/60") || !strings.Contains(stderr, "delivered 60/60") {
		t.Fatalf("progress:\n%s", stderr)
	}
}

// flagValue is the value after name in args, else def.
func flagValue(args []string, name, def string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			return args[i+1]
		}
	}
	return def
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--hub", "https://127.0.0.1:8443"},                 // no --pki-dir
		{"--hub", "https://127.0.0.1:8443", "--in-process"}, // two modes
		{"--in-process", "--spawn"},                         // two modes
		{"--gateway-pid", "1"},                              // only with --hub
		{"--agencies", "1"},                                 // a sender and a recipient at least
		{"--agencies", "3", "--recipients", "3"},            // recipients are the other agencies
		{"--mix", "10XB=1"},                                 // unknown unit
		{"--mix", "100MB"},                                  // above the packet limit
		{"--rate", "fast"},                                  // not a rate
		{"--fetch", "bulk"},                                 // each, page or next
		{"--ack", "all"},                                    // each or page
		{"--duration", "-1s"},                               // negative
		{"extra"},                                           // no arguments
	} {
		if code, _, stderr := run(t, append([]string{"bench"}, args...)...); code != cli.ExitUsage {
			t.Errorf("bench %v: exit %d, want %d (%s)", args, code, cli.ExitUsage, stderr)
		}
	}
}
