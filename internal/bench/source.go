package bench

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/bigpacket"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/signing"
)

// doc is a signed document waiting in the spool file.
type doc struct {
	seq    int64
	from   int   // index of the sending party
	to     []int // indexes of the recipients
	class  int   // index in the mix
	off, n int64 // where its bytes are in the spool
}

// sourceConfig describes the documents to make.
type sourceConfig struct {
	agencies   []*hubtest.Agency
	mix        Mix
	recipients int
	seed       uint64
	tag        string // makes the notation, hence every document, unique to the run
	limit      int64  // documents in all; < 0: no limit
	ahead      int    // documents kept signed ahead of the senders
	low        int    // refill when no more than this many are left
	workers    int
	dir        string // of the spool file
	now        func() time.Time
}

// source signs documents into a spool file ahead of the senders: ahead
// of them before the run, then up to ahead again whenever only low are
// left; it counts the CPU that signing took during the run apart.
type source struct {
	cfg                  sourceConfig
	f                    *os.File
	slope, intercept     float64 // packet size = intercept + slope·attachment size
	mu                   sync.Mutex
	cond                 *sync.Cond
	ready                []doc
	nextSeq              int64
	busy                 int // documents being signed
	refill, closed       bool
	err                  error
	end                  int64 // spool size
	wg                   sync.WaitGroup
	running              atomic.Bool
	cpuBefore, cpuDuring atomic.Int64 // ns of thread CPU spent signing
	madeBefore, madeDur  atomic.Int64
	classBytes           []atomic.Int64 // bytes made per class
	classDocs            []atomic.Int64
}

func newSource(cfg sourceConfig) (*source, error) {
	if cfg.workers < 1 {
		cfg.workers = 1
	}
	f, err := os.CreateTemp(cfg.dir, "edocgw-bench-*.spool")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // gone when closed
	s := &source{cfg: cfg, f: f, refill: true, classBytes: make([]atomic.Int64, len(cfg.mix)), classDocs: make([]atomic.Int64, len(cfg.mix))}
	s.cond = sync.NewCond(&s.mu)
	if err := s.calibrate(); err != nil {
		f.Close()
		return nil, err
	}
	for range cfg.workers {
		s.wg.Go(s.work)
	}
	return s, nil
}

// calibrate measures how the packet size follows the attachment size.
func (s *source) calibrate() error {
	a := s.cfg.agencies[0]
	size := func(att int) (float64, error) {
		b, err := a.SignedDocument(hubtest.Doc{To: []agencyids.Code{a.Code}, Number: "0", Notation: "CALIBRATE",
			Attachment: make([]byte, att), Now: s.cfg.now()})
		return float64(len(b)), err
	}
	const a1, a2 = 16, 64 << 10
	s1, err := size(a1)
	if err != nil {
		return err
	}
	s2, err := size(a2)
	if err != nil {
		return err
	}
	s.slope = (s2 - s1) / (a2 - a1)
	s.intercept = s1 - s.slope*a1
	return nil
}

// attachmentFor is the attachment size that makes a packet of about n bytes.
func (s *source) attachmentFor(n int64) int {
	return max(1, int(math.Round((float64(n)-s.intercept)/s.slope)))
}

func (s *source) limitReached() bool { return s.cfg.limit >= 0 && s.nextSeq >= s.cfg.limit }

// work signs documents while the source wants them.
func (s *source) work() {
	// The thread's CPU time is the signing's only while it keeps it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for {
		s.mu.Lock()
		for !s.closed && s.err == nil && !s.limitReached() && !(s.refill && len(s.ready)+s.busy < s.cfg.ahead) {
			s.cond.Wait()
		}
		if s.closed || s.err != nil || s.limitReached() {
			s.cond.Broadcast()
			s.mu.Unlock()
			return
		}
		seq := s.nextSeq
		s.nextSeq++
		s.busy++
		during := s.running.Load()
		s.mu.Unlock()

		t0, _ := ThreadCPU()
		d, err := s.make(seq)
		t1, _ := ThreadCPU()
		if during {
			s.cpuDuring.Add(int64(t1 - t0))
			s.madeDur.Add(1)
		} else {
			s.cpuBefore.Add(int64(t1 - t0))
			s.madeBefore.Add(1)
		}

		s.mu.Lock()
		s.busy--
		if err != nil && s.err == nil {
			s.err = err
		}
		if err == nil {
			s.ready = append(s.ready, d)
			if len(s.ready)+s.busy >= s.cfg.ahead {
				s.refill = false
			}
		}
		s.cond.Broadcast()
		s.mu.Unlock()
	}
}

// make signs document seq and appends it to the spool.
func (s *source) make(seq int64) (doc, error) {
	r := rand.New(rand.NewPCG(s.cfg.seed, uint64(seq)))
	n := len(s.cfg.agencies)
	d := doc{seq: seq, from: int(seq % int64(n)), class: s.cfg.mix.pick(r.Float64())}
	// Recipients: distinct, never the sender.
	for _, k := range r.Perm(n - 1)[:s.cfg.recipients] {
		d.to = append(d.to, (d.from+1+k)%n)
	}
	to := make([]agencyids.Code, len(d.to))
	for i, k := range d.to {
		to[i] = s.cfg.agencies[k].Code
	}
	var key [32]byte
	for i := range 4 {
		v := r.Uint64()
		for j := range 8 {
			key[i*8+j] = byte(v >> (8 * j))
		}
	}
	hd := hubtest.Doc{To: to, Number: strconv.FormatInt(seq+1, 10), Notation: "BENCH-" + s.cfg.tag,
		Subject: fmt.Sprintf("V/v thử tải liên thông văn bản số %d", seq+1), Now: s.cfg.now()}
	if size := s.cfg.mix[d.class].Bytes; size > streamAbove {
		return s.makeLarge(d, hd, size)
	}
	hd.Attachment = make([]byte, s.attachmentFor(s.cfg.mix[d.class].Bytes))
	_, _ = rand.NewChaCha8(key).Read(hd.Attachment) // incompressible, never fails
	b, err := s.cfg.agencies[d.from].SignedDocument(hd)
	if err != nil {
		return doc{}, fmt.Errorf("bench: document %d: %w", seq+1, err)
	}
	s.mu.Lock()
	d.off, d.n = s.end, int64(len(b))
	s.end += d.n
	s.mu.Unlock()
	if _, err := s.f.WriteAt(b, d.off); err != nil {
		return doc{}, fmt.Errorf("bench: spool: %w", err)
	}
	s.classBytes[d.class].Add(d.n)
	s.classDocs[d.class].Add(1)
	return d, nil
}

// streamAbove is the size above which a document is made and signed as a
// stream into the spool: its attachment repeats a pattern, and neither it
// nor the packet is ever held in memory.
const streamAbove = 16 << 20

// makeLarge signs a document of about size bytes (at most size) from d and
// hd straight into the spool.
func (s *source) makeLarge(d doc, hd hubtest.Doc, size int64) (doc, error) {
	a := s.cfg.agencies[d.from]
	hd.Attachment = []byte("%PD") // base64 "JVBE", replaced by the payload
	small, err := a.Document(hd)
	if err != nil {
		return doc{}, fmt.Errorf("bench: document %d: %w", d.seq+1, err)
	}
	// What signing adds: a Signature of a few KB.
	n := (size - int64(len(small)) - 8<<10) / 4 * 4
	src, err := bigpacket.Around(small, "JVBE", max(n, 4), "QUJD")
	if err != nil {
		return doc{}, fmt.Errorf("bench: document %d: %w", d.seq+1, err)
	}
	// size bytes of the spool are the document's (the end of them unused).
	s.mu.Lock()
	d.off = s.end
	s.end += size
	s.mu.Unlock()
	w := &countingWriter{w: io.NewOffsetWriter(s.f, d.off)}
	signer := &signing.Signer{Key: a.Leaf.Key, Certificates: append([]*x509.Certificate{a.Leaf.Cert}, a.Leaf.Chain...)}
	if err := signer.Sign(w, src, src.Size()); err != nil {
		return doc{}, fmt.Errorf("bench: document %d: %w", d.seq+1, err)
	}
	if w.n > size {
		return doc{}, fmt.Errorf("bench: document %d: signed %d bytes, more than the %d reserved", d.seq+1, w.n, size)
	}
	d.n = w.n
	s.classBytes[d.class].Add(d.n)
	s.classDocs[d.class].Add(1)
	return d, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// errClosed: the source was closed.
var errClosed = errors.New("bench: source closed")

// next returns the next document; io.EOF when the limit is reached,
// errClosed once closed.
func (s *source) next() (doc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		switch {
		case s.closed:
			return doc{}, errClosed
		case len(s.ready) > 0:
		case s.err != nil:
			return doc{}, s.err
		case s.limitReached() && s.busy == 0:
			return doc{}, io.EOF
		default:
			s.refill = true
			s.cond.Broadcast()
			s.cond.Wait()
			continue
		}
		break
	}
	d := s.ready[0]
	s.ready = s.ready[1:]
	if !s.refill && len(s.ready) <= s.cfg.low {
		s.refill = true
		s.cond.Broadcast()
	}
	return d, nil
}

// prefill waits until the documents to sign ahead are ready; progress
// gets the count now and then.
func (s *source) prefill(progress func(ready, want int)) error {
	want := s.cfg.ahead
	if s.cfg.limit >= 0 {
		want = int(min(int64(want), s.cfg.limit))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	last := -100
	for len(s.ready) < want && s.err == nil && !s.closed {
		if n := len(s.ready); progress != nil && n/100 != last/100 {
			last = n
			s.mu.Unlock()
			progress(n, want)
			s.mu.Lock()
		}
		s.cond.Wait()
	}
	if s.err != nil {
		return s.err
	}
	if progress != nil {
		progress(len(s.ready), want)
	}
	return nil
}

// body is a reader of d's bytes.
func (s *source) body(d doc) sectionBody { return sectionBody{io.NewSectionReader(s.f, d.off, d.n)} }

// sectionBody is a document's bytes in the spool. Its WriteTo copies
// through a pooled buffer: the HTTP client's io.Copy made one of 32 KiB
// for every request, the generator's largest allocation.
type sectionBody struct{ *io.SectionReader }

var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (b sectionBody) WriteTo(w io.Writer) (int64, error) {
	buf := bodyBufs.Get().(*[]byte)
	defer bodyBufs.Put(buf)
	// Hide the writer's ReadFrom too: it would copy with a buffer of its own.
	return io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{b.SectionReader}, *buf)
}

// close stops the signers, wakes whoever waits and removes the spool.
func (s *source) close() {
	s.mu.Lock()
	s.closed = true
	s.cond.Broadcast()
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *source) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// release frees the spool once nothing reads it any more.
func (s *source) release() { s.f.Close() }
