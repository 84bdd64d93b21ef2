package vxp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/ratelimit"
	"github.com/edocgw/edocgw/routing"
)

// Defaults of Config.
const (
	DefaultMaxBody = 64 << 20 // the hub's default packet limit
	DefaultMaxList = 1000
	// maxSmallBody bounds the bodies read besides sendEdoc's ("{}",
	// registerAgency's JSON).
	maxSmallBody = 64 << 10
	// memSpool is how much of a sendEdoc body stays in memory.
	memSpool = 1 << 20
)

// ICT is Vietnam time (UTC+07:00), the default zone of dates on the wire.
var ICT = time.FixedZone("ICT", 7*60*60)

// Config configures a Handler.
type Config struct {
	Hub   Hub        // required
	Store Store      // required
	Key   *SecretKey // required: opens the systems' secrets
	// MaxBody is the largest packet sendEdoc takes (default DefaultMaxBody;
	// set it to the hub's limit).
	MaxBody int64
	// SpoolDir holds sendEdoc bodies over 1 MiB while they are checked
	// (default os.TempDir()).
	SpoolDir string
	// MaxSkew, when positive, refuses requests whose signed
	// XroadVnpt-timestamp is further than it from now (read in Zone). Off
	// by default: the SDK signs the same timestamp for the life of its
	// service object (§3.2), so replay protection is TLS's job.
	MaxSkew time.Duration
	// MaxList bounds the items of one getReceivedEdocList answer (default
	// DefaultMaxList); the rest come once those are acknowledged.
	MaxList int
	// Zone is the zone of the dates on the wire (default ICT).
	Zone *time.Location
	// Registerer gets the protocol's metrics; nil: none registered.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	Now        func() time.Time
}

// Handler serves the protocol's methods (§5). Mount puts it under its
// path prefixes.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	requests *prometheus.CounterVec
	variants variantMemory
	refusals *ratelimit.Refusals // audited authentication failures per address
}

// New returns a handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Hub == nil || cfg.Store == nil || cfg.Key == nil {
		return nil, errors.New("vxp: Config.Hub, Store and Key are required")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxList <= 0 {
		cfg.MaxList = DefaultMaxList
	}
	if cfg.Zone == nil {
		cfg.Zone = ICT
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, log: cfg.Logger, refusals: ratelimit.New(cfg.Now), requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edocgw_vxp_requests_total",
		Help: "Requests of the national axis's SDK protocol, by method and ErrorCode.",
	}, []string{"method", "code"})}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(h.requests); err != nil {
			return nil, fmt.Errorf("vxp: metrics: %w", err)
		}
	}
	return h, nil
}

// endpoint is one method of §5.
type endpoint struct {
	shape shape
	get   bool // GET allowed (besides POST)
	run   func(h *Handler, c *call) error
}

// endpoints are the methods by name (§5 rows 1–13).
var endpoints = map[string]endpoint{
	"getReceivedEdocList": {shape: shapeList, run: (*Handler).getReceivedEdocList},
	"getSentEdocList":     {shape: shapeList, run: (*Handler).getSentEdocList},
	"sendEdoc":            {shape: shapeDocID, run: (*Handler).sendEdoc},
	"getEdoc":             {shape: shapeEdoc, run: (*Handler).getEdoc},
	"downloadEdoc":        {shape: shapePlain, get: true, run: (*Handler).downloadEdoc},
	"updateStatus":        {shape: shapePlain, run: (*Handler).updateStatus},
	"countReceiveEdoc":    {shape: shapeCount, get: true, run: (*Handler).countReceiveEdoc},
	"countReceiveStatus":  {shape: shapeCount, get: true, run: (*Handler).countReceiveStatus},
	"getAgenciesList":     {shape: shapeList, run: (*Handler).getAgenciesList},
	"getAgenciesListQD20": {shape: shapeList, run: (*Handler).getAgenciesListQD20},
	"getSynchronizeUnit":  {shape: shapeList, run: (*Handler).getSynchronizeUnit},
	"registerAgency":      {shape: shapePlain, run: (*Handler).registerAgency},
	"deleteAgency":        {shape: shapePlain, run: (*Handler).deleteAgency},
}

// call is one authenticated request.
type call struct {
	w    *responseWriter
	r    *http.Request
	ctx  context.Context
	name string
	sys  *System
	p    Params
	what string // method and path, for the audit log
}

// actor names the calling system in the audit log.
func (c *call) actor() string { return "vxp:" + c.sys.ID }

func principal(a agencyids.Code) routing.Principal {
	return routing.Principal{Role: routing.RoleAgency, Agency: a, Via: "vxp"}
}

// serve answers one request for the method name.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, name string) {
	ep, ok := endpoints[name]
	c := &call{w: &responseWriter{ResponseWriter: w}, r: r, ctx: r.Context(), name: name, what: what(r)}
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			h.observe(name, CodeInternal)
			panic(v)
		}
		h.log.Error("vxp: panic", "method", name, "panic", v)
		h.fail(c, ep.shape, &Error{Code: CodeInternal, Err: fmt.Errorf("panic: %v", v)})
	}()
	switch {
	case !ok:
		h.fail(c, shapePlain, failf(CodeNoMethod, nil, "%s", clip(name)))
		return
	case r.Method != http.MethodPost && !(ep.get && r.Method == http.MethodGet):
		allow := "POST"
		if ep.get {
			allow = "GET, POST"
		}
		c.w.Header().Set("Allow", allow)
		h.fail(c, ep.shape, failf(CodeHTTPMethod, nil, "%s %s", r.Method, name))
		return
	}
	if name != "sendEdoc" && name != "registerAgency" {
		// The "{}" bodies are read (bounded) before answering: a client
		// that sent Expect: 100-continue gets its 100 and is not kept
		// waiting for it.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxSmallBody))
	}
	sys, p, err := h.authenticate(c)
	if err != nil {
		h.fail(c, ep.shape, err)
		return
	}
	c.sys, c.p = sys, p
	if err := ep.run(h, c); err != nil {
		h.fail(c, ep.shape, err)
		return
	}
	h.observe(name, CodeOK)
}

func (h *Handler) observe(name string, code Code) {
	if _, ok := endpoints[name]; !ok {
		name = "unknown"
	}
	h.requests.WithLabelValues(name, string(code)).Inc()
}

// fail answers err with status FAIL in the endpoint's shape; once an
// answer has begun it aborts the connection instead.
func (h *Handler) fail(c *call, sh shape, err error) {
	e := errorOf(err)
	if c.w.wrote {
		h.observe(c.name, e.Code)
		if c.ctx.Err() == nil {
			h.log.Error("vxp: answer broken off", "method", c.name, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	switch e.Code {
	case CodeUnavailable, CodeInternal:
		if !errors.Is(err, context.Canceled) {
			h.log.Error("vxp: request failed", "method", c.name, "code", e.Code, "err", err)
		}
	}
	h.observe(c.name, e.Code)
	if c.name == "downloadEdoc" {
		// Any body counts as the file (§5 row 5): the error goes in headers.
		c.w.Header().Set("Vxp-Error-Code", string(e.Code))
		c.w.Header().Set("Vxp-Error-Desc", string(ASCII([]byte(e.desc()))))
		c.w.WriteHeader(downloadStatus(e.Code))
		return
	}
	docID := ""
	var dup *routing.DuplicateError
	if errors.As(err, &dup) {
		// The first copy was accepted: its id, so a DMS that lost the
		// first answer learns it.
		docID = WireID(dup.FirstID)
	}
	writeReply(c.w, head{Status: "FAIL", ErrorCode: e.Code, ErrorDesc: e.desc()}, sh, docID, 0)
}

// responseWriter notes whether the answer has begun.
type responseWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *responseWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func downloadStatus(c Code) int {
	switch c {
	case CodeAuthHeaders, CodeUnknownSys, CodeBadHMAC, CodeStaleRequest:
		return http.StatusUnauthorized
	case CodeTooManyFailures:
		return http.StatusTooManyRequests
	case CodeNotFound, CodeNoMethod:
		return http.StatusNotFound
	case CodeGone:
		return http.StatusGone
	case CodeBadParam:
		return http.StatusBadRequest
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeHTTPMethod:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// authenticate checks the request's XroadVnpt signature (§3, §11.1 item 2)
// and returns its system and signed parameters. Refusals are audited.
func (h *Handler) authenticate(c *call) (*System, Params, error) {
	r := c.r
	refuse := func(actor string, e *Error) error {
		audit, suppressed, retry := h.refusals.Take(r.RemoteAddr)
		if !audit {
			// Past the address's share of audited failures (ratelimit).
			return failf(CodeTooManyFailures, nil, "retry in %s", retry.Round(time.Second))
		}
		why := fmt.Sprintf("vxp %s: %s (from %s)", e.Code, e.Error(), r.RemoteAddr)
		if suppressed > 0 {
			why += fmt.Sprintf("; %d more refused from this address since the last event", suppressed)
		}
		h.cfg.Hub.Refused(c.ctx, actor, c.what, why)
		return e
	}
	signHeader := r.Header.Get("XroadVnpt-sign-header")
	hashHeader := strings.TrimSpace(r.Header.Get("XroadVnpt-hash-header"))
	headerID := strings.TrimSpace(r.Header.Get("XroadVnpt-systemid"))
	if signHeader == "" || hashHeader == "" {
		return nil, nil, refuse("anonymous", failf(CodeAuthHeaders, nil, "XroadVnpt-sign-header and XroadVnpt-hash-header are required"))
	}
	p, err := ParseSignedHeader([]byte(signHeader))
	if err != nil {
		return nil, nil, refuse("anonymous", failf(CodeAuthHeaders, err, "XroadVnpt-sign-header is not a JSON object"))
	}
	id := strings.TrimSpace(p.Get("systemid"))
	switch {
	case id == "":
		return nil, nil, refuse("anonymous", failf(CodeAuthHeaders, nil, "no XroadVnpt-systemid in XroadVnpt-sign-header"))
	case ValidSystemID(id) != nil:
		return nil, nil, refuse("anonymous", &Error{Code: CodeUnknownSys, Detail: clip(id)})
	case headerID != "" && headerID != id:
		return nil, nil, refuse("vxp:"+id, failf(CodeAuthHeaders, nil, "XroadVnpt-systemid %s differs from the signed %s", clip(headerID), id))
	}
	sys, err := h.cfg.Store.VXPSystem(c.ctx, id)
	switch {
	case errors.Is(err, routing.ErrNotFound):
		return nil, nil, refuse("vxp:"+id, &Error{Code: CodeUnknownSys, Detail: id})
	case err != nil:
		return nil, nil, &Error{Code: CodeUnavailable, Err: fmt.Errorf("%w: system %s: %w", routing.ErrUnavailable, id, err)}
	}
	secret, err := h.cfg.Key.Open(sys.ID, sys.Secret)
	if err != nil {
		return nil, nil, &Error{Code: CodeInternal, Err: fmt.Errorf("secret of system %s (sealed by key %s) with key %s: %w; is --vxp-key-file the file it was added with?",
			sys.ID, sys.KeyID, h.cfg.Key.ID(), err)}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signHeader))
	got, err := hex.DecodeString(hashHeader)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return nil, nil, refuse("vxp:"+id, &Error{Code: CodeBadHMAC})
	}
	if h.cfg.MaxSkew > 0 {
		ts := p.Get("timestamp")
		t, err := ParseTimestamp(ts, h.cfg.Zone)
		if err != nil {
			return nil, nil, refuse("vxp:"+id, failf(CodeStaleRequest, err, "%.40q", ts))
		}
		if d := h.cfg.Now().Sub(t); d > h.cfg.MaxSkew || d < -h.cfg.MaxSkew {
			return nil, nil, refuse("vxp:"+id, failf(CodeStaleRequest, nil, "%s is %s from now, limit %s", ts, d.Round(time.Second), h.cfg.MaxSkew))
		}
	}
	return sys, p, nil
}

// agencyOf returns the system's agency that code names, or refuses (audited)
// with ErrorCode 3002 as if the id did not exist: ids of other systems'
// documents reveal nothing.
func (h *Handler) agencyOf(c *call, code agencyids.Code, id string) (agencyids.Code, error) {
	if a, ok := c.sys.Has(code, h.cfg.Hub.Directory()); ok {
		return a, nil
	}
	h.cfg.Hub.Refused(c.ctx, c.actor(), c.what, fmt.Sprintf("%s of %s: not an agency of system %s", id, code, c.sys.ID))
	return "", failf(CodeNotFound, nil, "docId %s", WireID(id))
}

// delivery finds the delivery a docId names and the system's agency it is
// addressed to.
func (h *Handler) delivery(c *call) (*routing.Delivery, agencyids.Code, error) {
	raw := h.docID(c)
	if raw == "" {
		return nil, "", failf(CodeBadParam, nil, "docId is required")
	}
	id, ok := HubID(raw)
	if !ok {
		return nil, "", failf(CodeNotFound, nil, "docId %s", clip(raw))
	}
	d, err := h.cfg.Store.Delivery(c.ctx, id)
	switch {
	case errors.Is(err, routing.ErrNotFound):
		return nil, "", failf(CodeNotFound, nil, "docId %s", clip(raw))
	case err != nil:
		return nil, "", fmt.Errorf("%w: delivery %s: %w", routing.ErrUnavailable, id, err)
	}
	a, err := h.agencyOf(c, d.Recipient, d.ID)
	return d, a, err
}

// docID reads docId, which DMSs also spell docid: when both are signed
// and differ, the one this call changed (variantMemory).
func (h *Handler) docID(c *call) string {
	return strings.TrimSpace(h.variants.resolve(c.sys.ID+"\x00"+c.p.Get("timestamp"), c.p, "docId"))
}

// audit appends an event that no hub method records.
func (h *Handler) audit(c *call, e *archive.Event) error {
	if err := h.cfg.Store.AppendEvents(context.WithoutCancel(c.ctx), e); err != nil {
		return fmt.Errorf("%w: audit: %w", routing.ErrUnavailable, err)
	}
	return nil
}

// details encodes audit details, dropping empty values.
func details(m map[string]any) []byte {
	for k, v := range m {
		if v == "" || v == nil {
			delete(m, k)
		}
	}
	b, err := marshalASCII(m)
	if err != nil {
		panic(fmt.Sprintf("vxp: audit details: %v", err))
	}
	return b
}

// what names a request for the audit log, bounded: the path is the client's.
func what(r *http.Request) string {
	return clip(r.Method + " " + r.URL.Path)
}

// clip bounds a client's string for messages.
func clip(s string) string {
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

func isNotFound(err error) bool { return errors.Is(err, routing.ErrNotFound) }
