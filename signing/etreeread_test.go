package signing

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/edocgw/edocgw/internal/xmltok"
)

// etreeStdlib reads b as parseSignature did before readEtree.
func etreeStdlib(b []byte) (*etree.Document, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, err
	}
	return doc, nil
}

// diffDocs describes the first difference between two documents, or is "".
// It walks both trees comparing every token's kind and fields, that the
// parent of each token is the counterpart of the other's, that indexes are
// positions, and that no token appears twice. If fresh (got as readEtree
// returned it), got's attribute and child lists must have no room to grow
// into a list that follows them.
func diffDocs(got, want *etree.Document, fresh bool) string {
	if !reflect.DeepEqual(got.ReadSettings, want.ReadSettings) || got.WriteSettings != want.WriteSettings {
		return "settings differ"
	}
	if got.Parent() != nil || got.Index() != want.Index() {
		return fmt.Sprintf("document parent %p index %d, want nil, %d", got.Parent(), got.Index(), want.Index())
	}
	d := &docDiff{peer: map[*etree.Element]*etree.Element{&want.Element: &got.Element}, seen: map[etree.Token]bool{}, fresh: fresh}
	return d.elem(&got.Element, &want.Element, "")
}

type docDiff struct {
	peer  map[*etree.Element]*etree.Element // want's element → got's
	seen  map[etree.Token]bool              // got's tokens met so far
	fresh bool
}

func (d *docDiff) elem(g, w *etree.Element, path string) string {
	if g.Space != w.Space || g.Tag != w.Tag {
		return fmt.Sprintf("%s: element %q:%q, want %q:%q", path, g.Space, g.Tag, w.Space, w.Tag)
	}
	path += "/" + w.FullTag()
	if (g.Attr == nil) != (w.Attr == nil) || len(g.Attr) != len(w.Attr) {
		return fmt.Sprintf("%s: attributes %#v, want %#v", path, g.Attr, w.Attr)
	}
	for i := range w.Attr {
		ga, wa := &g.Attr[i], &w.Attr[i]
		if ga.Space != wa.Space || ga.Key != wa.Key || ga.Value != wa.Value {
			return fmt.Sprintf("%s: attribute %d %q:%q=%q, want %q:%q=%q", path, i, ga.Space, ga.Key, ga.Value, wa.Space, wa.Key, wa.Value)
		}
		if ga.Element() != g || wa.Element() != w {
			return fmt.Sprintf("%s: attribute %d of element %p, want %p", path, i, ga.Element(), g)
		}
		if ga.NamespaceURI() != wa.NamespaceURI() {
			return fmt.Sprintf("%s: attribute %d in namespace %q, want %q", path, i, ga.NamespaceURI(), wa.NamespaceURI())
		}
	}
	if d.fresh && len(g.Attr) < cap(g.Attr) {
		return fmt.Sprintf("%s: attribute list of length %d shares room %d", path, len(g.Attr), cap(g.Attr))
	}
	if (g.Child == nil) != (w.Child == nil) || len(g.Child) != len(w.Child) {
		return fmt.Sprintf("%s: %d children (nil %t), want %d (nil %t)", path, len(g.Child), g.Child == nil, len(w.Child), w.Child == nil)
	}
	if d.fresh && len(g.Child) < cap(g.Child) {
		return fmt.Sprintf("%s: child list of length %d shares room %d", path, len(g.Child), cap(g.Child))
	}
	for i, wc := range w.Child {
		gc := g.Child[i]
		at := fmt.Sprintf("%s[%d]", path, i)
		if d.seen[gc] {
			return at + ": token appears twice"
		}
		d.seen[gc] = true
		if wc.Index() != i || gc.Index() != i {
			return fmt.Sprintf("%s: index %d, want %d (etree %d)", at, gc.Index(), i, wc.Index())
		}
		if wc.Parent() != w || gc.Parent() != d.peer[wc.Parent()] {
			return fmt.Sprintf("%s: parent %p, want %p", at, gc.Parent(), d.peer[wc.Parent()])
		}
		if reflect.TypeOf(gc) != reflect.TypeOf(wc) {
			return fmt.Sprintf("%s: %T, want %T", at, gc, wc)
		}
		switch wc := wc.(type) {
		case *etree.Element:
			gc := gc.(*etree.Element)
			d.peer[wc] = gc
			if gc.NamespaceURI() != wc.NamespaceURI() {
				return fmt.Sprintf("%s: namespace %q, want %q", at, gc.NamespaceURI(), wc.NamespaceURI())
			}
			if s := d.elem(gc, wc, path); s != "" {
				return s
			}
		case *etree.CharData:
			gc := gc.(*etree.CharData)
			if gc.Data != wc.Data || gc.IsCData() != wc.IsCData() || gc.IsWhitespace() != wc.IsWhitespace() {
				return fmt.Sprintf("%s: text %q (CDATA %t, space %t), want %q (%t, %t)", at,
					gc.Data, gc.IsCData(), gc.IsWhitespace(), wc.Data, wc.IsCData(), wc.IsWhitespace())
			}
		case *etree.Comment:
			if gc := gc.(*etree.Comment); gc.Data != wc.Data {
				return fmt.Sprintf("%s: comment %q, want %q", at, gc.Data, wc.Data)
			}
		case *etree.ProcInst:
			if gc := gc.(*etree.ProcInst); gc.Target != wc.Target || gc.Inst != wc.Inst {
				return fmt.Sprintf("%s: PI %q %q, want %q %q", at, gc.Target, gc.Inst, wc.Target, wc.Inst)
			}
		case *etree.Directive:
			if gc := gc.(*etree.Directive); gc.Data != wc.Data {
				return fmt.Sprintf("%s: directive %q, want %q", at, gc.Data, wc.Data)
			}
		default:
			return fmt.Sprintf("%s: unexpected %T", at, wc)
		}
	}
	return ""
}

// checkReadEtree requires readEtree to read in as etree does, or to refuse
// it as etree does; it reports whether etree accepted it.
func checkReadEtree(t *testing.T, in []byte) bool {
	t.Helper()
	want, wantErr := etreeStdlib(in)
	got, gotErr := readEtree(in)
	switch {
	case (gotErr == nil) != (wantErr == nil):
		t.Fatalf("input %q:\nreadEtree error %v, etree error %v", in, gotErr, wantErr)
	case wantErr != nil:
		return false
	}
	if s := diffDocs(got, want, true); s != "" {
		t.Fatalf("input %q:\n%s", in, s)
	}
	gs, err := got.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	ws, err := want.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	if gs != ws {
		t.Fatalf("input %q:\nwritten %q\nwant    %q", in, gs, ws)
	}
	return true
}

// nested is n elements nested in one another.
func nested(n int) string {
	return strings.Repeat("<a>", n) + strings.Repeat("</a>", n)
}

// manyAttrs is an element with n attributes, every third a repeat.
func manyAttrs(n int) string {
	var b strings.Builder
	b.WriteString("<a xmlns:p='u'")
	for i := range n {
		fmt.Fprintf(&b, " p:x%d='%d'", i-i/3, i)
		if i%5 == 0 {
			fmt.Fprintf(&b, " x%d='%d'", i, i)
		}
	}
	b.WriteString("/>")
	return b.String()
}

// etreeAccepted are inputs etree reads.
var etreeAccepted = []string{
	// XMLDSig with the ds: prefix, in a default namespace context.
	`<edXML xmlns="urn:e"><edXMLEnvelope><edXMLHeader><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">` +
		`<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="ds e"/></ds:CanonicalizationMethod>` +
		`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
		`<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>q83v</ds:DigestValue></ds:Reference></ds:SignedInfo>` +
		"<ds:SignatureValue>\n  AAAA\r\n  BBBB==\n</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>MIIB</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature></edXMLHeader></edXMLEnvelope></edXML>",
	// Default namespace on the Signature, pretty-printed.
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<edXML xmlns=\"urn:e\">\n  <edXML:edXMLEnvelope xmlns:edXML=\"urn:e\">\n    <edXML:edXMLHeader>\n" +
		"      <Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">\n        <SignedInfo>\n          <CanonicalizationMethod Algorithm=\"x\"/>\n" +
		"        </SignedInfo>\n        <SignatureValue>AA==</SignatureValue>\n      </Signature>\n    </edXML:edXMLHeader>\n  </edXML:edXMLEnvelope>\n</edXML>\n",
	// Nested and redeclared namespaces, undeclared default.
	`<a xmlns="u1" xmlns:p="u2"><p:b xmlns:p="u3" p:x="1" x="2"><c xmlns=""><p:d/></c></p:b><q:e xmlns:q="u4" q:y="3"/></a>`,
	`<a xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:lang="vi" xml:space="preserve"> x </a>`,
	// CDATA next to text, empty and white-space CDATA.
	`<a><![CDATA[x<y&amp;]]>t<![CDATA[]]><![CDATA[ ]]>u<![CDATA[]]]]><![CDATA[>]]></a>`,
	"<a><![CDATA[\r\n]]>\r</a>",
	// Comments, PIs, the declaration, content around the root.
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<!-- c -->\n<?pi data ?>\n<a><!--x--><?p?><?q  r s?></a>\n<!--after-->\n",
	"<?xml version='1.0'?><a/>",
	`<a><!----><!-- - --></a>`,
	// White-space text.
	"<a>\n\t <b> </b>\r\n<c>\r</c></a>",
	"  \n<a/>\t",
	// References.
	`<a x="&amp;&#x41;&lt;&#10;&#9;&quot;" y='&apos;"'>&amp;&#x41;&#65;&quot;&apos;&gt;&lt;&#xD7FF;&#x10FFFF;</a>`,
	"<a x='1\r\n2\r3\n4\t5'>x\r\ny\rz\r</a>",
	"<a>&#xD800;</a>",
	// Attributes with namespaces, repeated attributes.
	`<a xmlns:p="u" xmlns:q="u" p:x="1" x="2" p:y='3' q:x="4"/>`,
	`<a x="1" y="2" x="3" z="4" y="5"/>`,
	`<a p:x="1" q:x="2" p:x="3" x="4"/>`,
	`<a xmlns="1" xmlns="2" xmlns:p="3" xmlns:p="4"/>`,
	manyAttrs(40),
	// Names encoding/xml does not split.
	`<a: b:="1" :c="2"></a:>`,
	`<:a/>`,
	`<_.-a·b/>`,
	"<日本:語 属性='値'>テキスト</日本:語>",
	// Declared encodings etree ignores.
	`<?xml version="1.0" encoding="ISO-8859-1"?><a>é</a>`,
	"<?xml version=\"1.0\"\n  encoding='windows-1258' ?>\n<a/>",
	`<a><?xml encoding="latin1"?>x<?xml   encoding="koi8-r"?></a><?xml encoding="utf-16"?>`,
	`<?xml encoding="UTF-8"?><?xml encoding="utf-8"?><a/>`,
	// What etree does not check: several roots, text outside the root,
	// directives, a byte order mark.
	`<a/><b/>`,
	`text<a/>more`,
	`hello`,
	``,
	" \r\n",
	`<!DOCTYPE a [<!ENTITY x "y"> <!-- c --> <!ELEMENT a ANY>]><a/>`,
	`<!DOCTYPE a SYSTEM "a.dtd"><a><!X y></a>`,
	"\xef\xbb\xbf<a/>",
	// As deep as etree goes.
	nested(etreeMaxDepth),
}

// etreeRefused are inputs etree refuses.
var etreeRefused = []string{
	`<a>`,
	`<a><b></b>`,
	`<a></b>`,
	`</a>`,
	`<a/></a>`,
	`<a><b></a></b>`,
	`<p:a></q:a>`,
	`<p:a></a>`,
	`<a></p:a>`,
	`<a x=1/>`,
	`<a x="1" x/>`,
	`<a x="<"/>`,
	`<a>&foo;</a>`,
	`<a>&#0;</a>`,
	`<a>&#x110000;</a>`,
	"<a>\xff</a>",
	"<a>\x01</a>",
	`<a>]]></a>`,
	`<?xml version="1.1"?><a/>`,
	`<a><?xml version="2.0"?></a>`,
	`<!-- -- --><a/>`,
	`<a`,
	`<a><![CDATA[x`,
	`<a><!-- x`,
	`<a:b:c/>`,
	`<1a/>`,
	`<a/>x&`,
	`<?xml encoding="latin1"?><a>`,
	`<?xml encoding="latin1"?><a></b>`,
	nested(etreeMaxDepth + 1),
}

func TestReadEtree(t *testing.T) {
	for _, in := range etreeAccepted {
		if !checkReadEtree(t, []byte(in)) {
			t.Errorf("etree refuses %.80q", in)
		}
	}
	for _, in := range etreeRefused {
		if checkReadEtree(t, []byte(in)) {
			t.Errorf("etree accepts %.80q", in)
		}
	}
}

// TestReadEtreeErrorOffset: after an XML declaration of another encoding,
// which makes readEtree start a tokenizer again, errors still tell where
// in the input they are.
func TestReadEtreeErrorOffset(t *testing.T) {
	in := `<?xml version="1.0" encoding="latin1"?><a>&x;</a>`
	_, err := readEtree([]byte(in))
	var xe *xmltok.Error
	if !errors.As(err, &xe) {
		t.Fatalf("error %v, want an *xmltok.Error", err)
	}
	if want := int64(strings.Index(in, "&")); xe.Offset != want {
		t.Errorf("error at %d, want %d", xe.Offset, want)
	}
}

// TestReadEtreeSignatures compares the readings of real Signatures: as
// parseSignature reads them (the Signature in its ancestors' start tags)
// and the whole packets.
func TestReadEtreeSignatures(t *testing.T) {
	for _, in := range etreeFixtures(t) {
		checkReadEtree(t, in)
	}
}

// TestReadEtreeIndependentLists edits a document read by readEtree and
// requires the same result as the same edits of etree's: lists cut from
// shared chunks must not overlap.
func TestReadEtreeIndependentLists(t *testing.T) {
	in := []byte(`<r xmlns:p="u"><a x="1" y="2"><b/>t<c z="3"/></a><d p:w="4">u<!--c--></d><e/></r>`)
	want, err := etreeStdlib(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readEtree(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []*etree.Document{got, want} {
		for _, e := range doc.FindElements("//*") {
			e.CreateAttr("added", e.Tag)
			e.CreateElement("added").SetText(e.Tag)
			e.CreateText("x")
		}
		doc.CreateComment("end")
	}
	if s := diffDocs(got, want, false); s != "" {
		t.Fatal(s)
	}
	gs, _ := got.WriteToString()
	ws, _ := want.WriteToString()
	if gs != ws {
		t.Fatalf("written %s\nwant    %s", gs, ws)
	}
}

func TestReadEtreeAllocs(t *testing.T) {
	in := benchSignature(t)
	n := testing.AllocsPerRun(20, func() {
		if _, err := readEtree(in); err != nil {
			t.Fatal(err)
		}
	})
	if n > 24 {
		t.Errorf("%v allocations to read a Signature, want at most 24", n)
	}
}

// FuzzReadEtree requires readEtree to read what etree reads as etree does
// and to refuse what it refuses.
func FuzzReadEtree(f *testing.F) {
	for _, in := range etreeAccepted {
		if len(in) < 1024 {
			f.Add([]byte(in))
		}
	}
	for _, in := range etreeRefused {
		if len(in) < 1024 {
			f.Add([]byte(in))
		}
	}
	for _, in := range etreeFixtures(f) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkReadEtree(t, in)
	})
}

func BenchmarkReadEtree(b *testing.B) {
	in := benchSignature(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := readEtree(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadEtreeStdlib(b *testing.B) {
	in := benchSignature(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := etreeStdlib(in); err != nil {
			b.Fatal(err)
		}
	}
}

// A packet signed with a self-signed RSA-2048 certificate (1.1 KB of
// base64 in X509Certificate), made once.
var (
	signedOnce   sync.Once
	signedPacket []byte
	signedErr    error
)

func signedGolden(t testing.TB) []byte {
	t.Helper()
	signedOnce.Do(func() { signedPacket, signedErr = signGolden() })
	if signedErr != nil {
		t.Fatal(signedErr)
	}
	return signedPacket
}

func signGolden() ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7816),
		Subject:   pkix.Name{CommonName: "Văn phòng Chính phủ", SerialNumber: "000.00.00.G22", Organization: []string{"Chính phủ"}, Country: []string{"VN"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	unsigned, err := os.ReadFile(filepath.Join("..", "envelope", "testdata", "golden", "document.edxml"))
	if err != nil {
		return nil, err
	}
	return (&Signer{Key: key, Certificates: []*x509.Certificate{cert}}).SignBytes(unsigned)
}

// benchSignature is the signed packet's Signature as parseSignature reads
// it.
func benchSignature(t testing.TB) []byte {
	t.Helper()
	signed := signedGolden(t)
	loc, err := locate(bytes.NewReader(signed), int64(len(signed)), maxSignatureBytes)
	if err != nil {
		t.Fatal(err)
	}
	return loc.standalone()
}

// etreeFixtures are signature-bearing documents: the signed packet, its
// Signature as parseSignature reads it, and the envelope's fixtures.
func etreeFixtures(t testing.TB) [][]byte {
	t.Helper()
	out := [][]byte{signedGolden(t), benchSignature(t)}
	files, err := filepath.Glob(filepath.Join("..", "envelope", "testdata", "*", "*.edxml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) <= 64<<10 {
			out = append(out, b)
		}
	}
	return out
}
