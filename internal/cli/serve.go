package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/tsa"
	"github.com/edocgw/edocgw/internal/devpki"
	"github.com/edocgw/edocgw/internal/server"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/ui"
	"github.com/edocgw/edocgw/internal/vxp"
	"github.com/edocgw/edocgw/internal/vxp/upstream"
	"github.com/edocgw/edocgw/routing"
	"github.com/edocgw/edocgw/signing"
	"github.com/edocgw/edocgw/signing/revocation"
)

func runServe(args []string, env Env) error {
	f := newFlags("serve", "[--data DIR] [--listen ADDR] [--trust CA.pem]… [--database-url URL] [--archive-url URL] [--tls-cert C --tls-key K]", env)
	sf := addStoreFlags(f)
	listen := f.String("listen", "127.0.0.1:8443", "address to listen on (HTTPS)")
	archiveURL := f.String("archive-url", os.Getenv("EDOCGW_ARCHIVE_URL"), archiveHelp)
	certFile := f.String("tls-cert", "", "TLS certificate (default: the development PKI made in DIR/pki)")
	keyFile := f.String("tls-key", "", "TLS private key")
	var trust, pushCA, crls multi
	f.Var(&trust, "trust", "trust anchors for senders' signatures and agencies' TLS client certificates, PEM (repeatable)")
	f.Var(&pushCA, "push-ca", "CA certificates to trust for members' push endpoints, besides the system roots (repeatable)")
	f.Var(&crls, "crl", "CRL file for senders' certificates (repeatable)")
	ocsp := f.Bool("ocsp", false, "ask senders' OCSP responders")
	soft := f.Bool("soft-fail", false, "accept a sender certificate whose revocation status is unknown (logged)")
	sha1 := f.Bool("allow-sha1", false, "accept RSA-SHA1 signatures from legacy senders (recorded)")
	hubKey := f.String("hub-key", "", "the hub's signing key, PEM (default: made in DIR/pki)")
	hubCert := f.String("hub-cert", "", "the hub's signing certificate, PEM")
	maxPacket := f.Int64("max-packet", 64<<20, "largest packet accepted, bytes")
	retryBase := f.Duration("retry-base", 2*time.Second, "first retry delay of push and peer deliveries")
	retryMax := f.Duration("retry-max", 10*time.Minute, "longest retry delay")
	deadAfter := f.Duration("dead-after", 72*time.Hour, "a delivery not done by then is dead-lettered")
	workers := f.Int("workers", 8, "push and peer deliveries sent at once by this process")
	lease := f.Duration("lease", 2*time.Minute, "how long a process holds a delivery it is sending; another process retries it after that")
	tsaURL := f.String("tsa-url", "", "RFC 3161 time-stamping authority that timestamps each audit checkpoint (optional)")
	checkpointEvery := f.Duration("checkpoint-every", time.Minute, "sign a checkpoint of the audit chain's head this often (when it moved)")
	spool := f.String("spool-dir", "", "where request bodies over 1 MiB wait while checked (default: the system's temporary folder)")
	vf := addVXPServeFlags(f)
	procs := addProcsFlag(f)
	gcPercent := addGCFlag(f)
	if err := f.parseNone(args); err != nil {
		return err
	}
	if err := setProcs(*procs); err != nil {
		return err
	}
	if err := setGCPercent(*gcPercent); err != nil {
		return err
	}
	if (*certFile == "") != (*keyFile == "") {
		return usagef("serve: --tls-cert and --tls-key go together")
	}
	if (*hubKey == "") != (*hubCert == "") {
		return usagef("serve: --hub-key and --hub-cert go together")
	}
	data := sf.data
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	abs, _ := filepath.Abs(*data)
	caNote := ""
	if *certFile == "" {
		files, created, err := devpki.Ensure(*data, env.now())
		if err != nil {
			return fmt.Errorf("development PKI: %w", err)
		}
		*certFile, *keyFile = files.ServerCert, files.ServerKey
		verb := "using"
		if created {
			verb = "created"
		}
		caNote = fmt.Sprintf("%s the development PKI; clients trust %s", verb, files.CACert)
	}
	if *hubKey == "" {
		hs, err := devpki.EnsureHubSigner(*data, env.now())
		if err != nil {
			return fmt.Errorf("development hub key: %w", err)
		}
		*hubKey, *hubCert = hs.Key, hs.Cert
	}
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return fmt.Errorf("TLS: %w", err)
	}
	signer, err := readKey(*hubKey)
	if err != nil {
		return fmt.Errorf("hub key: %w", err)
	}
	signerCerts, err := readCerts(*hubCert)
	if err != nil {
		return fmt.Errorf("hub certificate: %w", err)
	}
	roots, err := certPool(trust)
	if err != nil {
		return err
	}
	pushRoots, err := x509.SystemCertPool()
	if err != nil {
		pushRoots = x509.NewCertPool()
	}
	if err := addCerts(pushRoots, pushCA); err != nil {
		return err
	}
	verifier := &signing.Verifier{Roots: roots, AllowSHA1: *sha1, Now: env.Now}
	if *soft {
		verifier.RevocationPolicy = signing.SoftFail
	}
	if len(crls) > 0 || *ocsp {
		rc, err := revocation.New(revocation.Config{CRLFiles: crls, OCSP: *ocsp, Now: env.Now})
		if err != nil {
			return err
		}
		verifier.Revocation = rc
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st, err := sf.open(ctx, gatewayStoreOptions(env))
	if err != nil {
		return fmt.Errorf("metadata store: %w", err)
	}
	defer st.Close()
	blobs, where, err := openArchive(ctx, *archiveURL, *data, *maxPacket, env.Now)
	if err != nil {
		return err
	}
	o := gatewayOptions{
		Hub: routing.Options{
			Store: st, Blobs: blobs, Verifier: verifier, MaxPacket: *maxPacket, SpoolDir: *spool,
			HubKey: signer, HubCert: signerCerts[0], PushRoots: pushRoots,
			RetryBase: *retryBase, RetryMax: *retryMax, DeadAfter: *deadAfter, Workers: *workers, Lease: *lease,
			Logger: logger, Now: env.Now,
		},
		Store: st, TLSCert: cert, ClientCAs: roots, CheckpointEvery: *checkpointEvery, Data: *data, VXP: &vf,
	}
	if *tsaURL != "" {
		o.TSA = &tsa.Client{URL: *tsaURL}
	}
	g, err := newGateway(ctx, o)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	storage := "embedded storage in " + abs
	if *sf.url != "" {
		storage = "PostgreSQL"
	}
	if *archiveURL != "" {
		storage += ", archive " + where
	}
	// Signals are caught before the address is printed: whoever reads it
	// may stop the server at once.
	fmt.Fprintf(env.Stdout, "edocgw serving https://%s (%s)\n", ln.Addr(), storage)
	if caNote != "" {
		fmt.Fprintln(env.Stdout, caNote)
	}
	if g.vxpNote != "" {
		fmt.Fprintln(env.Stdout, g.vxpNote)
	}
	if err := g.serve(ctx, ln); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "edocgw stopped")
	return nil
}

// certPool reads PEM certificate files into a new pool.
func certPool(files []string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if err := addCerts(pool, files); err != nil {
		return nil, err
	}
	return pool, nil
}

// addCerts adds the certificates of PEM files to pool.
func addCerts(pool *x509.CertPool, files []string) error {
	for _, p := range files {
		cs, err := readCerts(p)
		if err != nil {
			return err
		}
		for _, c := range cs {
			pool.AddCert(c)
		}
	}
	return nil
}

// gatewayOptions are what a running gateway is made of; serve and the
// in-process bench build one the same way.
type gatewayOptions struct {
	// Hub configures the hub; its Registerer is set by newGateway.
	Hub             routing.Options
	Store           *store.Store
	TLSCert         tls.Certificate
	ClientCAs       *x509.CertPool // agencies' client certificates
	CheckpointEvery time.Duration
	TSA             archive.Timestamper // optional
	Data            string              // the data folder (VXP's key file)
	VXP             *vxpServeFlags      // nil: the SDK protocol is not served
}

// gateway is the hub, its HTTP front (API, console, SDK protocol) and its
// background work (delivery worker, checkpointer).
type gateway struct {
	hub     *routing.Hub
	http    *http.Server
	cp      *archive.Checkpointer
	logger  *slog.Logger
	vxpNote string
	puller  *upstream.Puller // nil: no polling of vxp peers
}

func newGateway(ctx context.Context, o gatewayOptions) (*gateway, error) {
	logger := o.Hub.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(writerCollectors(o.Store)...)
	o.Hub.Registerer = reg
	var (
		vxpKey     *vxp.SecretKey
		vxpKeyFile string
		up         upstream.Config
	)
	if o.VXP != nil {
		// The key of VXP secrets: those of the systems we serve, and ours
		// at vxp peers, which the upstream forwards to and pulls from.
		var err error
		if vxpKey, vxpKeyFile, err = o.VXP.key(o.Data); err != nil {
			return nil, err
		}
		up = upstream.Config{Key: vxpKey, MaxPacket: o.Hub.MaxPacket, Now: o.Hub.Now}
		o.Hub.Upstreams = map[routing.PeerKind]routing.Upstream{routing.PeerVXP: &upstream.Forwarder{Config: up}}
	}
	hub, err := routing.New(o.Hub)
	if err != nil {
		return nil, err
	}
	srv, err := server.New(server.Config{Hub: hub, Tokens: o.Store, Registry: reg, MaxBody: o.Hub.MaxPacket, Now: o.Hub.Now, Logger: logger})
	if err != nil {
		return nil, err
	}
	console, err := ui.New(ui.Config{Hub: hub, Store: o.Store, Logger: logger})
	if err != nil {
		return nil, err
	}
	g := &gateway{hub: hub, logger: logger,
		cp: &archive.Checkpointer{Store: o.Store, Key: o.Hub.HubKey, Interval: o.CheckpointEvery, TSA: o.TSA, Now: o.Hub.Now, Logger: logger}}
	g.http = &http.Server{
		Handler: ui.Mount(console, srv), // /ui/… is the web console, the rest the API
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{o.TLSCert},
			// Agencies may authenticate with a certificate from a trusted CA
			// that the directory binds to them; tokens work without one.
			ClientAuth: tls.VerifyClientCertIfGiven,
			ClientCAs:  o.ClientCAs,
		},
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if o.VXP != nil && *o.VXP.poll > 0 {
		g.puller = &upstream.Puller{Config: up, Hub: hub, Store: o.Store, Interval: *o.VXP.poll, Logger: logger}
	}
	if o.VXP != nil {
		// The national axis's SDK protocol in front of everything else.
		if g.http.Handler, g.vxpNote, err = o.VXP.mount(g.http.Handler, hub, o.Store, vxpKey, vxpKeyFile, o.Hub.MaxPacket, o.Hub.SpoolDir, reg, logger, o.Hub.Now); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// serve runs the gateway on ln until ctx is done, then shuts it down:
// requests finish, the worker and checkpointer stop, and a last checkpoint
// covers what this process wrote.
func (g *gateway) serve(ctx context.Context, ln net.Listener) error {
	workCtx, stopWork := context.WithCancel(context.Background())
	workDone := make(chan error, 1)
	go func() { workDone <- g.hub.Run(workCtx) }()
	cpDone := make(chan struct{})
	go func() { g.cp.Run(workCtx); close(cpDone) }()
	pullDone := make(chan struct{})
	go func() {
		defer close(pullDone)
		if g.puller != nil {
			g.puller.Run(workCtx)
		}
	}()
	defer func() { <-pullDone }()
	errc := make(chan error, 1)
	go func() { errc <- g.http.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		stopWork()
		<-workDone
		<-cpDone
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := g.http.Shutdown(shutdown)
	stopWork()
	<-workDone
	<-cpDone
	if _, cerr := g.cp.Checkpoint(shutdown); cerr != nil && !errors.Is(cerr, archive.ErrEmptyChain) {
		g.logger.Warn("final audit checkpoint", "err", cerr)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
