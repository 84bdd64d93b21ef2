package vxp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/envelope"
)

// multipartSlack is what multipart framing may add to a packet's size.
const multipartSlack = 64 << 10

// sendEdoc takes a document or status packet (§5 row 3) into the hub's
// acceptance pipeline, as the agency of the system that sends it.
func (h *Handler) sendEdoc(c *call) error {
	dir := h.cfg.Hub.Directory()
	// from must be an agency of the system (the live axis's rule, §6); a
	// system of one agency may send its systemId instead (S1 does).
	from := agencyids.Code(c.p.Get("from"))
	agency, ok := c.sys.Has(from, dir)
	if !ok && (from == "" || string(from) == c.sys.ID) && len(c.sys.Agencies) == 1 {
		agency, ok = c.sys.Agencies[0], true
	}
	if !ok {
		return h.notRegistered(c, from, "from")
	}

	body := http.MaxBytesReader(c.w.ResponseWriter, c.r.Body, h.cfg.MaxBody+multipartSlack)
	rd, form, err := payload(c.r.Header.Get("Content-Type"), body)
	if err != nil {
		return h.rejected(c, agency, form, err)
	}
	sp, err := spool(rd, h.cfg.MaxBody+2, memSpool, h.spoolDir())
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, mbe.Limit)
	}
	if err != nil {
		if errors.Is(err, ErrBodyTooLarge) {
			return h.rejected(c, agency, form, err)
		}
		return err
	}
	defer sp.Close()
	if sp.size == 0 {
		return h.rejected(c, agency, form, fmt.Errorf("%w: empty body", ErrBody))
	}
	pkt, err := sp.packet(c.p.Get("hash-file"))
	if err != nil {
		return h.rejected(c, agency, form, err)
	}

	// The packet's From must be an agency of the system too: a system
	// sends for its agencies and no others (the hub alone would also let
	// an agency send for its units). A packet that does not parse goes on
	// to the pipeline, which refuses it with the element path.
	if parsed, perr := envelope.ParseReaderAt(pkt, pkt.Size(), envelope.Options{Limits: envelope.Limits{MaxBytes: h.cfg.MaxBody}}); perr == nil {
		sender := parsed.From().OrganID
		a, ok := c.sys.Has(sender, dir)
		if !ok {
			return h.notRegistered(c, sender, "From")
		}
		agency = a
		if extra := toHeaderExtra(c.p.Get("to"), parsed.Recipients()); len(extra) > 0 {
			// The signed packet's To decides; the unsigned to header only
			// adds to the log (whether the axis merges them is unknown, §11.3).
			h.log.Warn("vxp: sendEdoc: the to header names agencies the packet's To does not; routing by the packet",
				"system", c.sys.ID, "extra", extra)
		}
	}
	rc, err := h.cfg.Hub.Accept(c.ctx, principal(agency), io.NewSectionReader(pkt, 0, pkt.Size()), pkt.Size())
	if err != nil {
		return err
	}
	writeReply(c.w, okHead(), shapeDocID, WireID(rc.ID), 0)
	return nil
}

func (h *Handler) spoolDir() string {
	if h.cfg.SpoolDir != "" {
		return h.cfg.SpoolDir
	}
	return os.TempDir()
}

// notRegistered refuses (audited) a sender that is not an agency of the
// system, in the live axis's words (§4).
func (h *Handler) notRegistered(c *call, code agencyids.Code, field string) error {
	h.cfg.Hub.Refused(c.ctx, c.actor(), c.what, fmt.Sprintf("sendEdoc: %s %q is not an agency of system %s", field, clip(string(code)), c.sys.ID))
	return &Error{Code: CodeFromNotRegistered,
		Desc: fmt.Sprintf("Don vi gui %s khong dung voi ma da dang ky: %s", clip(string(code)), c.sys.ID)}
}

// rejected audits a body refused before the pipeline, as the pipeline
// audits its own refusals (document.rejected), and returns err.
func (h *Handler) rejected(c *call, agency agencyids.Code, form BodyForm, err error) error {
	reason := "body"
	switch {
	case errors.Is(err, ErrHashFile):
		reason = "hash-file"
	case errors.Is(err, ErrBodyTooLarge):
		reason = "too-large"
	}
	p := principal(agency)
	if aerr := h.cfg.Store.AppendEvents(context.WithoutCancel(c.ctx), &archive.Event{Kind: "document.rejected", Actor: p.Actor(), Agency: agency,
		Details: details(map[string]any{"reason": reason, "error": err.Error(), "via": "vxp", "system": c.sys.ID, "body": string(form)})}); aerr != nil {
		h.log.Error("vxp: audit append failed", "err", aerr)
	}
	return err
}

// toHeaderExtra returns the agencies of a sendEdoc's to header (JSON: an
// array of codes, or one quoted code; else the text itself) that to does
// not hold.
func toHeaderExtra(header string, to []agencyids.Code) []string {
	if header == "" {
		return nil
	}
	var list []string
	if json.Unmarshal([]byte(header), &list) != nil {
		var one string
		if json.Unmarshal([]byte(header), &one) != nil {
			one = header
		}
		list = []string{one}
	}
	var extra []string
	for _, c := range list {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(to, agencyids.Code(c)) {
			extra = append(extra, clip(c))
		}
	}
	return extra
}
