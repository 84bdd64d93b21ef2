package agencyids_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
)

var ict = time.FixedZone("ICT", 7*60*60)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, ict) }

var (
	fpA = agencyids.FingerprintOf([]byte("cert A"))
	fpB = agencyids.FingerprintOf([]byte("cert B"))
	fpC = agencyids.FingerprintOf([]byte("cert C"))
)

// fixture returns the agencies of a small directory: Tây Ninh (spec §2.3),
// the Ministry of Home Affairs and the Government Office.
func fixture() []agencyids.Agency {
	from := day(2016, 4, 1)
	return []agencyids.Agency{
		{Code: "000.00.00.H53", AltCode: "H53", Name: "Ủy ban nhân dân tỉnh Tây Ninh", ValidFrom: from,
			Endpoint: "https://edoc.tayninh.gov.vn/edxml", CertFingerprints: []agencyids.Fingerprint{fpA}},
		{Code: "000.00.01.H53", Name: "Văn phòng Ủy ban nhân dân tỉnh Tây Ninh", ValidFrom: from},
		{Code: "000.01.01.H53", Name: "Ban Tiếp công dân tỉnh Tây Ninh", ValidFrom: from},
		{Code: "000.02.01.H53", Name: "Trung tâm Hành chính công tỉnh Tây Ninh", ValidFrom: from},
		{Code: "000.00.02.H53", Name: "Sở Nội vụ tỉnh Tây Ninh", ValidFrom: from, CertFingerprints: []agencyids.Fingerprint{fpA, fpB}},
		{Code: "000.00.31.H53", AltCode: "H53.31", Name: "Ủy ban nhân dân huyện Bến Cầu", ValidFrom: from},
		{Code: "000.12.31.H53", Name: "Thanh tra huyện Bến Cầu", ValidFrom: from},
		{Code: "000.20.31.H53", Name: "Ủy ban nhân dân thị trấn Bến Cầu", ValidFrom: from},
		{Code: "000.21.31.H53", Name: "Ủy ban nhân dân xã An Thạnh", ValidFrom: from},
		{Code: "000.22.31.H53", Name: "Ủy ban nhân dân xã Long Chữ", ValidFrom: from},
		{Code: "000.00.00.G09", AltCode: "G09", Name: "Bộ Nội vụ", ValidFrom: from},
		{Code: "000.00.01.G09", AltCode: "G09.01", Name: "Văn phòng Bộ Nội vụ", ValidFrom: from},
		{Code: "000.00.00.G22", AltCode: "G22", Name: "Văn phòng Chính phủ", ValidFrom: from},
	}
}

func newFixture(t testing.TB) *agencyids.Directory {
	t.Helper()
	d := agencyids.NewDirectory()
	for _, a := range fixture() {
		if err := d.Add(a); err != nil {
			t.Fatalf("Add(%s): %v", a.Code, err)
		}
	}
	return d
}

func codes(as []agencyids.Agency) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = string(a.Code)
	}
	return out
}

func sameAgency(a, b agencyids.Agency) bool {
	return a.Code == b.Code && a.AltCode == b.AltCode && a.Name == b.Name && a.Parent == b.Parent &&
		a.ValidFrom.Equal(b.ValidFrom) && a.ValidTo.Equal(b.ValidTo) && a.Successor == b.Successor &&
		a.Endpoint == b.Endpoint && slices.Equal(a.CertFingerprints, b.CertFingerprints)
}

func mustLookup(t *testing.T, d *agencyids.Directory, c agencyids.Code) agencyids.Agency {
	t.Helper()
	a, ok := d.Lookup(c)
	if !ok {
		t.Fatalf("Lookup(%s): not found", c)
	}
	return a
}

func TestAddValidation(t *testing.T) {
	base := agencyids.Agency{Code: "000.00.03.H53", Name: "Sở Tư pháp tỉnh Tây Ninh", ValidFrom: day(2017, 1, 1)}
	fps := func(n int) []agencyids.Fingerprint {
		var out []agencyids.Fingerprint
		for i := range n {
			out = append(out, agencyids.FingerprintOf(fmt.Appendf(nil, "%d", i)))
		}
		return out
	}
	tests := []struct {
		name    string
		edit    func(a *agencyids.Agency)
		err     error
		invalid bool // also matches ErrInvalidAgency
	}{
		{"ok", func(a *agencyids.Agency) {}, nil, false},
		{"ok name of 500 characters", func(a *agencyids.Agency) { a.Name = strings.Repeat("Đ", 500) }, nil, false},
		{"ok all fields", func(a *agencyids.Agency) {
			a.AltCode, a.Parent, a.Endpoint = "H53.03", "H53", "http://10.0.0.1:8080/edxml?x=1"
			a.ValidTo, a.Successor, a.CertFingerprints = day(2025, 3, 1), "000.00.02.H53", fps(agencyids.MaxFingerprints)
		}, nil, false},
		{"empty code", func(a *agencyids.Agency) { a.Code = "" }, agencyids.ErrMissingValue, true},
		{"wire code", func(a *agencyids.Agency) { a.Code = "01.02.G22" }, agencyids.ErrBadLevel1, true},
		{"empty name", func(a *agencyids.Agency) { a.Name = "" }, agencyids.ErrMissingValue, true},
		{"name too long", func(a *agencyids.Agency) { a.Name = strings.Repeat("Đ", 501) }, agencyids.ErrFieldTooLong, true},
		{"name padded", func(a *agencyids.Agency) { a.Name = " Sở Tư pháp" }, agencyids.ErrInvalidAgency, true},
		{"name control", func(a *agencyids.Agency) { a.Name = "Sở\nTư pháp" }, agencyids.ErrInvalidAgency, true},
		{"name bad utf8", func(a *agencyids.Agency) { a.Name = "S\xffở" }, agencyids.ErrInvalidAgency, true},
		{"name without letters", func(a *agencyids.Agency) { a.Name = "---" }, agencyids.ErrInvalidAgency, true},
		{"validTo before validFrom", func(a *agencyids.Agency) { a.ValidTo = day(2016, 12, 31) }, agencyids.ErrInvalidAgency, true},
		{"validTo equals validFrom", func(a *agencyids.Agency) { a.ValidTo = a.ValidFrom }, agencyids.ErrInvalidAgency, true},
		{"unknown parent", func(a *agencyids.Agency) { a.Parent = "000.00.09.H53" }, agencyids.ErrUnknownParent, false},
		{"invalid parent", func(a *agencyids.Agency) { a.Parent = "h53" }, agencyids.ErrLowerCase, true},
		{"own parent", func(a *agencyids.Agency) { a.Parent = a.Code }, agencyids.ErrParentCycle, true},
		{"unknown successor", func(a *agencyids.Agency) { a.ValidTo, a.Successor = day(2025, 1, 1), "000.00.09.H53" }, agencyids.ErrUnknownSuccessor, false},
		{"successor of active agency", func(a *agencyids.Agency) { a.Successor = "000.00.02.H53" }, agencyids.ErrInvalidAgency, true},
		{"own successor", func(a *agencyids.Agency) { a.ValidTo, a.Successor = day(2025, 1, 1), a.Code }, agencyids.ErrSuccessorCycle, true},
		{"alt code of same form", func(a *agencyids.Agency) { a.AltCode = "000.00.04.H53" }, agencyids.ErrInvalidAgency, true},
		{"alt code invalid", func(a *agencyids.Agency) { a.AltCode = "h53.03" }, agencyids.ErrLowerCase, true},
		{"alt code in use", func(a *agencyids.Agency) { a.AltCode = "H53" }, agencyids.ErrExists, false},
		{"alt code is a code", func(a *agencyids.Agency) { a.Code, a.AltCode = "G09.05", "000.00.02.H53" }, agencyids.ErrExists, false},
		{"code in use", func(a *agencyids.Agency) { a.Code = "000.00.02.H53" }, agencyids.ErrExists, false},
		{"code is an alt code", func(a *agencyids.Agency) { a.Code = "G09.01" }, agencyids.ErrExists, false},
		{"endpoint too long", func(a *agencyids.Agency) { a.Endpoint = "https://x.vn/" + strings.Repeat("a", 2048) }, agencyids.ErrFieldTooLong, true},
		{"endpoint not http", func(a *agencyids.Agency) { a.Endpoint = "ftp://x.vn/" }, agencyids.ErrInvalidAgency, true},
		{"endpoint relative", func(a *agencyids.Agency) { a.Endpoint = "/edxml" }, agencyids.ErrInvalidAgency, true},
		{"endpoint space", func(a *agencyids.Agency) { a.Endpoint = "https://x.vn/a b" }, agencyids.ErrInvalidAgency, true},
		{"endpoint unparsable", func(a *agencyids.Agency) { a.Endpoint = "https://x.vn:port/" }, agencyids.ErrInvalidAgency, true},
		{"too many fingerprints", func(a *agencyids.Agency) { a.CertFingerprints = fps(agencyids.MaxFingerprints + 1) }, agencyids.ErrFieldTooLong, true},
		{"zero fingerprint", func(a *agencyids.Agency) { a.CertFingerprints = []agencyids.Fingerprint{{}} }, agencyids.ErrBadFingerprint, true},
		{"duplicate fingerprint", func(a *agencyids.Agency) { a.CertFingerprints = []agencyids.Fingerprint{fpC, fpC} }, agencyids.ErrBadFingerprint, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newFixture(t)
			a := base
			tt.edit(&a)
			err := d.Add(a)
			if tt.err == nil {
				if err != nil {
					t.Fatalf("Add: %v", err)
				}
				if got := mustLookup(t, d, a.Code); got.Name != a.Name {
					t.Errorf("stored %+v", got)
				}
				return
			}
			if !errors.Is(err, tt.err) || errors.Is(err, agencyids.ErrInvalidAgency) != tt.invalid {
				t.Fatalf("Add error = %v; want %v (ErrInvalidAgency: %v)", err, tt.err, tt.invalid)
			}
			if !strings.HasPrefix(err.Error(), "agencyids: add ") {
				t.Errorf("error %q lacks context", err)
			}
			if d.Len() != len(fixture()) {
				t.Errorf("Len = %d after a failed Add", d.Len())
			}
		})
	}
}

func TestZeroDirectory(t *testing.T) {
	var d agencyids.Directory
	if _, ok := d.Lookup("000.00.00.H53"); ok || d.Len() != 0 || d.SearchName("uy", 5) != nil || d.All() != nil {
		t.Fatal("zero directory not empty")
	}
	if err := d.Retire("000.00.00.H53", day(2020, 1, 1), ""); !errors.Is(err, agencyids.ErrNotFound) {
		t.Fatalf("Retire on empty: %v", err)
	}
	if err := d.Add(fixture()[0]); err != nil {
		t.Fatal(err)
	}
	if got := d.SearchName("uy ban", 5); len(got) != 1 {
		t.Fatalf("SearchName = %v", codes(got))
	}
}

func TestNoDelete(t *testing.T) {
	typ := reflect.TypeFor[*agencyids.Directory]()
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		for _, bad := range []string{"Remove", "Delete", "Purge", "Drop", "Unretire"} {
			if strings.Contains(name, bad) {
				t.Errorf("Directory has method %s: codes must never be deleted", name)
			}
		}
	}
}

func TestRetiredCodeNeverReused(t *testing.T) {
	d := newFixture(t)
	at := day(2025, 7, 1)
	if err := d.Retire("000.22.31.H53", at, "000.21.31.H53"); err != nil {
		t.Fatal(err)
	}
	readd := agencyids.Agency{Code: "000.22.31.H53", Name: "Ủy ban nhân dân xã Long Chữ mới"}
	if err := d.Add(readd); !errors.Is(err, agencyids.ErrRetiredCode) {
		t.Errorf("re-Add of retired code: %v", err)
	}
	if err := d.Load([]agencyids.Agency{readd}); !errors.Is(err, agencyids.ErrRetiredCode) {
		t.Errorf("Load of retired code: %v", err)
	}
	if _, err := d.Upsert(readd); !errors.Is(err, agencyids.ErrRetiredCode) {
		t.Errorf("Upsert un-retiring: %v", err)
	}
	if err := d.Retire("000.22.31.H53", at.AddDate(0, 1, 0), ""); !errors.Is(err, agencyids.ErrRetiredCode) {
		t.Errorf("second Retire: %v", err)
	}
	a := mustLookup(t, d, "000.22.31.H53")
	if !a.ValidTo.Equal(at) || a.Successor != "000.21.31.H53" || !a.Retired() || a.Name != "Ủy ban nhân dân xã Long Chữ" {
		t.Errorf("retired agency = %+v", a)
	}
	if d.Len() != len(fixture()) {
		t.Errorf("Len = %d", d.Len())
	}
	// An active agency's code gives ErrExists, not ErrRetiredCode.
	if err := d.Add(agencyids.Agency{Code: "000.21.31.H53", Name: "X"}); !errors.Is(err, agencyids.ErrExists) || errors.Is(err, agencyids.ErrRetiredCode) {
		t.Errorf("Add of active code: %v", err)
	}
}

func TestRetire(t *testing.T) {
	at := day(2025, 3, 1)
	tests := []struct {
		name      string
		code      agencyids.Code
		at        time.Time
		successor agencyids.Code
		err       error
	}{
		{"with successor", "000.00.02.H53", at, "000.00.01.H53", nil},
		{"by alt code, successor by alt code", "H53.31", at, "H53", nil},
		{"without successor", "000.12.31.H53", at, "", nil},
		{"unknown", "000.00.09.H53", at, "", agencyids.ErrNotFound},
		{"unknown successor", "000.00.02.H53", at, "000.00.09.H53", agencyids.ErrUnknownSuccessor},
		{"own successor", "000.00.02.H53", at, "000.00.02.H53", agencyids.ErrSuccessorCycle},
		{"own successor by alt", "000.00.31.H53", at, "H53.31", agencyids.ErrSuccessorCycle},
		{"zero time", "000.00.02.H53", time.Time{}, "", agencyids.ErrInvalidAgency},
		{"before validFrom", "000.00.02.H53", day(2016, 4, 1), "", agencyids.ErrInvalidAgency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newFixture(t)
			err := d.Retire(tt.code, tt.at, tt.successor)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("Retire = %v, want %v", err, tt.err)
			}
			a := lookup(d, tt.code)
			if tt.err != nil {
				if a.Retired() {
					t.Errorf("failed Retire changed the agency: %+v", a)
				}
				return
			}
			if !a.ValidTo.Equal(tt.at) || a.ActiveAt(tt.at) || !a.ActiveAt(tt.at.Add(-time.Nanosecond)) {
				t.Errorf("after Retire: %+v", a)
			}
			if tt.successor != "" {
				s := lookup(d, tt.successor)
				if a.Successor != s.Code {
					t.Errorf("Successor = %q, want primary code %q", a.Successor, s.Code)
				}
			}
		})
	}
}

// lookup is Lookup without the ok result.
func lookup(d *agencyids.Directory, c agencyids.Code) agencyids.Agency {
	a, _ := d.Lookup(c)
	return a
}

func TestRetireInactiveSuccessorAndCycle(t *testing.T) {
	d := newFixture(t)
	late := agencyids.Agency{Code: "000.00.40.H53", Name: "Sở Nông nghiệp và Môi trường tỉnh Tây Ninh", ValidFrom: day(2025, 3, 1)}
	if err := d.Add(late); err != nil {
		t.Fatal(err)
	}
	if err := d.Retire("000.00.02.H53", day(2025, 2, 28), late.Code); !errors.Is(err, agencyids.ErrInactiveSuccessor) {
		t.Errorf("successor not yet valid: %v", err)
	}
	if err := d.Retire("000.00.02.H53", day(2025, 3, 1), late.Code); err != nil {
		t.Errorf("successor valid from the same day: %v", err)
	}
	if err := d.Retire("000.00.01.H53", day(2025, 6, 1), "000.00.02.H53"); !errors.Is(err, agencyids.ErrInactiveSuccessor) {
		t.Errorf("retired successor: %v", err)
	}
	// A is retired in 2025 with successor B; B cannot then be retired in 2024
	// with successor A (A is still active in 2024): that would be a cycle.
	if err := d.Retire("000.21.31.H53", day(2025, 1, 1), "000.20.31.H53"); err != nil {
		t.Fatal(err)
	}
	if err := d.Retire("000.20.31.H53", day(2024, 1, 1), "000.21.31.H53"); !errors.Is(err, agencyids.ErrSuccessorCycle) {
		t.Errorf("cycle: %v", err)
	}
	if a := mustLookup(t, d, "000.20.31.H53"); a.Retired() {
		t.Errorf("failed Retire changed the agency: %+v", a)
	}
}

func TestResolve(t *testing.T) {
	d := newFixture(t)
	// An Thạnh merges into Bến Cầu town in 2020, which merges into Long Chữ in 2025.
	t1, t2 := day(2020, 1, 1), day(2025, 7, 1)
	if err := d.Retire("000.20.31.H53", t2, "000.22.31.H53"); err != nil {
		t.Fatal(err)
	}
	if err := d.Retire("000.21.31.H53", t1, "000.20.31.H53"); err != nil {
		t.Fatal(err)
	}
	if err := d.Retire("000.12.31.H53", t1, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		code agencyids.Code
		at   time.Time
		want agencyids.Code
		err  error
	}{
		{"000.21.31.H53", t1.Add(-time.Nanosecond), "000.21.31.H53", nil},
		{"000.21.31.H53", t1, "000.20.31.H53", nil},
		{"000.21.31.H53", t2.Add(-time.Second), "000.20.31.H53", nil},
		{"000.21.31.H53", t2, "000.22.31.H53", nil},
		{"000.21.31.H53", day(2030, 1, 1), "000.22.31.H53", nil},
		{"H53.31", day(2030, 1, 1), "000.00.31.H53", nil},
		{"000.21.31.H53", day(2015, 1, 1), "", agencyids.ErrNotActive},
		{"000.12.31.H53", t1, "", agencyids.ErrNotActive},
		{"000.00.09.H53", t1, "", agencyids.ErrNotFound},
	}
	for _, tt := range tests {
		a, err := d.Resolve(tt.code, tt.at)
		if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) || a.Code != tt.want {
			t.Errorf("Resolve(%s, %s) = %s, %v; want %s, %v", tt.code, tt.at, a.Code, err, tt.want, tt.err)
		}
	}
}

func TestResolveLongChainIsBounded(t *testing.T) {
	// 70 codes, each merged into the next on consecutive days: longer than
	// the 64 hops Resolve follows.
	var batch []agencyids.Agency
	for i := range 70 {
		a := agencyids.Agency{Code: agencyids.Code(fmt.Sprintf("000.%02d.%02d.H53", i%99+1, i/99+1)),
			Name: fmt.Sprintf("Xã %d", i), ValidFrom: day(2016, 1, 1)}
		if i < 69 {
			a.ValidTo = day(2020, 1, 1).AddDate(0, 0, i)
			a.Successor = agencyids.Code(fmt.Sprintf("000.%02d.%02d.H53", (i+1)%99+1, (i+1)/99+1))
		}
		batch = append(batch, a)
	}
	d := agencyids.NewDirectory()
	if err := d.Load(batch); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Resolve(batch[0].Code, day(2021, 1, 1)); !errors.Is(err, agencyids.ErrSuccessorCycle) {
		t.Errorf("70-hop chain: %v", err)
	}
	if a, err := d.Resolve(batch[10].Code, day(2021, 1, 1)); err != nil || a.Code != batch[69].Code {
		t.Errorf("59-hop chain: %s, %v", a.Code, err)
	}
}

func TestLookupAtAndActive(t *testing.T) {
	d := agencyids.NewDirectory()
	from, to := day(2018, 1, 1), day(2025, 3, 1)
	if err := d.Load([]agencyids.Agency{
		{Code: "000.00.05.H53", AltCode: "H53.05", Name: "Sở Tài chính tỉnh Tây Ninh", ValidFrom: from},
		{Code: "000.00.04.H53", Name: "Sở Kế hoạch và Đầu tư tỉnh Tây Ninh", ValidFrom: from, ValidTo: to, Successor: "000.00.05.H53"},
		{Code: "000.00.06.H53", Name: "Sở Công Thương tỉnh Tây Ninh"},
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		code agencyids.Code
		at   time.Time
		want bool
	}{
		{"000.00.04.H53", from.Add(-time.Nanosecond), false},
		{"000.00.04.H53", from, true},
		{"000.00.04.H53", to.Add(-time.Nanosecond), true},
		{"000.00.04.H53", to, false},
		{"000.00.04.H53", to.AddDate(5, 0, 0), false},
		{"H53.05", to.AddDate(5, 0, 0), true},
		{"000.00.06.H53", time.Time{}, true}, // open at both ends
		{"000.00.06.H53", day(2999, 1, 1), true},
		{"000.00.09.H53", to, false},
	}
	for _, tt := range tests {
		a, ok := d.LookupAt(tt.code, tt.at)
		if ok != tt.want || d.Active(tt.code, tt.at) != tt.want {
			t.Errorf("LookupAt/Active(%s, %s) = %v/%v, want %v", tt.code, tt.at, ok, d.Active(tt.code, tt.at), tt.want)
		}
		if ok != (a.Code != "") {
			t.Errorf("LookupAt returned %q with ok=%v", a.Code, ok)
		}
	}
	// Lookup ignores time.
	if a, ok := d.Lookup("000.00.04.H53"); !ok || !a.ValidTo.Equal(to) {
		t.Errorf("Lookup retired = %+v, %v", a, ok)
	}
}

func TestLookupReturnsCopies(t *testing.T) {
	d := newFixture(t)
	a := mustLookup(t, d, "000.00.02.H53")
	a.CertFingerprints[0] = fpC
	a.Name = "changed"
	if b := mustLookup(t, d, "000.00.02.H53"); b.CertFingerprints[0] != fpA || b.Name != "Sở Nội vụ tỉnh Tây Ninh" {
		t.Errorf("directory modified through a returned copy: %+v", b)
	}
	in := fixture()[0]
	in.Code, in.AltCode = "000.00.00.H54", ""
	if err := d.Add(in); err != nil {
		t.Fatal(err)
	}
	in.CertFingerprints[0] = fpC
	if b := mustLookup(t, d, "000.00.00.H54"); b.CertFingerprints[0] != fpA {
		t.Errorf("directory modified through the added value")
	}
}

func TestSearchName(t *testing.T) {
	d := newFixture(t)
	tests := []struct {
		prefix string
		limit  int
		want   []string
	}{
		{"uy ban", 0, []string{"000.00.31.H53", "000.20.31.H53", "000.00.00.H53", "000.21.31.H53", "000.22.31.H53", "000.00.01.H53"}},
		{"Ủy ban nhân dân", 2, []string{"000.00.31.H53", "000.20.31.H53"}},
		{"ỦY BAN NHÂN DÂN XÃ", 10, []string{"000.21.31.H53", "000.22.31.H53"}},
		{"so noi vu", 20, []string{"000.00.02.H53"}},
		{"Sở Nội vụ", 20, []string{"000.00.02.H53"}},
		{"noi vu", 20, []string{"000.00.00.G09", "000.00.02.H53", "000.00.01.G09"}},
		{"noi vu", 1, []string{"000.00.00.G09"}},
		{"ben cau", 20, []string{"000.12.31.H53", "000.00.31.H53", "000.20.31.H53"}},
		{"an thanh", 20, []string{"000.21.31.H53"}},
		{"an th", 20, []string{"000.21.31.H53"}},
		{"Tây", 3, []string{"000.01.01.H53", "000.00.02.H53", "000.02.01.H53"}},
		{"van phong", 20, []string{"000.00.01.G09", "000.00.00.G22", "000.00.01.H53"}},
		{"văn phòng chính", 20, []string{"000.00.00.G22"}},
		{"ninh", 0, []string{"000.01.01.H53", "000.00.02.H53", "000.02.01.H53", "000.00.00.H53", "000.00.01.H53"}},
		{"ninh ", 0, []string{"000.01.01.H53", "000.00.02.H53", "000.02.01.H53", "000.00.00.H53", "000.00.01.H53"}},
		{"nin", 1, []string{"000.01.01.H53"}},
		{"bo ", 20, []string{"000.00.00.G09", "000.00.01.G09"}},
		{"bo", 20, []string{"000.00.00.G09", "000.00.01.G09"}},
		{"a", 20, []string{"000.21.31.H53"}},
		{"x", 20, []string{"000.21.31.H53", "000.22.31.H53"}},
		{"xa an thanh tinh", 20, nil},
		{"ubnd", 20, nil},
		{"", 20, nil},
		{"  ,, ", 20, nil},
	}
	for _, tt := range tests {
		got := codes(d.SearchName(tt.prefix, tt.limit))
		if len(got) == 0 {
			got = nil
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("SearchName(%q, %d) = %v, want %v", tt.prefix, tt.limit, got, tt.want)
		}
	}
}

func TestSearchNameTies(t *testing.T) {
	// Same folded name: ordered by name, then by code, whatever the order
	// of insertion.
	as := []agencyids.Agency{
		{Code: "000.00.00.H03", Name: "Ủy ban nhân dân xã Đông"},
		{Code: "000.00.00.H05", Name: "Ủy ban nhân dân xã Đông"},
		{Code: "000.00.00.H01", Name: "Ủy ban nhân dân xã Đông A"},
		{Code: "000.00.00.H02", Name: "Uy ban nhan dan xa Dong"},
		{Code: "000.00.00.H04", Name: "Ủy ban nhân dân xã Đông"},
	}
	want := []string{"000.00.00.H02", "000.00.00.H03", "000.00.00.H04", "000.00.00.H05", "000.00.00.H01"}
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {1, 4, 0, 3, 2}} {
		added, loaded := agencyids.NewDirectory(), agencyids.NewDirectory()
		var batch []agencyids.Agency
		for _, i := range order {
			if err := added.Add(as[i]); err != nil {
				t.Fatal(err)
			}
			batch = append(batch, as[i])
		}
		if err := loaded.Load(batch); err != nil {
			t.Fatal(err)
		}
		for _, d := range []*agencyids.Directory{added, loaded} {
			for limit := 1; limit <= len(want); limit++ {
				for _, p := range []string{"uy ban", "dong", "xa d"} {
					if got := codes(d.SearchName(p, limit)); !slices.Equal(got, want[:limit]) {
						t.Errorf("order %v: SearchName(%q, %d) = %v, want %v", order, p, limit, got, want[:limit])
					}
				}
			}
		}
	}
}

func TestSearchNameAfterRename(t *testing.T) {
	d := newFixture(t)
	a := mustLookup(t, d, "000.00.02.H53")
	a.Name = "Sở Nội vụ và Lao động tỉnh Tây Ninh"
	if _, err := d.Upsert(a); err != nil {
		t.Fatal(err)
	}
	if got := codes(d.SearchName("lao dong", 5)); !slices.Equal(got, []string{"000.00.02.H53"}) {
		t.Errorf("new name: %v", got)
	}
	for _, old := range []string{"so noi vu tinh", "noi vu tinh", "vu tinh tay"} {
		if got := codes(d.SearchName(old, 5)); len(got) != 0 {
			t.Errorf("old name still found by %q: %v", old, got)
		}
	}
	// Renaming back makes the old keys valid again, without duplicates.
	a.Name = "Sở Nội vụ tỉnh Tây Ninh"
	if _, err := d.Upsert(a); err != nil {
		t.Fatal(err)
	}
	if got := codes(d.SearchName("noi vu", 0)); !slices.Equal(got, []string{"000.00.00.G09", "000.00.02.H53", "000.00.01.G09"}) {
		t.Errorf("after renaming back: %v", got)
	}
	// Changing only the case keeps the folded name.
	a.Name = "SỞ NỘI VỤ TỈNH TÂY NINH"
	if _, err := d.Upsert(a); err != nil {
		t.Fatal(err)
	}
	if got := d.SearchName("so noi vu", 0); len(got) != 1 || got[0].Name != a.Name {
		t.Errorf("after case change: %+v", got)
	}
}

// TestSearchNameMatchesBruteForce adds agencies one at a time (so the
// incremental index merges several times), renames some, and compares
// SearchName with a linear scan.
func TestSearchNameMatchesBruteForce(t *testing.T) {
	words := []string{"Ủy", "ban", "nhân", "dân", "xã", "An", "Thạnh", "Sở", "Nội", "vụ", "Trường", "Tiểu", "học", "Đông", "Hòa", "Long", "Bình", "Phú"}
	d := agencyids.NewDirectory()
	seed := uint32(7)
	rnd := func(n int) int { seed = seed*1664525 + 1013904223; return int(seed>>8) % n }
	for i := range 2500 {
		var w []string
		for range 2 + rnd(5) {
			w = append(w, words[rnd(len(words))])
		}
		name := strings.Join(w, " ")
		c := agencyids.Code(fmt.Sprintf("%03d.%02d.01.G%02d", i%999+1, 1+i/999, 1))
		if err := d.Add(agencyids.Agency{Code: c, Name: name}); err != nil {
			t.Fatalf("Add(%s): %v", c, err)
		}
		if i%7 == 0 && i > 0 {
			a := mustLookup(t, d, "001.01.01.G01")
			a.Name = name + " " + words[rnd(len(words))]
			if _, err := d.Upsert(a); err != nil {
				t.Fatal(err)
			}
		}
	}
	all := d.All()
	brute := func(prefix string, limit int) []string {
		p := agencyids.FoldName(prefix)
		var hits []agencyids.Agency
		for _, a := range all {
			f := agencyids.FoldName(a.Name)
			if strings.HasPrefix(f, p) || strings.Contains(f, " "+p) {
				hits = append(hits, a)
			}
		}
		slices.SortFunc(hits, func(a, b agencyids.Agency) int {
			return strings.Compare(agencyids.FoldName(a.Name)+"\x00"+a.Name+"\x00"+string(a.Code),
				agencyids.FoldName(b.Name)+"\x00"+b.Name+"\x00"+string(b.Code))
		})
		if limit > 0 && len(hits) > limit {
			hits = hits[:limit]
		}
		return codes(hits)
	}
	for _, p := range []string{"u", "uy ban", "nhan dan xa", "so noi", "vu", "truong tieu hoc", "dong hoa", "phu", "hoc phu", "bin", "x"} {
		for _, limit := range []int{0, 1, 5, 20, 40, 100} {
			got := codes(d.SearchName(p, limit))
			if want := brute(p, limit); !slices.Equal(got, want) {
				t.Fatalf("SearchName(%q, %d): got %d results %v…, want %d %v…", p, limit, len(got), got[:min(5, len(got))], len(want), want[:min(5, len(want))])
			}
		}
	}
}

func TestChildrenAndDerivedParents(t *testing.T) {
	d := newFixture(t)
	if got := codes(d.Children("000.00.31.H53")); !slices.Equal(got, []string{"000.12.31.H53", "000.20.31.H53", "000.21.31.H53", "000.22.31.H53"}) {
		t.Errorf("Children = %v", got)
	}
	if got := codes(d.Children("H53")); !slices.Equal(got, []string{"000.00.01.H53", "000.00.02.H53", "000.00.31.H53"}) {
		t.Errorf("Children by alt code = %v", got)
	}
	if got := d.Children("000.00.09.H53"); got != nil {
		t.Errorf("Children of unknown = %v", got)
	}
	if p := mustLookup(t, d, "000.12.31.H53").Parent; p != "000.00.31.H53" {
		t.Errorf("derived Parent = %q", p)
	}
	if p := mustLookup(t, d, "000.00.00.H53").Parent; p != "" {
		t.Errorf("root Parent = %q", p)
	}

	// A child added before its structural parent is adopted when the
	// parent arrives.
	child := agencyids.Agency{Code: "000.05.32.H53", Name: "Phòng Nội vụ huyện Châu Thành"}
	if err := d.Add(child); err != nil {
		t.Fatal(err)
	}
	if p := mustLookup(t, d, child.Code).Parent; p != "" {
		t.Errorf("orphan Parent = %q", p)
	}
	if err := d.Add(agencyids.Agency{Code: "000.00.32.H53", Name: "Ủy ban nhân dân huyện Châu Thành"}); err != nil {
		t.Fatal(err)
	}
	if p := mustLookup(t, d, child.Code).Parent; p != "000.00.32.H53" {
		t.Errorf("adopted Parent = %q", p)
	}
	if got := codes(d.Children("000.00.32.H53")); !slices.Equal(got, []string{"000.05.32.H53"}) {
		t.Errorf("Children after adoption = %v", got)
	}

	// An explicit parent wins over the structure, and may be given by alt code.
	if err := d.Add(agencyids.Agency{Code: "000.00.40.H53", Name: "Trung tâm Phục vụ hành chính công", Parent: "G09.01"}); err != nil {
		t.Fatal(err)
	}
	if p := mustLookup(t, d, "000.00.40.H53").Parent; p != "000.00.01.G09" {
		t.Errorf("explicit Parent = %q", p)
	}
	if got := codes(d.Children("000.00.01.G09")); !slices.Equal(got, []string{"000.00.40.H53"}) {
		t.Errorf("Children of explicit parent = %v", got)
	}

	// Orphans waiting for an alternative code are adopted by the agency that
	// takes it (QĐ 20 child of a QCVN 102 parent).
	if err := d.Add(agencyids.Agency{Code: "G22.07", Name: "Vụ Pháp luật"}); err != nil {
		t.Fatal(err)
	}
	if p := mustLookup(t, d, "G22.07").Parent; p != "000.00.00.G22" {
		t.Errorf("QĐ 20 child of alt code: Parent = %q", p)
	}
	if err := d.Add(agencyids.Agency{Code: "K53.01", Name: "Văn phòng HĐND tỉnh Tây Ninh"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Add(agencyids.Agency{Code: "000.00.00.K53", Name: "Hội đồng nhân dân tỉnh Tây Ninh"}); err != nil {
		t.Fatal(err)
	}
	a := mustLookup(t, d, "000.00.00.K53")
	a.AltCode = "K53"
	if _, err := d.Upsert(a); err != nil {
		t.Fatal(err)
	}
	if p := mustLookup(t, d, "K53.01").Parent; p != "000.00.00.K53" {
		t.Errorf("adopted through new alt code: Parent = %q", p)
	}
}

func TestParentCycles(t *testing.T) {
	d := newFixture(t)
	// B waits for its structural parent A; A then names B as its parent.
	if err := d.Add(agencyids.Agency{Code: "000.05.33.H53", Name: "Phòng B"}); err != nil {
		t.Fatal(err)
	}
	err := d.Add(agencyids.Agency{Code: "000.00.33.H53", Name: "Huyện A", Parent: "000.05.33.H53"})
	if !errors.Is(err, agencyids.ErrParentCycle) {
		t.Fatalf("cycle through adoption: %v", err)
	}
	if _, ok := d.Lookup("000.00.33.H53"); ok {
		t.Error("agency added despite the error")
	}
	if p := mustLookup(t, d, "000.05.33.H53").Parent; p != "" {
		t.Errorf("orphan adopted despite the error: %q", p)
	}
	// The same through Upsert of an alternative code.
	if err := d.Add(agencyids.Agency{Code: "K54.01", Name: "Ban X"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Add(agencyids.Agency{Code: "000.00.00.K54", Name: "HĐND", Parent: "K54.01"}); err != nil {
		t.Fatal(err)
	}
	a := mustLookup(t, d, "000.00.00.K54")
	a.AltCode = "K54"
	if _, err := d.Upsert(a); !errors.Is(err, agencyids.ErrParentCycle) {
		t.Fatalf("cycle through alt code: %v", err)
	}
	if _, ok := d.Lookup("K54"); ok {
		t.Error("alt code taken despite the error")
	}
	// Within a batch.
	err = d.Load([]agencyids.Agency{
		{Code: "000.00.00.H01", Name: "A", Parent: "000.00.00.H02"},
		{Code: "000.00.00.H02", Name: "B", Parent: "000.00.00.H03"},
		{Code: "000.00.00.H03", Name: "C", Parent: "000.00.00.H01"},
	})
	if !errors.Is(err, agencyids.ErrParentCycle) {
		t.Fatalf("cycle in batch: %v", err)
	}
}

func TestUpsert(t *testing.T) {
	d := newFixture(t)
	created, err := d.Upsert(agencyids.Agency{Code: "000.00.03.H53", Name: "Sở Tư pháp tỉnh Tây Ninh"})
	if err != nil || !created {
		t.Fatalf("Upsert new = %v, %v", created, err)
	}
	a := mustLookup(t, d, "000.00.02.H53")
	a.Name, a.Endpoint, a.AltCode = "Sở Nội vụ tỉnh Tây Ninh (mới)", "https://snv.tayninh.gov.vn/edxml", "H53.02"
	a.CertFingerprints = []agencyids.Fingerprint{fpC}
	if created, err := d.Upsert(a); err != nil || created {
		t.Fatalf("Upsert existing = %v, %v", created, err)
	}
	if got := mustLookup(t, d, "H53.02"); !sameAgency(got, a) {
		t.Errorf("after update %+v, want %+v", got, a)
	}
	if got := codes(d.ByFingerprint(fpB)); len(got) != 0 {
		t.Errorf("old fingerprint still bound: %v", got)
	}
	if got := codes(d.ByFingerprint(fpC)); !slices.Equal(got, []string{"000.00.02.H53"}) {
		t.Errorf("new fingerprint: %v", got)
	}
	if got := codes(d.ByFingerprint(fpA)); !slices.Equal(got, []string{"000.00.00.H53"}) {
		t.Errorf("shared fingerprint: %v", got)
	}

	// Changing the alt code releases the old one only for this agency.
	a.AltCode = "H53.92"
	if _, err := d.Upsert(a); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Lookup("H53.02"); ok {
		t.Error("old alt code still found")
	}
	if err := d.Add(agencyids.Agency{Code: "H53.02", Name: "X"}); !errors.Is(err, agencyids.ErrRetiredCode) {
		t.Errorf("reuse of a former alt code as code: %v", err)
	}
	other := mustLookup(t, d, "000.00.03.H53")
	other.AltCode = "H53.02"
	if _, err := d.Upsert(other); !errors.Is(err, agencyids.ErrRetiredCode) {
		t.Errorf("reuse of a former alt code by another agency: %v", err)
	}
	other.AltCode = "H53.92"
	if _, err := d.Upsert(other); !errors.Is(err, agencyids.ErrExists) {
		t.Errorf("alt code of another agency: %v", err)
	}
	a.AltCode = "H53.02"
	if _, err := d.Upsert(a); err != nil {
		t.Errorf("taking back a former alt code: %v", err)
	}
	a.AltCode = ""
	if _, err := d.Upsert(a); err != nil {
		t.Errorf("dropping the alt code: %v", err)
	}
	if got := mustLookup(t, d, "000.00.02.H53"); got.AltCode != "" {
		t.Errorf("AltCode = %q", got.AltCode)
	}

	immutable := []struct {
		name string
		edit func(a *agencyids.Agency)
		err  error
	}{
		{"validFrom", func(a *agencyids.Agency) { a.ValidFrom = a.ValidFrom.AddDate(0, 0, 1) }, agencyids.ErrImmutable},
		{"validTo", func(a *agencyids.Agency) { a.ValidTo = day(2030, 1, 1) }, agencyids.ErrImmutable},
		{"parent", func(a *agencyids.Agency) { a.Parent = "000.00.01.H53" }, agencyids.ErrImmutable},
		{"unknown parent", func(a *agencyids.Agency) { a.Parent = "000.00.09.H53" }, agencyids.ErrImmutable},
		{"successor", func(a *agencyids.Agency) { a.ValidTo, a.Successor = day(2030, 1, 1), "000.00.01.H53" }, agencyids.ErrImmutable},
		{"invalid name", func(a *agencyids.Agency) { a.Name = "" }, agencyids.ErrMissingValue},
		{"code is another's alt code", func(a *agencyids.Agency) { a.Code = "G09.01" }, agencyids.ErrExists},
	}
	for _, tt := range immutable {
		b := mustLookup(t, d, "000.00.02.H53")
		tt.edit(&b)
		if _, err := d.Upsert(b); !errors.Is(err, tt.err) {
			t.Errorf("%s: Upsert = %v, want %v", tt.name, err, tt.err)
		}
	}
	// The parent may be repeated, also by alt code.
	b := mustLookup(t, d, "000.00.02.H53")
	b.Parent = "H53"
	if _, err := d.Upsert(b); err != nil {
		t.Errorf("same parent by alt code: %v", err)
	}

	// A retired agency can be renamed, not revived, and its retirement
	// cannot be moved.
	if err := d.Retire("000.00.02.H53", day(2025, 3, 1), "000.00.03.H53"); err != nil {
		t.Fatal(err)
	}
	r := mustLookup(t, d, "000.00.02.H53")
	r.Name = "Sở Nội vụ tỉnh Tây Ninh (đã hợp nhất)"
	if _, err := d.Upsert(r); err != nil {
		t.Errorf("rename retired: %v", err)
	}
	r.ValidTo, r.Successor = time.Time{}, ""
	if _, err := d.Upsert(r); !errors.Is(err, agencyids.ErrRetiredCode) {
		t.Errorf("un-retire: %v", err)
	}
	r = mustLookup(t, d, "000.00.02.H53")
	r.ValidTo = r.ValidTo.AddDate(1, 0, 0)
	if _, err := d.Upsert(r); !errors.Is(err, agencyids.ErrImmutable) {
		t.Errorf("move retirement: %v", err)
	}
	r = mustLookup(t, d, "000.00.02.H53")
	r.Successor = ""
	if _, err := d.Upsert(r); !errors.Is(err, agencyids.ErrImmutable) {
		t.Errorf("drop successor: %v", err)
	}
}

func TestAllLenAndFingerprints(t *testing.T) {
	d := newFixture(t)
	all := d.All()
	if len(all) != d.Len() || len(all) != len(fixture()) {
		t.Fatalf("All: %d, Len: %d", len(all), d.Len())
	}
	if !slices.IsSortedFunc(all, func(a, b agencyids.Agency) int { return strings.Compare(string(a.Code), string(b.Code)) }) {
		t.Errorf("All not sorted: %v", codes(all))
	}
	if got := codes(d.ByFingerprint(fpA)); !slices.Equal(got, []string{"000.00.00.H53", "000.00.02.H53"}) {
		t.Errorf("ByFingerprint(A) = %v", got)
	}
	if got := d.ByFingerprint(fpC); got != nil {
		t.Errorf("ByFingerprint(unknown) = %v", got)
	}
}

func TestLoad(t *testing.T) {
	// Children before parents, successors before themselves, references to
	// agencies already in the directory.
	d := newFixture(t)
	batch := []agencyids.Agency{
		{Code: "001.05.32.H53", Name: "Trường Tiểu học Thanh Điền"},
		{Code: "000.05.32.H53", Name: "Phòng Giáo dục và Đào tạo huyện Châu Thành"},
		{Code: "000.20.32.H53", Name: "Ủy ban nhân dân thị trấn Châu Thành", ValidTo: day(2025, 7, 1), Successor: "000.21.32.H53"},
		{Code: "000.00.32.H53", AltCode: "H53.32", Name: "Ủy ban nhân dân huyện Châu Thành", Parent: "H53"},
		{Code: "000.21.32.H53", Name: "Ủy ban nhân dân xã Thanh Điền"},
		{Code: "G09.01.07", Name: "Phòng Văn thư, Văn phòng Bộ Nội vụ"},
	}
	if err := d.Load(batch); err != nil {
		t.Fatal(err)
	}
	if d.Len() != len(fixture())+len(batch) {
		t.Errorf("Len = %d", d.Len())
	}
	parents := map[agencyids.Code]agencyids.Code{
		"001.05.32.H53": "000.05.32.H53", "000.05.32.H53": "000.00.32.H53", "000.00.32.H53": "000.00.00.H53",
		"000.21.32.H53": "000.00.32.H53", "G09.01.07": "000.00.01.G09",
	}
	for c, p := range parents {
		if got := mustLookup(t, d, c).Parent; got != p {
			t.Errorf("%s: Parent = %q, want %q", c, got, p)
		}
	}
	if a, err := d.Resolve("000.20.32.H53", day(2026, 1, 1)); err != nil || a.Code != "000.21.32.H53" {
		t.Errorf("Resolve = %s, %v", a.Code, err)
	}
	if err := d.Load(nil); err != nil {
		t.Errorf("Load(nil) = %v", err)
	}
}

func TestLoadAllOrNothing(t *testing.T) {
	good := []agencyids.Agency{
		{Code: "000.00.03.H53", Name: "Sở Tư pháp tỉnh Tây Ninh"},
		{Code: "000.01.03.H53", Name: "Phòng Công chứng số 1 tỉnh Tây Ninh", CertFingerprints: []agencyids.Fingerprint{fpC}},
		{Code: "000.00.00.H54", AltCode: "H54", Name: "Ủy ban nhân dân tỉnh Thái Bình"},
	}
	tests := []struct {
		name string
		bad  agencyids.Agency
		err  error
	}{
		{"invalid", agencyids.Agency{Code: "000.00.04.H53"}, agencyids.ErrMissingValue},
		{"duplicate in batch", agencyids.Agency{Code: "000.00.03.H53", Name: "Dup"}, agencyids.ErrExists},
		{"alt duplicate in batch", agencyids.Agency{Code: "000.00.04.H53", AltCode: "H54", Name: "Dup"}, agencyids.ErrExists},
		{"existing", agencyids.Agency{Code: "000.00.02.H53", Name: "Dup"}, agencyids.ErrExists},
		{"unknown parent", agencyids.Agency{Code: "000.00.04.H53", Name: "X", Parent: "000.00.00.H99"}, agencyids.ErrUnknownParent},
		{"unknown successor", agencyids.Agency{Code: "000.00.04.H53", Name: "X", ValidTo: day(2025, 1, 1), Successor: "000.00.00.H99"}, agencyids.ErrUnknownSuccessor},
		{"successor cycle", agencyids.Agency{Code: "000.00.00.H55", Name: "X", ValidTo: day(2025, 1, 1), Successor: "000.00.00.H56"}, agencyids.ErrSuccessorCycle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newFixture(t)
			before := d.All()
			batch := append(slices.Clone(good), tt.bad)
			if tt.err == agencyids.ErrSuccessorCycle {
				batch = append(batch, agencyids.Agency{Code: "000.00.00.H56", Name: "Y", ValidTo: day(2025, 1, 1), Successor: "000.00.00.H55"})
			}
			err := d.Load(batch)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Load = %v, want %v", err, tt.err)
			}
			if !strings.Contains(err.Error(), "agency #3") && tt.err != agencyids.ErrSuccessorCycle {
				t.Errorf("error %q does not name the element", err)
			}
			after := d.All()
			if len(after) != len(before) {
				t.Fatalf("Len %d -> %d after a failed Load", len(before), len(after))
			}
			for i := range after {
				if !sameAgency(before[i], after[i]) {
					t.Errorf("changed: %+v -> %+v", before[i], after[i])
				}
			}
			for _, g := range good {
				if _, ok := d.Lookup(g.Code); ok {
					t.Errorf("%s added by a failed Load", g.Code)
				}
			}
			if _, ok := d.Lookup("H54"); ok {
				t.Error("alt code added by a failed Load")
			}
			if got := d.SearchName("thai binh", 5); got != nil {
				t.Errorf("name indexed by a failed Load: %v", codes(got))
			}
			if got := d.ByFingerprint(fpC); got != nil {
				t.Errorf("fingerprint indexed by a failed Load: %v", codes(got))
			}
			// The same batch without the bad element loads.
			if err := d.Load(good); err != nil {
				t.Fatalf("Load(good) after failure: %v", err)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	d := newFixture(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 300 {
				switch w {
				case 0:
					c := agencyids.Code(fmt.Sprintf("%03d.05.31.H53", i+1))
					if err := d.Add(agencyids.Agency{Code: c, Name: fmt.Sprintf("Trường số %d", i)}); err != nil {
						t.Error(err)
						return
					}
				case 1:
					a := lookup(d, "000.00.02.H53")
					a.Name = fmt.Sprintf("Sở Nội vụ %d", i)
					if _, err := d.Upsert(a); err != nil {
						t.Error(err)
						return
					}
				default:
					d.SearchName("truong so", 10)
					d.SearchName("so noi vu", 10)
					d.Lookup("000.00.02.H53")
					d.Children("000.00.31.H53")
					d.Resolve("000.21.31.H53", day(2030, 1, 1))
				}
			}
		})
	}
	wg.Wait()
	if got := len(d.SearchName("truong so", 0)); got != 300 {
		t.Errorf("found %d schools, want 300", got)
	}
}
