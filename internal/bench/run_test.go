package bench

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
)

// fakeGateway speaks the API the load generator uses: every send after
// the first is refused when reject says so; a delivery stays in its
// recipient's inbox until acknowledged.
type fakeGateway struct {
	mu      sync.Mutex
	sends   int
	reject  func(n int) bool
	tokens  map[string]agencyids.Code
	inbox   map[agencyids.Code][]inboxItem
	content map[string][]byte // delivery id → original
	// batchAcks counts POST /v1/inbox/ack; fetches GET /v1/deliveries/{id};
	// batchFetches POST /v1/inbox/fetch.
	batchAcks, fetches, batchFetches int
	nextFetches                      int // POST /v1/inbox/fetch with a limit
	// Faults of POST /v1/inbox/fetch: parts, when set, is the ids of the
	// parts sent for those asked (default: those asked); part changes a
	// part's header; problems answers ids with an untyped problem of that
	// status; cut, when set, ends the answer after that many parts, with
	// no closing boundary; status, when set, refuses the whole request.
	fetchFault struct {
		parts    func(ids []string) []string
		part     func(textproto.MIMEHeader)
		problems map[string]int
		cut      int
		status   int
	}
}

func newFakeGateway(p *PKI, reject func(int) bool) (*fakeGateway, []string) {
	g := &fakeGateway{reject: reject, tokens: map[string]agencyids.Code{}, inbox: map[agencyids.Code][]inboxItem{}, content: map[string][]byte{}}
	var toks []string
	for i, a := range p.Agencies {
		tok := "token-" + strconv.Itoa(i)
		g.tokens[tok] = a.Code
		toks = append(toks, tok)
	}
	return g, toks
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	agency, ok := g.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		problem(w, http.StatusUnauthorized, "unauthenticated")
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch rest, _ := strings.CutPrefix(r.URL.Path, "/v1/deliveries/"); {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/documents":
		b, _ := io.ReadAll(r.Body)
		g.sends++
		if g.reject(g.sends) {
			problem(w, http.StatusUnprocessableEntity, "signature-invalid")
			return
		}
		pkt, err := envelope.Parse(b)
		if err != nil || pkt.From().OrganID != agency {
			problem(w, http.StatusUnprocessableEntity, "invalid-envelope")
			return
		}
		id := fmt.Sprintf("DOC%023d", g.sends)
		var rcpts []map[string]string
		for i, to := range pkt.Recipients() {
			d := fmt.Sprintf("DEL%020d%03d", g.sends, i)
			g.inbox[to] = append(g.inbox[to], inboxItem{d, id})
			g.content[d] = b
			rcpts = append(rcpts, map[string]string{"agency": string(to), "deliveryId": d, "route": "pull", "state": "queued"})
		}
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(map[string]any{"id": id, "recipients": rcpts})
	case r.Method == http.MethodGet && r.URL.Path == "/v1/inbox":
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		items := []map[string]string{}
		for _, it := range g.inbox[agency][:min(limit, len(g.inbox[agency]))] {
			items = append(items, map[string]string{"deliveryId": it.DeliveryID, "documentId": it.DocumentID})
		}
		json.NewEncoder(w).Encode(map[string]any{"items": items})
	case r.Method == http.MethodGet && rest != "":
		g.fetches++
		b, ok := g.content[rest]
		if !ok {
			problem(w, http.StatusNotFound, "not-found")
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/inbox/fetch":
		g.fetchMany(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/inbox/ack":
		var req struct {
			DeliveryIDs []string `json:"deliveryIds"`
		}
		if json.NewDecoder(r.Body).Decode(&req) != nil || len(req.DeliveryIDs) == 0 {
			problem(w, http.StatusBadRequest, "bad-request")
			return
		}
		g.batchAcks++
		var out []map[string]any
		for _, id := range req.DeliveryIDs {
			i := slices.IndexFunc(g.inbox[agency], func(it inboxItem) bool { return it.DeliveryID == id })
			if i < 0 {
				out = append(out, map[string]any{"deliveryId": id, "problem": map[string]any{"type": "https://edocgw.invalid/problems/not-found", "status": 404}})
				continue
			}
			g.inbox[agency] = slices.Delete(g.inbox[agency], i, i+1)
			out = append(out, map[string]any{"deliveryId": id, "delivery": map[string]string{"id": id, "state": "acked"}})
		}
		json.NewEncoder(w).Encode(map[string]any{"items": out})
	case r.Method == http.MethodPost && strings.HasSuffix(rest, "/ack"):
		id := strings.TrimSuffix(rest, "/ack")
		items := g.inbox[agency]
		for i, it := range items {
			if it.DeliveryID == id {
				g.inbox[agency] = append(items[:i:i], items[i+1:]...)
				json.NewEncoder(w).Encode(map[string]string{"id": id, "state": "acked"})
				return
			}
		}
		problem(w, http.StatusNotFound, "not-found")
	default:
		problem(w, http.StatusNotFound, "not-found")
	}
}

// fetchMany answers POST /v1/inbox/fetch as the gateway does: one part
// per id asked, in order, the original or a problem; g.mu is held.
// documentOf is the document of delivery id, from the inboxes.
func (g *fakeGateway) documentOf(id string) string {
	for _, items := range g.inbox {
		for _, it := range items {
			if it.DeliveryID == id {
				return it.DocumentID
			}
		}
	}
	return "DOC-OF-" + id
}

func (g *fakeGateway) fetchMany(w http.ResponseWriter, r *http.Request) {
	var req struct {
		DeliveryIDs []string `json:"deliveryIds"`
		Limit       int      `json:"limit"`
	}
	if json.NewDecoder(r.Body).Decode(&req) != nil || len(req.DeliveryIDs) > 100 ||
		(len(req.DeliveryIDs) < 1) == (req.Limit < 1 || req.Limit > 100) {
		problem(w, http.StatusBadRequest, "bad-request")
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		problem(w, http.StatusUnsupportedMediaType, "unsupported-media-type")
		return
	}
	if f := g.fetchFault.status; f != 0 {
		problem(w, f, "unavailable")
		return
	}
	g.batchFetches++
	ids := req.DeliveryIDs
	if req.Limit > 0 {
		g.nextFetches++
		agency := g.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		for _, it := range g.inbox[agency][:min(req.Limit, len(g.inbox[agency]))] {
			ids = append(ids, it.DeliveryID)
		}
	}
	if g.fetchFault.parts != nil {
		ids = g.fetchFault.parts(slices.Clone(ids))
	}
	mw := multipart.NewWriter(w)
	w.Header().Set("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	for i, id := range ids {
		if i == g.fetchFault.cut && i > 0 {
			return
		}
		h := textproto.MIMEHeader{"Edocgw-Delivery-Id": {id}}
		b, ok := g.content[id]
		if status := g.fetchFault.problems[id]; !ok || status != 0 {
			p := map[string]any{"type": "https://edocgw.invalid/problems/not-found", "status": 404, "deliveryId": id}
			if status != 0 {
				p = map[string]any{"status": status, "deliveryId": id}
			}
			h.Set("Content-Type", "application/problem+json")
			pw, _ := mw.CreatePart(h)
			json.NewEncoder(pw).Encode(p)
			continue
		}
		d := sha256.Sum256(b)
		h.Set("Content-Type", "application/xml")
		h.Set("Edocgw-Document-Id", g.documentOf(id))
		h.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(d[:])+":")
		h.Set("Content-Length", strconv.Itoa(len(b)))
		if g.fetchFault.part != nil {
			g.fetchFault.part(h)
		}
		pw, _ := mw.CreatePart(h)
		pw.Write(b)
	}
	mw.Close()
}

func problem(w http.ResponseWriter, status int, kind string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"type": "https://edocgw.invalid/problems/" + kind, "status": status})
}

func TestRunAgainstFakeGateway(t *testing.T) {
	p := testPKI(t)
	for _, tc := range []struct {
		name       string
		cfg        Config
		reject     func(int) bool
		accepted   int64
		rejected   int64
		recipients int
	}{
		{"closed loop, refusals", Config{Documents: 20, Concurrency: 3, Recipients: 2, Gateway: SelfProbe{}},
			func(n int) bool { return n%5 == 0 }, 16, 4, 2},
		{"open loop", Config{Documents: 15, Concurrency: 2, Rate: 5000, Recipients: 1},
			func(int) bool { return false }, 15, 0, 1},
		{"acknowledged a page at a time", Config{Documents: 15, Concurrency: 4, Recipients: 2, AckPage: true},
			func(int) bool { return false }, 15, 0, 2},
		{"fetched a page at a time", Config{Documents: 15, Concurrency: 4, Recipients: 2, FetchPage: true},
			func(int) bool { return false }, 15, 0, 2},
		{"fetched and acknowledged a page at a time", Config{Documents: 15, Concurrency: 4, Recipients: 2, FetchPage: true, AckPage: true},
			func(int) bool { return false }, 15, 0, 2},
		{"the next page fetched without a listing", Config{Documents: 15, Concurrency: 4, Recipients: 2, FetchNext: true, AckPage: true},
			func(int) bool { return false }, 15, 0, 2},
		// -1: however many the second allows.
		{"duration, signing during the run", Config{Duration: time.Second, Concurrency: 1, Recipients: 3, Ahead: 4},
			func(int) bool { return false }, -1, 0, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, toks := newFakeGateway(p, tc.reject)
			// A delivery of an earlier run waits in an inbox.
			g.inbox[p.Agencies[1].Code] = []inboxItem{{"OLD0000000000000000000001", "OLDDOC0000000000000000001"}}
			g.content["OLD0000000000000000000001"] = []byte("<edXML/>")
			srv := httptest.NewTLSServer(g)
			defer srv.Close()
			cfg := tc.cfg
			cfg.URL, cfg.Client, cfg.Agencies, cfg.Tokens = srv.URL, srv.Client(), p.Agencies, toks
			cfg.Mix, cfg.Pullers, cfg.Poll, cfg.Drain, cfg.SpoolDir = Mix{{"8KB", 8 << 10, 1}}, 2, 5*time.Millisecond, time.Minute, t.TempDir()
			cfg.LimitTime = 20 * time.Millisecond
			var progress strings.Builder
			cfg.Progress = &syncWriter{w: &progress}
			res, err := Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkLimit(t, res, 8<<10)
			d := res.Documents
			if tc.accepted < 0 && d.Accepted > 0 {
				tc.accepted = d.Accepted
			}
			if d.Accepted != tc.accepted || d.Rejected["signature-invalid"] != tc.rejected || res.Errors["send:signature-invalid"] != tc.rejected {
				t.Fatalf("documents %+v, errors %v", d, res.Errors)
			}
			if d.Sent != d.Accepted+tc.rejected+d.Failed || d.Failed != 0 {
				t.Fatalf("documents %+v", d)
			}
			want := tc.accepted * int64(tc.recipients)
			dl := res.Deliveries
			if dl.Expected != want || dl.Delivered != want || dl.Unmatched != 1 || dl.Fetched != want+1 {
				t.Fatalf("deliveries %+v, want %d", dl, want)
			}
			g.mu.Lock()
			batches, fetches, batchFetches, nextFetches := g.batchAcks, g.fetches, g.batchFetches, g.nextFetches
			g.mu.Unlock()
			if (batches > 0) != cfg.AckPage || res.Config.Ack != map[bool]string{false: "each", true: "page"}[cfg.AckPage] {
				t.Fatalf("%d batch acknowledgements, config %+v", batches, res.Config)
			}
			batch, mode := cfg.FetchPage || cfg.FetchNext, map[bool]string{false: "each", true: "page"}[cfg.FetchPage]
			if cfg.FetchNext {
				mode = "next"
			}
			if (batchFetches > 0) != batch || (fetches > 0) == batch || (nextFetches > 0) != cfg.FetchNext || res.Config.Fetch != mode {
				t.Fatalf("%d batch fetches (%d of the next page), %d fetches one by one, config %+v", batchFetches, nextFetches, fetches, res.Config)
			}
			if len(res.Errors) != int(min(tc.rejected, 1)) {
				t.Fatalf("errors %v", res.Errors)
			}
			if least := want * (8 << 10) * 9 / 10; dl.BytesFetched < least {
				t.Fatalf("%d bytes fetched, want at least %d", dl.BytesFetched, least)
			}
			l := res.Latency
			if l.Count != uint64(want) || !(l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
				t.Fatalf("latency %+v", l)
			}
			if res.SendLatency.Count != uint64(d.Sent) || res.AcceptedPerSecond <= 0 || res.BytesPerSecond <= 0 {
				t.Fatalf("result %+v", res)
			}
			if (cfg.Gateway != nil) != (res.Gateway != nil) || res.Gateway != nil && (!res.Gateway.IncludesBench || res.Gateway.PeakRSSBytes <= 0) {
				t.Fatalf("gateway %+v", res.Gateway)
			}
			if res.Bench.SignedBefore < 1 || !strings.Contains(progress.String(), "signing documents") {
				t.Fatalf("bench %+v, progress %q", res.Bench, progress.String())
			}
		})
	}
}

// TestPullPageFetchPage: a page fetched in one POST /v1/inbox/fetch
// delivers the items whose parts are theirs and whole, and counts an
// error for each other; a fault of the whole request counts one.
func TestPullPageFetchPage(t *testing.T) {
	p := testPKI(t)
	// parts sends the parts of f(the ids asked).
	parts := func(f func(ids []string) []string) func(*fakeGateway) {
		return func(g *fakeGateway) { g.fetchFault.parts = f }
	}
	for _, tc := range []struct {
		name  string
		fault func(g *fakeGateway)
		left  []string // not delivered, in the inbox still
		errs  map[string]int64
	}{
		{"every part", func(*fakeGateway) {}, nil, map[string]int64{}},
		{"a problem part", func(g *fakeGateway) { delete(g.content, "D1") },
			[]string{"D1"}, map[string]int64{"fetch:not-found": 1}},
		{"an untyped problem part", func(g *fakeGateway) { g.fetchFault.problems = map[string]int{"D3": 503} },
			[]string{"D3"}, map[string]int64{"fetch:http-503": 1}},
		{"parts out of order", parts(func(ids []string) []string { ids[1], ids[2] = ids[2], ids[1]; return ids }),
			[]string{"D1", "D2"}, map[string]int64{"fetch:unreadable-answer": 2}},
		{"the last part missing", parts(func(ids []string) []string { return ids[:3] }),
			[]string{"D3"}, map[string]int64{"fetch:unreadable-answer": 1}},
		// The parts after it are not those expected there either.
		{"a part missing", parts(func(ids []string) []string { return slices.Delete(ids, 1, 2) }),
			[]string{"D1", "D2", "D3"}, map[string]int64{"fetch:unreadable-answer": 3}},
		{"a part not asked for", parts(func(ids []string) []string { return append(ids, "D0") }),
			nil, map[string]int64{"fetch:unreadable-answer": 1}},
		{"a short part", func(g *fakeGateway) {
			g.fetchFault.part = func(h textproto.MIMEHeader) {
				if h.Get("Edocgw-Delivery-Id") == "D2" {
					n, _ := strconv.Atoi(h.Get("Content-Length"))
					h.Set("Content-Length", strconv.Itoa(n+1))
				}
			}
		}, []string{"D2"}, map[string]int64{"fetch:connection-closed": 1}},
		// The second part is read to the end of the answer, the others
		// never begin.
		{"the answer cut short", func(g *fakeGateway) { g.fetchFault.cut = 2 },
			[]string{"D1", "D2", "D3"}, map[string]int64{"fetch:connection-closed": 3}},
		{"the request refused", func(g *fakeGateway) { g.fetchFault.status = http.StatusServiceUnavailable },
			[]string{"D0", "D1", "D2", "D3"}, map[string]int64{"fetch:unavailable": 1}},
	} {
		for _, ackPage := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, ack page %v", tc.name, ackPage), func(t *testing.T) {
				g, toks := newFakeGateway(p, func(int) bool { return false })
				to := p.Agencies[1].Code
				for i := range 4 {
					id := "D" + strconv.Itoa(i)
					g.inbox[to] = append(g.inbox[to], inboxItem{id, "DOC" + strconv.Itoa(i)})
					g.content[id] = []byte(strings.Repeat("x", 100+i))
				}
				tc.fault(g)
				srv := httptest.NewTLSServer(g)
				defer srv.Close()
				r := &runner{cfg: Config{URL: srv.URL, Client: srv.Client(), Tokens: toks, FetchPage: true, AckPage: ackPage, Now: time.Now},
					docs: map[string]*docState{}, errs: map[string]int64{}, stop: make(chan struct{}), start: time.Now()}
				for i := range 4 {
					r.docs["DOC"+strconv.Itoa(i)] = &docState{accepted: true, acceptedAt: time.Now(), left: 1}
					r.expected.Add(1)
				}
				if n := r.pullPage(t.Context(), 1); n != 4 {
					t.Fatalf("page of %d", n)
				}
				g.mu.Lock()
				var left []string
				for _, it := range g.inbox[to] {
					left = append(left, it.DeliveryID)
				}
				fetches, batchFetches, batchAcks := g.fetches, g.batchFetches, g.batchAcks
				g.mu.Unlock()
				want := int64(4 - len(tc.left))
				if !slices.Equal(left, tc.left) || r.delivered.Load() != want || r.fetched.Load() != want || r.lat.Count() != uint64(want) {
					t.Fatalf("left %v, delivered %d, fetched %d, latencies %d; want left %v", left, r.delivered.Load(), r.fetched.Load(), r.lat.Count(), tc.left)
				}
				var bytes int64
				for i := range 4 {
					if !slices.Contains(tc.left, "D"+strconv.Itoa(i)) {
						bytes += int64(100 + i)
					}
				}
				if r.bytesFetched.Load() != bytes {
					t.Fatalf("%d bytes fetched, want %d", r.bytesFetched.Load(), bytes)
				}
				if fmt.Sprint(r.errs) != fmt.Sprint(tc.errs) {
					t.Fatalf("errors %v, want %v", r.errs, tc.errs)
				}
				if fetches != 0 || batchFetches > 1 || (batchAcks > 0) != (ackPage && want > 0) {
					t.Fatalf("%d fetches one by one, %d batch fetches, %d batch acknowledgements", fetches, batchFetches, batchAcks)
				}
			})
		}
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestProblemName(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{422, `{"type":"https://edocgw.invalid/problems/signature-invalid","status":422}`, "signature-invalid"},
		{409, `{"type":"https://edocgw.invalid/problems/duplicate","firstId":"X"}`, "duplicate"},
		{503, `{"type":"about:blank"}`, "http-503"},
		{502, `<html>bad gateway</html>`, "http-502"},
		{500, `{"type":"https://example.invalid/"}`, "http-500"},
	} {
		if got := problemName(tc.status, []byte(tc.body)); got != tc.want {
			t.Errorf("problemName(%d, %s) = %q, want %q", tc.status, tc.body, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestTransportKind(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{context.Canceled, "canceled"},
		{fmt.Errorf("Post: %w", context.DeadlineExceeded), "timeout"},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, "timeout"},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, "connection-refused"},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, "connection-reset"},
		{io.ErrUnexpectedEOF, "connection-closed"},
		{errors.New("tls: bad certificate"), "transport"},
	} {
		if got := transportKind(tc.err); got != tc.want {
			t.Errorf("transportKind(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestShares(t *testing.T) {
	got := shares(5, 2)
	if fmt.Sprint(got) != "[[0 2 4] [1 3]]" {
		t.Fatalf("%v", got)
	}
	if got := shares(2, 2); fmt.Sprint(got) != "[[0] [1]]" {
		t.Fatalf("%v", got)
	}
}

func TestParseRunTag(t *testing.T) {
	tag := runTag(1, time.Unix(1_800_000_000, 0))
	if len(tag) != 8 || strings.ToUpper(tag) != tag || tag == runTag(2, time.Unix(1_800_000_000, 0)) {
		t.Fatalf("tag %q", tag)
	}
}

// With More, requests go to every instance in turn, and deliveries made
// through one are fetched through another (one database behind them).
func TestRunAgainstTwoInstances(t *testing.T) {
	p := testPKI(t)
	g, toks := newFakeGateway(p, func(int) bool { return false })
	var mu sync.Mutex
	hits := map[string]int{}
	counted := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits[name]++
			mu.Unlock()
			g.ServeHTTP(w, r)
		})
	}
	a, b := httptest.NewTLSServer(counted("a")), httptest.NewTLSServer(counted("b"))
	defer a.Close()
	defer b.Close()
	roots := x509.NewCertPool()
	roots.AddCert(a.Certificate())
	roots.AddCert(b.Certificate())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	cfg := Config{Documents: 12, Concurrency: 2, Recipients: 1, URL: a.URL, More: []string{b.URL + "/"}, Client: client,
		Agencies: p.Agencies, Tokens: toks, Mix: Mix{{"8KB", 8 << 10, 1}}, Pullers: 2, Poll: 5 * time.Millisecond,
		Drain: time.Minute, SpoolDir: t.TempDir()}
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Documents.Accepted != 12 || res.Deliveries.Delivered != 12 || res.Config.Instances != 2 {
		t.Fatalf("documents %+v, deliveries %+v, instances %d", res.Documents, res.Deliveries, res.Config.Instances)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits["a"] < 12 || hits["b"] < 12 {
		t.Fatalf("requests per instance %v: want both used", hits)
	}
}

// The documents signed ahead by default are bounded by bytes: 20 s of
// 5 MB documents would otherwise be 25,000 of them (125 GB).
func TestDefaultAheadBoundedByBytes(t *testing.T) {
	p := testPKI(t)
	for _, tc := range []struct {
		mix  Mix
		want int
	}{
		{Mix{{"10KB", 10 << 10, 1}}, 25000},
		{Mix{{"5MB", 5 << 20, 1}}, (2 << 30) / (5 << 20)},
		{Mix{{"1GB", 1 << 30, 1}}, 16}, // at least twice the concurrency
	} {
		cfg := Config{Duration: 20 * time.Second, Concurrency: 8, Recipients: 1, Mix: tc.mix, URL: "https://x", Client: http.DefaultClient,
			Agencies: p.Agencies, Tokens: make([]string, len(p.Agencies))}
		if err := cfg.check(); err != nil {
			t.Fatal(err)
		}
		if cfg.Ahead != tc.want {
			t.Errorf("%s: ahead %d, want %d", tc.mix, cfg.Ahead, tc.want)
		}
	}
}

// checkLimit: the run measured the limit on the mix's mean size, and the
// gateway's CPU is stated in limits when it was measured.
func checkLimit(t *testing.T, res *Result, size int64) {
	t.Helper()
	lm := res.Limit
	if lm == nil || lm.DocumentBytes != size || lm.MicrosPerDocument <= 0 {
		t.Fatalf("limit %+v, want one measured on %d bytes", lm, size)
	}
	g := res.Gateway
	if g == nil || g.CPUPerDocumentMs == 0 {
		if lm.GatewayCPUInLimits != 0 {
			t.Fatalf("limit %+v without a gateway CPU figure", lm)
		}
		return
	}
	if want := g.CPUPerDocumentMs * 1000 / lm.MicrosPerDocument; math.Abs(lm.GatewayCPUInLimits-want) > 0.01*want+0.001 {
		t.Fatalf("gateway CPU in limits %v, want %v (%v ms / %v µs)", lm.GatewayCPUInLimits, want, g.CPUPerDocumentMs, lm.MicrosPerDocument)
	}
}

// TestLimitMeasured: the limit's work is timed for about the time asked
// (never zero iterations), and a run may leave it out.
func TestLimitMeasured(t *testing.T) {
	p := testPKI(t)
	key := p.Agencies[0].Leaf.Key
	var calls int
	base := time.Unix(0, 0)
	// A clock that advances 1 ms per reading: the loop runs until 5 ms
	// have passed, in rounds of 8.
	clock := func() time.Time { calls++; return base.Add(time.Duration(calls) * time.Millisecond) }
	lm, err := measureLimit(key, 1000, 5*time.Millisecond, clock)
	if err != nil {
		t.Fatal(err)
	}
	if lm.DocumentBytes != 1000 || lm.MicrosPerDocument <= 0 {
		t.Fatalf("limit %+v", lm)
	}
	// calls-2 rounds of 8 between the first and the last reading.
	if n := 8 * (calls - 2); math.Abs(lm.MicrosPerDocument-float64(time.Duration(calls-1)*time.Millisecond/time.Microsecond)/float64(n)) > 0.001 {
		t.Fatalf("%v µs per document after %d readings", lm.MicrosPerDocument, calls)
	}
	// A large document's limit is measured on maxLimitBytes.
	if lm, err := measureLimit(key, 1<<30, time.Millisecond, time.Now); err != nil || lm.DocumentBytes != maxLimitBytes {
		t.Fatalf("limit of 1 GiB documents %+v, %v; want one measured on %d bytes", lm, err, maxLimitBytes)
	}
	if _, err := measureLimit(nil, 1000, time.Millisecond, time.Now); err == nil {
		t.Fatal("no key: no error")
	}
}

// TestRunWarmsConnections: before the first document is sent, the bench
// has opened a connection for each sender and puller, all at once. The
// gateway holds each warming request until all are in flight, so fewer
// connections (requests one after another on one) would not get there.
func TestRunWarmsConnections(t *testing.T) {
	p := testPKI(t)
	g, toks := newFakeGateway(p, func(int) bool { return false })
	const concurrency, pullers = 6, 2
	var (
		mu         sync.Mutex
		opened     int
		warming    int
		allWarming = make(chan struct{})
		atFirst    = -1 // connections opened when the first document came
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			mu.Lock()
			if warming++; warming == concurrency+pullers {
				close(allWarming)
			}
			mu.Unlock()
			select {
			case <-allWarming:
			case <-time.After(5 * time.Second):
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		if r.Method == http.MethodPost && r.URL.Path == "/v1/documents" {
			mu.Lock()
			if atFirst < 0 {
				atFirst = opened
			}
			mu.Unlock()
		}
		g.ServeHTTP(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			opened++
			mu.Unlock()
		}
	}
	srv.StartTLS()
	defer srv.Close()
	cfg := Config{Documents: 10, Concurrency: concurrency, Rate: 1000, Recipients: 1, URL: srv.URL, Client: srv.Client(),
		Agencies: p.Agencies, Tokens: toks, Mix: Mix{{"8KB", 8 << 10, 1}}, Pullers: pullers, Poll: 5 * time.Millisecond,
		Drain: time.Minute, SpoolDir: t.TempDir()}
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Documents.Accepted != 10 || res.Deliveries.Delivered != 10 {
		t.Fatalf("documents %+v, deliveries %+v", res.Documents, res.Deliveries)
	}
	mu.Lock()
	defer mu.Unlock()
	if warming != concurrency+pullers || atFirst < concurrency+pullers {
		t.Fatalf("%d warming requests, %d connections open at the first document: want %d of each", warming, atFirst, concurrency+pullers)
	}
}
