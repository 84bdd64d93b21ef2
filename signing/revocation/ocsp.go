package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"golang.org/x/crypto/ocsp"
)

// queryOCSP asks the responder at rawURL about cert, sharing the request
// with concurrent callers, and caches an authoritative fresh answer under
// key.
func (c *Checker) queryOCSP(ctx context.Context, rawURL, key string, cert, issuer *x509.Certificate, now time.Time) (Status, error) {
	return c.ocspFlight.do(ctx, rawURL+"\x00"+key, "ocsp "+rawURL, func(ctx context.Context) (Status, error) {
		if st, ok := c.ocspCache.get(key, now); ok {
			return st, nil // a flight that just ended cached it
		}
		st, err := c.askOCSP(ctx, rawURL, cert, issuer, now)
		if err == nil && st.State != Unknown {
			if until := cacheUntil(st.NextUpdate, now, 0); !until.IsZero() && fresh(st.ThisUpdate, st.NextUpdate, now) == nil {
				c.ocspCache.put(key, st, until, now)
			}
		}
		return st, err
	})
}

// askOCSP sends one request and verifies the response.
func (c *Checker) askOCSP(ctx context.Context, rawURL string, cert, issuer *x509.Certificate, now time.Time) (Status, error) {
	source := "ocsp " + rawURL
	fail := func(kind error, format string, args ...any) (Status, error) {
		return Status{Source: source}, fmt.Errorf("%s: %w: %s", source, kind, fmt.Sprintf(format, args...))
	}
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return Status{Source: source}, fmt.Errorf("%s: request: %w", source, err)
	}
	body, err := c.fetch(ctx, http.MethodPost, rawURL, req, "application/ocsp-request", c.cfg.MaxOCSPBytes)
	if err != nil {
		return Status{Source: source}, fmt.Errorf("%s: %w", source, err)
	}
	// The issuer is passed as nil and the signature checked below:
	// ParseResponseForCert with the issuer rejects a response that embeds
	// the issuer's own certificate, and does not check a delegated
	// responder's extended key usage.
	resp, err := ocsp.ParseResponseForCert(body, cert, nil)
	if err != nil {
		var re ocsp.ResponseError
		if errors.As(err, &re) && (re.Status == ocsp.TryLater || re.Status == ocsp.InternalError) {
			return fail(ErrUnreachable, "responder answered %v", re.Status)
		}
		return fail(ErrBadResponse, "%v", err)
	}
	if resp.SerialNumber == nil || resp.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		return fail(ErrBadResponse, "response for serial %v, not %v", resp.SerialNumber, cert.SerialNumber)
	}
	if err := checkResponder(resp, issuer, now); err != nil {
		return fail(ErrBadResponse, "%v", err)
	}
	st := Status{Source: source, ThisUpdate: resp.ThisUpdate, NextUpdate: resp.NextUpdate}
	switch resp.Status {
	case ocsp.Good:
		st.State = Good
	case ocsp.Revoked:
		st.State, st.RevokedAt, st.Reason = Revoked, resp.RevokedAt, resp.RevocationReason
	case ocsp.Unknown:
		st.State = Unknown
	default:
		return fail(ErrBadResponse, "certificate status %d", resp.Status)
	}
	if err := fresh(resp.ThisUpdate, resp.NextUpdate, now); err != nil {
		if st.State == Revoked && st.Reason != reasonCertificateHold {
			return st, nil // a revocation is final
		}
		return Status{Source: source}, fmt.Errorf("%s: %w", source, err)
	}
	return st, nil
}

// checkResponder verifies who signed resp (RFC 6960 §4.2.2.2): the issuer
// itself, or a responder certificate signed by the issuer, carrying the
// OCSPSigning extended key usage and valid at now. ParseResponseForCert has
// already checked the signature against the embedded certificate, if any.
func checkResponder(resp *ocsp.Response, issuer *x509.Certificate, now time.Time) error {
	r := resp.Certificate
	switch {
	case r == nil:
		if err := resp.CheckSignatureFrom(issuer); err != nil {
			return fmt.Errorf("not signed by the issuer: %v", err)
		}
	case r.Equal(issuer):
	default:
		if err := r.CheckSignatureFrom(issuer); err != nil {
			return fmt.Errorf("responder certificate %q not issued by the issuer: %v", r.Subject, err)
		}
		if !slices.Contains(r.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
			return fmt.Errorf("responder certificate %q lacks the OCSPSigning extended key usage", r.Subject)
		}
		if now.Before(r.NotBefore) || now.After(r.NotAfter) {
			return fmt.Errorf("responder certificate %q is not valid now", r.Subject)
		}
	}
	return nil
}
