package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
)

// Format is the manifest's format tag.
const Format = "edocgw-archive-bundle/1"

// The entries of a bundle.
const (
	nameManifest     = "manifest.json"
	nameSignature    = "manifest.sig"
	nameReadme       = "README.txt"
	nameHubCert      = "hub-cert.pem"
	nameCheckpoints  = "checkpoints.json"
	nameEvents       = "events.json"
	nameVerification = "verification.json"
	nameTrace        = "trace.json"
	nameOriginal     = "original.edxml"
)

// Limits of a bundle: what Verify refuses and Write does not produce.
const (
	MaxEntries      = 16        // entries in the ZIP, checked before its directory is read
	MaxNameLength   = 64        // bytes of an entry name
	MaxOriginalSize = 2 << 30   // bytes of original.edxml
	MaxEventsSize   = 512 << 20 // bytes of events.json (read as a stream)
	MaxTotalSize    = 5 << 29   // uncompressed bytes of all entries together (2.5 GiB)
	MaxRatio        = 100       // uncompressed to compressed size, for entries over 1 MiB
)

const (
	ratioFloor    = 1 << 20  // entries up to this size may compress any amount; Write deflates only these
	maxDirectory  = 64 << 10 // bytes of the ZIP's central directory
	maxInMemory   = 16 << 20 // checkpoints.json, verification.json, trace.json: read whole
	maxSmall      = 64 << 10 // manifest.json, README.txt, hub-cert.pem
	maxSignature  = 2 << 10  // manifest.sig: RSA up to 16384 bits
	maxDocumentID = 256      // bytes
	maxEvent      = 1 << 20  // bytes of one event in events.json (the decoder holds one whole)
	maxDocEvents  = 200_000  // the document's own events (kept for the report)
	stampLayout   = "2006-01-02T15:04:05.000000Z"
)

// entries are the bundle's entries in the order Write writes them, with
// the largest size Verify accepts for each.
var entries = []struct {
	name  string
	limit int64
}{
	{nameManifest, maxSmall},
	{nameSignature, maxSignature},
	{nameReadme, maxSmall},
	{nameHubCert, maxSmall},
	{nameCheckpoints, maxInMemory},
	{nameEvents, MaxEventsSize},
	{nameVerification, maxInMemory},
	{nameTrace, maxInMemory},
	{nameOriginal, MaxOriginalSize},
}

// entryLimit is the size limit of a known entry; ok is false for any other
// name.
func entryLimit(name string) (limit int64, ok bool) {
	for _, e := range entries {
		if e.name == name {
			return e.limit, true
		}
	}
	return 0, false
}

// listed reports whether the manifest lists name (every entry but the
// manifest and its signature).
func listed(name string) bool { return name != nameManifest && name != nameSignature }

// stamp is a time in the bundle's one layout: UTC, to the microsecond.
type stamp time.Time

func (s stamp) MarshalText() ([]byte, error) {
	return []byte(time.Time(s).UTC().Format(stampLayout)), nil
}

func (s *stamp) UnmarshalText(b []byte) error {
	t, err := time.Parse(stampLayout, string(b))
	if err != nil || t.Format(stampLayout) != string(b) {
		return fmt.Errorf("time %q is not %s", b, stampLayout)
	}
	*s = stamp(t)
	return nil
}

// manifest is manifest.json.
type manifest struct {
	Format        string         `json:"format"`
	Document      string         `json:"document"`
	Digest        archive.Digest `json:"digest"`
	Size          int64          `json:"size"`
	CreatedAt     stamp          `json:"createdAt"`
	HubCertSHA256 archive.Digest `json:"hubCertSha256"`
	Files         []FileInfo     `json:"files"`
}

// FileInfo is an entry as the manifest lists it.
type FileInfo struct {
	Name   string         `json:"name"`
	SHA256 archive.Digest `json:"sha256"`
	Size   int64          `json:"size"`
}

// file returns the manifest's entry for name.
func (m *manifest) file(name string) (FileInfo, bool) {
	for _, f := range m.Files {
		if f.Name == name {
			return f, true
		}
	}
	return FileInfo{}, false
}

// parseManifest decodes manifest.json (already authenticated) strictly and
// checks that it describes a bundle.
func parseManifest(b []byte) (*manifest, error) {
	var m manifest
	if err := decodeStrict(b, &m); err != nil {
		return nil, err
	}
	switch {
	case m.Format != Format:
		return nil, fmt.Errorf("format %q, want %q", m.Format, Format)
	case !validDocumentID(m.Document):
		return nil, fmt.Errorf("document id %q", m.Document)
	case m.Size < 0 || m.Size > MaxOriginalSize:
		return nil, fmt.Errorf("document size %d", m.Size)
	case time.Time(m.CreatedAt).IsZero():
		return nil, errors.New("no createdAt")
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		limit, ok := entryLimit(f.Name)
		switch {
		case !ok || !listed(f.Name):
			return nil, fmt.Errorf("lists %q", f.Name)
		case seen[f.Name]:
			return nil, fmt.Errorf("lists %s twice", f.Name)
		case f.Size < 0 || f.Size > limit:
			return nil, fmt.Errorf("lists %s with size %d", f.Name, f.Size)
		}
		seen[f.Name] = true
	}
	for _, e := range entries {
		if listed(e.name) && !seen[e.name] {
			return nil, fmt.Errorf("does not list %s", e.name)
		}
	}
	if o, _ := m.file(nameOriginal); o.SHA256 != m.Digest || o.Size != m.Size {
		return nil, fmt.Errorf("lists %s as %s (%d bytes), the document as %s (%d bytes)", nameOriginal, o.SHA256, o.Size, m.Digest, m.Size)
	}
	return &m, nil
}

// validDocumentID: what a document id may be (it is printed in README.txt
// and in reports).
func validDocumentID(s string) bool {
	if s == "" || len(s) > maxDocumentID || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// wireCheckpoint is a checkpoint in checkpoints.json.
type wireCheckpoint struct {
	Seq       int64          `json:"seq"`
	Head      archive.Digest `json:"head"`
	At        stamp          `json:"at"`
	Signature []byte         `json:"signature"`
	Timestamp []byte         `json:"timestamp,omitempty"` // RFC 3161 token, carried, not checked here
}

type wireCheckpoints struct {
	Checkpoints []wireCheckpoint `json:"checkpoints"`
}

func (c wireCheckpoint) checkpoint() archive.Checkpoint {
	return archive.Checkpoint{Seq: c.Seq, Head: c.Head, At: time.Time(c.At), Signature: c.Signature, Timestamp: c.Timestamp}
}

// wireEvent is an event in events.json: every field of archive.Event.
type wireEvent struct {
	Seq      int64           `json:"seq"`
	At       stamp           `json:"at"`
	Kind     string          `json:"kind"`
	Actor    string          `json:"actor"`
	Agency   string          `json:"agency"`
	Document string          `json:"document"`
	Delivery string          `json:"delivery"`
	Details  json.RawMessage `json:"details"`
	Prev     archive.Digest  `json:"prev"`
	Hash     archive.Digest  `json:"hash"`
}

func toWire(e *archive.Event) wireEvent {
	return wireEvent{Seq: e.Seq, At: stamp(e.At), Kind: e.Kind, Actor: e.Actor, Agency: string(e.Agency),
		Document: e.Document, Delivery: e.Delivery, Details: e.Details, Prev: e.Prev, Hash: e.Hash}
}

func (w *wireEvent) event() *archive.Event {
	return &archive.Event{Seq: w.Seq, At: time.Time(w.At), Kind: w.Kind, Actor: w.Actor, Agency: agencyids.Code(w.Agency),
		Document: w.Document, Delivery: w.Delivery, Details: w.Details, Prev: w.Prev, Hash: w.Hash}
}

// encodable reports why e would not come back from events.json as the same
// event (so its hash would break), or nil: strings must be UTF-8 (JSON
// would replace bytes) and details compact JSON (an encoder drops space).
func encodable(e *archive.Event) error {
	for _, s := range []string{e.Kind, e.Actor, string(e.Agency), e.Document, e.Delivery} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("field %q is not UTF-8", s)
		}
	}
	var c bytes.Buffer
	if err := json.Compact(&c, e.Details); err != nil {
		return fmt.Errorf("details: %v", err)
	}
	if !bytes.Equal(c.Bytes(), e.Details) {
		return errors.New("details are not compact JSON")
	}
	return nil
}

// writeEvents writes events.json: one event a line, details byte for byte
// (no HTML escaping; the caller checked encodable).
func writeEvents(w io.Writer, segs []Segment) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	flush := func() error {
		_, err := w.Write(b.Bytes())
		b.Reset()
		return err
	}
	b.WriteString("{\"segments\":[")
	for i, s := range segs {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "\n{\"checkpoint\":%d,\"events\":[", s.Checkpoint.Seq)
		for j, e := range s.Events {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
			start := b.Len()
			if err := enc.Encode(toWire(e)); err != nil {
				return err
			}
			b.Truncate(b.Len() - 1) // Encode's newline
			if n := b.Len() - start; n > maxEvent {
				return &Error{File: nameEvents, Event: e.Seq, Err: ErrTooLarge, Msg: fmt.Sprintf("%d bytes, at most %d", n, maxEvent)}
			}
			if b.Len() > 32<<10 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		b.WriteString("\n]}")
	}
	b.WriteString("\n]}\n")
	return flush()
}

// checkpointsJSON is checkpoints.json for segs, one checkpoint each.
func checkpointsJSON(segs []Segment) ([]byte, error) {
	var cs wireCheckpoints
	for _, s := range segs {
		c := s.Checkpoint
		cs.Checkpoints = append(cs.Checkpoints, wireCheckpoint{Seq: c.Seq, Head: c.Head, At: stamp(c.At), Signature: c.Signature, Timestamp: c.Timestamp})
	}
	return indented(cs)
}

func indented(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// decodeStrict decodes exactly one JSON value into v: no unknown fields,
// nothing after it.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	return expectEOF(dec)
}

func expectEOF(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// isObject reports whether b is one JSON object and nothing else.
func isObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// eventSink receives events.json as it is read.
type eventSink interface {
	beginSegment()
	event(e *archive.Event)
	endSegment(checkpoint int64)
}

// readEvents decodes events.json from r as a stream, one event at a time,
// and hands it to sink. A decoding error stops it in the middle of a
// segment: the sink sees no endSegment for that one.
func readEvents(r io.Reader, sink eventSink) error {
	budget := &budgetReader{r: r}
	dec := json.NewDecoder(budget)
	budget.dec = dec
	dec.DisallowUnknownFields()
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	if err := expectKey(dec, "segments"); err != nil {
		return err
	}
	if err := expectDelim(dec, '['); err != nil {
		return err
	}
	for dec.More() {
		if err := readSegment(dec, sink); err != nil {
			return err
		}
	}
	for _, d := range []json.Delim{']', '}'} {
		if err := expectDelim(dec, d); err != nil {
			return err
		}
	}
	return expectEOF(dec)
}

func readSegment(dec *json.Decoder, sink eventSink) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	sink.beginSegment()
	var checkpoint int64
	var seen struct{ checkpoint, events bool }
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case "checkpoint":
			if seen.checkpoint {
				return errors.New("segment: checkpoint given twice")
			}
			seen.checkpoint = true
			if err := dec.Decode(&checkpoint); err != nil {
				return fmt.Errorf("segment checkpoint: %w", err)
			}
		case "events":
			if seen.events {
				return errors.New("segment: events given twice")
			}
			seen.events = true
			if err := expectDelim(dec, '['); err != nil {
				return err
			}
			for dec.More() {
				var w wireEvent
				if err := dec.Decode(&w); err != nil {
					return fmt.Errorf("event: %w", err)
				}
				sink.event(w.event())
			}
			if err := expectDelim(dec, ']'); err != nil {
				return err
			}
		default:
			return fmt.Errorf("segment: unknown field %v", tok)
		}
	}
	if !seen.checkpoint || !seen.events {
		return errors.New("segment without checkpoint or events")
	}
	if err := expectDelim(dec, '}'); err != nil {
		return err
	}
	sink.endSegment(checkpoint)
	return nil
}

// errEventTooLarge: the decoder would have to hold more than maxEvent.
var errEventTooLarge = fmt.Errorf("an event of more than %d bytes", maxEvent)

// budgetReader feeds a json.Decoder no more than it may hold unconsumed
// (what was read beyond the decoder's offset): one event of maxEvent bytes
// and its separator. A stream of events is read in bounded memory; an
// event too large is refused instead of buffered.
type budgetReader struct {
	r   io.Reader
	dec *json.Decoder
	n   int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	room := maxEvent + 64 - (b.n - b.dec.InputOffset())
	if room <= 0 {
		return 0, errEventTooLarge
	}
	n, err := b.r.Read(p[:min(int64(len(p)), room)])
	b.n += int64(n)
	return n, err
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("found %v, want %v", tok, want)
	}
	return nil
}

func expectKey(dec *json.Decoder, want string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("found %v, want %q", tok, want)
	}
	return nil
}
