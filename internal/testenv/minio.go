package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	minioReadyTimeout = 30 * time.Second
	minioStopTimeout  = 10 * time.Second
	minioHowTo        = "go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c " +
		"(takes some minutes), or point EDOCGW_MINIO at a minio binary"
)

// MinIOServer is a running MinIO server.
type MinIOServer struct {
	Endpoint  string // 127.0.0.1:PORT
	AccessKey string // root user
	SecretKey string // root password
}

// MinIO starts a MinIO server on a free loopback port with an empty data
// directory and random root credentials, waits until it is ready and stops
// it when the test ends. Its output goes to the test log only if the test
// failed.
func MinIO(t testing.TB) *MinIOServer {
	t.Helper()
	bin, err := minioBinary()
	if err != nil {
		unavailable(t, "no MinIO server binary", fmt.Sprintf("%v; %s", err, minioHowTo))
		return nil // unreachable in real tests: unavailable ends the test
	}
	var lastErr error
	for range 3 { // another process may take the free port first
		srv, err := startMinIO(t, bin)
		if err == nil {
			return srv
		}
		lastErr = err
	}
	t.Fatalf("testenv: starting MinIO (%s): %v", bin, lastErr)
	return nil
}

// minioBinary finds the minio executable.
func minioBinary() (string, error) {
	if p := os.Getenv("EDOCGW_MINIO"); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("EDOCGW_MINIO=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	p := filepath.Join(goPath(), "bin", "minio")
	if err := executable(p); err != nil {
		return "", fmt.Errorf("not on PATH nor at %s", p)
	}
	return p, nil
}

func executable(p string) error {
	info, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

var goPath = sync.OnceValue(func() string {
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		if p, _, _ := strings.Cut(strings.TrimSpace(string(out)), string(filepath.ListSeparator)); p != "" {
			return p
		}
	}
	return build.Default.GOPATH
})

func startMinIO(t testing.TB, bin string) (*MinIOServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	srv := &MinIOServer{
		Endpoint:  net.JoinHostPort("127.0.0.1", port),
		AccessKey: "edocgw-" + randomHex(6),
		SecretKey: randomHex(20),
	}
	cmd := exec.Command(bin, "server", "--quiet", "--anonymous",
		"--address", srv.Endpoint,
		"--certs-dir", filepath.Join(dir, "certs"),
		filepath.Join(dir, "data"))
	cmd.Env = append(withoutMinIOEnv(os.Environ()),
		"MINIO_ROOT_USER="+srv.AccessKey,
		"MINIO_ROOT_PASSWORD="+srv.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=1", // no interactive hints
	)
	out := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()

	stop := func() {
		select {
		case <-exited:
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(minioStopTimeout):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	if err := waitReady(srv.Endpoint, exited); err != nil {
		stop()
		return nil, fmt.Errorf("%w; output:\n%s", err, out)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("testenv: MinIO at %s (%s, exit: %v), its output:\n%s", srv.Endpoint, bin, waitErr, out)
		}
	})
	return srv, nil
}

// waitReady polls until the server is ready (200 from /minio/health/ready,
// which MinIO also answers while its object layer is still offline, saying
// so in a header) and its object layer, bucket metadata and IAM are up (200
// from /minio/health/cluster), the process exits or the time is up.
func waitReady(endpoint string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), minioReadyTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	ok := func(path string) bool {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+endpoint+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK && resp.Header.Get("X-Minio-Server-Status") == ""
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if ok("/minio/health/ready") && ok("/minio/health/cluster") {
			return nil
		}
		select {
		case <-exited:
			return errors.New("MinIO exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("MinIO not ready after %v", minioReadyTimeout)
		case <-tick.C:
		}
	}
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

func withoutMinIOEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "MINIO_") {
			out = append(out, kv)
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// SyncBuffer is a bytes.Buffer that several goroutines may write (a
// server's output streams, a logger).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
