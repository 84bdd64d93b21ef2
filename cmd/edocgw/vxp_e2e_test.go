package main_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/internal/vxp"
	"github.com/edocgw/edocgw/internal/vxp/vxpclient"
	"github.com/edocgw/edocgw/routing"
)

// vxpHTTP is an HTTP client of the gateway as the SDK's: the gateway's CA
// in its truststore, a short wait for 100 Continue.
func vxpHTTP(t *testing.T, g *gateway) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	b, err := os.ReadFile(g.ca)
	if err != nil || !pool.AppendCertsFromPEM(b) {
		t.Fatalf("hub CA: %v", err)
	}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig:       &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ExpectContinueTimeout: 3 * time.Second, // HttpClient's default wait
	}}
}

// A DMS written for the national axis's SDK (the province, H53) and one on
// the native API (its department, 000.00.01.H53) exchange through `edocgw
// serve`: a document each way, statuses 01 → 03 → 06 back each time, and
// both traces show every step.
func TestVXPEndToEnd(t *testing.T) {
	pki, err := hubtest.NewPKI(time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	root, err := pki.WriteRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sdk := newParty(t, pki, sender, "UBND tỉnh Tây Ninh")
	native := newParty(t, pki, dept1, "Sở Nội vụ")
	g := newGateway(t, embedded(), root, "--vxp-prefix", "/", "--vxp-prefix", vxp.DefaultPrefix)
	g.start()

	// The operator registers both agencies, the SDK system and an auditor
	// while the gateway runs.
	g.admin("agency", "add", string(sender), "--name", sdk.a.Name, "--cert", sdk.cert)
	g.admin("agency", "add", string(dept1), "--name", native.a.Name, "--cert", native.cert, "--token-file", native.tok)
	const system = "vxp.tayninh.01"
	secretFile := filepath.Join(sdk.dir, "vxp.secret")
	g.admin("vxp", "system", "add", system, "--agency", string(sender), "--secret-file", secretFile)
	secret := readToken(t, secretFile)
	auditor := filepath.Join(t.TempDir(), "auditor.token")
	g.admin("token", "add", "--role", "auditor", "--name", "kiem-toan", "--token-file", auditor)

	ctx := context.Background()
	// One service object for the whole session, as DMSs keep it.
	c := vxpclient.New(g.url+vxp.DefaultPrefix, system, secret, vxpHTTP(t, g), time.Now().In(vxp.ICT))
	mustOK := func(what string) func(*vxpclient.Response, error) *vxpclient.Response {
		return func(r *vxpclient.Response, err error) *vxpclient.Response {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if !r.OK() {
				t.Fatalf("%s: %s %s %s", what, r.Status, r.ErrorCode, r.ErrorDesc)
			}
			for _, b := range r.Raw {
				if b >= 0x80 {
					t.Fatalf("%s: answer is not ASCII: %s", what, r.Raw)
				}
			}
			return r
		}
	}
	type item struct {
		DocID, From, To, MessageType string
	}
	receive := func(messagetype string, n int) []item {
		t.Helper()
		var items []item
		eventually(t, 10*time.Second, func() error {
			r, err := c.GetReceivedEdocList(ctx, `{"servicetype":"eDoc","messagetype":"`+messagetype+`"}`)
			if err != nil || !r.OK() {
				return fmt.Errorf("getReceivedEdocList: %+v %v", r, err)
			}
			items = nil
			if err := r.List(&items); err != nil {
				return err
			}
			if len(items) != n {
				return fmt.Errorf("%d %s items, want %d", len(items), messagetype, n)
			}
			return nil
		})
		return items
	}

	// 1. SDK → native: a signed document.
	doc, err := sdk.a.SignedDocument(hubtest.Doc{To: []agencyids.Code{dept1}, Number: "321", Notation: "UBND-VP",
		Subject: "V/v chuyển đổi trục liên thông", Attachment: bytes.Repeat([]byte("%PDF-1.7 "), 3000)})
	if err != nil {
		t.Fatal(err)
	}
	r := mustOK("sendEdoc")(c.SendEdoc(ctx, `{"from":"`+string(sender)+`","servicetype":"eDoc","messagetype":"edoc"}`, doc))
	docID, ok := vxp.HubID(r.DocID)
	if !ok {
		t.Fatalf("DocId %q", r.DocID)
	}
	edxmlID, _ := hubtest.EdxmlID(doc)
	var line string
	eventually(t, 10*time.Second, func() error {
		out, errs, code := g.client("inbox", "--token-file", native.tok)
		if code != 0 || !strings.Contains(out, docID) {
			return fmt.Errorf("native inbox: %d %s%s", code, out, errs)
		}
		line = out
		return nil
	})
	got := filepath.Join(native.dir, "got.edxml")
	if out, errs, code := g.client("fetch", strings.Fields(line)[0], "-o", got, "--ack", "--token-file", native.tok); code != 0 {
		t.Fatalf("fetch: %d %s%s", code, out, errs)
	}
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, doc) {
		t.Fatal("the native DMS received other bytes than the SDK sent")
	}
	for _, code := range []envelope.StatusCode{envelope.StatusArrived, envelope.StatusAccepted, envelope.StatusFinished} {
		b, err := native.a.Status(code, edxmlID, sender, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		f := native.write(t, fmt.Sprintf("status-%02d.edxml", int(code)), b)
		if out, errs, rc := g.client("status", f, "--token-file", native.tok); rc != 0 || !strings.HasPrefix(out, "ACCEPTED ") {
			t.Fatalf("status %02d: %d %s%s", int(code), rc, out, errs)
		}
	}
	// The statuses reach the SDK side, in order.
	var codes []string
	for _, it := range receive("status", 3) {
		b, err := mustOK("getEdoc")(c.GetEdoc(ctx, `{"docId":"`+it.DocID+`","filePath":"C:\\dms\\status"}`)).Edoc()
		if err != nil {
			t.Fatal(err)
		}
		p, err := envelope.Parse(b)
		if err != nil || p.Status == nil {
			t.Fatalf("not a status packet: %v", err)
		}
		codes = append(codes, p.Status.Code.String())
		mustOK("updateStatus")(c.UpdateStatus(ctx, `{"docid":"`+it.DocID+`","status":"done"}`))
	}
	if !slices.Equal(codes, []string{"01", "03", "06"}) {
		t.Errorf("statuses on the SDK side: %v", codes)
	}
	receive("status", 0)
	var rows []struct{ ToCode, SendStatus, ReceiveStatus string }
	if err := mustOK("getSentEdocList")(c.GetSentEdocList(ctx, `{"servicetype":"eDoc","messagetype":"edoc","docId":"`+r.DocID+`"}`)).List(&rows); err != nil ||
		len(rows) != 1 || rows[0].ToCode != string(dept1) || rows[0].SendStatus != "done" || rows[0].ReceiveStatus != "06" {
		t.Errorf("getSentEdocList: %+v %v", rows, err)
	}

	// 2. native → SDK: a signed document sent with `edocgw send`.
	back, err := native.a.SignedDocument(hubtest.Doc{To: []agencyids.Code{sender}, Number: "45", Notation: "SNV-TCCB", Subject: "Báo cáo công tác"})
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := g.client("send", native.write(t, "back.edxml", back), "--token-file", native.tok)
	if code != 0 || !strings.HasPrefix(out, "ACCEPTED ") {
		t.Fatalf("send: %d %s%s", code, out, errs)
	}
	backID := strings.Fields(out)[1]
	items := receive("edoc", 1)
	if items[0].From != string(dept1) || items[0].To != string(sender) {
		t.Fatalf("edoc item %+v", items[0])
	}
	b, err := mustOK("getEdoc")(c.GetEdoc(ctx, `{"docId":"`+items[0].DocID+`","filePath":"C:\\dms\\edoc"}`)).Edoc()
	if err != nil || !bytes.Equal(b, back) {
		t.Fatal("the SDK DMS received other bytes than the native one sent")
	}
	mustOK("updateStatus")(c.UpdateStatus(ctx, `{"docId":"`+items[0].DocID+`","status":"done"}`))
	receive("edoc", 0)
	backEdxml, _ := hubtest.EdxmlID(back)
	for _, code := range []envelope.StatusCode{envelope.StatusArrived, envelope.StatusAccepted, envelope.StatusFinished} {
		st, err := sdk.a.Status(code, backEdxml, dept1, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		mustOK("sendEdoc status")(c.SendEdoc(ctx, `{"from":"`+string(sender)+`","servicetype":"eDoc","messagetype":"status"}`, st))
	}
	eventually(t, 10*time.Second, func() error {
		out, _, _ := g.client("inbox", "--json", "--token-file", native.tok)
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l != "" {
				got = append(got, decode[routing.InboxEntry](t, []byte(l)).StatusCode)
			}
		}
		if !slices.Equal(got, []string{"01", "03", "06"}) {
			return fmt.Errorf("native inbox statuses %v", got)
		}
		return nil
	})

	// Both traces show every step, for the auditor.
	for _, tc := range []struct {
		doc, actor string
		to         agencyids.Code
		steps      []string
	}{
		{docID, "agency:" + string(sender), dept1, []string{"queued", "pulled", "acked", "arrived", "status", "status", "status"}},
		{backID, "agency:" + string(dept1), sender, []string{"queued", "pulled", "acked", "arrived", "status", "status", "status"}},
	} {
		out, errs, code := g.client("trace", tc.doc, "--json", "--token-file", auditor)
		if code != 0 {
			t.Fatalf("trace %s: %d %s", tc.doc, code, errs)
		}
		tr := decode[routing.Trace](t, []byte(out))
		if len(tr.Steps) < 2 || tr.Steps[0].Step != "accepted" || tr.Steps[0].Actor != tc.actor || tr.Steps[1].Step != "archived" {
			t.Errorf("trace %s: document steps %+v", tc.doc, tr.Steps)
		}
		if len(tr.Recipients) != 1 || tr.Recipients[0].Agency != tc.to {
			t.Fatalf("trace %s: recipients %+v", tc.doc, tr.Recipients)
		}
		var steps, statuses []string
		for _, s := range tr.Recipients[0].Steps {
			steps = append(steps, s.Step)
		}
		for _, s := range tr.Recipients[0].Statuses {
			statuses = append(statuses, s.Code)
		}
		if !slices.Equal(steps, tc.steps) || !slices.Equal(statuses, []string{"01", "03", "06"}) {
			t.Errorf("trace %s: steps %v statuses %v", tc.doc, steps, statuses)
		}
	}

	// At the root only the method names are the protocol's: the native
	// API's paths keep working.
	rootClient := vxpclient.New(g.url, system, secret, vxpHTTP(t, g), time.Now().In(vxp.ICT))
	var agencies []struct{ Code, Name string }
	if err := mustOK("getAgenciesList at /")(rootClient.GetAgenciesList(ctx, `{}`)).List(&agencies); err != nil || len(agencies) != 2 {
		t.Errorf("getAgenciesList: %+v %v", agencies, err)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, body, err := do(ctx, g.httpClient(), http.MethodGet, g.url+path, "", nil); err != nil || status != http.StatusOK {
			t.Errorf("%s: %d %s %v", path, status, body, err)
		}
	}
	// A wrong secret is refused with its code, and audited.
	bad := vxpclient.New(g.url+vxp.DefaultPrefix, system, "not-the-secret", vxpHTTP(t, g), time.Now().In(vxp.ICT))
	if r, err := bad.GetReceivedEdocList(ctx, `{}`); err != nil || r.Status != "FAIL" || r.ErrorCode != string(vxp.CodeBadHMAC) {
		t.Errorf("wrong secret: %+v %v", r, err)
	}
	status, body, err := do(ctx, g.httpClient(), http.MethodGet, g.url+"/v1/audit/events?kind=auth.refused", readToken(t, auditor), nil)
	if err != nil || status != http.StatusOK || !strings.Contains(string(body), "vxp:"+system) {
		t.Errorf("audit of the refusal: %d %s %v", status, body, err)
	}
}
