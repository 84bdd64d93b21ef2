package agencyids_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in     string
		form   agencyids.Form
		level  int
		parent string // "" = none
		root   string
		level1 string
	}{
		{"000.00.00.G22", agencyids.FormQCVN102, 1, "", "000.00.00.G22", "G22"},
		{"000.00.00.H49", agencyids.FormQCVN102, 1, "", "000.00.00.H49", "H49"},
		{"000.00.31.H53", agencyids.FormQCVN102, 2, "000.00.00.H53", "000.00.00.H53", "H53"},
		{"000.12.31.H53", agencyids.FormQCVN102, 3, "000.00.31.H53", "000.00.00.H53", "H53"},
		{"001.12.31.H53", agencyids.FormQCVN102, 4, "000.12.31.H53", "000.00.00.H53", "H53"},
		{"000.00.15.H51", agencyids.FormQCVN102, 2, "000.00.00.H51", "000.00.00.H51", "H51"},
		{"000.00.01.A53", agencyids.FormQCVN102, 2, "000.00.00.A53", "000.00.00.A53", "A53"},
		{"G09", agencyids.FormQD20, 1, "", "G09", "G09"},
		{"G09.01", agencyids.FormQD20, 2, "G09", "G09", "G09"},
		{"H37.DN.001", agencyids.FormQD20, 3, "H37.DN", "H37", "H37"},
		{"K57.0.A1.B2.C3.D4.E5.F6", agencyids.FormQD20, 8, "K57.0.A1.B2.C3.D4.E5", "K57", "K57"},
		// 13 characters but not four groups of 3, 2, 2 and 3: QĐ 20.
		{"G09.01.02.A.B", agencyids.FormQD20, 5, "G09.01.02.A", "G09", "G09"},
		{"H37.DN.001.AB", agencyids.FormQD20, 4, "H37.DN.001", "H37", "H37"},
		{"H53.31.12.0001.X", agencyids.FormQD20, 5, "H53.31.12.0001", "H53", "H53"},
		// 35 characters, the maximum.
		{"G01.ABCDEFGHIJKLMNOPQRSTUVWXYZ01234", agencyids.FormQD20, 2, "G01", "G01", "G01"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := agencyids.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if c.String() != tt.in {
				t.Errorf("String() = %q", c.String())
			}
			if !c.Valid() || c.Form() != tt.form || c.Level() != tt.level {
				t.Errorf("Valid=%v Form=%v Level=%d, want true %v %d", c.Valid(), c.Form(), c.Level(), tt.form, tt.level)
			}
			p, ok := c.Parent()
			if string(p) != tt.parent || ok != (tt.parent != "") {
				t.Errorf("Parent() = %q, %v; want %q", p, ok, tt.parent)
			}
			if c.Root() != agencyids.Code(tt.root) || c.Level1() != tt.level1 {
				t.Errorf("Root()=%q Level1()=%q, want %q %q", c.Root(), c.Level1(), tt.root, tt.level1)
			}
			if w, warn, err := agencyids.ParseLenient(tt.in); w != c || warn != nil || err != nil {
				t.Errorf("ParseLenient = %q, %v, %v", w, warn, err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		err  error
		pos  int
		msg  string // substring of Error()
	}{
		{"empty", "", agencyids.ErrEmpty, -1, `agency code "": code is empty`},
		{"too long", "G01." + strings.Repeat("A", 32), agencyids.ErrTooLong, 35, "36 characters"},
		{"space", "000.00.00.H53 ", agencyids.ErrBadChar, 13, `character ' ' not allowed`},
		{"colon", "CS:GOV:SS1MC:SS1SUB1", agencyids.ErrBadChar, 2, `':'`},
		{"lt", "<G01>", agencyids.ErrBadChar, 0, `'<'`},
		{"control", "G01.\x00", agencyids.ErrBadChar, 4, `'\x00'`},
		{"invalid utf8", "G01.\xff", agencyids.ErrBadChar, 4, "invalid UTF-8 byte 0xff"},
		{"non-ascii in qcvn shape", "000.0Đ.0.H53", agencyids.ErrBadChar, 5, `'Đ'`},
		{"qcvn bad group 2", "000.0A.00.H53", agencyids.ErrBadGroup, 4,
			`agency code "000.0A.00.H53": position 4: group 2 must be 2 digits`},
		{"qcvn bad group 1", "H53.00.00.000", agencyids.ErrBadGroup, 0, "group 1 must be 3 digits"},
		{"qcvn bad group 3", "000.00.3x.H53", agencyids.ErrBadGroup, 7, "group 3 must be 2 digits"},
		{"qd20 leading dot", ".G01", agencyids.ErrBadGroup, 0, "empty group"},
		{"qd20 double dot", "G01..01", agencyids.ErrBadGroup, 4, "empty group"},
		{"qd20 trailing dot", "G01.01.", agencyids.ErrBadGroup, 6, "trailing dot"},
		{"qcvn level 1 letters", "000.00.20.TT2", agencyids.ErrBadLevel1, 10, `"TT2" must be an upper-case letter followed by 2 digits`},
		{"qcvn level 1 digits", "000.00.00.053", agencyids.ErrBadLevel1, 10, "group 4 (level 1)"},
		{"qd20 truncated qcvn", "01.02.G22", agencyids.ErrBadLevel1, 0, `first group (level 1) "01"`},
		{"qd20 long level 1", "G001.01", agencyids.ErrBadLevel1, 0, "first group"},
		{"qcvn gap level 3", "001.00.20.H53", agencyids.ErrLevelGap, 4, "group 2 (level 3) is zero but group 1 (level 4)"},
		{"qcvn gap level 2", "000.12.00.H53", agencyids.ErrLevelGap, 7, "group 3 (level 2) is zero but group 2 (level 3)"},
		{"qcvn gap two levels", "001.00.00.H53", agencyids.ErrLevelGap, 7, "group 3 (level 2)"},
		{"qcvn gap before bad level 1", "001.00.20.TT2", agencyids.ErrLevelGap, 4, "group 2 (level 3) is zero"},
		{"qcvn lower-case level 1", "000.00.00.h53", agencyids.ErrLowerCase, 10, "upper-case"},
		{"qd20 lower case", "vxp.saas.03", agencyids.ErrLowerCase, 0, "lower-case letter 'v'"},
		{"qd20 lower case later", "G09.dn", agencyids.ErrLowerCase, 4, "'d'"},
		{"qd20 too deep", "G01.1.2.3.4.5.6.7.8", agencyids.ErrTooDeep, 17, "more than 8 groups"},
		{"qd20 ancestor reads as qcvn", "H53.31.12.001.X", agencyids.ErrAmbiguous, 13, `ancestor "H53.31.12.001" would read as a QCVN 102 code`},
	}
	sentinels := []error{agencyids.ErrEmpty, agencyids.ErrTooLong, agencyids.ErrBadChar, agencyids.ErrBadGroup,
		agencyids.ErrBadLevel1, agencyids.ErrLevelGap, agencyids.ErrLowerCase, agencyids.ErrTooDeep, agencyids.ErrAmbiguous}
	covered := map[error]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := agencyids.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error", tt.in, c)
			}
			var pe *agencyids.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError", err)
			}
			if pe.Input != tt.in || pe.Pos != tt.pos {
				t.Errorf("Input=%q Pos=%d, want %q %d", pe.Input, pe.Pos, tt.in, tt.pos)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) != (s == tt.err) {
					t.Errorf("errors.Is(err, %v) = %v", s, errors.Is(err, s))
				}
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Error() = %q, want it to contain %q", err.Error(), tt.msg)
			}
			if c != "" || agencyids.Code(tt.in).Valid() {
				t.Errorf("invalid code reported as valid")
			}
			covered[tt.err] = true
		})
	}
	for _, s := range sentinels {
		if !covered[s] {
			t.Errorf("no case for %v", s)
		}
	}
}

func TestParseErrorMessageExact(t *testing.T) {
	_, err := agencyids.Parse("000.0A.00.H53")
	const want = `agency code "000.0A.00.H53": position 4: group 2 must be 2 digits`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	// A ParseError without detail falls back to the sentinel text.
	e := &agencyids.ParseError{Input: "x", Pos: -1, Err: agencyids.ErrEmpty}
	if got := e.Error(); got != `agency code "x": empty agency code` {
		t.Errorf("got %q", got)
	}
}

func TestParseLenient(t *testing.T) {
	tests := []struct {
		in   string
		form agencyids.Form
		warn error // nil: strictly valid
		err  error // non-nil: rejected
	}{
		{"000.00.15.H51", agencyids.FormQCVN102, nil, nil},
		{"01.02.G22", agencyids.FormWire, agencyids.ErrBadLevel1, nil},
		{"001.00.20.TT2", agencyids.FormWire, agencyids.ErrLevelGap, nil},
		{"000.00.20.TT2", agencyids.FormWire, agencyids.ErrBadLevel1, nil},
		{"001.00.20.H53", agencyids.FormWire, agencyids.ErrLevelGap, nil},
		{"vxp.saas.03", agencyids.FormWire, agencyids.ErrLowerCase, nil},
		{"CS:GOV:SS1MC:SS1SUB1", agencyids.FormWire, agencyids.ErrBadChar, nil},
		{"a_b-c:d", agencyids.FormWire, agencyids.ErrLowerCase, nil},
		{"G01." + strings.Repeat("A", 60), agencyids.FormWire, agencyids.ErrTooLong, nil},
		{"G01.1.2.3.4.5.6.7.8", agencyids.FormWire, agencyids.ErrTooDeep, nil},
		{"H53.31.12.001.X", agencyids.FormWire, agencyids.ErrAmbiguous, nil},
		{"", agencyids.FormInvalid, nil, agencyids.ErrEmpty},
		{"G01." + strings.Repeat("A", 61), agencyids.FormInvalid, nil, agencyids.ErrTooLong},
		{"000.00.00.H53 ", agencyids.FormInvalid, nil, agencyids.ErrBadChar},
		{"<script>", agencyids.FormInvalid, nil, agencyids.ErrBadChar},
		{"a\tb", agencyids.FormInvalid, nil, agencyids.ErrBadChar},
		{"vxp/saas", agencyids.FormInvalid, nil, agencyids.ErrBadChar},
		{"Đ01", agencyids.FormInvalid, nil, agencyids.ErrBadChar},
		{".vxp", agencyids.FormInvalid, nil, agencyids.ErrBadGroup},
		{"vxp.", agencyids.FormInvalid, nil, agencyids.ErrBadGroup},
		{"vxp..saas", agencyids.FormInvalid, nil, agencyids.ErrBadGroup},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, warn, err := agencyids.ParseLenient(tt.in)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if !errors.Is(warn, tt.warn) || (warn == nil) != (tt.warn == nil) {
				t.Fatalf("warn = %v, want %v", warn, tt.warn)
			}
			if err != nil {
				var pe *agencyids.ParseError
				if c != "" || !errors.As(err, &pe) {
					t.Errorf("rejected input gave code %q, error %T", c, err)
				}
				return
			}
			if c != agencyids.Code(tt.in) || c.Form() != tt.form {
				t.Errorf("code %q form %v, want %q %v", c, c.Form(), tt.in, tt.form)
			}
			_, strictErr := agencyids.Parse(tt.in)
			if (strictErr == nil) != (warn == nil) || (warn != nil && warn.Error() != strictErr.Error()) {
				t.Errorf("warn %v differs from Parse error %v", warn, strictErr)
			}
		})
	}
}

func TestWireCodeHasNoStructure(t *testing.T) {
	for _, s := range []string{"01.02.G22", "vxp.saas.03", "CS:GOV:SS1MC:SS1SUB1", "001.00.20.TT2"} {
		c := agencyids.Code(s)
		if c.Form() != agencyids.FormWire || c.Valid() || c.Level() != 0 || c.Level1() != "" || c.Group(1) != "" {
			t.Errorf("%s: form %v valid %v level %d level1 %q", s, c.Form(), c.Valid(), c.Level(), c.Level1())
		}
		if p, ok := c.Parent(); ok || p != "" {
			t.Errorf("%s: Parent() = %q, %v", s, p, ok)
		}
		if c.Root() != c || c.Ancestors() != nil {
			t.Errorf("%s: Root %q Ancestors %v", s, c.Root(), c.Ancestors())
		}
		if c.IsAncestorOf(c+".X") || c.IsSiblingOf("01.03.G22") {
			t.Errorf("%s: relations should be false", s)
		}
	}
	var zero agencyids.Code
	if !zero.IsZero() || zero.Form() != agencyids.FormInvalid || zero.Root() != "" || zero.Level() != 0 {
		t.Errorf("zero code: %v %v %q %d", zero.IsZero(), zero.Form(), zero.Root(), zero.Level())
	}
}

func TestHierarchy(t *testing.T) {
	c := agencyids.MustParse("000.12.31.H53")
	want := []agencyids.Code{"000.00.31.H53", "000.00.00.H53"}
	if got := c.Ancestors(); !slices.Equal(got, want) {
		t.Errorf("Ancestors = %v, want %v", got, want)
	}
	if got := agencyids.MustParse("000.00.00.G22").Ancestors(); len(got) != 0 {
		t.Errorf("level-1 Ancestors = %v", got)
	}
	if got := agencyids.MustParse("H37.DN.001").Ancestors(); !slices.Equal(got, []agencyids.Code{"H37.DN", "H37"}) {
		t.Errorf("QĐ 20 Ancestors = %v", got)
	}

	groups := []struct {
		code  string
		level int
		want  string
	}{
		{"001.12.31.H53", 1, "H53"}, {"001.12.31.H53", 2, "31"}, {"001.12.31.H53", 3, "12"},
		{"001.12.31.H53", 4, "001"}, {"000.00.31.H53", 4, "000"}, {"001.12.31.H53", 0, ""},
		{"001.12.31.H53", 5, ""}, {"H37.DN.001", 1, "H37"}, {"H37.DN.001", 2, "DN"},
		{"H37.DN.001", 3, "001"}, {"H37.DN.001", 4, ""}, {"H37.DN.001", 0, ""}, {"H37.DN.001", -1, ""},
	}
	for _, g := range groups {
		if got := agencyids.Code(g.code).Group(g.level); got != g.want {
			t.Errorf("%s.Group(%d) = %q, want %q", g.code, g.level, got, g.want)
		}
	}

	rel := []struct {
		a, b              string
		ancestor, sibling bool
	}{
		{"000.00.00.H53", "000.12.31.H53", true, false},
		{"000.00.31.H53", "000.12.31.H53", true, false},
		{"000.00.31.H53", "001.12.31.H53", true, false},
		{"000.12.31.H53", "001.12.31.H53", true, false},
		{"000.12.31.H53", "000.12.31.H53", false, false},
		{"000.12.31.H53", "000.00.31.H53", false, false},
		{"000.00.32.H53", "000.12.31.H53", false, false},
		{"000.00.00.H54", "000.12.31.H53", false, false},
		{"000.20.31.H53", "000.21.31.H53", false, true},
		{"000.00.31.H53", "000.00.32.H53", false, true},
		{"000.20.31.H53", "000.20.32.H53", false, false},
		{"000.00.00.H53", "000.00.00.H54", false, false}, // roots have no parent
		{"G09", "G09.01", true, false},
		{"G09", "G09.01.X", true, false},
		{"G09.0", "G09.01", false, true},
		{"G09.0", "G09.01.1", false, false},
		{"G09.01", "G09.02", false, true},
		{"H37.DN.001", "H37.DN.002", false, true},
		{"G09.01", "000.00.01.G09", false, false}, // different forms
		{"000.00.01.G09", "G09.02", false, false},
	}
	for _, r := range rel {
		a, b := agencyids.Code(r.a), agencyids.Code(r.b)
		if got := a.IsAncestorOf(b); got != r.ancestor {
			t.Errorf("%s.IsAncestorOf(%s) = %v", a, b, got)
		}
		if b.IsAncestorOf(a) && r.ancestor {
			t.Errorf("%s.IsAncestorOf(%s) both ways", b, a)
		}
		if got, rev := a.IsSiblingOf(b), b.IsSiblingOf(a); got != r.sibling || rev != r.sibling {
			t.Errorf("%s.IsSiblingOf(%s) = %v/%v", a, b, got, rev)
		}
	}
}

func TestFormString(t *testing.T) {
	for f, want := range map[agencyids.Form]string{
		agencyids.FormInvalid: "invalid", agencyids.FormQCVN102: "QCVN102", agencyids.FormQD20: "QD20",
		agencyids.FormWire: "wire", agencyids.Form(42): "Form(42)",
	} {
		if got := f.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(f), got, want)
		}
	}
}

func TestMustParse(t *testing.T) {
	if got := agencyids.MustParse("G09.01"); got != "G09.01" {
		t.Errorf("MustParse = %q", got)
	}
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, agencyids.ErrLowerCase) {
			t.Errorf("recovered %v, want a ParseError with ErrLowerCase", r)
		}
	}()
	agencyids.MustParse("vxp.saas.03")
	t.Error("MustParse did not panic")
}

func TestCodeText(t *testing.T) {
	type msg struct {
		From agencyids.Code   `json:"from"`
		To   []agencyids.Code `json:"to"`
	}
	in := msg{From: "000.00.00.G22", To: []agencyids.Code{"G09.01", "000.12.31.H53"}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"from":"000.00.00.G22","to":["G09.01","000.12.31.H53"]}`; string(b) != want {
		t.Fatalf("Marshal = %s, want %s", b, want)
	}
	var out msg
	if err := json.Unmarshal(b, &out); err != nil || out.From != in.From || !slices.Equal(out.To, in.To) {
		t.Fatalf("Unmarshal = %+v, %v", out, err)
	}
	for _, bad := range []struct {
		doc string
		err error
	}{
		{`{"from":"01.02.G22"}`, agencyids.ErrBadLevel1},
		{`{"from":""}`, agencyids.ErrEmpty},
		{`{"to":["G09.01","g09"]}`, agencyids.ErrLowerCase},
	} {
		var m msg
		if err := json.Unmarshal([]byte(bad.doc), &m); !errors.Is(err, bad.err) {
			t.Errorf("Unmarshal(%s) error = %v, want %v", bad.doc, err, bad.err)
		}
	}
	// Wire codes marshal unchanged.
	if b, err := agencyids.Code("vxp.saas.03").MarshalText(); err != nil || string(b) != "vxp.saas.03" {
		t.Errorf("MarshalText = %s, %v", b, err)
	}
}
