package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/routing"
)

// searchRequest is the query of GET /v1/agencies.
type searchRequest struct {
	Q     string // a name prefix
	Limit int
}

func (q *searchRequest) Validate() error {
	switch {
	case q.Q == "":
		return detailf(routing.ErrBadRequest, "q (a name prefix) is required")
	case q.Limit < 1 || q.Limit > 200:
		return detailf(routing.ErrBadRequest, "limit must be 1–200")
	}
	return nil
}

func (s *Server) directory() (*agencyids.Directory, error) {
	d := s.cfg.Hub.Directory()
	if d == nil {
		return nil, fmt.Errorf("%w: no agency directory", routing.ErrUnavailable)
	}
	return d, nil
}

func (s *Server) searchAgencies(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := searchRequest{Q: q.Get("q"), Limit: 20}
	if err := queryInt(q, "limit", &req.Limit); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	d, err := s.directory()
	if err != nil {
		return err
	}
	found := d.SearchName(req.Q, req.Limit)
	if found == nil {
		found = []agencyids.Agency{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"agencies": found})
	return nil
}

func (s *Server) getAgency(w http.ResponseWriter, r *http.Request) error {
	code := chi.URLParam(r, "code")
	if _, _, err := agencyids.ParseLenient(code); err != nil {
		return detailf(errInvalidAgencyCode, "%v", err)
	}
	d, err := s.directory()
	if err != nil {
		return err
	}
	a, ok := d.Lookup(agencyids.Code(code))
	if !ok {
		return detailf(errAgencyNotFound, "%s", code)
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// ValidationReport is the answer of POST /v1/envelopes/validate.
type ValidationReport struct {
	Valid      bool              `json:"valid"`
	Kind       string            `json:"kind,omitempty"`
	From       string            `json:"from,omitempty"`
	To         []string          `json:"to,omitempty"`
	DocumentID string            `json:"documentId,omitempty"`
	Errors     []*envelope.Error `json:"errors,omitempty"`
	Warnings   []*envelope.Error `json:"warnings,omitempty"`
}

// validateRequest is the query of POST /v1/envelopes/validate.
type validateRequest struct {
	Mode string // "strict" (the default) or "lenient"
}

func (q *validateRequest) Validate() error {
	if q.Mode != "strict" && q.Mode != "lenient" {
		return detailf(routing.ErrBadRequest, "mode must be strict or lenient")
	}
	return nil
}

// validateEnvelope checks a packet. A packet that cannot be parsed is a 422
// problem; a parsed packet always gets a 200 report, valid or not.
func (s *Server) validateEnvelope(w http.ResponseWriter, r *http.Request) error {
	req := validateRequest{Mode: r.URL.Query().Get("mode")}
	if req.Mode == "" {
		req.Mode = "strict"
	}
	if err := req.Validate(); err != nil {
		return err
	}
	limit := min(s.cfg.MaxBody, maxValidateBody)
	if r.ContentLength > limit {
		return detailf(routing.ErrTooLarge, "%d bytes; the limit is %d bytes", r.ContentLength, limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return detailf(routing.ErrBadRequest, "cannot read the body: %v", err)
	}
	p, err := envelope.ParseReaderAt(bytes.NewReader(body), int64(len(body)), envelope.Options{Limits: envelope.Limits{MaxBytes: limit}})
	if err != nil {
		return fmt.Errorf("%w: %w", routing.ErrInvalidPacket, err)
	}
	rep := ValidationReport{Kind: p.Kind().String(), From: string(p.From().OrganID), DocumentID: p.DocumentID()}
	for _, c := range p.Recipients() {
		rep.To = append(rep.To, string(c))
	}
	v := envelope.Validator{Lenient: req.Mode == "lenient", Now: s.cfg.Now}
	warns, err := v.Validate(p)
	rep.Warnings = warns
	var ps envelope.Problems
	if errors.As(err, &ps) {
		rep.Errors = ps
	}
	rep.Valid = err == nil
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// queryInt sets *v from the query parameter name when it is present.
func queryInt(q url.Values, name string, v *int) error {
	s := q.Get(name)
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return detailf(routing.ErrBadRequest, "%s must be an integer", name)
	}
	*v = n
	return nil
}
