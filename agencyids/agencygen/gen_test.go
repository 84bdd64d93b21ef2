package agencygen_test

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/agencyids/agencygen"
)

func TestGenerateSizesAndConsistency(t *testing.T) {
	for _, n := range []int{0, 1, 2, 37, 200, 5000} {
		as := agencygen.Generate(n, 3)
		if len(as) != n {
			t.Fatalf("Generate(%d) returned %d", n, len(as))
		}
		checkOrderAndLoad(t, as)
	}
	if got := len(agencygen.Generate(-5, 1)); got != 0 {
		t.Errorf("Generate(-5) returned %d", got)
	}
}

// checkOrderAndLoad checks that parents and successors precede their
// references' users where required, codes are valid, and the whole set
// loads.
func checkOrderAndLoad(t *testing.T, as []agencyids.Agency) *agencyids.Directory {
	t.Helper()
	seen := make(map[agencyids.Code]bool, len(as))
	for _, a := range as {
		if !a.Code.Valid() || (a.AltCode != "" && !a.AltCode.Valid()) {
			t.Fatalf("invalid code in %+v", a)
		}
		if a.Parent != "" && !seen[a.Parent] {
			t.Fatalf("%s comes before its parent %s", a.Code, a.Parent)
		}
		seen[a.Code] = true
	}
	d := agencyids.NewDirectory()
	if err := d.Load(as); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestGenerateDeterministic(t *testing.T) {
	a, b := agencygen.Generate(3000, 42), agencygen.Generate(3000, 42)
	var ba, bb bytes.Buffer
	if err := agencyids.WriteCSV(&ba, a); err != nil {
		t.Fatal(err)
	}
	if err := agencyids.WriteCSV(&bb, b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ba.Bytes(), bb.Bytes()) {
		t.Fatal("same seed, different output")
	}
	var bc bytes.Buffer
	if err := agencyids.WriteCSV(&bc, agencygen.Generate(3000, 43)); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(ba.Bytes(), bc.Bytes()) {
		t.Fatal("different seeds, same output")
	}
}

func TestGenerateNational(t *testing.T) {
	as := agencygen.Generate(120000, 1)
	if len(as) != 120000 {
		t.Fatalf("%d agencies", len(as))
	}
	d := checkOrderAndLoad(t, as)
	level1 := map[byte]int{}
	levels := map[int]int{}
	retired, chains := 0, 0
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, a := range as {
		levels[a.Code.Level()]++
		if a.Code.Level() == 1 {
			level1[a.Code.Level1()[0]]++
		}
		if a.Retired() {
			retired++
			r, err := d.Resolve(a.Code, now)
			if err != nil || !r.ActiveAt(now) {
				t.Errorf("Resolve(%s): %s, %v", a.Code, r.Code, err)
			}
			if s := lookup(d, a.Successor); s.Retired() {
				chains++
			}
		}
	}
	if level1['H'] != 63 || level1['K'] != 63 || level1['A'] != 63 || level1['G'] != 25 ||
		level1['I'] != 6 || level1['J'] == 0 || level1['C'] == 0 {
		t.Errorf("level-1 bodies: %v", level1)
	}
	for lv := 1; lv <= 4; lv++ {
		if levels[lv] == 0 {
			t.Errorf("no level-%d agencies: %v", lv, levels)
		}
	}
	if retired < 200 || retired > 1000 || chains == 0 {
		t.Errorf("%d retired codes, %d in chains", retired, chains)
	}
	for _, q := range []struct {
		prefix string
		want   string
	}{
		{"so noi vu", "Sở Nội vụ tỉnh"},
		{"uy ban nhan dan tinh tay", "Ủy ban nhân dân tỉnh Tây Ninh"},
		{"bo noi vu", "Bộ Nội vụ"},
		{"tinh uy tay ninh", "Tỉnh ủy Tây Ninh"},
	} {
		found := false
		for _, a := range d.SearchName(q.prefix, 0) {
			found = found || strings.HasPrefix(a.Name, q.want)
		}
		if !found {
			t.Errorf("SearchName(%q) does not find %q", q.prefix, q.want)
		}
	}
	whole := 0
	for _, a := range d.SearchName("so noi vu", 0) {
		if strings.HasPrefix(agencyids.FoldName(a.Name), "so noi vu") {
			whole++
		}
	}
	if whole != 63 {
		t.Errorf("%d Sở Nội vụ, want 63", whole)
	}
	if a := lookup(d, "000.00.00.H53"); a.Name != "Ủy ban nhân dân tỉnh Tây Ninh" || a.AltCode != "H53" || a.Endpoint == "" || len(a.CertFingerprints) == 0 {
		t.Errorf("H53 = %+v", a)
	}
	if a := lookup(d, "G09.01"); a.Code != "000.00.01.G09" {
		t.Errorf("G09.01 = %+v", a)
	}
	if kids := d.Children("000.00.00.G22"); len(kids) < 10 {
		t.Errorf("G22 has %d children", len(kids))
	}
}

func TestGenerateCap(t *testing.T) {
	as := agencygen.Generate(agencygen.MaxAgencies+10, 1)
	if len(as) != agencygen.MaxAgencies {
		t.Fatalf("%d agencies", len(as))
	}
	seen := make(map[agencyids.Code]bool, len(as))
	for _, a := range as {
		if seen[a.Code] || (a.Parent != "" && !seen[a.Parent]) || a.Code.Level() == 0 {
			t.Fatalf("duplicate, invalid or misplaced %s", a.Code)
		}
		seen[a.Code] = true
	}
}

func lookup(d *agencyids.Directory, c agencyids.Code) agencyids.Agency {
	a, _ := d.Lookup(c)
	return a
}

// TestSampleIsCurrent checks that testdata/agencies/sample.csv is what the
// generator produces; regenerate it with
//
//	go run ./testdata/agencies/gen -n 200 -seed 1 -format csv -o testdata/agencies/sample.csv
func TestSampleIsCurrent(t *testing.T) {
	want, err := os.ReadFile("../../testdata/agencies/sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := agencyids.WriteCSV(&got, agencygen.Generate(200, 1)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
		i := 0
		for i < min(len(gl), len(wl)) && gl[i] == wl[i] {
			i++
		}
		t.Fatalf("sample.csv is stale (first difference on line %d); regenerate it", i+1)
	}
	if slices.Contains(strings.Split(string(want), "\n"), "") && !strings.HasSuffix(string(want), "\n") {
		t.Fatal("sample.csv is not newline-terminated")
	}
}
