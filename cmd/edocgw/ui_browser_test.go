package main_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
// nothing; a wrong password is shown at the field and 5 lock the account.
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
	g := newGateway(t, embedded(), root)
	g.start()
	s := newParty(t, pki, sender, "UBND tỉnh Tây Ninh")
	d := newParty(t, pki, dept1, "Sở Nội vụ")
	o := newParty(t, pki, outsider, "Sở Y tế")
	for _, p := range []*party{s, d, o} {
		g.admin("agency", "add", string(p.a.Code), "--name", p.a.Name, "--cert", p.cert, "--token-file", p.tok)
	}
	const password = "mật khẩu thử nghiệm"
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g.admin("user", "add", "lan", "--role", "clerk", "--agency", string(sender), "--password-file", pwFile)
	g.admin("user", "add", "minh", "--role", "clerk", "--agency", string(outsider), "--password-file", pwFile)
	g.admin("user", "add", "kiem-toan", "--role", "auditor", "--password-file", pwFile)

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
	for _, want := range []string{subject, "Sở Nội vụ", "Trục đã tiếp nhận", "Đã lưu bản gốc", "Đã đến", "Đã tiếp nhận", "01", "03"} {
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

	// The auditor's log.
	if shots.dir != "" {
		a := newBrowserCtx()
		signIn(a, "kiem-toan", password)
		run(a, "audit log", chromedp.WaitVisible(chromedp.CSS("#events")))
		shots.shot(a, "audit")
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
