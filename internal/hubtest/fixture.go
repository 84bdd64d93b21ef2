package hubtest

import (
	"sync"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
)

// Fixture is a PKI with one agency certificate per code in Codes, made on
// first use and shared by the tests of a binary (keys are slow to make).
// Agencies, if set, receives the agencies by code.
type Fixture struct {
	Codes    []agencyids.Code
	Agencies map[agencyids.Code]*Agency

	once sync.Once
	pki  *PKI
	err  error
}

// PKI returns the fixture's PKI, making it and the agencies ("Cơ quan
// CODE") the first time; an error fails t.
func (f *Fixture) PKI(t testing.TB) *PKI {
	t.Helper()
	f.once.Do(func() {
		if f.pki, f.err = NewPKI(time.Now().Add(-time.Hour)); f.err != nil {
			return
		}
		if f.Agencies == nil {
			f.Agencies = map[agencyids.Code]*Agency{}
		}
		for _, c := range f.Codes {
			if f.Agencies[c], f.err = f.pki.Agency(c, "Cơ quan "+string(c)); f.err != nil {
				return
			}
		}
	})
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f.pki
}
