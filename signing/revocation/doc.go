// Package revocation tells whether a certificate has been revoked, by OCSP
// (RFC 6960) and by CRLs (RFC 5280), from files and downloaded.
//
// Check asks, in order: the OCSP responders the certificate names (when
// Config.OCSP is set), the CRL files of Config.CRLFiles issued by the
// certificate's issuer, and the CRLs at the certificate's distribution points
// (when Config.FetchCRLs is set). The first authoritative answer, Good or
// Revoked, is returned with a nil error. When no source gives one, Check
// returns State Unknown and an error joining every source's reason, each
// wrapping one of the sentinels: ErrUnreachable, ErrBadResponse, ErrStale,
// ErrUnknownCert, and ErrNoSource when nothing at all could be asked.
//
// The package does not decide what Unknown means; the caller applies its
// policy. Hard-fail rejects every certificate not known to be Good.
// Soft-fail accepts Unknown when no source could be reached or asked (the
// error wraps ErrUnreachable or ErrNoSource only) and still rejects when it
// wraps ErrBadResponse (which may be an attack), ErrStale or ErrUnknownCert.
//
// Check fetches the URLs the certificate names, so call it only for
// certificates whose chain has already been verified.
//
// Every answer is verified: a CRL must carry the issuer's name, be signed by
// the issuer and cover the certificate (issuing distribution point scope);
// delta and indirect CRLs are not supported. An OCSP response must be signed
// by the issuer, or by a delegated responder certificate that the issuer
// signed, that carries the OCSPSigning extended key usage and that is valid
// now, and must answer for the certificate's serial. A source whose
// NextUpdate has passed, or whose ThisUpdate is more than MaxClockSkew ahead,
// is stale; a stale source's Revoked answer is still returned (a revocation
// is final), except for certificateHold.
//
// Downloaded CRLs are cached per URL until their NextUpdate, at most 24 h;
// Good and Revoked OCSP answers per (issuer key, serial) until their
// NextUpdate, at most 24 h (an answer without NextUpdate is not cached).
// The caches are bounded (64 CRLs, 65536 OCSP answers) and use Config.Now.
// Concurrent checks that need the same download share it. OCSP requests
// carry no nonce, so cached and pre-produced responses (RFC 5019) are
// accepted. Only http and https URLs are fetched, with a per-request timeout
// and a bound on the body size.
package revocation
