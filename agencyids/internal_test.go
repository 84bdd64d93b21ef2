package agencyids

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestResolveCycleSafe builds a successor cycle behind the directory's back
// (Add, Load and Retire refuse to create one) and checks that Resolve
// terminates with ErrSuccessorCycle.
func TestResolveCycleSafe(t *testing.T) {
	d := NewDirectory()
	retired := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var codes []Code
	for i := range 3 {
		c := Code(fmt.Sprintf("000.00.00.H%02d", i+1))
		codes = append(codes, c)
		if err := d.Add(Agency{Code: c, Name: fmt.Sprintf("Tỉnh %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range codes {
		e := d.byCode[c]
		e.a.ValidTo = retired
		e.succ = d.byCode[codes[(i+1)%len(codes)]]
		e.a.Successor = e.succ.a.Code
	}
	done := make(chan error, 1)
	go func() {
		_, err := d.Resolve(codes[0], retired.AddDate(1, 0, 0))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrSuccessorCycle) {
			t.Fatalf("Resolve = %v, want ErrSuccessorCycle", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Resolve does not terminate on a cycle")
	}
	// Before the retirement the agency itself answers.
	if a, err := d.Resolve(codes[1], retired.AddDate(-1, 0, 0)); err != nil || a.Code != codes[1] {
		t.Fatalf("Resolve before retirement = %v, %v", a.Code, err)
	}
}

func TestRowLimits(t *testing.T) {
	defer func(n int) { maxRows = n }(maxRows)
	maxRows = 3
	var b strings.Builder
	b.WriteString("code,name\n")
	for i := range 4 {
		fmt.Fprintf(&b, "G%02d,Bộ %d\n", i+1, i)
	}
	_, err := ImportCSV(strings.NewReader(b.String()))
	var ie *ImportError
	if !errors.Is(err, ErrTooManyRows) || !errors.As(err, &ie) || ie.Line != 5 {
		t.Errorf("ImportCSV: %v", err)
	}
	_, err = ImportJSON(strings.NewReader(`[{"code":"G01","name":"A"},{"code":"G02","name":"B"},{"code":"G03","name":"C"},{"code":"G04","name":"D"}]`))
	if !errors.Is(err, ErrTooManyRows) || !errors.As(err, &ie) || ie.Index != 3 {
		t.Errorf("ImportJSON: %v", err)
	}
	as := []Agency{{Code: "G01", Name: "A"}, {Code: "G02", Name: "B"}, {Code: "G03", Name: "C"}}
	d := NewDirectory()
	if err := d.Load(as); err != nil {
		t.Fatalf("Load of maxRows: %v", err)
	}
	if err := NewDirectory().Load(append(as, Agency{Code: "G04", Name: "D"})); !errors.Is(err, ErrTooManyRows) {
		t.Errorf("Load: %v", err)
	}
}

// TestNameIndexMerges checks that the incremental tail is merged into the
// main slice and that stale keys are dropped then.
func TestNameIndexMerges(t *testing.T) {
	d := NewDirectory()
	for i := range tailMax + 10 {
		c := Code(fmt.Sprintf("G01.%d", i))
		if err := d.Add(Agency{Code: c, Name: fmt.Sprintf("Phòng %d", i)}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// Rename the first one several times: its old keys become stale.
			for j := range 3 {
				if _, err := d.Upsert(Agency{Code: c, Name: fmt.Sprintf("Ban %d", j)}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if len(d.full.main) == 0 || len(d.full.tail) > tailMax || len(d.inner.tail) > tailMax {
		t.Fatalf("no merge: main %d tail %d", len(d.full.main), len(d.full.tail))
	}
	total := len(d.full.main) + len(d.full.tail)
	if total != d.Len() {
		t.Errorf("whole-name keys %d, agencies %d: stale keys kept", total, d.Len())
	}
	if got := d.SearchName("ban", 0); len(got) != 1 || got[0].Name != "Ban 2" {
		t.Errorf("SearchName(ban) = %v", got)
	}
	if got := d.SearchName("phong", 0); len(got) != tailMax+9 {
		t.Errorf("SearchName(phong) = %d results", len(got))
	}
}
