package c14n

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/internal/xmltok"
)

// failingReader returns its data, then err.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		err = f.err
	}
	return n, err
}

var errBoom = errors.New("boom")

// sameAsStdlib runs Canonicalize and canonicalizeStdlib on readers from
// newReader and requires the same output or the same kind of error.
func sameAsStdlib(t *testing.T, newReader func() io.Reader, o Options) {
	t.Helper()
	var got, want bytes.Buffer
	err := Canonicalize(&got, newReader(), o)
	wantErr := canonicalizeStdlib(&want, newReader(), o)
	if err == nil && wantErr == nil {
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%v: output differs from encoding/xml's:\ngot  %.200q\nwant %.200q", o.Method, got.Bytes(), want.Bytes())
		}
		return
	}
	var e, we *Error
	switch {
	case errors.As(err, &e) && errors.As(wantErr, &we):
		if e.Err != we.Err || e.reason != we.reason {
			t.Errorf("%v: got %v, encoding/xml %v", o.Method, err, wantErr)
		}
	case errors.Is(err, errBoom) != errors.Is(wantErr, errBoom) || (err == nil) != (wantErr == nil):
		t.Errorf("%v: got %v, encoding/xml %v", o.Method, err, wantErr)
	}
}

// TestTokenizerLongText: text and CDATA sections longer than a piece, with
// the prefilter not splitting them, and "]]>" and UTF-8 sequences at every
// position around the piece boundaries.
func TestTokenizerLongText(t *testing.T) {
	for _, k := range []int{0, 1, 2, 3, 4} {
		pad := strings.Repeat("x", xmltok.TextPiece-k)
		for _, in := range []string{
			"<a>" + pad + "]]]]>x</a>",
			"<a>" + pad + "]]&gt;" + strings.Repeat("\u4e2d", 30000) + "</a>",
			"<a>" + pad + "\u4e2d\U0001F600" + pad + "\xe4\xb8</a>",
			"<a><![CDATA[" + pad + "]]]]>" + pad + "]]></a>",
			"<a><![CDATA[" + pad + "\u00e9]]></a>",
			"<a><![CDATA[" + pad + "\u00e9]]",
			"<a>" + pad + "&#" + strings.Repeat("0", 2*xmltok.ReadSize+k) + "233;</a>",
			pad + "<a/>",
			strings.Repeat(" ", xmltok.TextPiece+k) + "<a/>" + strings.Repeat("\n", xmltok.TextPiece+k) + "x",
		} {
			for _, chunk := range []int{0, math.MaxInt} {
				o := Options{Method: Inclusive10, textChunk: chunk}
				sameAsStdlib(t, func() io.Reader { return oneByteChunks{strings.NewReader(in)} }, o)
			}
		}
	}
}

// TestTokenizerReadError: a read error anywhere, in text, in markup, in a
// CDATA section or a reference, gives what it gave with encoding/xml.
func TestTokenizerReadError(t *testing.T) {
	doc := "<?xml version='1.0'?><!--c--><a x='1'>text &amp; more<![CDATA[cdata]]><?p i?><b/></a>\n"
	long := strings.Repeat("<b>"+strings.Repeat("y", 5000)+"&#65;</b>", 3)
	for _, in := range []string{doc, "x" + doc, "<a>" + long + "</a>", "<a>" + long} {
		for n := range len(in) + 1 {
			if len(in) > 200 && n%97 != 0 {
				continue
			}
			for _, m := range []Method{Inclusive10, Exclusive10WithComments} {
				sameAsStdlib(t, func() io.Reader {
					return &failingReader{r: strings.NewReader(in[:n]), err: errBoom}
				}, Options{Method: m})
			}
		}
	}
}

func TestPlainWords(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			b := []byte("abcdefghABCDEFGH")
			b[8+pos] = byte(c)
			want := 16
			if !plainText[c] {
				want = 8
			}
			if got := plainWords(b); got != want {
				t.Errorf("byte %#x at %d: %d, want %d", c, pos, got, want)
			}
		}
	}
}
