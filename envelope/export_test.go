package envelope

import (
	"bufio"
	"encoding/xml"
	"errors"
	"io"
)

// ParseStdlib is ParseReaderAt with the tree built by encoding/xml's
// Decoder.Token, as it was before xmltok: the reference
// FuzzParseDifferential compares ParseReaderAt with.
func ParseStdlib(r io.ReaderAt, size int64, opts Options) (*Packet, error) {
	return parse(r, size, opts, (*parser).treeStdlib)
}

func (p *parser) treeStdlib(r io.Reader) (*node, error) {
	d := xml.NewDecoder(bufio.NewReaderSize(r, 4<<10))
	d.Strict = true
	d.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, encodingErr(label)
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return p.endTree()
		}
		if err != nil {
			var se *xml.SyntaxError
			switch {
			case errors.As(err, &se):
				return nil, p.syntaxErr(se.Msg, se.Line)
			case errors.Is(err, io.ErrUnexpectedEOF):
				return nil, newErr(p.curPath(), ErrTruncated, "input ends inside an element")
			}
			return nil, p.decodeErr(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			err = p.startElement(t.Name, t.Attr)
		case xml.EndElement:
			p.endElement()
		case xml.CharData:
			err = p.charData(t)
		case xml.Comment:
			err = p.comment(t)
		case xml.ProcInst:
			p.interrupt(p.cur)
		case xml.Directive:
			err = directiveErr(t)
		}
		if err != nil {
			return nil, err
		}
	}
}
