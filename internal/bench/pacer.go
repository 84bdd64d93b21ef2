package bench

import (
	"math"
	"time"
)

// Pacer schedules an open-loop arrival process at a fixed rate: arrival i
// is due at start + i/rate whatever happened before, so a late wake-up
// catches up instead of drifting. It is not safe for concurrent use.
type Pacer struct {
	start time.Time
	rate  float64 // arrivals per second
	taken int64
}

// NewPacer starts a schedule of perSecond arrivals per second at start.
func NewPacer(start time.Time, perSecond float64) *Pacer {
	return &Pacer{start: start, rate: perSecond}
}

// At is when arrival i is due.
func (p *Pacer) At(i int64) time.Time {
	return p.start.Add(time.Duration(math.Round(float64(i) * 1e9 / p.rate)))
}

// Take returns the arrivals due by now that were not taken yet, as the
// index of the first and their number, and marks them taken.
func (p *Pacer) Take(now time.Time) (first int64, n int) {
	first = p.taken
	if now.Before(p.start) {
		return first, 0
	}
	// due arrivals are those with At(i) ≤ now: about elapsed·rate + 1,
	// made exact against At's rounding.
	due := int64(math.Floor(now.Sub(p.start).Seconds()*p.rate)) + 1
	for due > 0 && p.At(due-1).After(now) {
		due--
	}
	for !p.At(due).After(now) {
		due++
	}
	if due <= p.taken {
		return first, 0
	}
	p.taken = due
	return first, int(due - first)
}

// Next is when the first arrival not yet taken is due.
func (p *Pacer) Next() time.Time { return p.At(p.taken) }

// Taken is the number of arrivals taken so far.
func (p *Pacer) Taken() int64 { return p.taken }
