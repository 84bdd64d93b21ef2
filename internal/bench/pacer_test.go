package bench

import (
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	type take struct {
		at        time.Duration // after start
		first     int64
		n         int
		nextAfter time.Duration // Next() - start
	}
	for _, tc := range []struct {
		name  string
		rate  float64
		takes []take
	}{
		{"100/s", 100, []take{
			{-time.Second, 0, 0, 0},
			{0, 0, 1, 10 * time.Millisecond},
			{9 * time.Millisecond, 1, 0, 10 * time.Millisecond},
			{10 * time.Millisecond, 1, 1, 20 * time.Millisecond},
			{15 * time.Millisecond, 2, 0, 20 * time.Millisecond},
			{time.Second, 2, 99, 1010 * time.Millisecond}, // a late wake-up catches up
			{time.Second, 101, 0, 1010 * time.Millisecond},
		}},
		{"0.5/s", 0.5, []take{
			{0, 0, 1, 2 * time.Second},
			{1999 * time.Millisecond, 1, 0, 2 * time.Second},
			{10 * time.Second, 1, 5, 12 * time.Second},
		}},
		{"3/s, rounded due times", 3, []take{
			{333 * time.Millisecond, 0, 1, 333333333},
			{333333333, 1, 1, 666666667},
			{666666666, 2, 0, 666666667},
			{time.Minute, 2, 179, time.Minute + 333333333},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPacer(start, tc.rate)
			for _, tk := range tc.takes {
				first, n := p.Take(start.Add(tk.at))
				if first != tk.first || n != tk.n {
					t.Fatalf("Take(+%v) = %d, %d; want %d, %d", tk.at, first, n, tk.first, tk.n)
				}
				if got := p.Next().Sub(start); got != tk.nextAfter {
					t.Fatalf("after Take(+%v): Next = +%v, want +%v", tk.at, got, tk.nextAfter)
				}
			}
		})
	}
}

// Over a fake clock ticking at odd steps the count is the rate's.
func TestPacerCountsOverFakeClock(t *testing.T) {
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		rate float64
		step time.Duration
		span time.Duration
		want int64
	}{
		{200, 7 * time.Millisecond, 10 * time.Second, 2001},
		{50, 333 * time.Millisecond, time.Minute, 3001},
		{1, time.Millisecond, 5 * time.Second, 6},
		{1000, time.Second, 3 * time.Second, 3001},
	} {
		p := NewPacer(start, tc.rate)
		var total int64
		for at := time.Duration(0); at <= tc.span; at += tc.step {
			first, n := p.Take(start.Add(at))
			if first != total {
				t.Fatalf("rate %g: first %d after %d taken", tc.rate, first, total)
			}
			total += int64(n)
		}
		total += int64(takeN(p, start.Add(tc.span)))
		if total != tc.want || p.Taken() != total {
			t.Errorf("rate %g, step %v, %v: %d arrivals (Taken %d), want %d", tc.rate, tc.step, tc.span, total, p.Taken(), tc.want)
		}
	}
}

func takeN(p *Pacer, at time.Time) int {
	_, n := p.Take(at)
	return n
}
