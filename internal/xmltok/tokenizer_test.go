package xmltok

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
)

// rawTokens renders the tokens encoding/xml's RawToken returns for in, up
// to its first error ("error" then).
func rawTokens(in []byte) []string {
	d := xml.NewDecoder(bytes.NewReader(in))
	d.CharsetReader = func(string, io.Reader) (io.Reader, error) { return nil, fmt.Errorf("charset") }
	var out []string
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return out
		}
		if err != nil {
			return append(out, "error")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			s := fmt.Sprintf("<%s:%s", t.Name.Space, t.Name.Local)
			for _, a := range t.Attr {
				s += fmt.Sprintf(" %s:%s=%q", a.Name.Space, a.Name.Local, a.Value)
			}
			out = append(out, s)
		case xml.EndElement:
			out = append(out, fmt.Sprintf("</%s:%s", t.Name.Space, t.Name.Local))
		case xml.CharData:
			out = append(out, fmt.Sprintf("text %q", t))
		case xml.Comment:
			out = append(out, fmt.Sprintf("comment %q", t))
		case xml.ProcInst:
			out = append(out, fmt.Sprintf("pi %s %q", t.Target, t.Inst))
		case xml.Directive:
			out = append(out, fmt.Sprintf("directive %q", t))
		}
	}
}

// ourTokens renders the tokens of a RawToken-mode Tokenizer likewise.
func ourTokens(in []byte) []string {
	t := New(bytes.NewReader(in))
	defer t.Release()
	t.RawToken = true
	var out []string
	for {
		if err := t.Next(); err != nil {
			return append(out, "error")
		}
		switch t.Kind {
		case EOF:
			return out
		case StartElement:
			s := fmt.Sprintf("<%s:%s", t.Prefix, t.Local)
			for _, a := range t.Attrs {
				s += fmt.Sprintf(" %s:%s=%q", a.Prefix, a.Local, a.Value)
			}
			out = append(out, s)
		case EndElement:
			out = append(out, fmt.Sprintf("</%s:%s", t.Prefix, t.Local))
		case Text:
			out = append(out, fmt.Sprintf("text %q", t.Data))
		case Comment:
			out = append(out, fmt.Sprintf("comment %q", t.Data))
		case ProcInst:
			out = append(out, fmt.Sprintf("pi %s %q", t.Local, t.Data))
		case Directive:
			out = append(out, fmt.Sprintf("directive %q", t.Data))
		}
	}
}

// FuzzRawToken requires a RawToken-mode Tokenizer to return the tokens
// encoding/xml's RawToken returns, and to fail where it fails.
func FuzzRawToken(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0"?><a x='1' p:y="&amp;&#65;"><b/>t&lt;<![CDATA[c]]><!--c--><?p i?></a>`,
		"<a x='1\r\n2\r3'>x\r\ny\rz\r</a>", "<a>\r&amp;\n</a>", "<a><![CDATA[\r\n]]></a>",
		`<!DOCTYPE a [<!ENTITY x SYSTEM "f">]><a/>`, `<!DOCTYPE a <!-- > --> '>' <b>>`, `<!X <!- <!-x>>`, `<!-x>`, `<![CDAT[`,
		`<a>&foo;</a>`, "<a>\xff</a>", "<a x=\"\x00", `<?xml version="1.1"?>`, `<?xml encoding="latin1"?>`,
		`<a:b:c/>`, `<a: x/>`, `</a b>`, "<a>]]></a>", "\xef\xbb\xbf<a/>", "<a>" + strings.Repeat("é", 3000) + "</a>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want, got := rawTokens(in), ourTokens(in)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("input %q:\n got %q\nwant %q", in, got, want)
		}
	})
}

func TestIsSpace(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"", true}, {" \t\r\n", true}, {"a", false}, {" \n a", false}, {"\u00a0", false}, {"\v", false}, {"\f", false},
	} {
		if got := IsSpace([]byte(tc.in)); got != tc.want {
			t.Errorf("IsSpace(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
