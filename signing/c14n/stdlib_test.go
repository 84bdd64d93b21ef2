package c14n

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/edocgw/edocgw/internal/xmltok"
)

// errEncoding is returned by the decoder's CharsetReader: only UTF-8 input.
var errEncoding = errors.New("only UTF-8 input is supported")

// canonicalizeStdlib is Canonicalize as it was with encoding/xml's
// Decoder.RawToken in place of the tokenizer: the reference the tokenizer must
// agree with (FuzzCanonicalizeDifferential).
func canonicalizeStdlib(w io.Writer, r io.Reader, o Options) error {
	c, err := newCanonicalizer(w, o)
	if err != nil {
		return err
	}
	c.pf = newPrefilter(r, c.maxToken, o.textChunk)
	defer c.release()
	d := xml.NewDecoder(c.pf)
	d.Strict = true
	d.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("%w (declared encoding %q)", errEncoding, label)
	}
	c.offset = d.InputOffset
	for {
		tok, err := d.RawToken()
		if err != nil {
			if c.pf.err != nil && c.pf.err != io.EOF {
				return c.pf.err // a prefilter refusal or a read error
			}
			if err == io.EOF {
				break
			}
			r := rSyntax
			if errors.Is(err, errEncoding) {
				r = rEncoding
			}
			return &Error{Err: ErrMalformed, Offset: d.InputOffset(), Msg: err.Error(), reason: r}
		}
		c.tokens++
		switch t := tok.(type) {
		case xml.StartElement:
			attrs := make([]xmltok.Attr, len(t.Attr))
			for i, a := range t.Attr {
				attrs[i] = xmltok.Attr{Prefix: []byte(a.Name.Space), Local: []byte(a.Name.Local), Value: []byte(a.Value)}
			}
			err = c.start([]byte(t.Name.Space), []byte(t.Name.Local), attrs)
		case xml.EndElement:
			err = c.end([]byte(t.Name.Space), []byte(t.Name.Local))
		case xml.CharData:
			err = c.text(t)
		case xml.Comment:
			err = c.comment(t)
		case xml.ProcInst:
			err = c.procInst([]byte(t.Target), t.Inst)
		case xml.Directive:
			// The prefilter refuses "<!" markup first; keep a safe answer.
			if strings.HasPrefix(string(t), "DOCTYPE") {
				err = c.fail(ErrDTD, rDTD, "document type declaration")
			} else {
				err = c.malformed(rDirective, "markup declaration outside a DTD")
			}
		}
		if err != nil {
			return err
		}
	}
	if err := c.finish(); err != nil {
		return err
	}
	return c.flush()
}
