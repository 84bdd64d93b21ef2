package revocation

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// The reasons Check gives for not answering. Each error it returns wraps one
// or more of them, joined with errors.Join.
var (
	// ErrUnreachable: a network error, a timeout, an HTTP status other than
	// 200, or an OCSP tryLater/internalError answer.
	ErrUnreachable = errors.New("source unreachable")
	// ErrBadResponse: a CRL or OCSP response that does not parse, is not
	// signed by the issuer (or its delegated responder), names another
	// issuer or serial, does not cover the certificate, is too large, or
	// is an OCSP error other than tryLater/internalError.
	ErrBadResponse = errors.New("bad response")
	// ErrStale: a CRL or OCSP response whose NextUpdate has passed, or whose
	// ThisUpdate is more than MaxClockSkew in the future.
	ErrStale = errors.New("stale response")
	// ErrUnknownCert: an OCSP responder answered "unknown".
	ErrUnknownCert = errors.New("responder does not know the certificate")
	// ErrNoSource: no source could be asked (none configured, none named by
	// the certificate, or only unsupported URL schemes).
	ErrNoSource = errors.New("no revocation source could be asked")
	// ErrNotIssuer: Check was given an issuer that did not sign the
	// certificate.
	ErrNotIssuer = errors.New("issuer did not sign the certificate")
)

// MaxClockSkew is how far in the future a ThisUpdate may lie.
const MaxClockSkew = 5 * time.Minute

// maxCacheTime bounds how long any answer is cached.
const maxCacheTime = 24 * time.Hour

// Defaults of Config.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultMaxCRLBytes  = 32 << 20
	DefaultMaxOCSPBytes = 1 << 20
)

// State is a certificate's revocation state. The zero value is Unknown.
type State int

const (
	Unknown State = iota
	Good
	Revoked
)

func (s State) String() string {
	switch s {
	case Unknown:
		return "unknown"
	case Good:
		return "good"
	case Revoked:
		return "revoked"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Status is the answer of one source.
type Status struct {
	State State
	// Source names what answered: "ocsp URL", "crl file PATH" or "crl URL".
	Source string
	// RevokedAt and Reason (RFC 5280 CRLReason; 0 also when absent) are set
	// when State is Revoked.
	RevokedAt time.Time
	Reason    int
	// ThisUpdate and NextUpdate are the source's; NextUpdate may be zero.
	ThisUpdate, NextUpdate time.Time
}

// Config configures a Checker. The zero value asks nothing.
type Config struct {
	// CRLFiles are CRLs in PEM ("X509 CRL") or DER, loaded once by New.
	CRLFiles []string
	// FetchCRLs downloads the CRLs at the certificate's distribution points.
	FetchCRLs bool
	// OCSP asks the OCSP responders the certificate names.
	OCSP bool
	// HTTPClient makes the requests; default a client with
	// http.DefaultTransport.
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Timeout bounds each request; default DefaultTimeout.
	Timeout time.Duration
	// MaxCRLBytes bounds a CRL (downloaded or file); default
	// DefaultMaxCRLBytes.
	MaxCRLBytes int64
	// MaxOCSPBytes bounds an OCSP response; default DefaultMaxOCSPBytes.
	MaxOCSPBytes int64
}

// Checker checks certificates against the sources of its Config. It is safe
// for concurrent use.
type Checker struct {
	cfg   Config
	files []*crlEntry

	crlCache   *ttlCache[*crlEntry]
	ocspCache  *ttlCache[Status]
	crlFlight  flight[*crlEntry]
	ocspFlight flight[Status]
}

// Cache sizes: CRLs can be large, OCSP answers are small.
const (
	maxCachedCRLs  = 64
	maxCachedOCSPs = 1 << 16
)

// New returns a Checker for cfg. It reads and parses every CRL file; one that
// cannot be read, does not parse, exceeds MaxCRLBytes or uses an unsupported
// critical extension (delta, indirect or reason-partitioned CRLs) is an
// error.
func New(cfg Config) (*Checker, error) {
	if cfg.Timeout < 0 || cfg.MaxCRLBytes < 0 || cfg.MaxOCSPBytes < 0 {
		return nil, errors.New("revocation: negative Timeout, MaxCRLBytes or MaxOCSPBytes")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxCRLBytes == 0 {
		cfg.MaxCRLBytes = DefaultMaxCRLBytes
	}
	if cfg.MaxOCSPBytes == 0 {
		cfg.MaxOCSPBytes = DefaultMaxOCSPBytes
	}
	cfg.CRLFiles = append([]string(nil), cfg.CRLFiles...)
	c := &Checker{
		cfg:       cfg,
		crlCache:  newTTLCache[*crlEntry](maxCachedCRLs),
		ocspCache: newTTLCache[Status](maxCachedOCSPs),
	}
	for _, path := range cfg.CRLFiles {
		e, err := loadCRLFile(path, cfg.MaxCRLBytes)
		if err != nil {
			return nil, fmt.Errorf("revocation: %w", err)
		}
		c.files = append(c.files, e)
	}
	return c, nil
}

// Check returns the revocation state of cert, which issuer must have signed.
// See the package documentation for the order of sources and the errors.
// A nil error means State is Good or Revoked. Once ctx is done no request is
// started, but CRL files and cached answers are still consulted.
func (c *Checker) Check(ctx context.Context, cert, issuer *x509.Certificate) (Status, error) {
	if cert == nil || issuer == nil {
		return Status{}, errors.New("revocation: nil certificate or issuer")
	}
	if err := cert.CheckSignatureFrom(issuer); err != nil {
		return Status{}, fmt.Errorf("revocation: %w: %w", ErrNotIssuer, err)
	}
	now := c.cfg.Now()
	var (
		reasons []error
		asked   bool
		answer  Status
	)
	// try records one source's answer and reports whether it is final.
	try := func(st Status, err error) bool {
		asked = true
		if err == nil && st.State != Unknown {
			answer = st
			return true
		}
		if err == nil {
			err = fmt.Errorf("%s: %w", st.Source, ErrUnknownCert)
		}
		reasons = append(reasons, err)
		return false
	}
	unknown := func() (Status, error) {
		if !asked {
			reasons = append([]error{ErrNoSource}, reasons...)
		}
		return Status{State: Unknown}, fmt.Errorf("revocation: %w", errors.Join(reasons...))
	}

	if c.cfg.OCSP {
		key := ocspCacheKey(cert, issuer)
		if st, ok := c.ocspCache.get(key, now); ok {
			return st, nil
		}
		if len(cert.OCSPServer) == 0 {
			reasons = append(reasons, errors.New("ocsp: the certificate names no responder"))
		}
		for _, u := range cert.OCSPServer {
			if err := fetchable(u); err != nil {
				reasons = append(reasons, fmt.Errorf("ocsp %s: skipped: %w", u, err))
				continue
			}
			if try(c.queryOCSP(ctx, u, key, cert, issuer, now)) {
				return answer, nil
			}
		}
	}

	for _, e := range c.files {
		ok, why := e.covers(cert, issuer)
		if why != nil {
			reasons = append(reasons, fmt.Errorf("%s: skipped: %w", e.source, why))
		}
		if ok && try(e.status(cert, issuer, now)) {
			return answer, nil
		}
	}

	if c.cfg.FetchCRLs {
		if len(cert.CRLDistributionPoints) == 0 {
			reasons = append(reasons, errors.New("crl: the certificate names no distribution point"))
		}
		for _, u := range cert.CRLDistributionPoints {
			if err := fetchable(u); err != nil {
				reasons = append(reasons, fmt.Errorf("crl %s: skipped: %w", u, err))
				continue
			}
			if try(c.fetchedCRLStatus(ctx, u, cert, issuer, now)) {
				return answer, nil
			}
		}
	}
	return unknown()
}

// fetchable accepts absolute http and https URLs.
func fetchable(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("only http and https URLs are fetched, not %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("URL has no host")
	}
	return nil
}

// fresh checks a source's validity window at now.
func fresh(thisUpdate, nextUpdate, now time.Time) error {
	if thisUpdate.After(now.Add(MaxClockSkew)) {
		return fmt.Errorf("%w: ThisUpdate %s is in the future", ErrStale, thisUpdate.UTC().Format(time.RFC3339))
	}
	if !nextUpdate.IsZero() && now.After(nextUpdate) {
		return fmt.Errorf("%w: NextUpdate %s has passed", ErrStale, nextUpdate.UTC().Format(time.RFC3339))
	}
	return nil
}

// cacheUntil is when an answer valid until nextUpdate leaves the cache; zero
// means do not cache.
func cacheUntil(nextUpdate, now time.Time, noNextUpdate time.Duration) time.Time {
	limit := now.Add(maxCacheTime)
	switch {
	case nextUpdate.IsZero():
		if noNextUpdate == 0 {
			return time.Time{}
		}
		return now.Add(noNextUpdate)
	case !nextUpdate.After(now):
		return time.Time{}
	case nextUpdate.After(limit):
		return limit
	}
	return nextUpdate
}

// ocspCacheKey identifies (issuer key, serial).
func ocspCacheKey(cert, issuer *x509.Certificate) string {
	h := sha256.Sum256(issuer.RawSubjectPublicKeyInfo)
	return string(h[:]) + serialKey(cert.SerialNumber)
}
