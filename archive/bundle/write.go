package bundle

import (
	"archive/zip"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"time"

	"github.com/edocgw/edocgw/archive"
)

// Contents is what a bundle holds.
type Contents struct {
	DocumentID string         // the hub's document id
	Digest     archive.Digest // SHA-256 of the original
	Size       int64
	// Original returns the original's bytes; Write streams them into the
	// bundle (they are never held in memory) and closes the reader.
	Original     func() (io.ReadCloser, error)
	Verification json.RawMessage // the signature verification report: a JSON object
	Trace        json.RawMessage // the delivery timeline: a JSON object
	// Segments connect the document's audit events to signed checkpoints:
	// each is a run of consecutive events of the chain (full events, Seq
	// ascending, no gap) ending at the event its checkpoint names, in chain
	// order, not overlapping.
	Segments  []Segment
	HubCert   *x509.Certificate // its key signs the checkpoints and the manifest
	CreatedAt time.Time
}

// Segment is a run of consecutive audit events ending at the event its
// checkpoint names.
type Segment struct {
	Events     []*archive.Event
	Checkpoint archive.Checkpoint
}

// Write writes the bundle of c to w, signing its manifest with key, the
// hub certificate's RSA key. It refuses (before writing anything) another
// key type, a key that is not c.HubCert's, and contents that would not
// verify; an error from then on (from w, or an original that does not hash
// to c.Digest) leaves w without a finished ZIP, to be discarded.
func Write(w io.Writer, c Contents, key crypto.Signer) error {
	pub, err := checkKey(c.HubCert, key)
	if err != nil {
		return err
	}
	if err := checkContents(&c); err != nil {
		return err
	}
	for _, s := range c.Segments {
		for _, e := range s.Events {
			if err := encodable(e); err != nil {
				return &Error{File: nameEvents, Event: e.Seq, Err: ErrContents, Msg: err.Error()}
			}
		}
	}
	// events.json is written twice, the same bytes: once here to hash it
	// for the manifest (and to bound each event), once into the ZIP, so it
	// is never held whole.
	events := sha256.New()
	var eventsSize countWriter
	if err := writeEvents(io.MultiWriter(events, &eventsSize), c.Segments); err != nil {
		return err
	}
	if err := checkChain(pub, &c); err != nil {
		return err
	}

	createdAt := c.CreatedAt.UTC().Truncate(time.Microsecond)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.HubCert.Raw})
	fingerprint := archive.Sum(c.HubCert.Raw)
	checkpoints, err := checkpointsJSON(c.Segments)
	if err != nil {
		return err
	}
	switch {
	case eventsSize > MaxEventsSize:
		return &Error{File: nameEvents, Err: ErrTooLarge, Msg: fmt.Sprintf("%d bytes, at most %d", eventsSize, MaxEventsSize)}
	case len(checkpoints) > maxInMemory:
		return &Error{File: nameCheckpoints, Err: ErrTooLarge, Msg: fmt.Sprintf("%d bytes, at most %d", len(checkpoints), maxInMemory)}
	}
	readme := readmeText(c.DocumentID, c.Digest, c.Size, createdAt, fingerprint)
	m := manifest{Format: Format, Document: c.DocumentID, Digest: c.Digest, Size: c.Size, CreatedAt: stamp(createdAt),
		HubCertSHA256: fingerprint}
	for _, e := range entries {
		var f FileInfo
		switch e.name {
		case nameReadme:
			f = FileInfo{SHA256: archive.Sum(readme), Size: int64(len(readme))}
		case nameHubCert:
			f = FileInfo{SHA256: archive.Sum(certPEM), Size: int64(len(certPEM))}
		case nameCheckpoints:
			f = FileInfo{SHA256: archive.Sum(checkpoints), Size: int64(len(checkpoints))}
		case nameEvents:
			events.Sum(f.SHA256[:0])
			f.Size = int64(eventsSize)
		case nameVerification:
			f = FileInfo{SHA256: archive.Sum(c.Verification), Size: int64(len(c.Verification))}
		case nameTrace:
			f = FileInfo{SHA256: archive.Sum(c.Trace), Size: int64(len(c.Trace))}
		case nameOriginal:
			f = FileInfo{SHA256: c.Digest, Size: c.Size}
		default:
			continue
		}
		f.Name = e.name
		m.Files = append(m.Files, f)
	}
	mb, err := indented(m)
	if err != nil {
		return err
	}
	total := int64(len(mb)) + int64(pub.Size())
	for _, f := range m.Files {
		total += f.Size
	}
	if total > MaxTotalSize {
		return &Error{Err: ErrTooLarge, Msg: fmt.Sprintf("%d bytes, at most %d", total, MaxTotalSize)}
	}
	sum := sha256.Sum256(mb)
	sig, err := key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("bundle: sign the manifest: %w", err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil { // a signer that pads otherwise
		return fmt.Errorf("%w: the key's signature is not RSA PKCS #1 v1.5 SHA-256: %v", ErrUnsupportedKey, err)
	}

	zw := zip.NewWriter(w)
	for _, part := range []struct {
		name string
		data []byte
	}{{nameManifest, mb}, {nameSignature, sig}, {nameReadme, readme}, {nameHubCert, certPEM}, {nameCheckpoints, checkpoints}} {
		if err := writeEntry(zw, part.name, int64(len(part.data)), createdAt, func(w io.Writer) error {
			_, err := w.Write(part.data)
			return err
		}); err != nil {
			return err
		}
	}
	if err := writeEntry(zw, nameEvents, int64(eventsSize), createdAt, func(w io.Writer) error {
		return writeEvents(w, c.Segments)
	}); err != nil {
		return err
	}
	for _, part := range []struct {
		name string
		data []byte
	}{{nameVerification, c.Verification}, {nameTrace, c.Trace}} {
		if err := writeEntry(zw, part.name, int64(len(part.data)), createdAt, func(w io.Writer) error {
			_, err := w.Write(part.data)
			return err
		}); err != nil {
			return err
		}
	}
	if err := writeOriginal(zw, &c, createdAt); err != nil {
		return err
	}
	return zw.Close()
}

// checkChain runs Verify's checks of steps 5 and 6 over c's segments.
func checkChain(pub *rsa.PublicKey, c *Contents) error {
	checkpoints := map[int64]*archive.Checkpoint{}
	for _, s := range c.Segments {
		cp := s.Checkpoint
		checkpoints[cp.Seq] = &cp
	}
	check := newChainCheck(pub, checkpoints, c.DocumentID, c.Digest, c.Size)
	for _, s := range c.Segments {
		check.beginSegment()
		for _, e := range s.Events {
			check.event(e)
		}
		check.endSegment(s.Checkpoint.Seq)
	}
	check.finish(true)
	if len(check.problems) > 0 {
		return fmt.Errorf("%w: %w", ErrContents, check.problems)
	}
	return nil
}

// checkKey returns the hub's RSA public key if key is RSA and the
// certificate's.
func checkKey(cert *x509.Certificate, key crypto.Signer) (*rsa.PublicKey, error) {
	if cert == nil || key == nil {
		return nil, fmt.Errorf("%w: a hub certificate and its key are needed", ErrContents)
	}
	pub, ok := key.Public().(*rsa.PublicKey)
	if !ok {
		return nil, &Error{Err: ErrUnsupportedKey, Msg: fmt.Sprintf("the key is %T", key.Public())}
	}
	certPub, err := rsaKey(cert)
	if err != nil {
		return nil, &Error{File: nameHubCert, Err: ErrUnsupportedKey, Msg: err.Error()}
	}
	if !pub.Equal(certPub) {
		return nil, &Error{Err: ErrKeyMismatch, Msg: fmt.Sprintf("certificate %s", cert.Subject)}
	}
	return pub, nil
}

// checkContents checks what Verify would refuse, but for the chain.
func checkContents(c *Contents) error {
	bad := func(file, format string, args ...any) error {
		return &Error{File: file, Err: ErrContents, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case !validDocumentID(c.DocumentID):
		return bad("", "document id %q", c.DocumentID)
	case c.Size < 0 || c.Size > MaxOriginalSize:
		return &Error{File: nameOriginal, Err: ErrTooLarge, Msg: fmt.Sprintf("%d bytes, at most %d", c.Size, MaxOriginalSize)}
	case c.Original == nil:
		return bad(nameOriginal, "no original")
	case !isObject(c.Verification):
		return bad(nameVerification, "not a JSON object")
	case !isObject(c.Trace):
		return bad(nameTrace, "not a JSON object")
	case len(c.Verification) > maxInMemory:
		return &Error{File: nameVerification, Err: ErrTooLarge, Msg: fmt.Sprintf("%d bytes, at most %d", len(c.Verification), maxInMemory)}
	case len(c.Trace) > maxInMemory:
		return &Error{File: nameTrace, Err: ErrTooLarge, Msg: fmt.Sprintf("%d bytes, at most %d", len(c.Trace), maxInMemory)}
	case len(c.Segments) == 0:
		return bad(nameEvents, "no segments")
	case c.CreatedAt.IsZero():
		return bad(nameManifest, "no creation time")
	}
	for _, s := range c.Segments {
		for _, e := range s.Events {
			if e == nil {
				return bad(nameEvents, "nil event")
			}
		}
	}
	return nil
}

// writeEntry writes one entry: deflated up to 1 MiB, stored above (so no
// genuine entry can exceed the ratio limit), timed createdAt.
func writeEntry(zw *zip.Writer, name string, size int64, at time.Time, write func(io.Writer) error) error {
	method := zip.Deflate
	if size > ratioFloor {
		method = zip.Store
	}
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: at})
	if err != nil {
		return fmt.Errorf("bundle: %s: %w", name, err)
	}
	if err := write(fw); err != nil {
		return fmt.Errorf("bundle: %s: %w", name, err)
	}
	return nil
}

// writeOriginal streams the original into the ZIP, stored, checking its
// digest and size on the way.
func writeOriginal(zw *zip.Writer, c *Contents, at time.Time) error {
	rc, err := c.Original()
	if err != nil {
		return fmt.Errorf("bundle: open the original: %w", err)
	}
	defer rc.Close()
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: nameOriginal, Method: zip.Store, Modified: at})
	if err != nil {
		return fmt.Errorf("bundle: %s: %w", nameOriginal, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(fw, h), io.LimitReader(rc, c.Size+1))
	if err != nil {
		return fmt.Errorf("bundle: %s: %w", nameOriginal, err)
	}
	var d archive.Digest
	h.Sum(d[:0])
	switch {
	case n > c.Size:
		return &Error{File: nameOriginal, Err: ErrDocumentDigest, Msg: fmt.Sprintf("longer than the document's %d bytes", c.Size)}
	case d != c.Digest || n != c.Size:
		return &Error{File: nameOriginal, Err: ErrDocumentDigest, Msg: fmt.Sprintf("read %s (%d bytes), the document is %s (%d bytes)", d, n, c.Digest, c.Size)}
	}
	return nil
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
