package ui_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive/fsblob"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/store/storetest"
	"github.com/edocgw/edocgw/internal/ui"
	"github.com/edocgw/edocgw/routing"
	"github.com/edocgw/edocgw/signing"
)

const (
	g22  = agencyids.Code("000.00.00.G22") // sends 01D1 to H53
	h53  = agencyids.Code("000.00.00.H53")
	unit = agencyids.Code("000.00.01.H53") // a unit of H53: receives 01D2
	h41  = agencyids.Code("000.00.00.H41") // sends 01D3 to G22 only
	g17  = agencyids.Code("000.00.00.G17") // not in the directory: no route
	pw   = "mật khẩu đủ dài"
)

// fakeHub applies the hub's rules to the documents of the store: the
// sender sees all, a recipient its own part, an auditor everything. The
// actions and the auditor's record and verification are a real hub's on
// the same store.
type fakeHub struct {
	st  *store.Store
	dir *agencyids.Directory
	*routing.Hub

	mu      sync.Mutex
	traced  []routing.Principal
	refused []string
}

func (h *fakeHub) Trace(ctx context.Context, p routing.Principal, id string) (*routing.Trace, error) {
	h.mu.Lock()
	h.traced = append(h.traced, p)
	h.mu.Unlock()
	doc, err := h.st.Document(ctx, id)
	if err != nil {
		return nil, err
	}
	dels, err := h.st.Deliveries(ctx, id)
	if err != nil {
		return nil, err
	}
	all := p.Role == routing.RoleAuditor || p.Role == routing.RoleAgency && doc.From == p.Agency
	tr := &routing.Trace{Document: routing.TraceDocument{ID: doc.ID, From: doc.From, Number: doc.Number, Notation: doc.Notation,
		Subject: doc.Subject, ReceivedAt: doc.ReceivedAt},
		Steps: []routing.Step{{At: doc.ReceivedAt, Step: "accepted"}}}
	for _, d := range dels {
		if !all && d.Recipient != p.Agency {
			continue
		}
		tr.Recipients = append(tr.Recipients, routing.TraceRecipient{Agency: d.Recipient, DeliveryID: d.ID, State: d.State, Attempts: 2,
			LastError: "push endpoint answered 503 Service Unavailable",
			Steps:     []routing.Step{{At: doc.ReceivedAt, Step: "attempt-failed", Attempt: 1, Error: "push endpoint answered 503 Service Unavailable"}},
			Statuses: []routing.StatusEntry{{Code: "03", Name: "accepted", NameVI: "Đã tiếp nhận", From: d.Recipient,
				At: time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)}}})
	}
	if !all && len(tr.Recipients) == 0 {
		h.Refused(ctx, p.Actor(), "trace", "neither sender nor recipient")
		return nil, fmt.Errorf("document %s: %w", id, routing.ErrNotFound)
	}
	return tr, nil
}

func (h *fakeHub) AuditEvents(ctx context.Context, p routing.Principal, f routing.AuditFilter) (*routing.AuditPage, error) {
	if p.Role != routing.RoleAuditor {
		return nil, routing.ErrForbidden
	}
	return &routing.AuditPage{Events: []routing.AuditEvent{{Seq: 7, At: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC),
		Kind: "document.accepted", Actor: "agency:" + string(g22), Document: "01D1", Details: []byte(`{"kind":"` + f.Kind + `"}`)}}}, nil
}

func (h *fakeHub) ExportBundle(ctx context.Context, p routing.Principal, id string) (*routing.Export, error) {
	if p.Role != routing.RoleAuditor {
		return nil, routing.ErrForbidden
	}
	if _, err := h.st.Document(ctx, id); err != nil {
		return nil, err
	}
	return routing.NewExport(id, func(w io.Writer) error { _, err := io.WriteString(w, "PK\x03\x04 bundle of "+id); return err }), nil
}

func (h *fakeHub) Directory() *agencyids.Directory { return h.dir }

func (h *fakeHub) Refused(ctx context.Context, actor, what, why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refused = append(h.refused, actor+" "+what+": "+why)
}

// hubKey is a certificate and key that stand in for the hub's.
var (
	pkiOnce sync.Once
	pki     *hubtest.PKI
	hubLeaf *hubtest.Agency
	pkiErr  error
)

func testPKI(t *testing.T) (*hubtest.PKI, *hubtest.Agency) {
	t.Helper()
	pkiOnce.Do(func() {
		if pki, pkiErr = hubtest.NewPKI(time.Now().Add(-time.Hour)); pkiErr == nil {
			hubLeaf, pkiErr = pki.Agency(g17, "edocgw hub")
		}
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pki, hubLeaf
}

// ulid is the n-th test id of the hub's form (routing refuses others).
func ulid(prefix string, n int) string { return fmt.Sprintf("%s%0*d", prefix, 26-len(prefix), n) }

// The documents sent by H41 that its clerk acts on: deadDoc to G17 (no
// member, no route: dead), queuedDoc to G22 (queued pull).
var (
	deadDoc, deadDel     = ulid("01JD", 1), ulid("01JE", 1)
	queuedDoc, queuedDel = ulid("01JD", 2), ulid("01JE", 2)
)

// testConsole is a console over a store with five documents and five
// users: clerks of H53, H41 and G22, an auditor and an admin.
type testConsole struct {
	srv   *httptest.Server
	hub   *fakeHub
	st    *store.Store
	blobs *fsblob.Store
}

func newConsole(t *testing.T, opts ...func(*ui.Config)) *testConsole {
	t.Helper()
	ctx := context.Background()
	_, leaf := testPKI(t)
	dataDir := t.TempDir()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dataDir, "edocgw.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	agencies := []agencyids.Agency{{Code: g22, Name: "Văn phòng Chính phủ"}, {Code: h53, Name: "UBND tỉnh Tây Ninh"},
		{Code: unit, Name: "Sở Nội vụ"}, {Code: h41, Name: "Bộ Công an"}}
	dir := agencyids.NewDirectory()
	if err := dir.Load(agencies); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveAgencies(ctx, agencies, "test"); err != nil {
		t.Fatal(err)
	}
	for _, a := range agencies {
		if err := st.PutMember(ctx, routing.Member{Code: a.Code, Mode: routing.ModePull}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	d1 := storetest.Doc("01D1", 1)
	storetest.MustAccept(t, st, d1, storetest.Del("01E1", "01D1", h53, routing.RoutePull))
	d2 := storetest.Doc("01D2", 2)
	d2.Subject, d2.Recipients = "Kế hoạch chuyển đổi số", []agencyids.Code{unit}
	storetest.MustAccept(t, st, d2, storetest.Del("01E2", "01D2", unit, routing.RoutePull))
	d3 := storetest.Doc("01D3", 3)
	d3.From, d3.EdxmlID, d3.Subject = h41, "", "Mật: chỉ gửi Văn phòng Chính phủ"
	storetest.MustAccept(t, st, d3, storetest.Del("01E3", "01D3", g22, routing.RoutePull))
	d4 := storetest.Doc(deadDoc, 4)
	d4.From, d4.Subject, d4.Recipients = h41, "Công văn gửi Bộ Y tế", []agencyids.Code{g17}
	dead := storetest.Del(deadDel, deadDoc, g17, routing.RoutePull)
	dead.State, dead.LastError = routing.StateDead, "no route to "+string(g17)+": not a member and no route matches"
	storetest.MustAccept(t, st, d4, dead)
	d5 := storetest.Doc(queuedDoc, 5)
	d5.From, d5.Subject, d5.Recipients = h41, "Công văn gửi Văn phòng Chính phủ", []agencyids.Code{g22}
	storetest.MustAccept(t, st, d5, storetest.Del(queuedDel, queuedDoc, g22, routing.RoutePull))
	for _, u := range []store.User{{Name: "lan", Role: store.UserClerk, Agency: h53}, {Name: "hung", Role: store.UserClerk, Agency: h41},
		{Name: "van", Role: store.UserClerk, Agency: g22}, {Name: "kiem-toan", Role: store.UserAuditor}, {Name: "quan-tri", Role: store.UserAdmin}} {
		if err := st.CreateUser(ctx, u, pw, "test"); err != nil {
			t.Fatal(err)
		}
	}
	blobs, err := fsblob.New(filepath.Join(dataDir, "blobs"), fsblob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rh, err := routing.New(routing.Options{Store: st, Blobs: blobs, Verifier: &signing.Verifier{},
		HubKey: leaf.Leaf.Key, HubCert: leaf.Leaf.Cert})
	if err != nil {
		t.Fatal(err)
	}
	hub := &fakeHub{st: st, dir: dir, Hub: rh}
	cfg := ui.Config{Hub: hub, Store: st}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := ui.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(ui.Mount(c, http.NotFoundHandler()))
	t.Cleanup(srv.Close)
	return &testConsole{srv: srv, hub: hub, st: st, blobs: blobs}
}

// console serves a console (see newConsole).
func console(t *testing.T) (*httptest.Server, *fakeHub) {
	tc := newConsole(t)
	return tc.srv, tc.hub
}

// browser is a client with cookies that does not follow redirects.
type browser struct {
	t   *testing.T
	srv *httptest.Server
	c   *http.Client
}

func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	jar, _ := cookiejar.New(nil)
	c := *srv.Client() // one jar per browser
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, srv: srv, c: &c}
}

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, html string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no CSRF field in\n%s", html)
	}
	return m[1]
}

// login signs in and returns the answer to the form.
func (b *browser) login(name, password string) (*http.Response, string) {
	b.t.Helper()
	_, page := b.do("GET", "/ui/login", nil)
	return b.do("POST", "/ui/login", url.Values{"csrf": {csrfOf(b.t, page)}, "name": {name}, "password": {password}})
}

func (b *browser) mustLogin(name string) {
	b.t.Helper()
	if resp, body := b.login(name, pw); resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login %s: %d\n%s", name, resp.StatusCode, body)
	}
}

func TestUISignIn(t *testing.T) {
	srv, hub := console(t)
	b := newBrowser(t, srv)

	resp, _ := b.do("GET", "/ui/documents?dir=sent", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login?next="+url.QueryEscape("/ui/documents?dir=sent") {
		t.Fatalf("anonymous: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.do("GET", "/ui/login", nil)
	if !strings.Contains(page, "Đăng nhập") || !strings.Contains(page, `lang="vi"`) {
		t.Fatalf("the login page is not Vietnamese:\n%s", page)
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if resp.Header.Get(h) != want {
			t.Errorf("%s = %q", h, resp.Header.Get(h))
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if _, page := b.do("GET", "/ui/login?lang=en", nil); !strings.Contains(page, "Sign in") || !strings.Contains(page, `lang="en"`) {
		t.Fatal("?lang=en is not English")
	}
	if _, page := b.do("GET", "/ui/login", nil); !strings.Contains(page, "User name") {
		t.Fatal("the language cookie was not kept")
	}
	b.do("GET", "/ui/login?lang=vi", nil)

	// Without the form's token the sign-in is refused.
	if resp, _ := b.do("POST", "/ui/login", url.Values{"name": {"lan"}, "password": {pw}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without CSRF: %d", resp.StatusCode)
	}
	resp, page = b.login("lan", "sai mật khẩu")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, `id="password-error"`) || !strings.Contains(page, "Sai tên đăng nhập hoặc mật khẩu") {
		t.Fatalf("wrong password: %d\n%s", resp.StatusCode, page)
	}
	// A sign-in goes back to the page asked for; next cannot leave /ui/.
	_, page = b.do("GET", "/ui/login?next="+url.QueryEscape("/ui/documents?dir=sent"), nil)
	resp, _ = b.do("POST", "/ui/login", url.Values{"csrf": {csrfOf(t, page)}, "name": {"lan"}, "password": {pw}, "next": {"/ui/documents?dir=sent"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/documents?dir=sent" {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sc *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-edocgw_session" {
			sc = c
		}
	}
	if sc == nil || !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/" || sc.Domain != "" {
		t.Fatalf("session cookie %+v", sc)
	}
	resp, page = b.do("GET", "/ui/documents", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "lan") {
		t.Fatalf("documents: %d", resp.StatusCode)
	}
	// Sign-out needs the session's token, then ends the session.
	if resp, _ := b.do("POST", "/ui/logout", url.Values{"csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout with a forged token: %d", resp.StatusCode)
	}
	if resp, _ := b.do("POST", "/ui/logout", url.Values{"csrf": {csrfOf(t, page)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/ui/documents", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
	// An old cookie is dead too.
	old := newBrowser(t, srv)
	old.c.Jar.SetCookies(mustURL(t, srv.URL), []*http.Cookie{sc})
	if resp, _ := old.do("GET", "/ui/documents", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("replayed cookie: %d", resp.StatusCode)
	}
	if len(hub.refused) != 2 || !strings.Contains(hub.refused[0], "anonymous POST /ui/login") || !strings.Contains(hub.refused[1], "clerk:lan POST /ui/logout") {
		t.Fatalf("refusals %q", hub.refused)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUILockout(t *testing.T) {
	srv, _ := console(t)
	b := newBrowser(t, srv)
	for i := 1; i <= store.MaxFailedLogins; i++ {
		resp, page := b.login("lan", "sai mật khẩu")
		want, text := http.StatusUnauthorized, "Sai tên đăng nhập"
		if i == store.MaxFailedLogins {
			want, text = http.StatusTooManyRequests, "tạm khoá 15 phút"
		}
		if resp.StatusCode != want || !strings.Contains(page, text) {
			t.Fatalf("attempt %d: %d\n%s", i, resp.StatusCode, page)
		}
	}
	if resp, _ := b.login("lan", pw); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the right password while locked: %d", resp.StatusCode)
	}
}

func TestUIClerkDocuments(t *testing.T) {
	srv, hub := console(t)
	lan := newBrowser(t, srv)
	lan.mustLogin("lan")
	hung := newBrowser(t, srv)
	hung.mustLogin("hung")

	tests := []struct {
		name  string
		b     *browser
		query string
		want  []string
	}{
		{"H53 and its unit", lan, "", []string{"01D2", "01D1"}},
		{"received", lan, "?dir=received", []string{"01D2", "01D1"}},
		{"sent", lan, "?dir=sent", nil},
		{"subject", lan, "?subject=" + url.QueryEscape("chuyển đổi"), []string{"01D2"}},
		{"number", lan, "?number=1%2FVPCP", []string{"01D1"}},
		{"counterpart", lan, "?counterpart=000.00.00.G22", []string{"01D2", "01D1"}},
		{"date range", lan, "?from=2026-11-22&to=2026-11-22", []string{"01D2", "01D1"}},
		{"date range before", lan, "?to=2026-11-21", nil},
		{"state", lan, "?state=queued", []string{"01D2", "01D1"}},
		{"another agency's subject", lan, "?subject=M%E1%BA%ADt", nil},
		{"H41 sees only its own", hung, "", []string{queuedDoc, deadDoc, "01D3"}},
	}
	docLink := regexp.MustCompile(`href="/ui/documents/([0-9A-Z]+)"`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, page := tt.b.do("GET", "/ui/documents"+tt.query, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d\n%s", resp.StatusCode, page)
			}
			var got []string
			for _, m := range docLink.FindAllStringSubmatch(page, -1) {
				got = append(got, m[1])
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	// A bad search is refused with the message at its field.
	for q, field := range map[string]string{"?counterpart=nonsense": "counterpart", "?from=22/11/2026": "from", "?state=lost": "state",
		"?dir=up": "dir", "?from=2026-11-22&to=2026-11-21": "to", "?subject=" + strings.Repeat("x", 201): "subject"} {
		resp, page := lan.do("GET", "/ui/documents"+q, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="search-error"`) || !strings.Contains(page, `id="`+field+`-error"`) {
			t.Fatalf("%s: %d, want the message at %s", q, resp.StatusCode, field)
		}
	}

	// The timeline: read as the party of the clerk's scope.
	resp, page := lan.do("GET", "/ui/documents/01D2", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("01D2: %d", resp.StatusCode)
	}
	for _, want := range []string{"Kế hoạch chuyển đổi số", "Sở Nội vụ", "Đã tiếp nhận", "22/11/2026 08:02:03", "Chuyển không thành công",
		"Hệ thống nơi nhận báo lỗi (HTTP 503)"} {
		if !strings.Contains(page, want) {
			t.Errorf("01D2 page lacks %q", want)
		}
	}
	if p := hub.traced[len(hub.traced)-1]; p.Role != routing.RoleAgency || p.Agency != unit {
		t.Fatalf("traced as %+v", p)
	}
	if _, page := lan.do("GET", "/ui/documents/01D2?lang=en", nil); !strings.Contains(page, "accepted") || !strings.Contains(page, "HTTP 503") {
		t.Fatal("the English timeline lacks the status or the error")
	}
	lan.do("GET", "/ui/login?lang=vi", nil)

	// Another agency's document is 404, like one that does not exist.
	for _, id := range []string{"01D3", "01ZZ", "..%2F01D3"} {
		if resp, page := lan.do("GET", "/ui/documents/"+id, nil); resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "Không tìm thấy") {
			t.Fatalf("%s: %d", id, resp.StatusCode)
		}
	}
	if resp, _ := hung.do("GET", "/ui/documents/01D1", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("H41 reads 01D1: %d", resp.StatusCode)
	}
	// Clerks do not read the audit log.
	if resp, _ := lan.do("GET", "/ui/audit", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("clerk on /ui/audit: %d", resp.StatusCode)
	}
}

func TestUIAuditor(t *testing.T) {
	srv, hub := console(t)
	a := newBrowser(t, srv)
	a.mustLogin("kiem-toan")
	resp, _ := a.do("GET", "/ui/", nil)
	if resp.Header.Get("Location") != "/ui/audit" {
		t.Fatalf("auditor home: %s", resp.Header.Get("Location"))
	}
	resp, page := a.do("GET", "/ui/audit?kind=document.", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "document.accepted") || !strings.Contains(page, `{&#34;kind&#34;:&#34;document.&#34;}`) {
		t.Fatalf("audit: %d\n%s", resp.StatusCode, page)
	}
	if resp, page := a.do("GET", "/ui/audit?from=yesterday", nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="from-error"`) {
		t.Fatalf("bad filter: %d", resp.StatusCode)
	}
	if resp, page := a.do("GET", "/ui/audit?from=2026-11-22&to=2026-11-20", nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="to-error"`) {
		t.Fatalf("dates in the wrong order: %d", resp.StatusCode)
	}
	if resp, _ := a.do("POST", "/ui/audit/export", url.Values{"document": {"01D1"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("export without CSRF: %d", resp.StatusCode)
	}
	resp, body := a.do("POST", "/ui/audit/export", url.Values{"document": {"01D1"}, "csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "edocgw-01D1.zip") || !strings.HasPrefix(body, "PK") {
		t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := a.do("POST", "/ui/audit/export", url.Values{"document": {"01ZZ"}, "csrf": {csrfOf(t, page)}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("export of nothing: %d", resp.StatusCode)
	}
	// An auditor reads any timeline, as an auditor.
	if resp, _ := a.do("GET", "/ui/documents/01D3", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("auditor timeline: %d", resp.StatusCode)
	}
	if p := hub.traced[len(hub.traced)-1]; p.Role != routing.RoleAuditor || p.Name != "kiem-toan" {
		t.Fatalf("traced as %+v", p)
	}
	if resp, _ := a.do("GET", "/ui/documents", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("auditor on the clerk's list: %d", resp.StatusCode)
	}
	// An admin starts at the overview and does not read the audit log.
	adm := newBrowser(t, srv)
	adm.mustLogin("quan-tri")
	if resp, _ := adm.do("GET", "/ui/", nil); resp.Header.Get("Location") != "/ui/overview" {
		t.Fatalf("admin home: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := adm.do("GET", "/ui/audit", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("admin on /ui/audit: %d", resp.StatusCode)
	}
}

func TestUIStaticAndMount(t *testing.T) {
	srv, _ := console(t)
	b := newBrowser(t, srv)
	resp, css := b.do("GET", "/ui/static/style.css", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(css, "@media") {
		t.Fatalf("style.css: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for path, want := range map[string]int{"/ui": http.StatusSeeOther, "/ui/nothing": http.StatusNotFound, "/v1/inbox": http.StatusNotFound} {
		if resp, _ := b.do("GET", path, nil); resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	// Another site's form cannot post, even with a token.
	_, page := b.do("GET", "/ui/login", nil)
	req, _ := http.NewRequest("POST", srv.URL+"/ui/login", strings.NewReader(url.Values{"csrf": {csrfOf(t, page)}, "name": {"lan"}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin login: %d", resp.StatusCode)
	}
}

func TestUIPlainError(t *testing.T) {
	tests := []struct{ raw, vi string }{
		{"push endpoint answered 503 Service Unavailable", "HTTP 503"},
		{"push endpoint answered 404 Not Found", "từ chối văn bản (HTTP 404)"},
		{`push to https://dms.example:443/x: context deadline exceeded`, "không trả lời kịp thời"},
		{"push to https://127.0.0.1:443: dial tcp: connect: connection refused", "Không kết nối được"},
		{"push to https://x: tls: failed to verify certificate: x509: unknown authority", "Chứng thư số"},
		{"peer axis: something odd", "Lỗi khi chuyển"},
	}
	for _, tt := range tests {
		if got := ui.PlainErrorVI(tt.raw); !strings.Contains(got, tt.vi) {
			t.Errorf("%q → %q, want %q", tt.raw, got, tt.vi)
		}
	}
}
