package vxp

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// DefaultPrefix is where provincial deployments of the axis serve the
// protocol (§2.1).
const DefaultPrefix = "/XrdAdapter/adapter"

// reserved are the first path segments of the native API; a prefix may
// not shadow them.
var reserved = []string{"v1", "healthz", "readyz", "metrics"}

// NormalizePrefix checks a path prefix: "/" or "" (the root), or a path
// such as /XrdAdapter/adapter, returned without its trailing slash.
func NormalizePrefix(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" || p == "/" {
		return "", nil
	}
	p = strings.TrimRight(p, "/")
	switch {
	case !strings.HasPrefix(p, "/"):
		return "", fmt.Errorf("vxp: prefix %q does not start with /", p)
	case strings.Contains(p, "//") || strings.ContainsAny(p, "?#%") || strings.Contains(p, "/./") || strings.Contains(p, "/../") ||
		strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/.."):
		return "", fmt.Errorf("vxp: prefix %q is not a plain path", p)
	}
	first, _, _ := strings.Cut(p[1:], "/")
	if slices.Contains(reserved, first) {
		return "", fmt.Errorf("vxp: prefix %q would shadow the native API's /%s", p, first)
	}
	return p, nil
}

// Mount returns a handler that serves the protocol under each prefix and
// passes every other request to next. Under a root prefix only the
// method names are the protocol's (/sendEdoc, …); under another prefix
// every path below it is, an unknown name answered with ErrorCode 4040.
func (h *Handler) Mount(next http.Handler, prefixes ...string) (http.Handler, error) {
	var ps []string
	for _, p := range prefixes {
		n, err := NormalizePrefix(p)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ps, n) {
			ps = append(ps, n)
		}
	}
	if len(ps) == 0 {
		return next, nil
	}
	// The longest prefix first: /a/b before /a before the root.
	slices.SortFunc(ps, func(a, b string) int { return len(b) - len(a) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		for _, p := range ps {
			rest, ok := strings.CutPrefix(path, p+"/")
			if !ok {
				if p != "" && path == p {
					h.serve(w, r, "")
					return
				}
				continue
			}
			if _, known := endpoints[rest]; known || p != "" {
				h.serve(w, r, rest)
				return
			}
		}
		next.ServeHTTP(w, r)
	}), nil
}
