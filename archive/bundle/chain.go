package bundle

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/edocgw/edocgw/archive"
)

// EventSummary is one of the document's own audit events, for a report.
type EventSummary struct {
	Seq      int64
	At       time.Time
	Kind     string
	Actor    string
	Agency   string
	Delivery string
}

// chainCheck checks the audit chain's segments as their events arrive
// (step 5) and the document's events (step 6). It keeps the last event of
// the segment being read, the one before the segment, and the document's
// own events, never the whole chain: events.json is read as a stream.
// Write runs it over the segments it is given, Verify over events.json.
type chainCheck struct {
	pub         *rsa.PublicKey
	checkpoints map[int64]*archive.Checkpoint
	doc         string
	digest      archive.Digest
	size        int64

	problems Problems

	// The segment being read.
	n      int           // its events so far
	tail   archive.Event // its last event so far
	broken bool          // one of its events failed: the rest are not walked
	docs   []EventSummary

	before    archive.Event // the last event of the segment before
	hasBefore bool
	used      map[int64]bool

	segments, events int
	first, last      time.Time
	firstSeq         int64
	docEvents        []EventSummary
	overflow         bool // more than maxDocEvents
	accepted         int
}

func newChainCheck(pub *rsa.PublicKey, checkpoints map[int64]*archive.Checkpoint, doc string, digest archive.Digest, size int64) *chainCheck {
	return &chainCheck{pub: pub, checkpoints: checkpoints, doc: doc, digest: digest, size: size, used: map[int64]bool{}}
}

func (c *chainCheck) fail(file string, event, checkpoint int64, kind error, format string, args ...any) {
	c.problems = append(c.problems, &Error{File: file, Event: event, Checkpoint: checkpoint, Err: kind, Msg: fmt.Sprintf(format, args...)})
}

func (c *chainCheck) beginSegment() {
	c.n, c.broken, c.docs = 0, false, nil
}

func (c *chainCheck) event(e *archive.Event) {
	if c.events == 0 || e.At.Before(c.first) {
		c.first = e.At
	}
	if c.events == 0 || e.At.After(c.last) {
		c.last = e.At
	}
	if c.events == 0 {
		c.firstSeq = e.Seq
	}
	c.events++
	switch {
	case e.Document != c.doc:
	case len(c.docEvents)+len(c.docs) == maxDocEvents:
		if !c.overflow {
			c.overflow = true
			c.fail(nameEvents, e.Seq, 0, ErrTooLarge, "more than %d events of the document", maxDocEvents)
		}
	default:
		c.docs = append(c.docs, EventSummary{Seq: e.Seq, At: e.At, Kind: e.Kind, Actor: e.Actor, Agency: string(e.Agency), Delivery: e.Delivery})
		if e.Kind == "document.accepted" {
			c.accepted++
			if msg := c.acceptedMismatch(e); msg != "" {
				c.fail(nameEvents, e.Seq, 0, ErrAcceptedDigest, "%s", msg)
			}
		}
	}
	if !c.broken && !c.step(e) {
		c.broken = true
	}
	c.tail = *e
	c.n++
}

// step checks e against the event before it, reporting the first break.
func (c *chainCheck) step(e *archive.Event) bool {
	p := &c.tail
	switch {
	case c.n == 0 && e.Seq < 1:
		c.fail(nameEvents, 0, 0, ErrSegment, "starts at event %d", e.Seq)
	case c.n == 0 && c.hasBefore && e.Seq <= c.before.Seq:
		c.fail(nameEvents, 0, 0, ErrSegment, "starts at event %d, not after the segment before it (ending at event %d)", e.Seq, c.before.Seq)
	case c.n == 0 && e.Seq == 1 && e.Prev != (archive.Digest{}):
		c.fail(nameEvents, e.Seq, 0, ErrEventLink, "the chain's first event has a previous hash")
	case c.n == 0 && c.hasBefore && e.Seq == c.before.Seq+1 && e.Prev != c.before.Hash:
		c.fail(nameEvents, e.Seq, 0, ErrEventLink, "does not link to event %d, the last of the segment before", c.before.Seq)
	case c.n > 0 && e.Seq > p.Seq+1:
		c.fail(nameEvents, p.Seq+1, 0, ErrEventMissing, "event %d follows event %d", e.Seq, p.Seq)
	case c.n > 0 && e.Seq <= p.Seq:
		c.fail(nameEvents, e.Seq, 0, ErrEventInserted, "event %d follows event %d", e.Seq, p.Seq)
	case c.n > 0 && e.Prev != p.Hash:
		c.fail(nameEvents, e.Seq, 0, ErrEventLink, "")
	case e.ComputeHash() != e.Hash:
		c.fail(nameEvents, e.Seq, 0, ErrEventHash, "")
	default:
		return true
	}
	return false
}

func (c *chainCheck) endSegment(seq int64) {
	ok := !c.broken
	switch {
	case c.n == 0:
		c.fail(nameEvents, 0, seq, ErrSegment, "no events")
		ok = false
	case !c.broken && c.tail.Seq != seq:
		c.fail(nameEvents, 0, seq, ErrSegment, "ends at event %d", c.tail.Seq)
		ok = false
	}
	switch cp := c.checkpoints[seq]; {
	case c.checkpoints == nil: // checkpoints.json unreadable, and reported so
		ok = false
	case cp == nil:
		c.fail(nameCheckpoints, 0, seq, ErrCheckpointMissing, "")
		ok = false
	default:
		c.used[seq] = true
		if err := cp.Verify(c.pub); err != nil {
			kind := ErrCheckpointSignature
			if signedOther(c.pub, cp.Signature) {
				kind = ErrCheckpointAltered
			}
			c.fail(nameCheckpoints, 0, seq, kind, "")
			ok = false
		}
		if !c.broken && c.n > 0 && c.tail.Seq == seq && c.tail.Hash != cp.Head {
			c.fail(nameEvents, 0, seq, ErrCheckpointHead, "event %d hashes to %s, the checkpoint's head is %s", seq, c.tail.Hash, cp.Head)
			ok = false
		}
	}
	if !ok {
		for _, d := range c.docs {
			c.fail(nameEvents, d.Seq, 0, ErrUnverifiedEvent, "")
		}
	}
	c.docEvents = append(c.docEvents, c.docs...)
	c.segments++
	if c.n > 0 {
		c.before, c.hasBefore = c.tail, true
	}
}

// finish adds what only the whole can tell; complete is false when
// events.json could not be read to its end.
func (c *chainCheck) finish(complete bool) {
	if !complete {
		return
	}
	for _, seq := range slices.Sorted(maps.Keys(c.checkpoints)) {
		if !c.used[seq] {
			c.fail(nameCheckpoints, 0, seq, ErrMalformedFile, "belongs to no segment")
		}
	}
	switch {
	case len(c.docEvents) == 0:
		c.fail(nameEvents, 0, 0, ErrNoDocumentEvent, "document %s", c.doc)
	case c.accepted == 0:
		c.fail(nameEvents, 0, 0, ErrNoAcceptedEvent, "document %s", c.doc)
	}
}

// acceptedMismatch says how a document.accepted event disagrees with the
// document's digest and size, or "".
func (c *chainCheck) acceptedMismatch(e *archive.Event) string {
	var details map[string]json.RawMessage // not a struct: its field names would match any case
	if err := json.Unmarshal(e.Details, &details); err != nil {
		return fmt.Sprintf("details: %v", err)
	}
	var s string
	if err := json.Unmarshal(details["digest"], &s); err != nil {
		return "details have no digest"
	}
	d, err := archive.ParseDigest(s)
	if err != nil {
		return fmt.Sprintf("details: %v", err)
	}
	if d != c.digest {
		return fmt.Sprintf("records digest %s, the manifest %s", d, c.digest)
	}
	if raw, ok := details["size"]; ok {
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil || n != c.size {
			return fmt.Sprintf("records size %s, the manifest %d", raw, c.size)
		}
	}
	return ""
}
