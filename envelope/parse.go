package envelope

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/xmltok"
)

// Options tune Parse.
type Options struct {
	Limits Limits
	// Rand is the source of the parse nonce; nil means crypto/rand.
	Rand io.Reader
}

// Parse reads a packet from b with the default limits. Attachments of the
// result read from b, which must not change while the packet is in use.
func Parse(b []byte) (*Packet, error) {
	return ParseReaderAt(bytes.NewReader(b), int64(len(b)), Options{})
}

// ParseReaderAt reads a packet of size bytes from r. Attachments of the
// result read from r when opened; r must stay readable while they are used.
//
// Parse fails on input that is not a well-formed edXML packet within the
// limits: every error is an *Error wrapping a sentinel of this package.
// Problems with the packet's content are recorded in Packet.Issues and
// judged by Validate.
func ParseReaderAt(r io.ReaderAt, size int64, opts Options) (*Packet, error) {
	return parse(r, size, opts, (*parser).tree)
}

// parse is ParseReaderAt with tree building the element tree from the
// scanner's output (tests compare it with the encoding/xml tree builder).
func parse(r io.ReaderAt, size int64, opts Options, tree func(*parser, io.Reader) (*node, error)) (*Packet, error) {
	lim := opts.Limits.withDefaults()
	if size > lim.MaxBytes {
		return nil, &Error{Err: ErrTooLarge, Msg: fmt.Sprintf("packet of %d bytes is larger than %d bytes", size, lim.MaxBytes)}
	}
	if size == 0 {
		return nil, &Error{Err: ErrTruncated, Msg: "empty input"}
	}
	nonce, err := newNonce(opts.Rand)
	if err != nil {
		return nil, err
	}
	sc := newScanner(r, size, lim.MaxBytes, lim.MaxText, nonce)
	p := &parser{lim: lim, src: r, sc: sc, nonce: []byte(nonce)}
	root, err := tree(p, sc)
	sc.release()
	if err != nil {
		return nil, err
	}
	return p.packet(root)
}

func newNonce(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [12]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", newErr("", ErrRead, "parse nonce: %v", err)
	}
	return "edocgw-run-" + hex.EncodeToString(b[:]), nil
}

// node is an element of the parsed tree.
type node struct {
	name   xml.Name
	attrs  []xml.Attr
	parent *node
	kids   []*node
	index  int // 1-based among preceding siblings of the same local name
	// seen counts the children by local name so that index is found in
	// constant time: scanning the siblings made a wide element quadratic
	// (20 000 siblings with long names took seconds).
	seen nameCounts
	text []piece
	tlen int
	// pathStr is the path, made by path when first asked: most elements
	// are never named in an error or a note.
	pathStr string
	// hasText: non-space text seen; interrupted: a comment or PI came
	// after it; noted: the resulting ErrCommentInValue is recorded.
	hasText, interrupted, noted bool
}

func (n *node) attr(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Local == local && (a.Name.Space == "" || a.Name.Space == n.name.Space) {
			return a.Value, true
		}
	}
	return "", false
}

// inline is the node's text, without runs.
func (n *node) inline() string {
	if len(n.text) == 1 {
		return string(n.text[0].text)
	}
	var b strings.Builder
	for _, p := range n.text {
		b.Write(p.text)
	}
	return b.String()
}

// blank reports whether the node's text, without runs, is white space
// (strings.TrimSpace of inline is empty), without joining it: a piece
// ends only at markup, never inside a character.
func (n *node) blank() bool {
	for _, p := range n.text {
		if len(bytes.TrimSpace(p.text)) > 0 {
			return false
		}
	}
	return true
}

type parser struct {
	lim    Limits
	src    io.ReaderAt
	sc     *scanner
	nonce  []byte
	nelem  int
	nrun   int
	issues []*Error

	// The tree being built: its root, the open element, its depth.
	root, cur *node
	depth     int
}

// tree builds the element tree from the scanner's output, read with
// xmltok and with encoding/xml's Decoder.Token namespace translation and
// strict nesting checks on top (FuzzParseDifferential compares it with the
// encoding/xml decoder it replaced).
func (p *parser) tree(r io.Reader) (*node, error) {
	t := xmltok.New(r)
	defer t.Release()
	t.RawToken = true
	var ns nsStack
	for {
		if err := t.Next(); err != nil {
			return nil, p.tokErr(err, t)
		}
		var err error
		switch t.Kind {
		case xmltok.EOF:
			if len(ns.open) > 0 {
				return nil, p.syntaxErr("unexpected EOF", t.Line())
			}
			return p.endTree()
		case xmltok.StartElement:
			name, attrs := ns.start(t.Prefix, t.Local, t.Attrs)
			err = p.startElement(name, attrs)
		case xmltok.EndElement:
			if msg := ns.end(t.Prefix, t.Local); msg != "" {
				return nil, p.syntaxErr(msg, t.Line())
			}
			p.endElement()
		case xmltok.Text:
			err = p.charData(t.Data)
		case xmltok.Comment:
			err = p.comment(t.Data)
		case xmltok.ProcInst:
			p.interrupt(p.cur)
		case xmltok.Directive:
			err = directiveErr(t.Data)
		}
		if err != nil {
			return nil, err
		}
	}
}

// tokErr is the *Error for an error of the tokenizer: the scanner's errors
// (refusals, read errors) pass through it.
func (p *parser) tokErr(err error, t *xmltok.Tokenizer) error {
	e, ok := err.(*xmltok.Error)
	if !ok {
		return p.decodeErr(err)
	}
	switch e.Kind {
	case xmltok.Syntax:
		return p.syntaxErr(e.Msg, t.Line())
	case xmltok.Encoding:
		return p.decodeErr(encodingErr(e.Encoding))
	}
	// Version: not a SyntaxError in encoding/xml.
	return newErr(p.curPath(), ErrMalformed, "xml: %s", e.Msg)
}

// startElement adds an element, its name and attributes translated.
func (p *parser) startElement(name xml.Name, attrs []xml.Attr) error {
	cur := p.cur
	if cur == nil && p.root != nil {
		return newErr("", ErrMalformed, "content after the root element")
	}
	// The element's path, with its index among same-named siblings, is
	// known before the limits are checked, so that a limit error names the
	// element that crossed it (".../Place[19996]", not the first Place).
	index := 1
	if cur != nil {
		index += cur.seen.get(name.Local)
	}
	p.depth++
	if p.depth > p.lim.MaxDepth {
		return newErr(childPath(cur, name.Local, index), ErrTooDeep, "elements nested deeper than %d", p.lim.MaxDepth)
	}
	p.nelem++
	if p.nelem > p.lim.MaxElements {
		return newErr(childPath(cur, name.Local, index), ErrTooManyElements, "more than %d elements", p.lim.MaxElements)
	}
	if len(attrs) > p.lim.MaxAttributes {
		return newErr(childPath(cur, name.Local, index), ErrTooManyAttributes, "%d attributes on one element, more than %d", len(attrs), p.lim.MaxAttributes)
	}
	// encoding/xml does not enforce the well-formedness constraint that
	// attribute names are unique (XML 1.0 §3.1, Namespaces §6.3); other
	// parsers would keep the first or the last one, so a repeated attribute
	// is refused rather than guessed at.
	if a, dup := dupAttr(attrs); dup {
		return newErr(childPath(cur, name.Local, index), ErrMalformed, "attribute {%s}%s repeated", clip(a.Space), clip(a.Local))
	}
	n := &node{name: name, attrs: attrs, parent: cur, index: index}
	if cur != nil {
		cur.seen.set(n.name.Local, index)
		cur.kids = append(cur.kids, n)
	} else {
		p.root = n
	}
	p.cur = n
	return nil
}

func (p *parser) endElement() {
	p.depth--
	p.cur = p.cur.parent
}

// charData adds character data.
func (p *parser) charData(t []byte) error {
	if p.root == nil {
		t = bytes.TrimPrefix(t, []byte("\uFEFF")) // a byte order mark
	}
	return p.text(p.cur, t)
}

// comment handles a comment: a marker stands for a skipped run.
func (p *parser) comment(t []byte) error {
	cur := p.cur
	if !bytes.Equal(t, p.nonce) {
		p.interrupt(cur)
		return nil
	}
	if p.nrun >= len(p.sc.runs) {
		return newErr("", ErrMalformed, "internal: payload run out of order")
	}
	run := p.sc.runs[p.nrun]
	p.nrun++
	if cur != nil && cur.name.Local == "ContentTransferEncoded" {
		cur.text = append(cur.text, piece{run: run})
		return nil
	}
	// A base64-looking run where a value stands: it is text after all, if
	// it is short enough to be one.
	tlen := 0
	if cur != nil {
		tlen = cur.tlen
	}
	if run.Len+int64(tlen) > int64(p.lim.MaxText) {
		return newErr(p.curPath(), ErrTextTooLong, "text of %d bytes is longer than %d bytes", run.Len, p.lim.MaxText)
	}
	text, err := p.readRun(run)
	if err != nil {
		return err
	}
	return p.text(cur, text)
}

// directiveErr refuses a directive (the body after "<!"). The scanner
// refuses a declaration when it sees its end, but the tokenizer may complete
// the token first: it is classified the same way so that an external entity
// is reported as such, not as a bare DTD.
func directiveErr(d []byte) error {
	return declErr(append([]byte("<!"), d...))
}

// endTree checks the tree once the input has ended.
func (p *parser) endTree() (*node, error) {
	if p.nrun != len(p.sc.runs) {
		// A marker the tokenizer did not return as a comment (it read it
		// as part of a comment, PI or CDATA section): the scanner and the
		// tokenizer disagree about the structure, the mirror image of the
		// out-of-order check in comment.
		return nil, newErr("", ErrMalformed, "internal: payload run not placed")
	}
	if p.root == nil {
		return nil, newErr("", ErrNotEdXML, "no root element")
	}
	return p.root, nil
}

// encodingErr refuses a declared encoding other than UTF-8.
func encodingErr(label string) error {
	return &Error{Err: ErrEncoding, Msg: fmt.Sprintf("encoding %q is not supported; edXML is UTF-8", label)}
}

func (p *parser) curPath() string {
	if p.cur == nil {
		return ""
	}
	return p.cur.path()
}

// syntaxErr classifies a syntax error (encoding/xml's message) at line.
func (p *parser) syntaxErr(msg string, line int) error {
	path := p.curPath()
	switch {
	case strings.Contains(msg, "unexpected EOF"):
		return newErr(path, ErrTruncated, "input ends inside an element (line %d)", line)
	case strings.Contains(msg, "entity"):
		return newErr(path, ErrUndefinedEntity, "%s (line %d)", msg, line)
	}
	return newErr(path, ErrMalformed, "%s (line %d)", msg, line)
}

// pathOf is the path of a child named local of parent. Each node keeps its
// own path, so names are clipped: with whole names, 32 levels of 60 KB names
// made every element below them carry a 2 MB path (gigabytes from a packet
// of a few megabytes). edXML names are short and never clipped.
// text adds character data to cur (nil: outside the root element).
func (p *parser) text(cur *node, t []byte) error {
	if cur == nil {
		if len(bytes.TrimLeft(t, " \t\r\n")) > 0 {
			return newErr("", ErrMalformed, "text outside the root element")
		}
		return nil
	}
	if cur.tlen+len(t) > p.lim.MaxText {
		return newErr(cur.path(), ErrTextTooLong, "text longer than %d bytes", p.lim.MaxText)
	}
	cur.tlen += len(t)
	nonSpace := len(bytes.TrimLeft(t, " \t\r\n")) > 0
	if nonSpace && cur.interrupted && !cur.noted && cur.name.Local != "ContentTransferEncoded" {
		// "000.00.00.<!---->G22": parsers that keep only the first text
		// node read another value than those that join them, and a
		// signature does not cover comments.
		cur.noted = true
		p.note(deviation(cur.path(), ErrCommentInValue, "a comment or processing instruction splits this value"))
	}
	cur.hasText = cur.hasText || nonSpace
	// Text split by comments or processing instructions is joined to the
	// inline piece before it: one piece per CharData token let a run of
	// "a<!---->" cost several times its size in memory.
	if l := len(cur.text); l > 0 && cur.text[l-1].text != nil {
		cur.text[l-1].text = append(cur.text[l-1].text, t...)
		return nil
	}
	cur.text = append(cur.text, piece{text: bytes.Clone(t)})
	return nil
}

// interrupt records a comment or processing instruction after text in cur.
func (p *parser) interrupt(cur *node) {
	if cur != nil && cur.hasText {
		cur.interrupted = true
	}
}

// readRun reads a skipped run back from the source as the text a parser
// would see: base64 characters and white space, line ends normalized.
func (p *parser) readRun(run span) ([]byte, error) {
	b := make([]byte, run.Len)
	if _, err := p.src.ReadAt(b, run.Off); err != nil {
		return nil, newErr("", ErrRead, "cannot read the packet: %v", err)
	}
	if bytes.IndexByte(b, '\r') < 0 {
		return b, nil // ReplaceAll copies even what it leaves unchanged
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\r"), []byte("\n")), nil
}

// childPath is the path of parent's child named local, the index-th of
// that name.
func childPath(parent *node, local string, index int) string {
	path := "/" + clip(local)
	if parent != nil {
		path = parent.path() + path
	}
	if index > 1 {
		path += "[" + strconv.Itoa(index) + "]"
	}
	return path
}

// path is the node's path, such as "/edXMLEnvelope/edXMLHeader/MessageHeader/To[2]".
func (n *node) path() string {
	if n.pathStr == "" {
		n.pathStr = childPath(n.parent, n.name.Local, n.index)
	}
	return n.pathStr
}

// maxNameInMsg is the longest name or namespace quoted in a path or message.
const maxNameInMsg = 64

// clip shortens s to at most maxNameInMsg bytes, on a rune boundary, marking
// the cut with "…".
func clip(s string) string {
	if len(s) <= maxNameInMsg {
		return s
	}
	i := maxNameInMsg
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// nameCounts maps local names to counts: a few in a slice, searched
// in order, then a map. Most elements have children of a few names,
// and a map for each was a tenth of the bytes a parse allocated.
type nameCounts struct {
	few  []nameCount
	many map[string]int
}

type nameCount struct {
	name string
	n    int
}

// fewNames is how many names nameCounts keeps in its slice.
const fewNames = 8

func (c *nameCounts) get(name string) int {
	if c.many != nil {
		return c.many[name]
	}
	for _, e := range c.few {
		if e.name == name {
			return e.n
		}
	}
	return 0
}

func (c *nameCounts) set(name string, n int) {
	if c.many != nil {
		c.many[name] = n
		return
	}
	for i := range c.few {
		if c.few[i].name == name {
			c.few[i].n = n
			return
		}
	}
	if len(c.few) < fewNames {
		c.few = append(c.few, nameCount{name, n})
		return
	}
	c.many = make(map[string]int, 2*fewNames)
	for _, e := range c.few {
		c.many[e.name] = e.n
	}
	c.many[name] = n
	c.few = nil
}

// dupAttr returns an attribute whose name (namespace and local name) appears
// twice in as.
func dupAttr(as []xml.Attr) (xml.Name, bool) {
	if len(as) <= 16 {
		for i := range as {
			for j := i + 1; j < len(as); j++ {
				if as[i].Name == as[j].Name {
					return as[i].Name, true
				}
			}
		}
		return xml.Name{}, false
	}
	seen := make(map[xml.Name]bool, len(as))
	for _, a := range as {
		if seen[a.Name] {
			return a.Name, true
		}
		seen[a.Name] = true
	}
	return xml.Name{}, false
}

// decodeErr is the *Error for an error of the scanner (a refusal or a read
// error, perhaps wrapped): it gets the path of the open element unless it is
// about the whole packet.
func (p *parser) decodeErr(err error) error {
	var e *Error
	if errors.As(err, &e) {
		if e.Path == "" && p.cur != nil && e.Err != ErrTooLarge {
			c := *e
			c.Path = p.cur.path()
			return &c
		}
		return e
	}
	return newErr(p.curPath(), ErrMalformed, "%v", err)
}

func (p *parser) note(e *Error) { p.issues = append(p.issues, e) }

// packet maps the tree onto the model.
func (p *parser) packet(root *node) (*Packet, error) {
	switch {
	case root.name.Local == "edXML" && root.name.Space == Namespace:
	case root.name.Space == LegacyNamespace:
		return nil, newErr(root.path(), ErrNamespace, "legacy pre-QCVN edXML namespace %q is not supported", LegacyNamespace)
	case root.name.Local == "edXML":
		return nil, newErr(root.path(), ErrNamespace, "root element is in namespace %q, want %q", root.name.Space, Namespace)
	default:
		return nil, newErr(root.path(), ErrNotEdXML, "root element is {%s}%s, want edXML", root.name.Space, root.name.Local)
	}
	if err := p.noStraySignature(root); err != nil {
		return nil, err
	}
	pkt := &Packet{}
	top, err := p.group(root, one("edXMLEnvelope"), one("AttachmentEncoded"))
	if err != nil {
		return nil, err
	}
	env := top.first("edXMLEnvelope")
	if env == nil {
		return nil, newErr(root.path()+"/edXMLEnvelope", ErrMissing, "edXMLEnvelope is missing")
	}
	envKids, err := p.group(env, one("edXMLHeader"), one("edXMLBody"))
	if err != nil {
		return nil, err
	}
	hdr := envKids.first("edXMLHeader")
	if hdr == nil {
		return nil, newErr(env.path()+"/edXMLHeader", ErrMissing, "edXMLHeader is missing")
	}
	hk, err := p.group(hdr, one("MessageHeader"), one("TraceHeaderList"), sig())
	if err != nil {
		return nil, err
	}
	mh := hk.first("MessageHeader")
	if mh == nil {
		return nil, newErr(hdr.path()+"/MessageHeader", ErrMissing, "MessageHeader is missing")
	}
	if err := p.messageHeader(pkt, mh); err != nil {
		return nil, err
	}
	if tl := hk.first("TraceHeaderList"); tl != nil {
		if err := p.traceList(pkt, tl); err != nil {
			return nil, err
		}
	}
	if s := hk.first("Signature"); s != nil {
		pkt.Signature = p.signature(s)
	}
	if body := envKids.first("edXMLBody"); body != nil {
		if err := p.body(pkt, body); err != nil {
			return nil, err
		}
	}
	if ae := top.first("AttachmentEncoded"); ae != nil {
		if err := p.attachments(pkt, ae); err != nil {
			return nil, err
		}
	}
	if pkt.Status != nil && (len(pkt.Manifest) > 0 || len(pkt.Attachments) > 0) {
		p.note(deviation(env.path(), ErrUnexpected, "a status packet carries no body or attachments"))
	}
	pkt.Issues = p.issues
	return pkt, nil
}

// noStraySignature refuses Signature elements anywhere but as a child of
// edXMLHeader: a second or displaced signature is how wrapping attacks start.
//
// An element is a Signature by its local name, whatever its namespace (an
// unbound prefix or a made-up namespace must not hide one from this check
// while a verifier that goes by local name finds it), and the header is the
// packet's own /edXML/edXMLEnvelope/edXMLHeader in the edXML namespace, not
// any element of that local name (a look-alike header in another namespace,
// or nested under AttachmentEncoded, is ignored as unknown and must not
// shelter a second signature).
func (p *parser) noStraySignature(n *node) error {
	for _, k := range n.kids {
		if k.name.Local == "Signature" {
			if !isHeader(n) {
				return newErr(k.path(), ErrUnexpected, "Signature is allowed only in edXMLHeader")
			}
			continue // its own children are the signature's business
		}
		if err := p.noStraySignature(k); err != nil {
			return err
		}
	}
	return nil
}

// isHeader reports whether n is the packet's edXMLHeader (the root, edXML in
// the edXML namespace, is checked before).
func isHeader(n *node) bool {
	env := n.parent
	return n.name == xml.Name{Space: Namespace, Local: "edXMLHeader"} &&
		env != nil && env.name == xml.Name{Space: Namespace, Local: "edXMLEnvelope"} &&
		env.parent != nil && env.parent.parent == nil
}

// childSpec says how often a child may appear.
type childSpec struct {
	local  string
	repeat bool
	isSig  bool
	alias  string // accepted with a deviation, mapped to local
}

func one(local string) childSpec  { return childSpec{local: local} }
func many(local string) childSpec { return childSpec{local: local, repeat: true} }
func sig() childSpec              { return childSpec{local: "Signature", isSig: true} }

// kids are an element's children sorted by group, by the specs it was
// given (a map for each group was a seventh of the bytes a parse allocated).
type kids struct {
	specs []childSpec
	nodes [][]*node // nodes[i]: the children of specs[i], in order
}

// all returns the children of the spec named local.
func (k kids) all(local string) []*node {
	for i := range k.specs {
		if k.specs[i].local == local {
			return k.nodes[i]
		}
	}
	return nil
}

func (k kids) first(local string) *node {
	if ns := k.all(local); len(ns) > 0 {
		return ns[0]
	}
	return nil
}

// group sorts n's children by local name, order-insensitively. Children
// outside the edXML namespace or not in specs are noted as unknown; a
// non-repeatable child that appears twice is an error, since which one a
// reader would take is ambiguous. Text between children is noted.
func (p *parser) group(n *node, specs ...childSpec) (kids, error) {
	out := kids{specs: specs, nodes: make([][]*node, len(specs))}
	for _, k := range n.kids {
		var spec *childSpec
		si := -1
		for i := range specs {
			s := &specs[i]
			if k.name.Local == s.local || (s.alias != "" && k.name.Local == s.alias) {
				spec, si = s, i
				break
			}
		}
		// A Signature is one in any namespace (signature notes those not in
		// the XML-Signature one), so that a second one in a made-up
		// namespace is a duplicate, not an unknown element beside the first.
		ok := spec != nil && (k.name.Space == Namespace || spec.isSig)
		if !ok {
			// Names are clipped: a long namespace declared once and quoted
			// in the note of each of thousands of children was an
			// amplification of memory.
			p.note(deviation(k.path(), ErrUnknown, "unknown element {%s}%s ignored", clip(k.name.Space), clip(k.name.Local)))
			continue
		}
		if spec.alias != "" && k.name.Local == spec.alias {
			p.note(deviation(k.path(), ErrUnknown, "%s is spelled %s in QCVN 102", spec.alias, spec.local))
		}
		if len(out.nodes[si]) > 0 && !spec.repeat {
			return kids{}, newErr(k.path(), ErrDuplicate, "%s appears more than once", spec.local)
		}
		out.nodes[si] = append(out.nodes[si], k)
	}
	if !n.blank() {
		p.note(deviation(n.path(), ErrUnexpected, "text between elements ignored"))
	}
	return out, nil
}

// value is the trimmed text of a leaf element; child elements are noted.
func (p *parser) value(n *node) string {
	if n == nil {
		return ""
	}
	if len(n.kids) > 0 {
		p.note(deviation(n.kids[0].path(), ErrUnexpected, "element inside a text field ignored"))
	}
	return strings.TrimSpace(n.inline())
}

func (p *parser) intValue(n *node) *int {
	s := p.value(n)
	if n == nil || s == "" {
		return nil
	}
	v, err := wholeNumber(s)
	if err != nil || len(s) > 9 {
		p.note(newErr(n.path(), ErrInvalidValue, "%q is not a whole number", s))
		return nil
	}
	return &v
}

// wholeNumber reads an optional minus sign and decimal digits: not "+1",
// not " 1", which strconv.Atoi would take.
func wholeNumber(s string) (int, error) {
	d := strings.TrimPrefix(s, "-")
	if d == "" || strings.Trim(d, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	return strconv.Atoi(s)
}

func (p *parser) date(n *node) Date {
	s := p.value(n)
	if n == nil || s == "" {
		return Date{}
	}
	d, nc, err := ParseDate(s)
	if err != nil {
		p.note(newErr(n.path(), ErrDate, "%v", err))
		return Date{}
	}
	if nc {
		p.note(deviation(n.path(), ErrDate, "date %q is not in the form yyyy/MM/dd", s))
	}
	return d
}

func (p *parser) timestamp(n *node) time.Time {
	s := p.value(n)
	if n == nil || s == "" {
		return time.Time{}
	}
	t, nc, err := ParseTimestamp(s)
	if err != nil {
		p.note(newErr(n.path(), ErrTimestamp, "%v", err))
		return time.Time{}
	}
	if nc {
		p.note(deviation(n.path(), ErrTimestamp, "timestamp %q is not in the form yyyy/MM/dd HH:mm:ss", s))
	}
	return t
}

func (p *parser) code(n *node) agencyids.Code {
	return agencyids.Code(p.value(n))
}

var orgSpecs = []childSpec{one("OrganId"), one("OrganizationInCharge"), one("OrganName"), one("OrganAdd"),
	one("Email"), one("Telephone"), one("Fax"), one("Website")}

func (p *parser) organization(n *node) (Organization, error) {
	k, err := p.group(n, orgSpecs...)
	if err != nil {
		return Organization{}, err
	}
	return Organization{
		OrganID:              p.code(k.first("OrganId")),
		OrganizationInCharge: p.value(k.first("OrganizationInCharge")),
		OrganName:            p.value(k.first("OrganName")),
		OrganAdd:             p.value(k.first("OrganAdd")),
		Email:                p.value(k.first("Email")),
		Telephone:            p.value(k.first("Telephone")),
		Fax:                  p.value(k.first("Fax")),
		Website:              p.value(k.first("Website")),
	}, nil
}

func (p *parser) messageHeader(pkt *Packet, mh *node) error {
	var hasStatus, hasDoc, statusOnly bool
	for _, k := range mh.kids {
		switch k.name.Local {
		case "StatusCode":
			hasStatus = true
		case "StaffInfo", "Description", "Timestamp":
			statusOnly = true
		case "To", "Subject", "Code", "DocumentId", "PromulgationInfo":
			if k.name.Local != "Code" || len(k.kids) > 0 {
				hasDoc = true
			}
		}
	}
	switch {
	case hasStatus && hasDoc:
		return newErr(mh.path(), ErrKind, "MessageHeader has both StatusCode and document elements")
	case hasStatus, statusOnly && !hasDoc:
		// A header with the elements only a status has and none only a
		// document has is a status that lacks its StatusCode: read as a
		// document, it was reported as a document missing its To,
		// Subject… instead of as a status missing its code.
		return p.statusHeader(pkt, mh)
	}
	return p.documentHeader(pkt, mh)
}

func (p *parser) documentHeader(pkt *Packet, mh *node) error {
	k, err := p.group(mh, one("From"), many("To"), one("Code"), one("PromulgationInfo"), one("DocumentType"),
		one("Subject"), one("Content"), one("SignerInfo"), one("DueDate"), one("ToPlaces"), one("OtherInfo"),
		many("ResponseFor"), one("SteeringType"), one("DocumentId"))
	if err != nil {
		return err
	}
	h := &DocumentHeader{}
	if n := k.first("From"); n != nil {
		if h.From, err = p.organization(n); err != nil {
			return err
		}
	}
	for _, n := range k.all("To") {
		o, err := p.organization(n)
		if err != nil {
			return err
		}
		h.To = append(h.To, o)
	}
	h.DocumentID = p.value(k.first("DocumentId"))
	if n := k.first("Code"); n != nil {
		ck, err := p.group(n, one("CodeNumber"), one("CodeNotation"))
		if err != nil {
			return err
		}
		h.Code = Code{Number: p.value(ck.first("CodeNumber")), Notation: p.value(ck.first("CodeNotation"))}
	}
	if n := k.first("PromulgationInfo"); n != nil {
		pk, err := p.group(n, one("Place"), one("PromulgationDate"))
		if err != nil {
			return err
		}
		h.Promulgation = PromulgationInfo{Place: p.value(pk.first("Place")), Date: p.date(pk.first("PromulgationDate"))}
	}
	if n := k.first("DocumentType"); n != nil {
		dk, err := p.group(n, one("Type"), one("TypeDetail"), one("TypeName"))
		if err != nil {
			return err
		}
		h.DocumentType = DocumentType{Type: p.intValue(dk.first("Type")), TypeDetail: p.intValue(dk.first("TypeDetail")), TypeName: p.value(dk.first("TypeName"))}
	}
	h.Subject = p.value(k.first("Subject"))
	h.Content = p.value(k.first("Content"))
	if n := k.first("SignerInfo"); n != nil {
		sk, err := p.group(n, one("Competence"), one("Position"), one("FullName"))
		if err != nil {
			return err
		}
		h.Signer = SignerInfo{Competence: p.value(sk.first("Competence")), Position: p.value(sk.first("Position")), FullName: p.value(sk.first("FullName"))}
	}
	h.DueDate = p.date(k.first("DueDate"))
	if n := k.first("ToPlaces"); n != nil {
		tk, err := p.group(n, many("Place"))
		if err != nil {
			return err
		}
		for _, pl := range tk.all("Place") {
			h.ToPlaces = append(h.ToPlaces, p.value(pl))
		}
	}
	if n := k.first("OtherInfo"); n != nil {
		if h.OtherInfo, err = p.otherInfo(n); err != nil {
			return err
		}
	}
	for _, n := range k.all("ResponseFor") {
		r, err := p.responseFor(n)
		if err != nil {
			return err
		}
		if !r.IsZero() {
			h.ResponseFor = append(h.ResponseFor, r)
		}
	}
	h.SteeringType = p.intValue(k.first("SteeringType"))
	pkt.Document = h
	return nil
}

func (p *parser) otherInfo(n *node) (*OtherInfo, error) {
	k, err := p.group(n, one("Priority"), one("SphereOfPromulgation"), one("TyperNotation"),
		one("PromulgationAmount"), one("PageAmount"), one("Direction"), one("Appendixes"))
	if err != nil {
		return nil, err
	}
	o := &OtherInfo{
		SphereOfPromulgation: p.value(k.first("SphereOfPromulgation")),
		TyperNotation:        p.value(k.first("TyperNotation")),
		PromulgationAmount:   p.intValue(k.first("PromulgationAmount")),
		PageAmount:           p.intValue(k.first("PageAmount")),
	}
	if v := p.intValue(k.first("Priority")); v != nil {
		pr := Priority(*v)
		o.Priority = &pr
	}
	if dn := k.first("Direction"); dn != nil {
		switch s := strings.ToLower(p.value(dn)); s {
		case "true", "1":
			t := true
			o.Direction = &t
		case "false", "0":
			f := false
			o.Direction = &f
		case "":
		default:
			p.note(newErr(dn.path(), ErrInvalidValue, "Direction %q is not true or false", s))
		}
	}
	if an := k.first("Appendixes"); an != nil {
		ak, err := p.group(an, many("Appendix"))
		if err != nil {
			return nil, err
		}
		for _, a := range ak.all("Appendix") {
			o.Appendixes = append(o.Appendixes, p.value(a))
		}
	}
	return o, nil
}

func (p *parser) responseFor(n *node) (ResponseFor, error) {
	k, err := p.group(n, one("OrganId"), one("Code"), one("PromulgationDate"), one("DocumentId"))
	if err != nil {
		return ResponseFor{}, err
	}
	r := ResponseFor{OrganID: p.code(k.first("OrganId")), DocumentID: p.value(k.first("DocumentId")), PromulgationDate: p.date(k.first("PromulgationDate"))}
	if c := k.first("Code"); c != nil {
		if len(c.kids) > 0 {
			// Some libraries nest CodeNumber/CodeNotation here.
			ck, err := p.group(c, one("CodeNumber"), one("CodeNotation"))
			if err != nil {
				return ResponseFor{}, err
			}
			p.note(deviation(c.path(), ErrUnexpected, "ResponseFor/Code is one \"number/notation\" string in QCVN 102"))
			r.Code = Code{Number: p.value(ck.first("CodeNumber")), Notation: p.value(ck.first("CodeNotation"))}.String()
		} else {
			r.Code = p.value(c)
		}
	}
	return r, nil
}

func (p *parser) staffInfo(n *node) (StaffInfo, error) {
	if n == nil {
		return StaffInfo{}, nil
	}
	k, err := p.group(n, one("Department"), one("Staff"), one("Email"), one("Mobile"))
	if err != nil {
		return StaffInfo{}, err
	}
	return StaffInfo{Department: p.value(k.first("Department")), Staff: p.value(k.first("Staff")),
		Email: p.value(k.first("Email")), Mobile: p.value(k.first("Mobile"))}, nil
}

func (p *parser) statusHeader(pkt *Packet, mh *node) error {
	k, err := p.group(mh, one("From"), one("ResponseFor"), one("StaffInfo"), one("StatusCode"), one("Description"), one("Timestamp"))
	if err != nil {
		return err
	}
	s := &StatusHeader{}
	if n := k.first("From"); n != nil {
		if s.From, err = p.organization(n); err != nil {
			return err
		}
	}
	if n := k.first("ResponseFor"); n != nil {
		if s.ResponseFor, err = p.responseFor(n); err != nil {
			return err
		}
	}
	if s.Staff, err = p.staffInfo(k.first("StaffInfo")); err != nil {
		return err
	}
	if n := k.first("StatusCode"); n != nil {
		v := p.value(n)
		c, err := wholeNumber(v)
		switch {
		case v == "":
			// Code stays 0: Validate reports it missing.
		case err != nil || len(v) > 3 || c < 0:
			p.note(newErr(n.path(), ErrStatusCode, "status code %q is not a number", v))
		default:
			s.Code = StatusCode(c)
			if len(v) != 2 {
				p.note(deviation(n.path(), ErrStatusCode, "status code %q is not two digits", v))
			}
		}
	}
	s.Description = p.value(k.first("Description"))
	s.Timestamp = p.timestamp(k.first("Timestamp"))
	pkt.Status = s
	return nil
}

func (p *parser) traceList(pkt *Packet, tl *node) error {
	k, err := p.group(tl, many("TraceHeader"), childSpec{local: "Bussiness", alias: "Business"})
	if err != nil {
		return err
	}
	for _, th := range k.all("TraceHeader") {
		hk, err := p.group(th, one("OrganId"), one("Timestamp"))
		if err != nil {
			return err
		}
		pkt.Trace = append(pkt.Trace, TraceHeader{OrganID: p.code(hk.first("OrganId")), Timestamp: p.timestamp(hk.first("Timestamp"))})
	}
	if b := k.first("Bussiness"); b != nil {
		if pkt.Business, err = p.business(b); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) business(n *node) (*Business, error) {
	k, err := p.group(n, one("BussinessDocType"), one("BussinessDocReason"), one("DocumentId"), one("Paper"),
		one("StaffInfo"), one("BussinessDocumentInfo"), one("ReplacementInfoList"))
	if err != nil {
		return nil, err
	}
	b := &Business{Reason: p.value(k.first("BussinessDocReason")), DocumentID: p.value(k.first("DocumentId")), Paper: p.intValue(k.first("Paper"))}
	if v := p.intValue(k.first("BussinessDocType")); v != nil {
		b.DocType = BusinessDocType(*v)
	} else if k.first("BussinessDocType") == nil {
		b.DocType = -1 // missing; Validate reports it
	}
	if b.Staff, err = p.staffInfo(k.first("StaffInfo")); err != nil {
		return nil, err
	}
	if di := k.first("BussinessDocumentInfo"); di != nil {
		dk, err := p.group(di, one("DocumentInfo"), one("DocumentReceiver"), one("ReceiverList"))
		if err != nil {
			return nil, err
		}
		info := &BusinessDocumentInfo{DocumentInfo: p.intValue(dk.first("DocumentInfo")), DocumentReceiver: p.intValue(dk.first("DocumentReceiver"))}
		if rl := dk.first("ReceiverList"); rl != nil {
			rk, err := p.group(rl, many("Receiver"))
			if err != nil {
				return nil, err
			}
			for _, r := range rk.all("Receiver") {
				fk, err := p.group(r, one("OrganId"), one("ReceiverType"))
				if err != nil {
					return nil, err
				}
				rec := Receiver{OrganID: p.code(fk.first("OrganId")), ReceiverType: -1}
				if v := p.intValue(fk.first("ReceiverType")); v != nil {
					rec.ReceiverType = *v
				}
				info.Receivers = append(info.Receivers, rec)
			}
		}
		b.DocumentInfo = info
	}
	if rl := k.first("ReplacementInfoList"); rl != nil {
		rk, err := p.group(rl, many("ReplacementInfo"))
		if err != nil {
			return nil, err
		}
		for _, ri := range rk.all("ReplacementInfo") {
			fk, err := p.group(ri, one("DocumentId"), one("OrganIdList"))
			if err != nil {
				return nil, err
			}
			info := ReplacementInfo{DocumentID: p.value(fk.first("DocumentId"))}
			if ol := fk.first("OrganIdList"); ol != nil {
				ok, err := p.group(ol, many("OrganId"))
				if err != nil {
					return nil, err
				}
				for _, o := range ok.all("OrganId") {
					info.OrganIDs = append(info.OrganIDs, p.code(o))
				}
			}
			b.Replacements = append(b.Replacements, info)
		}
	}
	return b, nil
}

func (p *parser) body(pkt *Packet, body *node) error {
	k, err := p.group(body, one("edXMLManifest"))
	if err != nil {
		return err
	}
	man := k.first("edXMLManifest")
	if man == nil {
		return nil
	}
	if v, ok := man.attr("version"); ok && v != "1.0" {
		p.note(deviation(man.path(), ErrInvalidValue, "manifest version %q, want 1.0", v))
	}
	mk, err := p.group(man, many("Reference"))
	if err != nil {
		return err
	}
	if len(mk.all("Reference")) > p.lim.MaxAttachments {
		return newErr(man.path(), ErrTooManyAttachments, "%d manifest entries, more than %d", len(mk.all("Reference")), p.lim.MaxAttachments)
	}
	for _, r := range mk.all("Reference") {
		rk, err := p.group(r, one("ContentId"), one("ContentType"), one("Description"), one("AttachmentName"))
		if err != nil {
			return err
		}
		pkt.Manifest = append(pkt.Manifest, ManifestEntry{
			ContentID:      p.contentID(rk.first("ContentId")),
			ContentType:    p.value(rk.first("ContentType")),
			Description:    p.value(rk.first("Description")),
			AttachmentName: p.value(rk.first("AttachmentName")),
		})
	}
	return nil
}

func (p *parser) contentID(n *node) string {
	return strings.TrimPrefix(p.value(n), "cid:")
}

func (p *parser) attachments(pkt *Packet, ae *node) error {
	k, err := p.group(ae, many("Attachment"))
	if err != nil {
		return err
	}
	if len(k.all("Attachment")) > p.lim.MaxAttachments {
		return newErr(ae.path(), ErrTooManyAttachments, "%d attachments, more than %d", len(k.all("Attachment")), p.lim.MaxAttachments)
	}
	for _, a := range k.all("Attachment") {
		ak, err := p.group(a, one("ContentId"), one("AttachmentName"), one("Description"), one("ContentType"), one("ContentTransferEncoded"))
		if err != nil {
			return err
		}
		att := &Attachment{
			ContentID:   p.contentID(ak.first("ContentId")),
			Name:        p.value(ak.first("AttachmentName")),
			Description: p.value(ak.first("Description")),
			ContentType: p.value(ak.first("ContentType")),
		}
		if cte := ak.first("ContentTransferEncoded"); cte != nil {
			if len(cte.kids) > 0 {
				return newErr(cte.kids[0].path(), ErrUnexpected, "elements inside an attachment payload")
			}
			att.content = &encodedContent{src: p.src, pieces: cte.text}
		}
		pkt.Attachments = append(pkt.Attachments, att)
	}
	return nil
}

func (p *parser) signature(n *node) *Signature {
	s := &Signature{Namespace: n.name.Space}
	if s.Namespace != DSigNamespace {
		p.note(deviation(n.path(), ErrNamespace, "Signature is not in the XML-Signature namespace"))
	}
	var walk func(*node)
	walk = func(n *node) {
		for _, k := range n.kids {
			alg, _ := k.attr("Algorithm")
			switch k.name.Local {
			case "CanonicalizationMethod":
				if k.parent.name.Local == "SignedInfo" {
					s.CanonicalizationMethod = alg
				}
			case "SignatureMethod":
				s.SignatureMethod = alg
			case "Reference":
				uri, _ := k.attr("URI")
				s.References = append(s.References, SignatureReference{URI: uri})
			case "Transform":
				if l := len(s.References); l > 0 {
					s.References[l-1].Transforms = append(s.References[l-1].Transforms, alg)
				}
			case "DigestMethod":
				if l := len(s.References); l > 0 {
					s.References[l-1].DigestMethod = alg
				}
			case "X509Certificate":
				s.Certificates = append(s.Certificates, strings.TrimSpace(k.inline()))
			case "X509SubjectName":
				s.SubjectNames = append(s.SubjectNames, strings.TrimSpace(k.inline()))
			}
			walk(k)
		}
	}
	walk(n)
	return s
}
