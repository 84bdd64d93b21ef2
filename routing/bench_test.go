package routing_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/fsblob"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/bench"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
	"github.com/edocgw/edocgw/signing"
)

// The per-stage costs of the acceptance pipeline (design §2) on a signed
// 10 KB document, as `edocgw bench --mix 10KB=1` sends it, and the whole
// routing.Hub.Accept on the embedded backend (SQLite + filesystem). The
// machine's limit for the same work, SHA-256 of the bytes plus one
// RSA-2048 verification, is signing.BenchmarkLimit.

// benchAttachment makes a signed packet of about 10 KB.
const benchAttachment = 4800

// signedPackets signs documents from G22 to H41, each unique, and keeps
// them for every benchmark of the run.
var signedPackets = struct {
	sync.Mutex
	list [][]byte
}{}

func benchPackets(b *testing.B, n int) [][]byte {
	b.Helper()
	fixturePKI(b)
	signedPackets.Lock()
	defer signedPackets.Unlock()
	for len(signedPackets.list) < n {
		i := len(signedPackets.list)
		att := bytes.Repeat([]byte{byte(i)}, benchAttachment)
		p, err := ags[g22].SignedDocument(hubtest.Doc{To: []agencyids.Code{h41}, Number: fmt.Sprint(i + 1),
			Notation: "BENCH", Attachment: att})
		if err != nil {
			b.Fatal(err)
		}
		signedPackets.list = append(signedPackets.list, p)
	}
	return signedPackets.list[:n]
}

func benchDirectory(b *testing.B) *agencyids.Directory {
	b.Helper()
	fixturePKI(b)
	dir := agencyids.NewDirectory()
	var entries []agencyids.Agency
	for _, a := range ags {
		entries = append(entries, a.DirectoryEntry())
	}
	if err := dir.Load(entries); err != nil {
		b.Fatal(err)
	}
	return dir
}

func BenchmarkStageParse(b *testing.B) {
	p := benchPackets(b, 1)[0]
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := envelope.ParseReaderAt(bytes.NewReader(p), int64(len(p)), envelope.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStageValidate(b *testing.B) {
	p := benchPackets(b, 1)[0]
	pkt, err := envelope.Parse(p)
	if err != nil {
		b.Fatal(err)
	}
	v := envelope.Validator{SkipPayloads: true}
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Validate(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStageVerify is the signature check as the hub runs it: with
// the directory binding and the chain to the root.
func BenchmarkStageVerify(b *testing.B) {
	p := benchPackets(b, 1)[0]
	v := &signing.Verifier{Roots: fixturePKI(b).Roots(), Directory: benchDirectory(b)}
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyReaderAt(context.Background(), bytes.NewReader(p), int64(len(p))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStageArchive hashes the bytes and stores them in the
// filesystem blob store (fsync included), a new blob each time.
func BenchmarkStageArchive(b *testing.B) {
	p := bytes.Clone(benchPackets(b, 1)[0])
	blobs, err := fsblob.New(b.TempDir(), fsblob.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		copy(p[len(p)-16:], fmt.Sprintf("%16d", i)) // a new blob
		sum := sha256.Sum256(p)
		d, _, err := blobs.Put(context.Background(), bytes.NewReader(p))
		if err != nil {
			b.Fatal(err)
		}
		if d != archive.Digest(sum) {
			b.Fatal("digest")
		}
	}
}

// BenchmarkStageCommit is the one transaction of an accepted document on
// SQLite: the document, its delivery and three audit events.
func BenchmarkStageCommit(b *testing.B) {
	st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "edocgw.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var n atomic.Int64 // ids are unique across the runs on st
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchCommit(b, st, n.Add(1))
		}
	})
	// Eight commits in flight, as eight senders make them.
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				benchCommit(b, st, n.Add(1))
			}
		})
	})
}

func benchCommit(b *testing.B, st *store.Store, i int64) {
	now := time.Now().UTC()
	id := fmt.Sprintf("bench%019d", i)
	doc := &routing.Document{ID: id, Kind: envelope.KindDocument, From: g22, EdxmlID: "bench-" + id, Number: fmt.Sprint(i),
		Notation: "BENCH", Subject: "V/v thử nghiệm", Digest: sha256.Sum256([]byte(id)), Size: 10240, Via: "agency:" + string(g22),
		ReceivedAt: now, Recipients: []agencyids.Code{h41}}
	del := &routing.Delivery{ID: id + "d", Recipient: h41, Route: routing.RoutePull, State: routing.StateQueued}
	details := json.RawMessage(`{"kind":"document","size":10240}`)
	events := []*archive.Event{
		{At: now, Kind: "document.accepted", Actor: doc.Via, Agency: g22, Document: id, Details: details},
		{At: now, Kind: "document.archived", Actor: "hub", Agency: g22, Document: id, Details: details},
		{At: now, Kind: "delivery.queued", Actor: "hub", Agency: h41, Document: id, Delivery: del.ID, Details: details},
	}
	if err := st.Accept(context.Background(), doc, []*routing.Delivery{del}, events); err != nil {
		b.Fatal(err)
	}
}

// benchHub is a hub on a new embedded store with G22 and H41 as members.
func benchHub(b *testing.B) *routing.Hub {
	b.Helper()
	p := fixturePKI(b)
	ctx := context.Background()
	dir := b.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "edocgw.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	blobs, err := fsblob.New(filepath.Join(dir, "blobs"), fsblob.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var entries []agencyids.Agency
	for _, a := range ags {
		entries = append(entries, a.DirectoryEntry())
	}
	if err := st.SaveAgencies(ctx, entries, "bench"); err != nil {
		b.Fatal(err)
	}
	for _, c := range []agencyids.Code{g22, h41} {
		if err := st.PutMember(ctx, routing.Member{Code: c, Mode: routing.ModePull}, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	h, err := routing.New(routing.Options{Store: st, Blobs: blobs, Verifier: &signing.Verifier{Roots: p.Roots()}})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// BenchmarkAccept is the whole pipeline, one packet at a time (serial)
// and with eight in flight (parallel), each packet new. Signing the
// packets happens before the timer starts.
func BenchmarkAccept(b *testing.B) {
	for _, par := range []int{0, 4} {
		name := "serial"
		if par > 0 {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) {
			packets := benchPackets(b, b.N)
			h := benchHub(b)
			sender := agencyP(g22)
			var next atomic.Int64
			accept := func() {
				p := packets[next.Add(1)-1]
				if _, err := h.Accept(context.Background(), sender, bytes.NewReader(p), int64(len(p))); err != nil {
					b.Error(err)
				}
			}
			b.SetBytes(int64(len(packets[0])))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			if par == 0 {
				for range b.N {
					accept()
				}
			} else {
				b.SetParallelism(par)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						accept()
					}
				})
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "docs/s")
		})
	}
}

// BenchmarkCycle is a document's whole life in the hub without HTTP:
// accepted from G22, then fetched (the original read to its end) and
// acknowledged by H41, with eight cycles in flight. It is the gateway's
// share of one document in `edocgw bench`, less the transport.
func BenchmarkCycle(b *testing.B) {
	packets := benchPackets(b, b.N)
	h := benchHub(b)
	sender, recipient := agencyP(g22), agencyP(h41)
	ctx := context.Background()
	var next atomic.Int64
	b.SetBytes(int64(len(packets[0])))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	cpu0 := selfCPU(b)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := packets[next.Add(1)-1]
			res, err := h.Accept(ctx, sender, bytes.NewReader(p), int64(len(p)))
			if err != nil {
				b.Error(err)
				return
			}
			if len(res.Recipients) != 1 || res.Recipients[0].DeliveryID == "" {
				b.Errorf("recipients %+v", res.Recipients)
				return
			}
			id := res.Recipients[0].DeliveryID
			_, blob, err := h.FetchDelivery(ctx, recipient, id)
			if err != nil {
				b.Error(err)
				return
			}
			n, err := io.Copy(io.Discard, blob)
			blob.Close()
			if err != nil || n != int64(len(p)) {
				b.Errorf("fetched %d of %d bytes: %v", n, len(p), err)
				return
			}
			if _, err := h.Ack(ctx, recipient, id); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "docs/s")
	// CPU time, unlike the time per operation, counts no waits for the disk.
	b.ReportMetric(float64((selfCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/doc")
}

// selfCPU is bench.SelfCPU, or the end of the benchmark.
func selfCPU(b *testing.B) time.Duration {
	d, err := bench.SelfCPU()
	if err != nil {
		b.Fatal(err)
	}
	return d
}
