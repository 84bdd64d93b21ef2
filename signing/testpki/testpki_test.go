package testpki

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

var now = time.Date(2026, 3, 16, 9, 30, 0, 0, time.UTC)

const (
	testOCSPURL = "http://127.0.0.1:8888/ocsp"
	testCRLURL  = "http://127.0.0.1:8888/crl"
)

// fixture is one Set shared by the tests that only read it.
var fixture = sync.OnceValues(func() (*Set, error) { return NewSet(now, testOCSPURL, testCRLURL) })

func set(t *testing.T) *Set {
	t.Helper()
	s, err := fixture()
	if err != nil {
		t.Fatalf("NewSet: %v", err)
	}
	return s
}

func verify(l *Leaf, roots *x509.CertPool, intermediates []*x509.Certificate, at time.Time) ([][]*x509.Certificate, error) {
	pool := x509.NewCertPool()
	for _, c := range intermediates {
		pool.AddCert(c)
	}
	return l.Cert.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: pool,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
}

func TestSetChains(t *testing.T) {
	s := set(t)
	otherRoots := x509.NewCertPool()
	otherRoots.AddCert(s.OtherRoot.Cert)
	inter := []*x509.Certificate{s.Intermediate.Cert}
	for _, tc := range []struct {
		name  string
		leaf  *Leaf
		roots *x509.CertPool
		at    time.Time
		want  []*x509.Certificate // chain above the leaf; nil when verification must fail
		check func(error) bool
	}{
		{"agency", s.Agency, s.RootPool(), now, []*x509.Certificate{s.Intermediate.Cert, s.Root.Cert}, nil},
		{"agency2", s.Agency2, s.RootPool(), now, []*x509.Certificate{s.Intermediate.Cert, s.Root.Cert}, nil},
		// Revocation and key usage are not path validation's business.
		{"revoked", s.Revoked, s.RootPool(), now, []*x509.Certificate{s.Intermediate.Cert, s.Root.Cert}, nil},
		{"wrong usage", s.WrongUsage, s.RootPool(), now, []*x509.Certificate{s.Intermediate.Cert, s.Root.Cert}, nil},
		{"expired", s.Expired, s.RootPool(), now, nil, isInvalid(x509.Expired)},
		{"expired, a day earlier", s.Expired, s.RootPool(), now.Add(-25 * time.Hour), []*x509.Certificate{s.Intermediate.Cert, s.Root.Cert}, nil},
		{"not yet valid", s.NotYetValid, s.RootPool(), now, nil, isInvalid(x509.Expired)},
		{"not yet valid, two days later", s.NotYetValid, s.RootPool(), now.Add(48 * time.Hour), []*x509.Certificate{s.Intermediate.Cert, s.Root.Cert}, nil},
		{"foreign against root", s.Foreign, s.RootPool(), now, nil, isUnknownAuthority},
		{"foreign against other root", s.Foreign, otherRoots, now, []*x509.Certificate{s.OtherRoot.Cert}, nil},
		{"agency against other root", s.Agency, otherRoots, now, nil, isUnknownAuthority},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chains, err := verify(tc.leaf, tc.roots, inter, tc.at)
			if tc.want == nil {
				if err == nil || !tc.check(err) {
					t.Fatalf("Verify: err = %v, chains %d; want a failure of the expected kind", err, len(chains))
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if len(chains) != 1 {
				t.Fatalf("got %d chains, want 1", len(chains))
			}
			if !chains[0][0].Equal(tc.leaf.Cert) || !slices.EqualFunc(chains[0][1:], tc.want, (*x509.Certificate).Equal) {
				t.Fatalf("chain %v, want leaf then %v", names(chains[0]), names(tc.want))
			}
		})
	}
}

func isInvalid(reason x509.InvalidReason) func(error) bool {
	return func(err error) bool {
		var e x509.CertificateInvalidError
		return errors.As(err, &e) && e.Reason == reason
	}
}

func isUnknownAuthority(err error) bool {
	var e x509.UnknownAuthorityError
	return errors.As(err, &e)
}

func names(cs []*x509.Certificate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Subject.CommonName)
	}
	return out
}

func TestSetLeaves(t *testing.T) {
	s := set(t)
	leaves := map[string]*Leaf{
		"agency": s.Agency, "agency2": s.Agency2, "revoked": s.Revoked, "expired": s.Expired,
		"not-yet-valid": s.NotYetValid, "wrong-usage": s.WrongUsage, "foreign": s.Foreign,
	}
	serials := map[string]bool{}
	for name, l := range leaves {
		t.Run(name, func(t *testing.T) {
			if serials[l.Cert.SerialNumber.String()] {
				t.Error("serial reused")
			}
			serials[l.Cert.SerialNumber.String()] = true
			if l.Cert.IsCA || l.Key.N.BitLen() != DefaultBits {
				t.Errorf("IsCA %v, key %d bits", l.Cert.IsCA, l.Key.N.BitLen())
			}
			wantUsage := x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
			if l == s.WrongUsage {
				wantUsage = x509.KeyUsageKeyEncipherment
			}
			if l.Cert.KeyUsage != wantUsage {
				t.Errorf("KeyUsage %b, want %b", l.Cert.KeyUsage, wantUsage)
			}
			var wantOCSP, wantCRL []string
			var wantChain []*x509.Certificate
			if l != s.Foreign {
				wantOCSP, wantCRL = []string{testOCSPURL}, []string{testCRLURL}
				wantChain = []*x509.Certificate{s.Intermediate.Cert}
			}
			if !slices.Equal(l.Cert.OCSPServer, wantOCSP) || !slices.Equal(l.Cert.CRLDistributionPoints, wantCRL) {
				t.Errorf("OCSPServer %q, CRLDistributionPoints %q; want %q, %q", l.Cert.OCSPServer, l.Cert.CRLDistributionPoints, wantOCSP, wantCRL)
			}
			if !slices.EqualFunc(l.Chain, wantChain, (*x509.Certificate).Equal) {
				t.Errorf("Chain %v, want %v", names(l.Chain), names(wantChain))
			}
			checkLeafPEM(t, l)
		})
	}
	if got := s.Expired.Cert.NotAfter; !got.Equal(now.Add(-24 * time.Hour)) {
		t.Errorf("Expired.NotAfter = %v", got)
	}
	if got := s.NotYetValid.Cert.NotBefore; !got.Equal(now.Add(24 * time.Hour)) {
		t.Errorf("NotYetValid.NotBefore = %v", got)
	}
	if s.Agency.Cert.Subject.CommonName != "Văn phòng Chính phủ" {
		t.Errorf("Agency CN %q", s.Agency.Cert.Subject.CommonName)
	}
}

// checkLeafPEM checks that the PEM forms encode exactly l's certificate,
// key and chain.
func checkLeafPEM(t *testing.T, l *Leaf) {
	t.Helper()
	blocks := pemBlocks(t, l.CertPEM, "CERTIFICATE")
	if len(blocks) != 1 || !bytes.Equal(blocks[0], l.Cert.Raw) {
		t.Error("CertPEM is not the certificate")
	}
	k8 := pemBlocks(t, l.KeyPEM, "PRIVATE KEY")
	if len(k8) != 1 {
		t.Fatal("KeyPEM: want one PRIVATE KEY block")
	}
	key, err := x509.ParsePKCS8PrivateKey(k8[0])
	if err != nil || !l.Key.Equal(key) {
		t.Errorf("KeyPEM: %v / not the leaf key", err)
	}
	k1 := pemBlocks(t, l.KeyPKCS1PEM, "RSA PRIVATE KEY")
	if len(k1) != 1 {
		t.Fatal("KeyPKCS1PEM: want one RSA PRIVATE KEY block")
	}
	if key, err := x509.ParsePKCS1PrivateKey(k1[0]); err != nil || !l.Key.Equal(key) {
		t.Errorf("KeyPKCS1PEM: %v / not the leaf key", err)
	}
	if !l.Key.PublicKey.Equal(l.Cert.PublicKey) {
		t.Error("Key does not match the certificate")
	}
	chain := pemBlocks(t, l.ChainPEM, "CERTIFICATE")
	want := [][]byte{l.Cert.Raw}
	for _, c := range l.Chain {
		want = append(want, c.Raw)
	}
	if !slices.EqualFunc(chain, want, bytes.Equal) {
		t.Errorf("ChainPEM has %d certificates, not the leaf then its %d intermediates", len(chain), len(l.Chain))
	}
}

func pemBlocks(t *testing.T, data []byte, typ string) [][]byte {
	t.Helper()
	var out [][]byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != typ {
			t.Errorf("PEM block %q, want %q", b.Type, typ)
		}
		out = append(out, b.Bytes)
	}
	if len(bytes.TrimSpace(data)) != 0 {
		t.Errorf("trailing data after PEM blocks: %q", data)
	}
	return out
}

func TestNewSetWithoutURLs(t *testing.T) {
	s, err := NewSet(now, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []*Leaf{s.Agency, s.Revoked, s.Foreign} {
		if len(l.Cert.OCSPServer) != 0 || len(l.Cert.CRLDistributionPoints) != 0 {
			t.Errorf("%s: OCSPServer %q, CRLDistributionPoints %q; want none", l.Cert.Subject.CommonName, l.Cert.OCSPServer, l.Cert.CRLDistributionPoints)
		}
	}
	if _, err := verify(s.Agency, s.RootPool(), []*x509.Certificate{s.Intermediate.Cert}, now); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestIssue(t *testing.T) {
	root, err := NewRoot("Issue test root", now)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("Issue test CA 1", now)
	if err != nil {
		t.Fatal(err)
	}
	inter2, err := inter.NewIntermediate("Issue test CA 2", now)
	if err != nil {
		t.Fatal(err)
	}
	if !root.Issued(inter.Cert.SerialNumber) || !inter.Issued(inter2.Cert.SerialNumber) || root.Issued(inter2.Cert.SerialNumber) {
		t.Error("Issued does not record the intermediates where they belong")
	}
	subject := pkix.Name{Country: []string{"VN"}, Province: []string{"Hà Nội"}, Organization: []string{"Bộ Nội vụ"}, CommonName: "Văn thư Bộ Nội vụ"}
	for _, tc := range []struct {
		name      string
		ca        *Authority
		opts      LeafOptions
		wantChain []*x509.Certificate
		check     func(*testing.T, *Leaf)
	}{
		{"defaults from root", root, LeafOptions{CommonName: "a", Bits: 1024}, nil, func(t *testing.T, l *Leaf) {
			if l.Cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
				t.Errorf("KeyUsage %b", l.Cert.KeyUsage)
			}
			if !l.Cert.NotBefore.Equal(root.Cert.NotBefore) || !l.Cert.NotAfter.Equal(root.Cert.NotAfter) {
				t.Errorf("validity %v – %v, want the root's", l.Cert.NotBefore, l.Cert.NotAfter)
			}
			if l.Key.N.BitLen() != 1024 {
				t.Errorf("key %d bits", l.Key.N.BitLen())
			}
			if l.Cert.Subject.CommonName != "a" || len(l.Cert.Subject.Organization) != 0 {
				t.Errorf("subject %v", l.Cert.Subject)
			}
		}},
		{"subject overrides", inter2, LeafOptions{CommonName: "ignored", Organization: "ignored", Subject: subject, Bits: 1024}, []*x509.Certificate{inter2.Cert, inter.Cert}, func(t *testing.T, l *Leaf) {
			if l.Cert.Subject.String() != subject.String() {
				t.Errorf("subject %q, want %q", l.Cert.Subject, subject)
			}
		}},
		{"everything set", inter, LeafOptions{
			CommonName: "tls", Organization: "edocgw", NotBefore: now, NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			OCSPServer: []string{"http://o"}, CRLDistributionPoints: []string{"http://c"},
			DNSNames: []string{"localhost"}, Bits: 1024,
		}, []*x509.Certificate{inter.Cert}, func(t *testing.T, l *Leaf) {
			c := l.Cert
			if !c.NotBefore.Equal(now) || !c.NotAfter.Equal(now.Add(time.Hour)) || c.KeyUsage != x509.KeyUsageDigitalSignature ||
				!slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) || !slices.Equal(c.OCSPServer, []string{"http://o"}) ||
				!slices.Equal(c.CRLDistributionPoints, []string{"http://c"}) || !slices.Equal(c.DNSNames, []string{"localhost"}) {
				t.Errorf("certificate does not carry the options: %+v", c)
			}
			if err := c.VerifyHostname("localhost"); err != nil {
				t.Error(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := tc.ca.Issue(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.ca.Issued(l.Cert.SerialNumber) {
				t.Error("Issued = false for the new leaf")
			}
			if err := l.Cert.CheckSignatureFrom(tc.ca.Cert); err != nil {
				t.Errorf("not signed by the authority: %v", err)
			}
			if !slices.EqualFunc(l.Chain, tc.wantChain, (*x509.Certificate).Equal) {
				t.Errorf("Chain %v, want %v", names(l.Chain), names(tc.wantChain))
			}
			roots := x509.NewCertPool()
			roots.AddCert(root.Cert)
			if _, err := verify(l, roots, l.Chain, l.Cert.NotBefore.Add(time.Minute)); err != nil {
				t.Errorf("Verify: %v", err)
			}
			checkLeafPEM(t, l)
			tc.check(t, l)
		})
	}

	t.Run("NotAfter before NotBefore", func(t *testing.T) {
		_, err := root.Issue(LeafOptions{CommonName: "x", NotBefore: now, NotAfter: now.Add(-time.Second), Bits: 1024})
		if !errors.Is(err, ErrOptions) {
			t.Fatalf("err = %v, want ErrOptions", err)
		}
	})
}

func TestCRL(t *testing.T) {
	s := set(t)
	first, err := s.Intermediate.CRL(now, now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Intermediate.CRL(now.Add(time.Hour), now.Add(25*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	crl1, err := x509.ParseRevocationList(first)
	if err != nil {
		t.Fatal(err)
	}
	crl2, err := x509.ParseRevocationList(second)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl1.CheckSignatureFrom(s.Intermediate.Cert); err != nil {
		t.Errorf("CRL not signed by the intermediate: %v", err)
	}
	if err := crl1.CheckSignatureFrom(s.Root.Cert); err == nil {
		t.Error("CRL verifies with the root's key")
	}
	if !bytes.Equal(crl1.RawIssuer, s.Intermediate.Cert.RawSubject) {
		t.Error("CRL issuer is not the intermediate's subject")
	}
	if crl2.Number.Cmp(new(big.Int).Add(crl1.Number, big.NewInt(1))) != 0 {
		t.Errorf("CRL numbers %v then %v, want consecutive", crl1.Number, crl2.Number)
	}
	if !crl1.ThisUpdate.Equal(now) || !crl1.NextUpdate.Equal(now.Add(24*time.Hour)) || !crl2.ThisUpdate.Equal(now.Add(time.Hour)) {
		t.Errorf("ThisUpdate %v NextUpdate %v / ThisUpdate %v", crl1.ThisUpdate, crl1.NextUpdate, crl2.ThisUpdate)
	}
	if len(crl1.RevokedCertificateEntries) != 1 {
		t.Fatalf("%d entries, want 1", len(crl1.RevokedCertificateEntries))
	}
	e := crl1.RevokedCertificateEntries[0]
	if e.SerialNumber.Cmp(s.Revoked.Cert.SerialNumber) != 0 || !e.RevocationTime.Equal(now.Add(-time.Hour)) || e.ReasonCode != ocsp.KeyCompromise {
		t.Errorf("entry %v at %v reason %d; want the revoked leaf at now-1h, keyCompromise", e.SerialNumber, e.RevocationTime, e.ReasonCode)
	}
	root, err := s.Root.CRL(now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rl, err := x509.ParseRevocationList(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(rl.RevokedCertificateEntries) != 0 {
		t.Errorf("root CRL lists %d entries, want none", len(rl.RevokedCertificateEntries))
	}
}

// TestRevokeSorted checks that CRL entries come sorted by serial and that a
// second Revoke of a serial replaces the first.
func TestRevokeSorted(t *testing.T) {
	ca, err := NewRoot("Revoke test", now)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{30, 10, 20} {
		ca.Revoke(big.NewInt(n), now, ocsp.Superseded)
	}
	ca.Revoke(big.NewInt(20), now.Add(time.Minute), ocsp.CessationOfOperation)
	der, err := ca.CRL(now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, e := range rl.RevokedCertificateEntries {
		got = append(got, e.SerialNumber.Int64())
		if e.SerialNumber.Int64() == 20 && (e.ReasonCode != ocsp.CessationOfOperation || !e.RevocationTime.Equal(now.Add(time.Minute))) {
			t.Errorf("serial 20: reason %d at %v, want the second revocation", e.ReasonCode, e.RevocationTime)
		}
	}
	if !slices.Equal(got, []int64{10, 20, 30}) {
		t.Errorf("serials %v, want [10 20 30]", got)
	}
}

func TestOCSPResponder(t *testing.T) {
	s := set(t)
	clock := now.Add(10 * time.Minute)
	srv := httptest.NewServer(http.StripPrefix("/ocsp", s.Intermediate.OCSPResponder(func() time.Time { return clock })))
	defer srv.Close()

	neverIssued := &x509.Certificate{SerialNumber: big.NewInt(424242)}
	for _, tc := range []struct {
		name       string
		cert       *x509.Certificate
		issuer     *x509.Certificate
		get        bool
		wantStatus int
	}{
		{"good POST", s.Agency.Cert, s.Intermediate.Cert, false, ocsp.Good},
		{"good GET", s.Agency2.Cert, s.Intermediate.Cert, true, ocsp.Good},
		{"expired still good", s.Expired.Cert, s.Intermediate.Cert, false, ocsp.Good},
		{"revoked POST", s.Revoked.Cert, s.Intermediate.Cert, false, ocsp.Revoked},
		{"revoked GET", s.Revoked.Cert, s.Intermediate.Cert, true, ocsp.Revoked},
		{"never issued", neverIssued, s.Intermediate.Cert, false, ocsp.Unknown},
		{"never issued GET", neverIssued, s.Intermediate.Cert, true, ocsp.Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Intermediate.OCSPRequests()
			body := ocspExchange(t, srv.URL+"/ocsp", tc.cert, tc.issuer, tc.get)
			if got := s.Intermediate.OCSPRequests(); got != before+1 {
				t.Errorf("OCSPRequests %d → %d, want +1", before, got)
			}
			resp, err := ocsp.ParseResponseForCert(body, tc.cert, tc.issuer)
			if err != nil {
				t.Fatalf("ParseResponseForCert: %v", err)
			}
			if resp.Status != tc.wantStatus || resp.SerialNumber.Cmp(tc.cert.SerialNumber) != 0 {
				t.Fatalf("status %d serial %v, want %d %v", resp.Status, resp.SerialNumber, tc.wantStatus, tc.cert.SerialNumber)
			}
			if !resp.ThisUpdate.Equal(clock) || !resp.NextUpdate.Equal(clock.Add(OCSPValidity)) {
				t.Errorf("ThisUpdate %v NextUpdate %v, want %v and +1h", resp.ThisUpdate, resp.NextUpdate, clock)
			}
			if tc.wantStatus == ocsp.Revoked && (!resp.RevokedAt.Equal(now.Add(-time.Hour)) || resp.RevocationReason != ocsp.KeyCompromise) {
				t.Errorf("revoked at %v reason %d, want now-1h keyCompromise", resp.RevokedAt, resp.RevocationReason)
			}
			if resp.Certificate != nil {
				t.Error("self-signed response embeds a certificate")
			}
		})
	}

	t.Run("another issuer", func(t *testing.T) {
		body := ocspExchange(t, srv.URL+"/ocsp", s.Foreign.Cert, s.OtherRoot.Cert, false)
		_, err := ocsp.ParseResponse(body, nil)
		if re := (ocsp.ResponseError{}); !errors.As(err, &re) || re.Status != ocsp.Unauthorized {
			t.Fatalf("err = %v, want unauthorized", err)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		for _, req := range []*http.Request{
			httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte("not DER"))),
			httptest.NewRequest(http.MethodGet, "/bm90IERFUg==", nil),
			httptest.NewRequest(http.MethodGet, "/", nil),
		} {
			rec := httptest.NewRecorder()
			s.Intermediate.OCSPResponder(func() time.Time { return now }).ServeHTTP(rec, req)
			_, err := ocsp.ParseResponse(rec.Body.Bytes(), nil)
			if re := (ocsp.ResponseError{}); !errors.As(err, &re) || re.Status != ocsp.Malformed {
				t.Errorf("%s %s: err = %v, want malformedRequest", req.Method, req.URL, err)
			}
		}
	})
	t.Run("method", func(t *testing.T) {
		rec := httptest.NewRecorder()
		s.Intermediate.OCSPResponder(time.Now).ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("PUT: status %d", rec.Code)
		}
	})
}

// ocspExchange sends an OCSP request for cert by POST or GET and returns the
// response body.
func ocspExchange(t *testing.T, url string, cert, issuer *x509.Certificate, get bool) []byte {
	t.Helper()
	der, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	var resp *http.Response
	if get {
		resp, err = http.Get(url + "/" + base64.StdEncoding.EncodeToString(der))
	} else {
		resp, err = http.Post(url, "application/ocsp-request", bytes.NewReader(der))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return body
}

func TestOCSPResponderSignedBy(t *testing.T) {
	s := set(t)
	signer, err := s.Intermediate.Issue(LeafOptions{
		CommonName:  "edocgw Test OCSP Responder",
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		Bits:        1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Intermediate.OCSPResponderSignedBy(signer, func() time.Time { return now }))
	defer srv.Close()
	body := ocspExchange(t, srv.URL, s.Revoked.Cert, s.Intermediate.Cert, false)
	resp, err := ocsp.ParseResponseForCert(body, s.Revoked.Cert, s.Intermediate.Cert)
	if err != nil {
		t.Fatalf("ParseResponseForCert: %v", err)
	}
	if resp.Status != ocsp.Revoked || resp.Certificate == nil || !resp.Certificate.Equal(signer.Cert) {
		t.Fatalf("status %d, embedded certificate %v; want revoked signed by the delegate", resp.Status, resp.Certificate)
	}
	if err := resp.CheckSignatureFrom(s.Intermediate.Cert); err == nil {
		t.Error("delegated response verifies with the issuer's own key")
	}
}

func TestWriteFiles(t *testing.T) {
	s := set(t)
	dir := filepath.Join(t.TempDir(), "pki")
	f, err := s.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("dir: %v %v", info.Mode(), err)
	}
	certs := map[string][]byte{f.Root: s.Root.Cert.Raw, f.Intermediate: s.Intermediate.Cert.Raw, f.OtherRoot: s.OtherRoot.Cert.Raw}
	for _, lf := range []struct {
		files LeafFiles
		leaf  *Leaf
	}{
		{f.Agency, s.Agency}, {f.Agency2, s.Agency2}, {f.Revoked, s.Revoked}, {f.Expired, s.Expired},
		{f.NotYetValid, s.NotYetValid}, {f.WrongUsage, s.WrongUsage}, {f.Foreign, s.Foreign},
	} {
		l := &Leaf{Cert: lf.leaf.Cert, Key: lf.leaf.Key, Chain: lf.leaf.Chain}
		l.CertPEM, l.KeyPEM = readFile(t, lf.files.Cert, 0o644), readFile(t, lf.files.Key, 0o600)
		l.KeyPKCS1PEM, l.ChainPEM = readFile(t, lf.files.KeyPKCS1, 0o600), readFile(t, lf.files.Chain, 0o644)
		checkLeafPEM(t, l)
		if filepath.Dir(lf.files.Cert) != dir {
			t.Errorf("%s not in %s", lf.files.Cert, dir)
		}
	}
	if filepath.Base(f.Agency.Key) != "agency-key.pem" || filepath.Base(f.NotYetValid.KeyPKCS1) != "not-yet-valid-key-pkcs1.pem" {
		t.Errorf("file names %s, %s", f.Agency.Key, f.NotYetValid.KeyPKCS1)
	}
	for path, raw := range certs {
		if b := pemBlocks(t, readFile(t, path, 0o644), "CERTIFICATE"); len(b) != 1 || !bytes.Equal(b[0], raw) {
			t.Errorf("%s: not the certificate", path)
		}
	}
	der := readFile(t, f.CRLDER, 0o644)
	if b := pemBlocks(t, readFile(t, f.CRLPEM, 0o644), "X509 CRL"); len(b) != 1 || !bytes.Equal(b[0], der) {
		t.Error("crl.pem is not crl.der")
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.CheckSignatureFrom(s.Intermediate.Cert); err != nil || len(rl.RevokedCertificateEntries) != 1 ||
		rl.RevokedCertificateEntries[0].SerialNumber.Cmp(s.Revoked.Cert.SerialNumber) != 0 || !rl.NextUpdate.Equal(now.Add(24*time.Hour)) {
		t.Errorf("crl.der: %v, entries %d, NextUpdate %v", err, len(rl.RevokedCertificateEntries), rl.NextUpdate)
	}

	// Rewriting over files with wider permissions narrows them again.
	if err := os.Chmod(f.Agency.Key, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	readFile(t, f.Agency.Key, 0o600)
}

func readFile(t *testing.T, path string, mode os.FileMode) []byte {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != mode {
		t.Errorf("%s: mode %v, want %v", path, info.Mode().Perm(), mode)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
