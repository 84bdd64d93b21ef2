package envelope_test

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
)

var update = flag.Bool("update", false, "rewrite golden files")

// gen makes random, strictly valid packets.
type gen struct{ r *rand.Rand }

var alphabet = []rune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 " +
	"ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵĐƯ" +
	"<>&\"'/.,;:-()[]{}%#@!?\t\n\r")

func (g gen) text(max int) string {
	n := 1 + g.r.IntN(max)
	rs := make([]rune, n)
	for i := range rs {
		rs[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	s := strings.TrimSpace(string(rs))
	if s == "" {
		return "x"
	}
	return s
}

func (g gen) maybe(max int) string {
	if g.r.IntN(3) == 0 {
		return ""
	}
	return g.text(max)
}

func (g gen) code() agencyids.Code {
	l1 := fmt.Sprintf("%c%02d", "GHKA"[g.r.IntN(4)], 1+g.r.IntN(63))
	switch g.r.IntN(3) {
	case 0:
		return agencyids.Code("000.00.00." + l1)
	case 1:
		return agencyids.Code(fmt.Sprintf("000.00.%02d.%s", 1+g.r.IntN(99), l1))
	}
	return agencyids.Code(fmt.Sprintf("000.%02d.%02d.%s", 1+g.r.IntN(99), 1+g.r.IntN(99), l1))
}

func (g gen) org() envelope.Organization {
	return envelope.Organization{OrganID: g.code(), OrganizationInCharge: g.maybe(60), OrganName: g.text(80),
		OrganAdd: g.maybe(100), Email: g.maybe(30), Telephone: g.maybe(15), Fax: g.maybe(15), Website: g.maybe(40)}
}

func (g gen) date() envelope.Date {
	return envelope.DateOf(time.Date(2000+g.r.IntN(25), time.January, 1, 0, 0, 0, 0, envelope.VietnamTime).AddDate(0, 0, g.r.IntN(365)))
}

func (g gen) intp(max int) *int {
	if g.r.IntN(3) == 0 {
		return nil
	}
	v := g.r.IntN(max + 1)
	return &v
}

func (g gen) staff() envelope.StaffInfo {
	return envelope.StaffInfo{Department: g.maybe(40), Staff: g.text(40), Email: g.maybe(30), Mobile: g.maybe(15)}
}

func (g gen) document(now time.Time) (envelope.DocumentHeader, *envelope.Business, []*envelope.Attachment) {
	h := envelope.DocumentHeader{
		From:         g.org(),
		Code:         envelope.Code{Number: fmt.Sprint(1 + g.r.IntN(99999)), Notation: g.text(25)},
		Promulgation: envelope.PromulgationInfo{Place: g.text(40), Date: g.date()},
		DocumentType: envelope.DocumentType{Type: g.intp(1), TypeDetail: g.intp(30), TypeName: g.text(50)},
		Subject:      g.text(400),
		Content:      g.maybe(400),
		Signer:       envelope.SignerInfo{Competence: g.maybe(20), Position: g.text(60), FullName: g.text(40)},
	}
	if h.DocumentType.Type != nil {
		*h.DocumentType.Type++ // 1 or 2
	}
	for range 1 + g.r.IntN(4) {
		h.To = append(h.To, g.org())
	}
	if g.r.IntN(2) == 0 {
		h.DueDate = envelope.DateOf(h.Promulgation.Date.Time().AddDate(0, 0, g.r.IntN(60)))
	}
	for range g.r.IntN(3) {
		h.ToPlaces = append(h.ToPlaces, g.text(100))
	}
	if g.r.IntN(2) == 0 {
		pr := envelope.Priority(g.r.IntN(5))
		d := g.r.IntN(2) == 0
		h.OtherInfo = &envelope.OtherInfo{Priority: &pr, SphereOfPromulgation: g.maybe(80), TyperNotation: g.maybe(10),
			PromulgationAmount: g.intp(100), PageAmount: g.intp(300), Direction: &d}
		for range g.r.IntN(3) {
			h.OtherInfo.Appendixes = append(h.OtherInfo.Appendixes, g.text(100))
		}
	}
	for range g.r.IntN(3) {
		h.ResponseFor = append(h.ResponseFor, envelope.ResponseFor{OrganID: g.code(), Code: g.text(30), PromulgationDate: g.date(), DocumentID: g.text(80)})
	}
	h.SteeringType = g.intp(3)
	var b *envelope.Business
	switch g.r.IntN(4) {
	case 1:
		b = &envelope.Business{DocType: envelope.BusinessRevocation, Reason: g.text(100), Paper: g.intp(1), Staff: g.staff()}
	case 2:
		one, zero := 1, 0
		b = &envelope.Business{DocType: envelope.BusinessUpdate, Reason: g.text(100), DocumentID: g.text(60), Staff: g.staff(),
			DocumentInfo: &envelope.BusinessDocumentInfo{DocumentInfo: &one, DocumentReceiver: &zero,
				Receivers: []envelope.Receiver{{OrganID: g.code(), ReceiverType: 1}, {OrganID: g.code(), ReceiverType: 0}}}}
	case 3:
		b = &envelope.Business{DocType: envelope.BusinessReplacement, Reason: g.text(100), Staff: g.staff(),
			Replacements: []envelope.ReplacementInfo{{DocumentID: g.text(60), OrganIDs: []agencyids.Code{g.code(), g.code()}}}}
	}
	var atts []*envelope.Attachment
	for i := range 1 + g.r.IntN(3) {
		size := g.r.IntN(2000)
		if g.r.IntN(4) == 0 {
			size = 70<<10 + g.r.IntN(100<<10) // longer than MaxText: parsed as a run
		}
		data := make([]byte, size+1)
		for j := range data {
			data[j] = byte(g.r.Uint32())
		}
		a := envelope.NewAttachment(fmt.Sprintf("file-%d.pdf", i), "application/pdf", data)
		a.Description = g.maybe(50)
		atts = append(atts, a)
	}
	return h, b, atts
}

func builder(seed uint64) envelope.Builder {
	now := time.Date(2026, 3, 14, 9, 26, 53, 0, envelope.VietnamTime)
	return envelope.Builder{Now: func() time.Time { return now }, Rand: rand.NewChaCha8([32]byte{byte(seed)})}
}

// TestRoundTrip: build → marshal → parse → equal, over generated packets.
func TestRoundTrip(t *testing.T) {
	for seed := range uint64(300) {
		g := gen{rand.New(rand.NewPCG(seed, 7))}
		b := builder(seed)
		var p *envelope.Packet
		var err error
		if seed%4 == 3 {
			p, err = b.Status(envelope.StatusHeader{
				From:        g.org(),
				ResponseFor: envelope.ResponseFor{OrganID: g.code(), Code: g.text(30), PromulgationDate: g.date(), DocumentID: g.text(80)},
				Staff:       g.staff(),
				Code:        []envelope.StatusCode{1, 2, 3, 4, 5, 6, 13, 15, 16}[g.r.IntN(9)],
				Description: g.text(200),
			})
		} else {
			h, bus, atts := g.document(b.Now())
			p, err = b.Document(h, bus, atts...)
		}
		if err != nil {
			t.Fatalf("seed %d: build: %v", seed, err)
		}
		out, err := envelope.Marshal(p)
		if err != nil {
			t.Fatalf("seed %d: marshal: %v", seed, err)
		}
		q, err := envelope.Parse(out)
		if err != nil {
			t.Fatalf("seed %d: parse: %v\n%s", seed, err, out)
		}
		if len(q.Issues) != 0 {
			t.Fatalf("seed %d: canonical output has issues: %v", seed, q.Issues)
		}
		if _, err := envelope.Strict.Validate(q); err != nil {
			t.Fatalf("seed %d: strict validation of marshalled packet: %v", seed, err)
		}
		samePacket(t, fmt.Sprintf("seed %d", seed), p, q)
		again, err := envelope.Marshal(q)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("seed %d: marshal(parse(marshal(p))) differs from marshal(p) (err %v)", seed, err)
		}
	}
}

func samePacket(t *testing.T, what string, p, q *envelope.Packet) {
	t.Helper()
	eq(t, what+" document", q.Document, p.Document)
	eq(t, what+" status", q.Status, p.Status)
	eq(t, what+" trace", q.Trace, p.Trace)
	eq(t, what+" business", q.Business, p.Business)
	eq(t, what+" manifest", q.Manifest, p.Manifest)
	if len(p.Attachments) != len(q.Attachments) {
		t.Fatalf("%s: %d attachments, want %d", what, len(q.Attachments), len(p.Attachments))
	}
	for i := range p.Attachments {
		a, b := p.Attachments[i], q.Attachments[i]
		eq(t, what+" attachment meta", [4]string{b.ContentID, b.Name, b.Description, b.ContentType}, [4]string{a.ContentID, a.Name, a.Description, a.ContentType})
		if !bytes.Equal(payload(t, a), payload(t, b)) {
			t.Errorf("%s: attachment %d payload differs", what, i)
		}
	}
}

func payload(t *testing.T, a *envelope.Attachment) []byte {
	t.Helper()
	r, err := a.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenPackets are fixed packets whose marshalled form is checked in.
func goldenPackets(t *testing.T) map[string]*envelope.Packet {
	b := builder(1)
	one, two := 1, 2
	pr := envelope.PriorityUrgent
	doc, err := b.Document(envelope.DocumentHeader{
		From: envelope.Organization{OrganID: "000.00.00.G22", OrganName: "Văn phòng Chính phủ", OrganAdd: "Số 1 Hoàng Hoa Thám, Ba Đình, Hà Nội",
			Email: "vpcp@chinhphu.vn", Website: "chinhphu.vn"},
		To: []envelope.Organization{
			{OrganID: "000.00.00.H53", OrganName: "UBND tỉnh Tây Ninh"},
			{OrganID: "000.00.13.H53", OrganName: "Sở Thông tin và Truyền thông tỉnh Tây Ninh"},
		},
		Code:         envelope.Code{Number: "7816", Notation: "VPCP-TTĐT"},
		Promulgation: envelope.PromulgationInfo{Place: "Hà Nội", Date: envelope.MustDate("2026/03/13")},
		DocumentType: envelope.DocumentType{Type: &two, TypeDetail: &one, TypeName: "Công văn"},
		Subject:      "V/v kết nối, liên thông phần mềm quản lý văn bản & điều hành <thử nghiệm>",
		Signer:       envelope.SignerInfo{Competence: "KT. BỘ TRƯỞNG", Position: "Thứ trưởng", FullName: "Nguyễn Văn A"},
		DueDate:      envelope.MustDate("2026/03/20"),
		OtherInfo:    &envelope.OtherInfo{Priority: &pr, SphereOfPromulgation: "Liên thông văn bản quốc gia", PageAmount: &two},
		SteeringType: &one,
		ToPlaces:     []string{"Như trên", "Lưu: VT"},
	}, nil, envelope.NewAttachment("7816-VPCP-TTDT.pdf", "application/pdf", []byte("%PDF-1.4\n% edocgw golden\n")))
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.Status(envelope.StatusHeader{
		From:        envelope.Organization{OrganID: "000.00.00.H53", OrganName: "UBND tỉnh Tây Ninh"},
		ResponseFor: envelope.ResponseFor{OrganID: "000.00.00.G22", Code: "7816/VPCP-TTĐT", PromulgationDate: envelope.MustDate("2026/03/13"), DocumentID: "000.00.00.G22,2026/03/13,7816/VPCP-TTĐT"},
		Staff:       envelope.StaffInfo{Department: "Văn thư", Staff: "Trần Thị B"},
		Code:        envelope.StatusAccepted,
		Description: "Đã tiếp nhận",
	})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*envelope.Packet{"document.edxml": doc, "status-03.edxml": st}
}

func TestGolden(t *testing.T) {
	for name, p := range goldenPackets(t) {
		out, err := envelope.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
		}
		if !bytes.Equal(out, want) {
			t.Errorf("%s: marshalled form differs from the golden file:\n%s", name, out)
		}
	}
}
