package routing

import (
	"errors"
	"fmt"
)

// Errors of the hub. Every error a Hub method returns wraps one of these
// (or is a *DuplicateError, or wraps ErrNotFound / ErrStateConflict), so
// the HTTP layer maps each to one problem type in one place.
var (
	// ErrUnauthenticated: no valid credential.
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrForbidden: the principal may not do this (sending as another
	// agency, a status about a document it did not receive, …).
	ErrForbidden = errors.New("forbidden")
	// ErrTooLarge: the packet exceeds the hub's size limit.
	ErrTooLarge = errors.New("packet too large")
	// ErrInvalidPacket: not a well-formed or valid edXML packet; the
	// error chain holds the *envelope.Error values with element paths.
	ErrInvalidPacket = errors.New("invalid edXML packet")
	// ErrSignature: the packet's signature does not verify, or its signer
	// is not trusted or not bound to the sending agency.
	ErrSignature = errors.New("signature refused")
	// ErrSignatureRequired: the sender's policy requires a signature and
	// the packet has none.
	ErrSignatureRequired = errors.New("signature required")
	// ErrNoRoute: no recipient of the packet can be reached (not a member,
	// no route), or the document a status refers to is unknown.
	ErrNoRoute = errors.New("no route to recipient")
	// ErrUnavailable: the metadata store or the archive cannot be reached;
	// nothing was accepted. Retry later.
	ErrUnavailable = errors.New("service unavailable")
	// ErrGone: the document is known but its original is no longer in the
	// archive (purged after its retention period).
	ErrGone = errors.New("original no longer archived")
	// ErrBadRequest: a malformed request (a bad cursor, a bad limit).
	ErrBadRequest = errors.New("bad request")
)

// unavailable wraps an infrastructure failure as ErrUnavailable.
func unavailable(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, what, err)
}
