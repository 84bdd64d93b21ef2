package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/routing"
)

// ProblemTypeBase prefixes the stable problem types of RFC 9457 responses.
const ProblemTypeBase = "https://edocgw.invalid/problems/"

// Errors of the HTTP layer itself, mapped with the hub's.
var (
	errMethodNotAllowed  = errors.New("method not allowed")
	errInvalidAgencyCode = errors.New("invalid agency code")
	errAgencyNotFound    = errors.New("agency not found")
)

// problemKind is one problem type: the errors.Is target, status, the type's
// stable name and its title.
type problemKind struct {
	err    error
	status int
	name   string
	title  string
}

// problemKinds maps errors to problem types; the first match wins, so the
// HTTP layer's own errors come before the hub's and a hub failure
// (ErrUnavailable) before what it was doing.
var problemKinds = []problemKind{
	{errMethodNotAllowed, http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed"},
	{errInvalidAgencyCode, http.StatusBadRequest, "invalid-agency-code", "Invalid agency code"},
	{errAgencyNotFound, http.StatusNotFound, "agency-not-found", "Agency not found"},
	{errTooManyFailures, http.StatusTooManyRequests, "too-many-failures", "Too many failed authentications"},
	{routing.ErrUnavailable, http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	{routing.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated", "Authentication required"},
	{routing.ErrForbidden, http.StatusForbidden, "forbidden", "Forbidden"},
	{routing.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{routing.ErrStateConflict, http.StatusConflict, "conflict", "Conflict with the current state"},
	{routing.ErrTooLarge, http.StatusRequestEntityTooLarge, "too-large", "Packet too large"},
	{routing.ErrInvalidPacket, http.StatusUnprocessableEntity, "invalid-envelope", "Invalid edXML packet"},
	{routing.ErrSignatureRequired, http.StatusUnprocessableEntity, "signature-required", "Signature required"},
	{routing.ErrSignature, http.StatusUnprocessableEntity, "signature-invalid", "Signature refused"},
	{routing.ErrNoRoute, http.StatusUnprocessableEntity, "no-route", "No route to recipient"},
	{routing.ErrGone, http.StatusGone, "gone", "Original no longer archived"},
	{routing.ErrBadRequest, http.StatusBadRequest, "bad-request", "Bad request"},
}

// The problem types without an entry in problemKinds.
var (
	duplicateKind = problemKind{nil, http.StatusConflict, "duplicate", "Duplicate packet"}
	internalKind  = problemKind{nil, http.StatusInternalServerError, "internal", "Internal error"}
)

// problem is an RFC 9457 problem details object.
type problem struct {
	kind   problemKind
	detail string
	ext    map[string]any
	header http.Header // set on the response
}

// problemFor is the one place that maps an error to its problem. Details of
// 4xx problems are the error's text; 5xx problems never show it.
func problemFor(err error) *problem {
	p := &problem{kind: internalKind, detail: "internal error; the server log has the details", ext: map[string]any{}, header: http.Header{}}
	var dup *routing.DuplicateError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &dup):
		p.kind, p.detail = duplicateKind, err.Error()
		p.ext["firstId"], p.ext["key"] = dup.FirstID, dup.Key
		return p
	case errors.As(err, &mbe):
		p.kind, p.detail = kindOf(routing.ErrTooLarge), fmt.Sprintf("the limit is %d bytes", mbe.Limit)
		return p
	}
	i := slices.IndexFunc(problemKinds, func(k problemKind) bool { return errors.Is(err, k.err) })
	if i < 0 {
		return p
	}
	p.kind = problemKinds[i]
	switch p.kind.err {
	case routing.ErrUnavailable:
		p.detail = "a dependency of the hub is unavailable; retry later"
		p.header.Set("Retry-After", "5")
		return p
	case routing.ErrUnauthenticated:
		p.header.Set("WWW-Authenticate", `Bearer realm="edocgw"`)
	case errTooManyFailures:
		var tm *tooManyFailures
		if errors.As(err, &tm) {
			p.header.Set("Retry-After", strconv.Itoa(max(1, int(tm.retry.Seconds()+0.999))))
		}
	case routing.ErrInvalidPacket:
		p.ext["errors"] = envelopeErrors(err)
	}
	p.detail = err.Error()
	return p
}

func kindOf(target error) problemKind {
	for _, k := range problemKinds {
		if k.err == target {
			return k
		}
	}
	panic("server: no problem kind for " + target.Error())
}

// envelopeErrors returns the packet problems in err's chain, never nil.
func envelopeErrors(err error) []*envelope.Error {
	var ps envelope.Problems
	if errors.As(err, &ps) {
		return ps
	}
	var e *envelope.Error
	if errors.As(err, &e) {
		return []*envelope.Error{e}
	}
	return []*envelope.Error{}
}

// MarshalJSON writes the members of RFC 9457 and the extensions.
func (p *problem) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(p.ext)+4)
	for k, v := range p.ext {
		m[k] = v
	}
	m["type"] = ProblemTypeBase + p.kind.name
	m["title"] = p.kind.title
	m["status"] = p.kind.status
	if p.detail != "" {
		m["detail"] = p.detail
	}
	return json.Marshal(m)
}

// fail answers err as a problem, logging server-side failures.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	switch {
	case p.kind.status == http.StatusInternalServerError && errors.Is(err, context.Canceled):
		s.log.Debug("server: request cancelled", "method", r.Method, "path", r.URL.Path, "err", err)
	case p.kind.status >= 500:
		s.log.Error("server: request failed", "method", r.Method, "path", r.URL.Path, "status", p.kind.status, "err", err)
	}
	s.writeProblem(w, p)
}

func (s *Server) writeProblem(w http.ResponseWriter, p *problem) {
	for k, v := range p.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.kind.status)
	_ = json.NewEncoder(w).Encode(p)
}

// detailError is an error of a kind (for problemFor) whose text is the
// whole problem detail.
type detailError struct {
	kind   error
	detail string
}

func (e *detailError) Error() string { return e.detail }
func (e *detailError) Unwrap() error { return e.kind }

func detailf(kind error, format string, args ...any) error {
	return &detailError{kind, fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
