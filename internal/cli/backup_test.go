package cli_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/archive/fsblob"
	"github.com/edocgw/edocgw/internal/cli"
	"github.com/edocgw/edocgw/internal/devpki"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/store/storetest"
)

// backupFixture is a data folder with a few documents (one purged), its
// originals and the hub keys.
func backupFixture(t *testing.T) (data string, s *store.Store, blobs *fsblob.Store) {
	t.Helper()
	data = t.TempDir()
	if _, err := devpki.EnsureHubSigner(data, fixedNow); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, filepath.Join(data, "edocgw.db"))
	blobs, err := fsblob.New(filepath.Join(data, "blobs"), fsblob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acceptOriginals(t, s, blobs,
		purgeSeed{"OLD-1", seedDay(2010, 1, 1), "an old original"},
		purgeSeed{"DOC-1", seedDay(2026, 11, 1), "original one"},
		purgeSeed{"DOC-2", seedDay(2026, 11, 2), "original two"},
		purgeSeed{"DOC-3", seedDay(2026, 11, 3), "original two"}, // the same bytes
	)
	mustRun(t, "", "archive", "purge", "--data", data, "--confirm")
	return data, s, blobs
}

var restoredRE = regexp.MustCompile(`^RESTORED (\d+) documents, (\d+) blobs, audit chain OK to event (\d+)\n$`)

func TestBackupRestoreWhileWriting(t *testing.T) {
	ctx := context.Background()
	data, s, blobs := backupFixture(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "backup.tar")

	// Another process keeps accepting documents meanwhile.
	writer := openStore(t, filepath.Join(data, "edocgw.db"))
	var (
		stop    atomic.Bool
		written atomic.Int64
		wg      sync.WaitGroup
	)
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			d, n, err := blobs.Put(ctx, strings.NewReader(fmt.Sprintf("written during the backup %d", i)))
			if err == nil {
				doc := storetest.Doc(fmt.Sprintf("W-%05d", i), 2000+i)
				doc.Digest, doc.Size = d, n
				err = writer.Accept(ctx, doc, nil, []*archive.Event{{Kind: "document.accepted", Actor: doc.Via, Document: doc.ID}})
			}
			if err != nil {
				t.Errorf("writing during the backup: %v", err)
				return
			}
			written.Add(1)
		}
	})
	for written.Load() < 5 {
		time.Sleep(time.Millisecond)
	}
	out := mustRun(t, "", "backup", "--data", data, "-o", file)
	before := written.Load()
	for written.Load() < before+5 {
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if !strings.HasPrefix(out, "BACKUP "+file+": ") {
		t.Errorf("backup printed %q", out)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*")); len(tmp) != 0 {
		t.Errorf("backup left %q", tmp)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	out = mustRun(t, "", "restore", "--data", restored, file)
	m := restoredRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("restore printed %q", out)
	}
	docs, _ := strconv.Atoi(m[1])
	nblobs, _ := strconv.Atoi(m[2])
	seq, _ := strconv.ParseInt(m[3], 10, 64)
	if docs < 4+5 || docs > 4+int(written.Load()) {
		t.Errorf("restored %d documents; 4 + %d to %d were written", docs, before, written.Load())
	}
	if nblobs < docs-2 { // one purged, two share their bytes
		t.Errorf("restored %d blobs for %d documents", nblobs, docs)
	}

	r := openStore(t, filepath.Join(restored, "edocgw.db"))
	if n := auditLength(t, r); n != seq+1 {
		t.Errorf("the restored chain has %d events, want %d and backup.restored", n, seq)
	}
	es, err := r.AuditEvents(ctx, seq-1, 10)
	if err != nil || len(es) != 2 {
		t.Fatalf("last events: %d, %v", len(es), err)
	}
	var created *archive.Event
	for e, err := range r.AuditAll(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == "backup.created" {
			created = e
		}
	}
	if created == nil || es[1].Kind != "backup.restored" || !strings.HasPrefix(es[1].Actor, "cli:") {
		t.Errorf("backup.created %v, last event %s by %s", created, es[1].Kind, es[1].Actor)
	}
	// The live store has the backup.created event too, and went on.
	if n := auditLength(t, s); n <= seq {
		t.Errorf("live chain %d events, the backup's %d", n, seq)
	}
	total, purged, err := r.DocumentCounts(ctx)
	if err != nil || total != int64(docs) || purged != 1 {
		t.Errorf("restored store: %d documents, %d purged, %v", total, purged, err)
	}
	rb, err := fsblob.New(filepath.Join(restored, "blobs"), fsblob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"DOC-1", "DOC-2", "DOC-3", "W-00000", "W-00004"} {
		d, err := r.Document(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readOriginal(rb, d.Digest); err != nil {
			t.Errorf("restored original of %s: %v", id, err)
		}
	}
	for _, name := range []string{"hub-sign-key.pem", "hub-sign-cert.pem"} {
		a, _ := os.ReadFile(filepath.Join(data, "pki", name))
		b, err := os.ReadFile(filepath.Join(restored, "pki", name))
		if err != nil || !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("pki/%s not restored: %v", name, err)
		}
		if info, err := os.Stat(filepath.Join(restored, "pki", name)); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("pki/%s mode %v, %v", name, info.Mode(), err)
		}
	}

	mustFail(t, cli.ExitInput, "is not empty", "restore", "--data", restored, file)
	mustFail(t, cli.ExitInput, "exists", "backup", "--data", data, "-o", file)
	mustFail(t, cli.ExitUsage, "pg_dump", "backup", "--database-url", "postgres://localhost/edocgw", "-o", filepath.Join(dir, "x.tar"))
	mustFail(t, cli.ExitUsage, "pg_restore", "restore", "--database-url", "postgres://localhost/edocgw", file)
	mustFail(t, cli.ExitInput, "no embedded database", "backup", "--data", t.TempDir(), "-o", filepath.Join(dir, "y.tar"))
}

// tarEntry is a tar entry held in memory.
type tarEntry struct {
	h    tar.Header
	body []byte
}

func readTar(t *testing.T, file string) []tarEntry {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []tarEntry
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{*h, b})
	}
}

func writeTar(t *testing.T, file string, entries []tarEntry) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.h
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// setManifest makes the manifest entry list body's SHA-256 for name.
func setManifest(t *testing.T, es []tarEntry, name string, body []byte) {
	t.Helper()
	last := &es[len(es)-1]
	var m map[string]any
	if err := json.Unmarshal(last.body, &m); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	for _, f := range m["files"].([]any) {
		if f := f.(map[string]any); f["path"] == name {
			f["sha256"] = hex.EncodeToString(sum[:])
			f["size"] = len(body)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	last.body = b
}

func TestRestoreRefusesDamagedBackup(t *testing.T) {
	data, _, _ := backupFixture(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.tar")
	mustRun(t, "", "backup", "--data", data, "-o", good)
	find := func(es []tarEntry, prefix string) int {
		for i, e := range es {
			if strings.HasPrefix(e.h.Name, prefix) {
				return i
			}
		}
		t.Fatalf("no tarEntry %s*", prefix)
		return -1
	}
	flip := func(b []byte) []byte { b = bytes.Clone(b); b[len(b)/2] ^= 1; return b }
	tests := []struct {
		name string
		edit func(es []tarEntry) []tarEntry
		want string // in the message, besides the entry's name
	}{
		{"blob byte changed", func(es []tarEntry) []tarEntry {
			i := find(es, "blobs/")
			es[i].body = flip(es[i].body)
			return es
		}, "the manifest says"},
		{"database byte changed", func(es []tarEntry) []tarEntry {
			i := find(es, "edocgw.db")
			es[i].body = flip(es[i].body)
			return es
		}, "the manifest says"},
		{"blob and manifest changed", func(es []tarEntry) []tarEntry {
			i := find(es, "blobs/")
			es[i].body = flip(es[i].body)
			setManifest(t, es, es[i].h.Name, es[i].body)
			return es
		}, "corrupt"},
		{"blob left out", func(es []tarEntry) []tarEntry {
			i := find(es, "blobs/")
			return append(es[:i:i], es[i+1:]...)
		}, "not in the backup"},
		{"file not in the manifest", func(es []tarEntry) []tarEntry {
			extra := tarEntry{tar.Header{Name: "pki/extra.pem", Mode: 0o600, Typeflag: tar.TypeReg}, []byte("extra")}
			return append([]tarEntry{extra}, es...)
		}, "not in the manifest"},
		{"no manifest", func(es []tarEntry) []tarEntry { return es[:len(es)-1] }, "manifest.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".tar")
			writeTar(t, bad, tt.edit(readTar(t, good)))
			target := filepath.Join(t.TempDir(), "restored")
			code, out, stderr := run(t, "restore", "--data", target, bad)
			if code != cli.ExitInput || !strings.Contains(stderr, "restore refused") || !strings.Contains(stderr, tt.want) {
				t.Fatalf("restore: exit %d\n%s%s", code, out, stderr)
			}
			if _, err := os.Stat(target); err == nil {
				t.Errorf("a refused restore left %s", target)
			}
		})
	}
}

// The refused damaged blob is named in the message.
func TestRestoreNamesDamagedFile(t *testing.T) {
	data, _, _ := backupFixture(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "b.tar")
	mustRun(t, "", "backup", "--data", data, "-o", file)
	es := readTar(t, file)
	var name string
	for i := range es {
		if strings.HasPrefix(es[i].h.Name, "blobs/") {
			name = es[i].h.Name
			es[i].body[0] ^= 0x20
			break
		}
	}
	writeTar(t, file, es)
	target := t.TempDir() // exists and is empty: stays so
	mustFail(t, cli.ExitInput, name+": SHA-256", "restore", "--data", target, file)
	if left, _ := os.ReadDir(target); len(left) != 0 {
		t.Errorf("a refused restore left %v in %s", left, target)
	}
}

func TestRestoreRefusesUnsafeEntries(t *testing.T) {
	dir := t.TempDir()
	body := []byte("x")
	reg := func(name string) tar.Header { return tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg} }
	tests := []struct {
		name string
		h    tar.Header
	}{
		{"parent", reg("../evil")},
		{"parent inside", reg("pki/../../evil")},
		{"blob parent", reg("blobs/sha256/../../../evil")},
		{"absolute", reg("/tmp/evil")},
		{"dot", reg("./edocgw.db")},
		{"double slash", reg("pki//key.pem")},
		{"backslash", reg(`pki\..\..\evil`)},
		{"not of a backup", reg("evil")},
		{"bad blob name", reg("blobs/sha256/ab/cd/abcd")},
		{"symlink", tar.Header{Name: "pki/link", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink}},
		{"hard link", tar.Header{Name: "pki/link", Linkname: "../../evil", Typeflag: tar.TypeLink}},
		{"directory", tar.Header{Name: "pki/", Mode: 0o755, Typeflag: tar.TypeDir}},
		{"device", tar.Header{Name: "pki/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".tar")
			var b []byte
			if tt.h.Typeflag == tar.TypeReg {
				b = body
			}
			// A harmless first entry, so something was extracted before.
			writeTar(t, file, []tarEntry{{reg("pki/first.pem"), body}, {tt.h, b}})
			parent := t.TempDir()
			target := filepath.Join(parent, "a", "restored")
			code, out, stderr := run(t, "restore", "--data", target, file)
			if code != cli.ExitInput || !strings.Contains(stderr, "restore refused") || !strings.Contains(stderr, strconv.Quote(tt.h.Name)) {
				t.Fatalf("restore: exit %d\n%s%s", code, out, stderr)
			}
			for _, p := range []string{filepath.Join(parent, "evil"), filepath.Join(parent, "a", "evil"), target} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s exists after a refused restore", p)
				}
			}
		})
	}
}
