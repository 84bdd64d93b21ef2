package ratelimit

import (
	"net"
	"sync"
	"time"
)

// Refusals bounds how many failed authentications from one client address
// the audit log records: a token bucket per address of Burst, refilled at
// Rate. A failure that finds the bucket empty is answered without an event
// of its own (429, or the protocol's equivalent); the next one audited
// says how many were not. A flood of bad credentials thus costs the log a
// few events a minute per address, and every one is still counted. It is
// safe for concurrent use.
type Refusals struct {
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
	// Burst is how many failures in a row an address may have audited.
	Burst = 10
	// Rate refills the bucket: 10 a minute, per second.
	Rate = 10.0 / 60
	// refusalAddrs bounds the addresses tracked; past it, full buckets are
	// forgotten (an address whose bucket is full is as good as new).
	refusalAddrs = 10000
)

// New returns a limiter on the clock now (nil: time.Now).
func New(now func() time.Time) *Refusals {
	if now == nil {
		now = time.Now
	}
	return &Refusals{now: now, per: map[string]*refusalBucket{}}
}

// Take records a failed authentication from remoteAddr. audit reports
// whether to audit it; then suppressed is how many from the address were
// not audited since the last that was. Else retry is when one will be.
func (l *Refusals) Take(remoteAddr string) (audit bool, suppressed int, retry time.Duration) {
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
		b = &refusalBucket{tokens: Burst, at: now}
		l.per[addr] = b
	}
	b.refill(now)
	if b.tokens < 1 {
		b.dropped++
		return false, 0, time.Duration((1 - b.tokens) / Rate * float64(time.Second))
	}
	b.tokens--
	suppressed, b.dropped = b.dropped, 0
	return true, suppressed, 0
}

func (b *refusalBucket) refill(now time.Time) {
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens = min(Burst, b.tokens+d*Rate)
	}
	b.at = now
}

// forgetFull drops the addresses whose buckets refilled and that have no
// unreported refusals; if none, all (the map must stay bounded).
func (l *Refusals) forgetFull(now time.Time) {
	for a, b := range l.per {
		b.refill(now)
		if b.tokens >= Burst && b.dropped == 0 {
			delete(l.per, a)
		}
	}
	if len(l.per) >= refusalAddrs {
		clear(l.per)
	}
}
