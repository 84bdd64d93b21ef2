package envelope_test

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/bigpacket"
)

// newBigPacket is a packet whose one attachment is n bytes of base64 ("A"s),
// generated on demand so the test itself holds no copy.
func newBigPacket(t testing.TB, n int64) *bigpacket.ReaderAt {
	t.Helper()
	p, err := builder(0).Document(envelope.DocumentHeader{
		From:         envelope.Organization{OrganID: "000.00.00.G22", OrganName: "Văn phòng Chính phủ"},
		To:           []envelope.Organization{{OrganID: "000.00.00.H53", OrganName: "UBND tỉnh Tây Ninh"}},
		Code:         envelope.Code{Number: "1", Notation: "VPCP-TEST"},
		Promulgation: envelope.PromulgationInfo{Place: "Hà Nội"},
		DocumentType: envelope.DocumentType{TypeName: "Công văn"},
		Subject:      "Gói tin lớn",
		Signer:       envelope.SignerInfo{Position: "Chánh văn phòng", FullName: "Nguyễn Văn A"},
	}, nil, envelope.NewAttachment("big.bin", "application/octet-stream", []byte{0, 0, 0}))
	if err != nil {
		t.Fatal(err)
	}
	out, err := envelope.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := bigpacket.Around(out, "AAAA", n, "A")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestParseBoundedMemory parses and validates a 64 MiB packet and checks
// that what was allocated stays a small constant, not a multiple of the
// packet: the payload is a run of the source, decoded as a stream.
func TestParseBoundedMemory(t *testing.T) {
	const size = 64 << 20
	src := newBigPacket(t, size)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := envelope.ParseReaderAt(src, src.Size(), envelope.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (envelope.Validator{Now: time.Now}).Validate(p); err != nil {
		t.Fatal(err)
	}
	n, err := p.Attachments[0].Size()
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n != size/4*3 {
		t.Fatalf("decoded %d bytes, want %d", n, size/4*3)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("parsed, validated and decoded a %d MiB packet allocating %d KiB in all", size>>20, alloc>>10)
	if alloc > 16<<20 {
		t.Fatalf("allocated %d MiB for a %d MiB packet: memory is not bounded", alloc>>20, size>>20)
	}
}

func benchPacket(b *testing.B, payload int) []byte {
	data := bytes.Repeat([]byte("%PDF-1.4 edocgw benchmark payload "), payload/34+1)[:payload]
	p, err := builder(0).Document(envelope.DocumentHeader{
		From:         envelope.Organization{OrganID: "000.00.00.G22", OrganName: "Văn phòng Chính phủ"},
		To:           []envelope.Organization{{OrganID: "000.00.00.H53", OrganName: "UBND tỉnh Tây Ninh"}, {OrganID: "000.00.13.H53", OrganName: "Sở TTTT"}},
		Code:         envelope.Code{Number: "7816", Notation: "VPCP-TTĐT"},
		Promulgation: envelope.PromulgationInfo{Place: "Hà Nội"},
		DocumentType: envelope.DocumentType{TypeName: "Công văn"},
		Subject:      strings.Repeat("V/v kết nối, liên thông phần mềm quản lý văn bản ", 4),
		Signer:       envelope.SignerInfo{Position: "Chánh văn phòng", FullName: "Nguyễn Văn A"},
	}, nil, envelope.NewAttachment("cv.pdf", "application/pdf", data))
	if err != nil {
		b.Fatal(err)
	}
	out, err := envelope.Marshal(p)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func BenchmarkParse(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"10KB", 7 << 10}, {"1MB", 750 << 10}, {"20MB", 15 << 20}} {
		in := benchPacket(b, size.n)
		b.Run(size.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := envelope.Parse(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidate10KB(b *testing.B) {
	in := benchPacket(b, 7<<10)
	p, err := envelope.Parse(in)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := envelope.Strict.Validate(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal10KB(b *testing.B) {
	in := benchPacket(b, 7<<10)
	p, err := envelope.Parse(in)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := envelope.Encode(io.Discard, p); err != nil {
			b.Fatal(err)
		}
	}
}
