package agencyids

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Code is an agency identifier code (mã định danh). The zero value means "no
// code". A Code is compared byte for byte: no case folding or other
// normalisation is ever applied, so obtain codes from Parse or ParseLenient
// rather than by conversion when the input is untrusted.
type Code string

// Form is the syntactic form of a Code.
type Form int

const (
	// FormInvalid is the form of the zero Code and of any string that even
	// ParseLenient rejects.
	FormInvalid Form = iota
	// FormQCVN102 is the 13-character, 4-group, right-to-left form of
	// QCVN 102:2016 (e.g. 000.12.31.H53).
	FormQCVN102
	// FormQD20 is the left-to-right form of QĐ 20/2020 (e.g. H37.DN.001).
	FormQD20
	// FormWire is an odd code accepted only by ParseLenient (e.g. 01.02.G22,
	// vxp.saas.03, CS:GOV:SS1MC:SS1SUB1). It has no known structure.
	FormWire
)

// String returns a short name of the form: "QCVN102", "QD20", "wire" or
// "invalid".
func (f Form) String() string {
	switch f {
	case FormQCVN102:
		return "QCVN102"
	case FormQD20:
		return "QD20"
	case FormWire:
		return "wire"
	case FormInvalid:
		return "invalid"
	}
	return fmt.Sprintf("Form(%d)", int(f))
}

// Length and depth limits of agency codes.
const (
	// QCVN102Len is the exact length of a QCVN 102:2016 code.
	QCVN102Len = 13
	// MaxLen is the maximum length of a strictly valid code (QĐ 20/2020).
	MaxLen = 35
	// MaxLevels is the maximum number of groups (levels) of a strictly
	// valid QĐ 20/2020 code. QĐ 20/2020 sets no depth; this package caps it
	// so that hierarchy walks stay short.
	MaxLevels = 8
	// MaxLenientLen is the maximum length accepted by ParseLenient.
	MaxLenientLen = 64
)

// Sentinel errors returned (wrapped in a *ParseError) by Parse and
// ParseLenient. Each is distinct; test with errors.Is.
var (
	ErrEmpty     = errors.New("empty agency code")
	ErrTooLong   = errors.New("agency code too long")
	ErrBadChar   = errors.New("character not allowed in agency code")
	ErrBadGroup  = errors.New("malformed agency code group")
	ErrBadLevel1 = errors.New("malformed level-1 group")
	ErrLevelGap  = errors.New("unused level below a used level")
	ErrLowerCase = errors.New("lower-case letter in agency code")
	ErrTooDeep   = errors.New("too many levels in agency code")
	ErrAmbiguous = errors.New("ambiguous agency code")
)

// ParseError describes why a string is not an acceptable agency code.
type ParseError struct {
	Input string // the string that was parsed
	Pos   int    // byte offset of the problem in Input, -1 if not applicable
	Err   error  // one of the Err* sentinels of this package

	detail string // precise human-readable description
}

// Error returns e.g.
// `agency code "000.0A.00.H53": position 4: group 2 must be 2 digits`.
func (e *ParseError) Error() string {
	d := e.detail
	if d == "" && e.Err != nil {
		d = e.Err.Error()
	}
	if e.Pos < 0 {
		return fmt.Sprintf("agency code %q: %s", e.Input, d)
	}
	return fmt.Sprintf("agency code %q: position %d: %s", e.Input, e.Pos, d)
}

// Unwrap returns the sentinel error.
func (e *ParseError) Unwrap() error { return e.Err }

func newParseError(s string, pos int, sentinel error, detail string) *ParseError {
	return &ParseError{Input: s, Pos: pos, Err: sentinel, detail: detail}
}

// Parse parses s strictly. It accepts the QCVN 102:2016 form
// (`DDD.DD.DD.LDD`, levels right to left, no unused level below a used one)
// and the QĐ 20/2020 form (1–35 characters of `A-Z 0-9 .`, non-empty
// dot-separated groups, at most MaxLevels groups, the first group being a
// level-1 code: an upper-case letter and 2 digits, e.g. G09.01). A 13-character
// string made of four groups of 3, 2, 2 and 3 characters is always treated as
// the QCVN 102 form, so a longer QĐ 20 code starting with such groups is
// refused (ErrAmbiguous): its ancestor would not be a QĐ 20 code. Errors are
// *ParseError values.
func Parse(s string) (Code, error) {
	if _, perr := classify(s); perr != nil {
		return "", perr
	}
	return Code(s), nil
}

// ParseLenient parses s as received from another hub. A strictly valid code
// gives (code, nil, nil). A string that is acceptable only leniently gives
// (code, warn, nil) where warn is the *ParseError that Parse would return.
// Leniently acceptable means 1–64 characters of `A-Z a-z 0-9 . _ : -` with no
// empty dot-separated group (no leading, trailing or doubled dot). Anything
// else gives ("", nil, err) with err a *ParseError. The code is returned
// unchanged (no case folding).
func ParseLenient(s string) (c Code, warn error, err error) {
	_, perr := classify(s)
	if perr == nil {
		return Code(s), nil, nil
	}
	if werr := checkWire(s); werr != nil {
		return "", nil, werr
	}
	return Code(s), perr, nil
}

// MustParse is like Parse but panics on error. Use it for constants and tests.
func MustParse(s string) Code {
	c, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return c
}

// classify returns the strict form of s, or the problem that makes it
// invalid strictly.
func classify(s string) (Form, *ParseError) {
	switch {
	case s == "":
		return FormInvalid, newParseError(s, -1, ErrEmpty, "code is empty")
	case len(s) > MaxLen:
		return FormInvalid, newParseError(s, MaxLen, ErrTooLong,
			fmt.Sprintf("%d characters, more than the maximum of %d", len(s), MaxLen))
	case isQCVNShape(s):
		if perr := checkQCVN(s); perr != nil {
			return FormInvalid, perr
		}
		return FormQCVN102, nil
	}
	if perr := checkQD20(s); perr != nil {
		return FormInvalid, perr
	}
	return FormQD20, nil
}

// isQCVNShape reports whether s has 13 characters in four dot-separated
// groups of 3, 2, 2 and 3 characters.
func isQCVNShape(s string) bool {
	return len(s) == QCVN102Len && s[3] == '.' && s[6] == '.' && s[9] == '.' &&
		strings.Count(s, ".") == 3
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

func badChar(s string, i int) *ParseError {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return newParseError(s, i, ErrBadChar, fmt.Sprintf("invalid UTF-8 byte 0x%02x", s[i]))
	}
	return newParseError(s, i, ErrBadChar, fmt.Sprintf("character %q not allowed", r))
}

// qcvnGroups describes the digit groups of the QCVN 102 form, left to right.
var qcvnGroups = [3]struct{ start, n, level int }{
	{0, 3, 4}, {4, 2, 3}, {7, 2, 2},
}

// checkQCVN reports the left-most problem of a QCVN 102-shaped string.
func checkQCVN(s string) *ParseError {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '.' && !isDigit(c) && !isUpper(c) && !isLower(c) {
			return badChar(s, i)
		}
	}
	for gi, g := range qcvnGroups {
		for i := g.start; i < g.start+g.n; i++ {
			if !isDigit(s[i]) {
				return newParseError(s, g.start, ErrBadGroup,
					fmt.Sprintf("group %d must be %d digits", gi+1, g.n))
			}
		}
	}
	// Levels 2..4 in use must be contiguous from level 1.
	used := [5]bool{1: true, 2: s[7:9] != "00", 3: s[4:6] != "00", 4: s[0:3] != "000"}
	for lv := 2; lv <= 3; lv++ {
		if used[lv] {
			continue
		}
		for hi := lv + 1; hi <= 4; hi++ {
			if used[hi] {
				g := qcvnGroups[4-lv]
				return newParseError(s, g.start, ErrLevelGap,
					fmt.Sprintf("group %d (level %d) is zero but group %d (level %d) above it is not",
						5-lv, lv, 5-hi, hi))
			}
		}
	}
	switch {
	case isLower(s[10]):
		return newParseError(s, 10, ErrLowerCase,
			fmt.Sprintf("level-1 group %q must start with an upper-case letter", s[10:]))
	case !isUpper(s[10]) || !isDigit(s[11]) || !isDigit(s[12]):
		return newParseError(s, 10, ErrBadLevel1,
			fmt.Sprintf("group 4 (level 1) %q must be an upper-case letter followed by 2 digits", s[10:]))
	}
	return nil
}

func checkQD20(s string) *ParseError {
	start, groups := 0, 1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if i == start {
				return newParseError(s, i, ErrBadGroup, "empty group")
			}
			groups++
			if groups > MaxLevels {
				return newParseError(s, i, ErrTooDeep,
					fmt.Sprintf("more than %d groups", MaxLevels))
			}
			start = i + 1
		case isUpper(c) || isDigit(c):
		case isLower(c):
			return newParseError(s, i, ErrLowerCase,
				fmt.Sprintf("lower-case letter %q; only A-Z are allowed", c))
		default:
			return badChar(s, i)
		}
	}
	if start == len(s) {
		return newParseError(s, len(s)-1, ErrBadGroup, "empty group after trailing dot")
	}
	if !isLevel1(firstGroup(s)) {
		return newParseError(s, 0, ErrBadLevel1,
			fmt.Sprintf("first group (level 1) %q must be an upper-case letter followed by 2 digits", firstGroup(s)))
	}
	// The level-4 ancestor must not read as a QCVN 102 code.
	if len(s) > QCVN102Len && s[QCVN102Len] == '.' && isQCVNShape(s[:QCVN102Len]) {
		return newParseError(s, QCVN102Len, ErrAmbiguous,
			fmt.Sprintf("the level-4 ancestor %q would read as a QCVN 102 code", s[:QCVN102Len]))
	}
	return nil
}

func isLevel1(g string) bool {
	return len(g) == 3 && isUpper(g[0]) && isDigit(g[1]) && isDigit(g[2])
}

func firstGroup(s string) string {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[:i]
	}
	return s
}

// checkWire applies the lenient rules.
func checkWire(s string) *ParseError {
	switch {
	case s == "":
		return newParseError(s, -1, ErrEmpty, "code is empty")
	case len(s) > MaxLenientLen:
		return newParseError(s, MaxLenientLen, ErrTooLong,
			fmt.Sprintf("%d characters, more than the lenient maximum of %d", len(s), MaxLenientLen))
	}
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if i == start {
				return newParseError(s, i, ErrBadGroup, "empty group")
			}
			start = i + 1
		case isUpper(c) || isLower(c) || isDigit(c) || c == '_' || c == ':' || c == '-':
		default:
			return badChar(s, i)
		}
	}
	if start == len(s) {
		return newParseError(s, len(s)-1, ErrBadGroup, "empty group after trailing dot")
	}
	return nil
}

// strictForm returns FormQCVN102 or FormQD20 for a strictly valid code and
// FormInvalid otherwise.
func (c Code) strictForm() Form {
	f, perr := classify(string(c))
	if perr != nil {
		return FormInvalid
	}
	return f
}

// String returns the code as a string.
func (c Code) String() string { return string(c) }

// IsZero reports whether c is the zero Code ("no code").
func (c Code) IsZero() bool { return c == "" }

// Form returns the form of c: FormQCVN102 or FormQD20 when c is strictly
// valid, FormWire when only ParseLenient accepts it, FormInvalid otherwise.
func (c Code) Form() Form {
	if f := c.strictForm(); f != FormInvalid {
		return f
	}
	if checkWire(string(c)) == nil {
		return FormWire
	}
	return FormInvalid
}

// Valid reports whether c is strictly valid (Parse accepts it).
func (c Code) Valid() bool { return c.strictForm() != FormInvalid }

// Level returns the level of c: for QCVN 102 codes the number of used levels
// counted from the right (000.00.00.H53 is 1, 000.00.31.H53 is 2,
// 000.12.31.H53 is 3, 001.12.31.H53 is 4); for QĐ 20 codes the number of
// groups. It returns 0 for codes that are not strictly valid (FormWire,
// FormInvalid).
func (c Code) Level() int {
	s := string(c)
	switch c.strictForm() {
	case FormQCVN102:
		switch {
		case s[7:9] == "00":
			return 1
		case s[4:6] == "00":
			return 2
		case s[0:3] == "000":
			return 3
		}
		return 4
	case FormQD20:
		return strings.Count(s, ".") + 1
	}
	return 0
}

// Parent returns the code of the structural parent of c: for QCVN 102 the
// left-most used group replaced by zeros (000.12.31.H53 → 000.00.31.H53), for
// QĐ 20 the code without its last group (H37.DN.001 → H37.DN). It returns
// ("", false) for level-1 codes and for codes that are not strictly valid.
// The parent is derived from the text only; the Directory may know better.
func (c Code) Parent() (Code, bool) {
	s := string(c)
	switch c.strictForm() {
	case FormQCVN102:
		switch c.Level() {
		case 2:
			return Code("000.00.00" + s[9:]), true
		case 3:
			return Code("000.00" + s[6:]), true
		case 4:
			return Code("000" + s[3:]), true
		}
	case FormQD20:
		if i := strings.LastIndexByte(s, '.'); i >= 0 {
			return Code(s[:i]), true
		}
	}
	return "", false
}

// Root returns the level-1 code of c's hierarchy: 000.00.00.H53 for
// 000.12.31.H53, G09 for G09.01. For codes that are not strictly valid it
// returns c itself.
func (c Code) Root() Code {
	s := string(c)
	switch c.strictForm() {
	case FormQCVN102:
		if c.Level() == 1 {
			return c
		}
		return Code("000.00.00." + s[10:])
	case FormQD20:
		return Code(firstGroup(s))
	}
	return c
}

// Level1 returns the level-1 group of c ("H53" for 000.12.31.H53, "G09" for
// G09.01), or "" if c is not strictly valid.
func (c Code) Level1() string { return c.Group(1) }

// Group returns the text of the group of c at the given level (1 is the
// level-1 group). For QCVN 102 codes levels 1–4 always exist (unused levels
// give zeros, e.g. "00"); for QĐ 20 codes levels 1..Level(). It returns "" for
// other levels and for codes that are not strictly valid.
func (c Code) Group(level int) string {
	s := string(c)
	switch c.strictForm() {
	case FormQCVN102:
		switch level {
		case 1:
			return s[10:13]
		case 2:
			return s[7:9]
		case 3:
			return s[4:6]
		case 4:
			return s[0:3]
		}
	case FormQD20:
		if level < 1 {
			return ""
		}
		for g := range strings.SplitSeq(s, ".") {
			level--
			if level == 0 {
				return g
			}
		}
	}
	return ""
}

// Ancestors returns the structural parent chain of c, nearest first, ending
// with Root. It is empty for level-1 codes and codes that are not strictly
// valid.
func (c Code) Ancestors() []Code {
	var out []Code
	for p, ok := c.Parent(); ok; p, ok = p.Parent() {
		out = append(out, p)
	}
	return out
}

// IsAncestorOf reports whether c is a proper structural ancestor of d. Both
// must be strictly valid and of the same form.
func (c Code) IsAncestorOf(d Code) bool {
	cf := c.strictForm()
	if cf == FormInvalid || cf != d.strictForm() || c == d {
		return false
	}
	if cf == FormQD20 {
		return len(d) > len(c) && d[:len(c)] == c && d[len(c)] == '.'
	}
	cl := c.Level()
	if cl >= d.Level() {
		return false
	}
	for lv := 1; lv <= cl; lv++ {
		if c.Group(lv) != d.Group(lv) {
			return false
		}
	}
	return true
}

// IsSiblingOf reports whether c and d are different strictly valid codes of
// the same form with the same structural parent (000.20.31.H53 and
// 000.21.31.H53). Level-1 codes have no parent and are nobody's siblings.
func (c Code) IsSiblingOf(d Code) bool {
	if c == d || c.strictForm() != d.strictForm() {
		return false
	}
	cp, ok1 := c.Parent()
	dp, ok2 := d.Parent()
	return ok1 && ok2 && cp == dp
}

// MarshalText implements encoding.TextMarshaler. It returns the code
// unchanged, even when it is not strictly valid.
func (c Code) MarshalText() ([]byte, error) { return []byte(c), nil }

// UnmarshalText implements encoding.TextUnmarshaler with strict Parse, so an
// empty or lenient-only code is an error.
func (c *Code) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
