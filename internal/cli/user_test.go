package cli_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
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

func TestUserManage(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	pw, pw2 := filepath.Join(dir, "pw"), filepath.Join(dir, "pw2")
	if err := os.WriteFile(pw, []byte("mật khẩu của Lan\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pw2, []byte("mật khẩu mới của Lan\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "agency", "add", "--data", data, "000.00.00.H53", "--name", "UBND tỉnh Tây Ninh", "--directory-only")
	mustRun(t, "", "user", "add", "--data", data, "lan", "--role", "clerk", "--agency", "000.00.00.H53", "--password-file", pw)
	mustRun(t, "", "user", "add", "--data", data, "kiem-toan", "--role", "auditor", "--password-file", pw)

	mustRun(t, "kiem-toan auditor - active\nlan clerk 000.00.00.H53 active\n", "user", "list", "--data", data)
	mustRun(t, "user lan disabled\n", "user", "disable", "--data", data, "lan")
	out := mustRun(t, "", "user", "list", "--data", data, "--json")
	if !strings.Contains(out, `"name":"lan","role":"clerk","agency":"000.00.00.H53","state":"disabled"`) {
		t.Fatalf("list --json:\n%s", out)
	}
	s := openStore(t, filepath.Join(data, "edocgw.db"))
	ctx := context.Background()
	if _, err := s.Login(ctx, "lan", "mật khẩu của Lan", "test", time.Hour); !errors.Is(err, store.ErrBadLogin) {
		t.Fatalf("a disabled account signs in: %v", err)
	}
	mustRun(t, "user lan enabled\n", "user", "enable", "--data", data, "lan")
	mustRun(t, "password of lan changed; its sessions ended\n", "user", "passwd", "--data", data, "lan", "--password-file", pw2)
	if _, err := s.Login(ctx, "lan", "mật khẩu của Lan", "test", time.Hour); !errors.Is(err, store.ErrBadLogin) {
		t.Fatalf("the old password: %v", err)
	}
	if _, err := s.Login(ctx, "lan", "mật khẩu mới của Lan", "test", time.Hour); err != nil {
		t.Fatalf("the new password: %v", err)
	}

	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"disable nobody", []string{"disable", "nobody"}, cli.ExitInput, "no user nobody"},
		{"passwd nobody", []string{"passwd", "nobody", "--password-file", pw}, cli.ExitInput, "no user nobody"},
		{"disable two", []string{"disable", "lan", "kiem-toan"}, cli.ExitUsage, "want one NAME"},
		{"passwd without file", []string{"passwd", "lan"}, cli.ExitUsage, "--password-file"},
		{"list with argument", []string{"list", "lan"}, cli.ExitUsage, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := run(t, append(append([]string{"user"}, tt.args[0], "--data", data), tt.args[1:]...)...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, stderr)
			}
		})
	}
	// Short password file: refused, nothing changed.
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("ngắn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "user", "passwd", "--data", data, "lan", "--password-file", short); code != cli.ExitInput || !strings.Contains(stderr, "password") {
		t.Fatalf("short password: %d %s", code, stderr)
	}
	var kinds []string
	events, err := s.AuditEvents(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if strings.HasPrefix(e.Kind, "user.") && e.Kind != store.KindUserCreated {
			kinds = append(kinds, e.Kind)
			if !strings.HasPrefix(e.Actor, "cli") {
				t.Fatalf("%s by %s", e.Kind, e.Actor)
			}
		}
	}
	if want := []string{store.KindUserDisabled, store.KindUserEnabled, store.KindUserPasswordReset}; !slices.Equal(kinds, want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
}
