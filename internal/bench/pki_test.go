package bench

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
)

func TestCodes(t *testing.T) {
	seen := map[agencyids.Code]bool{}
	for _, i := range []int{0, 1, 97, 98, 99, 100, 5000, MaxAgencies - 1} {
		c := Code(i)
		if _, err := agencyids.Parse(string(c)); err != nil {
			t.Errorf("Code(%d) = %s: %v", i, c, err)
		}
		if seen[c] {
			t.Errorf("Code(%d) = %s twice", i, c)
		}
		seen[c] = true
	}
	if Code(0) != "000.00.01.Z01" || Code(99) != "000.00.01.Z02" || Code(MaxAgencies-1) != "000.00.99.Z99" {
		t.Errorf("codes %s %s %s", Code(0), Code(99), Code(MaxAgencies-1))
	}
}

func TestPKISaveLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadPKI(dir, 1); !errors.Is(err, ErrNoPKI) {
		t.Fatalf("empty folder: %v", err)
	}
	p, err := NewPKI(2, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Save(dir); err != nil {
		t.Fatal(err)
	}
	q, err := LoadPKI(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.RootPEM, q.RootPEM) {
		t.Fatal("root differs")
	}
	for i := range 2 {
		a, b := p.Agencies[i], q.Agencies[i]
		if a.Code != b.Code || a.Name != b.Name || !a.Leaf.Cert.Equal(b.Leaf.Cert) || !a.Leaf.Key.Equal(b.Leaf.Key) || len(b.Leaf.Chain) != 1 {
			t.Fatalf("agency %d differs after loading", i)
		}
	}
	// A loaded agency signs what the original's root verifies.
	doc, err := q.Agencies[0].SignedDocument(docTo(q.Agencies[1].Code))
	if err != nil || len(doc) == 0 {
		t.Fatal(err)
	}
	if _, err := LoadPKI(dir, 3); err == nil || errors.Is(err, ErrNoPKI) {
		t.Fatalf("3 of 2 agencies: %v", err)
	}
}
