package server

import (
	"net"
	"sync"
	"time"
)

// refusals bounds how many failed authentications from one client address
// the audit log records: a token bucket per address of refusalBurst,
// refilled at refusalRate. A failure that finds the bucket empty is
// answered 429 without an event of its own; the next one audited says how
// many were not. A flood of bad credentials thus costs the log a few
// events a minute per address, and every one is still counted.
type refusals struct {
	now func() time.Time

	mu  sync.Mutex
	per map[string]*refusalBucket
}

type refusalBucket struct {
	tokens  float64
	at      time.Time
	dropped int
}

const (
	refusalBurst = 10
	refusalRate  = 10.0 / 60 // per second: 10 a minute
	// refusalAddrs bounds the addresses tracked; past it, full buckets are
	// forgotten (an address whose bucket is full is as good as new).
	refusalAddrs = 10000
)

func newRefusals(now func() time.Time) *refusals {
	return &refusals{now: now, per: map[string]*refusalBucket{}}
}

// take records a failed authentication from remoteAddr. audit reports
// whether to audit it; then suppressed is how many from the address were
// not audited since the last that was. Else retry is when one will be.
func (l *refusals) take(remoteAddr string) (audit bool, suppressed int, retry time.Duration) {
	addr, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		addr = remoteAddr
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.per[addr]
	if b == nil {
		if len(l.per) >= refusalAddrs {
			l.forgetFull(now)
		}
		b = &refusalBucket{tokens: refusalBurst, at: now}
		l.per[addr] = b
	}
	b.refill(now)
	if b.tokens < 1 {
		b.dropped++
		return false, 0, time.Duration((1 - b.tokens) / refusalRate * float64(time.Second))
	}
	b.tokens--
	suppressed, b.dropped = b.dropped, 0
	return true, suppressed, 0
}

func (b *refusalBucket) refill(now time.Time) {
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens = min(refusalBurst, b.tokens+d*refusalRate)
	}
	b.at = now
}

// forgetFull drops the addresses whose buckets refilled and that have no
// unreported refusals; if none, all (the map must stay bounded).
func (l *refusals) forgetFull(now time.Time) {
	for a, b := range l.per {
		b.refill(now)
		if b.tokens >= refusalBurst && b.dropped == 0 {
			delete(l.per, a)
		}
	}
	if len(l.per) >= refusalAddrs {
		clear(l.per)
	}
}
