package agencyids_test

import (
	"sync"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/agencyids/agencygen"
)

var national = sync.OnceValues(func() ([]agencyids.Agency, *agencyids.Directory) {
	as := agencygen.Generate(120000, 1)
	d := agencyids.NewDirectory()
	if err := d.Load(as); err != nil {
		panic(err)
	}
	return as, d
})

func BenchmarkLoad120k(b *testing.B) {
	as, _ := national()
	b.ReportAllocs()
	for b.Loop() {
		d := agencyids.NewDirectory()
		if err := d.Load(as); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	as, d := national()
	codes := make([]agencyids.Code, 0, 1024)
	for i := 0; i < len(as); i += len(as) / 1000 {
		codes = append(codes, as[i].Code)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := d.Lookup(codes[i%len(codes)]); !ok {
			b.Fatal("not found")
		}
		i++
	}
}

func BenchmarkSearchName(b *testing.B) {
	_, d := national()
	for _, q := range []string{"so noi vu", "Ủy ban nhân dân xã", "truong tieu hoc an", "ben", "x"} {
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(d.SearchName(q, 20)) != 20 {
					b.Fatal("fewer than 20 results")
				}
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	for _, s := range []string{"000.12.31.H53", "H37.DN.001", "001.00.20.TT2"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				agencyids.ParseLenient(s)
			}
		})
	}
}
