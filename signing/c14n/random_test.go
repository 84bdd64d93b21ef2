package c14n

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// docGen generates random namespace-well-formed documents that stress the
// parts of canonicalization where tree-based and streaming implementations
// could differ: namespace declarations and redeclarations, xmlns="",
// prefixed attributes, escaping, CR/LF, CDATA, comments and PIs inside and
// outside the document element. They are compared with xmlsec1 (which shares
// no parser with us) and with goxmldsig.
type docGen struct {
	r *rand.Rand
	b strings.Builder
	// forXMLSec: no element named Signature (xmlsec1 signs the first
	// XMLDSig Signature it finds) and no xml:id (libxml2 checks it).
	forXMLSec bool
}

var (
	genURIs     = []string{"urn:x", "urn:y", "http://a.example/ns", NamespaceXMLDSig, NamespaceEdXML, "urn:z:1"}
	genPrefixes = []string{"a", "b", "ds", "edXML", "p"}
	genLocals   = []string{"r", "e", "Signature", "Item", "k", "v"}
	genTexts    = []string{"plain", " ", "\n", "\r\n", "\t", "&amp;", "&lt;", "&gt;", "\"", "'", "&#13;", "&#xD;&#xA;",
		"&#9;", "Tiếng Việt", "🙂", "]]&gt;", "a>b", "&#x10000;", "&quot;&apos;"}
	genAttrVals = []string{"", "v", " s p a c e ", "\t", "\n", "\r\n", "&#9;", "&#10;", "&#13;", "&amp;", "&lt;", ">",
		"&quot;", "'", "Đà Nẵng", "x&#x20;y"}
)

func (g *docGen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *docGen) misc(inRoot bool) {
	switch g.r.IntN(4) {
	case 0:
		g.b.WriteString("<!--" + strings.ReplaceAll(g.pick(genTexts), "-", "") + "-->")
	case 1:
		data := ""
		if g.r.IntN(2) == 0 {
			data = g.pick([]string{" x", "  spaced  ", "\r\nmulti\r\nline ", " a=\"1\"", " <tag>&amp;"})
		}
		g.b.WriteString("<?pi" + g.pick([]string{"", "-x", "t"}) + data + "?>")
	case 2:
		if !inRoot {
			g.b.WriteString(g.pick([]string{"\n", " ", "\r\n", "\t\n"}))
		}
	}
}

// elem writes an element; scope maps prefixes ("" = default) to URIs.
func (g *docGen) elem(depth int, scope map[string]string, sig bool) {
	local := g.pick(genLocals)
	if g.forXMLSec && local == "Signature" {
		local = "Sig"
	}
	prefix := ""
	if g.r.IntN(2) == 0 {
		prefix = g.pick(genPrefixes)
	}
	decls := map[string]string{}
	// Random declarations.
	for range g.r.IntN(3) {
		p := ""
		if g.r.IntN(3) > 0 {
			p = g.pick(genPrefixes)
		}
		u := g.pick(genURIs)
		if p == "" && g.r.IntN(4) == 0 {
			u = ""
		}
		decls[p] = u
	}
	inner := map[string]string{}
	for k, v := range scope {
		inner[k] = v
	}
	for k, v := range decls {
		inner[k] = v
	}
	if prefix != "" {
		if _, ok := inner[prefix]; !ok {
			decls[prefix] = g.pick(genURIs)
			inner[prefix] = decls[prefix]
		}
	}
	name := local
	if prefix != "" {
		name = prefix + ":" + local
	}
	g.b.WriteString("<" + name)
	for p, u := range decls {
		q := `"`
		if g.r.IntN(4) == 0 {
			q = "'"
		}
		if p == "" {
			g.b.WriteString(" xmlns=" + q + u + q)
		} else {
			g.b.WriteString(" xmlns:" + p + "=" + q + u + q)
		}
	}
	// Attributes: no duplicate expanded names.
	seen := map[string]bool{}
	for range g.r.IntN(4) {
		p := ""
		switch g.r.IntN(4) {
		case 0:
			p = "xml"
		case 1, 2:
			p = g.pick(genPrefixes)
			if _, ok := inner[p]; !ok {
				p = ""
			}
		}
		l := g.pick([]string{"k", "id", "lang", "z", "a"})
		if g.forXMLSec && p == "xml" && l == "id" {
			l = "base"
		}
		uri := ""
		if p == "xml" {
			uri = nsXML
		} else if p != "" {
			uri = inner[p]
		}
		if seen[uri+" "+l] {
			continue
		}
		seen[uri+" "+l] = true
		n := l
		if p != "" {
			n = p + ":" + l
		}
		v := g.pick(genAttrVals)
		if g.r.IntN(3) == 0 {
			g.b.WriteString(" " + n + "='" + strings.ReplaceAll(v, "'", "&apos;") + "'")
		} else {
			g.b.WriteString(" " + n + `="` + strings.ReplaceAll(v, `"`, "&quot;") + `"`)
		}
	}
	if depth > 4 || (g.r.IntN(4) == 0 && !sig) {
		g.b.WriteString(g.pick([]string{"/>", " />"}))
		return
	}
	g.b.WriteString(">")
	for range g.r.IntN(5) {
		switch g.r.IntN(5) {
		case 0, 1:
			g.elem(depth+1, inner, false)
		case 2:
			g.b.WriteString(g.pick(genTexts))
		case 3:
			g.b.WriteString("<![CDATA[" + g.pick([]string{"", "<&>", "]]", "a\r\nb", " ' \" "}) + "]]>")
		case 4:
			g.misc(true)
		}
	}
	if sig {
		g.b.WriteString("{SIG}")
	}
	g.b.WriteString("</" + name + ">")
}

func (g *docGen) doc() string {
	g.b.Reset()
	if g.r.IntN(2) == 0 {
		g.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	}
	for range g.r.IntN(3) {
		g.misc(false)
	}
	g.elem(0, map[string]string{}, true)
	for range g.r.IntN(3) {
		g.misc(false)
	}
	return g.b.String()
}

func randomPrefixList(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return "a ds"
	case 1:
		return "#default p"
	}
	return ""
}

// TestXMLSec1Random compares random documents with xmlsec1.
func TestXMLSec1Random(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	x := newXMLSecRun(t)
	g := &docGen{r: rand.New(rand.NewPCG(1, 2)), forXMLSec: true}
	n := 100
	if v, err := strconv.Atoi(os.Getenv("C14N_XMLSEC_RANDOM")); err == nil {
		n = v // e.g. C14N_XMLSEC_RANDOM=2000 for a longer run
	}
	for i := range n {
		in := g.doc()
		for _, m := range []Method{Inclusive10, Exclusive10} {
			pl := ""
			if m.exclusive() {
				pl = randomPrefixList(g.r)
			}
			doc := strings.ReplaceAll(in, "{SIG}", xmlsecTemplate(m, pl))
			pre, _, err := x.sign([]byte(doc))
			if err != nil {
				t.Errorf("doc %d: xmlsec1: %v\n%q", i, err, doc)
				continue
			}
			o := Options{Method: m, Exclude: anyDSigSignature, InclusivePrefixes: strings.Fields(pl)}
			ours, err := canon(t, doc, o)
			if err != nil {
				t.Errorf("doc %d/%v: %v\n%q", i, m, err, doc)
				continue
			}
			if ours != string(pre) {
				t.Errorf("doc %d/%v prefixes %q:\n  in:     %q\n  ours:   %q\n  xmlsec: %q", i, m, pl, doc, ours, pre)
			}
			o.textChunk = 1 + i%4
			if split, err := canon(t, doc, o); err != nil || split != ours {
				t.Errorf("doc %d/%v: text split every %d bytes: %v %q", i, m, o.textChunk, err, split)
			}
		}
	}
}

// TestGoxmldsigRandom runs many more random documents against goxmldsig.
func TestGoxmldsigRandom(t *testing.T) {
	g := &docGen{r: rand.New(rand.NewPCG(3, 4))}
	n := 3000
	if testing.Short() {
		n = 300
	}
	devs := map[string]int{}
	for range n {
		in := []byte(strings.ReplaceAll(g.doc(), "{SIG}", ""))
		for _, m := range allMethods {
			var ours bytes.Buffer
			if err := Canonicalize(&ours, bytes.NewReader(in), Options{Method: m, Exclude: sigAnywhere}); err != nil {
				t.Fatalf("%v: %v\n%q", m, err, in)
			}
			ref, err := reference(in, m, "", sigAnywhere)
			if err == errRootExcluded {
				continue
			}
			if err != nil {
				t.Fatalf("reference: %v\n%q", err, in)
			}
			d, err := compareWithReference(in, ours.Bytes(), ref, m)
			if err != nil {
				t.Fatalf("%v: %v\n in: %q", m, err, in)
			}
			for _, x := range d {
				devs[fmt.Sprintf("%v:%s", m, x)]++
			}
		}
	}
	t.Logf("goxmldsig deviations hit (documented, fixed up): %v", devs)
}
