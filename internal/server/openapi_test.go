package server

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

const openapiFile = "../../docs/openapi.yaml"

// stubHub and stubTokens let New build the router; nothing calls them.
type (
	stubHub    struct{ Hub }
	stubTokens struct{ Tokens }
)

// TestOpenAPIMatchesRoutes checks that docs/openapi.yaml describes exactly
// the routes the router has, method by method.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s, err := New(Config{Hub: stubHub{}, Tokens: stubTokens{}})
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	err = chi.Walk(s.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routes = append(routes, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	documented := openapiOperations(t)
	slices.Sort(routes)
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in %s", r, openapiFile)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("%s documents %s, which the router lacks", openapiFile, d)
		}
	}
	if len(routes) < 12 {
		t.Errorf("only %d routes walked: %v", len(routes), routes)
	}
}

// openapiOperations returns "METHOD /path" for each operation under paths:
// (a path at indent 2, its methods at indent 4).
func openapiOperations(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(openapiFile)
	if err != nil {
		t.Fatal(err)
	}
	pathRE := regexp.MustCompile(`^  (/\S*):\s*$`)
	methodRE := regexp.MustCompile(`^    (get|put|post|delete|options|head|patch|trace):\s*$`)
	var ops []string
	in, path := false, ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if line != "" && line[0] != ' ' && line[0] != '#' {
			in = line == "paths:"
			continue
		}
		if !in {
			continue
		}
		if m := pathRE.FindStringSubmatch(line); m != nil {
			path = m[1]
		} else if m := methodRE.FindStringSubmatch(line); m != nil && path != "" {
			ops = append(ops, strings.ToUpper(m[1])+" "+path)
		}
	}
	if len(ops) == 0 {
		t.Fatalf("no operations found under paths: in %s", openapiFile)
	}
	return ops
}

// TestOpenAPIProblemTypes checks that docs/openapi.yaml lists exactly the
// problem types problemFor makes.
func TestOpenAPIProblemTypes(t *testing.T) {
	b, err := os.ReadFile(openapiFile)
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile(regexp.QuoteMeta(ProblemTypeBase)+`([a-z-]+)`).FindAllStringSubmatch(string(b), -1) {
		if !slices.Contains(documented, m[1]) {
			documented = append(documented, m[1])
		}
	}
	known := []string{duplicateKind.name, internalKind.name}
	for _, k := range problemKinds {
		known = append(known, k.name)
	}
	slices.Sort(known)
	slices.Sort(documented)
	if !slices.Equal(slices.Compact(known), documented) {
		t.Errorf("problem types\n%v\ndocumented\n%v", known, documented)
	}
}
