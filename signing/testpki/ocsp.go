package testpki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// maxOCSPRequest bounds a request body; real requests are about 100 bytes.
const maxOCSPRequest = 64 << 10

// OCSPValidity is the NextUpdate − ThisUpdate of every response.
const OCSPValidity = time.Hour

// OCSPResponder returns an RFC 6960 responder for the certificates a issued,
// signed by a itself. It takes requests by POST (body) and GET (base64 DER as
// the last path segments, under any prefix). It answers good for a serial a
// issued, revoked (time and reason) for one revoked, and unknown otherwise;
// ThisUpdate is now() and NextUpdate now()+OCSPValidity. A request naming
// another issuer gets "unauthorized", an unparsable one "malformedRequest".
// Every request counts in OCSPRequests.
func (a *Authority) OCSPResponder(now func() time.Time) http.Handler {
	return &responder{a: a, signer: a.Cert, key: a.Key, now: now}
}

// OCSPResponderSignedBy is OCSPResponder with responses signed by a delegated
// responder (RFC 6960 §4.2.2.2) whose certificate is embedded in each
// response. signer is used as given, so tests can also try a signer without
// the OCSPSigning extended key usage or from another authority.
func (a *Authority) OCSPResponderSignedBy(signer *Leaf, now func() time.Time) http.Handler {
	return &responder{a: a, signer: signer.Cert, key: signer.Key, embed: true, now: now}
}

// OCSPRequests returns how many requests a's responders have received.
func (a *Authority) OCSPRequests() int { return int(a.ocspRequests.Load()) }

type responder struct {
	a      *Authority
	signer *x509.Certificate
	key    crypto.Signer
	embed  bool
	now    func() time.Time
}

func (h *responder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.a.ocspRequests.Add(1)
	var req *ocsp.Request
	switch r.Method {
	case http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, maxOCSPRequest))
		if err != nil {
			http.Error(w, "reading request", http.StatusBadRequest)
			return
		}
		req, _ = ocsp.ParseRequest(body)
	case http.MethodGet:
		req = requestFromPath(r.URL.Path)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	if req == nil {
		_, _ = w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	if !h.a.isIssuerOf(req) {
		_, _ = w.Write(ocsp.UnauthorizedErrorResponse)
		return
	}
	now := h.now()
	tmpl := ocsp.Response{
		Status:       ocsp.Unknown,
		SerialNumber: req.SerialNumber,
		ThisUpdate:   now,
		NextUpdate:   now.Add(OCSPValidity),
		IssuerHash:   req.HashAlgorithm,
	}
	h.a.mu.Lock()
	rev, revoked := h.a.revoked[req.SerialNumber.String()]
	_, issued := h.a.issued[req.SerialNumber.String()]
	h.a.mu.Unlock()
	switch {
	case revoked:
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = rev.at
		tmpl.RevocationReason = rev.reason
	case issued:
		tmpl.Status = ocsp.Good
	}
	if h.embed {
		tmpl.Certificate = h.signer
	}
	resp, err := ocsp.CreateResponse(h.a.Cert, h.signer, tmpl, h.key)
	if err != nil {
		_, _ = w.Write(ocsp.InternalErrorErrorResponse)
		return
	}
	_, _ = w.Write(resp)
}

// requestFromPath finds the base64 request in a GET path. Base64 may itself
// contain '/', so it tries every suffix that starts after a '/'.
func requestFromPath(path string) *ocsp.Request {
	for p := path; ; {
		if p != "" {
			if der, err := base64.StdEncoding.DecodeString(p); err == nil {
				if req, err := ocsp.ParseRequest(der); err == nil {
					return req
				}
			}
		}
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return nil
		}
		p = p[i+1:]
	}
}

// isIssuerOf reports whether req's CertID names a (issuer name and key
// hashes, RFC 6960 §4.1.1).
func (a *Authority) isIssuerOf(req *ocsp.Request) bool {
	if !req.HashAlgorithm.Available() {
		return false
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(a.Cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return false
	}
	h := req.HashAlgorithm.New()
	h.Write(spki.PublicKey.RightAlign())
	keyHash := h.Sum(nil)
	h.Reset()
	h.Write(a.Cert.RawSubject)
	return bytes.Equal(keyHash, req.IssuerKeyHash) && bytes.Equal(h.Sum(nil), req.IssuerNameHash)
}
