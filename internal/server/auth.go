package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/authtoken"
	"github.com/edocgw/edocgw/routing"
)

type principalKey struct{}

// PrincipalFrom returns the caller that the authentication of /v1/* put in
// a request's context.
func PrincipalFrom(ctx context.Context) (routing.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(routing.Principal)
	return p, ok
}

func principal(r *http.Request) routing.Principal {
	p, _ := PrincipalFrom(r.Context())
	return p
}

// authenticate puts the caller in the context: a bearer token if the
// request has an Authorization header, else a verified TLS client
// certificate, else 401.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.principal(r)
		if err != nil {
			return err
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
		return nil
	})
}

func (s *Server) principal(r *http.Request) (routing.Principal, error) {
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || !authtoken.WellFormed(token) {
			return routing.Principal{}, s.refuseAnonymous(r, "malformed Authorization header")
		}
		p, err := s.tokens.LookupToken(ctx, authtoken.Of(token))
		switch {
		case errors.Is(err, routing.ErrNotFound) || errors.Is(err, routing.ErrUnauthenticated):
			return routing.Principal{}, s.refuseAnonymous(r, "unknown or revoked bearer token")
		case err != nil:
			return routing.Principal{}, fmt.Errorf("%w: token lookup: %w", routing.ErrUnavailable, err)
		}
		p.Via = "token"
		return p, nil
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		cert := r.TLS.VerifiedChains[0][0]
		p, err := s.cfg.Hub.PrincipalForCert(ctx, cert)
		switch {
		case errors.Is(err, routing.ErrUnauthenticated) || errors.Is(err, routing.ErrNotFound):
			return routing.Principal{}, s.refuseAnonymous(r, fmt.Sprintf("client certificate %q (SHA-256 %s) is bound to no member",
				cert.Subject.String(), agencyids.FingerprintOf(cert.Raw)))
		case err != nil:
			return routing.Principal{}, err
		}
		p.Via = "mtls"
		return p, nil
	}
	return routing.Principal{}, detailf(routing.ErrUnauthenticated, "a bearer token or a client certificate is required")
}

// refuseAnonymous audits a failed authentication (never with the
// credential itself) and returns its error: 401, or 429 without an event
// when the address is past its share of audited refusals (ratelimit).
func (s *Server) refuseAnonymous(r *http.Request, why string) error {
	audit, suppressed, retry := s.refusals.Take(r.RemoteAddr)
	if !audit {
		return &tooManyFailures{retry: retry}
	}
	note := why + " (from " + r.RemoteAddr + ")"
	if suppressed > 0 {
		note += fmt.Sprintf("; %d more refused from this address since the last event, answered 429", suppressed)
	}
	s.cfg.Hub.Refused(r.Context(), "anonymous", what(r), note)
	return detailf(routing.ErrUnauthenticated, "%s", why)
}

// errTooManyFailures: too many failed authentications from the address.
var errTooManyFailures = errors.New("too many failed authentications")

// tooManyFailures is errTooManyFailures with the wait before a retry.
type tooManyFailures struct{ retry time.Duration }

func (e *tooManyFailures) Error() string {
	return fmt.Sprintf("too many failed authentications from this address; retry in %s", e.retry.Round(time.Second))
}

func (e *tooManyFailures) Unwrap() error { return errTooManyFailures }

// allow lets only the given roles through; others get 403, audited.
func (s *Server) allow(roles ...routing.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return s.handle(func(w http.ResponseWriter, r *http.Request) error {
			p := principal(r)
			if !slices.Contains(roles, p.Role) {
				why := fmt.Sprintf("role %q may not call %s", p.Role, what(r))
				s.cfg.Hub.Refused(r.Context(), p.Actor(), what(r), why)
				return detailf(routing.ErrForbidden, "%s", why)
			}
			next.ServeHTTP(w, r)
			return nil
		})
	}
}

// what names a request for the audit log, bounded: the path is the
// client's.
func what(r *http.Request) string {
	s := r.Method + " " + r.URL.Path
	if len(s) > 256 {
		s = strings.ToValidUTF8(s[:256], "") + "…"
	}
	return s
}
