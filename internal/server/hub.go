package server

import (
	"context"
	"crypto/x509"
	"io"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/authtoken"
	"github.com/edocgw/edocgw/routing"
)

// Hub is the document hub (routing.Hub implements it). Its errors wrap the
// errors of package routing; the server maps each to one problem type.
type Hub interface {
	// Accept runs the acceptance pipeline on a packet body (size is the
	// Content-Length, -1 if unknown).
	Accept(ctx context.Context, p routing.Principal, body io.Reader, size int64) (*routing.Receipt, error)
	Inbox(ctx context.Context, p routing.Principal, after string, limit int) (*routing.InboxPage, error)
	// FetchDelivery returns a delivery's original bytes (marking it
	// pulled); the caller closes the blob. A blob with a method
	// Digest() archive.Digest gets a Repr-Digest header.
	FetchDelivery(ctx context.Context, p routing.Principal, deliveryID string) (*routing.DeliveryInfo, archive.Blob, error)
	OpenDocument(ctx context.Context, p routing.Principal, documentID string) (*routing.TraceDocument, archive.Blob, error)
	Ack(ctx context.Context, p routing.Principal, deliveryID string) (*routing.DeliveryInfo, error)
	AckMany(ctx context.Context, p routing.Principal, deliveryIDs []string) ([]routing.AckResult, error)
	FetchMany(ctx context.Context, p routing.Principal, deliveryIDs []string) ([]routing.FetchResult, error)
	// FetchNext is FetchMany for the first limit deliveries of the
	// caller's inbox.
	FetchNext(ctx context.Context, p routing.Principal, limit int) ([]routing.FetchResult, error)
	Trace(ctx context.Context, p routing.Principal, documentID string) (*routing.Trace, error)
	// AuditEvents returns a page of the audit log for an auditor (the
	// filter is valid: AuditFilter.Validate).
	AuditEvents(ctx context.Context, p routing.Principal, f routing.AuditFilter) (*routing.AuditPage, error)
	// ExportBundle prepares an auditor's archive bundle of a document (its
	// checks and the audit of the export happen before any byte is written).
	ExportBundle(ctx context.Context, p routing.Principal, documentID string) (*routing.Export, error)
	Directory() *agencyids.Directory
	// PrincipalForCert maps a verified TLS client certificate to a member
	// agency (routing.ErrUnauthenticated if none).
	PrincipalForCert(ctx context.Context, cert *x509.Certificate) (routing.Principal, error)
	// Ready checks the dependencies: name -> nil or the failure (e.g.
	// "database", "archive").
	Ready(ctx context.Context) map[string]error
	// Refused audits a refused request (failed authentication or
	// authorization at the HTTP layer).
	Refused(ctx context.Context, actor, what, why string)
}

// Tokens looks bearer tokens up by hash (internal/store implements it;
// routing.ErrNotFound when unknown or revoked).
type Tokens interface {
	LookupToken(ctx context.Context, h authtoken.Hash) (routing.Principal, error)
}

// digester is a blob that knows its digest (optional, see
// Hub.FetchDelivery).
type digester interface {
	Digest() archive.Digest
}
