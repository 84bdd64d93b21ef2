package routing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/envelope"
)

// Role is what a caller may do (design §6).
type Role string

// The roles.
const (
	// RoleAgency is a document-management system acting for one member agency.
	RoleAgency Role = "agency"
	// RoleHub is a peer hub (the national axis, a ministry or provincial
	// hub): it may send as the agencies the route table sends to it.
	RoleHub Role = "hub"
	// RoleAuditor reads everything and changes nothing.
	RoleAuditor Role = "auditor"
	// RoleAdmin manages the directory, routes and credentials.
	RoleAdmin Role = "admin"
)

// Principal is an authenticated caller.
type Principal struct {
	Role   Role
	Agency agencyids.Code // RoleAgency: the member agency
	Peer   string         // RoleHub: the peer's name
	Name   string         // RoleAuditor, RoleAdmin: the user or credential name
	// Via is how it authenticated: "token" or "mtls".
	Via string
}

// Actor is the principal as the audit log names it: "agency:CODE",
// "hub:NAME", "auditor:NAME" or "admin:NAME".
func (p Principal) Actor() string {
	switch p.Role {
	case RoleAgency:
		return "agency:" + string(p.Agency)
	case RoleHub:
		return "hub:" + p.Peer
	}
	return string(p.Role) + ":" + p.Name
}

// Mode is how a member agency receives its deliveries.
type Mode string

// The delivery modes of members.
const (
	ModePull Mode = "pull" // its DMS polls GET /v1/inbox
	ModePush Mode = "push" // the hub POSTs each original to its endpoint
)

// SignaturePolicy says which packets of a member must carry a valid
// signature. A signature that is present is always verified.
type SignaturePolicy string

// The signature policies.
const (
	// SignatureRequired: documents must be signed (the default). Status
	// packets, which the national axis SDK sends unsigned, may be unsigned.
	SignatureRequired SignaturePolicy = "required"
	// SignatureAll: documents and status packets must be signed.
	SignatureAll SignaturePolicy = "all"
	// SignatureOptional: unsigned packets are accepted and the trace says so.
	SignatureOptional SignaturePolicy = "optional"
)

// Member is an agency served by this hub: deliveries to it stay local.
// Agencies of the directory that are not members are reached through the
// route table.
type Member struct {
	Code      agencyids.Code
	Mode      Mode
	PushURL   string // ModePush: the HTTPS endpoint
	Signature SignaturePolicy
	CreatedAt time.Time
}

// Peer is another hub: an upstream (the national axis) or a neighbour.
type Peer struct {
	Name string
	// Kind is the protocol the peer speaks: PeerEdocgw (empty means it)
	// or PeerVXP.
	Kind PeerKind
	// URL is the peer's API base (https://host:port), or for PeerVXP the
	// endpoint the SDK's methods hang below (https://axis/XrdAdapter/adapter);
	// empty for a peer that only sends to us.
	URL string
	// Token is the bearer token this hub presents to the peer; for PeerVXP
	// the system's secret, as the Upstream for that kind keeps it (sealed).
	Token string
	// SystemID is the systemId this hub uses at a PeerVXP upstream.
	SystemID string
	// CAPEM holds PEM certificates to trust for the peer's TLS, in addition
	// to the system roots; empty: system roots only.
	CAPEM     []byte
	CreatedAt time.Time
}

// PeerKind is the protocol a peer hub speaks.
type PeerKind string

// The peer kinds.
const (
	// PeerEdocgw: edocgw's own API (POST /v1/documents with a bearer token).
	PeerEdocgw PeerKind = "edocgw"
	// PeerVXP: the national axis's SDK protocol (../shared/spec/vxp-protocol.md),
	// through the Upstream registered for it.
	PeerVXP PeerKind = "vxp"
)

// Valid reports whether k is a known kind (empty counts as PeerEdocgw).
func (k PeerKind) Valid() bool { return k == "" || k == PeerEdocgw || k == PeerVXP }

// Route sends every agency matched by Pattern to a peer hub. Patterns:
// "*" (every agency not otherwise routed), a level-1 code ("H53": every
// code whose Root is 000.00.00.H53, or G09 in the QĐ 20 form), or one exact
// agency code. The most specific pattern wins: exact, then level 1, then *.
// A member is always local, whatever the routes say.
type Route struct {
	Pattern   string
	Peer      string
	CreatedAt time.Time
}

// DeliveryState is where a delivery is.
type DeliveryState string

// The delivery states.
const (
	// StateQueued: waiting; in the recipient's inbox (pull), or for the
	// worker (push, peer) once NextAttemptAt has passed.
	StateQueued DeliveryState = "queued"
	// StateSending: claimed by a worker until LeaseUntil (push, peer).
	StateSending DeliveryState = "sending"
	// StatePulled: the recipient fetched the original but has not acked.
	StatePulled DeliveryState = "pulled"
	// StateAcked: the recipient acknowledged it (pull). Final.
	StateAcked DeliveryState = "acked"
	// StateDelivered: pushed to the endpoint or accepted by the peer hub
	// (push, peer). Final.
	StateDelivered DeliveryState = "delivered"
	// StateDead: given up (a permanent error, or the retry horizon passed);
	// an operator may requeue it. Final until then.
	StateDead DeliveryState = "dead"
	// StateCancelled: withdrawn by an operator or by a recall. Final.
	StateCancelled DeliveryState = "cancelled"
)

// RouteKind is how a delivery reaches its recipient.
type RouteKind string

// The route kinds.
const (
	RoutePull RouteKind = "pull"
	RoutePush RouteKind = "push"
	RoutePeer RouteKind = "peer"
)

// Document is an accepted packet: a document or a status packet.
type Document struct {
	ID   string // the hub's id, time-sortable
	Kind envelope.Kind
	// From is the sending (for a status, the reporting) agency.
	From agencyids.Code
	// EdxmlID is MessageHeader/DocumentId for a document, and
	// ResponseFor/DocumentId (the document reported on) for a status.
	EdxmlID  string
	Number   string
	Notation string
	// Business is the Bussiness/BussinessDocType of a document
	// (0 new, 1 revocation, 2 update, 3 replacement).
	Business envelope.BusinessDocType
	// StatusCode is the code of a status packet, 0 for a document.
	StatusCode envelope.StatusCode
	// Ref is the hub id of the document this packet refers to: the
	// document a status reports on, or the document a revocation or an
	// update changes. Empty when none is known here.
	Ref     string
	Subject string
	Digest  archive.Digest // the original's SHA-256, its name in the blob store
	Size    int64
	// Via is the actor that delivered it to us (Principal.Actor).
	Via        string
	ReceivedAt time.Time
	Recipients []agencyids.Code
}

// Delivery is one recipient's copy of a Document.
type Delivery struct {
	ID        string // time-sortable
	Document  string
	Recipient agencyids.Code
	Route     RouteKind
	// Peer is the peer hub of a RoutePeer delivery.
	Peer          string
	State         DeliveryState
	Attempts      int
	NextAttemptAt time.Time
	LeaseUntil    time.Time // StateSending: the worker's claim ends then
	LastError     string
	// Remote is the peer hub's document id once it accepted the packet.
	Remote    string
	CreatedAt time.Time
	UpdatedAt time.Time
	// RequeuedAt is when an operator last requeued it (Resend); the retry
	// horizon counts from then. Zero: never.
	RequeuedAt time.Time
}

// InboxItem is a pending pull delivery with what an inbox listing shows
// of its document.
type InboxItem struct {
	Delivery Delivery
	Document Document
}

// DuplicateError says a packet was accepted before: FirstID is the hub id
// of the first one.
type DuplicateError struct {
	FirstID string
	// Key names the rule: "document-id" (DocumentId per sender),
	// "number-notation" (number, notation and issuer), "status".
	Key string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("duplicate of %s (same %s)", e.FirstID, e.Key)
}

// Errors of the store. Implementations wrap them with %w.
var (
	// ErrNotFound: no such document, delivery, member, peer or route.
	ErrNotFound = errors.New("not found")
	// ErrStateConflict: a conditional update found the row in another state.
	ErrStateConflict = errors.New("delivery is not in the expected state")
)

// Store is what the hub needs of the metadata store (internal/store
// implements it on SQLite and PostgreSQL). Every method that takes events
// appends them to the audit chain in the same transaction as its change.
type Store interface {
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error

	// Accept commits a document, its deliveries and events in one
	// transaction. A document that repeats an earlier one (see
	// DuplicateError) commits nothing and returns a *DuplicateError:
	//   - documents: same From and EdxmlID and Business type, when EdxmlID
	//     is not empty, except updates (Business 2), which may be sent
	//     again for one document; and, for Business 0 (new) or 3 (replacement), same
	//     From, Number and Notation when Number is not empty;
	//   - statuses: same From, EdxmlID and StatusCode, except code 05
	//     (processing), which repeats.
	Accept(ctx context.Context, doc *Document, deliveries []*Delivery, events []*archive.Event) error
	// Duplicate answers, without writing, whether doc repeats a stored
	// packet by Accept's rules (nil when not): checked before archiving,
	// so a duplicate leaves nothing behind; Accept checks again.
	Duplicate(ctx context.Context, doc *Document) (*DuplicateError, error)
	// Document returns a document by hub id.
	Document(ctx context.Context, id string) (*Document, error)
	// DocumentsByEdxmlID returns the documents (Kind document, not
	// statuses) whose EdxmlID is id, oldest first.
	DocumentsByEdxmlID(ctx context.Context, id string) ([]*Document, error)
	// Delivery returns a delivery by id.
	Delivery(ctx context.Context, id string) (*Delivery, error)
	// Deliveries returns the deliveries of a document, oldest first.
	Deliveries(ctx context.Context, document string) ([]*Delivery, error)
	// Inbox returns up to limit pull deliveries of recipient in state queued
	// or pulled, with ID > after, in ID order.
	Inbox(ctx context.Context, recipient agencyids.Code, after string, limit int) ([]InboxItem, error)
	// Claim leases up to limit push or peer deliveries that are due: state
	// queued with NextAttemptAt <= now, or state sending with LeaseUntil <
	// now (a worker died). It sets them sending, LeaseUntil = now+lease,
	// Attempts+1, and returns them as updated. Concurrent claimers never
	// get the same delivery (FOR UPDATE SKIP LOCKED; one writer on SQLite).
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*Delivery, error)
	// UpdateDelivery writes d's State, NextAttemptAt, LeaseUntil, LastError
	// and Remote if the stored state is one of from (and, when from holds
	// StateSending, its stored LeaseUntil still equals the one d was
	// claimed with, given as claimed); else it returns ErrStateConflict
	// and writes nothing.
	UpdateDelivery(ctx context.Context, d *Delivery, from []DeliveryState, claimed time.Time, events []*archive.Event) error
	// RequeueDelivery writes d's Route, Peer, State, Attempts,
	// NextAttemptAt, LeaseUntil, LastError and RequeuedAt (required)
	// if the stored state is one
	// of from (never StateSending); else it returns ErrStateConflict and
	// writes nothing. Resend plans a dead delivery's route anew with it.
	RequeueDelivery(ctx context.Context, d *Delivery, from []DeliveryState, events []*archive.Event) error
	// DocumentEvents returns the audit events of a document and of the
	// documents that refer to it (Ref), in chain order.
	DocumentEvents(ctx context.Context, document string) ([]*archive.Event, error)
	// AppendEvents appends events in a transaction of their own (refusals
	// and reads that change nothing else).
	AppendEvents(ctx context.Context, events ...*archive.Event) error
	// AuditEvents returns up to limit events with Seq > afterSeq, in order.
	AuditEvents(ctx context.Context, afterSeq int64, limit int) ([]*archive.Event, error)
	// CheckpointAtOrAfter returns the first checkpoint with Seq >= seq.
	CheckpointAtOrAfter(ctx context.Context, seq int64) (archive.Checkpoint, bool, error)
	// The chain head and checkpoints, for an archive.Checkpointer.
	archive.ChainHead

	// Config returns the hub's configuration: the agency directory, the
	// members, the peers and the routes, with a version that grows with
	// every change. ConfigVersion returns the version alone, cheaply.
	Config(ctx context.Context) (*Config, error)
	ConfigVersion(ctx context.Context) (int64, error)
}

// Config is the configuration the hub routes with.
type Config struct {
	Version  int64
	Agencies []agencyids.Agency
	Members  []Member
	Peers    []Peer
	Routes   []Route
}
