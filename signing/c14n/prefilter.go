package c14n

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// prefilter sits between the input and the tokenizer (and, in tests, the
// encoding/xml decoder the tokenizer replaced). It does, on the raw byte
// stream and in constant memory, the parts of XML parsing that encoding/xml
// either does not do or does in a way that loses information needed for
// canonicalization, and keeps encoding/xml's memory bounded:
//
//   - end-of-line handling (XML 1.0 §2.11): "\r\n" and a lone "\r" become
//     "\n" everywhere, including in processing instructions and comments
//     (encoding/xml only does it in text and attribute values);
//   - attribute-value normalization (XML 1.0 §3.3.3, CDATA attributes since
//     DTDs are refused): a literal tab, newline or carriage return inside a
//     quoted attribute value becomes a space. encoding/xml returns attribute
//     values with character references already expanded, so "&#xA;" and a
//     literal newline are indistinguishable afterwards; libxml2 (xmlsec1)
//     turns the literal one into a space and keeps the referenced one;
//   - a leading UTF-8 byte order mark is dropped;
//   - "<!" not followed by "--" or "[CDATA[" is refused: ErrDTD for
//     "<!DOCTYPE", ErrMalformed otherwise (encoding/xml would otherwise buffer a
//     whole internal subset and hand it over as a Directive);
//   - markup (tags, comments, processing instructions) longer than the limit is
//     refused with ErrTokenTooLong before encoding/xml has buffered it. Text
//     and CDATA sections are not limited;
//   - long text is split: encoding/xml buffers a whole text node before
//     returning it, which for a base64 attachment is most of the document.
//     After every textChunk bytes of text the filter inserts an empty CDATA
//     section "<![CDATA[]]>" (in a CDATA section: "]]><![CDATA["). Both are
//     no-ops in the XPath data model (text is text, however delimited), so the
//     canonical form is unchanged, but encoding/xml returns the text in
//     pieces and its buffer stays at about textChunk bytes. A split is never
//     made inside an entity or character reference or right after ']' (so
//     that "]]>" in text is still detected as an error).
//
// The state machine mirrors how encoding/xml's rawToken (and so the
// tokenizer) finds the end of each kind of markup, so that both agree on what
// is text, what is an attribute value and what is markup whenever
// encoding/xml accepts the input.
type prefilter struct {
	src       io.Reader
	buf       []byte
	r, w      int // buf[r:w] is unread input
	max       int64
	textChunk int
	err       error // sticky; returned by Read and inspected by Canonicalize
	srcErr    error // error from src, delivered once buf is drained

	started bool   // BOM check done
	lastCR  bool   // previous input byte was '\r' (already written as '\n')
	pending string // inserted bytes not yet delivered
	state   pfState
	quote   byte // in pfAttr: the closing quote
	b0, b1  byte // last two bytes seen inside a comment, PI or CDATA section
	inRef   bool // pfText: inside "&...;"
	cont    int  // UTF-8 continuation bytes still expected
	run     int  // text bytes since the last markup or split
	bang    [8]byte
	nbang   int
	n       int64 // bytes of the current markup token
	offset  int64 // input bytes consumed, for error messages
}

type pfState uint8

const (
	pfText    pfState = iota
	pfLT              // after '<'
	pfBang            // after "<!"
	pfComment         // inside "<!--"
	pfCDATA           // inside "<![CDATA["
	pfPI              // inside "<?"
	pfTag             // inside a start or end tag, outside quotes
	pfAttr            // inside a quoted attribute value
)

const (
	defaultTextChunk = 32 << 10
	splitText        = "<![CDATA[]]>"
	splitCDATA       = "]]><![CDATA["
)

func newPrefilter(r io.Reader, maxToken, textChunk int) *prefilter {
	if textChunk <= 0 {
		textChunk = defaultTextChunk
	}
	return &prefilter{src: r, buf: *prefilterBufs.Get().(*[]byte), max: int64(maxToken), textChunk: textChunk}
}

// prefilterBufs holds the input buffers of finished prefilters.
var prefilterBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// release gives the buffer back; f is not read again.
func (f *prefilter) release() {
	if f.buf != nil {
		b := f.buf
		f.buf, f.r, f.w = nil, 0, 0
		prefilterBufs.Put(&b)
	}
}

var errReadFailed = errors.New("c14n: reading input")

// plainText marks the bytes that step treats, in text, only by counting them:
// ASCII except '<', '&', ';', ']' and '\r'.
var plainText = bytesBelowExcept(0x80, "<&;]\r")

// plainTag marks the bytes that step passes unchanged inside a tag, outside
// quotes, without a change of state: all but quotes, '>' and '\r'.
var plainTag = bytesBelowExcept(0x100, "\"'>\r")

// plainAttr marks the bytes that step passes unchanged inside a quoted
// attribute value, but for the closing quote: all but the white space that
// attribute-value normalization rewrites.
var plainAttr = bytesBelowExcept(0x100, "\t\n\r")

// bytesBelowExcept is the table of the bytes below end but those in except.
func bytesBelowExcept(end int, except string) (t [256]bool) {
	for c := range end {
		t[c] = true
	}
	for _, c := range except {
		t[c] = false
	}
	return t
}

// plainWords returns the length of the longest prefix of b made of whole
// 8-byte words of plainText bytes.
func plainWords(b []byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// zero has the high bit of each zero byte of x set (and no other bit
	// if there is none).
	zero := func(x uint64) uint64 { return (x - ones) &^ x & highs }
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if x&highs|zero(x^'<'*ones)|zero(x^'&'*ones)|zero(x^';'*ones)|zero(x^']'*ones)|zero(x^'\r'*ones) != 0 {
			break
		}
	}
	return i
}

// fill reads more input into buf; false when there is none (f.srcErr set).
func (f *prefilter) fill() bool {
	for tries := 0; f.srcErr == nil; tries++ {
		var n int
		var err error
		if !f.started {
			// The first read gathers 3 bytes, for the BOM check.
			f.started = true
			n, err = io.ReadAtLeast(f.src, f.buf, 3)
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
		} else {
			if tries > 100 {
				err = io.ErrNoProgress
			} else {
				n, err = f.src.Read(f.buf)
			}
		}
		f.r, f.w = 0, n
		if f.offset == 0 && n >= 3 && f.buf[0] == 0xEF && f.buf[1] == 0xBB && f.buf[2] == 0xBF {
			f.r = 3
			f.offset = 3
		}
		if err == io.EOF {
			f.srcErr = io.EOF
		} else if err != nil {
			f.srcErr = fmt.Errorf("%w: %w", errReadFailed, err)
		}
		if f.r < f.w {
			return true
		}
	}
	return false
}

func (f *prefilter) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n := 0
	for n < len(p) {
		if f.pending != "" {
			k := copy(p[n:], f.pending)
			f.pending = f.pending[k:]
			n += k
			continue
		}
		if f.r == f.w {
			if n > 0 {
				break // deliver what we have before blocking on more input
			}
			if !f.fill() {
				f.err = f.srcErr
				return 0, f.err
			}
			continue
		}
		if f.state == pfText && !f.lastCR && f.pending == "" {
			// Fast path: a run of plain ASCII text bytes that need no
			// rewriting and cannot end the text or reach a split point.
			k := min(f.w-f.r, len(p)-n, f.textChunk-1-f.run)
			i := plainWords(f.buf[f.r : f.r+max(k, 0)])
			for i < k && plainText[f.buf[f.r+i]] {
				i++
			}
			if i > 0 {
				n = f.pass(p, n, i)
				f.run += i
				f.cont = 0
				continue
			}
		}
		if (f.state == pfTag || f.state == pfAttr) && !f.lastCR && f.pending == "" {
			// Fast path: inside a tag, a run of bytes that neither end it,
			// start or end a quoted value, nor need rewriting; markup's
			// length limit is left for step to enforce.
			k := min(f.w-f.r, len(p)-n, int(f.max-f.n))
			b := f.buf[f.r : f.r+max(k, 0)]
			i := 0
			if f.state == pfTag {
				for i < len(b) && plainTag[b[i]] {
					i++
				}
			} else {
				for i < len(b) && plainAttr[b[i]] && b[i] != f.quote {
					i++
				}
			}
			if i > 0 {
				n = f.pass(p, n, i)
				f.n += int64(i)
				continue
			}
		}
		c := f.buf[f.r]
		f.r++
		f.offset++
		// End-of-line handling.
		if c == '\r' {
			c = '\n'
			f.lastCR = true
		} else if c == '\n' && f.lastCR {
			f.lastCR = false
			continue
		} else {
			f.lastCR = false
		}
		if !f.step(&c) {
			return 0, f.err
		}
		p[n] = c
		n++
	}
	return n, nil
}

// pass hands the next i input bytes on unchanged into p[n:], which has room
// for them, and returns the new n.
func (f *prefilter) pass(p []byte, n, i int) int {
	copy(p[n:], f.buf[f.r:f.r+i])
	f.r += i
	f.offset += int64(i)
	return n + i
}

// step advances the state machine over input byte *c, possibly rewriting it
// and scheduling an insertion after it. False on error (f.err set).
func (f *prefilter) step(c *byte) bool {
	switch f.state {
	case pfText:
		switch *c {
		case '<':
			f.state = pfLT
			f.n = 1
			f.inRef = false
			f.cont = 0
			return true
		case '&':
			f.inRef = true
		case ';':
			f.inRef = false
		}
		f.run++
		if ok := f.canSplit(*c); ok && f.run >= f.textChunk && !f.inRef && *c != '&' {
			f.pending = splitText
			f.run = 0
		}
		return true
	case pfCDATA:
		if *c == '>' && f.b0 == ']' && f.b1 == ']' {
			f.state = pfText
			f.run = 0
			return true
		}
		f.b0, f.b1 = f.b1, *c
		f.run++
		if ok := f.canSplit(*c); ok && f.run >= f.textChunk {
			f.pending = splitCDATA
			f.run = 0
			f.b0, f.b1 = 0, 0 // a new CDATA section starts after the split
		}
		return true
	}
	f.n++
	if f.n > f.max {
		f.fail(ErrTokenTooLong, rTokenTooLong, fmt.Sprintf("markup longer than %d bytes", f.max))
		return false
	}
	switch f.state {
	case pfLT:
		switch *c {
		case '!':
			f.state = pfBang
			f.nbang = 0
		case '?':
			f.state = pfPI
			f.b1 = 0
		default:
			f.state = pfTag
			f.tag(*c)
		}
	case pfBang:
		f.bangByte(*c)
		if f.err != nil {
			return false
		}
	case pfComment:
		if f.b0 == '-' && f.b1 == '-' {
			if *c != '>' {
				f.fail(ErrMalformed, rSyntax, `"--" inside a comment`)
				return false
			}
			f.state = pfText
			f.run = 0
		}
		f.b0, f.b1 = f.b1, *c
	case pfPI:
		if *c == '>' && f.b1 == '?' {
			f.state = pfText
			f.run = 0
		}
		f.b1 = *c
	case pfTag:
		f.tag(*c)
	case pfAttr:
		switch *c {
		case f.quote:
			f.state = pfTag
		case '\n', '\t':
			*c = ' '
		}
	}
	return true
}

// canSplit reports whether text may be split after byte c: not inside a
// UTF-8 sequence (encoding/xml validates UTF-8 per token) and not after ']'.
// It must be called for every text byte, as it tracks UTF-8 sequences.
func (f *prefilter) canSplit(c byte) bool {
	switch {
	case c < 0x80:
		f.cont = 0
	case c < 0xC0: // continuation byte
		if f.cont > 0 {
			f.cont--
		}
	case c < 0xE0:
		f.cont = 1
	case c < 0xF0:
		f.cont = 2
	default:
		f.cont = 3
	}
	return f.cont == 0 && c != ']'
}

func (f *prefilter) fail(kind error, r reason, msg string) {
	f.err = &Error{Err: kind, Offset: f.offset, Msg: msg, reason: r}
}

func (f *prefilter) tag(c byte) {
	switch c {
	case '"', '\'':
		f.state = pfAttr
		f.quote = c
	case '>':
		f.state = pfText
		f.run = 0
	}
}

func (f *prefilter) bangByte(c byte) {
	f.bang[f.nbang] = c
	f.nbang++
	got := string(f.bang[:f.nbang])
	for _, cand := range [...]string{"--", "[CDATA[", "DOCTYPE"} {
		if len(got) > len(cand) || cand[:len(got)] != got {
			continue
		}
		if len(got) < len(cand) {
			return // still a possible prefix
		}
		switch cand {
		case "--":
			f.state = pfComment
			f.b0, f.b1 = 0, 0
		case "[CDATA[":
			f.state = pfCDATA
			f.b0, f.b1 = 0, 0
			f.run = 0
			f.cont = 0
		default:
			f.fail(ErrDTD, rDTD, "document type declaration")
		}
		return
	}
	f.fail(ErrMalformed, rDirective, "markup declaration outside a DTD")
}
