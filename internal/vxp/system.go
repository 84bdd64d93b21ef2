package vxp

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/routing"
)

// System is a document-management system that speaks the SDK protocol:
// the credential identity of §6 (systemId and secret) and the agencies it
// sends and receives for.
type System struct {
	ID string
	// Agencies are member agencies (pull) of this hub; an agency belongs to
	// one system at most.
	Agencies []agencyids.Code
	// Secret is the shared HMAC secret, sealed by the SecretKey KeyID.
	Secret []byte
	KeyID  string
	// CreatedAt is when the system was added, RotatedAt when its secret
	// was last set.
	CreatedAt, RotatedAt time.Time
}

// Has reports whether code is one of the system's agencies, in either of
// its forms (dir may be nil).
func (s *System) Has(code agencyids.Code, dir *agencyids.Directory) (agencyids.Code, bool) {
	if slices.Contains(s.Agencies, code) {
		return code, true
	}
	if dir == nil {
		return "", false
	}
	if a, ok := dir.Lookup(code); ok {
		for _, c := range []agencyids.Code{a.Code, a.AltCode} {
			if c != "" && slices.Contains(s.Agencies, c) {
				return c, true
			}
		}
	}
	return "", false
}

// maxSystemID bounds a systemId.
const maxSystemID = 64

// ValidSystemID checks a systemId: 1–64 of A-Z a-z 0-9 . _ - (the ids in
// use look like vxp.saas.02, 00.53.W00 or 002.00.99.H44).
func ValidSystemID(id string) error {
	ok := len(id) > 0 && len(id) <= maxSystemID
	for _, c := range id {
		ok = ok && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-')
	}
	if !ok {
		return fmt.Errorf("vxp: systemId %q: want 1-%d of A-Z a-z 0-9 . _ -", id, maxSystemID)
	}
	return nil
}

// Hub is what the protocol needs of the hub (routing.Hub implements it).
// Its errors wrap those of package routing.
type Hub interface {
	Accept(ctx context.Context, p routing.Principal, body io.Reader, size int64) (*routing.Receipt, error)
	Inbox(ctx context.Context, p routing.Principal, after string, limit int) (*routing.InboxPage, error)
	FetchDelivery(ctx context.Context, p routing.Principal, deliveryID string) (*routing.DeliveryInfo, archive.Blob, error)
	Ack(ctx context.Context, p routing.Principal, deliveryID string) (*routing.DeliveryInfo, error)
	Trace(ctx context.Context, p routing.Principal, documentID string) (*routing.Trace, error)
	Directory() *agencyids.Directory
	// Refused audits a refused request (kind auth.refused).
	Refused(ctx context.Context, actor, what, why string)
}

var _ Hub = (*routing.Hub)(nil)

// Store is what the protocol needs of the metadata store (internal/store
// implements it).
type Store interface {
	// VXPSystem returns a system; routing.ErrNotFound if there is none.
	VXPSystem(ctx context.Context, id string) (*System, error)
	// Document and Delivery find whose document or delivery an id is, so
	// that the hub is asked as the right agency of the system.
	Document(ctx context.Context, id string) (*routing.Document, error)
	Delivery(ctx context.Context, id string) (*routing.Delivery, error)
	// AppendEvents audits what the hub has no method for (updateStatus
	// fail and processing, bodies refused before the pipeline).
	AppendEvents(ctx context.Context, events ...*archive.Event) error
}
