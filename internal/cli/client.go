package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode"

	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/routing"
)

// The DMS-side client of the hub's HTTP API (design §5): send, status,
// inbox, fetch and trace.

const (
	defaultHubURL = "https://127.0.0.1:8443"
	// hubUsage is the part of the usage line every client command shares.
	hubUsage = "[--hub URL] [--token-file F | --cert C --key K] [--ca CA.pem | --insecure]"
	// maxJSONAnswer bounds a JSON answer of the hub; maxProblem a problem.
	maxJSONAnswer = 64 << 20
	maxProblem    = 1 << 20
	// expectContinueAbove: larger uploads wait for 100 Continue, so that a
	// refusal (401, 413) comes before the body is sent.
	expectContinueAbove = 1 << 20
)

// hubFlags are the connection flags of the client commands.
type hubFlags struct {
	hub, tokenFile, cert, key, ca *string
	insecure                      *bool
	timeout                       *time.Duration
}

func addHubFlags(f *flags) *hubFlags {
	return &hubFlags{
		hub:       f.String("hub", "", "the hub's API base URL (default $EDOCGW_HUB, else "+defaultHubURL+")"),
		tokenFile: f.String("token-file", "", "file holding the bearer token of the agency"),
		cert:      f.String("cert", "", "client certificate, PEM, for mutual TLS (with --key)"),
		key:       f.String("key", "", "private key of --cert, PEM"),
		ca:        f.String("ca", "", "trust only the CA certificates in this PEM file for the hub's TLS certificate (default: the system roots)"),
		insecure:  f.Bool("insecure", false, "do not verify the hub's TLS certificate (a local test hub only)"),
		timeout:   f.Duration("timeout", 2*time.Minute, "give up when the hub sends or takes nothing for this long (its answer, or a body in transit)"),
	}
}

// hubClient talks to the hub: authentication, TLS and problem decoding
// live here.
type hubClient struct {
	base  *url.URL
	token string
	hc    *http.Client
	stall time.Duration
	// certAsked: the hub asked for a client certificate; withCert: we
	// have one to give.
	certAsked atomic.Bool
	withCert  bool
}

// client builds the client the flags describe; a wrong combination is a
// usage error.
func (h *hubFlags) client() (*hubClient, error) {
	raw := *h.hub
	if raw == "" {
		raw = os.Getenv("EDOCGW_HUB")
	}
	if raw == "" {
		raw = defaultHubURL
	}
	base, err := url.Parse(raw)
	if err != nil || base.Scheme != "https" || base.Host == "" || base.RawQuery != "" || base.Fragment != "" {
		return nil, usagef("--hub %q: want an https:// URL without query", raw)
	}
	if *h.ca != "" && *h.insecure {
		return nil, usagef("--ca and --insecure exclude each other")
	}
	if (*h.cert == "") != (*h.key == "") {
		return nil, usagef("--cert and --key go together")
	}
	if *h.timeout <= 0 {
		return nil, usagef("--timeout must be positive")
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: *h.insecure}
	if *h.ca != "" {
		certs, err := readCerts(*h.ca)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = x509.NewCertPool()
		for _, c := range certs {
			tc.RootCAs.AddCert(c)
		}
	}
	c := &hubClient{base: base, stall: *h.timeout}
	kp := &tls.Certificate{} // none
	if *h.cert != "" {
		if *kp, err = tls.LoadX509KeyPair(*h.cert, *h.key); err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		c.withCert = true
	}
	tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		c.certAsked.Store(true)
		return kp, nil
	}
	if *h.tokenFile != "" {
		b, err := os.ReadFile(*h.tokenFile)
		if err != nil {
			return nil, err
		}
		c.token = strings.TrimSpace(string(b))
		if c.token == "" {
			return nil, fmt.Errorf("%s: empty token", *h.tokenFile)
		}
		if strings.ContainsFunc(c.token, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			return nil, fmt.Errorf("%s: the token holds characters a header cannot carry", *h.tokenFile)
		}
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: *h.timeout,
		ExpectContinueTimeout: 2 * time.Second,
		// HTTP/1.1: one request at a time needs no more, and HTTP/2
		// loses the TLS alert of a hub refusing a client certificate.
		ForceAttemptHTTP2: false,
		IdleConnTimeout:   90 * time.Second,
	}
	c.hc = &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return errors.New("refusing a redirect to a non-https URL")
		}
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return nil
	}}
	return c, nil
}

// endpoint is the API URL of the path segments, each escaped.
func (c *hubClient) endpoint(q url.Values, segs ...string) string {
	u := *c.base
	p := strings.TrimSuffix(u.Path, "/")
	rp := strings.TrimSuffix(u.EscapedPath(), "/")
	for _, s := range segs {
		p += "/" + s
		rp += "/" + url.PathEscape(s)
	}
	u.Path, u.RawPath = p, rp
	u.RawQuery = q.Encode()
	return u.String()
}

// do sends a request and returns a 2xx response, whose body the caller
// closes. Any other answer is a *hubProblem; a failure to get one is an
// *unavailableError or a TLS trust error.
func (c *hubClient) do(ctx context.Context, method, target string, body io.Reader, size int64, ctype, accept string) (*http.Response, error) {
	ctx, g := newStallGuard(ctx, c.stall)
	if body != nil {
		body = &guardedReader{r: body, g: g}
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		g.close()
		return nil, err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if size > expectContinueAbove {
		req.Header.Set("Expect", "100-continue")
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "edocgw-client")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		err = g.wrap(err)
		g.close()
		return nil, c.classify(err)
	}
	resp.Body = &guardedBody{rc: resp.Body, g: g}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, readProblem(resp)
	}
	return resp, nil
}

// getJSON does a request and returns the 2xx JSON answer.
func (c *hubClient) getJSON(ctx context.Context, method, target string) (json.RawMessage, error) {
	resp, err := c.do(ctx, method, target, nil, 0, "", "application/json, application/problem+json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONAnswer+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxJSONAnswer {
		return nil, fmt.Errorf("the hub's answer exceeds %d bytes", maxJSONAnswer)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, fmt.Errorf("the hub answered with invalid JSON: %w", err)
	}
	return out.Bytes(), nil
}

// stallGuard cancels a request when no byte moves for d: while it is
// sent, while the answer is awaited and while the answer's body is read.
type stallGuard struct {
	ctx    context.Context
	d      time.Duration
	t      *time.Timer
	cancel context.CancelCauseFunc
}

// stallError is why a stalled request was cancelled.
type stallError struct{ d time.Duration }

func (e *stallError) Error() string { return fmt.Sprintf("nothing moved for %s (--timeout)", e.d) }

func newStallGuard(parent context.Context, d time.Duration) (context.Context, *stallGuard) {
	ctx, cancel := context.WithCancelCause(parent)
	g := &stallGuard{ctx: ctx, d: d, cancel: cancel}
	g.t = time.AfterFunc(d, func() { cancel(&stallError{d}) })
	return ctx, g
}

func (g *stallGuard) kick() { g.t.Reset(g.d) }

func (g *stallGuard) close() {
	g.t.Stop()
	g.cancel(nil)
}

// wrap replaces the transport's "context canceled" by the stall.
func (g *stallGuard) wrap(err error) error {
	var se *stallError
	if cause := context.Cause(g.ctx); errors.As(cause, &se) {
		return se
	}
	return err
}

type guardedReader struct {
	r io.Reader
	g *stallGuard
}

func (r *guardedReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.g.kick()
	return n, err
}

// guardedBody is a response body under a stallGuard; a failed read is
// an *unavailableError.
type guardedBody struct {
	rc io.ReadCloser
	g  *stallGuard
}

func (b *guardedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.g.kick()
	if err != nil && err != io.EOF {
		err = &unavailableError{b.g.wrap(err)}
	}
	return n, err
}

func (b *guardedBody) Close() error {
	err := b.rc.Close()
	b.g.close()
	return err
}

// unavailableError: the hub could not be reached or the connection broke.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// classify sorts a transport failure: an untrusted or refusing TLS peer
// is a configuration problem; anything else makes the hub unavailable.
func (c *hubClient) classify(err error) error {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return fmt.Errorf("the hub's TLS certificate is not trusted (give --ca CA.pem, or --insecure for a local test hub): %w", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "remote error" { // no TLS alert
		return &unavailableError{err}
	}
	switch {
	case c.certAsked.Load() && !c.withCert:
		return fmt.Errorf("the hub asks for a client certificate (--cert C --key K): %w", err)
	case c.certAsked.Load():
		return fmt.Errorf("the hub refused the TLS connection (does it trust --cert?): %w", err)
	}
	return fmt.Errorf("the hub refused the TLS connection: %w", err)
}

// hubProblem is an answer other than 2xx: an RFC 9457 problem, or what
// stands for one when the body is something else.
type hubProblem struct {
	Status  int
	Type    string
	Title   string
	Detail  string
	FirstID string
	Errors  []problemItem
	raw     json.RawMessage // the body when it is a JSON object
}

// problemItem is an entry of an invalid-envelope problem's errors[].
type problemItem struct {
	Path    string `json:"path"`
	Error   string `json:"error"`
	Message string `json:"message"`
}

func readProblem(resp *http.Response) *hubProblem {
	p := &hubProblem{Status: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxProblem))
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		if line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n"); len(line) <= 200 {
			p.Detail = line
		}
		return p
	}
	var out bytes.Buffer
	_ = json.Compact(&out, b)
	p.raw = out.Bytes()
	for k, dst := range map[string]*string{"type": &p.Type, "title": &p.Title, "detail": &p.Detail, "firstId": &p.FirstID} {
		_ = json.Unmarshal(m[k], dst)
	}
	_ = json.Unmarshal(m["errors"], &p.Errors)
	return p
}

// Name is the problem type's last path segment (signature-required), or
// http-STATUS for an untyped answer.
func (p *hubProblem) Name() string {
	u, err := url.Parse(p.Type)
	if p.Type == "" || p.Type == "about:blank" || err != nil {
		return "http-" + strconv.Itoa(p.Status)
	}
	if base := path.Base(u.Path); u.Path != "" && base != "/" && base != "." {
		return base
	}
	return p.Type
}

// Text is the detail, else the title, on one line.
func (p *hubProblem) Text() string {
	switch {
	case p.Detail != "":
		return oneLine(p.Detail)
	case p.Title != "":
		return oneLine(p.Title)
	}
	return http.StatusText(p.Status)
}

func (p *hubProblem) Error() string { return p.Name() + ": " + p.Text() }

// unavailable: retry later (5xx, 429).
func (p *hubProblem) unavailable() bool {
	return p.Status >= 500 || p.Status == http.StatusTooManyRequests
}

// MarshalJSON writes the problem as the hub sent it.
func (p *hubProblem) MarshalJSON() ([]byte, error) {
	if p.raw != nil {
		return p.raw, nil
	}
	m := map[string]any{"status": p.Status, "title": http.StatusText(p.Status)}
	if p.Detail != "" {
		m["detail"] = p.Detail
	}
	return json.Marshal(m)
}

// hubFailure reports a failed call: UNAVAILABLE on stderr (exit 1) when
// the hub cannot answer now; otherwise the error, for Main to print.
func hubFailure(env Env, err error) error {
	var ue *unavailableError
	var hp *hubProblem
	if errors.As(err, &ue) || errors.As(err, &hp) && hp.unavailable() {
		fmt.Fprintf(env.Stderr, "UNAVAILABLE: %v\n", err)
		return &silentError{ExitInput}
	}
	return err
}

// oneLine replaces control characters (line breaks) by spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// checkID refuses an id that is no single path segment.
func checkID(cmd, what, id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/?#") {
		return usagef("%s: %q is not a %s", cmd, id, what)
	}
	return nil
}

func runSend(args []string, env Env) error   { return sendPacket("send", args, env) }
func runStatus(args []string, env Env) error { return sendPacket("status", args, env) }

// sendPacket posts a packet: send takes any packet, status only a status
// packet.
func sendPacket(name string, args []string, env Env) error {
	f := newFlags(name, hubUsage+" [--json] FILE", env)
	hf := addHubFlags(f)
	asJSON := f.Bool("json", false, "print the receipt (or the problem) as one JSON line")
	arg, err := f.parseOne(args, "exactly one FILE")
	if err != nil {
		return err
	}
	c, err := hf.client()
	if err != nil {
		return err
	}
	file, size, err := openSized(arg)
	if err != nil {
		return err
	}
	defer file.Close()
	if fi, err := file.Stat(); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", arg)
	}
	if name == "status" {
		// A packet that does not parse goes to the hub, which says why.
		if p, err := envelope.ParseReaderAt(file, size, envelope.Options{}); err == nil && p.Kind() != envelope.KindStatus {
			return fmt.Errorf("%s is a %s packet, not a status packet (edocgw send sends it)", arg, p.Kind())
		}
	}
	resp, err := c.do(context.Background(), http.MethodPost, c.endpoint(nil, "v1", "documents"),
		io.NewSectionReader(file, 0, size), size, "application/xml", "application/json, application/problem+json")
	var hp *hubProblem
	switch {
	case errors.As(err, &hp) && *asJSON:
		if err := writeJSONLine(env.Stdout, hp); err != nil {
			return err
		}
		if !hp.unavailable() {
			return &silentError{ExitInput}
		}
	case errors.As(err, &hp) && hp.Status == http.StatusConflict && hp.FirstID != "":
		fmt.Fprintf(env.Stdout, "DUPLICATE %s\n", hp.FirstID)
		return &silentError{ExitInput}
	case errors.As(err, &hp) && !hp.unavailable():
		fmt.Fprintf(env.Stdout, "REJECTED: %s: %s\n", hp.Name(), hp.Text())
		for _, e := range hp.Errors {
			fmt.Fprintln(env.Stderr, oneLine(e.line()))
		}
		return &silentError{ExitInput}
	}
	if err != nil {
		return hubFailure(env, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONAnswer))
	if err != nil {
		return hubFailure(env, err)
	}
	var rc routing.Receipt
	if err := json.Unmarshal(b, &rc); err != nil || rc.ID == "" {
		return fmt.Errorf("the hub accepted the packet (HTTP %d) but its receipt is unreadable: %q", resp.StatusCode, truncate(b, 200))
	}
	if *asJSON {
		var out bytes.Buffer
		_ = json.Compact(&out, b)
		_, err := fmt.Fprintf(env.Stdout, "%s\n", out.Bytes())
		return err
	}
	fmt.Fprintf(env.Stdout, "ACCEPTED %s\n", rc.ID)
	for _, w := range rc.Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", oneLine(w))
	}
	for _, r := range rc.Recipients {
		if r.Note != "" {
			fmt.Fprintf(env.Stderr, "note: %s: %s\n", r.Agency, oneLine(r.Note))
		}
	}
	return nil
}

// line is path: message, without repeating a path the message has.
func (e problemItem) line() string {
	msg := e.Message
	if msg == "" {
		msg = e.Error
	}
	if e.Path == "" || strings.HasPrefix(msg, e.Path+": ") {
		return msg
	}
	return e.Path + ": " + msg
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func runInbox(args []string, env Env) error {
	f := newFlags("inbox", hubUsage+" [--limit N] [--json]", env)
	hf := addHubFlags(f)
	limit := f.Int("limit", 0, "page size asked of the hub (default: the hub's)")
	asJSON := f.Bool("json", false, "print one JSON line per delivery")
	if err := f.parseNone(args); err != nil {
		return err
	}
	if *limit < 0 {
		return usagef("inbox: --limit must not be negative")
	}
	c, err := hf.client()
	if err != nil {
		return err
	}
	ctx := context.Background()
	after := ""
	for {
		q := url.Values{}
		if after != "" {
			q.Set("after", after)
		}
		if *limit > 0 {
			q.Set("limit", strconv.Itoa(*limit))
		}
		b, err := c.getJSON(ctx, http.MethodGet, c.endpoint(q, "v1", "inbox"))
		if err != nil {
			return hubFailure(env, err)
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return fmt.Errorf("the hub's inbox page is unreadable: %w", err)
		}
		for _, raw := range page.Items {
			if *asJSON {
				fmt.Fprintf(env.Stdout, "%s\n", raw)
				continue
			}
			var e routing.InboxEntry
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("the hub's inbox entry is unreadable: %w", err)
			}
			fmt.Fprintln(env.Stdout, inboxLine(e))
		}
		if page.Next == "" {
			return nil
		}
		if page.Next == after {
			return fmt.Errorf("the hub repeated the inbox cursor %q", after)
		}
		after = page.Next
	}
}

// inboxLine is DELIVERY-ID DOCUMENT-ID FROM SUBJECT.
func inboxLine(e routing.InboxEntry) string {
	subject := e.Subject
	if e.Kind == "status" {
		subject = "status " + e.StatusCode + " about " + e.EdxmlID
	}
	return strings.TrimRight(fmt.Sprintf("%s %s %s %s", e.DeliveryID, e.DocumentID, e.From, oneLine(subject)), " ")
}

// fetchJSON is fetch's --json record.
type fetchJSON struct {
	DeliveryID string          `json:"deliveryId"`
	DocumentID string          `json:"documentId,omitempty"`
	Bytes      int64           `json:"bytes"`
	File       string          `json:"file"`
	Ack        json.RawMessage `json:"ack,omitempty"` // the routing.DeliveryInfo
}

func runFetch(args []string, env Env) error {
	f := newFlags("fetch", hubUsage+" -o FILE [--ack] [--json] DELIVERY-ID", env)
	hf := addHubFlags(f)
	out := f.String("o", "", "write the original packet to FILE, which appears only once complete (mode 0600); - writes it to standard output and the report to stderr")
	ack := f.Bool("ack", false, "acknowledge the delivery once FILE is written")
	asJSON := f.Bool("json", false, "print the result as one JSON line")
	arg, err := f.parseOne(args, "exactly one DELIVERY-ID")
	if err != nil {
		return err
	}
	id := arg
	if err := checkID("fetch", "delivery id", id); err != nil {
		return err
	}
	if *out == "" {
		return usagef("fetch: -o FILE is required (- for standard output)")
	}
	c, err := hf.client()
	if err != nil {
		return err
	}
	// An interrupt cancels the download, which removes the temporary file.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	resp, err := c.do(ctx, http.MethodGet, c.endpoint(nil, "v1", "deliveries", id), nil, 0, "", "application/xml, application/problem+json")
	if err != nil {
		return hubFailure(env, err)
	}
	rec := fetchJSON{DeliveryID: id, DocumentID: resp.Header.Get("Edocgw-Document-Id"), File: *out}
	// The bytes are checked against the hub's Repr-Digest as they arrive:
	// a mismatch fails the fetch and leaves no file.
	body := checkedBody(resp)
	// Notes go to stderr when the packet goes to stdout.
	notes := env.Stdout
	if *out == "-" {
		notes = env.Stderr
		rec.Bytes, err = io.Copy(env.Stdout, body)
	} else {
		rec.Bytes, err = writeAtomic(*out, body, resp.ContentLength)
	}
	resp.Body.Close()
	if err != nil {
		return hubFailure(env, err)
	}
	docID := rec.DocumentID
	if docID == "" {
		docID = "-"
	}
	if !*asJSON {
		fmt.Fprintf(notes, "FETCHED %s %s %d\n", id, docID, rec.Bytes)
	}
	if *ack {
		b, aerr := c.getJSON(ctx, http.MethodPost, c.endpoint(nil, "v1", "deliveries", id, "ack"))
		if aerr != nil {
			err = fmt.Errorf("ack: %w", aerr)
		} else if !*asJSON {
			fmt.Fprintf(notes, "ACKED %s\n", id)
		}
		rec.Ack = b
	}
	if *asJSON {
		if werr := writeJSONLine(notes, rec); werr != nil {
			return werr
		}
	}
	if err != nil {
		return hubFailure(env, err)
	}
	return nil
}

// checkedBody returns the response body, verified against its Repr-Digest
// (RFC 9530, sha-256) at the end when the hub sent one.
func checkedBody(resp *http.Response) io.Reader {
	v := resp.Header.Get("Repr-Digest")
	b64, ok := strings.CutPrefix(v, "sha-256=:")
	if !ok || !strings.HasSuffix(b64, ":") {
		return resp.Body
	}
	want, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(b64, ":"))
	if err != nil || len(want) != sha256.Size {
		return resp.Body
	}
	return &digestReader{r: resp.Body, h: sha256.New(), want: want}
}

// errDigestMismatch: the bytes received are not those the hub archived.
var errDigestMismatch = errors.New("the bytes received do not match the hub's Repr-Digest (sha-256)")

type digestReader struct {
	r    io.Reader
	h    hash.Hash
	want []byte
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	if errors.Is(err, io.EOF) && !bytes.Equal(d.h.Sum(nil), d.want) {
		return n, errDigestMismatch
	}
	return n, err
}

// writeAtomic writes r to dst through writeFileAtomic; on any failure
// dst is untouched. want is the expected length, -1 if unknown.
func writeAtomic(dst string, r io.Reader, want int64) (n int64, err error) {
	err = writeFileAtomic(dst, func(w io.Writer) error {
		if n, err = io.Copy(w, r); err != nil {
			return err
		}
		if want >= 0 && n != want {
			return &unavailableError{fmt.Errorf("got %d of %d bytes", n, want)}
		}
		return nil
	})
	return n, err
}

func runTrace(args []string, env Env) error {
	f := newFlags("trace", hubUsage+" [--json] DOCUMENT-ID", env)
	hf := addHubFlags(f)
	asJSON := f.Bool("json", false, "print the trace as one JSON line")
	arg, err := f.parseOne(args, "exactly one DOCUMENT-ID")
	if err != nil {
		return err
	}
	if err := checkID("trace", "document id", arg); err != nil {
		return err
	}
	c, err := hf.client()
	if err != nil {
		return err
	}
	b, err := c.getJSON(context.Background(), http.MethodGet, c.endpoint(nil, "v1", "documents", arg, "trace"))
	if err != nil {
		return hubFailure(env, err)
	}
	if *asJSON {
		_, err := fmt.Fprintf(env.Stdout, "%s\n", b)
		return err
	}
	var t routing.Trace
	if err := json.Unmarshal(b, &t); err != nil {
		return fmt.Errorf("the hub's trace is unreadable: %w", err)
	}
	_, err = io.WriteString(env.Stdout, formatTrace(&t))
	return err
}

// vnTime is a time of the timeline, in Vietnam time.
func vnTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(envelope.VietnamTime).Format("2006-01-02 15:04:05")
}

// formatTrace writes the document line, its steps, then per recipient a
// header and its steps and statuses in time order.
func formatTrace(t *routing.Trace) string {
	var b strings.Builder
	d := t.Document
	line := []string{vnTime(d.ReceivedAt), orDash(d.Kind), d.ID, "from=" + orDash(string(d.From))}
	add := func(k, v string) {
		if v != "" {
			line = append(line, k+"="+quoteIfSpace(oneLine(v)))
		}
	}
	add("status", d.StatusCode)
	add("edxml", d.EdxmlID)
	add("number", strings.Trim(d.Number+"/"+d.Notation, "/"))
	if d.Business != 0 {
		add("business", strconv.Itoa(d.Business))
	}
	add("ref", d.Ref)
	add("size", strconv.FormatInt(d.Size, 10))
	add("subject", d.Subject)
	b.WriteString(strings.Join(line, " ") + "\n")
	for _, s := range t.Steps {
		b.WriteString(stepLine(s) + "\n")
	}
	for _, r := range t.Recipients {
		h := fmt.Sprintf("%s route=%s state=%s attempts=%d", r.Agency, orDash(string(r.Route)), orDash(string(r.State)), r.Attempts)
		for _, kv := range [][2]string{{"peer", r.Peer}, {"delivery", r.DeliveryID}, {"remote", r.Remote}, {"last-error", r.LastError}} {
			if kv[1] != "" {
				h += " " + kv[0] + "=" + quoteIfSpace(oneLine(kv[1]))
			}
		}
		b.WriteString(h + "\n")
		type entry struct {
			at   time.Time
			text string
		}
		var es []entry
		for _, s := range r.Steps {
			es = append(es, entry{s.At, stepLine(s)})
		}
		for _, s := range r.Statuses {
			es = append(es, entry{s.At, statusLine(s)})
		}
		slices.SortStableFunc(es, func(a, b entry) int { return a.at.Compare(b.at) })
		for _, e := range es {
			b.WriteString("  " + e.text + "\n")
		}
	}
	return b.String()
}

// stepLine is TIME STEP DETAIL.
func stepLine(s routing.Step) string {
	var parts []string
	if s.Detail != "" {
		parts = append(parts, oneLine(s.Detail))
	}
	if s.Actor != "" {
		parts = append(parts, "by "+s.Actor)
	}
	if s.Attempt > 0 {
		parts = append(parts, "attempt "+strconv.Itoa(s.Attempt))
	}
	if s.Error != "" {
		parts = append(parts, "error: "+oneLine(s.Error))
	}
	return strings.TrimRight(vnTime(s.At)+" "+s.Step+" "+strings.Join(parts, ", "), " ")
}

// statusLine is TIME status 01 (Đã đến / arrived) from AGENCY[: DESCRIPTION].
func statusLine(s routing.StatusEntry) string {
	vi, en := s.NameVI, s.Name
	if vi == "" && en == "" {
		if n, err := strconv.Atoi(s.Code); err == nil && envelope.StatusCode(n).Known() {
			vi, en = envelope.StatusCode(n).NameVI(), envelope.StatusCode(n).NameEN()
		}
	}
	names := strings.Join(slices.DeleteFunc([]string{vi, en}, func(s string) bool { return s == "" }), " / ")
	l := vnTime(s.At) + " status " + s.Code
	if names != "" {
		l += " (" + names + ")"
	}
	l += " from " + string(s.From)
	if s.Description != "" {
		l += ": " + oneLine(s.Description)
	}
	return l
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
