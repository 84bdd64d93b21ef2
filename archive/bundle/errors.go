package bundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/edocgw/edocgw/archive"
)

// The ZIP container. Each refusal has its own error.
var (
	ErrMalformedZip   = errors.New("not a well-formed ZIP archive")
	ErrTooLarge       = errors.New("exceeds the bundle's limits")
	ErrZipBomb        = errors.New("zip bomb: entry expands too much or entries overlap")
	ErrDuplicateEntry = errors.New("entry appears twice")
	ErrUnknownEntry   = errors.New("entry is not part of a bundle")
	ErrUnsafePath     = errors.New("entry name is a path trick")
	ErrMissingEntry   = errors.New("entry missing")
)

// Trust: the manifest, its signature and the hub certificate.
var (
	ErrUnsupportedKey     = errors.New("hub key is not RSA")
	ErrKeyMismatch        = errors.New("key is not the hub certificate's")
	ErrHubCertMismatch    = errors.New("bundle was signed for another hub certificate than the one given")
	ErrManifestSignature  = errors.New("not the hub key's signature (altered, or made with another key)")
	ErrManifestAltered    = errors.New("manifest changed after the hub signed it")
	ErrHubCertFingerprint = errors.New("hub-cert.pem is not the certificate the manifest names")
	ErrManifest           = errors.New("invalid manifest")
)

// The parts.
var (
	ErrFileDigest     = errors.New("does not match its SHA-256 and size in the manifest")
	ErrDocumentDigest = errors.New("original does not hash to the document's digest")
	ErrMalformedFile  = errors.New("not valid for its format")
)

// The audit chain in events.json and checkpoints.json. Those that have a
// counterpart in package archive also match it with errors.Is.
var (
	ErrSegment             = errors.New("segment is empty, out of order or does not end at its checkpoint")
	ErrEventMissing        = subErr("event missing (removed)", archive.ErrChainGap)
	ErrEventInserted       = subErr("event repeated or out of order (inserted)", archive.ErrChainGap)
	ErrEventLink           = subErr("event does not link to the one before it", archive.ErrChainLink)
	ErrEventHash           = subErr("event does not hash to its recorded hash (altered)", archive.ErrChainHash)
	ErrCheckpointMissing   = errors.New("segment's checkpoint is not in checkpoints.json")
	ErrCheckpointHead      = subErr("segment's last event is not the checkpoint's head", archive.ErrNotCheckpointed)
	ErrCheckpointSignature = subErr("checkpoint signature is not the hub key's (altered, or made with another key)", archive.ErrCheckpoint)
	ErrCheckpointAltered   = subErr("checkpoint changed after the hub signed it", archive.ErrCheckpoint)
)

// The document's own events.
var (
	ErrNoDocumentEvent = errors.New("no audit event names the document")
	ErrUnverifiedEvent = errors.New("event names the document but its segment does not verify")
	ErrNoAcceptedEvent = errors.New("no document.accepted event for the document")
	ErrAcceptedDigest  = errors.New("document.accepted event records another digest or size than the manifest")
)

// ErrContents: Write was given contents it cannot make a bundle of.
var ErrContents = errors.New("invalid bundle contents")

// subErr is a sentinel of its own that also matches parent.
func subErr(msg string, parent error) error { return &sentinel{msg, parent} }

type sentinel struct {
	msg    string
	parent error
}

func (s *sentinel) Error() string { return s.msg }
func (s *sentinel) Unwrap() error { return s.parent }

// Error is one thing wrong with a bundle: what (Err, one of the sentinels
// of this package), in which entry, at which event or checkpoint.
type Error struct {
	File       string // the entry, e.g. "events.json"; empty for the bundle as a whole
	Event      int64  // the audit event's seq, or 0
	Checkpoint int64  // the checkpoint's seq, or 0
	Err        error
	Msg        string // details, for people
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("bundle: ")
	if e.File != "" {
		b.WriteString(printable(e.File))
		b.WriteString(": ")
	}
	if e.Event != 0 {
		fmt.Fprintf(&b, "event %d: ", e.Event)
	}
	if e.Checkpoint != 0 {
		fmt.Fprintf(&b, "checkpoint %d: ", e.Checkpoint)
	}
	b.WriteString(e.Err.Error())
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// MarshalJSON writes the problem as {"file", "event", "checkpoint",
// "error", "message"}: "error" is the sentinel's text (stable, for
// programs), "message" the whole text (for people).
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		File       string `json:"file,omitempty"`
		Event      int64  `json:"event,omitempty"`
		Checkpoint int64  `json:"checkpoint,omitempty"`
		Error      string `json:"error"`
		Message    string `json:"message"`
	}{e.File, e.Event, e.Checkpoint, e.Err.Error(), e.Error()})
}

// printable quotes a name that an attacker may have filled with control
// characters or invalid UTF-8.
func printable(s string) string {
	for _, r := range s {
		if r == '\uFFFD' || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// Problems is the error Verify and Open return: every problem found, in
// the order of the checks. errors.Is and errors.As see each of them.
type Problems []*Error

func (ps Problems) Error() string {
	switch len(ps) {
	case 0:
		return "bundle: no problems"
	case 1:
		return ps[0].Error()
	}
	return fmt.Sprintf("%s (and %d more)", ps[0].Error(), len(ps)-1)
}

func (ps Problems) Unwrap() []error {
	out := make([]error, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}
