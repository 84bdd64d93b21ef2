package server

import (
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
