package main_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/hubtest"
)

// chromium finds headless Chromium ($EDOCGW_CHROMIUM, else chromium or
// chromium-browser on the PATH). Without it the test skips ("SKIPPED:"),
// except under CI, where it fails.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("EDOCGW_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const howTo = "install the Debian package chromium, or set EDOCGW_CHROMIUM"
	if os.Getenv("CI") != "" {
		t.Fatalf("no Chromium (CI is set, so this fails instead of skipping): %s", howTo)
	}
	t.Skipf("SKIPPED: no Chromium: %s", howTo)
	return ""
}

// shooter saves screenshots into docs/screenshots when EDOCGW_SCREENSHOTS=1.
type shooter struct {
	t   *testing.T
	dir string
}

func (s shooter) shot(ctx context.Context, name string) {
	s.t.Helper()
	if s.dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name+".png"), png, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// TestUIBrowser drives the console of a real `edocgw serve` in headless
// Chromium: a clerk signs in, finds a document sent through the hub and
// opens its timeline; a clerk of another agency gets 404 and finds
// nothing; a push that its endpoint refused for good is dead until an
// admin fixes the endpoint and the clerk resends it, then delivered; the
// admin's directory (a bad code shown at its field), routes and overview;
// an auditor downloads a bundle that `edocgw audit verify-bundle`
// accepts and verifies the audit chain; a wrong password is shown at the
// field and 5 lock the account.
func TestUIBrowser(t *testing.T) {
	exe := chromium(t)
	shots := shooter{t: t}
	if os.Getenv("EDOCGW_SCREENSHOTS") == "1" {
		shots.dir = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(shots.dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	pki, err := hubtest.NewPKI(time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	root, err := pki.WriteRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// The finance department's system: /wrong refuses for good (404), /inbox takes.
	var (
		mu     sync.Mutex
		pushed []string
	)
	endpoint := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/inbox" {
			http.Error(w, "no such mailbox", http.StatusNotFound)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		pushed = append(pushed, r.Header.Get("Edocgw-Document-Id"))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(endpoint.Close)
	pushCA := filepath.Join(t.TempDir(), "push-ca.pem")
	if err := os.WriteFile(pushCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: endpoint.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, embedded(), root, "--push-ca", pushCA)
	g.start()
	s := newParty(t, pki, sender, "UBND tỉnh Tây Ninh")
	d := newParty(t, pki, dept1, "Sở Nội vụ")
	o := newParty(t, pki, outsider, "Sở Y tế")
	for _, p := range []*party{s, d, o} {
		g.admin("agency", "add", string(p.a.Code), "--name", p.a.Name, "--cert", p.cert, "--token-file", p.tok)
	}
	fin := newParty(t, pki, dept2, "Sở Tài chính")
	g.admin("agency", "add", string(dept2), "--name", fin.a.Name, "--cert", fin.cert, "--push", endpoint.URL+"/wrong")
	g.admin("peer", "add", "truc-quoc-gia", "--url", "https://truc.example.gov.vn")
	const password = "mật khẩu thử nghiệm"
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g.admin("user", "add", "lan", "--role", "clerk", "--agency", string(sender), "--password-file", pwFile)
	g.admin("user", "add", "minh", "--role", "clerk", "--agency", string(outsider), "--password-file", pwFile)
	g.admin("user", "add", "kiem-toan", "--role", "auditor", "--password-file", pwFile)
	g.admin("user", "add", "quan-tri", "--role", "admin", "--password-file", pwFile)

	// The province sends a document to the department, which reports 01 and 03.
	const subject = "V/v triển khai cổng thông tin văn thư"
	doc, err := s.a.SignedDocument(hubtest.Doc{To: []agencyids.Code{dept1}, Number: "88", Notation: "UBND-VP", Subject: subject,
		Attachment: []byte("%PDF-1.7 nội dung")})
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := g.client("send", s.write(t, "doc.edxml", doc), "--token-file", s.tok)
	if code != 0 || !strings.HasPrefix(out, "ACCEPTED ") {
		t.Fatalf("send: %d %s%s", code, out, errs)
	}
	docID := strings.Fields(out)[1]
	edxmlID, _ := hubtest.EdxmlID(doc)
	for _, c := range []envelope.StatusCode{envelope.StatusArrived, envelope.StatusAccepted} {
		b, err := d.a.Status(c, edxmlID, sender, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if out, errs, rc := g.client("status", d.write(t, c.String()+".edxml", b), "--token-file", d.tok); rc != 0 {
			t.Fatalf("status %s: %d %s%s", c, rc, out, errs)
		}
	}

	// Each person gets a browser of their own (its own cookies).
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.WindowSize(1280, 900),
		// The gateway's development CA is not in Chromium's store.
		chromedp.Flag("ignore-certificate-errors", true), chromedp.NoSandbox)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	newBrowserCtx := func() context.Context {
		ctx, cancel := chromedp.NewContext(alloc)
		t.Cleanup(cancel)
		ctx, cancel2 := context.WithTimeout(ctx, 3*time.Minute)
		t.Cleanup(cancel2)
		return ctx
	}
	run := func(ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, g.stderr.String())
		}
	}
	// submit clicks what sends a form or follows a link, and waits for the
	// next page.
	submit := func(ctx context.Context, sel string) {
		t.Helper()
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("click %s: %v\nserver log:\n%s", sel, err, g.stderr.String())
		}
	}
	signIn := func(ctx context.Context, name, pw string) {
		t.Helper()
		run(ctx, "sign in as "+name,
			chromedp.Navigate(g.url+"/ui/"),
			chromedp.WaitVisible(chromedp.CSS("#login")),
			chromedp.SetValue(chromedp.CSS("#name"), name),
			chromedp.SetValue(chromedp.CSS("#password"), pw),
		)
		submit(ctx, "#signin")
	}
	text := func(ctx context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}

	// The clerk of the sender: a wrong password first, shown at the field.
	lan := newBrowserCtx()
	signIn(lan, "lan", "sai mật khẩu")
	if got := text(lan, "#password-error"); !strings.Contains(got, "Sai tên đăng nhập hoặc mật khẩu") {
		t.Fatalf("wrong password message: %q", got)
	}
	shots.shot(lan, "login-error")
	signIn(lan, "lan", password)
	run(lan, "search", chromedp.WaitVisible(chromedp.CSS("#search")),
		chromedp.SetValue(chromedp.CSS("#subject"), "cổng thông tin"))
	submit(lan, "#do-search")
	if got := text(lan, "#documents tbody"); !strings.Contains(got, subject) || !strings.Contains(got, "88/UBND-VP") {
		t.Fatalf("the search does not show the document:\n%s", got)
	}
	shots.shot(lan, "documents")
	submit(lan, "a.doc-link")
	loc, err := chromedp.Run(lan, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/ui/documents/"+docID) {
		t.Fatalf("the link went to %s", loc)
	}
	page := text(lan, "main")
	for _, want := range []string{subject, "Sở Nội vụ", "Trục đã tiếp nhận", "Đã lưu bản gốc", "Đã đến", "Đã tiếp nhận", "01", "03", "van-ban.pdf"} {
		if !strings.Contains(page, want) {
			t.Errorf("the timeline lacks %q:\n%s", want, page)
		}
	}
	shots.shot(lan, "document")
	if shots.dir != "" {
		run(lan, "narrow screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(),
			chromedp.WaitVisible(chromedp.CSS("#facts")))
		shots.shot(lan, "document-narrow")
		run(lan, "English", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(g.url+"/ui/documents?lang=en"),
			chromedp.WaitVisible(chromedp.CSS("#documents")))
		shots.shot(lan, "documents-en")
		run(lan, "Vietnamese again", chromedp.Navigate(g.url+"/ui/documents?lang=vi"), chromedp.WaitVisible(chromedp.CSS("#search")))
	}

	// A clerk of another agency: 404 by URL, nothing by search.
	minh := newBrowserCtx()
	signIn(minh, "minh", password)
	resp, err := chromedp.RunResponse(minh, chromedp.Navigate(g.url+"/ui/documents/"+docID))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 404 || !strings.Contains(text(minh, "#problem"), "Không tìm thấy") {
		t.Fatalf("another agency's document: %d %q", resp.Status, text(minh, "main"))
	}
	run(minh, "search as another agency", chromedp.Navigate(g.url+"/ui/documents"),
		chromedp.SetValue(chromedp.CSS("#subject"), "cổng thông tin"))
	submit(minh, "#do-search")
	if got := text(minh, "#no-documents"); !strings.Contains(got, "Không có văn bản") {
		t.Fatalf("another agency's search: %q", got)
	}

	// A document to the finance department, whose endpoint refuses it.
	const subject2 = "V/v quyết toán ngân sách năm 2026"
	doc2, err := s.a.SignedDocument(hubtest.Doc{To: []agencyids.Code{dept2}, Number: "89", Notation: "UBND-TC", Subject: subject2})
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code = g.client("send", s.write(t, "doc2.edxml", doc2), "--token-file", s.tok)
	if code != 0 || !strings.HasPrefix(out, "ACCEPTED ") {
		t.Fatalf("send: %d %s%s", code, out, errs)
	}
	doc2ID := strings.Fields(out)[1]
	doc2Page := g.url + "/ui/documents/" + doc2ID
	waitFor := func(ctx context.Context, url, sel, want string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			run(ctx, "load "+url, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(sel)))
			got := text(ctx, sel)
			if strings.Contains(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s never showed %q:\n%s\nserver log:\n%s", url, sel, want, got, g.stderr.String())
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	dept2Sel := "#recipient-" + strings.ReplaceAll(string(dept2), ".", "\\.")
	waitFor(lan, doc2Page, dept2Sel, "Ngừng chuyển do lỗi")
	if got := text(lan, dept2Sel); !strings.Contains(got, "từ chối văn bản (HTTP 404)") {
		t.Fatalf("the dead letter's error in plain words:\n%s", got)
	}
	shots.shot(lan, "document-dead")

	// The clerk resends before the endpoint is fixed: it dies again.
	submit(lan, dept2Sel+" button.resend")
	if got := text(lan, "#notice"); !strings.Contains(got, "gửi lại") {
		t.Fatalf("no confirmation of the resend: %q", got)
	}
	waitFor(lan, doc2Page, dept2Sel, "Ngừng chuyển do lỗi")

	// The admin: the overview shows the dead letter; the directory refuses a
	// bad code at its field, takes a good one, fixes the endpoint; a route.
	adm := newBrowserCtx()
	signIn(adm, "quan-tri", password)
	run(adm, "overview", chromedp.WaitVisible(chromedp.CSS("#chart")))
	if got := text(adm, "#dead-list"); !strings.Contains(got, doc2ID) {
		t.Fatalf("the overview lacks the dead letter:\n%s", got)
	}
	if got := text(adm, "#dead"); got != "1" {
		t.Fatalf("dead letters: %q", got)
	}
	shots.shot(adm, "overview")
	run(adm, "directory", chromedp.Navigate(g.url+"/ui/admin/agencies"), chromedp.WaitVisible(chromedp.CSS("#agencies")))
	if got := text(adm, "#agencies"); !strings.Contains(got, "Sở Tài chính") || !strings.Contains(got, "Trục đẩy đến") {
		t.Fatalf("the directory:\n%s", got)
	}
	shots.shot(adm, "admin-agencies")
	submit(adm, "#add-agency")
	run(adm, "bad code", chromedp.WaitVisible(chromedp.CSS("#agency-form")),
		chromedp.SetValue(chromedp.CSS("#code"), "000.13.H53"),
		chromedp.SetValue(chromedp.CSS("#name"), "Sở Khoa học và Công nghệ"),
		chromedp.SetValue(chromedp.CSS("#parent"), string(sender)))
	submit(adm, "#save-agency")
	if got := text(adm, "#code-error"); !strings.Contains(got, "Mã định danh không hợp lệ") {
		t.Fatalf("the bad code's message: %q", got)
	}
	shots.shot(adm, "admin-agency-error")
	run(adm, "good code", chromedp.SetValue(chromedp.CSS("#code"), "000.00.13.H53"))
	submit(adm, "#save-agency")
	if got := text(adm, "#notice"); !strings.Contains(got, "Đã lưu") {
		t.Fatalf("after adding: %q", got)
	}
	if got := text(adm, "#facts"); !strings.Contains(got, "Sở Khoa học và Công nghệ") || !strings.Contains(got, string(sender)) {
		t.Fatalf("the new agency:\n%s", got)
	}
	run(adm, "fix the endpoint", chromedp.Navigate(g.url+"/ui/admin/agencies/"+string(dept2)), chromedp.WaitVisible(chromedp.CSS("#delivery-form")),
		chromedp.SetValue(chromedp.CSS("#push_url"), "http://127.0.0.1/inbox"))
	submit(adm, "#save-delivery")
	if got := text(adm, "#push_url-error"); !strings.Contains(got, "https://") {
		t.Fatalf("an http endpoint: %q", got)
	}
	run(adm, "fix the endpoint", chromedp.SetValue(chromedp.CSS("#push_url"), endpoint.URL+"/inbox"))
	submit(adm, "#save-delivery")
	if got := text(adm, "#agency-mode"); !strings.Contains(got, endpoint.URL+"/inbox") {
		t.Fatalf("the endpoint was not saved: %q", got)
	}
	shots.shot(adm, "admin-agency")
	run(adm, "routes", chromedp.Navigate(g.url+"/ui/admin/routes"), chromedp.WaitVisible(chromedp.CSS("#route-form")),
		chromedp.SetValue(chromedp.CSS("#pattern"), "G2"))
	submit(adm, "#add-route")
	if got := text(adm, "#pattern-error"); !strings.Contains(got, "Mẫu tuyến không hợp lệ") {
		t.Fatalf("a bad pattern: %q", got)
	}
	run(adm, "route", chromedp.SetValue(chromedp.CSS("#pattern"), "G22"))
	submit(adm, "#add-route")
	if got := text(adm, "#routes"); !strings.Contains(got, "G22") || !strings.Contains(got, "truc-quoc-gia") {
		t.Fatalf("the route table:\n%s", got)
	}
	shots.shot(adm, "admin-routes")
	run(adm, "users", chromedp.Navigate(g.url+"/ui/admin/users"), chromedp.WaitVisible(chromedp.CSS("#users")))
	shots.shot(adm, "admin-users")

	// Now the clerk's resend goes through: delivered, and the timeline says who.
	run(lan, "back to the document", chromedp.Navigate(doc2Page), chromedp.WaitVisible(chromedp.CSS(dept2Sel+" button.resend")))
	submit(lan, dept2Sel+" button.resend")
	waitFor(lan, doc2Page, dept2Sel, "Đã chuyển đến nơi nhận")
	got := text(lan, dept2Sel)
	for _, want := range []string{"Được gửi lại", "clerk:lan", "Đã đẩy đến hệ thống nơi nhận"} {
		if !strings.Contains(got, want) {
			t.Errorf("the delivered timeline lacks %q:\n%s", want, got)
		}
	}
	mu.Lock()
	if len(pushed) != 1 || pushed[0] != doc2ID {
		t.Fatalf("the endpoint got %v", pushed)
	}
	mu.Unlock()
	shots.shot(lan, "document-resent")

	// The auditor: the document's record, its bundle downloaded and
	// verified offline, the chain verified.
	kt := newBrowserCtx()
	signIn(kt, "kiem-toan", password)
	run(kt, "audit log", chromedp.WaitVisible(chromedp.CSS("#events")))
	shots.shot(kt, "audit")
	run(kt, "record", chromedp.Navigate(g.url+"/ui/records/"+docID), chromedp.WaitVisible(chromedp.CSS("#verification")))
	if got := text(kt, "#signature-state"); !strings.Contains(got, "Chữ ký số hợp lệ") {
		t.Fatalf("the record's signature: %q", got)
	}
	if got := text(kt, "#events"); !strings.Contains(got, "document.accepted") || !strings.Contains(got, "status.received") {
		t.Fatalf("the record's events:\n%s", got)
	}
	shots.shot(kt, "record")
	downloads := t.TempDir()
	progress := chromedp.Events(kt, browser.DownloadProgress)
	run(kt, "download the bundle", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: ptrTo(true)})
		return err
	}), chromedp.Click(chromedp.CSS("#export")))
	var bundleFile string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the download was cancelled")
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			bundleFile = filepath.Join(downloads, ev.GUID)
			break
		}
	}
	out, errs, code = runEdocgw(t, "audit", "verify-bundle", "--hub-cert", filepath.Join(g.data, "pki", "hub-sign-cert.pem"), bundleFile)
	if code != 0 || !strings.HasPrefix(out, "VALID ") || !strings.Contains(out, "document="+docID) {
		t.Fatalf("verify-bundle of the downloaded bundle: exit %d\n%s%s", code, out, errs)
	}
	run(kt, "chain", chromedp.Navigate(g.url+"/ui/audit/chain"), chromedp.WaitVisible(chromedp.CSS("#verify-form")),
		chromedp.Click(chromedp.CSS("#originals")))
	submit(kt, "#verify")
	if got := text(kt, "#verdict"); !strings.Contains(got, "TOÀN VẸN") {
		t.Fatalf("the chain verification: %q\n%s", got, text(kt, "main"))
	}
	shots.shot(kt, "audit-chain")
	run(kt, "overview", chromedp.Navigate(g.url+"/ui/overview"), chromedp.WaitVisible(chromedp.CSS("#chart")))
	if got := text(kt, "#dead"); got != "0" {
		t.Fatalf("dead letters after the resend: %q", got)
	}
	if shots.dir != "" {
		run(kt, "narrow overview", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(),
			chromedp.WaitVisible(chromedp.CSS("#chart")))
		shots.shot(kt, "overview-narrow")
	}

	// Five wrong passwords lock the account; the right one is refused then.
	locker := newBrowserCtx()
	for i := 1; i <= 5; i++ {
		signIn(locker, "lan", "sai mật khẩu")
	}
	if got := text(locker, "#password-error"); !strings.Contains(got, "tạm khoá 15 phút") {
		t.Fatalf("after 5 failures: %q", got)
	}
	signIn(locker, "lan", password)
	if got := text(locker, "#password-error"); !strings.Contains(got, "tạm khoá 15 phút") {
		t.Fatalf("the right password while locked: %q", got)
	}
	shots.shot(locker, "login-locked")
	// Every attempt is in the audit log.
	auditor := filepath.Join(t.TempDir(), "auditor.token")
	g.admin("token", "add", "--role", "auditor", "--name", "kiem-tra", "--token-file", auditor)
	st, body, err := do(context.Background(), g.httpClient(), "GET", g.url+"/v1/audit/events?kind=login.&limit=100", readToken(t, auditor), nil)
	if err != nil || st != 200 {
		t.Fatalf("audit: %d %v", st, err)
	}
	for _, want := range []string{`"login.failed"`, `"login.locked"`, `"login.succeeded"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the audit log lacks %s", want)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }
