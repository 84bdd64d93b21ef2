package ui_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/internal/store/storetest"
	"github.com/edocgw/edocgw/internal/ui"
	"github.com/edocgw/edocgw/routing"
)

// csrf returns the session's CSRF token, read from a page.
func (b *browser) csrf(page string) string {
	b.t.Helper()
	_, html := b.do("GET", page, nil)
	return csrfOf(b.t, html)
}

// post sends a form with the session's token (read from page).
func (b *browser) post(page, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	form.Set("csrf", b.csrf(page))
	return b.do("POST", path, form)
}

func (tc *testConsole) state(t *testing.T, id string) routing.DeliveryState {
	t.Helper()
	d, err := tc.st.Delivery(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.State
}

// lastEvent is the newest audit event of kind.
func (tc *testConsole) lastEvent(t *testing.T, kind string) (actor, details string) {
	t.Helper()
	e, err := tc.st.LastAuditEvent(context.Background(), kind)
	if err != nil {
		t.Fatalf("last %s: %v", kind, err)
	}
	return e.Actor, string(e.Details)
}

func TestUIResendCancel(t *testing.T) {
	tc := newConsole(t)
	hung := newBrowser(t, tc.srv)
	hung.mustLogin("hung")
	docPage := "/ui/documents/" + deadDoc
	resendPath, cancelPath := "/ui/deliveries/"+deadDel+"/resend", "/ui/deliveries/"+queuedDel+"/cancel"

	// The sender's clerk sees the buttons; a recipient's does not.
	_, page := hung.do("GET", docPage, nil)
	for _, want := range []string{`id="resend-` + deadDel + `"`, `id="cancel-` + deadDel + `"`, `id="reason-` + deadDel + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the sender's page lacks %s", want)
		}
	}
	van := newBrowser(t, tc.srv)
	van.mustLogin("van")
	if _, page := van.do("GET", "/ui/documents/"+queuedDoc, nil); strings.Contains(page, `id="cancel-`) || strings.Contains(page, `id="resend-`) {
		t.Fatal("the recipient's clerk is offered actions")
	}

	// Refusals: no session, no token, the wrong role, another agency's or a
	// recipient's delivery (by posting its id).
	anon := newBrowser(t, tc.srv)
	kt := newBrowser(t, tc.srv)
	kt.mustLogin("kiem-toan")
	lan := newBrowser(t, tc.srv)
	lan.mustLogin("lan")
	refusals := []struct {
		name string
		do   func() (*http.Response, string)
		want int
	}{
		{"anonymous", func() (*http.Response, string) { return anon.do("POST", resendPath, url.Values{"csrf": {"x"}}) }, http.StatusForbidden},
		{"no token", func() (*http.Response, string) { return hung.do("POST", resendPath, url.Values{"document": {deadDoc}}) }, http.StatusForbidden},
		{"forged token", func() (*http.Response, string) {
			return hung.do("POST", cancelPath, url.Values{"csrf": {"forged"}, "reason": {"x"}})
		}, http.StatusForbidden},
		{"auditor", func() (*http.Response, string) { return kt.post("/ui/audit", resendPath, url.Values{}) }, http.StatusForbidden},
		{"another agency resends", func() (*http.Response, string) {
			return lan.post("/ui/documents", resendPath, url.Values{"document": {deadDoc}})
		}, http.StatusNotFound},
		{"another agency cancels", func() (*http.Response, string) {
			return lan.post("/ui/documents", cancelPath, url.Values{"document": {queuedDoc}, "reason": {"nhầm"}})
		}, http.StatusNotFound},
		{"the recipient cancels", func() (*http.Response, string) {
			return van.post("/ui/documents", cancelPath, url.Values{"document": {queuedDoc}, "reason": {"nhầm"}})
		}, http.StatusForbidden},
		{"not a delivery", func() (*http.Response, string) {
			return hung.post(docPage, "/ui/deliveries/01E3/resend", url.Values{"document": {deadDoc}})
		}, http.StatusNotFound},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			if resp, page := tt.do(); resp.StatusCode != tt.want || !strings.Contains(page, `id="problem"`) {
				t.Fatalf("%d, want %d\n%s", resp.StatusCode, tt.want, page)
			}
		})
	}
	if tc.state(t, deadDel) != routing.StateDead || tc.state(t, queuedDel) != routing.StateQueued {
		t.Fatal("a refused action changed a delivery")
	}
	if actor, det := tc.lastEvent(t, "auth.refused"); actor != "agency:"+string(g22) || !strings.Contains(det, `"request":"cancel"`) {
		t.Fatalf("the recipient's refusal: %s %s", actor, det)
	}

	// A resend while the recipient still has no route: said in plain words.
	resp, page := hung.post(docPage, resendPath, url.Values{"document": {deadDoc}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, `id="problem-`+deadDel+`"`) || !strings.Contains(page, "Vẫn chưa có đường chuyển") {
		t.Fatalf("resend without a route: %d\n%s", resp.StatusCode, page)
	}
	// Once an admin made G17 a member, it goes.
	if err := tc.st.PutMember(context.Background(), routing.Member{Code: g17, Mode: routing.ModePull}, "test"); err != nil {
		t.Fatal(err)
	}
	resp, _ = hung.post(docPage, resendPath, url.Values{"document": {deadDoc}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, docPage+"?done=resent&delivery="+deadDel) {
		t.Fatalf("resend: %d %s", resp.StatusCode, loc)
	}
	if _, page := hung.do("GET", resp.Header.Get("Location"), nil); !strings.Contains(page, `id="notice"`) || !strings.Contains(page, "gửi lại") {
		t.Fatal("no confirmation after the resend")
	}
	if tc.state(t, deadDel) != routing.StateQueued {
		t.Fatalf("after resend: %s", tc.state(t, deadDel))
	}
	if actor, det := tc.lastEvent(t, "delivery.requeued"); actor != "clerk:hung" || !strings.Contains(det, `"as":"agency:`+string(h41)+`"`) {
		t.Fatalf("requeued by %s: %s", actor, det)
	}
	// Twice: it is no longer dead.
	if resp, page := hung.post(docPage, resendPath, url.Values{"document": {deadDoc}}); resp.StatusCode != http.StatusConflict ||
		!strings.Contains(page, "Chỉ gửi lại được lượt chuyển đã ngừng") {
		t.Fatalf("resend twice: %d", resp.StatusCode)
	}

	// Cancel needs a reason, shown at the field.
	resp, page = hung.post(docPage, cancelPath, url.Values{"document": {queuedDoc}, "reason": {"   "}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="reason-`+queuedDel+`-error"`) || !strings.Contains(page, "Cần ghi lý do huỷ") {
		t.Fatalf("cancel without a reason: %d\n%s", resp.StatusCode, page)
	}
	resp, _ = hung.post(docPage, cancelPath, url.Values{"document": {queuedDoc}, "reason": {"Gửi nhầm nơi nhận"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done=cancelled") {
		t.Fatalf("cancel: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if tc.state(t, queuedDel) != routing.StateCancelled {
		t.Fatal("not cancelled")
	}
	if actor, det := tc.lastEvent(t, "delivery.cancelled"); actor != "clerk:hung" || !strings.Contains(det, "Gửi nhầm nơi nhận") {
		t.Fatalf("cancelled by %s: %s", actor, det)
	}
	if resp, page := hung.post(docPage, cancelPath, url.Values{"document": {queuedDoc}, "reason": {"lần nữa"}}); resp.StatusCode != http.StatusConflict ||
		!strings.Contains(page, "không huỷ được nữa") {
		t.Fatalf("cancel twice: %d", resp.StatusCode)
	}

	// An admin acts on any delivery, from the overview.
	adm := newBrowser(t, tc.srv)
	adm.mustLogin("quan-tri")
	resp, _ = adm.post("/ui/overview", "/ui/deliveries/"+deadDel+"/cancel", url.Values{"back": {"overview"}, "reason": {"Thư chết đã xử lý"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/overview?done=cancelled" {
		t.Fatalf("admin cancel: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if actor, _ := tc.lastEvent(t, "delivery.cancelled"); actor != "admin:quan-tri" {
		t.Fatalf("cancelled by %s", actor)
	}
}

func TestUIOverview(t *testing.T) {
	tc := newConsole(t, func(c *ui.Config) {
		c.Now = func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }
	})
	adm := newBrowser(t, tc.srv)
	adm.mustLogin("quan-tri")
	resp, page := adm.do("GET", "/ui/overview", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("overview: %d", resp.StatusCode)
	}
	// The five documents came on 22/11 (storetest's day); four deliveries
	// wait, one is dead, and the oldest waiting is 01D1's.
	for _, want := range []string{`<svg class="chart"`, `<title>22/11: 5</title>`, `<title>21/11: 0</title>`, `id="total-documents">5<`,
		`id="waiting">4<`, `id="dead">1<`, `id="oldest-link">01D1<`, `id="dead-` + deadDel + `"`, `id="resend-` + deadDel + `"`,
		"Không có đường chuyển tới nơi nhận"} {
		if !strings.Contains(page, want) {
			t.Errorf("the overview lacks %s", want)
		}
	}
	if strings.Count(page, `class="bar"`) != 14 {
		t.Errorf("%d bars", strings.Count(page, `class="bar"`))
	}
	// An admin's resend with no route yet: the problem at the dead letter.
	resp, page = adm.post("/ui/overview", "/ui/deliveries/"+deadDel+"/resend", url.Values{"back": {"overview"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, `id="problem-`+deadDel+`"`) {
		t.Fatalf("admin resend without a route: %d", resp.StatusCode)
	}
	// Cancel without a reason, at the field of that dead letter.
	resp, page = adm.post("/ui/overview", "/ui/deliveries/"+deadDel+"/cancel", url.Values{"back": {"overview"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="reason-`+deadDel+`-error"`) {
		t.Fatalf("admin cancel without a reason: %d", resp.StatusCode)
	}

	// The auditor reads it, with links to records and no actions.
	kt := newBrowser(t, tc.srv)
	kt.mustLogin("kiem-toan")
	resp, page = kt.do("GET", "/ui/overview", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `href="/ui/records/01D1" id="oldest-link"`) || strings.Contains(page, `id="resend-`) {
		t.Fatalf("auditor overview: %d", resp.StatusCode)
	}
	lan := newBrowser(t, tc.srv)
	lan.mustLogin("lan")
	if resp, _ := lan.do("GET", "/ui/overview", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("clerk overview: %d", resp.StatusCode)
	}
}

func TestUIRecordAndChain(t *testing.T) {
	tc := newConsole(t)
	kt := newBrowser(t, tc.srv)
	kt.mustLogin("kiem-toan")
	resp, page := kt.do("GET", "/ui/records/"+deadDoc, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("record: %d\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{"Công văn gửi Bộ Y tế", `id="deliveries"`, deadDel, "delivery.queued", "document.accepted",
		`id="export"`, "Bản gốc không còn được lưu trữ"} {
		if !strings.Contains(page, want) {
			t.Errorf("the record lacks %q", want)
		}
	}
	if actor, det := tc.lastEvent(t, "audit.read"); actor != "auditor:kiem-toan" || !strings.Contains(det, `"view":"record"`) {
		t.Fatalf("the read is not audited: %s %s", actor, det)
	}
	if resp, _ := kt.do("GET", "/ui/records?document="+deadDoc, nil); resp.Header.Get("Location") != "/ui/records/"+deadDoc {
		t.Fatalf("find record: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := kt.do("GET", "/ui/records/"+ulid("01JD", 99), nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("record of nothing: %d", resp.StatusCode)
	}

	// The chain: never verified, then verified now, then the last result.
	if _, page := kt.do("GET", "/ui/audit/chain", nil); !strings.Contains(page, `id="never"`) {
		t.Fatal("a verification before any")
	}
	if resp, _ := kt.do("POST", "/ui/audit/chain", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("verify without a token: %d", resp.StatusCode)
	}
	resp, page = kt.post("/ui/audit/chain", "/ui/audit/chain", url.Values{})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `class="verdict ok"`) || !strings.Contains(page, "TOÀN VẸN") {
		t.Fatalf("verify: %d\n%s", resp.StatusCode, page)
	}
	// With the originals: this store's documents have none in the archive.
	resp, page = kt.post("/ui/audit/chain", "/ui/audit/chain", url.Values{"originals": {"on"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `class="verdict broken"`) || !strings.Contains(page, `id="verify-problem"`) {
		t.Fatalf("verify originals: %d\n%s", resp.StatusCode, page)
	}
	if _, page := kt.do("GET", "/ui/audit/chain", nil); !strings.Contains(page, `class="verdict broken"`) || !strings.Contains(page, `id="verified-at"`) {
		t.Fatal("the last result is not shown")
	}
	if actor, det := tc.lastEvent(t, routing.KindAuditVerified); actor != "auditor:kiem-toan" || !strings.Contains(det, `"ok":false`) {
		t.Fatalf("verification event: %s %s", actor, det)
	}

	// Others: 403.
	for name, home := range map[string]string{"lan": "/ui/documents", "quan-tri": "/ui/overview"} {
		b := newBrowser(t, tc.srv)
		b.mustLogin(name)
		for _, path := range []string{"/ui/records/" + deadDoc, "/ui/audit/chain"} {
			if resp, _ := b.do("GET", path, nil); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s on %s: %d", name, path, resp.StatusCode)
			}
		}
		if resp, _ := b.post(home, "/ui/audit/chain", url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s verifies: %d", name, resp.StatusCode)
		}
	}
}

func TestUIIdleSession(t *testing.T) {
	tc := newConsole(t, func(c *ui.Config) { c.IdleTimeout = 50 * time.Millisecond })
	b := newBrowser(t, tc.srv)
	b.mustLogin("lan")
	if resp, _ := b.do("GET", "/ui/documents", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh session: %d", resp.StatusCode)
	}
	time.Sleep(100 * time.Millisecond)
	if resp, _ := b.do("GET", "/ui/documents", nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/login") {
		t.Fatalf("idle session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if actor, det := tc.lastEvent(t, "session.idle-expired"); actor != "hub" || !strings.Contains(det, `"user":"lan"`) {
		t.Fatalf("idle end: %s %s", actor, det)
	}
}

func TestUIAttachments(t *testing.T) {
	tc := newConsole(t)
	ctx := context.Background()
	_, leaf := testPKI(t)
	pdf := []byte("%PDF-1.7 kế hoạch")
	pkt, err := leaf.Document(hubtest.Doc{To: []agencyids.Code{g22}, Attachment: pdf})
	if err != nil {
		t.Fatal(err)
	}
	digest, size, err := tc.blobs.Put(ctx, bytes.NewReader(pkt))
	if err != nil {
		t.Fatal(err)
	}
	id := ulid("01JD", 7)
	doc := storetest.Doc(id, 7)
	doc.From, doc.Digest, doc.Size, doc.Recipients = h41, digest, size, []agencyids.Code{g22}
	storetest.MustAccept(t, tc.st, doc, storetest.Del(ulid("01JE", 7), id, g22, routing.RoutePull))

	hung := newBrowser(t, tc.srv)
	hung.mustLogin("hung")
	_, page := hung.do("GET", "/ui/documents/"+id, nil)
	link := "/ui/documents/" + id + "/attachments/0"
	if !strings.Contains(page, `href="`+link+`"`) || !strings.Contains(page, "van-ban.pdf") {
		t.Fatalf("the document page lists no attachment:\n%s", page)
	}
	if _, page := hung.do("GET", "/ui/documents/"+deadDoc, nil); !strings.Contains(page, `id="attachments-gone"`) {
		t.Fatal("a document without its original does not say so")
	}
	for _, tt := range []struct {
		name string
		want int
	}{{"hung", http.StatusOK}, {"van", http.StatusOK}, {"lan", http.StatusNotFound}, {"quan-tri", http.StatusForbidden}, {"kiem-toan", http.StatusOK}} {
		name, want := tt.name, tt.want
		b := newBrowser(t, tc.srv)
		b.mustLogin(name)
		resp, body := b.do("GET", link, nil)
		if resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d", name, resp.StatusCode, want)
		}
		if want != http.StatusOK {
			continue
		}
		if body != string(pdf) || resp.Header.Get("Content-Type") != "application/octet-stream" ||
			resp.Header.Get("Content-Disposition") != `attachment; filename=van-ban.pdf` {
			t.Fatalf("%s: %q %v", name, body, resp.Header)
		}
	}
	for _, bad := range []string{"1", "-1", "x"} {
		if resp, _ := hung.do("GET", "/ui/documents/"+id+"/attachments/"+bad, nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("attachment %s: %d", bad, resp.StatusCode)
		}
	}
	if actor, det := tc.lastEvent(t, "document.read"); actor != "auditor:kiem-toan" || !strings.Contains(det, `"attachment":0`) {
		t.Fatalf("the read: %s %s", actor, det)
	}
}
