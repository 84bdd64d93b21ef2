package cli

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edocgw/edocgw/internal/authtoken"
	"github.com/edocgw/edocgw/internal/bench"
	"github.com/edocgw/edocgw/internal/devpki"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
	"github.com/edocgw/edocgw/signing"
)

const benchUsage = "[--in-process | --spawn [--instances N] | --hub URL [--ca CA.pem] [--gateway-pid PID] --pki-dir DIR] " +
	"[--data DIR | --database-url URL] [--archive-url URL] [--agencies N] [--mix 10KB=90,200KB=9,5MB=1] " +
	"[--duration 30s | --documents N] [--concurrency C | --rate R/s] [--recipients K] [--pullers P] [--fetch each|page|next] [--ack each|page] [--json]"

// benchMaxPacket is the default packet limit of the gateway bench starts, as serve's.
const benchMaxPacket = 64 << 20

func runBench(args []string, env Env) error {
	f := newFlags("bench", benchUsage, env)
	hubURL := f.String("hub", "", "drive this running gateway (its agencies are registered through --data or --database-url); default: start one in this process")
	inProcess := f.Bool("in-process", false, "run the gateway in this process, over HTTPS on loopback (the default)")
	spawn := f.Bool("spawn", false, "start edocgw serve (this binary, or --serve-bin) as a child process, so that its CPU and memory are its own")
	serveBin := f.String("serve-bin", "", "with --spawn: the edocgw binary to run (default: this one)")
	instances := f.Int("instances", 1, "with --spawn: gateway processes on the same database and archive (use --database-url and --archive-url s3://… for the production backend); requests go to each in turn")
	ca := f.String("ca", "", "with --hub: the gateway's TLS CA, PEM (default DATA/pki/hub-ca.pem if present, else the system roots)")
	data := f.String("data", "", "the gateway's data folder, embedded backend (default: a temporary folder removed after the run; with --hub "+DefaultDataDir+")")
	dbURL := f.String("database-url", os.Getenv("EDOCGW_DATABASE_URL"), "the gateway's PostgreSQL URL instead of the embedded database")
	archiveURL := f.String("archive-url", os.Getenv("EDOCGW_ARCHIVE_URL"), "in-process or --spawn: "+archiveHelp)
	pkiDir := f.String("pki-dir", "", "keep the bench PKI (a root, the agencies' keys) in this folder and reuse it; required with --hub, whose gateway must trust DIR/root.pem")
	pid := f.Int("gateway-pid", 0, "with --hub: the gateway's process id on this machine: CPU and peak memory from /proc (default: its /metrics)")
	agencies := f.Int("agencies", 10, "agencies that send and receive (codes 000.00.NN.ZGG), each a pull member with a token")
	mixFlag := f.String("mix", "10KB=1", "document sizes and weights: SIZE=WEIGHT,… such as 10KB=90,200KB=9,5MB=1")
	duration := f.Duration("duration", 0, "send for this long (default 30s unless --documents)")
	documents := f.Int("documents", 0, "send this many documents")
	concurrency := f.Int("concurrency", 0, "documents sent at once (default 8); with --rate the most in flight (default 64)")
	rateFlag := f.String("rate", "", "open loop: documents per second, R or R/s or R/m (arrivals that find every sender busy are counted as missed)")
	recipients := f.Int("recipients", 1, "recipients of each document")
	pullers := f.Int("pullers", 0, "recipients' pollers, each for a share of the agencies (default: one per agency, at most 16)")
	fetch := f.String("fetch", "each", "how pullers fetch an inbox page: each (GET /v1/deliveries/{id} per delivery), page (one POST /v1/inbox/fetch of the ids listed, a multipart answer) or next (one POST /v1/inbox/fetch with a limit, without listing the inbox first)")
	ack := f.String("ack", "each", "how pullers acknowledge: each (POST /v1/deliveries/{id}/ack after each fetch) or page (fetch an inbox page, then one POST /v1/inbox/ack)")
	poll := f.Duration("poll", 200*time.Millisecond, "a puller whose inboxes were empty looks again after this (the latency includes this wait)")
	drain := f.Duration("drain", time.Minute, "once sending stopped, wait at most this long for the deliveries")
	ahead := f.Int("ahead", 0, "documents signed before the timed part (default: all with --documents; rate × duration with --rate; else 1,250 per second, at most 40,000)")
	spoolDir := f.String("spool-dir", "", "where signed documents wait (default: the system's temporary folder)")
	seed := f.Uint64("seed", 1, "seed of the sizes and recipients")
	asJSON := f.Bool("json", false, "print the result as one JSON object")
	quiet := f.Bool("quiet", false, "no progress line on stderr")
	cpuProfile := f.String("cpuprofile", "", "write a CPU profile of this process during the timed part (in-process: the gateway and the load)")
	memProfile := f.String("memprofile", "", "write a heap profile of this process at the end")
	traceFile := f.String("trace", "", "write a runtime execution trace of this process during the timed part (go tool trace; some 10 MB a second: use a short --duration)")
	procs := addProcsFlag(f)
	gcPercent := addGCFlag(f)
	maxPacket := f.Int64("max-packet", benchMaxPacket, "in-process or --spawn: the gateway's packet limit, bytes (serve --max-packet); documents above 16 MiB are signed as streams, e.g. --mix 1000MB=1 --documents 1 --max-packet 1073741824")
	if err := f.parseNone(args); err != nil {
		return err
	}
	// The load's and an in-process gateway's; a spawned gateway gets the same.
	if err := setProcs(*procs); err != nil {
		return err
	}
	if err := setGCPercent(*gcPercent); err != nil {
		return err
	}
	mode := "in-process"
	switch {
	case *hubURL != "" && (*inProcess || *spawn):
		return usagef("bench: --hub drives a running gateway; --in-process and --spawn start one")
	case *inProcess && *spawn:
		return usagef("bench: --in-process or --spawn, not both")
	case *hubURL != "":
		mode = "hub"
	case *spawn:
		mode = "spawn"
	}
	if mode != "spawn" && (*serveBin != "" || *instances != 1) {
		return usagef("bench: --serve-bin and --instances go with --spawn")
	}
	if *instances < 1 || *instances > 8 {
		return usagef("bench: --instances %d: want 1–8", *instances)
	}
	if mode != "hub" && (*pid != 0 || *ca != "") {
		return usagef("bench: --gateway-pid and --ca go with --hub")
	}
	if mode == "hub" && isSet(f, "archive-url") {
		return usagef("bench: --archive-url is the started gateway's; a running one has its own")
	}
	if mode == "hub" && *pkiDir == "" {
		return usagef("bench: --hub needs --pki-dir DIR (the gateway runs with --trust DIR/root.pem)")
	}
	if *agencies < 2 || *agencies > bench.MaxAgencies {
		return usagef("bench: --agencies %d: want 2–%d", *agencies, bench.MaxAgencies)
	}
	if *recipients < 1 || *recipients >= *agencies {
		return usagef("bench: --recipients %d: want 1–%d (the other agencies)", *recipients, *agencies-1)
	}
	if *fetch != "each" && *fetch != "page" && *fetch != "next" {
		return usagef("bench: --fetch must be each, page or next, not %q", *fetch)
	}
	if *ack != "each" && *ack != "page" {
		return usagef("bench: --ack must be each or page, not %q", *ack)
	}
	if *duration < 0 || *documents < 0 || *concurrency < 0 || *pullers < 0 || *ahead < 0 {
		return usagef("bench: --duration, --documents, --concurrency, --pullers and --ahead must not be negative")
	}
	mix, err := bench.ParseMix(*mixFlag)
	if err != nil {
		return usagef("bench: --mix: %v", err)
	}
	if *maxPacket <= 0 {
		return usagef("bench: --max-packet must be positive")
	}
	if mode == "hub" && isSet(f, "max-packet") {
		return usagef("bench: --max-packet is the started gateway's; a running one has its own")
	}
	for _, c := range mix {
		if c.Bytes > *maxPacket {
			return usagef("bench: --mix: %s is larger than the gateway's %d-byte limit (--max-packet)", c.Name, *maxPacket)
		}
	}
	rate, err := bench.ParseRate(*rateFlag)
	if err != nil {
		return usagef("bench: --rate: %v", err)
	}
	if *duration == 0 && *documents == 0 {
		*duration = 30 * time.Second
	}
	if *concurrency == 0 {
		*concurrency = 8
		if rate > 0 {
			*concurrency = 64
		}
	}
	if *pullers == 0 {
		*pullers = min(*agencies, 16)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The progress, the notes and the in-process gateway's log share stderr.
	stderr := &lockedWriter{w: env.Stderr}
	env.Stderr = stderr
	progress := io.Writer(stderr)
	if *quiet {
		progress = nil
	}
	notef := func(format string, args ...any) {
		if progress != nil {
			fmt.Fprintf(progress, "bench: "+format+"\n", args...)
		}
	}

	// The agencies and their keys.
	pki, created, err := benchPKI(*pkiDir, *agencies, env.now())
	if err != nil {
		return err
	}
	if created {
		notef("bench PKI for %d agencies written to %s; a gateway of its own must run with --trust %s", *agencies, *pkiDir, filepath.Join(*pkiDir, "root.pem"))
	}
	if mode != "hub" && *data == "" {
		tmp, err := os.MkdirTemp("", "edocgw-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*data = tmp
	} else if *data == "" {
		*data = DefaultDataDir
	}
	sf := storeFlags{data: data, url: dbURL, notes: env.Stderr}
	backend := "embedded"
	if *dbURL != "" {
		backend = "postgres"
	}
	if *archiveURL != "" {
		backend += "+s3"
	}

	cfg := bench.Config{Mode: mode, Backend: backend, Mix: mix, Duration: *duration, Documents: *documents,
		Concurrency: *concurrency, Rate: rate, Recipients: *recipients, Pullers: *pullers, Poll: *poll,
		FetchPage: *fetch == "page", FetchNext: *fetch == "next", AckPage: *ack == "page", Drain: *drain, Ahead: *ahead, SpoolDir: *spoolDir, Seed: *seed,
		Agencies: pki.Agencies, DocNow: env.now}
	var roots *x509.CertPool // the gateway's TLS CA
	switch mode {
	case "in-process":
		st, err := sf.open(ctx, gatewayStoreOptions(env))
		if err != nil {
			return fmt.Errorf("metadata store: %w", err)
		}
		defer st.Close()
		if cfg.Tokens, err = registerBenchAgencies(ctx, st, pki.Agencies); err != nil {
			return err
		}
		trust := x509.NewCertPool()
		trust.AppendCertsFromPEM(pki.RootPEM)
		gw, err := startBenchGateway(ctx, env, st, *data, *archiveURL, trust, *maxPacket)
		if err != nil {
			return err
		}
		defer gw.stop()
		cfg.URL, roots, cfg.Gateway = gw.url, gw.roots, bench.SelfProbe{}
	case "spawn":
		st, err := sf.open(ctx, store.Options{Now: env.Now})
		if err != nil {
			return fmt.Errorf("metadata store: %w", err)
		}
		cfg.Tokens, err = registerBenchAgencies(ctx, st, pki.Agencies)
		st.Close()
		if err != nil {
			return err
		}
		root := filepath.Join(*data, "bench-root.pem")
		if err := os.WriteFile(root, pki.RootPEM, 0o644); err != nil {
			return err
		}
		// One after the other: the first makes the data folder's PKI,
		// which the others then share.
		var probes bench.Probes
		for i := range *instances {
			child, err := spawnGateway(ctx, *serveBin, *data, *dbURL, *archiveURL, root, *maxPacket, *procs, *gcPercent)
			if err != nil {
				return err
			}
			defer child.stop(env)
			if i == 0 {
				cfg.URL = child.url
			} else {
				cfg.More = append(cfg.More, child.url)
			}
			probes = append(probes, bench.PIDProbe{PID: child.cmd.Process.Pid})
		}
		if roots, err = certPool([]string{filepath.Join(*data, "pki", "hub-ca.pem")}); err != nil {
			return err
		}
		cfg.Gateway = probes[0]
		if len(probes) > 1 {
			cfg.Gateway = probes
		}
	case "hub":
		st, err := sf.open(ctx, store.Options{Now: env.Now})
		if err != nil {
			return fmt.Errorf("the gateway's store: %w", err)
		}
		cfg.Tokens, err = registerBenchAgencies(ctx, st, pki.Agencies)
		st.Close()
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintf(env.Stderr, "bench: %d agencies registered; restart the gateway with --trust %s, then run this command again\n",
				*agencies, filepath.Join(*pkiDir, "root.pem"))
			return &silentError{ExitInput}
		}
		caFile := *ca
		if caFile == "" && *dbURL == "" {
			if p := filepath.Join(*data, "pki", "hub-ca.pem"); fileExists(p) {
				caFile = p
			}
		}
		if caFile != "" {
			if roots, err = certPool([]string{caFile}); err != nil {
				return err
			}
		}
		cfg.URL = strings.TrimSuffix(*hubURL, "/")
	}
	var dials atomic.Int64
	cfg.Client, cfg.Dials = benchClient(roots, *concurrency+*pullers+4, &dials), dials.Load
	if mode == "hub" {
		if *pid > 0 {
			cfg.Gateway = bench.PIDProbe{PID: *pid}
		} else {
			cfg.Gateway = bench.MetricsProbe{URL: cfg.URL + "/metrics", Client: cfg.Client}
		}
		if err := waitForAgencies(ctx, cfg.Client, cfg.URL, cfg.Tokens); err != nil {
			return err
		}
	}

	// Every mode's gateways serve /metrics, the embedded writer's series
	// among them.
	writer := bench.WriterMetrics{Client: cfg.Client}
	for _, u := range append([]string{cfg.URL}, cfg.More...) {
		writer.URLs = append(writer.URLs, u+"/metrics")
	}
	cfg.Writer = writer

	if progress != nil {
		cfg.Progress, cfg.Terminal = progress, isTerminal(stderr.w)
		notef("%s gateway %s; %d agencies, mix %s", mode, cfg.URL, *agencies, mix)
	}
	var profErr, traceErr error
	if *cpuProfile != "" {
		pf, err := recordTimed(&cfg, *cpuProfile, pprof.StartCPUProfile, pprof.StopCPUProfile, &profErr)
		if err != nil {
			return err
		}
		defer pf.Close()
	}
	if *traceFile != "" {
		tf, err := recordTimed(&cfg, *traceFile, trace.Start, trace.Stop, &traceErr)
		if err != nil {
			return err
		}
		defer tf.Close()
	}
	res, err := bench.Run(ctx, cfg)
	if res == nil {
		return err
	}
	if profErr != nil {
		fmt.Fprintf(env.Stderr, "bench: CPU profile: %v\n", profErr)
	}
	if traceErr != nil {
		fmt.Fprintf(env.Stderr, "bench: trace: %v\n", traceErr)
	}
	if *memProfile != "" {
		if err := writeHeapProfile(*memProfile); err != nil {
			fmt.Fprintf(env.Stderr, "bench: heap profile: %v\n", err)
		}
	}
	if *asJSON {
		if werr := writeJSONLine(env.Stdout, res); werr != nil {
			return werr
		}
	} else {
		writeBenchSummary(env.Stdout, res)
	}
	if err != nil {
		return err
	}
	return nil
}

// benchPKI loads the PKI kept in dir, or makes one (and keeps it in dir
// when given); created reports a new one.
func benchPKI(dir string, n int, now time.Time) (*bench.PKI, bool, error) {
	if dir != "" {
		p, err := bench.LoadPKI(dir, n)
		if err == nil {
			return p, false, nil
		}
		if !errors.Is(err, bench.ErrNoPKI) {
			return nil, false, err
		}
	}
	p, err := bench.NewPKI(n, now)
	if err != nil {
		return nil, false, err
	}
	if dir != "" {
		if err := p.Save(dir); err != nil {
			return nil, false, err
		}
	}
	return p, dir != "", nil
}

// registerBenchAgencies makes each agency a pull member whose documents
// must be signed, bound to its certificate, with a new token.
func registerBenchAgencies(ctx context.Context, st *store.Store, as []*hubtest.Agency) ([]string, error) {
	tokens := make([]string, len(as))
	for i, a := range as {
		tok, h, err := authtoken.New(nil)
		if err != nil {
			return nil, err
		}
		entry := a.DirectoryEntry()
		m := routing.Member{Code: a.Code, Mode: routing.ModePull, Signature: routing.SignatureRequired}
		c := &store.Credential{Hash: h, Role: routing.RoleAgency, Agency: a.Code, Name: "bench"}
		if err := st.AddMember(ctx, &entry, m, c, actor()); err != nil {
			return nil, fmt.Errorf("registering %s: %w", a.Code, err)
		}
		tokens[i] = tok
	}
	return tokens, nil
}

// benchGateway is a gateway running in this process as serve runs it.
type benchGateway struct {
	url   string
	roots *x509.CertPool
	stop  func()
}

// startBenchGateway serves the hub over st on 127.0.0.1, TLS from the
// development PKI in data, as `edocgw serve` with its defaults does.
func startBenchGateway(ctx context.Context, env Env, st *store.Store, data, archiveURL string, trust *x509.CertPool, maxPacket int64) (*benchGateway, error) {
	files, _, err := devpki.Ensure(data, env.now())
	if err != nil {
		return nil, fmt.Errorf("development PKI: %w", err)
	}
	hs, err := devpki.EnsureHubSigner(data, env.now())
	if err != nil {
		return nil, fmt.Errorf("development hub key: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(files.ServerCert, files.ServerKey)
	if err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	signer, err := readKey(hs.Key)
	if err != nil {
		return nil, fmt.Errorf("hub key: %w", err)
	}
	signerCerts, err := readCerts(hs.Cert)
	if err != nil {
		return nil, fmt.Errorf("hub certificate: %w", err)
	}
	roots, err := certPool([]string{files.CACert})
	if err != nil {
		return nil, err
	}
	blobs, _, err := openArchive(ctx, archiveURL, data, maxPacket, env.Now)
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The gateway as `edocgw serve` builds it with its defaults.
	vf := vxpServeFlags{prefixes: &multi{}, keyFile: new(string), skew: new(time.Duration), poll: new(time.Duration)}
	g, err := newGateway(ctx, gatewayOptions{
		Hub: routing.Options{
			Store: st, Blobs: blobs, Verifier: &signing.Verifier{Roots: trust, Now: env.Now}, MaxPacket: maxPacket,
			HubKey: signer, HubCert: signerCerts[0], Logger: logger, Now: env.Now,
		},
		Store: st, TLSCert: cert, ClientCAs: trust, CheckpointEvery: time.Minute, Data: data, VXP: &vf,
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	serveCtx, stopServe := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = g.serve(serveCtx, ln); close(done) }()
	return &benchGateway{url: "https://" + ln.Addr().String(), roots: roots, stop: func() {
		stopServe()
		<-done
	}}, nil
}

// childGateway is `edocgw serve` started by bench.
type childGateway struct {
	cmd    *exec.Cmd
	url    string
	stderr *tailBuffer
	exited chan struct{}
}

// spawnGateway starts bin serve on a free loopback port and waits for
// its address.
func spawnGateway(ctx context.Context, bin, data, dbURL, archiveURL, trust string, maxPacket int64, procs, gcPercent int) (*childGateway, error) {
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		bin = exe
	}
	args := []string{"serve", "--listen", "127.0.0.1:0", "--data", data, "--trust", trust, "--max-packet", strconv.FormatInt(maxPacket, 10),
		"--procs", strconv.Itoa(procs), "--gc-percent", strconv.Itoa(gcPercent)}
	if dbURL != "" {
		args = append(args, "--database-url", dbURL)
	}
	if archiveURL != "" {
		args = append(args, "--archive-url", archiveURL)
	}
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c := &childGateway{cmd: cmd, stderr: &tailBuffer{max: 64 << 10}, exited: make(chan struct{})}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s serve: %w", bin, err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "edocgw serving "); ok && len(found) == 0 && c.url == "" {
				found <- strings.Fields(rest)[0]
			}
		}
		_ = cmd.Wait()
		close(c.exited)
	}()
	select {
	case u := <-found:
		c.url = u
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("%s serve exited before serving:\n%s", bin, c.stderr)
	case <-ctx.Done():
	case <-time.After(time.Minute):
	}
	_ = cmd.Process.Kill()
	<-c.exited
	return nil, fmt.Errorf("%s serve printed no address:\n%s", bin, c.stderr)
}

// stop ends the child with SIGTERM (SIGKILL after 30 s).
func (c *childGateway) stop(env Env) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
		fmt.Fprintf(env.Stderr, "bench: the gateway did not stop in 30 s: killed\n")
	}
}

// lockedWriter serializes writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// recordTimed creates the file at path and has start record into it while
// the run's timed part lasts, stop ending it: chained after cfg's OnStart
// and before its OnStop, so that recorders nest. start's error goes to
// *startErr (the run goes on without that record). The caller closes the
// file.
func recordTimed(cfg *bench.Config, path string, start func(io.Writer) error, stop func(), startErr *error) (*os.File, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	onStart, onStop := cfg.OnStart, cfg.OnStop
	cfg.OnStart = func() {
		if onStart != nil {
			onStart()
		}
		*startErr = start(f)
	}
	cfg.OnStop = func() {
		if *startErr == nil {
			stop()
		}
		if onStop != nil {
			onStop()
		}
	}
	return f, nil
}

// benchClient is the HTTP/1.1 client of the senders and pullers, as a DMS
// uses the client commands' (one connection per request in flight).
// dials counts the connections it opens.
func benchClient(roots *x509.CertPool, conns int, dials *atomic.Int64) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
		// A request's headers and a 10 KB body in one TLS record (at
		// most 16 KiB) and one write, where the default 4 KiB made three.
		WriteBufferSize: 16 << 10,
	}}
}

// waitForAgencies waits until a running gateway knows every agency's
// token, then for its configuration cache (reloaded every second) to
// have the new members and certificates.
func waitForAgencies(ctx context.Context, c *http.Client, base string, tokens []string) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, tok := range tokens {
		for {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/inbox?limit=1", nil)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := c.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
				err = fmt.Errorf("inbox: %s", resp.Status)
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the gateway at %s does not accept the agencies' tokens (is --data or --database-url its store?): %w", base, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(1500 * time.Millisecond):
		return nil
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// isSet reports whether the command line gave the flag.
func isSet(f *flags, name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func writeHeapProfile(p string) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeBenchSummary prints the result for a person.
func writeBenchSummary(w io.Writer, r *bench.Result) {
	c := r.Config
	load := fmt.Sprintf("concurrency %d", c.Concurrency)
	if c.Rate > 0 {
		load = fmt.Sprintf("rate %g/s (at most %d in flight)", c.Rate, c.Concurrency)
	}
	fmt.Fprintf(w, "%s gateway %s (%s): %d agencies, mix %s, %s, %d recipient(s), %d puller(s)\n",
		c.Mode, c.URL, c.Backend, c.Agencies, c.Mix, load, c.Recipients, c.Pullers)
	d := r.Documents
	fmt.Fprintf(w, "documents   sent %d, accepted %d, rejected %d, failed %d, missed %d in %.1f s: %.1f/s, %.2f MB/s\n",
		d.Sent, d.Accepted, sum(d.Rejected), d.Failed, d.Missed, r.SendSeconds, r.AcceptedPerSecond, r.BytesPerSecond/1e6)
	dl := r.Deliveries
	fmt.Fprintf(w, "deliveries  %d of %d fetched and acknowledged in %.1f s: %.1f/s\n", dl.Delivered, dl.Expected, r.ElapsedSeconds, r.DeliveredPerSecond)
	l := r.Latency
	fmt.Fprintf(w, "latency     accepted → fetched p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n", l.P50, l.P90, l.P99, l.Max)
	s := r.SendLatency
	fmt.Fprintf(w, "send        POST → 202 p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n", s.P50, s.P90, s.P99, s.Max)
	if g := r.Gateway; g != nil {
		if g.Error != "" {
			fmt.Fprintf(w, "gateway     (%s) %s\n", g.Source, g.Error)
		} else {
			note := ""
			if g.IncludesBench {
				note = ", load generator included"
			}
			fmt.Fprintf(w, "gateway     CPU %.1f s (%.2f ms per document%s), peak RSS %.1f MB (%s)\n",
				g.CPUSeconds, g.CPUPerDocumentMs, note, float64(g.PeakRSSBytes)/1e6, g.PeakRSSFrom)
		}
	}
	if wr := r.Writer; wr != nil {
		fmt.Fprintf(w, "writer      SQLite writer busy %.0f %% of the run (%.1f s, %.1f s in COMMIT), %d batches of %.1f operations\n",
			wr.BusyFraction*100, wr.BusySeconds, wr.CommitSeconds, wr.Groups, wr.OperationsPerGroup)
	}
	if lm := r.Limit; lm != nil {
		fmt.Fprintf(w, "limit       SHA-256 of %d bytes + one RSA verification: %.1f µs", lm.DocumentBytes, lm.MicrosPerDocument)
		if lm.GatewayCPUInLimits > 0 {
			fmt.Fprintf(w, "; the gateway spent %.0f times that per document", lm.GatewayCPUInLimits)
		}
		fmt.Fprintln(w)
	}
	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "errors      none")
		return
	}
	var parts []string
	for k, n := range r.Errors {
		parts = append(parts, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(parts)
	fmt.Fprintf(w, "errors      %s\n", strings.Join(parts, ", "))
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
