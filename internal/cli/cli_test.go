package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/internal/cli"
	"github.com/edocgw/edocgw/internal/sharedspec"
)

var fixedNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(args, cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Now: func() time.Time { return fixedNow }})
	return code, out.String(), errb.String()
}

func TestUsageExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, cli.ExitUsage},
		{[]string{"nonsense"}, cli.ExitUsage},
		{[]string{"envelope"}, cli.ExitUsage},
		{[]string{"envelope", "validate"}, cli.ExitUsage},
		{[]string{"envelope", "validate", "--no-such-flag", "x"}, cli.ExitUsage},
		{[]string{"agency", "validate"}, cli.ExitUsage},
		{[]string{"agency", "show"}, cli.ExitUsage},
		{[]string{"help"}, cli.ExitOK},
		{[]string{"envelope", "validate", "--help"}, cli.ExitOK},
	} {
		if code, _, stderr := run(t, tc.args...); code != tc.code {
			t.Errorf("edocgw %v: exit %d, want %d (stderr %q)", tc.args, code, tc.code, stderr)
		}
	}
}

func TestEnvelopeValidateRealSamples(t *testing.T) {
	files := sharedspec.Samples(t)
	code, out, stderr := run(t, append([]string{"envelope", "validate"}, files...)...)
	if code != cli.ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(files) {
		t.Fatalf("%d lines for %d files:\n%s", len(lines), len(files), out)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "OK "+files[i]+" ") {
			t.Errorf("line %q does not start with OK %s", l, files[i])
		}
	}
	if !strings.Contains(out, "status 000.00.00.H41 -> 000.00.00.G22") {
		t.Errorf("status 01 line missing:\n%s", out)
	}
	if !strings.Contains(out, "document 000.00.00.G22 -> 000.00.00.H41,000.00.00.H14,000.00.00.G17") {
		t.Errorf("replacement line missing:\n%s", out)
	}
}

func TestEnvelopeValidateJSONWarnings(t *testing.T) {
	f := filepath.Join(sharedspec.Dir(t), "spec", "samples", "sample-envelope-received-vxp-2019.xml")
	code, out, _ := run(t, "envelope", "validate", "--json", f)
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	var rec struct {
		Valid    bool
		Kind     string
		Warnings []struct{ Path, Error, Message string }
	}
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatal(err)
	}
	if !rec.Valid || rec.Kind != "document" || len(rec.Warnings) < 4 {
		t.Fatalf("record %+v", rec)
	}
	// The same real packet is not canonical: --strict refuses it.
	code, out, _ = run(t, "envelope", "validate", "--strict", f)
	if code != cli.ExitInput || !strings.HasPrefix(out, "INVALID "+f+": /edXML/") {
		t.Fatalf("strict: exit %d, %q", code, out)
	}
}

func TestEnvelopeValidateInvalid(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.edxml")
	os.WriteFile(bad, []byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><edXML/>`), 0o644)
	code, out, _ := run(t, "envelope", "validate", bad)
	if code != cli.ExitInput || !strings.HasPrefix(out, "INVALID "+bad+": ") || !strings.Contains(out, "markup declaration") {
		t.Fatalf("exit %d: %q", code, out)
	}
	code, out, _ = run(t, "envelope", "validate", filepath.Join(dir, "missing.edxml"))
	if code != cli.ExitInput || !strings.HasPrefix(out, "INVALID ") {
		t.Fatalf("missing file: exit %d: %q", code, out)
	}
}

func TestEnvelopeBuildThenValidate(t *testing.T) {
	dir := t.TempDir()
	pdf := filepath.Join(dir, "cv.pdf")
	os.WriteFile(pdf, []byte("%PDF-1.4 test"), 0o644)
	doc := filepath.Join(dir, "doc.edxml")
	code, _, stderr := run(t, "envelope", "build", "-o", doc,
		"--from", "000.00.00.G22=Văn phòng Chính phủ", "--to", "000.00.00.H53=UBND tỉnh Tây Ninh", "--to", "000.00.13.H53=Sở TTTT",
		"--number", "12", "--notation", "VPCP-KSTT", "--subject", "V/v thử nghiệm", "--place", "Hà Nội",
		"--signer", "Nguyễn Văn A", "--position", "Chánh văn phòng", "--priority", "1", "--attach", pdf)
	if code != cli.ExitOK {
		t.Fatalf("build document: exit %d: %s", code, stderr)
	}
	code, out, _ := run(t, "envelope", "validate", "--strict", doc)
	if code != cli.ExitOK || out != "OK "+doc+" document 000.00.00.G22 -> 000.00.00.H53,000.00.13.H53\n" {
		t.Fatalf("validate built document: exit %d %q", code, out)
	}
	st := filepath.Join(dir, "st.edxml")
	code, _, stderr = run(t, "envelope", "build", "-o", st, "--from", "000.00.00.H53=UBND tỉnh Tây Ninh", "--status", "03",
		"--doc-id", "000.00.00.G22,2026/11/22,12/VPCP-KSTT", "--org", "000.00.00.G22", "--code", "12/VPCP-KSTT",
		"--staff", "Trần Thị B", "--description", "Đã tiếp nhận")
	if code != cli.ExitOK {
		t.Fatalf("build status: exit %d: %s", code, stderr)
	}
	code, out, _ = run(t, "envelope", "validate", "--strict", st)
	if code != cli.ExitOK || out != "OK "+st+" status 000.00.00.H53 -> 000.00.00.G22\n" {
		t.Fatalf("validate built status: exit %d %q", code, out)
	}
	// A document without a subject is refused with the element path.
	code, _, stderr = run(t, "envelope", "build", "--from", "000.00.00.G22=VPCP", "--to", "000.00.00.H53=X",
		"--number", "1", "--notation", "A", "--place", "HN", "--signer", "A", "--position", "B", "--attach", pdf)
	if code != cli.ExitInput || !strings.Contains(stderr, "MessageHeader/Subject: mandatory element missing") {
		t.Fatalf("build without subject: exit %d: %s", code, stderr)
	}
}

func TestAgencyValidate(t *testing.T) {
	code, out, _ := run(t, "agency", "validate", "000.12.31.H53", "G09.01")
	want := "OK 000.12.31.H53 QCVN102 level=3 parent=000.00.31.H53 root=000.00.00.H53\nOK G09.01 QD20 level=2 parent=G09 root=G09\n"
	if code != cli.ExitOK || out != want {
		t.Fatalf("exit %d\n%q\nwant\n%q", code, out, want)
	}
	code, out, _ = run(t, "agency", "validate", "000.00.00.H53", "000.0A.00.H53")
	if code != cli.ExitInput || !strings.Contains(out, "INVALID 000.0A.00.H53: ") {
		t.Fatalf("exit %d %q", code, out)
	}
	code, out, _ = run(t, "agency", "validate", "--lenient", "01.02.G22")
	if code != cli.ExitOK || !strings.Contains(out, "(warning: ") {
		t.Fatalf("lenient: exit %d %q", code, out)
	}
	code, out, _ = run(t, "agency", "validate", "01.02.G22")
	if code != cli.ExitInput {
		t.Fatalf("strict odd code: exit %d %q", code, out)
	}
}

func TestAgencyImportShowSearch(t *testing.T) {
	data := t.TempDir()
	csv := filepath.Join(t.TempDir(), "a.csv")
	os.WriteFile(csv, []byte("code,name,parent,valid_from,valid_to,successor\n"+
		"000.00.00.H53,Ủy ban nhân dân tỉnh Tây Ninh,,2016-01-01,,\n"+
		"000.00.13.H53,Sở Thông tin và Truyền thông tỉnh Tây Ninh,000.00.00.H53,2016-01-01,,\n"+
		"000.00.14.H53,Sở Khoa học và Công nghệ tỉnh Tây Ninh,000.00.00.H53,2016-01-01,,\n"+
		"000.00.12.H53,Sở Thông tin cũ,000.00.00.H53,2016-01-01,2025-07-01,000.00.13.H53\n"), 0o644)
	code, out, stderr := run(t, "agency", "import", "--data", data, csv)
	if code != cli.ExitOK || !strings.Contains(out, "4 new, 0 updated, 4 in the directory") {
		t.Fatalf("import: exit %d %q %q", code, out, stderr)
	}
	code, out, _ = run(t, "agency", "show", "--data", data, "000.00.12.H53")
	if code != cli.ExitOK || !strings.Contains(out, "retired:     2025-07-01") || !strings.Contains(out, "now:         000.00.13.H53") {
		t.Fatalf("show retired: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, "agency", "search", "--data", data, "so thong tin")
	if code != cli.ExitOK || !strings.HasPrefix(out, "000.00.12.H53 Sở Thông tin cũ (retired)\n000.00.13.H53 Sở Thông tin và Truyền thông") {
		t.Fatalf("search: exit %d\n%s", code, out)
	}
	// Re-activating a retired code is refused and nothing is written.
	os.WriteFile(csv, []byte("code,name,parent\n000.00.12.H53,Sở Thông tin mới,000.00.00.H53\n000.00.15.H53,Sở mới,000.00.00.H53\n"), 0o644)
	code, _, stderr = run(t, "agency", "import", "--data", data, csv)
	if code != cli.ExitInput || !strings.Contains(stderr, "retired") {
		t.Fatalf("reactivate: exit %d %q", code, stderr)
	}
	if code, _, _ = run(t, "agency", "show", "--data", data, "000.00.15.H53"); code != cli.ExitInput {
		t.Fatal("a refused import left a new agency behind")
	}
	if code, _, _ = run(t, "agency", "show", "--data", data, "000.00.99.H53"); code != cli.ExitInput {
		t.Fatal("unknown agency: want exit 1")
	}
}
