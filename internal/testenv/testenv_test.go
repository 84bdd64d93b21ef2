package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func TestMinIO(t *testing.T) {
	var endpoint string
	t.Run("run", func(t *testing.T) {
		srv := MinIO(t)
		endpoint = srv.Endpoint
		host, _, err := net.SplitHostPort(srv.Endpoint)
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("Endpoint %q, want 127.0.0.1:PORT", srv.Endpoint)
		}
		ctx := context.Background()
		c, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.MakeBucket(ctx, "bucket", minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
			t.Fatalf("MakeBucket with object lock: %v", err)
		}
		want := []byte("hello")
		if _, err := c.PutObject(ctx, "bucket", "k", bytes.NewReader(want), int64(len(want)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		o, err := c.GetObject(ctx, "bucket", "k", minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(o)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("read back %q, %v; want %q", got, err, want)
		}
		o.Close()

		bad, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4("minioadmin", "minioadmin", "")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bad.ListBuckets(ctx); err == nil {
			t.Error("the default credentials minioadmin work; want random ones")
		}
	})
	if endpoint == "" {
		return // skipped
	}
	if c, err := net.DialTimeout("tcp", endpoint, time.Second); err == nil {
		c.Close()
		t.Errorf("MinIO still listens on %s after the test ended", endpoint)
	}
}

func TestMinIOTwoServers(t *testing.T) {
	a, b := MinIO(t), MinIO(t)
	if a.Endpoint == b.Endpoint || a.AccessKey == b.AccessKey || a.SecretKey == b.SecretKey {
		t.Errorf("two servers share endpoint or credentials: %+v %+v", a, b)
	}
}

func TestPostgres(t *testing.T) {
	ctx := context.Background()
	var dsns []string
	var leftOpen *pgx.Conn
	t.Run("run", func(t *testing.T) {
		for range 2 {
			dsn := Postgres(t)
			dsns = append(dsns, dsn)
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			var name string
			var tables int
			if err := conn.QueryRow(ctx, "SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')").Scan(&name, &tables); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(name, "edocgw_t_") || !strings.Contains(dsn, "/"+name+"?") || tables != 0 {
				t.Errorf("database %q (%d tables) for DSN %s; want a fresh edocgw_t_*", name, tables, dsn)
			}
			if _, err := conn.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)"); err != nil {
				t.Fatal(err)
			}
			leftOpen = conn // still open at cleanup: the drop must force it
		}
		if dsns[0] == dsns[1] {
			t.Errorf("two calls gave the same database %s", dsns[0])
		}
	})
	if leftOpen == nil {
		return // skipped
	}
	defer leftOpen.Close(ctx)
	admin, err := pgx.Connect(ctx, DefaultPostgres)
	if err != nil {
		admin, err = pgx.Connect(ctx, fallbackPostgres)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, dsn := range dsns {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", cfg.Database).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("database %s still exists after the test ended", cfg.Database)
		}
	}
}

// recorder is a testing.TB that records how a helper ended the test.
type recorder struct {
	testing.TB
	mu               sync.Mutex
	skipped, fataled bool
	msg              string
}

func (r *recorder) Helper() {}

func (r *recorder) Skip(args ...any) {
	r.end(&r.skipped, fmt.Sprint(args...))
}

func (r *recorder) Skipf(format string, args ...any) {
	r.end(&r.skipped, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.end(&r.fataled, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatal(args ...any) { r.end(&r.fataled, fmt.Sprint(args...)) }

func (r *recorder) end(flag *bool, msg string) {
	r.mu.Lock()
	*flag, r.msg = true, msg
	r.mu.Unlock()
	runtime.Goexit()
}

// run calls f with a recorder in its own goroutine, as a test would.
func run(t *testing.T, f func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); f(r) }()
	<-done
	return r
}

func TestUnavailable(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		start    func(testing.TB)
		wantSkip bool
		wantMsg  string
	}{
		{"minio missing", map[string]string{"CI": "", "EDOCGW_MINIO": "/nonexistent/minio"},
			func(t testing.TB) { MinIO(t) }, true, "SKIPPED: no MinIO server binary"},
		{"minio missing under CI", map[string]string{"CI": "true", "EDOCGW_MINIO": "/nonexistent/minio"},
			func(t testing.TB) { MinIO(t) }, false, "go install github.com/minio/minio@"},
		{"postgres unreachable", map[string]string{"CI": "", "EDOCGW_TEST_POSTGRES": "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"},
			func(t testing.TB) { Postgres(t) }, true, "SKIPPED: PostgreSQL unreachable at postgres://postgres@127.0.0.1:1/"},
		{"postgres unreachable under CI", map[string]string{"CI": "1", "EDOCGW_TEST_POSTGRES": "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"},
			func(t testing.TB) { Postgres(t) }, false, "EDOCGW_TEST_POSTGRES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			r := run(t, tt.start)
			if r.skipped != tt.wantSkip || r.fataled == tt.wantSkip {
				t.Fatalf("skipped=%v fataled=%v (%q); want skipped=%v", r.skipped, r.fataled, r.msg, tt.wantSkip)
			}
			if !strings.Contains(r.msg, tt.wantMsg) || (tt.wantSkip && !strings.HasPrefix(r.msg, "SKIPPED:")) {
				t.Errorf("message %q, want it to contain %q", r.msg, tt.wantMsg)
			}
		})
	}
}
