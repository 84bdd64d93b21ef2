package server

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/routing"
)

// defaultAuditLimit is the page size of GET /v1/audit/events without limit.
const defaultAuditLimit = 100

// auditFilter reads the query of GET /v1/audit/events: document, delivery,
// agency, actor, kind (exact, or a prefix ending in "."), from and to (RFC
// 3339; from <= at < to), after (the cursor, AuditPage.Next) and limit.
func auditFilter(q url.Values) (routing.AuditFilter, error) {
	f := routing.AuditFilter{Document: q.Get("document"), Delivery: q.Get("delivery"), Agency: agencyids.Code(q.Get("agency")),
		Actor: q.Get("actor"), Kind: q.Get("kind"), Limit: defaultAuditLimit}
	if err := queryInt(q, "limit", &f.Limit); err != nil {
		return f, err
	}
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return f, detailf(routing.ErrBadRequest, "after must be a cursor (next of the page before)")
		}
		f.AfterSeq = n
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		s := q.Get(t.name)
		if s == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return f, detailf(routing.ErrBadRequest, "%s must be an RFC 3339 time, e.g. 2026-11-22T08:00:00+07:00", t.name)
		}
		*t.dst = v
	}
	return f, f.Validate()
}

// auditEvents answers an auditor's query of the audit log.
func (s *Server) auditEvents(w http.ResponseWriter, r *http.Request) error {
	f, err := auditFilter(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := s.cfg.Hub.AuditEvents(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	if page.Events == nil {
		page.Events = []routing.AuditEvent{}
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// exportBundle streams a document's archive bundle (application/zip). A
// failure once the answer has begun aborts the connection: an auditor never
// gets a truncated bundle that looks whole (verify-bundle would refuse it
// anyway).
func (s *Server) exportBundle(w http.ResponseWriter, r *http.Request) error {
	exp, err := s.cfg.Hub.ExportBundle(r.Context(), principal(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="`+exp.Filename()+`"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := exp.Write(w); err != nil {
		if r.Context().Err() == nil {
			s.log.Error("server: archive bundle not sent in full", "path", r.URL.Path, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	return nil
}
