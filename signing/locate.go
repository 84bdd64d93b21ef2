package signing

import (
	"bytes"
	"encoding/xml"
	"io"

	"github.com/edocgw/edocgw/internal/xmltok"
)

// headerPath is where the one Signature of an edXML packet stands.
var headerPath = []string{"edXML", "edXMLEnvelope", "edXMLHeader"}

// location is the Signature element of a packet as it stands in the source:
// its raw bytes, the raw start tags of its ancestors (which carry the
// namespace declarations in scope) and their qualified names.
type location struct {
	ancestors [][]byte
	names     []string
	sig       []byte
	start     int64 // offset of the Signature start tag
	end       int64 // offset just after its end tag
	// headerEnd is the offset of edXMLHeader's end tag: where Sign inserts.
	headerEnd int64
	// indent is the white space before the header's end tag.
	indent []byte
}

// locate finds the Signature child of /edXML/edXMLEnvelope/edXMLHeader by
// local names in the raw token stream, reading no further than the end of
// the header. More than one element named Signature there is refused: which
// one a verifier would pick is how wrapping attacks begin.
func locate(src io.ReaderAt, size int64, maxSig int) (*location, error) {
	t := xmltok.New(io.NewSectionReader(src, 0, size))
	defer t.Release()
	t.RawToken = true
	loc := &location{start: -1, headerEnd: -1}
	var stack []xml.Name // raw names: Space is the prefix
	var spans [][2]int64
	prev := int64(0)
	var lastText [2]int64
	for {
		if err := t.Next(); err != nil {
			return nil, fail(ErrEnvelope, "%v", err)
		}
		cur := t.Offset()
		switch t.Kind {
		case xmltok.EOF:
			return nil, fail(ErrEnvelope, "no edXMLHeader")
		case xmltok.StartElement:
			depth := len(stack)
			if depth == 3 && pathIs(stack, headerPath) && string(t.Local) == "Signature" {
				if loc.start >= 0 {
					return nil, fail(ErrSignatureShape, "more than one Signature in edXMLHeader")
				}
				loc.start = prev
				for i, s := range spans {
					b := make([]byte, s[1]-s[0])
					if _, err := src.ReadAt(b, s[0]); err != nil {
						return nil, fail(ErrEnvelope, "%v", err)
					}
					loc.ancestors = append(loc.ancestors, b)
					loc.names = append(loc.names, qname(stack[i]))
				}
			}
			stack = append(stack, xml.Name{Space: string(t.Prefix), Local: string(t.Local)})
			spans = append(spans, [2]int64{prev, cur})
		case xmltok.EndElement:
			if len(stack) == 0 {
				return nil, fail(ErrEnvelope, "unbalanced end tag")
			}
			depth := len(stack) - 1
			if depth == 3 && pathIs(stack, headerPath) && stack[3].Local == "Signature" && loc.start >= 0 && loc.end == 0 {
				loc.end = cur
			}
			if depth == 2 && pathIs(stack, headerPath) {
				loc.headerEnd = prev
				if lastText[1] == prev {
					b := make([]byte, lastText[1]-lastText[0])
					if _, err := src.ReadAt(b, lastText[0]); err == nil && len(bytes.TrimLeft(b, " \t\r\n")) == 0 {
						loc.indent = b
					}
				}
				return loc.finish(src, maxSig)
			}
			stack, spans = stack[:depth], spans[:depth]
		case xmltok.Text:
			lastText = [2]int64{prev, cur}
		}
		prev = cur
	}
}

func (loc *location) finish(src io.ReaderAt, maxSig int) (*location, error) {
	if loc.start < 0 {
		return loc, nil
	}
	n := loc.end - loc.start
	if n <= 0 {
		return nil, fail(ErrSignatureShape, "Signature element not closed")
	}
	if n > int64(maxSig) {
		return nil, fail(ErrSignatureTooLarge, "Signature element of %d bytes, more than %d", n, maxSig)
	}
	loc.sig = make([]byte, n)
	if _, err := src.ReadAt(loc.sig, loc.start); err != nil {
		return nil, fail(ErrEnvelope, "%v", err)
	}
	return loc, nil
}

// standalone is the Signature inside its ancestors' start tags: a small
// document in which the Signature has the namespace context it has in the
// packet.
func (loc *location) standalone() []byte {
	var b bytes.Buffer
	for _, a := range loc.ancestors {
		b.Write(a)
	}
	b.Write(loc.sig)
	for i := len(loc.names) - 1; i >= 0; i-- {
		b.WriteString("</" + loc.names[i] + ">")
	}
	return b.Bytes()
}

func pathIs(stack []xml.Name, path []string) bool {
	if len(stack) < len(path) {
		return false
	}
	for i, p := range path {
		if stack[i].Local != p {
			return false
		}
	}
	return true
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}
