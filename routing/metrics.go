package routing

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the hub's Prometheus series.
type metrics struct {
	accepted   *prometheus.CounterVec   // by kind
	rejected   *prometheus.CounterVec   // by reason
	acceptTime prometheus.Histogram     // seconds per accepted packet
	attempts   *prometheus.CounterVec   // by route and outcome
	attemptDur *prometheus.HistogramVec // by route
	fetched    prometheus.Counter
	acked      prometheus.Counter
	refused    prometheus.Counter
}

func newMetrics(r prometheus.Registerer) *metrics {
	m := &metrics{
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edocgw_packets_accepted_total",
			Help: "Packets accepted (HTTP 202), by kind."}, []string{"kind"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edocgw_packets_rejected_total",
			Help: "Packets refused, by reason (the problem type)."}, []string{"reason"}),
		acceptTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "edocgw_accept_seconds",
			Help: "Time to accept a packet: spool, checks, archive, commit.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edocgw_delivery_attempts_total",
			Help: "Push and peer delivery attempts, by route and outcome (delivered, retry, dead)."}, []string{"route", "outcome"}),
		attemptDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "edocgw_delivery_attempt_seconds",
			Help: "Time of one push or peer delivery attempt.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, []string{"route"}),
		fetched: prometheus.NewCounter(prometheus.CounterOpts{Name: "edocgw_deliveries_fetched_total", Help: "Originals fetched by recipients."}),
		acked:   prometheus.NewCounter(prometheus.CounterOpts{Name: "edocgw_deliveries_acked_total", Help: "Pull deliveries acknowledged."}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "edocgw_requests_refused_total", Help: "Requests refused by authentication or authorization."}),
	}
	if r != nil {
		r.MustRegister(m.accepted, m.rejected, m.acceptTime, m.attempts, m.attemptDur, m.fetched, m.acked, m.refused)
	}
	return m
}

func (m *metrics) observeAccept(rc *Receipt, err error, d time.Duration) {
	if err != nil {
		m.rejected.WithLabelValues(kindOf(err)).Inc()
		return
	}
	m.accepted.WithLabelValues(rc.Kind).Inc()
	m.acceptTime.Observe(d.Seconds())
}

func (m *metrics) observeDelivery(d *Delivery, took time.Duration) {
	outcome := "retry"
	switch d.State {
	case StateDelivered:
		outcome = "delivered"
	case StateDead:
		outcome = "dead"
	}
	m.attempts.WithLabelValues(string(d.Route), outcome).Inc()
	m.attemptDur.WithLabelValues(string(d.Route)).Observe(took.Seconds())
}
