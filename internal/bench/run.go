// Package bench is the load generator of `edocgw bench` (design §7): it
// signs documents of a size mix from many agencies, sends them to a
// gateway over HTTPS at a fixed concurrency or a fixed arrival rate while
// the recipients pull their inboxes, fetch and acknowledge, and reports
// throughput, end-to-end latency and the gateway's CPU and memory.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"path"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edocgw/edocgw/internal/hubtest"
)

// Config is one run against a gateway.
type Config struct {
	URL string // the gateway's API base, https://host:port
	// More are further instances of the same gateway (one database and
	// archive): requests go to URL and each of More in turn.
	More   []string
	Client *http.Client // trusts the gateway's TLS certificate
	// Dials, if set, reports the connections Client has opened.
	Dials func() int64
	// Agencies send and receive; Tokens[i] is the bearer token of
	// Agencies[i], a pull member of the gateway.
	Agencies []*hubtest.Agency
	Tokens   []string
	Mix      Mix
	// Duration is how long documents are sent; Documents how many. One of
	// them, or both (whichever comes first).
	Duration  time.Duration
	Documents int
	// Concurrency is the number of senders (closed loop); with Rate it
	// bounds the requests in flight.
	Concurrency int
	// Rate is the arrival rate in documents per second (open loop); an
	// arrival that finds every sender busy is missed and counted.
	Rate float64
	// Recipients is the number of agencies each document is sent to.
	Recipients int
	// Pullers poll the inboxes, each for its share of the agencies.
	Pullers int
	// Poll is how long a puller waits after finding its inboxes empty.
	Poll time.Duration
	// AckPage makes a puller fetch a whole inbox page and acknowledge it
	// in one POST /v1/inbox/ack, instead of each delivery after its fetch.
	AckPage bool
	// FetchPage makes a puller fetch a whole inbox page in one POST
	// /v1/inbox/fetch, instead of one GET /v1/deliveries/{id} each.
	FetchPage bool
	// FetchNext makes a puller take its next page, originals and all, in
	// one POST /v1/inbox/fetch with a limit, without listing it first
	// (GET /v1/inbox).
	FetchNext bool
	// Drain bounds the wait for deliveries once sending stopped.
	Drain time.Duration
	// Ahead is how many documents are signed before timing starts; 0:
	// Documents, else enough for Rate·Duration, else 1,250 per second of
	// Duration (at most 40,000): signing during the run would take the
	// gateway's CPU. Signing that the run needs beyond them
	// happens during it and is counted apart.
	Ahead int
	// SpoolDir holds the signed documents (default: the system's
	// temporary folder); the file is removed at once and freed at the end.
	SpoolDir string
	Seed     uint64
	// Gateway reads the gateway's CPU and memory; nil: not reported.
	Gateway Probe
	// Writer reads the embedded store's writer (WriterMetrics); nil, or
	// none found: not reported.
	Writer interface {
		Sample(ctx context.Context) (WriterSample, bool, error)
	}
	// Progress gets a line every second; Terminal: the line overwrites
	// itself.
	Progress io.Writer
	Terminal bool
	// Now is the measuring clock (default time.Now: keep its monotonic
	// reading); DocNow dates the documents (default time.Now).
	Now, DocNow func() time.Time
	// LimitTime is how long the machine's limit (Limit) is measured
	// before the timed part: 0 for half a second, negative for not at all.
	LimitTime time.Duration
	// OnStart and OnStop run around the timed part (profiles).
	OnStart, OnStop func()
	// Mode and Backend are echoed in the result.
	Mode, Backend string
}

// docState follows one document between its 202 and its deliveries.
type docState struct {
	acceptedAt time.Time
	accepted   bool
	left       int         // deliveries not yet acknowledged
	early      []time.Time // fetches completed before the 202 was seen
	earlyAcks  int
}

type runner struct {
	cfg   Config
	src   *source
	start time.Time

	mu       sync.Mutex
	docs     map[string]*docState
	errs     map[string]int64
	rejected map[string]int64

	sent, accepted, failed, missed, bytesAccepted          atomic.Int64
	expected, fetched, delivered, bytesFetched, beforeRcpt atomic.Int64
	lastAccept, lastDelivery                               atomic.Int64  // ns after start
	turn                                                   atomic.Uint64 // the next request's instance (base)
	lat, sendLat                                           Histogram

	sendDone atomic.Bool
	stop     chan struct{} // closed: the pullers stop
	stopOnce sync.Once
}

// Run prepares the documents, runs the load and reports.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	prep := cfg.Now()
	load, _ := LoadAverage()
	r := &runner{cfg: cfg, docs: map[string]*docState{}, errs: map[string]int64{}, rejected: map[string]int64{}, stop: make(chan struct{})}
	limit := int64(-1)
	if cfg.Documents > 0 {
		limit = int64(cfg.Documents)
	}
	src, err := newSource(sourceConfig{agencies: cfg.Agencies, mix: cfg.Mix, recipients: cfg.Recipients, seed: cfg.Seed,
		tag: runTag(cfg.Seed, cfg.Now()), limit: limit, ahead: cfg.Ahead, low: cfg.Concurrency + 8, workers: runtime.GOMAXPROCS(0), dir: cfg.SpoolDir, now: cfg.DocNow})
	if err != nil {
		return nil, err
	}
	r.src = src
	defer src.release()
	defer src.close()
	defer context.AfterFunc(ctx, src.close)() // an interrupt ends the signing too
	if err := src.prefill(func(n, want int) { r.progressf("signing documents %d/%d", n, want) }); err != nil {
		return nil, err
	}
	r.progressEnd()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prepared := cfg.Now().Sub(prep)
	var lim *Limit
	if cfg.LimitTime >= 0 {
		d := cfg.LimitTime
		if d == 0 {
			d = 500 * time.Millisecond
		}
		if lim, err = measureLimit(cfg.Agencies[0].Leaf.Key, int64(cfg.Mix.MeanBytes()), d, cfg.Now); err != nil {
			return nil, err
		}
	}

	r.warm(ctx, cfg.Concurrency+cfg.Pullers)

	// The gateway's peak starts here: what preparing took is freed.
	res := &Result{Gateway: nil}
	var g0 Sample
	peakFrom := ""
	if cfg.Gateway != nil {
		if cfg.Gateway.Source() == "self" {
			runtime.GC()
			debug.FreeOSMemory()
		}
		peakFrom = "VmHWM since the process started"
		if cfg.Gateway.Reset() == nil {
			peakFrom = "VmHWM since the start"
		}
		if g0, err = cfg.Gateway.Sample(ctx); err != nil {
			res.Gateway = &Gateway{Source: cfg.Gateway.Source(), Error: err.Error()}
		}
	}
	var w0 WriterSample
	writer := cfg.Writer != nil
	if writer {
		w0, writer, err = cfg.Writer.Sample(ctx)
		if err != nil {
			r.count("metrics", "writer-unreadable")
			writer = false
		}
	}
	self0, _ := SelfCPU()
	if cfg.OnStart != nil {
		cfg.OnStart()
	}
	src.running.Store(true)
	r.start = cfg.Now()

	var peak peaks
	monitorDone := make(chan struct{})
	var monitor sync.WaitGroup
	monitor.Go(func() { r.monitor(ctx, &peak, monitorDone) })

	var pullers sync.WaitGroup
	for _, share := range shares(len(cfg.Agencies), cfg.Pullers) {
		pullers.Go(func() { r.pull(ctx, share) })
	}
	r.sendAll(ctx)
	r.sendDone.Store(true)
	sendEnd := cfg.Now()
	r.maybeStop()
	drain := time.AfterFunc(cfg.Drain, r.stopPulling)
	pullers.Wait()
	drain.Stop()
	end := cfg.Now()
	close(monitorDone)
	monitor.Wait()
	if cfg.OnStop != nil {
		cfg.OnStop()
	}
	self1, _ := SelfCPU()
	r.progressf("%s", r.line(end))
	r.progressEnd()

	// The report.
	sendSecs := sendEnd.Sub(r.start).Seconds()
	elapsed := end.Sub(r.start).Seconds()
	if ld := r.lastDelivery.Load(); ld > 0 && r.delivered.Load() >= r.expected.Load() {
		elapsed = time.Duration(ld).Seconds()
	}
	res.Config = cfg.echo()
	res.Machine = ThisMachine(cfg.DocNow())
	res.Machine.LoadAverage = load
	res.SendSeconds, res.ElapsedSeconds = round3(sendSecs), round3(elapsed)
	res.Documents = Documents{Sent: r.sent.Load(), Accepted: r.accepted.Load(), Rejected: r.rejected, Failed: r.failed.Load(),
		Missed: r.missed.Load(), BytesAccepted: r.bytesAccepted.Load()}
	for i, c := range cfg.Mix {
		s := SizeStats{Size: c.Name, Signed: src.classDocs[i].Load()}
		if s.Signed > 0 {
			s.MeanBytes = src.classBytes[i].Load() / s.Signed
		}
		res.Documents.Sizes = append(res.Documents.Sizes, s)
	}
	res.AcceptedPerSecond = perSecond(res.Documents.Accepted, sendSecs)
	res.BytesPerSecond = perSecond(res.Documents.BytesAccepted, sendSecs)
	r.mu.Lock()
	unmatched := int64(0)
	for _, st := range r.docs {
		if !st.accepted {
			unmatched += int64(st.earlyAcks)
		}
	}
	r.mu.Unlock()
	res.Deliveries = Deliveries{Expected: r.expected.Load(), Fetched: r.fetched.Load(), Delivered: r.delivered.Load(),
		BytesFetched: r.bytesFetched.Load(), Unmatched: unmatched, BeforeReceipt: r.beforeRcpt.Load()}
	res.DeliveredPerSecond = perSecond(res.Deliveries.Delivered, elapsed)
	res.Latency, res.SendLatency = r.lat.Summary(), r.sendLat.Summary()
	res.Errors = r.errs
	if cfg.Gateway != nil && res.Gateway == nil {
		res.Gateway = r.gatewayCost(context.WithoutCancel(ctx), g0, &peak, peakFrom)
	}
	if writer {
		res.Writer = r.writerCost(context.WithoutCancel(ctx), w0, end.Sub(r.start))
	}
	if cfg.Gateway == nil || cfg.Gateway.Source() != "self" {
		res.Bench.CPUSeconds = round3((self1 - self0).Seconds())
	}
	if lim != nil && lim.DocumentBytes == int64(cfg.Mix.MeanBytes()) && res.Gateway != nil && res.Gateway.CPUPerDocumentMs > 0 {
		lim.GatewayCPUInLimits = round3(res.Gateway.CPUPerDocumentMs * 1000 / lim.MicrosPerDocument)
	}
	res.Limit = lim
	res.Bench.SignedBefore, res.Bench.SignCPUBefore = src.madeBefore.Load(), round3(time.Duration(src.cpuBefore.Load()).Seconds())
	res.Bench.SignedDuring, res.Bench.SignCPUDuring = src.madeDur.Load(), round3(time.Duration(src.cpuDuring.Load()).Seconds())
	res.Bench.PrepareSeconds = round3(prepared.Seconds())
	src.mu.Lock()
	res.Bench.SpoolBytesAtFinish = src.end
	src.mu.Unlock()
	if cfg.Dials != nil {
		res.Bench.Connections = cfg.Dials()
	}
	return res, ctx.Err()
}

// writerCost is what the embedded writer did since w0, in a run of wall
// time d; nil when it cannot be read.
func (r *runner) writerCost(ctx context.Context, w0 WriterSample, d time.Duration) *Writer {
	w1, ok, err := r.cfg.Writer.Sample(ctx)
	if err != nil || !ok {
		r.count("metrics", "writer-unreadable")
		return nil
	}
	busy := (w1.Busy - w0.Busy).Seconds()
	w := &Writer{Groups: int64(w1.Groups - w0.Groups), BusySeconds: round3(busy),
		CommitSeconds: round3((w1.Commit - w0.Commit).Seconds())}
	if w.Groups > 0 {
		w.OperationsPerGroup = round3((w1.Operations - w0.Operations) / float64(w.Groups))
	}
	if d > 0 {
		w.BusyFraction = round3(busy / d.Seconds())
	}
	return w
}

func (cfg *Config) check() error {
	n := len(cfg.Agencies)
	switch {
	case n < 2:
		return errors.New("bench: at least 2 agencies (a sender and a recipient)")
	case len(cfg.Tokens) != n:
		return errors.New("bench: one token per agency")
	case cfg.Recipients < 1 || cfg.Recipients > n-1:
		return fmt.Errorf("bench: %d recipients per document: want 1–%d (the other agencies)", cfg.Recipients, n-1)
	case cfg.Duration <= 0 && cfg.Documents <= 0:
		return errors.New("bench: a duration or a number of documents")
	case cfg.Concurrency < 1:
		return errors.New("bench: concurrency must be at least 1")
	case cfg.Rate < 0 || math.IsInf(cfg.Rate, 0) || math.IsNaN(cfg.Rate):
		return errors.New("bench: the rate must be a positive number")
	case len(cfg.Mix) == 0:
		return errors.New("bench: an empty size mix")
	case cfg.URL == "" || cfg.Client == nil:
		return errors.New("bench: the gateway's URL and a client")
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	for i, u := range cfg.More {
		cfg.More[i] = strings.TrimSuffix(u, "/")
	}
	cfg.Pullers = min(max(cfg.Pullers, 1), n)
	if cfg.Poll <= 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.Drain <= 0 {
		cfg.Drain = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DocNow == nil {
		cfg.DocNow = time.Now
	}
	if cfg.Ahead <= 0 {
		switch secs := cfg.Duration.Seconds(); {
		case cfg.Documents > 0:
			cfg.Ahead = cfg.Documents
		case cfg.Rate > 0:
			cfg.Ahead = int(math.Ceil(cfg.Rate*secs)) + 2*cfg.Concurrency + 16 // never down to the refill mark
		default:
			cfg.Ahead = min(max(int(1250*secs), 100), 40000)
			// Large documents sign slowly and fill the spool: at most
			// maxAheadBytes of them (the run signs more if it needs them).
			if mean := cfg.Mix.MeanBytes(); mean > 0 {
				cfg.Ahead = max(min(cfg.Ahead, int(maxAheadBytes/mean)), 2*cfg.Concurrency)
			}
		}
		if cfg.Documents > 0 {
			cfg.Ahead = min(cfg.Ahead, cfg.Documents)
		}
	}
	return nil
}

func (cfg *Config) echo() Echo {
	e := Echo{Mode: cfg.Mode, URL: cfg.URL, Instances: 1 + len(cfg.More), Backend: cfg.Backend, Agencies: len(cfg.Agencies), Mix: cfg.Mix,
		Documents: cfg.Documents, Concurrency: cfg.Concurrency, Rate: cfg.Rate, Recipients: cfg.Recipients,
		Pullers: cfg.Pullers, Poll: cfg.Poll.String(), Ack: "each", Fetch: "each", Ahead: cfg.Ahead, Seed: cfg.Seed}
	if cfg.AckPage {
		e.Ack = "page"
	}
	switch {
	case cfg.FetchNext:
		e.Fetch = "next"
	case cfg.FetchPage:
		e.Fetch = "page"
	}
	if cfg.Duration > 0 {
		e.Duration = cfg.Duration.String()
	}
	return e
}

// runTag makes the documents' notation unique to the run: 8 base-36 digits.
func runTag(seed uint64, now time.Time) string {
	v := (uint64(now.UnixNano()) ^ seed*0x9E3779B97F4A7C15) % 2821109907456 // 36^8
	return strings.ToUpper(fmt.Sprintf("%08s", strconv.FormatUint(v, 36)))
}

// shares splits agencies 0…n-1 among p pullers.
func shares(n, p int) [][]int {
	out := make([][]int, p)
	for i := range n {
		out[i%p] = append(out[i%p], i)
	}
	return out
}

func perSecond(n int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return round3(float64(n) / secs)
}

// sendAll sends until Duration passes or Documents are sent.
func (r *runner) sendAll(ctx context.Context) {
	var deadline <-chan time.Time
	if r.cfg.Duration > 0 {
		t := time.NewTimer(r.cfg.Duration)
		defer t.Stop()
		deadline = t.C
	}
	stop := make(chan struct{})
	go func() {
		select {
		case <-deadline:
		case <-ctx.Done():
		case <-stop:
			return
		}
		r.src.close() // wakes senders waiting for a document
	}()
	defer close(stop)
	if r.cfg.Rate > 0 {
		r.sendOpen(ctx)
		return
	}
	var wg sync.WaitGroup
	for range r.cfg.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				d, err := r.src.next()
				if err != nil {
					r.sourceError(err)
					return
				}
				r.send(ctx, d, r.cfg.Now())
			}
		})
	}
	wg.Wait()
}

// sendOpen sends at the arrival rate; an arrival that finds Concurrency
// requests in flight is missed, its document kept for the next.
func (r *runner) sendOpen(ctx context.Context) {
	slots := make(chan struct{}, r.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	p := NewPacer(r.start, r.cfg.Rate)
	var (
		pending doc
		have    bool
		timer   = time.NewTimer(0)
	)
	defer timer.Stop()
	for {
		first, n := p.Take(r.cfg.Now())
		for i := range n {
			if !have {
				d, err := r.src.next()
				if err != nil {
					r.sourceError(err)
					return
				}
				pending, have = d, true
			}
			select {
			case slots <- struct{}{}:
				d, at := pending, p.At(first+int64(i))
				have = false
				wg.Go(func() {
					defer func() { <-slots }()
					r.send(ctx, d, at)
				})
			default:
				r.missed.Add(1)
			}
		}
		timer.Reset(max(p.Next().Sub(r.cfg.Now()), 0))
		select {
		case <-timer.C:
		case <-ctx.Done():
			return
		}
		if r.src.isClosed() {
			return
		}
	}
}

// warm opens the connections the run may use before its clock starts:
// n requests at once, GET /healthz on each instance in turn, whatever the
// answer. A DMS's connections are open already; without this, the first
// few hundred milliseconds of an open loop went to TLS handshakes, and
// most of the arrivals it missed were missed there (README, machine K).
func (r *runner) warm(ctx context.Context, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base()+"/healthz", nil)
			if err != nil {
				return
			}
			resp, err := r.cfg.Client.Do(req)
			if err != nil {
				return // the run proper counts what fails
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		})
	}
	wg.Wait()
}

// sourceError records a failure to make documents (not the end of them).
func (r *runner) sourceError(err error) {
	if !errors.Is(err, io.EOF) && !errors.Is(err, errClosed) {
		r.count("sign", "failed: "+err.Error())
	}
}

func (r *runner) count(op, kind string) {
	r.mu.Lock()
	r.errs[op+":"+kind]++
	r.mu.Unlock()
}

// receipt is what a 202 answer says that matters here.
type receipt struct {
	ID         string `json:"id"`
	Recipients []struct {
		DeliveryID string `json:"deliveryId"`
		Route      string `json:"route"`
	} `json:"recipients"`
}

// maxAheadBytes bounds the documents signed ahead by default.
const maxAheadBytes = 2 << 30

// requestTimeout bounds one request.
const requestTimeout = 2 * time.Minute

// send posts one document; at is when it was due.
func (r *runner) send(ctx context.Context, d doc, at time.Time) {
	r.sent.Add(1)
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base()+"/v1/documents", r.src.body(d))
	if err != nil {
		r.failed.Add(1)
		r.count("send", "request")
		return
	}
	req.ContentLength = d.n
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("Authorization", "Bearer "+r.cfg.Tokens[d.from])
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		r.failed.Add(1)
		r.count("send", transportKind(err))
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	now := r.cfg.Now()
	if err != nil {
		r.failed.Add(1)
		r.count("send", transportKind(err))
		return
	}
	r.sendLat.Record(now.Sub(at))
	if resp.StatusCode != http.StatusAccepted {
		kind := problemName(resp.StatusCode, body)
		r.mu.Lock()
		r.rejected[kind]++
		r.mu.Unlock()
		r.count("send", kind)
		return
	}
	var rc receipt
	if err := json.Unmarshal(body, &rc); err != nil || rc.ID == "" {
		r.count("send", "unreadable-receipt")
		return
	}
	pulls := 0
	for _, rr := range rc.Recipients {
		if rr.Route == "pull" && rr.DeliveryID != "" {
			pulls++
		}
	}
	r.bytesAccepted.Add(d.n)
	r.lastAccept.Store(int64(now.Sub(r.start)))
	r.expected.Add(int64(pulls))
	r.accepted.Add(1)
	r.mu.Lock()
	st := r.state(rc.ID)
	st.accepted, st.acceptedAt = true, now
	st.left += pulls - st.earlyAcks
	for _, t := range st.early {
		r.lat.Record(t.Sub(now)) // negative: recorded as 0
		r.beforeRcpt.Add(1)
	}
	r.delivered.Add(int64(st.earlyAcks))
	st.early, st.earlyAcks = nil, 0
	if st.left <= 0 {
		delete(r.docs, rc.ID)
	}
	r.mu.Unlock()
	r.maybeStop()
}

// state is the document's entry, made if missing; r.mu is held.
func (r *runner) state(id string) *docState {
	st := r.docs[id]
	if st == nil {
		st = &docState{}
		r.docs[id] = st
	}
	return st
}

// inboxPage is what a page of GET /v1/inbox says that matters here.
type inboxPage struct {
	Items []inboxItem `json:"items"`
}

type inboxItem struct {
	DeliveryID string `json:"deliveryId"`
	DocumentID string `json:"documentId"`
}

// pull polls the agencies' inboxes, fetching and acknowledging every
// delivery, until stopped.
func (r *runner) pull(ctx context.Context, agencies []int) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		got := 0
		for _, a := range agencies {
			if r.stopped(ctx) {
				return
			}
			got += r.pullPage(ctx, a)
		}
		if got > 0 {
			continue
		}
		if r.maybeStop() {
			return
		}
		timer.Reset(r.cfg.Poll)
		select {
		case <-timer.C:
		case <-r.stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (r *runner) stopped(ctx context.Context) bool {
	select {
	case <-r.stop:
		return true
	default:
		return ctx.Err() != nil
	}
}

// pullPage handles one page of an agency's inbox and returns its length.
func (r *runner) pullPage(ctx context.Context, a int) int {
	if r.cfg.FetchNext {
		fetched, n := r.fetchNext(ctx, a)
		r.ackAll(ctx, a, fetched)
		return n
	}
	var page inboxPage
	status, body, err := r.call(ctx, http.MethodGet, "/v1/inbox?limit=100", a, nil)
	switch {
	case r.refused("inbox", status, body, err):
		return 0
	case json.Unmarshal(body, &page) != nil:
		r.count("inbox", "unreadable-page")
		return 0
	}
	if r.cfg.FetchPage {
		r.ackAll(ctx, a, r.fetchPage(ctx, a, page.Items))
		return len(page.Items)
	}
	var fetched []inboxItem
	for _, it := range page.Items {
		if r.stopped(ctx) {
			break
		}
		if !r.fetch(ctx, a, it.DeliveryID, it.DocumentID) {
			continue
		}
		if r.cfg.AckPage {
			fetched = append(fetched, it)
		} else {
			r.ack(ctx, a, it.DeliveryID, it.DocumentID)
		}
	}
	r.ackAll(ctx, a, fetched)
	return len(page.Items)
}

// ackAll acknowledges fetched deliveries: in one request with AckPage,
// else each.
func (r *runner) ackAll(ctx context.Context, a int, items []inboxItem) {
	switch {
	case len(items) == 0:
	case r.cfg.AckPage:
		r.ackPage(ctx, a, items)
	default:
		for _, it := range items {
			r.ack(ctx, a, it.DeliveryID, it.DocumentID)
		}
	}
}

// fetch reads a delivery to the end and records the latency; it reports
// whether it succeeded.
func (r *runner) fetch(ctx context.Context, a int, delivery, document string) bool {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := r.request(ctx, http.MethodGet, "/v1/deliveries/"+url.PathEscape(delivery), a, nil)
	if err != nil {
		r.count("fetch", "request")
		return false
	}
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		r.count("fetch", transportKind(err))
		return false
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		r.count("fetch", problemName(resp.StatusCode, body))
		return false
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		r.count("fetch", transportKind(err))
		return false
	}
	r.got(document, n)
	return true
}

// got records a delivery of document fetched whole, n bytes: its latency
// from the 202, or its time until the 202 is seen.
func (r *runner) got(document string, n int64) {
	fetchedAt := r.cfg.Now()
	r.fetched.Add(1)
	r.bytesFetched.Add(n)
	r.mu.Lock()
	if st := r.state(document); st.accepted {
		r.lat.Record(fetchedAt.Sub(st.acceptedAt))
	} else {
		st.early = append(st.early, fetchedAt)
	}
	r.mu.Unlock()
}

// fetchPage reads the items' deliveries in one POST /v1/inbox/fetch, a
// multipart/mixed answer of one part per item in order, each read to its
// end; it returns the items fetched. A fault of the whole request counts
// one error, else each item not fetched counts one, and so does a part
// not asked for.
func (r *runner) fetchPage(ctx context.Context, a int, items []inboxItem) []inboxItem {
	if len(items) == 0 {
		return nil
	}
	b, err := idsBody(items)
	if err != nil {
		r.count("fetch", "request")
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, mr := r.postFetch(ctx, a, b)
	if mr == nil {
		return nil
	}
	defer resp.Body.Close()
	var fetched []inboxItem
	for i, it := range items {
		p, err := mr.NextPart()
		if err != nil {
			// io.EOF itself is the closing boundary: parts are missing;
			// anything else (a wrapped io.EOF too) a broken answer.
			kind := "unreadable-answer"
			if err != io.EOF {
				kind = transportKind(err)
			}
			for range items[i:] {
				r.count("fetch", kind)
			}
			return fetched
		}
		if r.fetchPart(p, it) {
			fetched = append(fetched, it)
		}
	}
	switch _, err := mr.NextPart(); {
	case err == nil:
		r.count("fetch", "unreadable-answer") // a part not asked for
	case err != io.EOF:
		r.count("fetch", transportKind(err))
	default:
		drainAnswer(resp.Body)
	}
	return fetched
}

// drainAnswer reads a multipart answer on from its closing boundary,
// which may come before the end of the chunked body: closed there, the
// client drops the connection instead of reusing it (a TLS handshake per
// page).
func drainAnswer(body io.Reader) { _, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10)) }

// postFetch sends body to POST /v1/inbox/fetch and returns the answer
// with a reader of its parts; the caller closes resp.Body. A fault of the
// whole request counts one error and returns a nil reader.
func (r *runner) postFetch(ctx context.Context, a int, body []byte) (*http.Response, *multipart.Reader) {
	req, err := r.request(ctx, http.MethodPost, "/v1/inbox/fetch", a, bytes.NewReader(body))
	if err != nil {
		r.count("fetch", "request")
		return nil, nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "multipart/mixed, application/problem+json")
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		r.count("fetch", transportKind(err))
		return nil, nil
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode != http.StatusOK:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		r.count("fetch", problemName(resp.StatusCode, b))
	case err != nil || mt != "multipart/mixed" || params["boundary"] == "":
		r.count("fetch", "unreadable-answer")
	default:
		return resp, multipart.NewReader(resp.Body, params["boundary"])
	}
	resp.Body.Close()
	return nil, nil
}

// fetchNext takes the next page of the inbox in one POST /v1/inbox/fetch
// with a limit: it returns the deliveries fetched and the number of parts
// (not fetched ones included, so that the puller comes back soon).
func (r *runner) fetchNext(ctx context.Context, a int) ([]inboxItem, int) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, mr := r.postFetch(ctx, a, []byte(`{"limit": 100}`))
	if mr == nil {
		return nil, 0
	}
	defer resp.Body.Close()
	var fetched []inboxItem
	n := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			drainAnswer(resp.Body)
			return fetched, n
		}
		if err != nil {
			r.count("fetch", transportKind(err))
			return fetched, n
		}
		n++
		it := inboxItem{DeliveryID: p.Header.Get("Edocgw-Delivery-Id"), DocumentID: p.Header.Get("Edocgw-Document-Id")}
		if r.fetchPart(p, it) {
			fetched = append(fetched, it)
		}
	}
}

// fetchPart reads part, expected to be item's delivery, to its end and
// reports whether it was fetched.
func (r *runner) fetchPart(p *multipart.Part, it inboxItem) bool {
	if p.Header.Get("Edocgw-Delivery-Id") != it.DeliveryID {
		r.count("fetch", "unreadable-answer")
		return false
	}
	if mt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); mt == "application/problem+json" {
		body, _ := io.ReadAll(io.LimitReader(p, 1<<20))
		var pr struct {
			Status int `json:"status"`
		}
		_ = json.Unmarshal(body, &pr)
		r.count("fetch", problemName(pr.Status, body))
		return false
	}
	n, err := io.Copy(io.Discard, p)
	if cl := p.Header.Get("Content-Length"); err == nil && cl != "" {
		if want, perr := strconv.ParseInt(cl, 10, 64); perr != nil || n != want {
			err = io.ErrUnexpectedEOF
		}
	}
	if err != nil {
		r.count("fetch", transportKind(err))
		return false
	}
	r.got(it.DocumentID, n)
	return true
}

// ack acknowledges one delivery.
func (r *runner) ack(ctx context.Context, a int, delivery, document string) {
	status, body, err := r.call(ctx, http.MethodPost, "/v1/deliveries/"+url.PathEscape(delivery)+"/ack", a, nil)
	if r.refused("ack", status, body, err) {
		return
	}
	r.acked(document)
}

// refused counts a request of kind what that got no answer, or one other
// than 200 OK, and reports whether it did.
func (r *runner) refused(what string, status int, body []byte, err error) bool {
	switch {
	case err != nil:
		r.count(what, transportKind(err))
	case status != http.StatusOK:
		r.count(what, problemName(status, body))
	default:
		return false
	}
	return true
}

// ackPage acknowledges the fetched deliveries of a page in one request.
func (r *runner) ackPage(ctx context.Context, a int, items []inboxItem) {
	b, err := idsBody(items)
	if err != nil {
		r.count("ack", "request")
		return
	}
	status, body, err := r.call(ctx, http.MethodPost, "/v1/inbox/ack", a, bytes.NewReader(b))
	var page struct {
		Items []struct {
			Problem json.RawMessage `json:"problem"`
		} `json:"items"`
	}
	switch {
	case r.refused("ack", status, body, err):
		return
	case json.Unmarshal(body, &page) != nil || len(page.Items) != len(items):
		r.count("ack", "unreadable-answer")
		return
	}
	for i, it := range page.Items {
		if len(it.Problem) > 0 {
			var p struct{ Status int }
			_ = json.Unmarshal(it.Problem, &p)
			r.count("ack", problemName(p.Status, it.Problem))
			continue
		}
		r.acked(items[i].DocumentID)
	}
}

// idsBody is the body of POST /v1/inbox/ack and /v1/inbox/fetch: the
// items' delivery ids.
func idsBody(items []inboxItem) ([]byte, error) {
	req := struct {
		DeliveryIDs []string `json:"deliveryIds"`
	}{make([]string, len(items))}
	for i, it := range items {
		req.DeliveryIDs[i] = it.DeliveryID
	}
	return json.Marshal(req)
}

// acked counts an acknowledged delivery of document.
func (r *runner) acked(document string) {
	r.mu.Lock()
	st := r.state(document)
	if st.accepted {
		r.delivered.Add(1)
		r.lastDelivery.Store(int64(r.cfg.Now().Sub(r.start)))
		if st.left--; st.left <= 0 {
			delete(r.docs, document)
		}
	} else {
		st.earlyAcks++
	}
	r.mu.Unlock()
	r.maybeStop()
}

// call does a request as agency a and reads the answer (up to 16 MiB).
func (r *runner) call(ctx context.Context, method, p string, a int, body io.Reader) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := r.request(ctx, method, p, a, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, b, err
}

// request is a request of agency a to the next instance (base).
func (r *runner) request(ctx context.Context, method, p string, a int, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, r.base()+p, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.Tokens[a])
	return req, nil
}

// base is the gateway instance for the next request: URL and each of More
// in turn.
func (r *runner) base() string {
	if len(r.cfg.More) == 0 {
		return r.cfg.URL
	}
	n := r.turn.Add(1) % uint64(len(r.cfg.More)+1)
	if n == 0 {
		return r.cfg.URL
	}
	return r.cfg.More[n-1]
}

// maybeStop stops the pullers once sending is over and every expected
// delivery was made; it reports whether they are stopped.
func (r *runner) maybeStop() bool {
	if r.sendDone.Load() && r.delivered.Load() >= r.expected.Load() {
		r.stopPulling()
	}
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

func (r *runner) stopPulling() { r.stopOnce.Do(func() { close(r.stop) }) }

// peaks are the highest samples seen while running.
type peaks struct {
	mu        sync.Mutex
	rss, heap int64
}

// monitor prints the progress line and samples the gateway every second.
func (r *runner) monitor(ctx context.Context, pk *peaks, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		if r.cfg.Gateway != nil {
			if s, err := r.cfg.Gateway.Sample(ctx); err == nil {
				pk.mu.Lock()
				pk.rss, pk.heap = max(pk.rss, s.RSS), max(pk.heap, s.Heap)
				pk.mu.Unlock()
			}
		}
		r.progressf("%s", r.line(r.cfg.Now()))
	}
}

// line is the progress: elapsed, counts, rate, latency so far.
func (r *runner) line(now time.Time) string {
	el := now.Sub(r.start)
	state := ""
	if r.sendDone.Load() {
		state = " draining"
	}
	r.mu.Lock()
	nerr := int64(0)
	for _, n := range r.errs {
		nerr += n
	}
	r.mu.Unlock()
	acc := r.accepted.Load()
	return fmt.Sprintf("%6.1fs%s sent %d accepted %d (%.1f/s) delivered %d/%d p99 %.1fms errors %d",
		el.Seconds(), state, r.sent.Load(), acc, perSecond(acc, el.Seconds()), r.delivered.Load(), r.expected.Load(),
		float64(r.lat.Quantile(0.99))/1e6, nerr)
}

// progressf writes a progress line: on a terminal over the last one.
func (r *runner) progressf(format string, args ...any) {
	w := r.cfg.Progress
	if w == nil {
		return
	}
	line := fmt.Sprintf(format, args...)
	if r.cfg.Terminal {
		fmt.Fprintf(w, "\r%s\x1b[K", line)
		return
	}
	fmt.Fprintln(w, line)
}

// progressEnd ends an overwritten line.
func (r *runner) progressEnd() {
	if r.cfg.Progress != nil && r.cfg.Terminal {
		fmt.Fprintln(r.cfg.Progress)
	}
}

// gatewayCost is the gateway's CPU and memory since g0.
func (r *runner) gatewayCost(ctx context.Context, g0 Sample, pk *peaks, peakFrom string) *Gateway {
	p := r.cfg.Gateway
	g := &Gateway{Source: p.Source(), IncludesBench: p.Source() == "self"}
	if pp, ok := p.(PIDProbe); ok {
		g.PID = pp.PID
	}
	g1, err := p.Sample(ctx)
	if err != nil {
		g.Error = err.Error()
		return g
	}
	g.CPUSeconds = round3((g1.CPU - g0.CPU).Seconds())
	if a := r.accepted.Load(); a > 0 {
		g.CPUPerDocumentMs = round3((g1.CPU - g0.CPU).Seconds() * 1000 / float64(a))
	}
	pk.mu.Lock()
	defer pk.mu.Unlock()
	g.HeapPeakBytes = max(pk.heap, g1.Heap)
	if g1.HWM > 0 {
		g.PeakRSSBytes, g.PeakRSSFrom = g1.HWM, peakFrom
	} else {
		g.PeakRSSBytes, g.PeakRSSFrom = max(pk.rss, g1.RSS, g0.RSS), "sampled every second"
	}
	return g
}

// problemName is the last path segment of a problem's type
// (signature-invalid), or http-STATUS.
func problemName(status int, body []byte) string {
	var p struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(body, &p) == nil && p.Type != "" && p.Type != "about:blank" {
		if u, err := url.Parse(p.Type); err == nil && path.Base(u.Path) != "/" && path.Base(u.Path) != "." {
			return path.Base(u.Path)
		}
	}
	return "http-" + strconv.Itoa(status)
}

// transportKind names a failure to get an answer.
func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection-refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection-reset"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection-closed"
	}
	return "transport"
}
