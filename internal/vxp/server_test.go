package vxp_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/internal/vxp"
	"github.com/edocgw/edocgw/internal/vxp/vxpclient"
)

// received is an item of getReceivedEdocList as a DMS reads it.
type received struct {
	DocID       string `json:"docId"`
	ServiceType string `json:"serviceType"`
	MessageType string `json:"messageType"`
	CreatedTime string `json:"created_time"`
	From        string `json:"from"`
	To          string `json:"to"`
	Status      string `json:"status"`
	StatusCode  string `json:"statusCode"`
	Title       string `json:"title"`
}

type sent struct {
	ReceiverDocID string `json:"receiverDocId"`
	SenderDocID   string `json:"senderDocId"`
	ToCode        string `json:"toCode"`
	FromCode      string `json:"fromCode"`
	SendStatus    string `json:"sendStatus"`
	ReceiveStatus string `json:"receiveStatus"`
	Notation      string `json:"notation"`
	Title         string `json:"title"`
}

// ok checks a call's answer: status OK, ErrorCode 0 and ASCII only.
func ok(t *testing.T, what string) func(*vxpclient.Response, error) *vxpclient.Response {
	return func(r *vxpclient.Response, err error) *vxpclient.Response {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if r.HTTPStatus != http.StatusOK || !r.OK() {
			t.Fatalf("%s: HTTP %d %s %s %s", what, r.HTTPStatus, r.Status, r.ErrorCode, r.ErrorDesc)
		}
		asciiOnly(t, what, r.Raw)
		return r
	}
}

// listOf checks a list call and decodes its data.
func listOf[T any](t *testing.T, what string) func(*vxpclient.Response, error) []T {
	return func(r *vxpclient.Response, err error) []T {
		t.Helper()
		ok(t, what)(r, err)
		var out []T
		if err := r.List(&out); err != nil {
			t.Fatalf("%s: data %s: %v", what, r.Data, err)
		}
		return out
	}
}

// A DMS on the SDK protocol and one on the native API exchange a document
// each way, with statuses 01, 03 and 06 back, through every endpoint, under
// both prefixes; one service object per DMS for the whole session (sticky
// timestamp, keys leaking from call to call).
func TestVXPExchange(t *testing.T) {
	for _, prefix := range []string{"", vxp.DefaultPrefix} {
		t.Run("prefix="+prefix, func(t *testing.T) { testExchange(t, prefix) })
	}
}

func testExchange(t *testing.T, prefix string) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client(prefix, system)

	// SDK → native: a signed document from H53 to G22.
	doc := e.signed(h53, hubtest.Doc{To: []agencyids.Code{g22}, Number: "125", Notation: "UBND-VP", Subject: "V/v triển khai liên thông văn bản"})
	r := ok(t, "sendEdoc")(c.SendEdoc(ctx, `{"from":"000.00.00.H53","servicetype":"eDoc","messagetype":"edoc"}`, doc))
	docID, valid := vxp.HubID(r.DocID)
	if !valid || len(r.DocID) != 36 {
		t.Fatalf("DocId %q is not a UUID", r.DocID)
	}
	got := e.takeAll(g22)
	if len(got) != 1 || !bytes.Equal(got[0], doc) {
		t.Fatalf("G22 received %d packets, or other bytes", len(got))
	}
	edxmlID, _ := hubtest.EdxmlID(doc)
	for _, code := range []envelope.StatusCode{1, 3, 6} {
		e.accept(g22, e.status(g22, code, edxmlID, h53))
	}

	// The statuses come back on the SDK side.
	if r := ok(t, "countReceiveStatus")(c.CountReceiveStatus(ctx, `{"servicetype":"eDoc","messagetype":"status"}`)); r.Count == nil || *r.Count != 3 {
		t.Fatalf("countReceiveStatus = %v", r.Count)
	}
	if r := ok(t, "countReceiveEdoc")(c.CountReceiveEdoc(ctx, `{}`)); r.Count == nil || *r.Count != 0 {
		t.Fatalf("countReceiveEdoc = %v", r.Count)
	}
	items := listOf[received](t, "status list")(c.GetReceivedEdocList(ctx, `{"servicetype":"eDoc","messagetype":"status"}`))
	var codes []string
	for _, it := range items {
		if it.MessageType != "status" || it.From != string(g22) || it.To != string(h53) || it.CreatedTime == "" || it.Status != "pending" {
			t.Errorf("status item %+v", it)
		}
		b, err := ok(t, "getEdoc")(c.GetEdoc(ctx, `{"docId":"`+it.DocID+`","filePath":"/var/dms/edoc"}`)).Edoc()
		if err != nil {
			t.Fatal(err)
		}
		p, err := envelope.Parse(b)
		if err != nil || p.Status == nil {
			t.Fatalf("getEdoc gave no status packet: %v", err)
		}
		codes = append(codes, p.Status.Code.String())
		ok(t, "updateStatus")(c.UpdateStatus(ctx, `{"docid":"`+it.DocID+`","status":"done"}`))
	}
	if !slices.Equal(codes, []string{"01", "03", "06"}) {
		t.Errorf("statuses %v", codes)
	}
	if rest := listOf[received](t, "status list")(c.GetReceivedEdocList(ctx, `{"servicetype":"eDoc","messagetype":"status"}`)); len(rest) != 0 {
		t.Errorf("acknowledged statuses still listed: %+v", rest)
	}
	rows := listOf[sent](t, "getSentEdocList")(c.GetSentEdocList(ctx, `{"servicetype":"eDoc","messagetype":"edoc","docId":"`+r.DocID+`"}`))
	if len(rows) != 1 || rows[0].ToCode != string(g22) || rows[0].SendStatus != "done" || rows[0].ReceiveStatus != "06" ||
		rows[0].SenderDocID != r.DocID || rows[0].Notation != "125/UBND-VP" || rows[0].Title != "V/v triển khai liên thông văn bản" {
		t.Errorf("getSentEdocList = %+v", rows)
	}

	// native → SDK: a document from G22 to H53's department.
	back := e.signed(g22, hubtest.Doc{To: []agencyids.Code{h53dept}, Number: "7", Notation: "VPCP-TCCB", Subject: "Về việc cử cán bộ"})
	rc := e.accept(g22, back)
	items = listOf[received](t, "edoc list")(c.GetReceivedEdocList(ctx, `{"servicetype":"eDoc","messagetype":"edoc"}`))
	if len(items) != 1 || items[0].To != string(h53dept) || items[0].From != string(g22) || items[0].Title != "Về việc cử cán bộ" {
		t.Fatalf("edoc list %+v", items)
	}
	id := items[0].DocID
	dl, err := c.DownloadEdoc(ctx, `{"docId":"`+id+`","filePath":"/tmp"}`)
	if err != nil || dl.HTTPStatus != http.StatusOK || !bytes.Equal(dl.Raw, back) {
		t.Fatalf("downloadEdoc: %v, HTTP %d, or bytes differ from the original", err, dl.HTTPStatus)
	}
	if b, err := ok(t, "getEdoc")(c.GetEdoc(ctx, `{"docId":"`+id+`"}`)).Edoc(); err != nil || !bytes.Equal(b, back) {
		t.Fatalf("getEdoc bytes differ: %v", err)
	}
	// processing and fail leave it listed; done takes it out, twice is fine.
	for _, st := range []string{"processing", "fail"} {
		ok(t, "updateStatus "+st)(c.UpdateStatus(ctx, `{"docId":"`+id+`","status":"`+st+`","description":"thử lại"}`))
		if n := len(listOf[received](t, "edoc list")(c.GetReceivedEdocList(ctx, `{"messagetype":"edoc"}`))); n != 1 {
			t.Fatalf("after %s: %d items", st, n)
		}
	}
	for range 2 {
		ok(t, "updateStatus done")(c.UpdateStatus(ctx, `{"docId":"`+id+`","status":"done"}`))
	}
	if n := len(listOf[received](t, "edoc list")(c.GetReceivedEdocList(ctx, `{"messagetype":"edoc"}`))); n != 0 {
		t.Fatalf("after done: %d items", n)
	}
	// H53's department answers 01, 03, 06 as unsigned status packets.
	backID, _ := hubtest.EdxmlID(back)
	for _, code := range []envelope.StatusCode{1, 3, 6} {
		st := e.status(h53dept, code, backID, g22)
		ok(t, "sendEdoc status")(c.SendEdoc(ctx, `{"from":"000.00.01.H53","servicetype":"eDoc","messagetype":"status"}`, st))
	}
	if n := len(e.takeAll(g22)); n != 3 {
		t.Fatalf("G22 got %d statuses", n)
	}

	// Both traces show every step.
	for _, tc := range []struct {
		doc  string
		who  agencyids.Code
		to   agencyids.Code
		want []string
	}{
		{docID, h53, g22, []string{"queued", "pulled", "acked", "arrived", "status", "status", "status"}},
		{rc.ID, g22, h53dept, []string{"queued", "pulled", "fetched", "vxp-processing", "vxp-failed", "acked", "arrived", "status", "status", "status"}},
	} {
		tr, err := e.hub.Trace(ctx, agencyP(tc.who), tc.doc)
		if err != nil {
			t.Fatal(err)
		}
		var top []string
		for _, s := range tr.Steps {
			top = append(top, s.Step)
		}
		if !slices.Equal(top, []string{"accepted", "archived"}) || len(tr.Recipients) != 1 || tr.Recipients[0].Agency != tc.to {
			t.Fatalf("trace %s: %v %+v", tc.doc, top, tr.Recipients)
		}
		var steps []string
		for _, s := range tr.Recipients[0].Steps {
			steps = append(steps, s.Step)
		}
		if !slices.Equal(steps, tc.want) {
			t.Errorf("trace %s steps %v, want %v", tc.doc, steps, tc.want)
		}
		if st := tr.Recipients[0].Statuses; len(st) != 3 || st[2].Code != "06" {
			t.Errorf("trace %s statuses %+v", tc.doc, st)
		}
	}
	// Everything this system did is recorded as H53's or its department's.
	doc1, _ := e.store.Document(ctx, docID)
	if doc1.Via != "agency:"+string(h53) {
		t.Errorf("Via = %s", doc1.Via)
	}
}

// A multipart/form-data body with a file_doc part is taken too, and the
// padded hash-file form.
func TestVXPSendMultipartPadded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client(vxp.DefaultPrefix, system)
	c.Multipart = true
	doc := e.signed(h53, hubtest.Doc{To: []agencyids.Code{g22}, Number: "9"})
	ok(t, "sendEdoc multipart")(c.SendEdoc(ctx, `{"from":"000.00.00.H53"}`, doc))
	if got := e.takeAll(g22); len(got) != 1 || !bytes.Equal(got[0], doc) {
		t.Fatal("multipart packet not delivered as sent")
	}
	// A client that hashes properly (padded hex) and sends no CRLF.
	doc = e.signed(h53, hubtest.Doc{To: []agencyids.Code{g22}, Number: "10"})
	req := e.forge(vxp.DefaultPrefix+"/sendEdoc", system, e.secrets[system],
		[][2]string{{"systemid", system}, {"from", string(h53)}, {"hash-file", sha256Hex(doc)}}, doc)
	ok(t, "sendEdoc padded")(c.Do(req))
	if got := e.takeAll(g22); len(got) != 1 || !bytes.Equal(got[0], doc) {
		t.Fatal("packet not delivered as sent")
	}
}

// The directory endpoints answer from the hub's directory.
func TestVXPDirectory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("", system)
	type agency struct {
		Code, ID, Name, Pid, OldCode, Mail string
	}
	all := listOf[agency](t, "getAgenciesList")(c.GetAgenciesList(ctx, `{}`))
	i := slices.IndexFunc(all, func(a agency) bool { return a.Code == string(h53dept) })
	if len(all) != 6 || i < 0 || all[i].Pid != string(h53) || all[i].Name != "Cơ quan "+string(h53dept) {
		t.Fatalf("getAgenciesList = %+v", all)
	}
	type qd20 struct{ Code, Code102, Name string }
	q := listOf[qd20](t, "getAgenciesListQD20")(c.GetAgenciesListQD20(ctx, `{"level":"2"}`))
	if len(q) != 1 || q[0].Code != "G09.01" || q[0].Code102 != "000.00.00.G09" {
		t.Fatalf("getAgenciesListQD20 = %+v", q)
	}
	if q := listOf[qd20](t, "getAgenciesListQD20")(c.GetAgenciesListQD20(ctx, `{"level":"1"}`)); len(q) != 0 {
		t.Fatalf("level 1 = %+v", q)
	}
	type unit struct {
		Code     string
		Version  int
		Deleted  bool
		IsAgency bool
	}
	u := listOf[unit](t, "getSynchronizeUnit")(c.GetSynchronizeUnit(ctx, `{}`))
	if len(u) != 6 || u[0].Version != 1 || u[0].Deleted || !u[0].IsAgency {
		t.Fatalf("getSynchronizeUnit = %+v", u)
	}
	ok(t, "registerAgency")(c.RegisterAgency(ctx, `{}`, `{"id":"","pcode":"000.00.00.H53","code":"000.00.01.H53","name":"Sở","mail":"a@b.vn"}`))
}

// Under a prefix an unknown name is the protocol's; at the root it is the
// native API's, as are /v1 paths under every mount.
func TestVXPMount(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/v1/inbox", http.StatusTeapot, "native /v1/inbox"},
		{"/healthz", http.StatusTeapot, "native /healthz"},
		{"/nosuch", http.StatusTeapot, "native /nosuch"},
		{vxp.DefaultPrefix + "/nosuch", http.StatusOK, `"ErrorCode":"4040"`},
		{vxp.DefaultPrefix, http.StatusOK, `"ErrorCode":"4040"`},
		{"/getAgenciesList", http.StatusOK, `"ErrorCode":"1001"`},
		{vxp.DefaultPrefix + "/getAgenciesList", http.StatusOK, `"ErrorCode":"1001"`},
	} {
		resp, err := http.Post(e.srv.URL+tc.path, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(b.String(), tc.body) {
			t.Errorf("%s: %d %s", tc.path, resp.StatusCode, b.String())
		}
	}
	for _, p := range []string{"/v1", "/metrics/x", "XrdAdapter", "/a//b", "/a/../b", "/a?b"} {
		if _, err := vxp.NormalizePrefix(p); err == nil {
			t.Errorf("NormalizePrefix(%q) accepted", p)
		}
	}
	for in, want := range map[string]string{"/": "", "": "", "/XrdAdapter/adapter/": "/XrdAdapter/adapter", "/vxp": "/vxp"} {
		if got, err := vxp.NormalizePrefix(in); err != nil || got != want {
			t.Errorf("NormalizePrefix(%q) = %q, %v", in, got, err)
		}
	}
}

// A GET of a count method is answered; a GET of sendEdoc is not.
func TestVXPHTTPMethods(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("", system)
	req, _, err := c.Request(ctx, "countReceiveEdoc", `{}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Method, req.Body, req.ContentLength = http.MethodGet, http.NoBody, 0
	delete(req.Header, "Expect")
	if r := ok(t, "GET countReceiveEdoc")(c.Do(req)); r.Count == nil {
		t.Fatal("no count")
	}
	req, _, err = c.Request(ctx, "getAgenciesList", `{}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Method = http.MethodPut
	r, err := c.Do(req)
	if err != nil || r.ErrorCode != string(vxp.CodeHTTPMethod) {
		t.Fatalf("PUT: %+v %v", r, err)
	}
}

// A DMS that spells docid in getEdoc and docId in updateStatus signs both
// from its second call on, one stale: each call still reaches the document
// it meant.
func TestVXPDocIDSpellings(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var docs [][]byte
	for i := range 3 {
		d := e.signed(g22, hubtest.Doc{To: []agencyids.Code{h53}, Number: fmt.Sprint(20 + i)})
		e.accept(g22, d)
		docs = append(docs, d)
	}
	c := e.client("", system)
	items := listOf[received](t, "list")(c.GetReceivedEdocList(ctx, `{"servicetype":"eDoc","messagetype":"edoc"}`))
	if len(items) != 3 {
		t.Fatalf("%d items", len(items))
	}
	for i, it := range items {
		b, err := ok(t, "getEdoc")(c.GetEdoc(ctx, `{"docid":"`+it.DocID+`","filePath":"/dms"}`)).Edoc()
		if err != nil || !bytes.Equal(b, docs[i]) {
			t.Fatalf("getEdoc %d gave another document (%v)", i, err)
		}
		ok(t, "updateStatus")(c.UpdateStatus(ctx, `{"docId":"`+it.DocID+`","status":"done"}`))
		if n := len(e.inbox(h53)); n != 2-i {
			t.Fatalf("after ack %d: %d left", i, n)
		}
	}
}
