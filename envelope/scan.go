package envelope

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// span is a run of source bytes [Off, Off+Len).
type span struct {
	Off, Len int64
}

// scanner sits between the source and the tokenizer. It passes bytes through
// unchanged, except that a text run longer than elideAt made only of base64
// characters and XML white space (an attachment payload) is not passed on:
// its position in the source is recorded and a marker comment carrying a
// per-parse random nonce stands in its place. The parser turns the i-th
// marker back into runs[i]: a payload, or, where a value stands, the run's
// text read back from the source. Everything else longer than maxText is refused,
// so the tokenizer never buffers more than maxText bytes of anything.
//
// The scanner also enforces the size limit and refuses any <!DOCTYPE …> (or
// other markup declaration) before the decoder sees it.
type scanner struct {
	src     io.Reader
	off     int64 // source offset of the next byte to process
	max     int64
	maxText int
	elideAt int
	at      io.ReaderAt // the source again, to put back a run that is not a payload
	marker  []byte
	runs    []span

	in     []byte
	out    []byte
	outPos int
	state  scanState
	err    error

	run      []byte // pending text of the current run, while not eliding
	runStart int64
	runB64   bool
	eliding  bool

	markLen int
	quote   byte
	last2   [2]byte
	decl    []byte // collected markup declaration, for classification
	declLvl int

	bufs *scanBuffers // where in, out and run came from; nil once released
}

type scanState int

const (
	stText     scanState = iota
	stLT                 // after '<'
	stBang               // after "<!"
	stBangDash           // after "<!-"
	stTag                // inside a start/end tag
	stComment            // inside <!-- -->
	stCDATA              // inside <![CDATA[ ]]>
	stPI                 // inside <? ?>
	stDecl               // inside <!DOCTYPE …>, collected only to be refused
)

// b64 marks bytes that may appear in an elidable run.
var b64 = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "+/= \t\r\n" {
		t[c] = true
	}
	return
}()

// elideAt is the length from which a base64 run is skipped rather than
// handed to the tokenizer.
const elideAt = 1 << 10

// scanBuffers are a scanner's working buffers, kept in scanPool between
// parses: made afresh, they were two fifths of the bytes a 10 KB
// packet's parse allocated.
type scanBuffers struct{ in, out, run []byte }

var scanPool = sync.Pool{New: func() any { return new(scanBuffers) }}

// errReleased answers a read of a released scanner (a bug, not input).
var errReleased = &Error{Err: ErrRead, Msg: "internal: the scanner was read after its parse"}

// maxPooled is the largest buffer put back in scanPool: a long text run
// grows run and out up to maxText, which is not kept.
const maxPooled = 64 << 10

func newScanner(src io.ReaderAt, size, max int64, maxText int, nonce string) *scanner {
	b := scanPool.Get().(*scanBuffers)
	n := min(32<<10, int(size)+1)
	if cap(b.in) < n {
		b.in = make([]byte, 32<<10)
	}
	if cap(b.out) < n {
		b.out = make([]byte, 0, 32<<10)
	}
	return &scanner{
		src:     io.NewSectionReader(src, 0, size),
		at:      src,
		max:     max,
		maxText: maxText,
		elideAt: min(elideAt, maxText),
		marker:  []byte("<!--" + nonce + "-->"),
		in:      b.in[:n],
		out:     b.out[:0],
		run:     b.run[:0],
		runB64:  true,
		bufs:    b,
	}
}

// release returns the working buffers to scanPool. Nothing the parse
// returns points into them: the tokenizer copies what it reads, the parser
// what it keeps. The scanner must not be read after.
func (s *scanner) release() {
	b := s.bufs
	if b == nil {
		return
	}
	s.bufs = nil
	if cap(s.in) <= maxPooled && cap(s.out) <= maxPooled && cap(s.run) <= maxPooled {
		b.in, b.out, b.run = s.in[:0], s.out[:0], s.run[:0]
		scanPool.Put(b)
	}
	s.in, s.out, s.run, s.err = nil, nil, nil, errReleased
}

func (s *scanner) Read(p []byte) (int, error) {
	for len(s.out) == s.outPos {
		if s.err != nil {
			return 0, s.err
		}
		n, err := s.src.Read(s.in)
		if err != nil && err != io.EOF {
			err = &Error{Err: ErrRead, Msg: "cannot read the packet: " + err.Error()}
		}
		if n > 0 {
			if s.off+int64(n) > s.max {
				s.err = &Error{Err: ErrTooLarge, Msg: fmt.Sprintf("packet is larger than %d bytes", s.max)}
				return 0, s.err
			}
			if perr := s.process(s.in[:n]); perr != nil {
				s.err = perr
				if len(s.out) == s.outPos {
					return 0, s.err
				}
			}
		}
		if err != nil {
			if s.err == nil {
				s.finish()
				s.err = err
				if err == io.EOF && s.state == stDecl {
					// A declaration cut off by the end of the input is
					// refused for what it is, not reported as truncation.
					s.err = s.refuseDecl()
				}
			}
		}
	}
	n := copy(p, s.out[s.outPos:])
	s.outPos += n
	if s.outPos == len(s.out) {
		s.out, s.outPos = s.out[:0], 0
	}
	return n, nil
}

// finish flushes a text run still open at end of input.
func (s *scanner) finish() {
	if s.state != stText {
		return
	}
	if s.eliding {
		s.endElided()
	} else {
		s.out = append(s.out, s.run...)
		s.run = s.run[:0]
	}
}

func (s *scanner) endElided() {
	s.runs = append(s.runs, span{Off: s.runStart, Len: s.off - s.runStart})
	s.out = append(s.out, s.marker...)
	s.eliding = false
	s.runB64 = true
}

func (s *scanner) process(b []byte) error {
	for len(b) > 0 {
		if s.state == stText {
			i := bytes.IndexByte(b, '<')
			seg := b
			if i >= 0 {
				seg = b[:i]
			}
			if err := s.text(seg); err != nil {
				return err
			}
			s.off += int64(len(seg))
			b = b[len(seg):]
			if i < 0 {
				return nil
			}
			// End of the run.
			if s.eliding {
				s.endElided()
			} else {
				s.out = append(s.out, s.run...)
				s.run = s.run[:0]
				s.runB64 = true
			}
			s.out = append(s.out, '<')
			s.off++
			b = b[1:]
			s.state = stLT
			s.markLen = 1
			continue
		}
		if s.state == stTag {
			// Inside a tag, pass on in one piece the bytes that change
			// nothing: up to a quote or '>' outside a quoted value, up to
			// the closing quote inside one. markup keeps the length limit.
			i := tagRun(b, s.quote)
			i = min(i, max(s.maxText-s.markLen, 0))
			if i > 0 {
				s.out = append(s.out, b[:i]...)
				s.markLen += i
				s.off += int64(i)
				b = b[i:]
				continue
			}
		}
		c := b[0]
		s.off++
		b = b[1:]
		if err := s.markup(c); err != nil {
			return err
		}
	}
	return nil
}

// text handles a segment of a text run (no '<' in it).
func (s *scanner) text(seg []byte) error {
	if len(seg) == 0 {
		return nil
	}
	if s.eliding {
		j := 0
		for j < len(seg) && b64[seg[j]] {
			j++
		}
		if j == len(seg) {
			return nil
		}
		// Not a payload after all (a long plain-ASCII value, say): put the
		// run back, read from the source, and go on buffering it.
		n := s.off + int64(j) - s.runStart
		if n+int64(len(seg)-j) > int64(s.maxText) {
			return &Error{Err: ErrTextTooLong, Msg: fmt.Sprintf("text longer than %d bytes (at byte %d)", s.maxText, s.runStart)}
		}
		s.run = append(s.run[:0], make([]byte, n)...)
		if _, err := s.at.ReadAt(s.run, s.runStart); err != nil {
			return &Error{Err: ErrRead, Msg: fmt.Sprintf("cannot read the packet: %v", err)}
		}
		s.eliding, s.runB64 = false, false
		s.run = append(s.run, seg...)
		return nil
	}
	if s.runB64 {
		for _, c := range seg {
			if !b64[c] {
				s.runB64 = false
				break
			}
		}
	}
	switch n := len(s.run) + len(seg); {
	case n <= s.elideAt || (!s.runB64 && n <= s.maxText):
		s.run = append(s.run, seg...)
		return nil
	case !s.runB64:
		return &Error{Err: ErrTextTooLong, Msg: fmt.Sprintf("text longer than %d bytes (at byte %d)", s.maxText, s.runStart)}
	}
	// A long base64 run: stop buffering it.
	s.eliding = true
	s.run = s.run[:0]
	return nil
}

func (s *scanner) markup(c byte) error {
	s.out = append(s.out, c)
	s.markLen++
	if s.markLen > s.maxText && s.state != stDecl {
		return &Error{Err: ErrMarkupTooLong, Msg: fmt.Sprintf("markup longer than %d bytes (at byte %d)", s.maxText, s.off)}
	}
	switch s.state {
	case stLT:
		switch c {
		case '!':
			s.state = stBang
		case '?':
			s.state, s.last2 = stPI, [2]byte{}
		default:
			s.state, s.quote = stTag, 0
			if c == '>' {
				s.toText()
			}
		}
	case stBang:
		switch c {
		case '-':
			s.state = stBangDash
		case '[':
			s.state, s.last2 = stCDATA, [2]byte{}
		default:
			// <!DOCTYPE, <!ENTITY, <!ELEMENT …: collect to classify, then refuse.
			s.state, s.quote, s.declLvl = stDecl, 0, 0
			s.decl = append(s.decl[:0], '<', '!', c)
		}
	case stBangDash:
		if c != '-' {
			return &Error{Err: ErrMalformed, Msg: fmt.Sprintf("malformed comment at byte %d", s.off)}
		}
		s.state, s.last2 = stComment, [2]byte{}
	case stComment:
		if c == '>' && s.last2 == [2]byte{'-', '-'} {
			s.toText()
		} else {
			s.last2 = [2]byte{s.last2[1], c}
		}
	case stCDATA:
		if c == '>' && s.last2 == [2]byte{']', ']'} {
			s.toText()
		} else {
			s.last2 = [2]byte{s.last2[1], c}
		}
	case stPI:
		if c == '>' && s.last2[1] == '?' {
			s.toText()
		} else {
			s.last2 = [2]byte{s.last2[1], c}
		}
	case stTag:
		switch {
		case s.quote != 0:
			if c == s.quote {
				s.quote = 0
			}
		case c == '"' || c == '\'':
			s.quote = c
		case c == '>':
			s.toText()
		}
	case stDecl:
		s.decl = append(s.decl, c)
		// Quoted literals are skipped: a "]>" inside an entity value must
		// not end the declaration early, before a SYSTEM identifier after
		// it has been seen.
		switch {
		case s.quote != 0:
			if c == s.quote {
				s.quote = 0
			}
		case c == '"' || c == '\'':
			s.quote = c
		case c == '[':
			s.declLvl++
		case c == ']':
			s.declLvl--
		case c == '>':
			if s.declLvl <= 0 {
				return s.refuseDecl()
			}
		}
		if len(s.decl) >= s.maxText {
			return s.refuseDecl()
		}
	}
	return nil
}

// tagRun is the length of the prefix of b that a tag passes on without a
// change of state: up to a quote of either kind or '>' outside a quoted
// value (quote 0), up to the closing quote inside one.
func tagRun(b []byte, quote byte) int {
	if quote != 0 {
		if i := bytes.IndexByte(b, quote); i >= 0 {
			return i
		}
		return len(b)
	}
	for i, c := range b {
		if c == '"' || c == '\'' || c == '>' {
			return i
		}
	}
	return len(b)
}

func (s *scanner) toText() {
	s.state = stText
	s.runStart = s.off
	s.runB64 = true
}

// refuseDecl rejects the markup declaration collected so far.
func (s *scanner) refuseDecl() error { return declErr(s.decl) }

// declErr is the error for a markup declaration d (from "<!"): external
// entities (SYSTEM or PUBLIC identifiers) get their own error, any other DTD
// ErrDTD.
func declErr(decl []byte) *Error {
	d := decl
	if len(d) > 64 {
		d = d[:64]
	}
	if bytes.Contains(decl, []byte("SYSTEM")) || bytes.Contains(decl, []byte("PUBLIC")) {
		return &Error{Err: ErrExternalEntity, Msg: fmt.Sprintf("external entity or DTD reference refused: %q…", d)}
	}
	return &Error{Err: ErrDTD, Msg: fmt.Sprintf("markup declaration refused: %q…", d)}
}
