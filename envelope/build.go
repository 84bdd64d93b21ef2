package envelope

import (
	"crypto/rand"
	"fmt"
	"io"
	"time"
)

// Builder makes new packets. Its clock and randomness are injected so that
// builds are reproducible in tests.
type Builder struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand generates attachment content ids; nil means crypto/rand.
	Rand io.Reader
}

func (b Builder) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// Document builds a document packet from h and its attachments and checks
// it strictly. Left empty, it fills in:
//   - DocumentID, in the SDK form "From,yyyy/MM/dd,Number/Notation";
//   - the sender's first TraceHeader, at the current time;
//   - each attachment's ContentID (a random UUID) and the manifest;
//   - Promulgation.Date, as today in Vietnam time.
func (b Builder) Document(h DocumentHeader, business *Business, atts ...*Attachment) (*Packet, error) {
	now := b.now().In(VietnamTime).Truncate(time.Second)
	if h.Promulgation.Date.IsZero() {
		h.Promulgation.Date = DateOf(now)
	}
	if h.DocumentID == "" {
		h.DocumentID = fmt.Sprintf("%s,%s,%s", h.From.OrganID, h.Promulgation.Date, h.Code)
	}
	p := &Packet{Document: &h, Business: business}
	p.Trace = []TraceHeader{{OrganID: h.From.OrganID, Timestamp: now}}
	for _, a := range atts {
		if a.ContentID == "" {
			id, err := b.uuid()
			if err != nil {
				return nil, err
			}
			a.ContentID = id
		}
		p.Attachments = append(p.Attachments, a)
		p.Manifest = append(p.Manifest, ManifestEntry{ContentID: a.ContentID, ContentType: a.ContentType,
			Description: a.Description, AttachmentName: a.Name})
	}
	if _, err := (Validator{Now: b.Now}).Validate(p); err != nil {
		return nil, err
	}
	return p, nil
}

// Status builds a status packet and checks it strictly. A zero Timestamp is
// set to the current time.
func (b Builder) Status(s StatusHeader) (*Packet, error) {
	if s.Timestamp.IsZero() {
		s.Timestamp = b.now()
	}
	s.Timestamp = s.Timestamp.In(VietnamTime).Truncate(time.Second)
	p := &Packet{Status: &s}
	if _, err := Strict.Validate(p); err != nil {
		return nil, err
	}
	return p, nil
}

// uuid is a random (version 4) UUID.
func (b Builder) uuid() (string, error) {
	r := b.Rand
	if r == nil {
		r = rand.Reader
	}
	var u [16]byte
	if _, err := io.ReadFull(r, u[:]); err != nil {
		return "", fmt.Errorf("envelope: content id: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}
