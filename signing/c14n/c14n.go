// Package c14n is a streaming XML canonicalizer: W3C Canonical XML 1.0
// (inclusive) and Exclusive XML Canonicalization 1.0, for a whole document
// minus excluded subtrees (the enveloped-signature transform) or the subset
// rooted at one element (Options.Subtree: a SignedInfo in place), in memory that
// does not grow with the document, whatever the size of its text nodes (text
// is handled in pieces of at most 64 KiB). Markup is bounded by MaxTokenBytes
// and nesting by MaxDepth.
//
// It exists so that the Reference digest of an enveloped XMLDSig signature
// (Reference URI="") over a packet of hundreds of megabytes can be computed
// from a spool file without building a tree; see design.md §8.
//
// The input goes through a byte-level filter (prefilter.go: end-of-line
// handling, attribute-value normalization, BOM, DTD refusal, markup length
// limit) and then a tokenizer (internal/xmltok) that accepts exactly what
// encoding/xml's Decoder.RawToken accepts in strict mode, which this package
// used before, and keeps prefixes as written. Namespace scopes are tracked
// here.
//
// Input restrictions (each gives an error, never a best-effort output):
//   - a DOCTYPE is refused (ErrDTD); so only the five predefined entities and
//     character references exist;
//   - only UTF-8 input (a declared encoding other than UTF-8 is refused);
//   - the document must be namespace-well-formed: every prefix declared,
//     no empty prefix binding xmlns:p="" (XML 1.0 namespaces), reserved prefixes and namespace
//     names respected, no duplicate attributes (by qualified or by expanded
//     name), one document element, no text outside it;
//   - namespace names must be absolute URIs or empty (Canonical XML 1.0 §2:
//     implementations "MUST report operation failure on documents containing
//     relative namespace URIs"; xmlsec1 refuses them too): ErrRelativeNamespace.
//
// Choosing the Method for a Reference URI="": XMLDSig removes comments from
// a same-document reference before the transforms, so use Inclusive10 or
// Exclusive10 even when the transform says #WithComments, and Inclusive10
// when the Reference has no C14N transform at all (the edXML samples: only
// enveloped-signature). xmlsec1 does exactly this.
//
// Output is byte-identical to xmlsec1's (tests compare the bytes xmlsec1
// digests). goxmldsig v1.6.1, which the gateway uses for small packets,
// differs from both on some inputs (see reference_test.go for minimal
// examples): it orders attributes with different prefixes by local name
// instead of namespace URI; its exclusive canonicalizer emits a superfluous
// xmlns=""; its inclusive one renders an explicit xmlns:xml declaration; it
// drops processing instructions outside the document element; encoding/xml
// under it does not normalize literal whitespace in attribute values; and
// with no C14N transform it keeps comments. On such inputs the two gateway
// paths can disagree; this package is the one that agrees with xmlsec1.
package c14n

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/edocgw/edocgw/internal/xmltok"
)

// Method is a canonicalization algorithm.
type Method int

// The supported canonicalization methods. The zero Method is invalid.
const (
	// Inclusive10 is Canonical XML 1.0, http://www.w3.org/TR/2001/REC-xml-c14n-20010315.
	Inclusive10 Method = iota + 1
	// Inclusive10WithComments is Canonical XML 1.0 with comments.
	Inclusive10WithComments
	// Exclusive10 is Exclusive XML Canonicalization 1.0, http://www.w3.org/2001/10/xml-exc-c14n#.
	Exclusive10
	// Exclusive10WithComments is Exclusive XML Canonicalization 1.0 with comments.
	Exclusive10WithComments
)

// Algorithm URIs.
const (
	URIInclusive10             = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	URIInclusive10WithComments = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
	URIExclusive10             = "http://www.w3.org/2001/10/xml-exc-c14n#"
	URIExclusive10WithComments = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"

	// URIExclusive10VNPT is the invalid exclusive C14N URI found in VNPT
	// sample packets (edxml.md §3.6). MethodFromURI maps it to Exclusive10
	// and reports that it did.
	URIExclusive10VNPT = "http://www.w3.org/TR/xml-exc-c14n#"
)

// Namespace names used by EnvelopedSignature.
const (
	NamespaceXMLDSig = "http://www.w3.org/2000/09/xmldsig#"
	NamespaceEdXML   = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
)

const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
)

// URI returns the algorithm URI of m, or "" for an invalid Method.
func (m Method) URI() string {
	switch m {
	case Inclusive10:
		return URIInclusive10
	case Inclusive10WithComments:
		return URIInclusive10WithComments
	case Exclusive10:
		return URIExclusive10
	case Exclusive10WithComments:
		return URIExclusive10WithComments
	}
	return ""
}

func (m Method) String() string {
	switch m {
	case Inclusive10:
		return "c14n10"
	case Inclusive10WithComments:
		return "c14n10-with-comments"
	case Exclusive10:
		return "exc-c14n10"
	case Exclusive10WithComments:
		return "exc-c14n10-with-comments"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

func (m Method) exclusive() bool { return m == Exclusive10 || m == Exclusive10WithComments }
func (m Method) comments() bool {
	return m == Inclusive10WithComments || m == Exclusive10WithComments
}

// MethodFromURI maps an algorithm URI (a CanonicalizationMethod or Transform
// Algorithm attribute) to a Method. The invalid URI
// "http://www.w3.org/TR/xml-exc-c14n#" used by VNPT samples is mapped to
// Exclusive10 with nonStandard true; for every other accepted URI nonStandard
// is false. Unknown URIs (including C14N 1.1) give ErrUnsupportedMethod.
func MethodFromURI(uri string) (m Method, nonStandard bool, err error) {
	switch uri {
	case URIInclusive10:
		return Inclusive10, false, nil
	case URIInclusive10WithComments:
		return Inclusive10WithComments, false, nil
	case URIExclusive10:
		return Exclusive10, false, nil
	case URIExclusive10WithComments:
		return Exclusive10WithComments, false, nil
	case URIExclusive10VNPT:
		return Exclusive10, true, nil
	}
	return 0, false, fmt.Errorf("%w: %q", ErrUnsupportedMethod, uri)
}

// Options configure Canonicalize.
type Options struct {
	// Method is the canonicalization algorithm; it must be set.
	Method Method
	// InclusivePrefixes is the exclusive C14N InclusiveNamespaces PrefixList:
	// these prefixes are rendered as inclusive C14N would. "#default" names
	// the default namespace. Ignored by the inclusive methods.
	InclusivePrefixes []string
	// Exclude reports whether the element is left out with its whole subtree:
	// this is the enveloped-signature transform. path holds the namespace URI
	// and local name of the element's ancestors and of the element itself,
	// root first; it is only valid during the call. Exclude is called exactly
	// once per element not inside an excluded subtree, in document order, so a
	// stateful Exclude created per call (e.g. one that excludes only the first
	// match) works. Nil excludes nothing.
	Exclude func(path []xml.Name) bool
	// Subtree, when set, makes the output a document subset: the first
	// element for which Subtree returns true (the apex), with everything
	// inside it, as XMLDSig canonicalizes a SignedInfo in place. The apex
	// renders the namespace declarations in scope where it stands (the
	// inclusive methods all of them, the exclusive ones those it visibly
	// uses); nothing outside it is written, and tokens are read no further
	// than the apex's end tag (what follows goes unchecked, but for what
	// the prefilter has already read ahead). path is as for Exclude, and
	// Subtree is called for the elements before the apex is found; Exclude
	// then applies inside the apex only. The inclusive methods would also
	// give the apex the xml: attributes of its ancestors; an ancestor with
	// one gives ErrSubsetXMLAttr instead.
	Subtree func(path []xml.Name) bool
	// MaxDepth is the deepest element nesting accepted (the document element
	// is at depth 1); deeper input gives ErrTooDeep. 0 means 64.
	MaxDepth int
	// MaxTokenBytes is the longest tag, comment or processing instruction
	// accepted, in input bytes; longer gives ErrTokenTooLong. It is not a limit
	// on text or CDATA sections. 0 means 64 KiB.
	MaxTokenBytes int

	textChunk int // for tests: split text every textChunk bytes (0: 32 KiB)
}

// Default limits.
const (
	DefaultMaxDepth      = 64
	DefaultMaxTokenBytes = 64 << 10
)

// Errors. Every error about the input is an *Error whose Err is one of
// ErrMalformed, ErrDTD, ErrTooDeep, ErrTokenTooLong or ErrRelativeNamespace,
// so errors.Is works with these.
var (
	ErrMalformed         = errors.New("c14n: malformed XML")
	ErrDTD               = errors.New("c14n: DTD not allowed")
	ErrTooDeep           = errors.New("c14n: elements nested too deep")
	ErrTokenTooLong      = errors.New("c14n: markup token too long")
	ErrRelativeNamespace = errors.New("c14n: relative namespace URI")
	ErrUnsupportedMethod = errors.New("c14n: unsupported canonicalization method")
	// ErrSubsetXMLAttr: with Options.Subtree, an ancestor of the apex has an
	// xml: attribute, which this package does not carry onto the apex.
	ErrSubsetXMLAttr = errors.New("c14n: xml: attribute above the subset's apex")
)

// Error describes a problem with the input.
type Error struct {
	Err    error // ErrMalformed, ErrDTD, ErrTooDeep, ErrTokenTooLong or ErrRelativeNamespace
	Offset int64 // approximate input byte offset
	Msg    string
	reason reason
}

func (e *Error) Error() string {
	s := e.Err.Error()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return fmt.Sprintf("%s (near byte %d)", s, e.Offset)
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() []error { return []error{e.Err} }

// reason classifies input errors more finely than the sentinels, for tests
// (the differential fuzz target accepts our refusal of an input etree accepts
// only for reasons where we are knowingly stricter).
type reason uint8

const (
	rNone               reason = iota
	rSyntax                    // the tokenizer or the prefilter found a syntax error
	rDTD                       // <!DOCTYPE
	rDirective                 // other <! markup
	rTokenTooLong              // MaxTokenBytes
	rTooDeep                   // MaxDepth
	rMismatchedTag             // end tag does not match
	rUnexpectedEOF             // elements still open at EOF
	rNoRoot                    // no document element
	rSecondRoot                // more than one document element
	rTextOutsideRoot           // non-whitespace text outside the document element
	rXMLDecl                   // misplaced XML declaration / reserved PI target
	rBadQName                  // "a:" or ":a" names
	rUndeclaredPrefix          // prefix not bound
	rReservedNS                // xml/xmlns prefix or namespace misuse
	rEmptyPrefixBinding        // xmlns:p=""
	rDuplicateAttr             // same attribute twice (qualified or expanded name)
	rRelativeNS                // relative namespace URI
	rEncoding                  // declared encoding other than UTF-8
)

// EnvelopedSignature returns an Exclude function for the enveloped-signature
// transform: it excludes an element whose ancestors and itself have the given
// local names (root first, e.g. "edXML", "edXMLEnvelope", "edXMLHeader",
// "Signature"), whatever the ancestors' namespaces, if the element itself is
// in the XMLDSig namespace, in no namespace, or in the edXML namespace (edXML
// senders often write <Signature> without a namespace declaration, so it
// inherits the edXML default namespace).
//
// The returned function is stateless: it excludes every element at that path.
// XMLDSig's transform removes exactly the one Signature being verified; so a
// caller must make sure there is exactly one element at that path (edXML
// allows one) or wrap the function to exclude only the first match, or else a
// second, unsigned Signature element would go undigested while a tree-based
// verifier would digest it.
func EnvelopedSignature(localPath ...string) func([]xml.Name) bool {
	want := slices.Clone(localPath)
	return func(path []xml.Name) bool {
		if len(path) != len(want) || len(want) == 0 {
			return false
		}
		for i := range want {
			if path[i].Local != want[i] {
				return false
			}
		}
		switch path[len(path)-1].Space {
		case NamespaceXMLDSig, "", NamespaceEdXML:
			return true
		}
		return false
	}
}

// Digest canonicalizes the document read from r into h and returns h.Sum(nil).
// h is not reset first.
func Digest(h hash.Hash, r io.Reader, o Options) ([]byte, error) {
	if err := Canonicalize(h, r, o); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// Canonicalize writes the canonical form of the XML document read from r to
// w: the whole document minus the subtrees o.Exclude selects, without
// comments unless o.Method is a WithComments method. On error, w may have
// received part of the output.
func Canonicalize(w io.Writer, r io.Reader, o Options) error {
	_, err := canonicalize(w, r, o)
	return err
}

// canonicalize is Canonicalize, returning its state for tests.
func canonicalize(w io.Writer, r io.Reader, o Options) (*canonicalizer, error) {
	c, err := newCanonicalizer(w, o)
	if err != nil {
		return nil, err
	}
	c.pf = newPrefilter(r, c.maxToken, o.textChunk)
	c.tk = xmltok.New(c.pf)
	c.offset = c.tk.Offset
	defer c.release()
	if err := c.run(); err != nil {
		return c, err
	}
	return c, c.flush()
}

func (c *canonicalizer) flush() error {
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("c14n: writing output: %w", err)
	}
	return nil
}

type binding struct {
	prefix string
	uri    string
}

type frame struct {
	name     xml.Name // as written: Space is the prefix
	nsMark   int      // len(c.declared) before this element's declarations
	rendMark int      // len(c.renderedStack) before this element's renderings
	excluded bool     // not written: inside an excluded subtree (or its root), or outside the subset
	xmlAttr  bool     // has an xml: attribute (only noted outside the subset)
}

type attr struct {
	prefix, local, uri string
	value              []byte
}

type canonicalizer struct {
	w         *bufio.Writer
	pooledW   bool // w is from outBufs
	method    Method
	exclusive bool
	comments  bool
	inclusive map[string]bool // exclusive InclusiveNamespaces, "" = #default
	exclude   func([]xml.Name) bool
	subtree   func([]xml.Name) bool
	apex      int // with subtree: stack depth of the apex while inside it, -1 after it
	maxDepth  int
	maxToken  int

	pf     *prefilter
	tk     *xmltok.Tokenizer
	offset func() int64 // input offset, for errors
	names  map[string]string

	// In-scope namespace bindings: prefix -> stack of URIs, and the prefixes
	// pushed, in order, so frames can pop them.
	scope    map[string][]string
	declared []string
	// Rendered namespace declarations (output ancestors), same layout.
	rendered      map[string][]string
	renderedStack []string

	stack  []frame
	path   []xml.Name
	tokens int // tokens seen so far
	// document position: 0 before the document element, 1 inside, 2 after.
	pos int

	// scratch
	decls []binding
	attrs []attr
	out   []binding
	uri   []byte
}

func newCanonicalizer(w io.Writer, o Options) (*canonicalizer, error) {
	if o.Method.URI() == "" {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedMethod, o.Method)
	}
	c := &canonicalizer{
		method:    o.Method,
		exclusive: o.Method.exclusive(),
		comments:  o.Method.comments(),
		exclude:   o.Exclude,
		subtree:   o.Subtree,
		maxDepth:  o.MaxDepth,
		maxToken:  o.MaxTokenBytes,
		scope:     make(map[string][]string),
		rendered:  make(map[string][]string),
		names:     internPool.Get().(map[string]string),
	}
	if c.maxDepth <= 0 {
		c.maxDepth = DefaultMaxDepth
	}
	if c.maxToken <= 0 {
		c.maxToken = DefaultMaxTokenBytes
	}
	if c.exclusive && len(o.InclusivePrefixes) > 0 {
		c.inclusive = make(map[string]bool, len(o.InclusivePrefixes))
		for _, p := range o.InclusivePrefixes {
			if p == "#default" {
				p = ""
			}
			c.inclusive[p] = true
		}
	}
	if bw, ok := w.(*bufio.Writer); ok && bw.Size() >= 4096 {
		c.w = bw
	} else {
		c.w = outBufs.Get().(*bufio.Writer)
		c.w.Reset(w)
		c.pooledW = true
	}
	return c, nil
}

// outBufs holds the output buffers of finished canonicalizers.
var outBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

// internPool holds the intern tables of finished canonicalizers.
var internPool = sync.Pool{New: func() any { return make(map[string]string) }}

// Limits of an intern table.
const (
	maxInterned   = 1024
	maxInternSize = 128
)

// intern returns b as a string, without allocating if it was seen before:
// names and namespace URIs repeat.
func (c *canonicalizer) intern(b []byte) string {
	if s, ok := c.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(c.names) < maxInterned && len(s) <= maxInternSize {
		c.names[s] = s
	}
	return s
}

// release gives the buffers back once the canonicalizer has finished
// (flushed or failed); c neither reads nor writes again.
func (c *canonicalizer) release() {
	if c.pooledW {
		c.w.Reset(nil)
		outBufs.Put(c.w)
		c.w, c.pooledW = nil, false
	}
	if c.pf != nil {
		c.pf.release()
	}
	if c.tk != nil {
		c.tk.Release()
		c.tk = nil
	}
	if c.names != nil {
		internPool.Put(c.names)
		c.names = nil
	}
}

func (c *canonicalizer) fail(kind error, r reason, msg string) error {
	return &Error{Err: kind, Offset: c.offset(), Msg: msg, reason: r}
}

func (c *canonicalizer) malformed(r reason, format string, args ...any) error {
	return c.fail(ErrMalformed, r, fmt.Sprintf(format, args...))
}

func (c *canonicalizer) run() error {
	t := c.tk
	for {
		if err := t.Next(); err != nil {
			return tokErr(err)
		}
		c.tokens++
		var err error
		switch t.Kind {
		case xmltok.EOF:
			return c.finish()
		case xmltok.StartElement:
			err = c.start(t.Prefix, t.Local, t.Attrs)
		case xmltok.EndElement:
			if err = c.end(t.Prefix, t.Local); err == nil && c.apex < 0 {
				return nil // the subset is written; the rest is not read
			}
		case xmltok.Text:
			err = c.text(t.Data)
		case xmltok.Comment:
			err = c.comment(t.Data)
		case xmltok.ProcInst:
			err = c.procInst(t.Local, t.Data)
		}
		if err != nil {
			return err
		}
	}
}

// tokErr is the *Error for an error of the tokenizer; the prefilter's
// errors (its refusals, read errors) pass unchanged.
func tokErr(err error) error {
	e, ok := err.(*xmltok.Error)
	if !ok {
		return err
	}
	kind, r := ErrMalformed, rSyntax
	switch e.Kind {
	case xmltok.Encoding:
		r = rEncoding
	case xmltok.DTD:
		kind, r = ErrDTD, rDTD
	case xmltok.Declaration:
		r = rDirective
	}
	return &Error{Err: kind, Offset: e.Offset, Msg: e.Msg, reason: r}
}

// finish checks the document once the input has ended.
func (c *canonicalizer) finish() error {
	if len(c.stack) > 0 {
		return c.malformed(rUnexpectedEOF, "unexpected end of input inside <%s>", qname(c.stack[len(c.stack)-1].name))
	}
	if c.pos == 0 {
		return c.malformed(rNoRoot, "no document element")
	}
	return nil
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func qnameBytes(prefix, local []byte) string {
	if len(prefix) == 0 {
		return string(local)
	}
	return string(prefix) + ":" + string(local)
}

// hasScheme reports whether uri starts with an RFC 3986 scheme and a colon,
// i.e. is not a relative reference.
func hasScheme(uri string) bool {
	for i := 0; i < len(uri); i++ {
		c := uri[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}

func (c *canonicalizer) lookup(prefix string) (string, bool) {
	if prefix == "xml" {
		return nsXML, true
	}
	s := c.scope[prefix]
	if len(s) == 0 {
		return "", false
	}
	return s[len(s)-1], true
}

func (c *canonicalizer) lookupRendered(prefix string) (string, bool) {
	s := c.rendered[prefix]
	if len(s) == 0 {
		return "", false
	}
	return s[len(s)-1], true
}

// start handles a start tag: the element name as written, split at its colon
// (see splitName), and the attributes with their values decoded.
func (c *canonicalizer) start(prefix, local []byte, tattrs []xmltok.Attr) error {
	if c.pos == 2 {
		return c.malformed(rSecondRoot, "second document element <%s>", qnameBytes(prefix, local))
	}
	c.pos = 1
	if len(c.stack) >= c.maxDepth {
		return c.fail(ErrTooDeep, rTooDeep, fmt.Sprintf("more than %d nested elements", c.maxDepth))
	}
	if bytes.IndexByte(local, ':') >= 0 {
		return c.malformed(rBadQName, "element name %q is not a qualified name", local)
	}
	if string(prefix) == "xmlns" {
		return c.malformed(rReservedNS, "element <%s> uses the xmlns prefix", qnameBytes(prefix, local))
	}
	name := xml.Name{Space: c.intern(prefix), Local: c.intern(local)}

	// Split namespace declarations from attributes.
	decls := c.decls[:0]
	attrs := c.attrs[:0]
	for _, a := range tattrs {
		if bytes.IndexByte(a.Local, ':') >= 0 {
			return c.malformed(rBadQName, "attribute name %q is not a qualified name", a.Local)
		}
		switch {
		case string(a.Prefix) == "xmlns":
			p, v := a.Local, a.Value
			switch {
			case string(p) == "xmlns":
				return c.malformed(rReservedNS, "the xmlns prefix must not be declared")
			case string(p) == "xml":
				if string(v) != nsXML {
					return c.malformed(rReservedNS, "the xml prefix bound to %q", v)
				}
			case len(v) == 0:
				return c.malformed(rEmptyPrefixBinding, "xmlns:%s=\"\" (prefix undeclaring is not XML 1.0)", p)
			case string(v) == nsXML || string(v) == nsXMLNS:
				return c.malformed(rReservedNS, "prefix %q bound to reserved namespace %q", p, v)
			}
			decls = append(decls, binding{prefix: c.intern(p), uri: c.intern(v)})
		case len(a.Prefix) == 0 && string(a.Local) == "xmlns":
			if v := a.Value; string(v) == nsXML || string(v) == nsXMLNS {
				return c.malformed(rReservedNS, "default namespace bound to reserved namespace %q", v)
			}
			decls = append(decls, binding{prefix: "", uri: c.intern(a.Value)})
		default:
			attrs = append(attrs, attr{prefix: c.intern(a.Prefix), local: c.intern(a.Local), value: a.Value})
		}
	}
	c.decls, c.attrs = decls, attrs
	for _, d := range decls {
		if d.uri != "" && d.prefix != "xml" && !hasScheme(d.uri) {
			return c.fail(ErrRelativeNamespace, rRelativeNS, fmt.Sprintf("namespace %q is not an absolute URI", d.uri))
		}
	}
	slices.SortFunc(decls, func(a, b binding) int { return strings.Compare(a.prefix, b.prefix) })
	for i := 1; i < len(decls); i++ {
		if decls[i].prefix == decls[i-1].prefix {
			return c.malformed(rDuplicateAttr, "namespace prefix %q declared twice", decls[i].prefix)
		}
	}

	parentExcluded := len(c.stack) > 0 && c.stack[len(c.stack)-1].excluded
	// Outside a subset's apex, elements are only followed for their
	// namespace bindings.
	outside := c.subtree != nil && c.apex <= 0
	if outside {
		parentExcluded = true
	}
	f := frame{name: name, nsMark: len(c.declared), rendMark: len(c.renderedStack), excluded: parentExcluded}

	// Inclusive: a declaration is rendered if it changes the in-scope value of
	// the parent (in a whole-document-minus-subtrees node-set, the output
	// parent of an output element is its parent). Computed before pushing.
	out := c.out[:0]
	if !c.exclusive && !parentExcluded {
		for _, d := range decls {
			if d.prefix == "xml" {
				continue // the xml namespace is never rendered
			}
			if cur, _ := c.lookup(d.prefix); cur != d.uri {
				out = append(out, d)
			}
			// (An absent default and xmlns="" are the same: "".)
		}
	}

	// Push bindings.
	for _, d := range decls {
		if d.prefix == "xml" {
			continue
		}
		c.scope[d.prefix] = append(c.scope[d.prefix], d.uri)
		c.declared = append(c.declared, d.prefix)
	}
	c.stack = append(c.stack, f)
	fp := &c.stack[len(c.stack)-1]

	// Resolve names.
	elemURI, ok := c.lookup(name.Space)
	if !ok && name.Space != "" {
		return c.malformed(rUndeclaredPrefix, "undeclared prefix %q in <%s>", name.Space, qname(name))
	}
	for i := range attrs {
		a := &attrs[i]
		if a.prefix == "" {
			continue
		}
		uri, ok := c.lookup(a.prefix)
		if !ok {
			return c.malformed(rUndeclaredPrefix, "undeclared prefix %q in attribute %s:%s", a.prefix, a.prefix, a.local)
		}
		a.uri = uri
	}
	slices.SortFunc(attrs, func(a, b attr) int {
		if r := strings.Compare(a.uri, b.uri); r != 0 {
			return r
		}
		return strings.Compare(a.local, b.local)
	})
	for i := 1; i < len(attrs); i++ {
		if attrs[i].uri == attrs[i-1].uri && attrs[i].local == attrs[i-1].local {
			return c.malformed(rDuplicateAttr, "attribute %s repeated in <%s>", attrs[i].local, qname(name))
		}
	}

	c.path = append(c.path, xml.Name{Space: elemURI, Local: name.Local})
	apex := false
	if outside {
		for _, a := range attrs {
			if a.prefix == "xml" {
				fp.xmlAttr = true
			}
		}
		if c.apex < 0 || !c.subtree(c.path) {
			return nil
		}
		for _, anc := range c.stack[:len(c.stack)-1] {
			if anc.xmlAttr && !c.exclusive {
				return c.fail(ErrSubsetXMLAttr, rNone, fmt.Sprintf("<%s> above the apex <%s> has an xml: attribute", qname(anc.name), qname(name)))
			}
		}
		c.apex, fp.excluded, apex = len(c.stack), false, true
	} else if !parentExcluded && c.exclude != nil && c.exclude(c.path) {
		fp.excluded = true
	}
	if fp.excluded {
		return nil
	}

	switch {
	case c.exclusive:
		out = c.exclusiveDecls(out, name.Space, attrs)
	case apex:
		out = c.scopeDecls(out)
	}
	for _, d := range out {
		c.rendered[d.prefix] = append(c.rendered[d.prefix], d.uri)
		c.renderedStack = append(c.renderedStack, d.prefix)
	}
	c.out = out

	w := c.w
	w.WriteByte('<')
	writeQName(w, name)
	for _, d := range out {
		if d.prefix == "" {
			w.WriteString(` xmlns="`)
		} else {
			w.WriteString(" xmlns:")
			w.WriteString(d.prefix)
			w.WriteString(`="`)
		}
		c.uri = append(c.uri[:0], d.uri...)
		writeAttrValue(w, c.uri)
		w.WriteByte('"')
	}
	for _, a := range attrs {
		w.WriteByte(' ')
		if a.prefix != "" {
			w.WriteString(a.prefix)
			w.WriteByte(':')
		}
		w.WriteString(a.local)
		w.WriteString(`="`)
		writeAttrValue(w, a.value)
		w.WriteByte('"')
	}
	w.WriteByte('>')
	return nil
}

// scopeDecls appends to out, sorted by prefix, every namespace binding in
// scope but the xml one and an empty default: what the inclusive methods
// render on the apex of a subset, whose ancestors are not written.
func (c *canonicalizer) scopeDecls(out []binding) []binding {
	for p, uris := range c.scope {
		if u := uris[len(uris)-1]; p != "xml" && (p != "" || u != "") {
			out = append(out, binding{prefix: p, uri: u})
		}
	}
	slices.SortFunc(out, func(a, b binding) int { return strings.Compare(a.prefix, b.prefix) })
	return out
}

// exclusiveDecls appends to out the namespace declarations Exclusive C14N
// renders on an element with prefix elemPrefix and attributes attrs, sorted
// by prefix. Must be called after the element's own bindings are pushed.
func (c *canonicalizer) exclusiveDecls(out []binding, elemPrefix string, attrs []attr) []binding {
	consider := func(p string) {
		if p == "xml" {
			return
		}
		for _, d := range out {
			if d.prefix == p {
				return
			}
		}
		uri, bound := c.lookup(p)
		if p != "" && !bound {
			return // only reachable for InclusivePrefixes not in scope
		}
		prev, ok := c.lookupRendered(p)
		if p == "" {
			// Default namespace: render xmlns="u" if the nearest output
			// ancestor rendering the default namespace has a different value,
			// xmlns="" only if that ancestor rendered a non-empty one.
			if prev != uri {
				out = append(out, binding{prefix: "", uri: uri})
			}
			return
		}
		if !ok || prev != uri {
			out = append(out, binding{prefix: p, uri: uri})
		}
	}
	// Visibly utilized: the element's prefix (the default namespace when
	// unprefixed) and the prefixes of its attributes (unprefixed attributes
	// are in no namespace and utilize nothing).
	consider(elemPrefix)
	for _, a := range attrs {
		if a.prefix != "" {
			consider(a.prefix)
		}
	}
	// InclusiveNamespaces PrefixList: treated as by inclusive C14N, i.e.
	// rendered when in scope and not already rendered with the same value by
	// an output ancestor (for a document minus subtrees, an output ancestor's
	// rendered value is its in-scope value).
	for p := range c.inclusive {
		consider(p)
	}
	slices.SortFunc(out, func(a, b binding) int { return strings.Compare(a.prefix, b.prefix) })
	return out
}

// end handles an end tag, its name split as for start.
func (c *canonicalizer) end(prefix, local []byte) error {
	if len(c.stack) == 0 {
		return c.malformed(rMismatchedTag, "unexpected end tag </%s>", qnameBytes(prefix, local))
	}
	f := c.stack[len(c.stack)-1]
	if f.name.Space != string(prefix) || f.name.Local != string(local) {
		return c.malformed(rMismatchedTag, "end tag </%s> does not match <%s>", qnameBytes(prefix, local), qname(f.name))
	}
	if !f.excluded {
		c.w.WriteString("</")
		writeQName(c.w, f.name)
		c.w.WriteByte('>')
	}
	popBindings(c.scope, c.declared[f.nsMark:])
	c.declared = c.declared[:f.nsMark]
	popBindings(c.rendered, c.renderedStack[f.rendMark:])
	c.renderedStack = c.renderedStack[:f.rendMark]
	if c.apex > 0 && len(c.stack) == c.apex {
		c.apex = -1 // the subset is written
	}
	c.stack = c.stack[:len(c.stack)-1]
	c.path = c.path[:len(c.path)-1]
	if len(c.stack) == 0 {
		c.pos = 2
	}
	return nil
}

// popBindings undoes the pushes of prefixes; emptied entries are deleted so
// that the maps do not grow with the number of distinct prefixes in the
// document, only with those in scope.
func popBindings(m map[string][]string, prefixes []string) {
	for _, p := range prefixes {
		s := m[p]
		if len(s) <= 1 {
			delete(m, p)
		} else {
			m[p] = s[:len(s)-1]
		}
	}
}

func (c *canonicalizer) excludedHere() bool {
	return len(c.stack) > 0 && c.stack[len(c.stack)-1].excluded
}

func (c *canonicalizer) text(t []byte) error {
	if len(c.stack) == 0 {
		if !xmltok.IsSpace(t) {
			return c.malformed(rTextOutsideRoot, "text outside the document element")
		}
		return nil
	}
	if c.excludedHere() {
		return nil
	}
	writeText(c.w, t)
	return nil
}

func (c *canonicalizer) comment(t []byte) error {
	if !c.comments || c.excludedHere() || c.subtree != nil && len(c.stack) == 0 {
		return nil
	}
	c.beforeTopLevel()
	c.w.WriteString("<!--")
	c.w.Write(t)
	c.w.WriteString("-->")
	c.afterTopLevel()
	return nil
}

func (c *canonicalizer) procInst(target, inst []byte) error {
	if bytes.EqualFold(target, []byte("xml")) {
		if string(target) == "xml" && c.tokens == 1 {
			return nil // the XML declaration
		}
		return c.malformed(rXMLDecl, "processing instruction target %q is reserved (XML declaration not at the start?)", target)
	}
	if c.excludedHere() || c.subtree != nil && len(c.stack) == 0 {
		return nil
	}
	c.beforeTopLevel()
	c.w.WriteString("<?")
	c.w.Write(target)
	if len(inst) > 0 {
		c.w.WriteByte(' ')
		c.w.Write(inst)
	}
	c.w.WriteString("?>")
	c.afterTopLevel()
	return nil
}

// Canonical XML: a comment or PI outside the document element is followed
// by "\n" if before it and preceded by "\n" if after it.
func (c *canonicalizer) beforeTopLevel() {
	if c.pos == 2 {
		c.w.WriteByte('\n')
	}
}

func (c *canonicalizer) afterTopLevel() {
	if c.pos == 0 {
		c.w.WriteByte('\n')
	}
}

func writeQName(w *bufio.Writer, n xml.Name) {
	if n.Space != "" {
		w.WriteString(n.Space)
		w.WriteByte(':')
	}
	w.WriteString(n.Local)
}

// writeText escapes text per Canonical XML: & < > and CR.
func writeText(w *bufio.Writer, b []byte) {
	if bytes.IndexByte(b, '&') < 0 && bytes.IndexByte(b, '<') < 0 && bytes.IndexByte(b, '>') < 0 && bytes.IndexByte(b, '\r') < 0 {
		w.Write(b) // the common case, found fast
		return
	}
	last := 0
	for i, c := range b {
		var esc string
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		w.Write(b[last:i])
		w.WriteString(esc)
		last = i + 1
	}
	w.Write(b[last:])
}

// writeAttrValue escapes an attribute value per Canonical XML: & < " TAB LF CR
// (not >).
func writeAttrValue(w *bufio.Writer, s []byte) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '"':
			esc = "&quot;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		w.Write(s[last:i])
		w.WriteString(esc)
		last = i + 1
	}
	w.Write(s[last:])
}
