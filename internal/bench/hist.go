package bench

import (
	"math"
	"math/bits"
	"sync"
	"time"
)

// Histogram counts durations in bounded memory: exact below 128 ns, then
// 64 linear buckets per power of two, so a percentile is off by less than
// 1/64 (1.6 %) of its value. Min and max are exact. It is safe for
// concurrent use.
type Histogram struct {
	mu       sync.Mutex
	counts   [numBuckets]uint64
	n        uint64
	sum      float64
	min, max time.Duration
}

const (
	subBits    = 6
	subCount   = 1 << subBits
	numBuckets = (64-subBits)*subCount + subCount // bucket of the largest int64
)

// bucketOf is the bucket of v ≥ 0.
func bucketOf(v uint64) int {
	if v < 2*subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1 // v>>shift is in [64, 128)
	return shift*subCount + int(v>>shift)
}

// bucketRange is the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < 2*subCount {
		return uint64(i), uint64(i)
	}
	shift := i/subCount - 1
	m := uint64(i%subCount + subCount)
	return m << shift, (m+1)<<shift - 1
}

// Record adds one duration; a negative one counts as zero.
func (h *Histogram) Record(d time.Duration) {
	d = max(d, 0)
	h.mu.Lock()
	if h.n == 0 || d < h.min {
		h.min = d
	}
	h.max = max(h.max, d)
	h.n++
	h.sum += float64(d)
	h.counts[bucketOf(uint64(d))]++
	h.mu.Unlock()
}

// Count is the number of durations recorded.
func (h *Histogram) Count() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// Quantile returns the q-quantile (0 < q ≤ 1): the largest value of the
// bucket holding the ⌈q·n⌉-th smallest duration, kept within [min, max];
// 0 when nothing was recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.quantile(q)
}

func (h *Histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			_, hi := bucketRange(i)
			return min(max(time.Duration(hi), h.min), h.max)
		}
	}
	return h.max
}

// Latency is a summary of a histogram in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// Summary is the histogram's count, mean, p50, p90, p99 and max.
func (h *Histogram) Summary() Latency {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return Latency{}
	}
	return Latency{
		Count: h.n,
		Mean:  round3(h.sum / float64(h.n) / 1e6),
		P50:   ms(h.quantile(0.50)),
		P90:   ms(h.quantile(0.90)),
		P99:   ms(h.quantile(0.99)),
		Max:   ms(h.max),
	}
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return round3(float64(d) / 1e6) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
