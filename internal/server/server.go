// Package server is the hub's HTTP API (design §5): documents, the inbox,
// deliveries, traces, the agency directory and envelope validation, with
// health, readiness and Prometheus metrics. docs/openapi.yaml describes it.
// It knows the hub only through the Hub and Tokens interfaces.
package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edocgw/edocgw/internal/ratelimit"
	"github.com/edocgw/edocgw/routing"
)

// Defaults of Config.
const (
	// DefaultMaxBody is the envelope parser's own size limit.
	DefaultMaxBody = 1 << 30
	// maxValidateBody bounds POST /v1/envelopes/validate, which reads the
	// packet into memory.
	maxValidateBody = 32 << 20
)

// Config configures a Server.
type Config struct {
	Hub    Hub    // required
	Tokens Tokens // required
	// Registry gets the HTTP metrics and is served on /metrics; nil: a new
	// registry with the Go and process collectors.
	Registry *prometheus.Registry
	// MaxBody is the largest request body; 0 means DefaultMaxBody.
	// POST /v1/envelopes/validate holds the packet in memory and takes at
	// most 32 MiB whatever MaxBody says.
	MaxBody int64
	// Now is the time envelope validation judges dates by; nil: time.Now.
	Now func() time.Time
	// Logger gets server errors; nil: slog.Default().
	Logger *slog.Logger
}

// Server serves the HTTP API. TLS, and the verification of client
// certificates against the client CAs, is the caller's http.Server's job:
// a request authenticates by certificate when r.TLS.VerifiedChains is set.
type Server struct {
	cfg     Config
	log     *slog.Logger
	router  *chi.Mux
	metrics *httpMetrics
	tokens  Tokens // cfg.Tokens, cached when it has a configuration version
	// refusals bounds the audited failed authentications per address.
	refusals *ratelimit.Refusals
}

// New returns a server over cfg.Hub and cfg.Tokens.
func New(cfg Config) (*Server, error) {
	if cfg.Hub == nil || cfg.Tokens == nil {
		return nil, errors.New("server: Config.Hub and Config.Tokens are required")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m, err := newHTTPMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: m, tokens: cfg.Tokens, refusals: ratelimit.New(cfg.Now)}
	if v, ok := cfg.Tokens.(configVersioner); ok {
		s.tokens = newTokenCache(cfg.Tokens, v, time.Now)
	}
	s.routes()
	return s, nil
}

// The roles allowed per endpoint group (design §6).
var (
	senders   = []routing.Role{routing.RoleAgency, routing.RoleHub}
	members   = []routing.Role{routing.RoleAgency}
	readers   = []routing.Role{routing.RoleAgency, routing.RoleHub, routing.RoleAuditor}
	everybody = []routing.Role{routing.RoleAgency, routing.RoleHub, routing.RoleAuditor, routing.RoleAdmin}
	auditors  = []routing.Role{routing.RoleAuditor}
)

func (s *Server) routes() {
	r := chi.NewRouter()
	r.Use(s.metrics.middleware, s.recoverer)
	r.NotFound(s.handle(s.noEndpoint))
	r.MethodNotAllowed(s.handle(s.methodNotAllowed))

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))

	r.Group(func(r chi.Router) {
		r.Use(s.authenticate)
		r.With(s.allow(senders...)).Post("/v1/documents", s.handle(s.acceptDocument))
		r.With(s.allow(readers...)).Get("/v1/documents/{id}", s.handle(s.openDocument))
		r.With(s.allow(readers...)).Get("/v1/documents/{id}/trace", s.handle(s.trace))

		r.With(s.allow(members...)).Get("/v1/inbox", s.handle(s.inbox))
		r.With(s.allow(members...)).Post("/v1/inbox/ack", s.handle(s.ackMany))
		r.With(s.allow(members...)).Post("/v1/inbox/fetch", s.handle(s.fetchMany))
		r.With(s.allow(members...)).Get("/v1/deliveries/{id}", s.handle(s.fetchDelivery))
		r.With(s.allow(members...)).Post("/v1/deliveries/{id}/ack", s.handle(s.ack))

		r.With(s.allow(auditors...)).Get("/v1/audit/events", s.handle(s.auditEvents))
		r.With(s.allow(auditors...)).Get("/v1/archive/{id}/export", s.handle(s.exportBundle))

		r.With(s.allow(everybody...)).Get("/v1/agencies", s.handle(s.searchAgencies))
		r.With(s.allow(everybody...)).Get("/v1/agencies/{code}", s.handle(s.getAgency))
		r.With(s.allow(everybody...)).Post("/v1/envelopes/validate", s.handle(s.validateEnvelope))
	})
	s.router = r
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// handlerFunc is a handler whose error, if any, becomes the problem answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	}
}

// recoverer answers a panic with a 500 problem, or aborts the connection
// when the answer has begun; http.ErrAbortHandler passes through.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("server: panic", "method", r.Method, "path", r.URL.Path, "panic", v)
			if sw, ok := w.(interface{ Status() int }); ok && sw.Status() != 0 {
				panic(http.ErrAbortHandler)
			}
			s.fail(w, r, errors.New("panic"))
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) noEndpoint(w http.ResponseWriter, r *http.Request) error {
	return detailf(routing.ErrNotFound, "no endpoint %s", r.URL.Path)
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, r *http.Request) error {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if s.router.Match(chi.NewRouteContext(), m, r.URL.Path) {
			allowed = append(allowed, m)
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	return detailf(errMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path)
}
