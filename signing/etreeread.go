package signing

import (
	"bytes"
	"sync"

	"github.com/beevik/etree"

	"github.com/edocgw/edocgw/internal/xmltok"
)

// readEtree returns the document that etree.NewDocument().ReadFromBytes(b)
// reads with its default ReadSettings, and refuses what it refuses, but
// reads b with xmltok instead of encoding/xml's RawToken, which is what
// etree's reader spends most of its time in (FuzzReadEtree compares the
// two).
//
// What etree's (*Element).readFrom does, and this does too: names keep
// their prefix as Space (etree resolves namespaces on demand), xmlns
// attributes are attributes like any other; each raw token is one child
// token (text is not merged: text, a CDATA section and text again are three
// CharData), CDATA is not flagged, text of white space only is; a repeated
// attribute keeps its first place and takes its last value; an XML
// declaration is a ProcInst, and the encoding it declares is ignored
// (etree's pass-through CharsetReader); directives are kept; several root
// elements and text or markup after the root are accepted; an end tag
// that does not match the open element, an element left open and elements
// nested deeper than 1024 are refused.
//
// To allocate little, every string of the document is one slice of a
// single string made at the end, and elements, text tokens, attributes and
// child lists are cut from a few shared chunks.
func readEtree(b []byte) (*etree.Document, error) {
	r := etreeReaders.Get().(*etreeReader)
	doc, err := r.read(b)
	r.reset()
	etreeReaders.Put(r)
	return doc, err
}

// etreeMaxDepth is etree's defaultMaxDepth: the depth of element nesting
// beyond which it returns ErrMaxDepth.
const etreeMaxDepth = 1024

var etreeReaders = sync.Pool{New: func() any { return new(etreeReader) }}

// etreeReader is the scratch state of readEtree, pooled. The chunks
// (elems, texts, attrs, lists) belong to the document being built and are
// dropped, not reused, by reset.
type etreeReader struct {
	src   bytes.Reader
	arena []byte      // the bytes of every string of the document
	fix   []stringFix // the string fields to point into arena, at the end
	kids  []etree.Token
	open  []openElem
	picks []attrPick
	key   []byte
	seen  map[string]int

	elems slab[etree.Element]
	texts slab[etree.CharData]
	attrs slab[etree.Attr]
	lists slab[etree.Token]
}

// stringFix is a string field to set to arena[off:off+n].
type stringFix struct {
	p      *string
	off, n int
}

// openElem is an element whose end tag is still to come.
type openElem struct {
	e          *etree.Element
	kid0       int    // its children are kids[kid0:]
	space, tag [2]int // its prefix and local name in arena
}

// attrPick is one attribute of a start tag after removal of repeats: the
// name of the attribute at index name, the value of the one at index val.
type attrPick struct{ name, val int }

// slab hands out values and slices cut from chunks it allocates, each
// twice as large as the last.
type slab[T any] struct {
	free []T
	next int // the size of the next chunk
}

func (s *slab[T]) grow(n int) {
	size := max(n, s.next, 4)
	s.free = make([]T, size)
	s.next = 2 * size
}

func (s *slab[T]) get() *T {
	if len(s.free) == 0 {
		s.grow(1)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// cut returns an empty slice with room for n values; appending more than
// n reallocates it.
func (s *slab[T]) cut(n int) []T {
	if len(s.free) < n {
		s.grow(n)
	}
	c := s.free[:0:n]
	s.free = s.free[n:]
	return c
}

func (r *etreeReader) reset() {
	clear(r.fix)
	clear(r.kids[:cap(r.kids)])
	clear(r.open[:cap(r.open)])
	r.fix, r.kids, r.open, r.picks = r.fix[:0], r.kids[:0], r.open[:0], r.picks[:0]
	r.src.Reset(nil)
	if cap(r.arena) > 1<<20 || cap(r.fix) > 1<<16 || cap(r.kids) > 1<<16 {
		r.arena, r.fix, r.kids = nil, nil, nil
	}
	r.arena = r.arena[:0]
	clear(r.seen)
	r.elems, r.texts, r.attrs, r.lists = slab[etree.Element]{}, slab[etree.CharData]{}, slab[etree.Attr]{}, slab[etree.Token]{}
}

// str makes *p the string of b, at the end.
func (r *etreeReader) str(p *string, b []byte) {
	if len(b) == 0 {
		return
	}
	r.fix = append(r.fix, stringFix{p, len(r.arena), len(b)})
	r.arena = append(r.arena, b...)
}

// name appends b to the arena and returns where it is.
func (r *etreeReader) name(p *string, b []byte) [2]int {
	off := len(r.arena)
	r.str(p, b)
	return [2]int{off, len(r.arena)}
}

func (r *etreeReader) read(b []byte) (*etree.Document, error) {
	// First chunk sizes: a start tag, a text and a child need a '<' each
	// (or follow one), an attribute an '='.
	lt := bytes.Count(b, []byte{'<'})
	r.elems.next = min(lt/2+1, 256)
	r.texts.next = min(lt/2+1, 256)
	r.lists.next = min(lt+1, 512)
	r.attrs.next = min(bytes.Count(b, []byte{'='})+1, 256)
	if cap(r.arena) < len(b) {
		r.arena = make([]byte, 0, len(b))
	}

	base := 0 // offset in b of the tokenizer's input
	r.src.Reset(b)
	t := xmltok.New(&r.src)
	t.RawToken = true
	defer func() { t.Release() }()
	for {
		if err := t.Next(); err != nil {
			xe, ok := err.(*xmltok.Error)
			if !ok {
				return nil, err
			}
			if xe.Kind != xmltok.Encoding {
				if base > 0 { // the offset in b
					e := *xe
					e.Offset += int64(base)
					return nil, &e
				}
				return nil, err
			}
			// etree reads any declared encoding as UTF-8 (its default
			// CharsetReader passes the input through): the declaration is
			// a ProcInst and the tokenizer starts again after it.
			at := base + int(xe.Offset)
			end, inst := xmlDecl(b[at:])
			pi := new(etree.ProcInst)
			r.str(&pi.Target, []byte("xml"))
			r.str(&pi.Inst, inst)
			r.kids = append(r.kids, pi)
			base = at + end
			t.Release()
			r.src.Reset(b[base:])
			t = xmltok.New(&r.src)
			t.RawToken = true
			continue
		}
		switch t.Kind {
		case xmltok.EOF:
			if len(r.open) != 0 {
				return nil, etree.ErrXML
			}
			doc := etree.NewDocument()
			r.adopt(&doc.Element, r.kids)
			r.finish()
			return doc, nil
		case xmltok.StartElement:
			if len(r.open) >= etreeMaxDepth {
				return nil, etree.ErrMaxDepth
			}
			e := r.elems.get()
			o := openElem{e: e}
			o.space = r.name(&e.Space, t.Prefix)
			o.tag = r.name(&e.Tag, t.Local)
			r.attributes(e, t.Attrs)
			r.kids = append(r.kids, e)
			o.kid0 = len(r.kids)
			r.open = append(r.open, o)
		case xmltok.EndElement:
			n := len(r.open) - 1
			if n < 0 {
				return nil, etree.ErrXML
			}
			o := r.open[n]
			if !bytes.Equal(t.Local, r.arena[o.tag[0]:o.tag[1]]) || !bytes.Equal(t.Prefix, r.arena[o.space[0]:o.space[1]]) {
				return nil, etree.ErrXML
			}
			r.adopt(o.e, r.kids[o.kid0:])
			r.kids = r.kids[:o.kid0]
			r.open = r.open[:n]
		case xmltok.Text:
			c := r.texts.get()
			if xmltok.IsSpace(t.Data) { // etree's isWhitespace
				c.SetData("") // sets the white space flag
			} else {
				c.SetData(".")
			}
			r.str(&c.Data, t.Data) // replaces the placeholder, if any
			r.kids = append(r.kids, c)
		case xmltok.Comment:
			c := new(etree.Comment)
			r.str(&c.Data, t.Data)
			r.kids = append(r.kids, c)
		case xmltok.ProcInst:
			pi := new(etree.ProcInst)
			r.str(&pi.Target, t.Local)
			r.str(&pi.Inst, t.Data)
			r.kids = append(r.kids, pi)
		case xmltok.Directive:
			d := new(etree.Directive)
			r.str(&d.Data, t.Data)
			r.kids = append(r.kids, d)
		}
	}
}

// attributes sets e's attributes: a repeated one keeps its first place and
// takes its last value, as etree does.
func (r *etreeReader) attributes(e *etree.Element, as []xmltok.Attr) {
	if len(as) == 0 {
		e.Attr = []etree.Attr{}
		return
	}
	r.picks = r.picks[:0]
	if len(as) <= 16 {
	linear:
		for j := range as {
			for k := range r.picks {
				if p := &r.picks[k]; bytes.Equal(as[p.name].Local, as[j].Local) && bytes.Equal(as[p.name].Prefix, as[j].Prefix) {
					p.val = j
					continue linear
				}
			}
			r.picks = append(r.picks, attrPick{j, j})
		}
	} else {
		if r.seen == nil {
			r.seen = make(map[string]int)
		}
		for j := range as {
			// No name holds a NUL.
			r.key = append(append(append(r.key[:0], as[j].Prefix...), 0), as[j].Local...)
			if k, ok := r.seen[string(r.key)]; ok {
				r.picks[k].val = j
				continue
			}
			r.seen[string(r.key)] = len(r.picks)
			r.picks = append(r.picks, attrPick{j, j})
		}
		clear(r.seen)
	}
	// Attr's link to its element is set only by etree: CreateAttr appends
	// to e.Attr, here an empty window onto the attribute's own slot, so
	// that it neither looks for a repeat nor reallocates.
	all := r.attrs.cut(len(r.picks))
	for i, p := range r.picks {
		e.Attr = all[i:i]
		a := e.CreateAttr("", "")
		r.str(&a.Space, as[p.name].Prefix)
		r.str(&a.Key, as[p.name].Local)
		r.str(&a.Value, as[p.val].Value)
	}
	e.Attr = all[:len(r.picks):len(r.picks)]
}

// adopt makes kids the children of e, in a list of their exact length.
func (r *etreeReader) adopt(e *etree.Element, kids []etree.Token) {
	if len(kids) == 0 {
		e.Child = []etree.Token{}
		return
	}
	e.Child = r.lists.cut(len(kids))
	for _, k := range kids {
		e.AddChild(k) // sets its parent and index
	}
}

// finish sets the document's strings: slices of one string.
func (r *etreeReader) finish() {
	if len(r.arena) == 0 {
		return
	}
	s := string(r.arena)
	for _, f := range r.fix {
		*f.p = s[f.off : f.off+f.n]
	}
}

// xmlDecl returns the end of the XML declaration at the start of b, which
// xmltok has read up to its "?>", and its content, as encoding/xml reads
// them: after the target and white space, up to the first "?>".
func xmlDecl(b []byte) (end int, inst []byte) {
	i := len("<?xml")
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	k := bytes.Index(b[i:], []byte("?>"))
	return i + k + 2, b[i : i+k]
}
