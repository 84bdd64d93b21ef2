package xmltok

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Tokenizer splits its input into tokens. It accepts exactly what
// encoding/xml's Decoder.RawToken accepts with Strict set, except for markup
// declarations ("<!" not starting a comment or CDATA section), which it
// refuses unless RawToken is set (see bang). It reads its source as
// encoding/xml's 4 KiB bufio.Reader did: ReadSize bytes at a time, only when
// the token at hand needs more, so that an error of the source is met at the
// same point. Markup is parsed once it is whole in the buffer (the source
// must bound its length); text and CDATA sections are decoded as they arrive
// and handed over in pieces of at most about TextPiece bytes.
//
// Like RawToken it knows nothing of nesting or namespaces.
//
// The fields describe the current token and are valid until the next call
// of Next; the caller must not change them.
type Tokenizer struct {
	Kind          Kind
	Prefix, Local []byte // element name split as encoding/xml does; PI target in Local
	Attrs         []Attr // attributes of a start tag
	Data          []byte // text (decoded), comment, PI content or directive

	// RawToken makes the Tokenizer do as RawToken does where, by default,
	// it leaves the decision to a source in front of it that refuses "<!"
	// markup and whose errors win: "<!" markup is a Directive token, scanned
	// and checked as RawToken does; text or an attribute value cut short by
	// an error of the source is checked before that error is returned; and
	// text is handed over whole, not in pieces (the source must bound it).
	// Set it before the first call of Next.
	RawToken bool

	src    io.Reader
	buf    []byte
	r, w   int   // buf[r:w] is unread
	base   int64 // input offset of buf[0]
	lines  int   // line ends in the input before buf[0]
	srcErr error // from src: io.EOF or its error, sticky

	vals      []byte // decoded attribute values
	selfClose bool   // the start tag ended with "/>": an end tag follows
	inText    bool   // inside text or a CDATA section
	inCDATA   bool
	openVal   int    // 1 + the start in vals of a value the buffer ends in, or 0
	b0, b1    byte   // the last two raw text bytes, 0 after a reference
	text      []byte // decoded text; text[:sent] was handed over
	sent      int
}

// Kind is the kind of a token.
type Kind uint8

// Token kinds.
const (
	EOF Kind = iota // the end of the input
	StartElement
	EndElement // also after a self-closing start tag
	Text       // character data or a CDATA section
	Comment
	ProcInst
	Directive // only with Tokenizer.RawToken
)

// Attr is an attribute of a start tag, its name split as encoding/xml does
// and its value decoded.
type Attr struct {
	Prefix, Local, Value []byte
	v0, v1               int // Value is vals[v0:v1]
}

// ErrorKind classifies an Error.
type ErrorKind uint8

// Error kinds.
const (
	Syntax      ErrorKind = iota // what encoding/xml reports as a SyntaxError
	Version                      // an XML declaration names a version other than 1.0
	Encoding                     // an XML declaration names an encoding other than UTF-8
	DTD                          // <!DOCTYPE, without Tokenizer.RawToken
	Declaration                  // other "<!" markup, without Tokenizer.RawToken
)

// Error is an input error found by the Tokenizer.
type Error struct {
	Kind   ErrorKind
	Offset int64  // input offset of the token (of the text, in text)
	Msg    string // encoding/xml's message where it has one
	// Encoding is the encoding named, for Kind Encoding.
	Encoding string
}

func (e *Error) Error() string { return fmt.Sprintf("xml: %s (near byte %d)", e.Msg, e.Offset) }

// Sizes.
const (
	ReadSize  = 4 << 10  // the read size of encoding/xml's bufio.Reader
	TextPiece = 64 << 10 // text is handed over in pieces of about this size

	maxPooledBuf = 4*ReadSize + 2*(64<<10) // room for 64 KiB markup
)

// errMore means the buffer ends inside the token.
var errMore = errors.New("xmltok: more input needed")

var tokenizers = sync.Pool{New: func() any { return &Tokenizer{buf: make([]byte, 4*ReadSize)} }}

// New returns a Tokenizer, perhaps a pooled one, reading src. Errors of src
// other than io.EOF are returned by Next as they are.
func New(src io.Reader) *Tokenizer {
	t := tokenizers.Get().(*Tokenizer)
	t.src = src
	return t
}

// Release resets t and pools it unless it grew large; t must not be used
// afterwards.
func (t *Tokenizer) Release() {
	if cap(t.buf) > maxPooledBuf || cap(t.text) > 2*TextPiece {
		return
	}
	*t = Tokenizer{buf: t.buf, Attrs: t.Attrs[:0], vals: t.vals[:0], text: t.text[:0]}
	tokenizers.Put(t)
}

// Offset is the input offset of the next unread byte: after the current
// token, or, after an error, of the start of the token (of the text, in
// text).
func (t *Tokenizer) Offset() int64 { return t.base + int64(t.r) }

// Line is the 1-based line of Offset.
func (t *Tokenizer) Line() int { return 1 + t.lines + bytes.Count(t.buf[:t.r], []byte{'\n'}) }

func (t *Tokenizer) fail(k ErrorKind, msg string) *Error {
	return &Error{Kind: k, Offset: t.Offset(), Msg: msg}
}

func (t *Tokenizer) syntax(msg string) error { return t.fail(Syntax, msg) }

// more reads up to ReadSize more bytes into buf; false if there are none
// (t.srcErr is set).
func (t *Tokenizer) more() bool {
	if t.srcErr != nil {
		return false
	}
	if t.w+ReadSize > len(t.buf) {
		t.base += int64(t.r)
		t.lines += bytes.Count(t.buf[:t.r], []byte{'\n'})
		t.w = copy(t.buf, t.buf[t.r:t.w])
		t.r = 0
		if t.w+ReadSize > len(t.buf) {
			t.buf = append(t.buf[:t.w], make([]byte, len(t.buf))...)
			t.buf = t.buf[:cap(t.buf)]
		}
	}
	for {
		n, err := t.src.Read(t.buf[t.w : t.w+ReadSize])
		t.w += n
		if n > 0 {
			return true
		}
		if err != nil {
			t.srcErr = err
			return false
		}
	}
}

// Next reads the next token into t. At the end of the input t.Kind is EOF.
// Errors are *Error, or the source's error.
func (t *Tokenizer) Next() error {
	if t.selfClose {
		t.selfClose = false
		t.Kind = EndElement
		return nil
	}
	if t.sent > 0 {
		t.text = t.text[:copy(t.text, t.text[t.sent:])]
		t.sent = 0
	}
	if t.inText {
		return t.scanText()
	}
	for {
		if t.r < t.w {
			if t.buf[t.r] != '<' {
				t.inText, t.inCDATA, t.b0, t.b1 = true, false, 0, 0
				return t.scanText()
			}
			if err := t.markup(); err != errMore {
				return err
			}
		}
		if !t.more() {
			if v := t.openVal - 1; t.RawToken && v >= 0 && !validChars(t.vals[v:]) {
				// encoding/xml ends a value at the end of its input, even
				// on a read error, and checks it.
				return t.syntax("invalid character in attribute value")
			}
			switch {
			case t.srcErr != io.EOF:
				return t.srcErr
			case t.r == t.w:
				t.Kind = EOF
				return nil
			}
			return t.syntax("unexpected EOF")
		}
	}
}

// markup parses the markup at buf[r] ('<'), or returns errMore.
func (t *Tokenizer) markup() error {
	t.openVal = 0
	s := t.buf[t.r:t.w]
	if len(s) < 2 {
		return errMore
	}
	switch s[1] {
	case '/':
		return t.endTag(s)
	case '?':
		return t.procInst(s)
	case '!':
		return t.bang(s)
	}
	return t.startTag(s)
}

func (t *Tokenizer) startTag(s []byte) error {
	i, err := t.name(s, 1, "expected element name after <")
	if err != nil {
		return err
	}
	var ok bool
	if t.Prefix, t.Local, ok = splitName(s[1:i]); !ok {
		return t.syntax("expected element name after <")
	}
	t.Attrs, t.vals = t.Attrs[:0], t.vals[:0]
	for {
		if i = skipSpace(s, i); i == len(s) {
			return errMore
		}
		if s[i] == '>' {
			i++
			break
		}
		if s[i] == '/' {
			if i+1 == len(s) {
				return errMore
			}
			if s[i+1] != '>' {
				return t.syntax("expected /> in element")
			}
			t.selfClose = true
			i += 2
			break
		}
		n0 := i
		if i, err = t.name(s, i, "expected attribute name in element"); err != nil {
			return err
		}
		p, l, ok := splitName(s[n0:i])
		if !ok {
			return t.syntax("expected attribute name in element")
		}
		if i = skipSpace(s, i); i == len(s) {
			return errMore
		}
		if s[i] != '=' {
			return t.syntax("attribute name without = in element")
		}
		if i = skipSpace(s, i+1); i == len(s) {
			return errMore
		}
		q := s[i]
		if q != '"' && q != '\'' {
			return t.syntax("unquoted or missing attribute value in element")
		}
		i++
		v0 := len(t.vals)
	value:
		for {
			k := i
			for k < len(s) && s[k] != q && s[k] != '<' && s[k] != '&' {
				k++
			}
			t.vals = appendLines(t.vals, s[i:k], false)
			if k == len(s) {
				t.openVal = v0 + 1
				return errMore
			}
			switch s[k] {
			case q:
				i = k + 1
				break value
			case '<':
				return t.syntax("unescaped < inside quoted string")
			}
			var n int
			if t.vals, n, ok = appendRef(t.vals, s[k:]); n == 0 {
				return errMore
			} else if !ok {
				return t.syntax("invalid character entity")
			}
			i = k + n
		}
		if !validChars(t.vals[v0:]) {
			return t.syntax("invalid character in attribute value")
		}
		t.Attrs = append(t.Attrs, Attr{Prefix: p, Local: l, v0: v0, v1: len(t.vals)})
	}
	for j := range t.Attrs {
		a := &t.Attrs[j]
		a.Value = t.vals[a.v0:a.v1]
	}
	t.Kind = StartElement
	t.r += i
	return nil
}

func (t *Tokenizer) endTag(s []byte) error {
	const msg = "expected element name after </"
	i, err := t.name(s, 2, msg)
	if err != nil {
		return err
	}
	var ok bool
	if t.Prefix, t.Local, ok = splitName(s[2:i]); !ok {
		return t.syntax(msg)
	}
	if i = skipSpace(s, i); i == len(s) {
		return errMore
	}
	if s[i] != '>' {
		return t.syntax("invalid characters between </" + string(t.Local) + " and >")
	}
	t.Kind = EndElement
	t.r += i + 1
	return nil
}

func (t *Tokenizer) procInst(s []byte) error {
	i, err := t.name(s, 2, "expected target name after <?")
	if err != nil {
		return err
	}
	t.Local = s[2:i]
	if i = skipSpace(s, i); i == len(s) {
		return errMore
	}
	k := bytes.Index(s[i:], []byte("?>"))
	if k < 0 {
		return errMore
	}
	t.Data = s[i : i+k]
	if string(t.Local) == "xml" {
		content := string(t.Data)
		if ver := procInstParam("version", content); ver != "" && ver != "1.0" {
			return t.fail(Version, fmt.Sprintf("unsupported version %q; only version 1.0 is supported", ver))
		}
		if enc := procInstParam("encoding", content); enc != "" && !strings.EqualFold(enc, "utf-8") {
			e := t.fail(Encoding, fmt.Sprintf("declared encoding %q: only UTF-8 input is supported", enc))
			e.Encoding = enc
			return e
		}
	}
	t.Kind = ProcInst
	t.r += i + k + 2
	return nil
}

// procInstParam is encoding/xml's procInst: the value of param="..." or
// param='...' in s, or "".
func procInstParam(param, s string) string {
	param += "="
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// bang parses a comment or starts a CDATA section. Other "<!" markup is
// refused as soon as it is told apart from those (the source is expected to
// refuse it too), or, with t.RawToken, scanned by rawBang.
func (t *Tokenizer) bang(s []byte) error {
	const comment, cdata, doctype = "<!--", "<![CDATA[", "<!DOCTYPE"
	switch {
	case bytes.HasPrefix(s, []byte(comment)):
		d := s[len(comment):]
		k := bytes.Index(d, []byte("--"))
		if k < 0 || k+2 == len(d) {
			return errMore
		}
		if d[k+2] != '>' {
			return t.syntax(`invalid sequence "--" not allowed in comments`)
		}
		t.Kind = Comment
		t.Data = d[:k]
		t.r += len(comment) + k + 3
		return nil
	case bytes.HasPrefix(s, []byte(cdata)):
		t.r += len(cdata)
		t.inText, t.inCDATA, t.b0, t.b1 = true, true, 0, 0
		return t.scanText()
	case t.RawToken:
		return t.rawBang(s)
	case bytes.HasPrefix([]byte(comment), s) || bytes.HasPrefix([]byte(cdata), s) || bytes.HasPrefix([]byte(doctype), s):
		return errMore
	case bytes.HasPrefix(s, []byte(doctype)):
		return t.fail(DTD, "document type declaration")
	}
	return t.fail(Declaration, "markup declaration outside a DTD")
}

// rawBang is RawToken's reading of "<!" markup s that is not a whole
// comment or CDATA section opening: a syntax error in a near miss of one,
// else a directive up to the first '>' outside quotes, nested '<' … '>'
// and comments, its comments replaced by a space.
func (t *Tokenizer) rawBang(s []byte) error {
	const cdata = "<![CDATA["
	switch {
	case len(s) < 4:
		return errMore
	case s[2] == '-':
		return t.syntax("invalid sequence <!- not part of <!--")
	case s[2] == '[':
		for i := 3; i < len(cdata); i++ {
			if i == len(s) {
				return errMore
			}
			if s[i] != cdata[i] {
				return t.syntax("invalid <![ sequence")
			}
		}
	}
	d := append(t.text[:0], s[2])
	var quote byte
	depth := 0
	for i := 3; ; i++ {
		if i == len(s) {
			return errMore
		}
		c := s[i]
		if quote == 0 && c == '>' && depth == 0 {
			t.text = d[:0]
			t.Kind, t.Data = Directive, d
			t.r += i + 1
			return nil
		}
		d = append(d, c)
		switch {
		case c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == '>':
			depth--
		case c == '<':
			if j := matchLen(s[i+1:], "!--"); j < 3 {
				if i+1+j == len(s) {
					return errMore
				}
				// Not a comment: "<" and what matched are content; the byte
				// that did not match is looked at again.
				d = append(d, "!--"[:j]...)
				depth++
				i += j
				continue
			}
			d = d[:len(d)-1]
			k := commentEnd(s[i+4:])
			if k < 0 {
				return errMore
			}
			d = append(d, ' ')
			i += 4 + k
		}
	}
}

// matchLen is the length of the longest common prefix of b and s.
func matchLen(b []byte, s string) int {
	j := 0
	for j < len(b) && j < len(s) && b[j] == s[j] {
		j++
	}
	return j
}

// commentEnd is the index of the '>' that ends a comment inside a directive
// in s, found as RawToken finds it, or -1.
func commentEnd(s []byte) int {
	var b0, b1 byte
	for k, c := range s {
		if b0 == '-' && b1 == '-' && c == '>' {
			return k
		}
		b0, b1 = b1, c
	}
	return -1
}

// name scans the name at s[i] and returns its end; msg is the error if there
// is none. Like encoding/xml, a name runs up to the first ASCII byte that is
// not a name byte and is then checked against the XML name production.
func (t *Tokenizer) name(s []byte, i int, msg string) (int, error) {
	if i == len(s) {
		return i, errMore
	}
	if c := s[i]; c < utf8.RuneSelf && !nameByte[c] {
		return i, t.syntax(msg)
	}
	i0, ascii := i, true
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			ascii = false
		} else if !nameByte[c] {
			break
		}
	}
	if i == len(s) {
		return i, errMore
	}
	if ascii {
		if c := s[i0]; c != '-' && c != '.' && (c < '0' || c > '9') {
			return i, nil
		}
	} else if isName(s[i0:i]) {
		return i, nil
	}
	return i, t.syntax("invalid XML name: " + string(s[i0:i]))
}

// nameByte marks the ASCII bytes encoding/xml reads as part of a name.
var nameByte = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '_' || c == ':' || c == '.' || c == '-'
	}
	return t
}()

// isName is encoding/xml's isName.
func isName(s []byte) bool {
	c, n := utf8.DecodeRune(s)
	if c == utf8.RuneError && n == 1 || !unicode.Is(first, c) {
		return false
	}
	for s = s[n:]; len(s) > 0; s = s[n:] {
		c, n = utf8.DecodeRune(s)
		if c == utf8.RuneError && n == 1 || !unicode.Is(first, c) && !unicode.Is(second, c) {
			return false
		}
	}
	return true
}

// splitName splits a name as encoding/xml's nsname does: at its colon if it
// has one with something on both sides; false if it has more than one.
func splitName(n []byte) (prefix, local []byte, ok bool) {
	k := bytes.IndexByte(n, ':')
	switch {
	case k < 0:
		return nil, n, true
	case bytes.IndexByte(n[k+1:], ':') >= 0:
		return nil, nil, false
	case k == 0 || k == len(n)-1:
		return nil, n, true
	}
	return n[:k], n[k+1:], true
}

// IsSpace reports whether b is only XML white space (space, tab, CR, LF),
// or empty.
func IsSpace(b []byte) bool { return skipSpace(b, 0) == len(b) }

func skipSpace(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	return i
}

// appendRef decodes the reference at the start of s (s[0] is '&') as
// encoding/xml does and appends its value to dst; n is its length, 0 if s
// ends first. Only the five predefined entities exist; a character reference
// to a surrogate gives U+FFFD, and an invalid character is left for
// validChars to refuse.
func appendRef(dst, s []byte) (out []byte, n int, ok bool) {
	i := 1
	if i == len(s) {
		return dst, 0, true
	}
	if s[i] == '#' {
		i++
		if i == len(s) {
			return dst, 0, true
		}
		base := rune(10)
		if s[i] == 'x' {
			base = 16
			i++
		}
		i0 := i
		var v rune
		for ; i < len(s); i++ {
			var d rune
			switch c := rune(s[i]); {
			case '0' <= c && c <= '9':
				d = c - '0'
			case base == 16 && 'a' <= c && c <= 'f':
				d = c - 'a' + 10
			case base == 16 && 'A' <= c && c <= 'F':
				d = c - 'A' + 10
			default:
				d = -1
			}
			if d < 0 {
				break
			}
			v = min(v*base+d, unicode.MaxRune+1)
		}
		switch {
		case i == len(s):
			return dst, 0, true
		case s[i] != ';' || i == i0 || v > unicode.MaxRune:
			return dst, i + 1, false
		}
		return utf8.AppendRune(dst, v), i + 1, true
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < utf8.RuneSelf && !nameByte[c] {
			break
		}
	}
	if i == len(s) {
		return dst, 0, true
	}
	if s[i] != ';' {
		return dst, i + 1, false
	}
	var c byte
	switch string(s[1:i]) {
	case "lt":
		c = '<'
	case "gt":
		c = '>'
	case "amp":
		c = '&'
	case "apos":
		c = '\''
	case "quot":
		c = '"'
	default:
		return dst, i + 1, false
	}
	return append(dst, c), i + 1, true
}

// shortRef returns a reference prefix equivalent to the unfinished reference
// s: whatever follows, both are valid with the same value or both invalid.
func shortRef(s []byte) string {
	if s[1] != '#' {
		return "&name_" // longer than any entity name
	}
	p, base, digits := "&#", rune(10), s[2:]
	if len(digits) > 0 && digits[0] == 'x' {
		p, base, digits = "&#x", 16, digits[1:]
	}
	if len(digits) == 0 {
		return p
	}
	var v rune
	for _, c := range digits {
		d := rune(c - '0')
		if base == 16 && c >= 'A' {
			d = rune(c|0x20-'a') + 10
		}
		v = min(v*base+d, unicode.MaxRune+1)
	}
	return p + strconv.FormatInt(int64(v), int(base))
}

// scanText decodes text (or a CDATA section) from buf[r] on and hands it
// over as a Text: all of it at its end, a piece if it is long.
func (t *Tokenizer) scanText() error {
	for {
		done, err := t.decodeText()
		if err != nil {
			return err
		}
		if done {
			t.inText = false
			return t.emitText(len(t.text))
		}
		if len(t.text) >= TextPiece && !t.RawToken {
			// Keep the last 3 bytes: the "]]" of "]]>" and no part of a
			// UTF-8 sequence go into this piece.
			n := len(t.text) - 3
			for k := 0; k < 3 && !utf8.RuneStart(t.text[n]); k++ {
				n--
			}
			return t.emitText(n)
		}
		if t.w-t.r > ReadSize {
			// An unfinished reference this long is "&#" or "&#x" and zeros
			// or too many digits, or a name too long for an entity: keep
			// an equivalent short one, so that memory stays bounded.
			short := shortRef(t.buf[t.r:t.w])
			t.r = t.w - copy(t.buf[t.w-len(short):t.w], short)
		}
		if !t.more() {
			t.inText = false
			// encoding/xml ends text, but not a CDATA section or a
			// reference, at the end of its input, even on a read error.
			if t.inCDATA || t.r < t.w {
				if t.srcErr != io.EOF {
					return t.srcErr
				}
				return t.syntax("unexpected EOF in text")
			}
			err := t.emitText(len(t.text))
			if err != nil && t.srcErr != io.EOF && !t.RawToken {
				return t.srcErr
			}
			return err
		}
	}
}

// emitText validates t.text[:n] and makes it the current token.
func (t *Tokenizer) emitText(n int) error {
	if !validChars(t.text[:n]) {
		return t.syntax("invalid UTF-8 or character in text")
	}
	t.Kind = Text
	t.Data = t.text[:n]
	t.sent = n
	return nil
}

// decodeText decodes buf[r:w] into t.text up to the end of the text or CDATA
// section (done) or of the buffer; it stops before a reference that the
// buffer does not hold entirely.
func (t *Tokenizer) decodeText() (done bool, err error) {
	end := t.w
	if !t.inCDATA {
		if k := bytes.IndexByte(t.buf[t.r:t.w], '<'); k >= 0 {
			end = t.r + k
			done = true
		}
	}
	gt, amp := -1, end
	if !t.inCDATA {
		amp = -1
	}
	for t.r < end {
		if gt < t.r {
			if gt = bytes.IndexByte(t.buf[t.r:end], '>'); gt < 0 {
				gt = end
			} else {
				gt += t.r
			}
		}
		if amp < t.r {
			if amp = bytes.IndexByte(t.buf[t.r:end], '&'); amp < 0 {
				amp = end
			} else {
				amp += t.r
			}
		}
		k := min(gt, amp)
		t.appendRaw(t.buf[t.r:k])
		t.r = k
		if k == end {
			break
		}
		if k == gt {
			t.r++
			if t.b0 == ']' && t.b1 == ']' {
				if !t.inCDATA {
					return false, t.syntax("unescaped ]]> not in CDATA section")
				}
				t.text = t.text[:len(t.text)-2]
				return true, nil
			}
			t.text = append(t.text, '>')
			t.b0, t.b1 = t.b1, '>'
			continue
		}
		var n int
		var ok bool
		if t.text, n, ok = appendRef(t.text, t.buf[k:t.w]); n == 0 {
			return false, nil
		} else if !ok {
			return false, t.syntax("invalid character entity")
		}
		t.r = k + n
		t.b0, t.b1 = 0, 0
	}
	return done, nil
}

func (t *Tokenizer) appendRaw(s []byte) {
	afterCR := t.b1 == '\r'
	switch len(s) {
	case 0:
		return
	case 1:
		t.b0, t.b1 = t.b1, s[0]
	default:
		t.b0, t.b1 = s[len(s)-2], s[len(s)-1]
	}
	t.text = appendLines(t.text, s, afterCR)
}

// appendLines appends raw text or attribute value s to dst with line ends
// normalized as encoding/xml does: "\r\n" and "\r" become "\n". afterCR: the
// raw byte before s was '\r'.
func appendLines(dst, s []byte, afterCR bool) []byte {
	if afterCR && len(s) > 0 && s[0] == '\n' {
		s = s[1:]
	}
	for {
		k := bytes.IndexByte(s, '\r')
		if k < 0 {
			return append(dst, s...)
		}
		dst = append(append(dst, s[:k]...), '\n')
		s = s[k+1:]
		if len(s) > 0 && s[0] == '\n' {
			s = s[1:]
		}
	}
}

// validChars reports whether b is UTF-8 of characters in the XML Char
// production, as encoding/xml checks text and attribute values.
func validChars(b []byte) bool {
	for i := 0; i < len(b); {
		if i+8 <= len(b) {
			// All 8 bytes in 0x20-0x7F?
			x := binary.LittleEndian.Uint64(b[i:])
			if (x|(x-0x2020202020202020))&0x8080808080808080 == 0 {
				i += 8
				continue
			}
		}
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 || !isInCharacterRange(r) {
			return false
		}
		i += n
	}
	return true
}

// isInCharacterRange is encoding/xml's: the XML 1.0 Char production.
func isInCharacterRange(r rune) bool {
	return r == 0x09 ||
		r == 0x0A ||
		r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
