// Package server is the gateway's HTTP front door. Today it serves health,
// the agency directory and envelope validation; the document hub (send,
// inbox, deliveries) is built on it by the hub issue.
package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/dirstore"
)

// Config configures a Server.
type Config struct {
	// DataDir is the embedded backend's folder (agencies.json lives there).
	DataDir string
	// MaxBody is the largest request body; 0 means 32 MiB.
	MaxBody int64
	Now     func() time.Time
}

// Server serves the HTTP API.
type Server struct {
	cfg Config
	mux *http.ServeMux

	mu      sync.Mutex
	dir     *agencyids.Directory
	dirStat string // size and mtime of agencies.json when dir was loaded
}

// New returns a server over cfg.DataDir; the directory is loaded now and
// reloaded whenever agencies.json changes (edocgw agency import while the
// server runs).
func New(cfg Config) (*Server, error) {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 32 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	if _, err := s.directory(); err != nil {
		return nil, err
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	s.mux.HandleFunc("GET /v1/agencies", s.searchAgencies)
	s.mux.HandleFunc("GET /v1/agencies/{code}", s.getAgency)
	s.mux.HandleFunc("POST /v1/envelopes/validate", s.validateEnvelope)
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) directory() (*agencyids.Directory, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stat := ""
	if fi, err := os.Stat(filepath.Join(s.cfg.DataDir, dirstore.FileName)); err == nil {
		stat = fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
	}
	if s.dir != nil && stat == s.dirStat {
		return s.dir, nil
	}
	d, err := dirstore.Load(s.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s.dir, s.dirStat = d, stat
	return d, nil
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	d, err := s.directory()
	if err != nil {
		problem(w, http.StatusServiceUnavailable, "unavailable", "agency directory unavailable", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "agencies": d.Len()})
}

func (s *Server) searchAgencies(w http.ResponseWriter, r *http.Request) {
	d, err := s.directory()
	if err != nil {
		problem(w, http.StatusServiceUnavailable, "unavailable", "agency directory unavailable", err.Error())
		return
	}
	limit := 20
	if l := r.URL.Query().Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > 200 {
			problem(w, http.StatusBadRequest, "bad-request", "limit must be 1–200", "")
			return
		}
	}
	q := r.URL.Query().Get("q")
	if q == "" {
		problem(w, http.StatusBadRequest, "bad-request", "q (a name prefix) is required", "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"agencies": nonNil(d.SearchName(q, limit))})
}

func nonNil(as []agencyids.Agency) []agencyids.Agency {
	if as == nil {
		return []agencyids.Agency{}
	}
	return as
}

func (s *Server) getAgency(w http.ResponseWriter, r *http.Request) {
	d, err := s.directory()
	if err != nil {
		problem(w, http.StatusServiceUnavailable, "unavailable", "agency directory unavailable", err.Error())
		return
	}
	code := r.PathValue("code")
	if _, _, err := agencyids.ParseLenient(code); err != nil {
		problem(w, http.StatusBadRequest, "invalid-agency-code", "invalid agency code", err.Error())
		return
	}
	a, ok := d.Lookup(agencyids.Code(code))
	if !ok {
		problem(w, http.StatusNotFound, "agency-not-found", "agency not found", code)
		return
	}
	writeJSON(w, http.StatusOK, a)
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

// validateEnvelope checks a packet: ?mode=strict (default) or lenient.
// A packet that cannot be parsed is a 422 problem; a parsed packet always
// gets a 200 report, valid or not.
func (s *Server) validateEnvelope(w http.ResponseWriter, r *http.Request) {
	v := envelope.Validator{Now: s.cfg.Now}
	switch r.URL.Query().Get("mode") {
	case "", "strict":
	case "lenient":
		v.Lenient = true
	default:
		problem(w, http.StatusBadRequest, "bad-request", "mode must be strict or lenient", "")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		problem(w, http.StatusRequestEntityTooLarge, "too-large", "packet too large", fmt.Sprintf("limit %d bytes", s.cfg.MaxBody))
		return
	}
	if err != nil {
		problem(w, http.StatusBadRequest, "bad-request", "cannot read body", err.Error())
		return
	}
	p, err := envelope.ParseReaderAt(bytes.NewReader(body), int64(len(body)), envelope.Options{Limits: envelope.Limits{MaxBytes: s.cfg.MaxBody}})
	if err != nil {
		e := envelope.First(err)
		problemWith(w, http.StatusUnprocessableEntity, "invalid-envelope", "packet is not a well-formed edXML packet", e.Error(),
			map[string]any{"errors": []*envelope.Error{e}})
		return
	}
	rep := ValidationReport{Kind: p.Kind().String(), From: string(p.From().OrganID), DocumentID: p.DocumentID()}
	for _, c := range p.Recipients() {
		rep.To = append(rep.To, string(c))
	}
	warns, err := v.Validate(p)
	rep.Warnings = warns
	var ps envelope.Problems
	if errors.As(err, &ps) {
		rep.Errors = ps
	}
	rep.Valid = err == nil
	writeJSON(w, http.StatusOK, rep)
}

// ProblemTypeBase prefixes the stable problem types of RFC 9457 responses.
const ProblemTypeBase = "https://edocgw.invalid/problems/"

func problem(w http.ResponseWriter, status int, typ, title, detail string) {
	problemWith(w, status, typ, title, detail, nil)
}

func problemWith(w http.ResponseWriter, status int, typ, title, detail string, ext map[string]any) {
	body := map[string]any{"type": ProblemTypeBase + typ, "title": title, "status": status}
	if detail != "" {
		body["detail"] = detail
	}
	for k, v := range ext {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
