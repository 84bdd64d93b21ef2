package c14n

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// genPacket builds an edXML packet of about size bytes whose bulk is one
// base64 text node (an attachment), with an enveloped Signature.
func genPacket(size int) []byte {
	doc := strings.ReplaceAll(edxmlDoc, "{SIG}", "<Signature>"+fakeSigBody+"</Signature>")
	const marker = "UEsDBBQACAgIABCSsU4AAAAAAAAAAAAAAAAoAAAANWM3MDgy\nZmUtNGFjMy00YjQ2LTk2MWUtZTI0MzliZmFlNDg0LlBERvv/Ze06zQdiu9TENOO2vtbdLg0AUEsH=="
	head, tail, ok := strings.Cut(doc, marker)
	if !ok {
		panic("marker not found")
	}
	n := size - len(head) - len(tail)
	n -= n % 4
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString(head)
	raw := make([]byte, 3*4096)
	var x uint32 = 2463534242
	for i := range raw {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		raw[i] = byte(x)
	}
	chunk := base64.StdEncoding.EncodeToString(raw)
	for n > 0 {
		k := min(n, len(chunk))
		b.WriteString(chunk[:k])
		n -= k
	}
	b.WriteString(tail)
	return b.Bytes()
}

var (
	packetsMu sync.Mutex
	packets   = map[int][]byte{}
)

func packet(size int) []byte {
	packetsMu.Lock()
	defer packetsMu.Unlock()
	if p, ok := packets[size]; ok {
		return p
	}
	p := genPacket(size)
	packets[size] = p
	return p
}

func BenchmarkCanonicalize(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"1MB", 1 << 20}, {"64MB", 64 << 20}} {
		doc := packet(bc.size)
		for _, m := range []Method{Inclusive10, Exclusive10} {
			b.Run(bc.name+"/"+m.String(), func(b *testing.B) {
				o := Options{Method: m, Exclude: EnvelopedSignature(edxmlSigPath...)}
				b.SetBytes(int64(len(doc)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Digest(sha256.New(), bytes.NewReader(doc), o); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	b.Run("1MB/discard", func(b *testing.B) {
		doc := packet(1 << 20)
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			if err := Canonicalize(io.Discard, bytes.NewReader(doc), Options{Method: Inclusive10}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestMemory64MB: total allocation for a 64 MB packet must stay below 3x its
// size (the requirement when encoding/xml buffered the one big text node),
// and, since the prefilter splits text, below a few MB whatever the size.
func TestMemory64MB(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	doc := packet(64 << 20)
	o := Options{Method: Inclusive10, Exclude: EnvelopedSignature(edxmlSigPath...)}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	sum, err := Digest(sha256.New(), bytes.NewReader(doc), o)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	total := after.TotalAlloc - before.TotalAlloc
	ratio := float64(total) / float64(len(doc))
	t.Logf("64 MB packet (%d bytes): TotalAlloc %d bytes = %.4fx the document; digest %x", len(doc), total, ratio, sum)
	if ratio >= 3 {
		t.Errorf("TotalAlloc %.2fx the document size, want < 3x", ratio)
	}
	if total > 4<<20 {
		t.Errorf("TotalAlloc %d bytes, want < 4 MiB (text is split; nothing should grow with the document)", total)
	}
	// The canonical form does not depend on the split size.
	o.textChunk = 1000
	sum2, err := Digest(sha256.New(), io.LimitReader(oneByteChunks{bytes.NewReader(doc)}, int64(len(doc))), o)
	if err != nil || !bytes.Equal(sum, sum2) {
		t.Errorf("chunked: %x %v", sum2, err)
	}
	// Without splitting (as encoding/xml alone would do), for the record.
	o.textChunk = math.MaxInt
	runtime.GC()
	runtime.ReadMemStats(&before)
	sum3, err := Digest(sha256.New(), bytes.NewReader(doc), o)
	runtime.ReadMemStats(&after)
	if err != nil || !bytes.Equal(sum, sum3) {
		t.Errorf("unsplit: %x %v", sum3, err)
	}
	t.Logf("without text splitting: TotalAlloc %.2fx the document", float64(after.TotalAlloc-before.TotalAlloc)/float64(len(doc)))
}

// oneByteChunks returns at most 4093 bytes per Read (odd boundaries).
type oneByteChunks struct{ r io.Reader }

func (o oneByteChunks) Read(p []byte) (int, error) {
	if len(p) > 4093 {
		p = p[:4093]
	}
	return o.r.Read(p)
}
