package main_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/internal/testenv"
	"github.com/edocgw/edocgw/routing"
)

// The agencies of the end-to-end tests: a provincial hub (H53) with the
// provincial office as sender and two departments, an outsider department,
// and the national axis (a second gateway) with the Government Office.
const (
	sender   agencyids.Code = "000.00.00.H53" // UBND tỉnh Tây Ninh
	dept1    agencyids.Code = "000.00.01.H53"
	dept2    agencyids.Code = "000.00.02.H53"
	outsider agencyids.Code = "000.00.09.H53"
	remote   agencyids.Code = "000.00.00.G22" // Văn phòng Chính phủ, on the axis
)

// party is an agency with its files: certificate, key, token.
type party struct {
	a              *hubtest.Agency
	cert, key, tok string
	dir            string
}

func newParty(t *testing.T, pki *hubtest.PKI, code agencyids.Code, name string) *party {
	t.Helper()
	a, err := pki.Agency(code, name)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key, err := a.WriteFiles(dir, "agency")
	if err != nil {
		t.Fatal(err)
	}
	return &party{a: a, cert: cert, key: key, tok: filepath.Join(dir, "token"), dir: dir}
}

// write puts packet bytes in a file of the party's folder.
func (p *party) write(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// twoHubs starts a provincial hub and an upstream "axis" hub on backend
// b (each with its own stores) and connects them both ways.
func twoHubs(t *testing.T, mk func(name string) backend) (prov, axis *gateway, ps map[agencyids.Code]*party, pki *hubtest.PKI) {
	t.Helper()
	pki, err := hubtest.NewPKI(time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	root, err := pki.WriteRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ps = map[agencyids.Code]*party{
		sender:   newParty(t, pki, sender, "UBND tỉnh Tây Ninh"),
		dept1:    newParty(t, pki, dept1, "Sở Nội vụ"),
		dept2:    newParty(t, pki, dept2, "Sở Tài chính"),
		outsider: newParty(t, pki, outsider, "Sở Y tế"),
		remote:   newParty(t, pki, remote, "Văn phòng Chính phủ"),
	}
	axis = newGateway(t, mk("axis"), root)
	axis.start()
	prov = newGateway(t, mk("prov"), root)
	prov.start()
	// Agencies are registered while the gateways run.
	for _, c := range []agencyids.Code{sender, dept1, dept2, outsider} {
		p := ps[c]
		prov.admin("agency", "add", string(c), "--name", p.a.Name, "--cert", p.cert, "--token-file", p.tok)
	}
	axis.admin("agency", "add", string(remote), "--name", ps[remote].a.Name, "--cert", ps[remote].cert, "--token-file", ps[remote].tok)
	// Each hub issues the other a token; the province sends everything not
	// local to the axis, the axis sends H53 to the province.
	tokDir := t.TempDir()
	provTok, axisTok := filepath.Join(tokDir, "prov-at-axis"), filepath.Join(tokDir, "axis-at-prov")
	axis.admin("peer", "token", "tay-ninh", "--token-file", provTok)
	prov.admin("peer", "token", "axis", "--token-file", axisTok)
	prov.peerTok = axisTok
	prov.admin("peer", "add", "axis", "--url", axis.url, "--ca", axis.ca, "--token-file", provTok)
	prov.admin("route", "add", "*", "axis")
	axis.admin("peer", "add", "tay-ninh", "--url", prov.url, "--ca", prov.ca, "--token-file", axisTok)
	axis.admin("route", "add", "H53", "tay-ninh")
	return prov, axis, ps, pki
}

func TestHubEndToEndEmbedded(t *testing.T) {
	hubEndToEnd(t, func(string) backend { return embedded() })
}

func TestHubEndToEndProduction(t *testing.T) {
	minio := testenv.MinIO(t)
	hubEndToEnd(t, func(name string) backend { return production(t, minio, "edocgw-"+name) })
}

func hubEndToEnd(t *testing.T, mk func(string) backend) {
	prov, axis, ps, _ := twoHubs(t, mk)
	s := ps[sender]

	// The province sends a signed document to two departments and the
	// Government Office on the axis.
	doc, err := s.a.SignedDocument(hubtest.Doc{To: []agencyids.Code{dept1, dept2, remote}, Number: "125", Notation: "UBND-VP",
		Subject: "V/v triển khai liên thông văn bản", Attachment: bytes.Repeat([]byte("%PDF-1.7 nội dung "), 4000)})
	if err != nil {
		t.Fatal(err)
	}
	docFile := s.write(t, "doc.edxml", doc)
	out, errs, code := prov.client("send", docFile, "--token-file", s.tok)
	if code != 0 || !strings.HasPrefix(out, "ACCEPTED ") {
		t.Fatalf("send: %d %s%s", code, out, errs)
	}
	docID := strings.Fields(out)[1]
	edxmlID, _ := hubtest.EdxmlID(doc)

	// Sending again is a duplicate naming the first id.
	if out, _, code := prov.client("send", docFile, "--token-file", s.tok); code != 1 || strings.TrimSpace(out) != "DUPLICATE "+docID {
		t.Fatalf("resend: %d %q", code, out)
	}

	// Each recipient gets byte-identical originals: dept1 by token, dept2
	// by its TLS client certificate, the Government Office on the axis.
	fetchOne := func(g *gateway, p *party, auth ...string) string {
		t.Helper()
		var line string
		eventually(t, 30*time.Second, func() error {
			out, errs, code := g.client(append([]string{"inbox"}, auth...)...)
			if code != 0 {
				return fmt.Errorf("inbox: %d %s%s", code, out, errs)
			}
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if f := strings.Fields(l); len(f) >= 3 && f[2] == string(s.a.Code) {
					line = l
					return nil
				}
			}
			return fmt.Errorf("%s has no delivery yet: %q", p.a.Code, out)
		})
		del := strings.Fields(line)[0]
		got := filepath.Join(p.dir, "got-"+del+".edxml")
		out, errs, code := g.client(append([]string{"fetch", del, "-o", got, "--ack"}, auth...)...)
		if code != 0 {
			t.Fatalf("fetch: %d %s%s", code, out, errs)
		}
		b, err := os.ReadFile(got)
		if err != nil || !bytes.Equal(b, doc) {
			t.Fatalf("%s received %d bytes that differ from the %d sent", p.a.Code, len(b), len(doc))
		}
		return del
	}
	del1 := fetchOne(prov, ps[dept1], "--token-file", ps[dept1].tok)
	fetchOne(prov, ps[dept2], "--cert", ps[dept2].cert, "--key", ps[dept2].key)
	fetchOne(axis, ps[remote], "--token-file", ps[remote].tok)

	// Statuses 01 → 03 → 06 from a department and from the remote agency
	// reach the sender.
	sendStatus := func(g *gateway, p *party, code envelope.StatusCode, other agencyids.Code) {
		t.Helper()
		b, err := p.a.Status(code, edxmlID, other, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		f := p.write(t, fmt.Sprintf("status-%02d.edxml", int(code)), b)
		if out, errs, rc := g.client("status", f, "--token-file", p.tok); rc != 0 || !strings.HasPrefix(out, "ACCEPTED ") {
			t.Fatalf("status %02d from %s: %d %s%s", int(code), p.a.Code, rc, out, errs)
		}
	}
	for _, c := range []envelope.StatusCode{envelope.StatusArrived, envelope.StatusAccepted, envelope.StatusFinished} {
		sendStatus(prov, ps[dept1], c, sender)
		sendStatus(axis, ps[remote], c, sender)
	}
	// Recall: the sender asks dept2 to take the document back; dept2 agrees.
	sendStatus(prov, s, envelope.StatusRecallRequest, dept2)
	var recall []string
	eventually(t, 10*time.Second, func() error {
		out, _, _ := prov.client("inbox", "--json", "--token-file", ps[dept2].tok)
		recall = nil
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if strings.Contains(l, `"statusCode":"13"`) {
				recall = append(recall, l)
			}
		}
		if len(recall) != 1 {
			return fmt.Errorf("dept2 inbox: %s", out)
		}
		return nil
	})
	sendStatus(prov, ps[dept2], envelope.StatusChangeAccepted, sender)

	// The sender's inbox holds the statuses: three from dept1, three
	// relayed from the axis, and the 15.
	eventually(t, 30*time.Second, func() error {
		out, errs, code := prov.client("inbox", "--json", "--token-file", s.tok)
		if code != 0 {
			return fmt.Errorf("sender inbox: %d %s", code, errs)
		}
		var from []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l == "" {
				continue
			}
			e := decode[routing.InboxEntry](t, []byte(l))
			from = append(from, string(e.From)+":"+e.StatusCode)
		}
		slices.Sort(from)
		want := []string{string(remote) + ":01", string(remote) + ":03", string(remote) + ":06",
			string(dept1) + ":01", string(dept1) + ":03", string(dept1) + ":06", string(dept2) + ":15"}
		slices.Sort(want)
		if !slices.Equal(from, want) {
			return fmt.Errorf("sender inbox %v, want %v", from, want)
		}
		return nil
	})

	// The trace shows every step for every recipient.
	out, errs, code = prov.client("trace", docID, "--json", "--token-file", s.tok)
	if code != 0 {
		t.Fatalf("trace: %d %s", code, errs)
	}
	tr := decode[routing.Trace](t, []byte(out))
	byAgency := map[agencyids.Code]routing.TraceRecipient{}
	for _, r := range tr.Recipients {
		byAgency[r.Agency] = r
	}
	check := func(c agencyids.Code, wantSteps, wantStatuses []string) {
		t.Helper()
		r := byAgency[c]
		var st, codes []string
		for _, s := range r.Steps {
			if s.Step != "status" {
				st = append(st, s.Step)
			}
		}
		for _, s := range r.Statuses {
			codes = append(codes, s.Code)
		}
		for _, w := range wantSteps {
			if !slices.Contains(st, w) {
				t.Errorf("%s steps %v lack %q", c, st, w)
			}
		}
		if !slices.Equal(codes, wantStatuses) {
			t.Errorf("%s statuses %v, want %v", c, codes, wantStatuses)
		}
	}
	check(dept1, []string{"queued", "pulled", "acked"}, []string{"01", "03", "06"})
	check(dept2, []string{"queued", "pulled", "acked", "arrived"}, []string{"13", "15"})
	check(remote, []string{"queued", "forwarded"}, []string{"01", "03", "06"})
	if byAgency[remote].Route != routing.RoutePeer || byAgency[remote].State != routing.StateDelivered || byAgency[remote].Remote == "" {
		t.Errorf("remote recipient %+v", byAgency[remote])
	}
	// The axis's own steps for its recipient are on the province's trace
	// (design §9), each naming the axis.
	var atAxis []string
	for _, s := range byAgency[remote].Steps {
		if s.Hub == "axis" {
			atAxis = append(atAxis, s.Step)
		}
	}
	for _, w := range []string{"queued", "pulled", "acked"} {
		if !slices.Contains(atAxis, w) || byAgency[remote].PeerError != "" {
			t.Errorf("the axis's steps on the province's trace: %v (peer error %q), want %q", atAxis, byAgency[remote].PeerError, w)
		}
	}
	if len(tr.Steps) < 2 || tr.Steps[0].Step != "accepted" || tr.Steps[1].Step != "archived" {
		t.Errorf("document steps %+v", tr.Steps)
	}
	// The human-readable trace names every recipient.
	text, _, _ := prov.client("trace", docID, "--token-file", s.tok)
	for _, c := range []agencyids.Code{dept1, dept2, remote} {
		if !strings.Contains(text, string(c)) {
			t.Errorf("trace output lacks %s:\n%s", c, text)
		}
	}

	// Nothing else can read them.
	c := prov.httpClient()
	ctx := t.Context()
	outTok := readToken(t, ps[outsider].tok)
	for _, u := range []string{"/v1/documents/" + docID, "/v1/documents/" + docID + "/trace", "/v1/deliveries/" + del1} {
		if st, body, err := do(ctx, c, "GET", prov.url+u, outTok, nil); err != nil || st != 404 {
			t.Errorf("outsider GET %s: %d %s %v", u, st, body, err)
		}
		if st, _, err := do(ctx, c, "GET", prov.url+u, "", nil); err != nil || st != 401 {
			t.Errorf("anonymous GET %s: %d %v", u, st, err)
		}
	}
	if st, _, _ := do(ctx, c, "POST", prov.url+"/v1/deliveries/"+del1+"/ack", readToken(t, ps[dept2].tok), nil); st != 404 {
		t.Errorf("dept2 acks dept1's delivery: %d", st)
	}
	if out, _, _ := prov.client("inbox", "--token-file", ps[outsider].tok); strings.TrimSpace(out) != "" {
		t.Errorf("outsider inbox: %q", out)
	}
	// The axis, as a peer hub, reads the trace of what it was sent but has
	// no inbox and cannot send as the province's agencies.
	axisTok := readToken(t, prov.peerTok)
	if st, body, _ := do(ctx, c, "GET", prov.url+"/v1/documents/"+docID+"/trace", axisTok, nil); st != 200 {
		t.Errorf("peer trace: %d %s", st, body)
	}
	if st, _, _ := do(ctx, c, "GET", prov.url+"/v1/inbox", axisTok, nil); st != 403 {
		t.Errorf("peer inbox: %d", st)
	}
	forged, _ := s.a.SignedDocument(hubtest.Doc{To: []agencyids.Code{dept1}, Number: "126", Notation: "UBND-VP"})
	if st, body, _ := do(ctx, c, "POST", prov.url+"/v1/documents", axisTok, forged); st != 403 {
		t.Errorf("peer sends as a local agency: %d %s", st, body)
	}

	// An auditor exports the document's archive record; it verifies
	// offline with the hub certificate alone, and its original is the
	// sender's bytes.
	audTok := filepath.Join(t.TempDir(), "auditor.token")
	prov.admin("token", "add", "--role", "auditor", "--name", "kiem-toan", "--token-file", audTok)
	st, zipBytes, err := do(ctx, c, "GET", prov.url+"/v1/archive/"+docID+"/export", readToken(t, audTok), nil)
	if err != nil || st != 200 {
		t.Fatalf("export: %d %v %.200s", st, err, zipBytes)
	}
	if st, _, _ := do(ctx, c, "GET", prov.url+"/v1/archive/"+docID+"/export", readToken(t, s.tok), nil); st != 403 {
		t.Errorf("an agency exports: %d", st)
	}
	zipFile := filepath.Join(t.TempDir(), "bundle.zip")
	if err := os.WriteFile(zipFile, zipBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	hubCert := filepath.Join(prov.data, "pki", "hub-sign-cert.pem")
	extracted := t.TempDir()
	out = must(t, "audit", "verify-bundle", zipFile, "--hub-cert", hubCert, "--extract", extracted)
	if !strings.HasPrefix(out, "VALID ") || !strings.Contains(out, "document.accepted") || !strings.Contains(out, "archive.exported") {
		t.Errorf("verify-bundle: %s", out)
	}
	if b, err := os.ReadFile(filepath.Join(extracted, docID+".edxml")); err != nil || !bytes.Equal(b, doc) {
		t.Errorf("the bundle's original differs from what the sender uploaded (%v)", err)
	}
	// Another hub's certificate does not verify it; an edited byte is caught.
	if out, _, code := runEdocgw(t, "audit", "verify-bundle", zipFile, "--hub-cert", filepath.Join(axis.data, "pki", "hub-sign-cert.pem")); code != 1 || !strings.HasPrefix(out, "INVALID") {
		t.Errorf("verify-bundle with the axis certificate: %d %s", code, out)
	}
	edited := bytes.Clone(zipBytes)
	i := bytes.Index(edited, []byte("UBND-VP"))
	if i < 0 {
		t.Fatal("the bundle does not hold the original uncompressed")
	}
	edited[i] = 'X'
	if err := os.WriteFile(zipFile, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _, code := runEdocgw(t, "audit", "verify-bundle", zipFile, "--hub-cert", hubCert); code != 1 || !strings.HasPrefix(out, "INVALID") {
		t.Errorf("verify-bundle of an edited bundle: %d %s", code, out)
	}

	// The audit chains of both hubs verify, with every original re-hashed.
	for _, g := range []*gateway{prov, axis} {
		args := []string{"audit", "verify", "--hub-cert", filepath.Join(g.data, "pki", "hub-sign-cert.pem")}
		if g.b.archiveURL != "" {
			args = append(args, "--archive-url", g.b.archiveURL)
		}
		out := g.admin(args...)
		if !strings.HasPrefix(out, "OK ") || strings.Contains(out, " 0 originals") {
			t.Errorf("audit verify: %s", out)
		}
	}
	// On the embedded backend, an original changed on disk is reported.
	if prov.b.archiveURL == "" {
		blobs, _ := filepath.Glob(filepath.Join(prov.data, "blobs", "sha256", "*", "*", "*"))
		if len(blobs) == 0 {
			t.Fatal("no blob files")
		}
		victim := blobs[0]
		b, err := os.ReadFile(victim)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 1
		if err := os.Chmod(victim, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(victim, b, 0o444); err != nil {
			t.Fatal(err)
		}
		out, _, code := runEdocgw(t, append([]string{"audit", "verify"}, prov.storeArgs()...)...)
		if code != 1 || !strings.Contains(out, "BROKEN original of document") || !strings.Contains(out, filepath.Base(victim)) {
			t.Errorf("audit verify after an original was changed: %d %s", code, out)
		}
	}
}
