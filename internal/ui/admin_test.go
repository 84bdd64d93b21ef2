package ui_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

// fieldError reports whether page shows a message at field (and which).
func hasFieldError(page, field, text string) bool {
	i := strings.Index(page, `id="`+field+`-error"`)
	return i >= 0 && strings.Contains(page[i:min(len(page), i+400)], text)
}

func (tc *testConsole) agency(t *testing.T, code agencyids.Code) agencyids.Agency {
	t.Helper()
	as, err := tc.st.Agencies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.Code == code {
			return a
		}
	}
	t.Fatalf("no agency %s", code)
	return agencyids.Agency{}
}

func TestUIAdminRoleGates(t *testing.T) {
	tc := newConsole(t)
	pages := []string{"/ui/admin/agencies", "/ui/admin/agencies/new", "/ui/admin/agencies/" + string(h53), "/ui/admin/routes", "/ui/admin/users"}
	posts := []string{"/ui/admin/agencies", "/ui/admin/agencies/" + string(h53) + "/delivery", "/ui/admin/agencies/" + string(h53) + "/certs",
		"/ui/admin/agencies/" + string(h53) + "/retire", "/ui/admin/routes", "/ui/admin/routes/remove", "/ui/admin/users",
		"/ui/admin/users/lan/disable", "/ui/admin/users/lan/password"}
	for name, home := range map[string]string{"lan": "/ui/documents", "kiem-toan": "/ui/audit"} {
		b := newBrowser(t, tc.srv)
		b.mustLogin(name)
		for _, p := range pages {
			if resp, _ := b.do("GET", p, nil); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s GET %s: %d", name, p, resp.StatusCode)
			}
		}
		for _, p := range posts {
			if resp, _ := b.post(home, p, url.Values{"code": {"000.00.00.H99"}, "name": {"x"}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s POST %s: %d", name, p, resp.StatusCode)
			}
		}
	}
	anon := newBrowser(t, tc.srv)
	for _, p := range pages {
		if resp, _ := anon.do("GET", p, nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("anonymous GET %s: %d", p, resp.StatusCode)
		}
	}
	adm := newBrowser(t, tc.srv)
	adm.mustLogin("quan-tri")
	for _, p := range posts {
		if resp, _ := adm.do("POST", p, url.Values{"csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("admin POST %s with a forged token: %d", p, resp.StatusCode)
		}
	}
	if u, _ := tc.st.User(context.Background(), "lan"); !u.DisabledAt.IsZero() {
		t.Fatal("a refused request disabled an account")
	}
}

func TestUIAdminAgencies(t *testing.T) {
	tc := newConsole(t)
	adm := newBrowser(t, tc.srv)
	adm.mustLogin("quan-tri")
	ctx := context.Background()

	// The list: members, then a search by name or code.
	if _, page := adm.do("GET", "/ui/admin/agencies", nil); !strings.Contains(page, "UBND tỉnh Tây Ninh") || !strings.Contains(page, string(h41)) {
		t.Fatal("the members are not listed")
	}
	_, page := adm.do("GET", "/ui/admin/agencies?q="+url.QueryEscape("tay ninh"), nil)
	if !strings.Contains(page, string(h53)) || strings.Contains(page, string(h41)) {
		t.Fatal("search by name")
	}
	if _, page := adm.do("GET", "/ui/admin/agencies?q=000.00.01", nil); !strings.Contains(page, string(unit)) || strings.Contains(page, string(h53)+"<") {
		t.Fatal("search by code")
	}

	// Adding: each bad field is named next to it; nothing is saved.
	const newCode = "000.00.13.H53"
	good := url.Values{"code": {newCode}, "name": {"Sở Thông tin và Truyền thông"}, "parent": {string(h53)}, "member": {"on"},
		"mode": {"push"}, "push_url": {"https://dms.tayninh.gov.vn/edocgw"}, "signature": {"required"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = slices.Clone(vv)
		}
		f.Set(k, v)
		return f
	}
	bad := []struct {
		name, field, text string
		form              url.Values
	}{
		{"bad code", "code", "Mã định danh không hợp lệ", with("code", "000.13.H53")},
		{"no code", "code", "Không được để trống", with("code", "")},
		{"code taken", "code", "đã có trong danh bạ", with("code", string(h41))},
		{"no name", "name", "Không được để trống", with("name", "")},
		{"unknown parent", "parent", "Không có cơ quan này", with("parent", "000.00.00.H99")},
		{"http endpoint", "push_url", "https://", with("push_url", "http://dms.tayninh.gov.vn/edocgw")},
		{"no endpoint", "push_url", "https://", with("push_url", "")},
		{"endpoint in pull", "push_url", "pull", with("mode", "pull")},
		{"bad mode", "mode", "Lựa chọn không hợp lệ", with("mode", "mail")},
		{"bad signature", "signature", "Lựa chọn không hợp lệ", with("signature", "never")},
		{"alt code of the same form", "alt_code", "Mã định danh không hợp lệ", with("alt_code", "000.00.14.H53")},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp, page := adm.post("/ui/admin/agencies/new", "/ui/admin/agencies", tt.form)
			if resp.StatusCode != http.StatusBadRequest || !hasFieldError(page, tt.field, tt.text) || !strings.Contains(page, `aria-invalid="true"`) {
				t.Fatalf("%d; want the message %q at %s\n%s", resp.StatusCode, tt.text, tt.field, page)
			}
		})
	}
	if _, ok := tc.hub.Hub.Directory().Lookup(newCode); ok {
		t.Fatal("a refused form was saved")
	}
	resp, _ := adm.post("/ui/admin/agencies/new", "/ui/admin/agencies", good)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/admin/agencies/"+newCode+"?done=saved" {
		t.Fatalf("add: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if a := tc.agency(t, newCode); a.Parent != h53 || a.Endpoint != "https://dms.tayninh.gov.vn/edocgw" {
		t.Fatalf("saved %+v", a)
	}
	if m, err := tc.st.Member(ctx, newCode); err != nil || m.Mode != routing.ModePush || m.PushURL != "https://dms.tayninh.gov.vn/edocgw" {
		t.Fatalf("member %+v, %v", m, err)
	}
	if actor, _ := tc.lastEvent(t, store.KindMemberSaved); actor != "admin:quan-tri" {
		t.Fatalf("saved by %s", actor)
	}
	// The hub routes with it at once.
	if _, ok := tc.hub.Hub.Directory().Lookup(newCode); !ok {
		t.Fatal("the hub does not see the new agency")
	}
	if _, page := adm.do("GET", "/ui/admin/agencies/"+newCode+"?done=saved", nil); !strings.Contains(page, `id="notice"`) || !strings.Contains(page, "Sở Thông tin") {
		t.Fatal("the agency page")
	}

	// Delivery: pull, then back to push with a bad endpoint.
	page13 := "/ui/admin/agencies/" + newCode
	if resp, _ := adm.post(page13, page13+"/delivery", url.Values{"mode": {"pull"}, "signature": {"all"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pull: %d", resp.StatusCode)
	}
	if m, _ := tc.st.Member(ctx, newCode); m.Mode != routing.ModePull || m.Signature != routing.SignatureAll || m.PushURL != "" {
		t.Fatalf("member %+v", m)
	}
	if resp, page := adm.post(page13, page13+"/delivery", url.Values{"mode": {"push"}, "push_url": {"ftp://x"}, "signature": {"all"}}); resp.StatusCode != http.StatusBadRequest ||
		!hasFieldError(page, "push_url", "https://") {
		t.Fatalf("bad endpoint: %d", resp.StatusCode)
	}
	// A directory-only agency becomes a member by its delivery form.
	if resp, _ := adm.post("/ui/admin/agencies/new", "/ui/admin/agencies", url.Values{"code": {"000.00.00.G17"}, "name": {"Bộ Y tế"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("directory only: %d", resp.StatusCode)
	}
	if _, err := tc.st.Member(ctx, g17); err == nil {
		t.Fatal("a directory-only agency is a member")
	}

	// Certificates: bad PEM, expired, then bound (pasted), and not twice.
	_, leaf := testPKI(t)
	certs := []struct {
		name, pem, text string
	}{
		{"empty", "", "Không được để trống"},
		{"not PEM", "hello", "Không đọc được chứng thư"},
		{"not a certificate", "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n", "Không đọc được chứng thư"},
		{"expired", expiredPEM(t), "đã hết hạn"},
	}
	for _, tt := range certs {
		t.Run("cert "+tt.name, func(t *testing.T) {
			resp, page := adm.post(page13, page13+"/certs", url.Values{"pem": {tt.pem}})
			if resp.StatusCode != http.StatusBadRequest || !hasFieldError(page, "pem", tt.text) {
				t.Fatalf("%d; want %q at pem", resp.StatusCode, tt.text)
			}
		})
	}
	if resp, _ := adm.post(page13, page13+"/certs", url.Values{"pem": {string(leaf.Leaf.ChainPEM)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bind: %d", resp.StatusCode)
	}
	fp := agencyids.FingerprintOf(leaf.Leaf.Cert.Raw)
	if a := tc.agency(t, newCode); !slices.Equal(a.CertFingerprints, []agencyids.Fingerprint{fp}) {
		t.Fatalf("fingerprints %v", a.CertFingerprints)
	}
	if resp, page := adm.post(page13, page13+"/certs", url.Values{"pem": {string(leaf.Leaf.ChainPEM)}}); resp.StatusCode != http.StatusBadRequest ||
		!hasFieldError(page, "pem", "đã được gắn") {
		t.Fatalf("bind twice: %d", resp.StatusCode)
	}
	// Uploaded as a file, to another agency: it is bound elsewhere.
	resp, page = adm.upload(page13, "/ui/admin/agencies/"+string(h41)+"/certs", "pem_file", "hung.pem", leaf.Leaf.ChainPEM)
	if resp.StatusCode != http.StatusBadRequest || !hasFieldError(page, "pem", newCode) {
		t.Fatalf("bind elsewhere: %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := adm.post(page13, page13+"/certs/remove", url.Values{"fingerprint": {fp.String()}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unbind: %d", resp.StatusCode)
	}
	if resp, _ := adm.upload(page13, "/ui/admin/agencies/"+string(h41)+"/certs", "pem_file", "hung.pem", leaf.Leaf.ChainPEM); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bind by upload: %d", resp.StatusCode)
	}
	if a := tc.agency(t, h41); !slices.Equal(a.CertFingerprints, []agencyids.Fingerprint{fp}) {
		t.Fatalf("H41's fingerprints %v", a.CertFingerprints)
	}

	// Retirement: the successor must exist and differ, the date parse.
	retire := []struct {
		name, field, text string
		form              url.Values
	}{
		{"unknown successor", "successor", "Không có cơ quan này", url.Values{"successor": {"000.00.00.H99"}, "at": {"2026-12-01"}}},
		{"itself", "successor", "kế thừa không hợp lệ", url.Values{"successor": {newCode}, "at": {"2026-12-01"}}},
		{"bad successor code", "successor", "Mã định danh không hợp lệ", url.Values{"successor": {"000.13.H53"}, "at": {"2026-12-01"}}},
		{"bad date", "at", "Ngày không hợp lệ", url.Values{"successor": {string(h53)}, "at": {"01/12/2026"}}},
	}
	for _, tt := range retire {
		t.Run("retire "+tt.name, func(t *testing.T) {
			resp, page := adm.post(page13, page13+"/retire", tt.form)
			if resp.StatusCode != http.StatusBadRequest || !hasFieldError(page, tt.field, tt.text) {
				t.Fatalf("%d; want %q at %s", resp.StatusCode, tt.text, tt.field)
			}
		})
	}
	if resp, _ := adm.post(page13, page13+"/retire", url.Values{"successor": {string(h53)}, "at": {"2026-12-01"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retire: %d", resp.StatusCode)
	}
	if a := tc.agency(t, newCode); !a.Retired() || a.Successor != h53 || a.ValidTo.In(time.UTC).Format(time.DateOnly) != "2026-11-30" {
		t.Fatalf("retired %+v", a)
	}
	if _, page := adm.do("GET", page13, nil); strings.Contains(page, `id="retire-form"`) || !strings.Contains(page, "Đã dừng hoạt động") {
		t.Fatal("the retired agency's page")
	}
	if resp, _ := adm.do("GET", "/ui/admin/agencies/000.00.00.H99", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown agency: %d", resp.StatusCode)
	}
}

// upload posts a multipart form with one file and the session's token.
func (b *browser) upload(page, path, field, name string, content []byte) (*http.Response, string) {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", b.csrf(page))
	fw, _ := mw.CreateFormFile(field, name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, err := http.NewRequest("POST", b.srv.URL+path, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

// expiredPEM is a self-signed certificate that expired yesterday.
func expiredPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "expired"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestUIAdminRoutes(t *testing.T) {
	tc := newConsole(t)
	ctx := context.Background()
	if err := tc.st.PutPeer(ctx, routing.Peer{Name: "national", URL: "https://truc.gov.vn"}, "test"); err != nil {
		t.Fatal(err)
	}
	adm := newBrowser(t, tc.srv)
	adm.mustLogin("quan-tri")
	if _, page := adm.do("GET", "/ui/admin/routes", nil); !strings.Contains(page, `id="no-routes"`) || !strings.Contains(page, "https://truc.gov.vn") {
		t.Fatal("the empty table")
	}
	bad := []struct {
		name, field, text string
		form              url.Values
	}{
		{"no pattern", "pattern", "Không được để trống", url.Values{"peer": {"national"}}},
		{"bad pattern", "pattern", "Mẫu tuyến không hợp lệ", url.Values{"pattern": {"H5"}, "peer": {"national"}}},
		{"unknown peer", "peer", "Không có trục kết nối này", url.Values{"pattern": {"H53"}, "peer": {"moon"}}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp, page := adm.post("/ui/admin/routes", "/ui/admin/routes", tt.form)
			if resp.StatusCode != http.StatusBadRequest || !hasFieldError(page, tt.field, tt.text) {
				t.Fatalf("%d; want %q at %s", resp.StatusCode, tt.text, tt.field)
			}
		})
	}
	// Lower case is taken as the group it names.
	if resp, _ := adm.post("/ui/admin/routes", "/ui/admin/routes", url.Values{"pattern": {"g09"}, "peer": {"national"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", resp.StatusCode)
	}
	if rs, _ := tc.st.Routes(ctx); len(rs) != 1 || rs[0].Pattern != "G09" || rs[0].Peer != "national" {
		t.Fatalf("routes %+v", rs)
	}
	if actor, det := tc.lastEvent(t, store.KindRouteSaved); actor != "admin:quan-tri" || !strings.Contains(det, `"pattern":"G09"`) {
		t.Fatalf("route event %s %s", actor, det)
	}
	if _, page := adm.do("GET", "/ui/admin/routes", nil); !strings.Contains(page, `<code class="pattern">G09</code>`) {
		t.Fatal("the route is not listed")
	}
	if resp, _ := adm.post("/ui/admin/routes", "/ui/admin/routes/remove", url.Values{"pattern": {"G09"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if resp, _ := adm.post("/ui/admin/routes", "/ui/admin/routes/remove", url.Values{"pattern": {"G09"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("remove twice: %d", resp.StatusCode)
	}
	if rs, _ := tc.st.Routes(ctx); len(rs) != 0 {
		t.Fatalf("routes %+v", rs)
	}
}

func TestUIAdminUsers(t *testing.T) {
	tc := newConsole(t)
	adm := newBrowser(t, tc.srv)
	adm.mustLogin("quan-tri")
	if _, page := adm.do("GET", "/ui/admin/users", nil); !strings.Contains(page, `id="user-lan"`) || !strings.Contains(page, "Văn thư") {
		t.Fatal("the accounts are not listed")
	}
	const newPW = "mật khẩu của Mai"
	bad := []struct {
		name, field, text string
		form              url.Values
	}{
		{"bad name", "name", "Tên đăng nhập gồm", url.Values{"name": {"Mai Anh"}, "role": {"clerk"}, "agency": {string(h53)}, "password": {newPW}}},
		{"taken", "name", "đã có", url.Values{"name": {"lan"}, "role": {"clerk"}, "agency": {string(h53)}, "password": {newPW}}},
		{"clerk without agency", "agency", "Văn thư cần mã cơ quan", url.Values{"name": {"mai"}, "role": {"clerk"}, "password": {newPW}}},
		{"clerk of nothing", "agency", "Văn thư cần mã cơ quan", url.Values{"name": {"mai"}, "role": {"clerk"}, "agency": {"000.00.00.H99"}, "password": {newPW}}},
		{"auditor with agency", "agency", "Chỉ văn thư", url.Values{"name": {"mai"}, "role": {"auditor"}, "agency": {string(h53)}, "password": {newPW}}},
		{"bad role", "role", "Lựa chọn không hợp lệ", url.Values{"name": {"mai"}, "role": {"boss"}, "password": {newPW}}},
		{"short password", "password", "từ 10 đến 1024", url.Values{"name": {"mai"}, "role": {"auditor"}, "password": {"ngắn"}}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp, page := adm.post("/ui/admin/users", "/ui/admin/users", tt.form)
			if resp.StatusCode != http.StatusBadRequest || !hasFieldError(page, tt.field, tt.text) {
				t.Fatalf("%d; want %q at %s", resp.StatusCode, tt.text, tt.field)
			}
		})
	}
	if resp, _ := adm.post("/ui/admin/users", "/ui/admin/users", url.Values{"name": {"mai"}, "role": {"clerk"}, "agency": {string(unit)}, "password": {newPW}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add: %d", resp.StatusCode)
	}
	mai := newBrowser(t, tc.srv)
	if resp, _ := mai.login("mai", newPW); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the new clerk signs in: %d", resp.StatusCode)
	}
	if actor, det := tc.lastEvent(t, store.KindUserCreated); actor != "admin:quan-tri" || !strings.Contains(det, `"user":"mai"`) {
		t.Fatalf("created by %s: %s", actor, det)
	}
	// Disabling ends the session; the admin cannot disable itself.
	if resp, page := adm.post("/ui/admin/users", "/ui/admin/users/quan-tri/disable", url.Values{}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(page, "Không thể tự khoá") {
		t.Fatalf("disable self: %d", resp.StatusCode)
	}
	if resp, _ := adm.post("/ui/admin/users", "/ui/admin/users/mai/disable", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if resp, _ := mai.do("GET", "/ui/documents", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a disabled clerk's session: %d", resp.StatusCode)
	}
	if resp, _ := adm.post("/ui/admin/users", "/ui/admin/users/mai/enable", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("enable: %d", resp.StatusCode)
	}
	// A new password: short at its field, then good.
	if resp, page := adm.post("/ui/admin/users", "/ui/admin/users/mai/password", url.Values{"password": {"ngắn"}}); resp.StatusCode != http.StatusBadRequest ||
		!hasFieldError(page, "password-mai", "từ 10 đến 1024") {
		t.Fatalf("short password: %d", resp.StatusCode)
	}
	if resp, _ := adm.post("/ui/admin/users", "/ui/admin/users/mai/password", url.Values{"password": {"mật khẩu mới của Mai"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if resp, _ := mai.login("mai", "mật khẩu mới của Mai"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the new password: %d", resp.StatusCode)
	}
	if resp, _ := adm.post("/ui/admin/users", "/ui/admin/users/nobody/disable", url.Values{}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown user: %d", resp.StatusCode)
	}
}
