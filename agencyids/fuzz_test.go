package agencyids_test

import (
	"errors"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"000.12.31.H53", "000.00.31.H53", "000.00.00.H53", "001.12.31.H53", "000.00.00.G22",
		"000.20.31.H53", "000.21.31.H53", "000.00.15.H51", "000.00.01.A53", "G09.01", "G09",
		"H37.DN.001", "01.02.G22", "001.00.20.TT2", "vxp.saas.03", "CS:GOV:SS1MC:SS1SUB1",
		"000.0A.00.H53", "000.00.00.h53", "001.00.20.H53", "", ".", "G01..", "G01.1.2.3.4.5.6.7",
		"G09.01.02.A.B", "Đ01", "\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := agencyids.Parse(s)
		lc, warn, lerr := agencyids.ParseLenient(s)
		form := agencyids.Code(s).Form()
		if err != nil {
			var pe *agencyids.ParseError
			if !errors.As(err, &pe) || pe.Input != s || pe.Pos < -1 || pe.Pos > len(s) || errors.Unwrap(pe) == nil {
				t.Fatalf("Parse(%q): bad error %#v", s, err)
			}
			if c != "" || agencyids.Code(s).Valid() {
				t.Fatalf("Parse(%q) failed but returned %q / Valid", s, c)
			}
			switch {
			case lerr != nil:
				if lc != "" || warn != nil || form != agencyids.FormInvalid {
					t.Fatalf("ParseLenient(%q) = %q, %v, %v; form %v", s, lc, warn, lerr, form)
				}
			case warn == nil || warn.Error() != err.Error() || lc != agencyids.Code(s) || form != agencyids.FormWire:
				t.Fatalf("ParseLenient(%q) = %q, %v, %v; form %v; strict %v", s, lc, warn, lerr, form, err)
			}
			return
		}
		if c.String() != s {
			t.Fatalf("String() = %q, want %q", c.String(), s)
		}
		if c2, err := agencyids.Parse(c.String()); err != nil || c2 != c {
			t.Fatalf("re-Parse(%q) = %q, %v", s, c2, err)
		}
		if lc != c || warn != nil || lerr != nil {
			t.Fatalf("ParseLenient(%q) = %q, %v, %v", s, lc, warn, lerr)
		}
		if form != agencyids.FormQCVN102 && form != agencyids.FormQD20 {
			t.Fatalf("Form(%q) = %v", s, form)
		}
		root := c.Root()
		if !root.Valid() || root.Level() != 1 || root.Form() != form || root.Level1() != c.Level1() {
			t.Fatalf("Root(%q) = %q (level %d)", s, root, root.Level())
		}
		x, level := c, c.Level()
		for step := 0; ; step++ {
			if step > 8 {
				t.Fatalf("parent chain of %q longer than 8", s)
			}
			p, ok := x.Parent()
			if !ok {
				break
			}
			if !p.Valid() || p.Level() != level-1 || !p.IsAncestorOf(c) || p.Form() != form {
				t.Fatalf("Parent(%q) = %q: valid %v level %d (want %d)", x, p, p.Valid(), p.Level(), level-1)
			}
			x, level = p, level-1
		}
		if x != root || level != 1 {
			t.Fatalf("parent chain of %q ends at %q (level %d), Root is %q", s, x, level, root)
		}
		if len(c.Ancestors()) != c.Level()-1 {
			t.Fatalf("Ancestors(%q) = %v, level %d", s, c.Ancestors(), c.Level())
		}
	})
}
