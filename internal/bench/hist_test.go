package bench

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestBucketsCoverEveryValue(t *testing.T) {
	for i := range numBuckets - 1 {
		_, hi := bucketRange(i)
		lo, _ := bucketRange(i + 1)
		if hi+1 != lo {
			t.Fatalf("bucket %d ends at %d, bucket %d starts at %d", i, hi, i+1, lo)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		v := r.Uint64() >> r.IntN(64)
		i := bucketOf(v)
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Fatalf("%d in bucket %d [%d, %d]", v, i, lo, hi)
		}
		if lo > 0 && float64(hi-lo)/float64(lo) > 1.0/64 {
			t.Fatalf("bucket %d [%d, %d] is wider than 1/64", i, lo, hi)
		}
	}
}

func TestQuantiles(t *testing.T) {
	type want struct {
		q float64
		d time.Duration
	}
	for _, tc := range []struct {
		name string
		data []time.Duration
		want []want
		// exact: small values are counted exactly; otherwise a quantile
		// is at most 1/64 above the true one.
		exact bool
	}{
		{"empty", nil, []want{{0.5, 0}, {0.99, 0}}, true},
		{"one", []time.Duration{42 * time.Millisecond}, []want{{0.5, 42 * time.Millisecond}, {1, 42 * time.Millisecond}}, true},
		{"1..100 ns", seq(1, 100, 1), []want{{0.5, 50}, {0.9, 90}, {0.99, 99}, {1, 100}}, true},
		{"1..1000 ms", seq(1, 1000, time.Millisecond), []want{{0.5, 500 * time.Millisecond}, {0.9, 900 * time.Millisecond},
			{0.99, 990 * time.Millisecond}, {1, time.Second}}, false},
		{"negative as zero", []time.Duration{-5, -1, 0}, []want{{0.5, 0}, {1, 0}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			// Any order gives the same histogram.
			for _, i := range rand.New(rand.NewPCG(3, 4)).Perm(len(tc.data)) {
				h.Record(tc.data[i])
			}
			for _, w := range tc.want {
				got := h.Quantile(w.q)
				if tc.exact && got != w.d || !tc.exact && (got < w.d || float64(got-w.d) > float64(w.d)/64) {
					t.Errorf("q%g = %v, want %v", w.q, got, w.d)
				}
			}
			s := h.Summary()
			if s.Count != uint64(len(tc.data)) || !(s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.Max) {
				t.Errorf("summary %+v", s)
			}
		})
	}
}

func TestSummaryMilliseconds(t *testing.T) {
	var h Histogram
	for _, d := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond, 1500 * time.Microsecond} {
		h.Record(d)
	}
	s := h.Summary()
	if s.Max != 30 || s.Mean != 15.375 || s.Count != 4 {
		t.Fatalf("%+v", s)
	}
}

func seq(from, to int, unit time.Duration) []time.Duration {
	var out []time.Duration
	for i := from; i <= to; i++ {
		out = append(out, time.Duration(i)*unit)
	}
	return out
}
