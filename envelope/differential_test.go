package envelope_test

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/envelope"
)

// differentialSeeds are hostile inputs for FuzzParseDifferential: namespace
// tricks, nesting errors and every kind of token.
var differentialSeeds = []string{
	`<a xmlns:p="u1"><p:b xmlns:p="u2"><p:c/></p:b><p:d/></a>`,
	`<a xmlns="u1"><b xmlns="u2"><c/></b><d xmlns=""><e/></d><f/></a>`,
	`<q:a/>`, `<q:a></q:a>`, `<a q:x="1"/>`, `<a xmlns:q="u"><q:b/></a><q:c/>`,
	`<a xml:lang="en" xml:space="preserve"><xml:b/></a>`, `<a xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:x="1"/>`,
	`<a xmlns:p="u" xmlns:q="u" p:x="1" q:x="2"/>`, `<a xmlns:p="u" p:x="1" x="2"/>`, `<a xmlns:p="u" xmlns:p="v"/>`,
	`<a x="1" x="2"/>`, `<a xmlns="u" xmlns="u"/>`, `<a xmlns:p="" p:x="1"/>`,
	`<p:a xmlns:p="u"></q:a>`, `<p:a xmlns:p="u" xmlns:q="u"></q:a>`, `<p:a xmlns:p="u"></a>`, `<a></p:a>`,
	`<a></b>`, `</a>`, `<a/></a>`, `<a/>`, `<a><b/></a>`, `<a><b></a></b>`, `<a>`, `<a><b>`,
	`<xmlns/>`, `<xmlns:a/>`, `<a xmlns:xmlns="u"/>`, `<a xmlns:="u"/>`, `<a:/>`, `<:a/>`, `<a:b:c/>`,
	`<a>&amp;&lt;&gt;&apos;&quot;&#65;&#x42;</a>`, `<a>&foo;</a>`, `<a>&#0;</a>`, `<a>&#xD800;</a>`, `<a>&</a>`,
	`<a x="&#13;&#10;&#9;"/>`, `<a x="1` + "\r\n" + `2` + "\r" + `3"/>`, "<a>x\r\ny\rz\r</a>", "<a>\r&amp;\n</a>",
	`<a><![CDATA[x]]y]]></a>`, `<a><![CDAT[x]]></a>`, `<a><![CDATA[x</a>`, `<a>]]></a>`, "<a><![CDATA[\r\n]]></a>",
	`<a><!-- x -- y --></a>`, `<!-x><a/>`, `<a><!--x--></a><!-- y -->`, `<a>1<!---->2</a>`,
	`<?xml version="1.1"?><a/>`, `<?xml version="1.0" encoding="latin1"?><a/>`, `<a><?xml encoding="utf-16"?></a>`,
	`<?xml version="entity"?><a/>`, `<?xml version="unexpected EOF"?><a/>`, `<?pi?><a><?pi x?></a>`, `<??><a/>`,
	"\xef\xbb\xbf<a/>", "<!--c-->\xef\xbb\xbf<a/>", " \xef\xbb\xbf<a/>", "\xef\xbb\xbf\xef\xbb\xbf<a/>", "<a/>\xef\xbb\xbf",
	`<!DOCTYPE a [<!ENTITY x SYSTEM "f">]><a/>`, `<!DOCTYPE a <!-- SYSTEM --> ><a/>`, `<!X <a>>`, `<a><!ELEMENT x></a>`,
	`<!DOCTYPE a PUBLIC "x" "y"><a/>`, `<!DOCTYPE a [ <!-- ]> --> ]><a/>`, `<!DOCTYPE a '>' SYSTEM><a/>`, `<a><!x`,
	"<a>\xff</a>", "<a x=\"\xff\"/>", "<\xff/>", "<a>\x01</a>", "<a\xc3\xa9/>", "<\xc3\xa9:a xmlns:\xc3\xa9='u'/>",
	strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40), "<a>" + strings.Repeat("x", 5000) + "</a>",
	"<a>" + strings.Repeat("QUJD", 400) + "</a>", "<a>" + strings.Repeat("QUJD\r\n", 300) + "</a>",
}

// FuzzParseDifferential requires ParseReaderAt (xmltok and its namespace
// translation) and ParseStdlib (encoding/xml's Decoder.Token) to agree on
// any input: the same packet and issues, or errors of the same kinds at the
// same path.
func FuzzParseDifferential(f *testing.F) {
	addSeeds(f)
	for _, s := range differentialSeeds {
		f.Add([]byte(s))
	}
	base, err := os.ReadFile("testdata/base/document.edxml")
	if err != nil {
		f.Fatal(err)
	}
	const ns = `xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"`
	for _, r := range [][2]string{
		{ns, `xmlns:edXML="urn:other"`},
		{ns, ns + ` xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xml:lang="vi"`},
		{"<edXML:MessageHeader>", `<edXML:MessageHeader xmlns:edXML="urn:x">`},
		{"<edXML:From>", `<From xmlns="urn:x">`},
		{"<edXML:Subject>", `<edXML:Subject xmlns:edXML="urn:x"><edXML:Subject>`},
		{"</edXML:MessageHeader>", `</MessageHeader>`},
		{"<edXML:edXMLHeader>", `<edXML:edXMLHeader><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/>`},
		{"<edXML:edXMLHeader>", `<edXML:edXMLHeader><ds:Signature/>`},
	} {
		f.Add(bytes.Replace(base, []byte(r[0]), []byte(r[1]), 1))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, opts := range []envelope.Options{{}, tinyLimits} {
			sameParse(t, b, opts)
		}
		// Shifted by a comment across the 4 KiB reads of both, so that
		// the input's tokens and the scanner's errors meet their ends.
		pad := "<!--" + strings.Repeat("-x", 2000+len(b)%64) + "-->"
		sameParse(t, append([]byte(pad), b...), envelope.Options{})
	})
}

// TestParseDifferentialLong compares the two on inputs too large for the
// fuzzer: text handed over in pieces, line ends and a byte order mark at
// piece boundaries.
func TestParseDifferentialLong(t *testing.T) {
	big := envelope.Options{Limits: envelope.Limits{MaxText: 300 << 10}}
	for _, k := range []int{0, 1, 2, 3, 4, 5} {
		pad := strings.Repeat(" ", 64<<10-k)
		for _, in := range []string{
			pad + "\xef\xbb\xbf<a/>",
			"\xef\xbb\xbf" + pad + "<a/>",
			"<a>" + strings.Repeat("é", 40000-k) + "\r\n" + strings.Repeat("x", 70000) + "</a>",
			"<a>" + strings.Repeat("x", 64<<10-k) + "\r\n\r\n]]>" + "</a>",
			"<a><![CDATA[" + strings.Repeat("x", 64<<10-k) + "\r\n]]]]>]]></a>",
			"<a x='" + strings.Repeat("y", 60000) + "'>" + strings.Repeat("x", 64<<10-k) + "&amp;\r</a>",
		} {
			for _, opts := range []envelope.Options{{}, big} {
				sameParse(t, []byte(in), opts)
			}
		}
	}
}

// lineNo ends the message of a syntax error. Their wording is xmltok's, not
// always encoding/xml's, and the line is where the token starts, not where
// encoding/xml met the error: only their kind and path are compared.
var lineNo = regexp.MustCompile(`\(line \d+\)$`)

func sameParse(t *testing.T, b []byte, opts envelope.Options) {
	t.Helper()
	r := bytes.NewReader(b)
	got, err := envelope.ParseReaderAt(r, int64(len(b)), opts)
	want, wantErr := envelope.ParseStdlib(r, int64(len(b)), opts)
	if err == nil && wantErr == nil {
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("limits %+v: packets differ:\n got %+v\nwant %+v", opts.Limits, got, want)
		}
		return
	}
	var e, we *envelope.Error
	if !errors.As(err, &e) || !errors.As(wantErr, &we) {
		t.Fatalf("limits %+v: got %v, encoding/xml %v", opts.Limits, err, wantErr)
	}
	syntax := lineNo.MatchString(e.Msg) && lineNo.MatchString(we.Msg)
	if e.Err != we.Err || e.Path != we.Path || e.Deviation != we.Deviation || !syntax && e.Msg != we.Msg {
		t.Fatalf("limits %+v: got %#v, encoding/xml %#v", opts.Limits, e, we)
	}
}
