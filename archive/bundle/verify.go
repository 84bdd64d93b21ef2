package bundle

import (
	"archive/zip"
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/edocgw/edocgw/archive"
)

// Report is what a verified bundle proves.
type Report struct {
	DocumentID string
	Digest     archive.Digest // SHA-256 of the original
	Size       int64
	CreatedAt  time.Time // when the hub wrote the bundle

	// HubCert verified the bundle. SelfAsserted is true when the caller
	// gave no certificate and the bundle's own was used: the bundle is
	// intact and consistent, but that does not show who made it; compare
	// HubCertSHA256 with the hub's published fingerprint.
	HubCert       *x509.Certificate
	HubCertSHA256 archive.Digest
	SelfAsserted  bool

	Events      int       // audit events verified, in all segments
	Checkpoints int       // signed checkpoints verified, one per segment
	FirstSeq    int64     // the first event of the first segment
	LastSeq     int64     // the last checkpoint
	From, To    time.Time // the earliest and latest of the events' times

	DocumentEvents []EventSummary // the document's own events, in chain order
	Files          []FileInfo     // the entries the manifest lists
}

// Bundle is a verified bundle, open for reading its parts.
type Bundle struct {
	report       Report
	files        map[string]*zip.File
	manifest     *manifest
	signed       [2][]byte // manifest.json and manifest.sig as verified
	verification json.RawMessage
	trace        json.RawMessage
}

// Verify checks a bundle offline against hubCert (see the package
// documentation for the checks). Trust comes from the caller, never from
// the bundle: with a nil hubCert the bundle's own certificate is used and
// the report says so (SelfAsserted). Every failure found is returned as
// [Problems].
func Verify(r io.ReaderAt, size int64, hubCert *x509.Certificate) (*Report, error) {
	b, err := Open(r, size, hubCert)
	if err != nil {
		return nil, err
	}
	return b.Report(), nil
}

// Open verifies the bundle as [Verify] does and returns it for reading its
// parts (for display or extraction). r must stay readable while the Bundle
// is used; what is read from it again is checked again.
func Open(r io.ReaderAt, size int64, hubCert *x509.Certificate) (*Bundle, error) {
	c, e := openContainer(r, size)
	if e != nil {
		return nil, Problems{e}
	}
	v := &verifier{c: c}
	b, e := v.trust(hubCert)
	if e != nil {
		return nil, Problems{e}
	}
	v.parts(b)
	if len(v.problems) > 0 {
		return nil, v.problems
	}
	return b, nil
}

type verifier struct {
	c        *container
	problems Problems
	pub      *rsa.PublicKey
	m        *manifest
	crcBad   []string // entries read before trust whose CRC-32 disagrees
}

func (v *verifier) fail(file string, kind error, format string, args ...any) {
	v.problems = append(v.problems, zipErr(file, kind, format, args...))
}

// trust is step 2: it authenticates manifest.json with the caller's
// certificate (or the bundle's own) and ties hub-cert.pem to it.
func (v *verifier) trust(hubCert *x509.Certificate) (*Bundle, *Error) {
	read := func(name string) ([]byte, *Error) {
		b, r, e := readWhole(v.c.files[name])
		if e == nil && r.crcBad {
			v.crcBad = append(v.crcBad, name)
		}
		return b, e
	}
	mb, e := read(nameManifest)
	if e != nil {
		return nil, e
	}
	sig, e := read(nameSignature)
	if e != nil {
		return nil, e
	}
	certPEM, e := read(nameHubCert)
	if e != nil {
		return nil, e
	}
	own, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, zipErr(nameHubCert, ErrMalformedFile, "%v", err)
	}
	cert, self := hubCert, hubCert == nil
	if self {
		cert = own
	}
	pub, err := rsaKey(cert)
	if err != nil {
		file := ""
		if self {
			file = nameHubCert
		}
		return nil, zipErr(file, ErrUnsupportedKey, "%v", err)
	}
	fingerprint := archive.Sum(cert.Raw)
	if err := verifyRSA(pub, mb, sig); err != nil {
		switch {
		case !self && !own.Equal(hubCert):
			return nil, zipErr(nameHubCert, ErrHubCertMismatch, "the bundle's is %s (%s), the one given %s (%s)",
				own.Subject, archive.Sum(own.Raw), hubCert.Subject, fingerprint)
		case signedOther(pub, sig):
			return nil, zipErr(nameManifest, ErrManifestAltered, "")
		default:
			return nil, zipErr(nameSignature, ErrManifestSignature, "%v", err)
		}
	}
	m, err := parseManifest(mb)
	if err != nil {
		return nil, zipErr(nameManifest, ErrManifest, "%v", err)
	}
	if m.HubCertSHA256 != fingerprint {
		return nil, zipErr(nameManifest, ErrHubCertMismatch, "the manifest names certificate %s, the one given is %s", m.HubCertSHA256, fingerprint)
	}
	if got := archive.Sum(own.Raw); got != m.HubCertSHA256 {
		return nil, zipErr(nameHubCert, ErrHubCertFingerprint, "it is %s (%s), the manifest names %s", own.Subject, got, m.HubCertSHA256)
	}
	v.pub, v.m = pub, m
	b := &Bundle{files: v.c.files, manifest: m, signed: [2][]byte{mb, sig}, report: Report{
		DocumentID: m.Document, Digest: m.Digest, Size: m.Size, CreatedAt: time.Time(m.CreatedAt),
		HubCert: cert, HubCertSHA256: fingerprint, SelfAsserted: self, Files: m.Files,
	}}
	// The three entries read whole are authenticated now; their CRC-32s
	// and hub-cert.pem's listing remain.
	for _, name := range v.crcBad {
		if name != nameHubCert {
			v.fail(name, ErrMalformedZip, "its CRC-32 does not match (its content verified)")
		}
	}
	v.compare(nameHubCert, archive.Sum(certPEM), int64(len(certPEM)), slices.Contains(v.crcBad, nameHubCert))
	return b, nil
}

// compare checks an entry's digest and size against the manifest (step 3),
// the original's against the document's (step 4).
func (v *verifier) compare(name string, d archive.Digest, n int64, crcBad bool) {
	want, _ := v.m.file(name)
	switch {
	case d != want.SHA256 || n != want.Size:
		if name == nameOriginal {
			v.fail(name, ErrDocumentDigest, "SHA-256 %s (%d bytes), the document's is %s (%d bytes)", d, n, want.SHA256, want.Size)
			return
		}
		v.fail(name, ErrFileDigest, "SHA-256 %s (%d bytes), the manifest says %s (%d bytes)", d, n, want.SHA256, want.Size)
	case crcBad:
		v.fail(name, ErrMalformedZip, "its CRC-32 does not match (its content verified)")
	}
}

// parts is steps 3 to 6, collecting every failure.
func (v *verifier) parts(b *Bundle) {
	m := b.manifest
	for _, name := range []string{nameReadme, nameOriginal} {
		r, err := openEntry(v.c.files[name])
		if err != nil {
			v.fail(name, ErrMalformedZip, "%v", err)
			continue
		}
		d, n := r.finish()
		if r.failed != nil {
			v.problems = append(v.problems, readError(v.c.files[name], r.failed))
			continue
		}
		v.compare(name, d, n, r.crcBad)
	}
	for _, p := range []struct {
		name string
		dst  *json.RawMessage
	}{{nameVerification, &b.verification}, {nameTrace, &b.trace}} {
		data, r, e := readWhole(v.c.files[p.name])
		if e != nil {
			v.problems = append(v.problems, e)
			continue
		}
		v.compare(p.name, archive.Sum(data), int64(len(data)), r.crcBad)
		if !isObject(data) {
			v.fail(p.name, ErrMalformedFile, "not a JSON object")
		}
		*p.dst = data
	}
	checkpoints := v.checkpoints()
	check := newChainCheck(v.pub, checkpoints, m.Document, m.Digest, m.Size)
	complete := false
	if r, err := openEntry(v.c.files[nameEvents]); err != nil {
		v.fail(nameEvents, ErrMalformedZip, "%v", err)
	} else {
		perr := readEvents(r, check)
		d, n := r.finish()
		switch {
		case r.failed != nil:
			v.problems = append(v.problems, readError(v.c.files[nameEvents], r.failed))
		default:
			v.compare(nameEvents, d, n, r.crcBad)
			switch {
			case errors.Is(perr, errEventTooLarge):
				v.fail(nameEvents, ErrTooLarge, "%v", perr)
			case perr != nil:
				v.fail(nameEvents, ErrMalformedFile, "%v", perr)
			}
			complete = perr == nil && checkpoints != nil
		}
	}
	check.finish(complete)
	v.problems = append(v.problems, check.problems...)
	rep := &b.report
	rep.Events, rep.Checkpoints, rep.DocumentEvents = check.events, check.segments, check.docEvents
	rep.FirstSeq, rep.LastSeq, rep.From, rep.To = check.firstSeq, check.before.Seq, check.first, check.last
}

// checkpoints reads checkpoints.json; nil if it cannot be read.
func (v *verifier) checkpoints() map[int64]*archive.Checkpoint {
	data, r, e := readWhole(v.c.files[nameCheckpoints])
	if e != nil {
		v.problems = append(v.problems, e)
		return nil
	}
	v.compare(nameCheckpoints, archive.Sum(data), int64(len(data)), r.crcBad)
	var w wireCheckpoints
	if err := decodeStrict(data, &w); err != nil {
		v.fail(nameCheckpoints, ErrMalformedFile, "%v", err)
		return nil
	}
	out := map[int64]*archive.Checkpoint{}
	for _, wc := range w.Checkpoints {
		if out[wc.Seq] != nil {
			v.problems = append(v.problems, &Error{File: nameCheckpoints, Checkpoint: wc.Seq, Err: ErrMalformedFile, Msg: "listed twice"})
			continue
		}
		c := wc.checkpoint()
		out[wc.Seq] = &c
	}
	return out
}

// parseCertPEM parses exactly one PEM CERTIFICATE block.
func parseCertPEM(b []byte) (*x509.Certificate, error) {
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" || len(block.Headers) > 0 {
		return nil, errors.New("not one PEM CERTIFICATE block")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("data after the certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// Report returns what the bundle proves.
func (b *Bundle) Report() *Report {
	r := b.report
	return &r
}

// Verification returns verification.json.
func (b *Bundle) Verification() json.RawMessage { return b.verification }

// Trace returns trace.json.
func (b *Bundle) Trace() json.RawMessage { return b.trace }

// Original returns the original's bytes as a stream. Reading it to the end
// verifies them again: a mismatch is reported on the last Read as an error
// wrapping archive.ErrCorrupt.
func (b *Bundle) Original() (io.ReadCloser, error) { return b.File(nameOriginal) }

// File returns an entry of the bundle by name ("events.json", …) as a
// stream, verified again against the manifest when read to its end (a
// mismatch is reported on the last Read as an error wrapping
// archive.ErrCorrupt). manifest.json and manifest.sig are the bytes that
// were verified.
func (b *Bundle) File(name string) (io.ReadCloser, error) {
	switch name {
	case nameManifest:
		return io.NopCloser(bytes.NewReader(b.signed[0])), nil
	case nameSignature:
		return io.NopCloser(bytes.NewReader(b.signed[1])), nil
	}
	want, ok := b.manifest.file(name)
	if !ok {
		return nil, fmt.Errorf("bundle: no entry %s", printable(name))
	}
	rc, err := b.files[name].Open()
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{archive.NewVerifyingReader(crcAsEOF{rc}, want.SHA256, want.Size), rc}, nil
}

// crcAsEOF leaves the verdict on changed bytes to the SHA-256: the ZIP's
// CRC-32 error would otherwise hide it.
type crcAsEOF struct{ r io.Reader }

func (c crcAsEOF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if errors.Is(err, zip.ErrChecksum) {
		err = io.EOF
	}
	return n, err
}
