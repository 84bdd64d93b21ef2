package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sync"

	"github.com/go-chi/chi/v5"

	"github.com/edocgw/edocgw/routing"
)

// inboxRequest is the query of GET /v1/inbox.
type inboxRequest struct {
	After string // the cursor of the page, InboxPage.Next of the one before
	Limit int
}

// Validate checks the bounds; the hub judges the cursor itself.
func (q *inboxRequest) Validate() error {
	switch {
	case q.Limit < 1 || q.Limit > 500:
		return detailf(routing.ErrBadRequest, "limit must be 1–500")
	case len(q.After) > 256:
		return detailf(routing.ErrBadRequest, "after is not a cursor")
	}
	return nil
}

func (s *Server) inbox(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := inboxRequest{After: q.Get("after"), Limit: 100}
	if err := queryInt(q, "limit", &req.Limit); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	page, err := s.cfg.Hub.Inbox(r.Context(), principal(r), req.After, req.Limit)
	if err != nil {
		return err
	}
	if page.Items == nil {
		page.Items = []routing.InboxEntry{}
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// fetchDelivery sends a delivery's original bytes.
func (s *Server) fetchDelivery(w http.ResponseWriter, r *http.Request) error {
	info, blob, err := s.cfg.Hub.FetchDelivery(r.Context(), principal(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	defer blob.Close()
	w.Header().Set("Edocgw-Delivery-Id", info.ID)
	w.Header().Set("Edocgw-Document-Id", info.Document)
	s.stream(w, r, blob, blobDigest(blob))
	return nil
}

func (s *Server) ack(w http.ResponseWriter, r *http.Request) error {
	info, err := s.cfg.Hub.Ack(r.Context(), principal(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

// deliveryIDsRequest is the body of POST /v1/inbox/ack and of POST
// /v1/inbox/fetch: at most max ids; or, to fetch (next), no ids and a
// limit: the first limit deliveries of the caller's inbox.
type deliveryIDsRequest struct {
	DeliveryIDs []string `json:"deliveryIds"`
	Limit       int      `json:"limit"`
	max         int
	next        bool // a limit may stand for the ids
}

// Validate checks the number of ids and their lengths, or the limit; the
// hub judges the ids themselves, one by one.
func (q *deliveryIDsRequest) Validate() error {
	if q.Limit != 0 || (q.next && q.DeliveryIDs == nil) {
		switch {
		case !q.next:
			return detailf(routing.ErrBadRequest, "limit is for POST /v1/inbox/fetch; name the deliveryIds")
		case q.DeliveryIDs != nil:
			return detailf(routing.ErrBadRequest, "deliveryIds or limit, not both")
		case q.Limit < 1 || q.Limit > q.max:
			return detailf(routing.ErrBadRequest, "limit must be 1–%d", q.max)
		}
		return nil
	}
	if len(q.DeliveryIDs) < 1 || len(q.DeliveryIDs) > q.max {
		return detailf(routing.ErrBadRequest, "deliveryIds must hold 1–%d ids", q.max)
	}
	for _, id := range q.DeliveryIDs {
		if len(id) > 256 {
			return detailf(routing.ErrBadRequest, "deliveryIds holds an id of %d bytes", len(id))
		}
	}
	return nil
}

// readDeliveryIDs reads and checks a deliveryIDsRequest of up to max ids
// (next: or a limit): its body is bounded by max ids of up to 256 bytes,
// quoted.
func readDeliveryIDs(w http.ResponseWriter, r *http.Request, max int, next bool) (*deliveryIDsRequest, error) {
	req := &deliveryIDsRequest{max: max, next: next}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, int64(max)*260))
	if err := dec.Decode(req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, detailf(routing.ErrBadRequest, "the body is not {\"deliveryIds\": [...]}: %v", err)
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return req, nil
}

// ackResult is one delivery's outcome in the answer of POST /v1/inbox/ack:
// the delivery as it now is, or the problem it met.
type ackResult struct {
	DeliveryID string                `json:"deliveryId"`
	Delivery   *routing.DeliveryInfo `json:"delivery,omitempty"`
	Problem    *problem              `json:"problem,omitempty"`
}

// ackMany acknowledges several deliveries of the caller's inbox.
func (s *Server) ackMany(w http.ResponseWriter, r *http.Request) error {
	req, err := readDeliveryIDs(w, r, routing.MaxAckBatch, false)
	if err != nil {
		return err
	}
	results, err := s.cfg.Hub.AckMany(r.Context(), principal(r), req.DeliveryIDs)
	if err != nil {
		return err
	}
	out := struct {
		Items []ackResult `json:"items"`
	}{make([]ackResult, len(results))}
	for i, res := range results {
		out.Items[i] = ackResult{DeliveryID: res.ID, Delivery: res.Info}
		if res.Err != nil {
			out.Items[i].Problem = s.itemProblem("acknowledgement", res.ID, res.Err)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// itemProblem is the problem of one delivery of a batch request; a 5xx is
// logged, as fail logs a request's.
func (s *Server) itemProblem(what, id string, err error) *problem {
	p := problemFor(err)
	if p.kind.status >= 500 {
		s.log.Error("server: "+what+" failed", "delivery", id, "status", p.kind.status, "err", err)
	}
	return p
}

// fetchMany sends the originals of several deliveries of the caller's
// inbox as multipart/mixed: one part per id asked, in order, each named by
// its Edocgw-Delivery-Id. A fetched delivery's part is its original, as
// GET /v1/deliveries/{id} sends it; one not fetched is its problem. A
// failure once the answer has begun aborts the connection, as stream does.
func (s *Server) fetchMany(w http.ResponseWriter, r *http.Request) error {
	req, err := readDeliveryIDs(w, r, routing.MaxFetchBatch, true)
	if err != nil {
		return err
	}
	var results []routing.FetchResult
	if req.DeliveryIDs == nil {
		results, err = s.cfg.Hub.FetchNext(r.Context(), principal(r), req.Limit)
	} else {
		results, err = s.cfg.Hub.FetchMany(r.Context(), principal(r), req.DeliveryIDs)
	}
	if err != nil {
		return err
	}
	defer routing.CloseBlobs(results)
	// Parts are gathered into writes of up to 64 KiB: written one by one,
	// each part's header and body went out as TLS records of their own.
	bw := partBufs.Get().(*bufio.Writer)
	bw.Reset(w)
	defer func() {
		bw.Reset(nil)
		partBufs.Put(bw)
	}()
	mw := multipart.NewWriter(bw)
	w.Header().Set("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	for _, res := range results {
		if err := s.fetchPart(mw, res); err != nil {
			if r.Context().Err() == nil {
				s.log.Error("server: batch fetch not sent in full", "delivery", res.ID, "err", err)
			}
			panic(http.ErrAbortHandler)
		}
	}
	if err := mw.Close(); err != nil {
		panic(http.ErrAbortHandler)
	}
	if err := bw.Flush(); err != nil {
		panic(http.ErrAbortHandler)
	}
	return nil
}

// partBufs holds fetchMany's buffered writers.
var partBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// fetchPart writes one delivery's part of fetchMany's answer.
func (s *Server) fetchPart(mw *multipart.Writer, res routing.FetchResult) error {
	h := textproto.MIMEHeader{}
	h.Set("Edocgw-Delivery-Id", res.ID)
	if res.Err != nil {
		b, err := json.Marshal(s.itemProblem("fetch", res.ID, res.Err))
		if err != nil {
			return err
		}
		h.Set("Content-Type", "application/problem+json")
		pw, err := mw.CreatePart(h)
		if err == nil {
			_, err = pw.Write(b)
		}
		return err
	}
	originalHeader(http.Header(h), res.Blob, blobDigest(res.Blob))
	h.Set("Edocgw-Document-Id", res.Info.Document)
	pw, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	_, err = copyOriginal(pw, res.Blob)
	return err
}
