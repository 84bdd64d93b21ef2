package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/bundle"
	"github.com/edocgw/edocgw/signing"
)

// maxSegment bounds the events one bundle segment may hold: a document
// whose events are that far from a checkpoint is exported with a fresh
// checkpoint instead.
const maxSegment = 100_000

// Export is a document's archive record, ready to be written as a bundle.
type Export struct {
	DocumentID string
	write      func(io.Writer) error
}

// NewExport wraps a writer of a bundle (what ExportBundle returns; tests
// of the HTTP layer make their own).
func NewExport(documentID string, write func(io.Writer) error) *Export {
	return &Export{DocumentID: documentID, write: write}
}

// Filename is the bundle's suggested file name.
func (e *Export) Filename() string { return "edocgw-" + e.DocumentID + ".zip" }

// Write writes the bundle (a ZIP) to w, streaming the original.
func (e *Export) Write(w io.Writer) error { return e.write(w) }

// ExportBundle gathers an auditor's export of a document (archive issue,
// item 3): the original, a verification report, the trace, the audit
// events of the document with the chain segments that connect them to
// signed checkpoints (a checkpoint is made now when none covers the last
// event yet), and the hub certificate. The export is audited before any
// byte is written.
func (h *Hub) ExportBundle(ctx context.Context, p Principal, id string) (*Export, error) {
	if p.Role != RoleAuditor {
		return nil, fmt.Errorf("%w: only auditors export archive records", ErrForbidden)
	}
	if h.o.HubKey == nil || h.o.HubCert == nil {
		return nil, fmt.Errorf("%w: the hub has no signing key configured", ErrUnavailable)
	}
	doc, _, events, tr, err := h.traced(ctx, p, id)
	if err != nil {
		return nil, err
	}
	traceJSON, err := json.Marshal(tr)
	if err != nil {
		return nil, err
	}
	report, err := h.verificationReport(ctx, doc, events)
	if err != nil {
		return nil, err
	}
	// The export itself is recorded (sealed in place, so it carries its
	// Seq), and the bundle's segments include it.
	exported := &archive.Event{At: h.now(), Kind: "archive.exported", Actor: p.Actor(), Document: doc.ID,
		Details: detailsJSON(map[string]any{"digest": doc.Digest.String()})}
	if err := h.o.Store.AppendEvents(ctx, exported); err != nil {
		return nil, unavailable("database", err)
	}
	events = append(events, exported)
	segments, err := h.segments(ctx, doc.ID, events)
	if err != nil {
		return nil, err
	}
	blobs := h.o.Blobs
	digest := doc.Digest
	contents := bundle.Contents{
		DocumentID: doc.ID, Digest: doc.Digest, Size: doc.Size,
		Original: func() (io.ReadCloser, error) {
			b, err := blobs.Open(context.WithoutCancel(ctx), digest)
			if err != nil {
				return nil, err
			}
			return b, nil
		},
		Verification: report, Trace: traceJSON, Segments: segments, HubCert: h.o.HubCert, CreatedAt: h.now(),
	}
	key := h.o.HubKey
	return NewExport(doc.ID, func(w io.Writer) error { return bundle.Write(w, contents, key) }), nil
}

// segments returns the runs of the chain from each of the document's
// events to the first checkpoint at or after it.
func (h *Hub) segments(ctx context.Context, id string, events []*archive.Event) ([]bundle.Segment, error) {
	if len(events) == 0 {
		return nil, fmt.Errorf("document %s: no audit events: %w", id, ErrNotFound)
	}
	seqs := make([]int64, 0, len(events))
	for _, e := range events {
		seqs = append(seqs, e.Seq)
	}
	slices.Sort(seqs)
	cp := &archive.Checkpointer{Store: h.o.Store, Key: h.o.HubKey, Now: h.o.Now}
	var out []bundle.Segment
	for i := 0; i < len(seqs); {
		start := seqs[i]
		c, ok, err := h.o.Store.CheckpointAtOrAfter(ctx, start)
		if err != nil {
			return nil, unavailable("database", err)
		}
		if !ok || c.Seq-start >= maxSegment {
			if c, err = cp.Checkpoint(ctx); err != nil {
				return nil, unavailable("checkpoint", err)
			}
			if c.Seq-start >= maxSegment {
				return nil, fmt.Errorf("%w: document %s: %d events to the next checkpoint", ErrUnavailable, id, c.Seq-start)
			}
		}
		run := make([]*archive.Event, 0, c.Seq-start+1)
		for after := start - 1; after < c.Seq; {
			page, err := h.o.Store.AuditEvents(ctx, after, int(min(c.Seq-after, 1000)))
			if err != nil {
				return nil, unavailable("database", err)
			}
			if len(page) == 0 {
				return nil, fmt.Errorf("%w: audit events %d–%d missing", ErrUnavailable, after+1, c.Seq)
			}
			run = append(run, page...)
			after = page[len(page)-1].Seq
		}
		out = append(out, bundle.Segment{Events: run, Checkpoint: c})
		for i < len(seqs) && seqs[i] <= c.Seq {
			i++
		}
	}
	return out, nil
}

// VerificationReport is verification.json of a bundle: what the hub
// recorded when it accepted the original, and the original verified again
// now as of that time.
type VerificationReport struct {
	DocumentID string          `json:"documentId"`
	Digest     archive.Digest  `json:"digest"`
	ReceivedAt time.Time       `json:"receivedAt"`
	AtAccept   json.RawMessage `json:"atAcceptance"`
	Reverified Reverification  `json:"reverified"`
}

// Reverification is the outcome of verifying the original again.
type Reverification struct {
	AsOf      time.Time `json:"asOf"`
	Signed    bool      `json:"signed"`
	Valid     bool      `json:"valid"`
	Signer    string    `json:"signer,omitempty"`
	Issuer    string    `json:"issuer,omitempty"`
	Agency    string    `json:"agency,omitempty"`
	Binding   string    `json:"binding,omitempty"`
	Algorithm string    `json:"signatureMethod,omitempty"`
	Digest    string    `json:"digestMethod,omitempty"`
	Legacy    []string  `json:"legacy,omitempty"`
	Error     string    `json:"error,omitempty"`
}

func (h *Hub) verificationReport(ctx context.Context, doc *Document, events []*archive.Event) (json.RawMessage, error) {
	rep := VerificationReport{DocumentID: doc.ID, Digest: doc.Digest, ReceivedAt: doc.ReceivedAt, AtAccept: json.RawMessage("{}")}
	for _, e := range events {
		if e.Kind == "document.accepted" && e.Document == doc.ID {
			rep.AtAccept = e.Details
		}
	}
	blob, err := h.o.Blobs.Open(ctx, doc.Digest)
	if err != nil {
		return nil, originalError(doc, err)
	}
	defer blob.Close()
	cfg, err := h.cfg.get(ctx)
	if err != nil {
		return nil, err
	}
	v := *h.o.Verifier
	v.Directory = cfg.dir
	v.Now = func() time.Time { return doc.ReceivedAt }
	rep.Reverified.AsOf = doc.ReceivedAt
	res, err := v.VerifyReaderAt(ctx, blob, blob.Size())
	if err == nil {
		rep.Reverified.Signed, rep.Reverified.Valid = true, true
	}
	if err != nil {
		rep.Reverified.Error = err.Error()
		rep.Reverified.Signed = !errors.Is(err, signing.ErrNoSignature)
	}
	if res != nil {
		if res.Signer != nil {
			rep.Reverified.Signer, rep.Reverified.Issuer = res.Signer.Subject.String(), res.Signer.Issuer.String()
		}
		rep.Reverified.Agency, rep.Reverified.Binding = string(res.Agency), res.Binding
		rep.Reverified.Algorithm, rep.Reverified.Digest, rep.Reverified.Legacy = res.SignatureMethod, res.DigestMethod, res.Legacy
	}
	return json.Marshal(rep)
}
