package main_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edocgw/edocgw/internal/testenv"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// edocgwBinary builds the binary once per test run.
func edocgwBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "edocgw-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "edocgw")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// backend is where a gateway keeps its data.
type backend struct {
	name       string
	dbURL      string // empty: embedded SQLite
	archiveURL string // empty: embedded filesystem
}

// embedded is the default backend.
func embedded() backend { return backend{name: "embedded"} }

// production is PostgreSQL (a fresh database) and S3 (a bucket on the
// MinIO server, with object lock).
func production(t *testing.T, minio *testenv.MinIOServer, bucket string) backend {
	t.Helper()
	return backend{
		name:       "production",
		dbURL:      testenv.Postgres(t),
		archiveURL: fmt.Sprintf("s3://%s:%s@%s/%s?tls=false&lock=governance&retention=1", minio.AccessKey, minio.SecretKey, minio.Endpoint, bucket),
	}
}

// gateway is one `edocgw serve` process and its data folder.
type gateway struct {
	t       *testing.T
	bin     string
	data    string
	b       backend
	trust   string
	extra   []string
	listen  string
	url     string
	ca      string
	cmd     *exec.Cmd
	stderr  *testenv.SyncBuffer
	exited  chan error
	clients map[string]*http.Client
	// peerTok is the token file of the peer hub that sends to this one.
	peerTok string
}

// newGateway prepares (not starts) a gateway with its own data folder.
func newGateway(t *testing.T, b backend, trust string, extra ...string) *gateway {
	t.Helper()
	return &gateway{t: t, bin: edocgwBinary(t), data: t.TempDir(), b: b, trust: trust, extra: extra, listen: "127.0.0.1:0"}
}

// storeArgs are the flags that name the gateway's stores.
func (g *gateway) storeArgs() []string {
	args := []string{"--data", g.data}
	if g.b.dbURL != "" {
		args = append(args, "--database-url", g.b.dbURL)
	}
	return args
}

// start runs `edocgw serve` and waits for its URL. A restart listens on
// the same address.
func (g *gateway) start() {
	t := g.t
	t.Helper()
	args := append([]string{"serve", "--listen", g.listen}, g.storeArgs()...)
	if g.b.archiveURL != "" {
		args = append(args, "--archive-url", g.b.archiveURL)
	}
	if g.trust != "" {
		args = append(args, "--trust", g.trust)
	}
	args = append(args, g.extra...)
	cmd := exec.Command(g.bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	g.stderr = &testenv.SyncBuffer{}
	cmd.Stderr = g.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g.cmd, g.exited = cmd, make(chan error, 1)
	lines := bufio.NewScanner(stdout)
	found := make(chan string, 1)
	go func() {
		sent := false
		for lines.Scan() {
			if rest, ok := strings.CutPrefix(lines.Text(), "edocgw serving "); ok && !sent {
				found <- strings.Fields(rest)[0]
				sent = true
			}
		}
		if !sent {
			close(found)
		}
		g.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { g.kill() })
	select {
	case url, ok := <-found:
		if !ok {
			t.Fatalf("serve exited before printing its address:\n%s", g.stderr.String())
		}
		g.url = url
	case <-time.After(60 * time.Second):
		t.Fatalf("serve printed no address in 60 s:\n%s", g.stderr.String())
	}
	g.listen = strings.TrimPrefix(g.url, "https://")
	g.ca = filepath.Join(g.data, "pki", "hub-ca.pem")
	g.clients = map[string]*http.Client{}
}

// kill stops the process with SIGKILL (no clean shutdown).
func (g *gateway) kill() {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	_ = g.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-g.exited:
	case <-time.After(10 * time.Second):
	}
	g.cmd = nil
}

// edocgw runs a command of the binary and returns its stdout, stderr and
// exit code.
func runEdocgw(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(edocgwBinary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("edocgw %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// must runs a command that must succeed.
func must(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := runEdocgw(t, args...)
	if code != 0 {
		t.Fatalf("edocgw %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// admin runs an admin command on the gateway's stores.
func (g *gateway) admin(args ...string) string {
	g.t.Helper()
	return must(g.t, append(args, g.storeArgs()...)...)
}

// client runs a DMS-side command against the gateway.
func (g *gateway) client(args ...string) (string, string, int) {
	g.t.Helper()
	return runEdocgw(g.t, append(args, "--hub", g.url, "--ca", g.ca)...)
}

// httpClient is a client that trusts the gateway's CA.
func (g *gateway) httpClient() *http.Client {
	pool := x509.NewCertPool()
	b, err := os.ReadFile(g.ca)
	if err != nil || !pool.AppendCertsFromPEM(b) {
		g.t.Fatalf("hub CA: %v", err)
	}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 64}}
}

// do sends one API request with a bearer token; it returns the status and body.
func do(ctx context.Context, c *http.Client, method, url, token string, body []byte) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T: %v in %s", v, err, b)
	}
	return v
}

// eventually retries f until it returns nil or the time runs out.
func eventually(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
