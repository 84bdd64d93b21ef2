package revocation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

// RFC 5280 CRLReason values that change the meaning of an entry.
const (
	reasonCertificateHold = 6
	reasonRemoveFromCRL   = 8
)

var (
	oidAuthorityKeyID   = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLNumber        = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRL         = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistPoint = asn1.ObjectIdentifier{2, 5, 29, 28}
)

// issuingDistributionPoint is the RFC 5280 §5.2.5 extension.
type issuingDistributionPoint struct {
	DistributionPoint          distributionPointName `asn1:"optional,tag:0"`
	OnlyContainsUserCerts      bool                  `asn1:"optional,tag:1"`
	OnlyContainsCACerts        bool                  `asn1:"optional,tag:2"`
	OnlySomeReasons            asn1.BitString        `asn1:"optional,tag:3"`
	IndirectCRL                bool                  `asn1:"optional,tag:4"`
	OnlyContainsAttributeCerts bool                  `asn1:"optional,tag:5"`
}

type distributionPointName struct {
	FullName     []asn1.RawValue  `asn1:"optional,tag:0"`
	RelativeName pkix.RDNSequence `asn1:"optional,tag:1"`
}

// crlEntry is a parsed CRL with its serial index. Everything but verified is
// immutable after newCRLEntry.
type crlEntry struct {
	source  string
	list    *x509.RevocationList
	revoked map[string]int // serialKey → index in list.RevokedCertificateEntries

	// Scope from the issuing distribution point extension.
	onlyUser, onlyCA bool
	dpURIs           []string

	mu       sync.Mutex
	verified map[[sha256.Size]byte]error // issuer certificate hash → CheckSignatureFrom result
}

// parseCRL parses a PEM ("X509 CRL") or DER CRL.
func parseCRL(data []byte) (*x509.RevocationList, error) {
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		block, _ := pem.Decode(trimmed)
		if block == nil {
			return nil, errors.New("malformed PEM")
		}
		if block.Type != "X509 CRL" {
			return nil, fmt.Errorf("PEM block %q, want X509 CRL", block.Type)
		}
		data = block.Bytes
	}
	return x509.ParseRevocationList(data)
}

// newCRLEntry indexes rl and reads its scope. It refuses CRLs whose critical
// extensions it cannot honour.
func newCRLEntry(source string, rl *x509.RevocationList) (*crlEntry, error) {
	e := &crlEntry{
		source:   source,
		list:     rl,
		revoked:  make(map[string]int, len(rl.RevokedCertificateEntries)),
		verified: map[[sha256.Size]byte]error{},
	}
	for _, ext := range rl.Extensions {
		switch {
		case ext.Id.Equal(oidAuthorityKeyID), ext.Id.Equal(oidCRLNumber):
		case ext.Id.Equal(oidDeltaCRL):
			return nil, errors.New("delta CRLs are not supported")
		case ext.Id.Equal(oidIssuingDistPoint):
			var idp issuingDistributionPoint
			if rest, err := asn1.Unmarshal(ext.Value, &idp); err != nil || len(rest) != 0 {
				return nil, fmt.Errorf("malformed issuing distribution point: %v", err)
			}
			switch {
			case idp.IndirectCRL:
				return nil, errors.New("indirect CRLs are not supported")
			case idp.OnlyContainsAttributeCerts:
				return nil, errors.New("attribute certificate CRLs are not supported")
			case idp.OnlySomeReasons.BitLength > 0:
				return nil, errors.New("CRLs partitioned by reason are not supported")
			case len(idp.DistributionPoint.RelativeName) > 0:
				return nil, errors.New("relative distribution point names are not supported")
			}
			e.onlyUser, e.onlyCA = idp.OnlyContainsUserCerts, idp.OnlyContainsCACerts
			for _, n := range idp.DistributionPoint.FullName {
				if n.Class == asn1.ClassContextSpecific && n.Tag == 6 { // uniformResourceIdentifier
					e.dpURIs = append(e.dpURIs, string(n.Bytes))
				}
			}
			if len(idp.DistributionPoint.FullName) > 0 && len(e.dpURIs) == 0 {
				return nil, errors.New("issuing distribution point names no URI")
			}
		case ext.Critical:
			return nil, fmt.Errorf("unsupported critical extension %v", ext.Id)
		}
	}
	for i, r := range rl.RevokedCertificateEntries {
		e.revoked[serialKey(r.SerialNumber)] = i
	}
	return e, nil
}

// loadCRLFile reads and indexes a CRL file.
func loadCRLFile(path string, limit int64) (*crlEntry, error) {
	source := "crl file " + path
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", source, limit)
	}
	rl, err := parseCRL(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	e, err := newCRLEntry(source, rl)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return e, nil
}

// covers reports whether the CRL is the issuer's and its scope includes
// cert. why explains a CRL of the issuer that does not cover cert; it is nil
// for a CRL of another issuer.
func (e *crlEntry) covers(cert, issuer *x509.Certificate) (ok bool, why error) {
	if !bytes.Equal(e.list.RawIssuer, issuer.RawSubject) {
		return false, nil
	}
	if len(e.list.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 && !bytes.Equal(e.list.AuthorityKeyId, issuer.SubjectKeyId) {
		// Same name, another key: a re-keyed issuer's other CRL.
		return false, nil
	}
	switch {
	case e.onlyUser && cert.IsCA:
		return false, errors.New("the CRL covers only end-entity certificates")
	case e.onlyCA && !cert.IsCA:
		return false, errors.New("the CRL covers only CA certificates")
	case len(e.dpURIs) > 0 && !slices.ContainsFunc(e.dpURIs, func(u string) bool { return slices.Contains(cert.CRLDistributionPoints, u) }):
		return false, fmt.Errorf("the CRL covers distribution point %q, which the certificate does not name", e.dpURIs)
	}
	return true, nil
}

// verify checks the CRL's signature with issuer's key, once per issuer.
func (e *crlEntry) verify(issuer *x509.Certificate) error {
	h := sha256.Sum256(issuer.Raw)
	e.mu.Lock()
	defer e.mu.Unlock()
	err, done := e.verified[h]
	if !done {
		err = e.list.CheckSignatureFrom(issuer)
		e.verified[h] = err
	}
	return err
}

// status answers for cert from a CRL that covers it (see covers).
func (e *crlEntry) status(cert, issuer *x509.Certificate, now time.Time) (Status, error) {
	if err := e.verify(issuer); err != nil {
		return Status{Source: e.source}, fmt.Errorf("%s: %w: not signed by the issuer: %v", e.source, ErrBadResponse, err)
	}
	st := Status{State: Good, Source: e.source, ThisUpdate: e.list.ThisUpdate, NextUpdate: e.list.NextUpdate}
	if i, ok := e.revoked[serialKey(cert.SerialNumber)]; ok {
		r := e.list.RevokedCertificateEntries[i]
		if r.ReasonCode != reasonRemoveFromCRL {
			st.State, st.RevokedAt, st.Reason = Revoked, r.RevocationTime, r.ReasonCode
		}
	}
	if err := fresh(e.list.ThisUpdate, e.list.NextUpdate, now); err != nil {
		if st.State == Revoked && st.Reason != reasonCertificateHold {
			return st, nil // a revocation is final, however old the CRL
		}
		return Status{Source: e.source}, fmt.Errorf("%s: %w", e.source, err)
	}
	return st, nil
}

// fetchedCRLStatus answers for cert from the CRL at rawURL, downloading it
// unless cached.
func (c *Checker) fetchedCRLStatus(ctx context.Context, rawURL string, cert, issuer *x509.Certificate, now time.Time) (Status, error) {
	source := "crl " + rawURL
	e, ok := c.crlCache.get(rawURL, now)
	if !ok {
		var err error
		e, err = c.crlFlight.do(ctx, rawURL, source, func(ctx context.Context) (*crlEntry, error) {
			return c.downloadCRL(ctx, rawURL, now)
		})
		if err != nil {
			return Status{Source: source}, err
		}
	}
	if !bytes.Equal(e.list.RawIssuer, issuer.RawSubject) {
		return Status{Source: source}, fmt.Errorf("%s: %w: issued by %q, not by %q", source, ErrBadResponse, e.list.Issuer, issuer.Subject)
	}
	ok, why := e.covers(cert, issuer)
	if !ok {
		if why == nil {
			why = errors.New("the CRL's authority key identifier is not the issuer's")
		}
		return Status{Source: source}, fmt.Errorf("%s: %w: %w", source, ErrBadResponse, why)
	}
	return e.status(cert, issuer, now)
}

// downloadCRL fetches, parses and caches the CRL at rawURL.
func (c *Checker) downloadCRL(ctx context.Context, rawURL string, now time.Time) (*crlEntry, error) {
	if e, ok := c.crlCache.get(rawURL, now); ok {
		return e, nil // a flight that just ended cached it
	}
	source := "crl " + rawURL
	body, err := c.fetch(ctx, http.MethodGet, rawURL, nil, "", c.cfg.MaxCRLBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	rl, err := parseCRL(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", source, ErrBadResponse, err)
	}
	e, err := newCRLEntry(source, rl)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", source, ErrBadResponse, err)
	}
	if until := cacheUntil(rl.NextUpdate, now, maxCacheTime); !until.IsZero() {
		c.crlCache.put(rawURL, e, until, now)
	}
	return e, nil
}

// serialKey is a map key for a serial number, negative ones included.
func serialKey(n *big.Int) string {
	if n.Sign() < 0 {
		return "-" + string(n.Bytes())
	}
	return string(n.Bytes())
}
