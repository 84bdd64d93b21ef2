package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/edocgw/edocgw/archive"
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
	var d *archive.Digest
	if dg, ok := blob.(digester); ok {
		v := dg.Digest()
		d = &v
	}
	s.stream(w, r, blob, d)
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

// ackManyRequest is the body of POST /v1/inbox/ack.
type ackManyRequest struct {
	DeliveryIDs []string `json:"deliveryIds"`
}

// maxAckManyBody bounds the body of POST /v1/inbox/ack: 500 ids of up to
// 256 bytes, quoted.
const maxAckManyBody = routing.MaxAckBatch * 260

// Validate checks the number of ids and their lengths; the hub judges the
// ids themselves, one by one.
func (q *ackManyRequest) Validate() error {
	if len(q.DeliveryIDs) < 1 || len(q.DeliveryIDs) > routing.MaxAckBatch {
		return detailf(routing.ErrBadRequest, "deliveryIds must hold 1–%d ids", routing.MaxAckBatch)
	}
	for _, id := range q.DeliveryIDs {
		if len(id) > 256 {
			return detailf(routing.ErrBadRequest, "deliveryIds holds an id of %d bytes", len(id))
		}
	}
	return nil
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
	var req ackManyRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAckManyBody))
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return detailf(routing.ErrBadRequest, "the body is not {\"deliveryIds\": [...]}: %v", err)
	}
	if err := req.Validate(); err != nil {
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
			p := problemFor(res.Err)
			if p.kind.status >= 500 {
				s.log.Error("server: acknowledgement failed", "delivery", res.ID, "status", p.kind.status, "err", res.Err)
			}
			out.Items[i].Problem = p
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
