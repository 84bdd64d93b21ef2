package cli_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/internal/cli"
	"github.com/edocgw/edocgw/internal/store"
)

func TestUserAdd(t *testing.T) {
	data := t.TempDir()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("mật khẩu của Lan\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "added 000.00.00.H53 UBND tỉnh Tây Ninh\n", "agency", "add", "--data", data, "000.00.00.H53", "--name", "UBND tỉnh Tây Ninh",
		"--directory-only")
	mustRun(t, "user lan added (clerk of 000.00.00.H53)\n", "user", "add", "--data", data, "lan", "--role", "clerk",
		"--agency", "000.00.00.H53", "--password-file", pw)
	mustRun(t, "user kiem-toan added (auditor)\n", "user", "add", "--data", data, "kiem-toan", "--role", "auditor", "--password-file", pw)

	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no name", []string{"--role", "auditor", "--password-file", pw}, cli.ExitUsage, "want one NAME"},
		{"bad role", []string{"x", "--role", "boss", "--password-file", pw}, cli.ExitUsage, "--role"},
		{"clerk without agency", []string{"x", "--role", "clerk", "--password-file", pw}, cli.ExitUsage, "--agency"},
		{"auditor with agency", []string{"x", "--role", "auditor", "--agency", "000.00.00.H53", "--password-file", pw}, cli.ExitUsage, "--agency"},
		{"no password file", []string{"x", "--role", "auditor"}, cli.ExitUsage, "--password-file"},
		{"missing password file", []string{"x", "--role", "auditor", "--password-file", pw + ".none"}, cli.ExitInput, "password file"},
		{"agency not in the directory", []string{"x", "--role", "clerk", "--agency", "000.00.00.G22", "--password-file", pw}, cli.ExitInput, "not in the directory"},
		{"exists", []string{"lan", "--role", "auditor", "--password-file", pw}, cli.ExitInput, "exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := run(t, append([]string{"user", "add", "--data", data}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, stderr)
			}
		})
	}

	s := openStore(t, filepath.Join(data, "edocgw.db"))
	ctx := context.Background()
	if _, err := s.Login(ctx, "lan", "mật khẩu của Lan", "test", time.Hour); err != nil {
		t.Fatalf("login with the file's first line: %v", err)
	}
	if _, err := s.Login(ctx, "lan", "ignored", "test", time.Hour); !errors.Is(err, store.ErrBadLogin) {
		t.Fatalf("login with the second line: %v", err)
	}
	events, err := s.AuditEvents(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	created := 0
	for _, e := range events {
		if e.Kind == store.KindUserCreated {
			created++
			if !strings.HasPrefix(e.Actor, "cli") || strings.Contains(string(e.Details), "mật") {
				t.Fatalf("event %s by %s: %s", e.Kind, e.Actor, e.Details)
			}
		}
	}
	if created != 2 {
		t.Fatalf("%d user.created events", created)
	}
}
