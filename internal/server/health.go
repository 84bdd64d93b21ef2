package server

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/edocgw/edocgw/routing"
)

// readyTimeout bounds the dependency checks of /readyz.
const readyTimeout = 5 * time.Second

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when every dependency of the hub answers, else a 503
// unavailable problem; both carry checks: name -> "ok" or the failure.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	checks := map[string]string{}
	var failed []string
	for name, err := range s.cfg.Hub.Ready(ctx) {
		checks[name] = "ok"
		if err != nil {
			checks[name] = err.Error()
			failed = append(failed, name)
		}
	}
	if len(failed) == 0 {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checks": checks})
		return
	}
	p := problemFor(routing.ErrUnavailable)
	slices.Sort(failed)
	p.detail = "not ready: " + strings.Join(failed, ", ")
	p.ext["checks"] = checks
	s.writeProblem(w, p)
}
