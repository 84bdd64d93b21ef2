// Package testpki makes a throwaway RSA PKI for tests, benchmarks and CLI
// tests: a root, intermediates, end-entity (agency) certificates, CRLs and an
// OCSP responder, all generated at run time. No key material is ever checked
// in.
//
// An Authority records what it issued and revoked, so its CRL and its OCSP
// responder (RFC 6960, POST and GET, signed by the authority or by a
// delegated responder) answer from the same state. NewSet builds
// the usual fixture in one call: root → intermediate → agency leaves plus the
// bad cases (revoked, expired, not yet valid, wrong key usage) and a foreign
// root with its own leaf. WriteFiles puts a Set on disk as PEM files for tools
// such as xmlsec1.
//
// Everything takes its time from the caller ("now"), never from the clock,
// so fixtures are reproducible relative to an injected time. The package
// does not import testing: it is used by non-test code too.
package testpki
