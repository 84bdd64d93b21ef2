package envelope

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// TestParseReusedBuffers: parses of different packets that take turns
// with the pooled scanner buffers, at once and one after another, give
// what the first parse of each gave.
func TestParseReusedBuffers(t *testing.T) {
	var inputs [][]byte
	for _, name := range []string{"testdata/base/document.edxml", "testdata/base/status.edxml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	// A packet with a long text value and one with a refused DTD: the
	// scanner's run and out buffers grow, or the parse ends early.
	long := strings.Replace(string(inputs[0]), "<Subject>", "<Subject>"+strings.Repeat("dài ", 3000), 1)
	inputs = append(inputs, []byte(long), []byte(`<!DOCTYPE x [<!ENTITY a "b">]><edXMLEnvelope/>`))

	type result struct {
		pkt *Packet
		err string
	}
	parse := func(b []byte) result {
		pkt, err := Parse(b)
		r := result{pkt: pkt}
		if err != nil {
			r.err = err.Error()
		}
		return r
	}
	want := make([]result, len(inputs))
	for i, b := range inputs {
		want[i] = parse(b)
	}
	if want[0].err != "" || want[1].err != "" || want[2].err != "" || want[3].err == "" {
		t.Fatalf("first parses: %q %q %q %q", want[0].err, want[1].err, want[2].err, want[3].err)
	}
	check := func(i int, got result) error {
		if got.err != want[i].err || !reflect.DeepEqual(got.pkt, want[i].pkt) {
			return fmt.Errorf("input %d parsed differently with reused buffers (error %q, first %q)", i, got.err, want[i].err)
		}
		return nil
	}
	for round := range 3 {
		for i := range inputs {
			j := (i + round) % len(inputs)
			if err := check(j, parse(inputs[j])); err != nil {
				t.Fatal(err)
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(inputs))
	for w := range 8 {
		wg.Go(func() {
			for k := range 20 {
				i := (w + k) % len(inputs)
				if err := check(i, parse(inputs[i])); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestNameCounts: the slice-then-map counter answers as a map does, past
// the switch from one to the other.
func TestNameCounts(t *testing.T) {
	var c nameCounts
	model := map[string]int{}
	for i := range 200 {
		name := fmt.Sprintf("n%d", i%(3+i/20)) // the number of names grows
		if got := c.get(name); got != model[name] {
			t.Fatalf("step %d: get(%s) = %d, want %d", i, name, got, model[name])
		}
		model[name]++
		c.set(name, model[name])
	}
	if c.many == nil || c.few != nil {
		t.Fatalf("%d names: still a slice of %d", len(model), len(c.few))
	}
	for name, n := range model {
		if got := c.get(name); got != n {
			t.Errorf("get(%s) = %d, want %d", name, got, n)
		}
	}
	if got := c.get("absent"); got != 0 {
		t.Errorf("get(absent) = %d", got)
	}
}
