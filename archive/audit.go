package archive

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/edocgw/edocgw/agencyids"
)

// Event is one entry of the audit log. Events form a hash chain: each
// carries the hash of the one before it (Prev) and its own (Hash), over its
// canonical form. The store appends an event in the same transaction as the
// change it records.
type Event struct {
	Seq      int64     // 1, 2, 3, … with no gap
	At       time.Time // kept to the microsecond, in UTC
	Kind     string    // e.g. "document.accepted", "delivery.pulled", "auth.refused"
	Actor    string    // who: an agency, a user, "hub"
	Agency   agencyids.Code
	Document string
	Delivery string
	// Details is a JSON object; it is hashed in canonical form (keys
	// sorted, no insignificant space, numbers as written).
	Details json.RawMessage
	Prev    Digest
	Hash    Digest
}

// Errors of the audit chain. Each names how the chain is broken.
var (
	ErrChainGap        = errors.New("audit: sequence gap (an event was removed or inserted out of order)")
	ErrChainLink       = errors.New("audit: event does not link to the one before it")
	ErrChainHash       = errors.New("audit: event does not hash to its recorded hash (it was altered)")
	ErrBadDetails      = errors.New("audit: details are not a JSON object")
	ErrCheckpoint      = errors.New("audit: checkpoint does not verify")
	ErrNotCheckpointed = errors.New("audit: chain head does not match the checkpoint")
)

// ChainError is the first break of a chain.
type ChainError struct {
	Seq int64
	Err error
}

func (e *ChainError) Error() string { return fmt.Sprintf("audit event %d: %v", e.Seq, e.Err) }
func (e *ChainError) Unwrap() error { return e.Err }

const auditDomain = "edocgw audit event v1"

// Seal completes e as the event after prev (nil for the first): it sets Seq,
// normalizes At and Details, links Prev and computes Hash.
func (e *Event) Seal(prev *Event) error {
	e.At = e.At.UTC().Truncate(time.Microsecond)
	d, err := canonicalJSON(e.Details)
	if err != nil {
		return err
	}
	e.Details = d
	e.Link(prev)
	return nil
}

// Link is Seal for an event sealed once already, whose At and Details are
// normalized: it sets Seq, Prev and Hash for its place after prev (nil for
// the first). A store seals each event before it reads the chain head, so
// that a bad event fails first, and links it under the head.
func (e *Event) Link(prev *Event) {
	e.Seq, e.Prev = 1, Digest{}
	if prev != nil {
		e.Seq, e.Prev = prev.Seq+1, prev.Hash
	}
	e.Hash = e.ComputeHash()
}

// ComputeHash is the SHA-256 of the event's canonical form: a domain tag
// and every field but Hash, each length-prefixed so that no field can
// spill into the next.
func (e *Event) ComputeHash() Digest {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(auditDomain))
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], uint64(e.Seq))
	field(seq[:])
	field([]byte(e.At.UTC().Format("2006-01-02T15:04:05.000000Z")))
	field([]byte(e.Kind))
	field([]byte(e.Actor))
	field([]byte(e.Agency))
	field([]byte(e.Document))
	field([]byte(e.Delivery))
	field(e.Details)
	field(e.Prev[:])
	var d Digest
	h.Sum(d[:0])
	return d
}

// canonicalJSON re-encodes a JSON object with sorted keys and no space;
// numbers keep their written form. Empty means {}.
func canonicalJSON(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("{}"), nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadDetails, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data", ErrBadDetails)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // maps encode with sorted keys
		return nil, fmt.Errorf("%w: %v", ErrBadDetails, err)
	}
	return json.RawMessage(bytes.TrimRight(b.Bytes(), "\n")), nil
}

// VerifyChain walks events in order from the first and returns the hash of
// the last with its sequence number, or the first break as a *ChainError.
// Details are hashed as stored: a store that returns them re-encoded breaks
// the chain, which is the point. Each checkpoint given (already verified
// with Checkpoint.Verify) must match the event at its sequence number: a
// chain rewritten after an edit, every hash recomputed, is caught there
// (ErrNotCheckpointed); a checkpoint beyond the last event means events were
// cut from the end.
func VerifyChain(events iter.Seq2[*Event, error], checkpoints ...Checkpoint) (head Digest, last int64, err error) {
	at := map[int64]Digest{}
	for _, c := range checkpoints {
		at[c.Seq] = c.Head
	}
	var prev *Event
	for e, ierr := range events {
		if ierr != nil {
			return head, last, ierr
		}
		want := int64(1)
		if prev != nil {
			want = prev.Seq + 1
		}
		switch {
		case e.Seq != want:
			return head, last, &ChainError{Seq: want, Err: fmt.Errorf("%w: found event %d", ErrChainGap, e.Seq)}
		case prev != nil && e.Prev != prev.Hash, prev == nil && e.Prev != (Digest{}):
			return head, last, &ChainError{Seq: e.Seq, Err: ErrChainLink}
		case e.ComputeHash() != e.Hash:
			return head, last, &ChainError{Seq: e.Seq, Err: ErrChainHash}
		}
		if h, ok := at[e.Seq]; ok && h != e.Hash {
			return head, last, &ChainError{Seq: e.Seq, Err: ErrNotCheckpointed}
		}
		cp := *e
		prev = &cp
		head, last = e.Hash, e.Seq
	}
	for _, c := range checkpoints {
		if c.Seq > last {
			return head, last, &ChainError{Seq: last + 1, Err: fmt.Errorf("%w: checkpoint at %d, chain ends at %d", ErrNotCheckpointed, c.Seq, last)}
		}
	}
	return head, last, nil
}

// Checkpoint is a signed statement of the chain's head: "up to Seq, the
// chain hashes to Head, as of At".
type Checkpoint struct {
	Seq       int64
	Head      Digest
	At        time.Time
	Signature []byte // RSA PKCS #1 v1.5 over SHA-256 of the checkpoint's canonical form
	// Timestamp is an RFC 3161 token over the SHA-256 of Signature from a
	// time-stamping authority, when one is configured; it is not signed.
	Timestamp []byte
}

const checkpointDomain = "edocgw audit checkpoint v1"

func (c *Checkpoint) signed() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n%s\n", checkpointDomain, c.Seq, c.Head, c.At.UTC().Format("2006-01-02T15:04:05.000000Z"))
}

// Sign signs the checkpoint with the hub's key.
func (c *Checkpoint) Sign(key crypto.Signer) error {
	c.At = c.At.UTC().Truncate(time.Microsecond)
	sum := sha256.Sum256(c.signed())
	sig, err := key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	c.Signature = sig
	return nil
}

// Verify checks the checkpoint's signature with the hub's public key.
func (c *Checkpoint) Verify(pub crypto.PublicKey) error {
	if err := verifyRSA(pub, c.signed(), c.Signature); err != nil {
		return fmt.Errorf("%w: %v", ErrCheckpoint, err)
	}
	return nil
}
