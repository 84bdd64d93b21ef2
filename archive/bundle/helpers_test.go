package bundle_test

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/bundle"
)

// The document the bundles are about, and two others sharing its chain.
const (
	docA = "01KBA7W3Z9Q4T6V8X0Y2A4C6E8"
	docB = "01KBA7W3ZB1D3F5H7K9M1P3R5T"
	docC = "01KBA7W3ZC2E4G6J8M0Q2S4U6W"
)

type hub struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// The hub and an impostor with the same name but another key. The keys are
// fixed test keys (testdata/), so bundles are the same bytes in every run
// and every fuzzing process.
var (
	theHub   = sync.OnceValue(func() hub { return loadHub("testdata/test-hub-key.pem", 1) })
	impostor = sync.OnceValue(func() hub { return loadHub("testdata/test-impostor-key.pem", 2) })
)

func loadHub(keyFile string, serial int64) hub {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		panic(keyFile + ": no PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		panic(err)
	}
	key := k.(*rsa.PrivateKey)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "edocgw hub", Organization: []string{"Trục liên thông văn bản"}},
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return hub{key, cert}
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

var testOriginal = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">
<edXML:edXMLHeader><edXML:MessageHeader><edXML:From><edXML:OrganId>000.00.00.G22</edXML:OrganId>
<edXML:OrganName>Văn phòng Chính phủ</edXML:OrganName></edXML:From>
<edXML:Subject>V/v triển khai liên thông văn bản &amp; kiểm tra</edXML:Subject>
</edXML:MessageHeader></edXML:edXMLHeader></edXML:edXMLEnvelope>
`)

// chain is 40 events across three documents, sealed one after the other;
// checkpoints at 10, 20, 30 and 40 signed by key. Document A's events are
// 3, 4, 5, 9, 13, …, 37 and 40; its document.accepted (3) records digest
// and size.
type chain struct {
	events      []*archive.Event // events[i].Seq == i+1
	checkpoints map[int64]archive.Checkpoint
}

func newChain(key crypto.Signer, digest archive.Digest, size int64) *chain {
	start := time.Date(2026, 11, 22, 8, 0, 0, 123456789, time.FixedZone("ICT", 7*3600))
	c := &chain{checkpoints: map[int64]archive.Checkpoint{}}
	var prev *archive.Event
	for seq := int64(1); seq <= 40; seq++ {
		e := &archive.Event{At: start.Add(time.Duration(seq) * 37 * time.Second), Actor: "hub", Agency: "000.00.00.H53"}
		switch {
		case seq == 1 || seq == 2:
			e.Kind, e.Document = "document.accepted", map[int64]string{1: docB, 2: docC}[seq]
			e.Details = json.RawMessage(fmt.Sprintf(`{"digest":"%s","size":%d}`, archive.Sum([]byte(e.Document)), 99))
		case seq == 3:
			e.Kind, e.Document, e.Actor, e.Agency = "document.accepted", docA, "000.00.00.G22", "000.00.00.G22"
			e.Details = json.RawMessage(fmt.Sprintf(`{"digest":"%s","size":%d,"subject":"V/v <thử> & kiểm tra","recipients":["000.00.00.H53","000.00.00.H41"]}`, digest, size))
		case seq == 4:
			e.Kind, e.Document = "document.archived", docA
			e.Details = json.RawMessage(fmt.Sprintf(`{"digest":"%s","size":%d}`, digest, size))
		case seq%4 == 1 || seq == 40:
			e.Kind, e.Document, e.Delivery = []string{"delivery.queued", "delivery.pulled", "status.relayed"}[seq%3], docA, fmt.Sprintf("dlv-%d", seq%2)
			e.Agency = agencyids.Code([]string{"000.00.00.H53", "000.00.00.H41"}[seq%2])
			e.Details = json.RawMessage(fmt.Sprintf(`{"route":"pull","attempt":%d}`, seq))
		case seq == 10:
			e.Kind, e.Actor = "auth.refused", "000.00.99.H53"
		default:
			e.Kind, e.Document = "delivery.pulled", []string{docB, docC}[seq%2]
		}
		if err := e.Seal(prev); err != nil {
			panic(err)
		}
		c.events = append(c.events, e)
		prev = e
		if seq%10 == 0 {
			cp := archive.Checkpoint{Seq: seq, Head: e.Hash, At: e.At.Add(time.Minute)}
			if err := cp.Sign(key); err != nil {
				panic(err)
			}
			c.checkpoints[seq] = cp
		}
	}
	return c
}

// segments returns the runs [from, to] (each to a checkpoint) of the chain.
func (c *chain) segments(runs ...[2]int64) []bundle.Segment {
	var out []bundle.Segment
	for _, r := range runs {
		out = append(out, bundle.Segment{Events: c.events[r[0]-1 : r[1]], Checkpoint: c.checkpoints[r[1]]})
	}
	return out
}

// The runs the hub exports for document A: from each of its events not yet
// covered to the next checkpoint (3–10, 13–20, 21–30, 33–40). 21–30 follows
// 13–20 directly, so their link is checked too.
var runsA = [][2]int64{{3, 10}, {13, 20}, {21, 30}, {33, 40}}

// docAInSegment are document A's events in each of runsA.
var docAInSegment = map[int64][]int64{10: {3, 4, 5, 9}, 20: {13, 17}, 30: {21, 25, 29}, 40: {33, 37, 40}}

func contents(h hub, original []byte) bundle.Contents {
	return contentsOf(h, archive.Sum(original), int64(len(original)), func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(original)), nil
	})
}

func contentsOf(h hub, digest archive.Digest, size int64, open func() (io.ReadCloser, error)) bundle.Contents {
	c := newChain(h.key, digest, size)
	return bundle.Contents{
		DocumentID: docA, Digest: digest, Size: size, Original: open,
		Verification: json.RawMessage(`{"documentId":"` + docA + `","reverified":{"signed":true,"valid":true,"signer":"CN=Nguyễn Văn A"}}`),
		Trace:        json.RawMessage(`{"document":"` + docA + `","recipients":[{"agency":"000.00.00.H53","steps":["queued","pulled","01"]}]}`),
		Segments:     c.segments(runsA...),
		HubCert:      h.cert,
		CreatedAt:    time.Date(2026, 12, 1, 9, 30, 0, 987654321, time.UTC),
	}
}

func write(t testing.TB, c bundle.Contents, key crypto.Signer) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := bundle.Write(&b, c, key); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.Bytes()
}

// cleanBundle is the bundle of document A, written once.
var cleanBundle = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	if err := bundle.Write(&b, contents(theHub(), testOriginal), theHub().key); err != nil {
		panic(err)
	}
	return b.Bytes()
})

func verify(zipped []byte, cert *x509.Certificate) (*bundle.Report, error) {
	return bundle.Verify(bytes.NewReader(zipped), int64(len(zipped)), cert)
}

// entry is one file of a ZIP, as tests rebuild them.
type entry struct {
	name   string
	data   []byte
	method uint16
}

func unzip(t testing.TB, zipped []byte) []entry {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatal(err)
	}
	var out []entry
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry{f.Name, b, f.Method})
	}
	return out
}

// rezip writes entries as a ZIP the way a zip tool would: CRCs and sizes
// right. Like Write, it stores what is over 1 MiB.
func rezip(t testing.TB, es []entry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range es {
		method := e.method
		if len(e.data) > 1<<20 {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func file(t testing.TB, zipped []byte, name string) []byte {
	t.Helper()
	for _, e := range unzip(t, zipped) {
		if e.name == name {
			return e.data
		}
	}
	t.Fatalf("no %s", name)
	return nil
}

// edit rewrites the named entries, leaving the manifest as it is: what
// someone without the hub key can do.
func edit(t testing.TB, zipped []byte, edits map[string]func([]byte) []byte) []byte {
	t.Helper()
	es := unzip(t, zipped)
	for i := range es {
		if f := edits[es[i].name]; f != nil {
			es[i].data = f(es[i].data)
		}
	}
	return rezip(t, es)
}

// reseal rewrites the named entries and then the manifest's digests, signed
// again with key: what only the holder of the hub key can do. It lets a
// test reach the checks behind the manifest's.
func reseal(t testing.TB, zipped []byte, key crypto.Signer, edits map[string]func([]byte) []byte) []byte {
	t.Helper()
	es := unzip(t, edit(t, zipped, edits))
	var m map[string]any
	if err := json.Unmarshal(es[0].data, &m); err != nil || es[0].name != "manifest.json" {
		t.Fatalf("manifest: %v", err)
	}
	for _, f := range m["files"].([]any) {
		f := f.(map[string]any)
		for _, e := range es {
			if e.name == f["name"] {
				f["sha256"], f["size"] = archive.Sum(e.data).String(), len(e.data)
			}
		}
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(mb)
	sig, err := key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	es[0].data, es[1].data = mb, sig
	return rezip(t, es)
}

// The JSON of events.json and checkpoints.json, as a test reads them: the
// format is a contract, so the tests do not borrow the package's types.
type (
	tEvents struct {
		Segments []tSegment `json:"segments"`
	}
	tSegment struct {
		Checkpoint int64    `json:"checkpoint"`
		Events     []tEvent `json:"events"`
	}
	tEvent struct {
		Seq      int64           `json:"seq"`
		At       string          `json:"at"`
		Kind     string          `json:"kind"`
		Actor    string          `json:"actor"`
		Agency   string          `json:"agency"`
		Document string          `json:"document"`
		Delivery string          `json:"delivery"`
		Details  json.RawMessage `json:"details"`
		Prev     archive.Digest  `json:"prev"`
		Hash     archive.Digest  `json:"hash"`
	}
	tCheckpoints struct {
		Checkpoints []tCheckpoint `json:"checkpoints"`
	}
	tCheckpoint struct {
		Seq       int64          `json:"seq"`
		Head      archive.Digest `json:"head"`
		At        string         `json:"at"`
		Signature []byte         `json:"signature"`
		Timestamp []byte         `json:"timestamp,omitempty"`
	}
)

func (e *tEvent) event(t testing.TB) *archive.Event {
	at, err := time.Parse("2006-01-02T15:04:05.000000Z", e.At)
	if err != nil {
		t.Fatal(err)
	}
	return &archive.Event{Seq: e.Seq, At: at, Kind: e.Kind, Actor: e.Actor, Agency: agencyids.Code(e.Agency),
		Document: e.Document, Delivery: e.Delivery, Details: e.Details, Prev: e.Prev, Hash: e.Hash}
}

// rehash recomputes e's hash as a forger would.
func (e *tEvent) rehash(t testing.TB) { e.Hash = e.event(t).ComputeHash() }

func marshalNoEscape(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func editEvents(t testing.TB, f func(*tEvents)) func([]byte) []byte {
	return func(b []byte) []byte {
		var es tEvents
		if err := json.Unmarshal(b, &es); err != nil {
			t.Fatal(err)
		}
		f(&es)
		return marshalNoEscape(t, es)
	}
}

func editCheckpoints(t testing.TB, f func(*tCheckpoints)) func([]byte) []byte {
	return func(b []byte) []byte {
		var cs tCheckpoints
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatal(err)
		}
		f(&cs)
		return marshalNoEscape(t, cs)
	}
}

// find returns the segment ending at checkpoint and the index in it of
// the event seq.
func find(t testing.TB, es *tEvents, checkpoint, seq int64) (*tSegment, int) {
	for i := range es.Segments {
		s := &es.Segments[i]
		if s.Checkpoint != checkpoint {
			continue
		}
		for j := range s.Events {
			if s.Events[j].Seq == seq {
				return s, j
			}
		}
	}
	t.Fatalf("no event %d in segment %d", seq, checkpoint)
	return nil, 0
}

// problem is one expected problem: its sentinel (compared by identity, so
// ErrEventHash is not ErrEventLink), entry, event and checkpoint.
type problem struct {
	kind       error
	file       string
	event      int64
	checkpoint int64
}

func (p problem) String() string {
	return fmt.Sprintf("%s [%s] event %d checkpoint %d", p.file, p.kind, p.event, p.checkpoint)
}

// unverified are the problems that document A's events in the segment
// ending at checkpoint add when that segment does not verify.
func unverified(checkpoint int64, extra ...int64) []problem {
	var out []problem
	for _, seq := range append(docAInSegment[checkpoint], extra...) {
		out = append(out, problem{bundle.ErrUnverifiedEvent, "events.json", seq, 0})
	}
	return out
}

// wantProblems checks that err is exactly the problems want, in order, and
// that each is an *bundle.Error that errors.Is and errors.As find.
func wantProblems(t testing.TB, err error, want ...problem) bundle.Problems {
	t.Helper()
	var ps bundle.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %T %v, want bundle.Problems", err, err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, problem{p.Err, p.File, p.Event, p.Checkpoint}.String())
	}
	var exp []string
	for _, w := range want {
		exp = append(exp, w.String())
	}
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Fatalf("problems:\n  %s\nwant:\n  %s\nerror: %v", strings.Join(got, "\n  "), strings.Join(exp, "\n  "), err)
	}
	for _, w := range want {
		if !errors.Is(err, w.kind) {
			t.Fatalf("errors.Is(err, %v) is false", w.kind)
		}
	}
	for _, p := range ps {
		t.Log(p)
	}
	var e *bundle.Error
	if !errors.As(err, &e) || e != ps[0] {
		t.Fatalf("errors.As finds %v, want the first problem", e)
	}
	return ps
}
