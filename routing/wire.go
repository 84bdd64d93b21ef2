package routing

import (
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
)

// The hub's answers, as the HTTP API sends them (JSON) and the client
// commands read them. docs/openapi.yaml describes the same shapes.

// Receipt is the answer to an accepted packet (HTTP 202).
type Receipt struct {
	ID         string             `json:"id"`
	Kind       string             `json:"kind"` // "document" or "status"
	From       agencyids.Code     `json:"from"`
	EdxmlID    string             `json:"edxmlId,omitempty"`
	StatusCode string             `json:"statusCode,omitempty"` // "01"… for a status
	Ref        string             `json:"ref,omitempty"`        // the document it refers to
	Digest     archive.Digest     `json:"digest"`
	Size       int64              `json:"size"`
	ReceivedAt time.Time          `json:"receivedAt"`
	Recipients []RecipientReceipt `json:"recipients"`
	// Warnings are what lenient validation and the signature policy
	// tolerated.
	Warnings []string `json:"warnings,omitempty"`
}

// RecipientReceipt is one recipient of an accepted packet.
type RecipientReceipt struct {
	Agency     agencyids.Code `json:"agency"`
	DeliveryID string         `json:"deliveryId,omitempty"`
	Route      RouteKind      `json:"route,omitempty"`
	Peer       string         `json:"peer,omitempty"`
	State      DeliveryState  `json:"state,omitempty"`
	// Note explains a recipient that got no delivery here (handled by the
	// hub the packet came from) or a delivery that failed at once.
	Note string `json:"note,omitempty"`
}

// InboxPage is one page of GET /v1/inbox.
type InboxPage struct {
	Items []InboxEntry `json:"items"`
	// Next is the cursor of the following page; empty on the last page.
	Next string `json:"next,omitempty"`
}

// InboxEntry is one pending delivery.
type InboxEntry struct {
	DeliveryID string         `json:"deliveryId"`
	DocumentID string         `json:"documentId"`
	Kind       string         `json:"kind"`
	From       agencyids.Code `json:"from"`
	EdxmlID    string         `json:"edxmlId,omitempty"`
	Number     string         `json:"number,omitempty"`
	Notation   string         `json:"notation,omitempty"`
	Subject    string         `json:"subject,omitempty"`
	StatusCode string         `json:"statusCode,omitempty"`
	Business   int            `json:"business,omitempty"`
	Ref        string         `json:"ref,omitempty"`
	Size       int64          `json:"size"`
	Digest     archive.Digest `json:"digest"`
	State      DeliveryState  `json:"state"`
	QueuedAt   time.Time      `json:"queuedAt"`
}

// DeliveryInfo is a delivery as POST /v1/deliveries/{id}/ack answers it.
type DeliveryInfo struct {
	ID        string         `json:"id"`
	Document  string         `json:"document"`
	Recipient agencyids.Code `json:"recipient"`
	Route     RouteKind      `json:"route"`
	Peer      string         `json:"peer,omitempty"`
	State     DeliveryState  `json:"state"`
	Attempts  int            `json:"attempts"`
	LastError string         `json:"lastError,omitempty"`
	Remote    string         `json:"remote,omitempty"`
	CreatedAt time.Time      `json:"createdAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
}

// Trace is a document's delivery timeline: GET /v1/documents/{id}/trace.
type Trace struct {
	Document TraceDocument `json:"document"`
	// Steps are the document's own steps (accepted, archived, revoked …).
	Steps      []Step           `json:"steps"`
	Recipients []TraceRecipient `json:"recipients"`
}

// TraceDocument describes the traced document.
type TraceDocument struct {
	ID         string         `json:"id"`
	Kind       string         `json:"kind"`
	From       agencyids.Code `json:"from"`
	EdxmlID    string         `json:"edxmlId,omitempty"`
	Number     string         `json:"number,omitempty"`
	Notation   string         `json:"notation,omitempty"`
	Subject    string         `json:"subject,omitempty"`
	Business   int            `json:"business,omitempty"`
	StatusCode string         `json:"statusCode,omitempty"`
	Ref        string         `json:"ref,omitempty"`
	Digest     archive.Digest `json:"digest"`
	Size       int64          `json:"size"`
	ReceivedAt time.Time      `json:"receivedAt"`
}

// TraceRecipient is one recipient's part of a trace.
type TraceRecipient struct {
	Agency     agencyids.Code `json:"agency"`
	DeliveryID string         `json:"deliveryId,omitempty"`
	Route      RouteKind      `json:"route,omitempty"`
	Peer       string         `json:"peer,omitempty"`
	State      DeliveryState  `json:"state,omitempty"`
	Attempts   int            `json:"attempts"`
	LastError  string         `json:"lastError,omitempty"`
	Remote     string         `json:"remote,omitempty"`
	// PeerError says why the peer hub's own steps are missing.
	PeerError string `json:"peerError,omitempty"`
	Steps     []Step `json:"steps"`
	// Statuses are the status packets about the document that this
	// recipient sent (01–06, 15, 16) or that were sent to it (13).
	Statuses []StatusEntry `json:"statuses"`
}

// Step is one point of a timeline.
type Step struct {
	At    time.Time `json:"at"`
	Step  string    `json:"step"` // e.g. "accepted", "archived", "queued", "pushed", "attempt-failed", "pulled", "acked", "arrived", "status"
	Actor string    `json:"actor,omitempty"`
	// Attempt numbers delivery attempts; Error says why one failed.
	Attempt int    `json:"attempt,omitempty"`
	Error   string `json:"error,omitempty"`
	Detail  string `json:"detail,omitempty"`
	// Hub names the peer hub where the step happened, as that hub reports
	// it (Hub.Trace asks the peers it forwarded to); empty: this hub.
	Hub string `json:"hub,omitempty"`
}

// StatusEntry is a status packet on a trace.
type StatusEntry struct {
	Code        string         `json:"code"` // "01"…
	Name        string         `json:"name"`
	NameVI      string         `json:"nameVi"`
	From        agencyids.Code `json:"from"`
	DocumentID  string         `json:"documentId"` // the status packet's hub id
	Description string         `json:"description,omitempty"`
	At          time.Time      `json:"at"`
}
