package vxp

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/routing"
)

// DateLayout is the layout of dates on the wire: fromDate/toDate (the one
// sample, §9) and the times of list items.
const DateLayout = "02/01/2006 15:04:05"

// inboxPage is how many deliveries one Inbox call asks for.
const inboxPage = 500

// receivedItem is an item of getReceivedEdocList (§5 row 1). The fields
// after StatusDesc are edocgw's; the SDK ignores them.
type receivedItem struct {
	DocID       string `json:"docId"`
	ServiceType string `json:"serviceType"`
	MessageType string `json:"messageType"`
	CreatedTime string `json:"created_time"`
	UpdatedTime string `json:"updated_time"`
	From        string `json:"from"`
	To          string `json:"to"`
	Status      string `json:"status"`
	StatusDesc  string `json:"status_desc"`

	Title         string `json:"title,omitempty"`
	Notation      string `json:"notation,omitempty"`
	StatusCode    string `json:"statusCode,omitempty"` // a status packet's 01…16
	SenderDocID   string `json:"senderDocId"`
	ContentSha256 string `json:"contentSha256"`
	ContentLength int64  `json:"contentLength"`
}

// messageKind reads messagetype: edoc (the default) or status.
func messageKind(p Params) (envelope.Kind, string, error) {
	switch mt := strings.ToLower(strings.TrimSpace(p.Get("messagetype"))); mt {
	case "", "edoc":
		return envelope.KindDocument, "edoc", nil
	case "status":
		return envelope.KindStatus, "status", nil
	default:
		return 0, "", failf(CodeBadParam, nil, "messagetype %q: want edoc or status", clip(mt))
	}
}

// dateParam reads an optional date parameter (DateLayout, in zone).
func (h *Handler) dateParam(p Params, key string) (time.Time, error) {
	v := strings.TrimSpace(p.Get(key))
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(DateLayout, v, h.cfg.Zone)
	if err != nil {
		return time.Time{}, failf(CodeBadParam, err, "%s %q: want dd/MM/yyyy HH:mm:ss", key, clip(v))
	}
	return t, nil
}

func (h *Handler) date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(h.cfg.Zone).Format(DateLayout)
}

// pending walks the pull deliveries of the system's agencies not yet
// acknowledged, agency by agency in code order, until fn returns false.
func (h *Handler) pending(c *call, fn func(agency agencyids.Code, e *routing.InboxEntry) bool) error {
	agencies := slices.Sorted(slices.Values(c.sys.Agencies))
	for _, a := range agencies {
		after := ""
		for {
			page, err := h.cfg.Hub.Inbox(c.ctx, principal(a), after, inboxPage)
			if err != nil {
				return err
			}
			for i := range page.Items {
				if !fn(a, &page.Items[i]) {
					return nil
				}
			}
			if page.Next == "" {
				break
			}
			after = page.Next
		}
	}
	return nil
}

// getReceivedEdocList lists the system's pending documents or status
// packets (§5 row 1): its agencies' inboxes, split by messagetype.
func (h *Handler) getReceivedEdocList(c *call) error {
	kind, mt, err := messageKind(c.p)
	if err != nil {
		return err
	}
	from, err := h.dateParam(c.p, "fromDate")
	if err != nil {
		return err
	}
	to, err := h.dateParam(c.p, "toDate")
	if err != nil {
		return err
	}
	var items []receivedItem
	err = h.pending(c, func(a agencyids.Code, e *routing.InboxEntry) bool {
		if e.Kind != kind.String() || (!from.IsZero() && e.QueuedAt.Before(from)) || (!to.IsZero() && e.QueuedAt.After(to)) {
			return true
		}
		it := receivedItem{
			DocID: WireID(e.DeliveryID), ServiceType: "eDoc", MessageType: mt,
			CreatedTime: h.date(e.QueuedAt), UpdatedTime: h.date(e.QueuedAt),
			From: string(e.From), To: string(a), Title: e.Subject, StatusCode: e.StatusCode,
			SenderDocID: WireID(e.DocumentID), ContentSha256: e.Digest.String(), ContentLength: e.Size,
		}
		if e.Number != "" || e.Notation != "" {
			it.Notation = e.Number + "/" + e.Notation
		}
		it.Status, it.StatusDesc = "pending", "Cho tai ve"
		if e.State == routing.StatePulled {
			it.Status, it.StatusDesc = "downloaded", "Da tai ve, cho xac nhan"
		}
		items = append(items, it)
		return len(items) < h.cfg.MaxList
	})
	if err != nil {
		return err
	}
	lw := &listWriter{w: c.w}
	for _, it := range items {
		if err := lw.add(it); err != nil {
			return err
		}
	}
	return lw.end()
}

// count counts the system's pending packets of kind (§5 rows 7, 8).
func (h *Handler) count(c *call, kind envelope.Kind) error {
	n := 0
	err := h.pending(c, func(_ agencyids.Code, e *routing.InboxEntry) bool {
		if e.Kind == kind.String() {
			n++
		}
		return true
	})
	if err != nil {
		return err
	}
	writeReply(c.w, okHead(), shapeCount, "", n)
	return nil
}

func (h *Handler) countReceiveEdoc(c *call) error   { return h.count(c, envelope.KindDocument) }
func (h *Handler) countReceiveStatus(c *call) error { return h.count(c, envelope.KindStatus) }

// open fetches the original of the delivery docId names (marking it
// pulled), as its recipient.
func (h *Handler) open(c *call) (archive.Blob, error) {
	d, agency, err := h.delivery(c)
	if err != nil {
		return nil, err
	}
	_, blob, err := h.cfg.Hub.FetchDelivery(c.ctx, principal(agency), d.ID)
	return blob, err
}

// getEdoc answers the original as standard base64 in data (§5 row 4),
// streamed. A failure once the answer has begun aborts the connection: the
// client sees a broken transfer, never a truncated packet.
func (h *Handler) getEdoc(c *call) error {
	blob, err := h.open(c)
	if err != nil {
		return err
	}
	defer blob.Close()
	hd, _ := marshalASCII(okHead())
	pre := append(hd[:len(hd)-1:len(hd)-1], `,"data":"`...)
	const post = `"}`
	n := base64.StdEncoding.EncodedLen(int(blob.Size()))
	hdr := c.w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(pre)+n+len(post)))
	hdr.Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(pre)
	enc := base64.NewEncoder(base64.StdEncoding, c.w)
	h.copyOriginal(c, enc, blob)
	if err := enc.Close(); err != nil {
		panic(http.ErrAbortHandler)
	}
	_, _ = io.WriteString(c.w, post)
	return nil
}

// downloadEdoc answers the original's bytes (§5 row 5).
func (h *Handler) downloadEdoc(c *call) error {
	blob, err := h.open(c)
	if err != nil {
		return err
	}
	defer blob.Close()
	hdr := c.w.Header()
	hdr.Set("Content-Type", "application/xml")
	hdr.Set("Content-Length", strconv.FormatInt(blob.Size(), 10))
	hdr.Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusOK)
	h.copyOriginal(c, c.w, blob)
	return nil
}

// copyOriginal copies a blob whose answer has begun; only Read verifies
// the blob's digest, so any WriteTo is hidden.
func (h *Handler) copyOriginal(c *call, w io.Writer, blob archive.Blob) {
	n, err := io.Copy(w, struct{ io.Reader }{blob})
	if err == nil && n != blob.Size() {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		if c.ctx.Err() == nil {
			h.log.Error("vxp: original not sent in full", "method", c.name, "sent", n, "size", blob.Size(), "err", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// updateStatus is the transport acknowledgement (§7 item 1): done takes
// the delivery out of the inbox (the hub's Ack), fail and processing are
// recorded and leave it there.
func (h *Handler) updateStatus(c *call) error {
	status := strings.ToLower(strings.TrimSpace(c.p.Get("status")))
	if status != "done" && status != "fail" && status != "processing" {
		return failf(CodeBadParam, nil, "status %q: want done, fail or processing", clip(status))
	}
	d, agency, err := h.delivery(c)
	if err != nil {
		return err
	}
	if status == "done" {
		if _, err := h.cfg.Hub.Ack(c.ctx, principal(agency), d.ID); err != nil {
			return err
		}
	} else {
		kind := map[string]string{"fail": KindRecipientFailed, "processing": KindRecipientProcessing}[status]
		desc := c.p.Get("description")
		if len(desc) > 1000 {
			desc = clip(desc)
		}
		if err := h.audit(c, &archive.Event{Kind: kind, Actor: principal(agency).Actor(), Agency: agency, Document: d.Document, Delivery: d.ID,
			Details: details(map[string]any{"status": status, "note": desc, "via": "vxp", "system": c.sys.ID})}); err != nil {
			return err
		}
	}
	writeReply(c.w, okHead(), shapePlain, "", 0)
	return nil
}

// The audit kinds of updateStatus fail and processing; the trace shows
// them as the delivery's steps "vxp-failed" and "vxp-processing".
const (
	KindRecipientFailed     = "delivery.vxp-failed"
	KindRecipientProcessing = "delivery.vxp-processing"
)

// sentItem is a row of getSentEdocList (§5 row 2): one per recipient.
type sentItem struct {
	ServiceType       string `json:"serviceType"`
	MessageType       string `json:"messageType"`
	SenderDocID       string `json:"senderDocId"`
	ReceiverDocID     string `json:"receiverDocId"`
	FromCode          string `json:"fromCode"`
	ToCode            string `json:"toCode"`
	Title             string `json:"title"`
	Notation          string `json:"notation"`
	SentTime          string `json:"sentTime"`
	ReceivedTime      string `json:"receivedTime"`
	SendStatus        string `json:"sendStatus"`
	SendStatusDesc    string `json:"sendStatusDesc"`
	ReceiveStatus     string `json:"receiveStatus"`
	ReceiveStatusDesc string `json:"receiveStatusDesc"`
}

// sendStates are sendStatus values: where the hub's copy for a recipient is.
var sendStates = map[routing.DeliveryState][2]string{
	routing.StateQueued:    {"pending", "Dang cho chuyen"},
	routing.StateSending:   {"pending", "Dang chuyen"},
	routing.StatePulled:    {"sent", "Don vi nhan da tai ve"},
	routing.StateAcked:     {"done", "Don vi nhan da xac nhan"},
	routing.StateDelivered: {"done", "Da chuyen toi don vi nhan"},
	routing.StateDead:      {"fail", "Khong chuyen duoc"},
	routing.StateCancelled: {"cancelled", "Da huy"},
}

// statusNames are the status codes' names without diacritics.
var statusNames = map[string]string{
	"01": "Da den", "02": "Tu choi nhan", "03": "Da tiep nhan", "04": "Da chuyen xu ly", "05": "Dang xu ly",
	"06": "Da hoan thanh", "13": "Yeu cau thu hoi", "15": "Dong y cap nhat/thu hoi", "16": "Tu choi cap nhat/thu hoi",
}

// getSentEdocList reports each recipient of a document the system sent
// (§5 row 2), from the hub's trace: sendStatus is the hub's delivery,
// receiveStatus the last status packet the recipient sent (01…06, 15, 16).
func (h *Handler) getSentEdocList(c *call) error {
	raw := h.docID(c)
	if raw == "" {
		return failf(CodeBadParam, nil, "docId is required")
	}
	id, ok := HubID(raw)
	if !ok {
		return failf(CodeNotFound, nil, "docId %s", clip(raw))
	}
	doc, err := h.cfg.Store.Document(c.ctx, id)
	switch {
	case isNotFound(err):
		return failf(CodeNotFound, nil, "docId %s", clip(raw))
	case err != nil:
		return fmt.Errorf("%w: document %s: %w", routing.ErrUnavailable, id, err)
	}
	sender, err := h.agencyOf(c, doc.From, doc.ID)
	if err != nil {
		return err
	}
	tr, err := h.cfg.Hub.Trace(c.ctx, principal(sender), doc.ID)
	if err != nil {
		return err
	}
	mt := "edoc"
	if tr.Document.Kind == envelope.KindStatus.String() {
		mt = "status"
	}
	notation := ""
	if tr.Document.Number != "" || tr.Document.Notation != "" {
		notation = tr.Document.Number + "/" + tr.Document.Notation
	}
	lw := &listWriter{w: c.w}
	for _, r := range tr.Recipients {
		it := sentItem{
			ServiceType: "eDoc", MessageType: mt, SenderDocID: WireID(tr.Document.ID), ReceiverDocID: WireID(r.DeliveryID),
			FromCode: string(tr.Document.From), ToCode: string(r.Agency), Title: tr.Document.Subject, Notation: notation,
			SentTime: h.date(tr.Document.ReceivedAt),
		}
		if s, ok := sendStates[r.State]; ok {
			it.SendStatus, it.SendStatusDesc = s[0], s[1]
		} else {
			it.SendStatus, it.SendStatusDesc = "none", "Don vi nhan do truc gui phuc vu"
		}
		if r.State == routing.StateDead && r.LastError != "" {
			it.SendStatusDesc += ": " + r.LastError
		}
		for _, s := range slices.Backward(r.Steps) {
			if s.Step == "acked" || s.Step == "delivered" || s.Step == "forwarded" || s.Step == "pulled" || s.Step == "pushed" {
				it.ReceivedTime = h.date(s.At)
				break
			}
		}
		if n := len(r.Statuses); n > 0 {
			last := r.Statuses[n-1]
			it.ReceiveStatus, it.ReceiveStatusDesc = last.Code, statusNames[last.Code]
		}
		if err := lw.add(it); err != nil {
			return err
		}
	}
	return lw.end()
}
