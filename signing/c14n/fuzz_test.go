package c14n

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sigAnywhere excludes every element named Signature, in any namespace and at
// any depth (so excluded subtrees nest in any way the fuzzer likes).
func sigAnywhere(p []xml.Name) bool { return p[len(p)-1].Local == "Signature" }

// FuzzCanonicalizeDifferential: for any input, Canonicalize must not panic and
// must return either output or an *Error, and exactly what canonicalizeStdlib
// (the encoding/xml tokenizer it replaced) returns: the same output, or an
// error of the same kind and reason. For any input that etree parses and
// goxmldsig canonicalizes, our output must be identical to goxmldsig's (up to
// the documented deviations D1-D5, see reference_test.go), for all four
// methods, with and without excluding Signature elements; we may refuse such
// an input only for a reason listed in strictReasons. Our output must also be
// a fixed point (canonicalizing it again gives it back).
func FuzzCanonicalizeDifferential(f *testing.F) {
	for _, tc := range cases {
		f.Add([]byte(tc.input()))
		f.Add([]byte(strings.ReplaceAll(tc.In, "{SIG}", xmlsecTemplate(Exclusive10, ""))))
	}
	for _, tc := range errorCases {
		if len(tc.in) < 4096 {
			f.Add([]byte(tc.in))
		}
	}
	for _, in := range hostileInputs() {
		f.Add([]byte(in))
	}
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.xml"))
	for _, fn := range files {
		if b, err := os.ReadFile(fn); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkStdlib(t, in)
		for _, m := range allMethods {
			for _, excl := range []func([]xml.Name) bool{nil, sigAnywhere} {
				checkDifferential(t, in, m, excl)
			}
		}
	})
}

// hostileInputs are seeds for the tokenizer's corner cases.
func hostileInputs() []string {
	deep := strings.Repeat("<a>", 70) + strings.Repeat("</a>", 70)
	bigAttr := `<a b="` + strings.Repeat("x&amp;\t\n", 900) + `"/>`
	return []string{
		deep, bigAttr, "<a>" + strings.Repeat("]", 5000) + ">" + strings.Repeat("\u00e9", 3000) + "<![CDATA[" + strings.Repeat("]", 5000) + "]></a>",
		"<a>\r\n<b\r\nc='1\r\n2'\r>\r</b\r\n>\r\n<!--\r\n-->\r\n<?p \r\n?>\r\n</a>\r\n",
		"<a>&lt;&gt;&amp;&apos;&quot;&#65;&#x41;&#X41;&#x;&#;&#0;&#xD800;&#x10FFFF;&#x110000;&#1114112;&#0000000065;&foo;</a>",
		"<a>&#9;&#10;&#13;&#x20;</a>", "<a>&#" + strings.Repeat("0", 9000) + "65;</a>", "<a b='&#x" + strings.Repeat("0", 5000) + "41;'/>",
		"<a>&#x" + strings.Repeat("0", 9000) + "110000;</a>", "<a>&#" + strings.Repeat("9", 9000) + ";</a>", "<a>&" + strings.Repeat("a", 9000) + ";</a>", "<a>&#" + strings.Repeat("0", 9000), "<a>&amp</a>", "<a>&</a>", "<a>&#x41</a>", "<a b='&#13;&#10;&#9;'/>",
		"<a><![CDATA[<&>]]]]><![CDATA[>]]]><![CDATA[]]></a>", "<a><![CDATA[x", "<a>]]></a>", "<a>]]&gt;]>]]]></a>", "<a b=']]>'/>",
		"<!--c--><a><!-- - --><!----><!-- -- --></a><!--e-->", "<a><!---></a>", "<a><!-- x --->",
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a/>", "<?xml version='1.1'?><a/>", "<?xml encoding=\"ISO-8859-1\"?><a/>",
		" <?xml version=\"1.0\"?><a/>", "<a/><?xml version=\"1.0\"?>", "<?XML x?><a/>", "<?xml-stylesheet href='x'?><a/><?p?>", "<?p?><?q  x y ?><a/>",
		"<? p?><a/>", "<?p", "<?9?><a/>", "\xef\xbb\xbf<a/>", "\xef\xbb\xbf\xef\xbb\xbf<a/>",
		"<!DOCTYPE a><a/>", "<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>", "<a><!ELEMENT x></a>", "<!-x><a/>", "<![CDAT[x]]><a/>", "<!", "<!-", "<!D", "<!DOCTYP", "<![CDAT", "<a/><!DOC", "<a/><!-",
		"<a>\xff</a>", "<a b='\xc3'/>", "<\xc3\xa9/>", "<a\xcc\x81/>", "<a>\x01</a>", "<a>\xef\xbf\xbe</a>", "<a>\xed\xa0\x80</a>", "<!--\xff--><a/>", "<?p \xff?><a/>",
		`<a xmlns="urn:a" xmlns:p="urn:p"><p:b xmlns:p="urn:q" xmlns=""><c xmlns="urn:a" p:x="1"/></p:b></a>`,
		`<a xml:lang="en" xml:space="preserve"><b xml:lang="vi" xmlns:xml="http://www.w3.org/XML/1998/namespace"/></a>`,
		`<a xmlns:p="urn:p" p:x="1" xmlns:q="urn:p" q:x="2"/>`, `<a x="1" x="2"/>`, `<a xmlns="u" xmlns="u"/>`, `<a xmlns:p=""/>`, `<p:a/>`, `<a:/>`, `<:a/>`, `<a:b:c/>`, `<a b:c:d="1"/>`,
		`<a b="1"c="2"/>`, `<a b = "1" />`, `<a b/>`, `<a b=1/>`, `<a/ >`, `<a></a >`, `<a></ a>`, `</a>`, `<a></b>`, `<a>`, `<a b="<"/>`, `<a b="x`, "<a\x00/>",
		"<a/>x", "x<a/>", "<a/><b/>", "", " ", "<a/>\n", "<a>\r</a>", "\r\n<a/>\r\n",
	}
}

// checkStdlib runs Canonicalize and canonicalizeStdlib on in with every
// method, with and without exclusion, with text split by the prefilter at
// the default size and at a small one, and small markup and depth limits,
// and requires the same outcome.
func checkStdlib(t *testing.T, in []byte) {
	t.Helper()
	for _, m := range allMethods {
		for i, o := range []Options{
			{Method: m},
			{Method: m, Exclude: sigAnywhere, textChunk: 1 + len(in)%7},
			{Method: m, MaxTokenBytes: 16 + len(in)%64, MaxDepth: 1 + len(in)%8},
		} {
			var got, want bytes.Buffer
			err := Canonicalize(&got, oneByteChunks{bytes.NewReader(in)}, o)
			wantErr := canonicalizeStdlib(&want, oneByteChunks{bytes.NewReader(in)}, o)
			if err == nil && wantErr == nil {
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("%v/%d: output differs from encoding/xml's\n in: %q\ngot: %q\nwant: %q", m, i, in, got.Bytes(), want.Bytes())
				}
				continue
			}
			var e, we *Error
			if !errors.As(err, &e) || !errors.As(wantErr, &we) || e.Err != we.Err || e.reason != we.reason {
				t.Fatalf("%v/%d: error differs from encoding/xml's\n in: %q\ngot: %v\nwant: %v", m, i, in, err, wantErr)
			}
		}
	}
}

func checkDifferential(t *testing.T, in []byte, m Method, excl func([]xml.Name) bool) {
	t.Helper()
	var ours bytes.Buffer
	rootExcluded := false
	o := Options{Method: m}
	if excl != nil {
		o.Exclude = func(p []xml.Name) bool {
			x := excl(p)
			rootExcluded = rootExcluded || (x && len(p) == 1)
			return x
		}
	}
	err := Canonicalize(&ours, bytes.NewReader(in), o)
	// Where the prefilter splits text must not matter.
	var split bytes.Buffer
	o2 := o
	o2.textChunk = 1 + len(in)%6
	if err2 := Canonicalize(&split, bytes.NewReader(in), o2); !sameErrorClass(err, err2) || (err == nil && !bytes.Equal(split.Bytes(), ours.Bytes())) {
		t.Fatalf("%v: text split every %d bytes changes the result:\n in: %q\n%q %v\n%q %v", m, o2.textChunk, in, ours.Bytes(), err, split.Bytes(), err2)
	}
	ref, refErr := reference(in, m, "", excl)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%v: error is not an *Error: %T %v", m, err, err)
		}
		if refErr != nil {
			return
		}
		if _, ok := strictReasons[e.reason]; ok {
			return
		}
		t.Fatalf("%v exclude=%v: we refuse what goxmldsig canonicalizes: %v\n  in: %q\n ref: %q", m, excl != nil, err, in, ref)
	}
	if rootExcluded {
		return // nothing but PIs (and comments) left; the reference cannot do that
	}
	// Fixed point.
	var again bytes.Buffer
	if err := Canonicalize(&again, bytes.NewReader(ours.Bytes()), Options{Method: m}); err != nil {
		t.Fatalf("%v: our output does not parse again: %v\n in: %q\nout: %q", m, err, in, ours.Bytes())
	}
	if !bytes.Equal(again.Bytes(), ours.Bytes()) {
		t.Fatalf("%v: not a fixed point\n in: %q\nout: %q\nagain: %q", m, in, ours.Bytes(), again.Bytes())
	}
	if refErr != nil {
		return
	}
	if _, err := compareWithReference(in, ours.Bytes(), ref, m); err != nil {
		t.Fatalf("%v exclude=%v: %v\n in: %q", m, excl != nil, err, in)
	}
}
