package envelope

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"strings"
)

// Attachment is one AttachmentEncoded/Attachment. Its payload is reached
// with Open, as a stream, whatever its size.
type Attachment struct {
	ContentID   string // without the "cid:" prefix
	Name        string // AttachmentName
	Description string
	ContentType string

	content content
}

// content yields an attachment's decoded payload.
type content interface {
	open() (io.ReadCloser, error)
	// encodedEmpty reports whether there is no payload at all.
	encodedEmpty() bool
}

// NewAttachment is an attachment with an in-memory payload.
func NewAttachment(name, contentType string, data []byte) *Attachment {
	return &Attachment{Name: name, ContentType: contentType, content: bytesContent(data)}
}

// NewAttachmentFile is an attachment whose payload is read from path each
// time it is opened (when marshalled, for instance).
func NewAttachmentFile(name, contentType, path string) *Attachment {
	return &Attachment{Name: name, ContentType: contentType, content: funcContent(func() (io.ReadCloser, error) {
		return os.Open(path)
	})}
}

// NewAttachmentFunc is an attachment whose payload open returns.
func NewAttachmentFunc(name, contentType string, open func() (io.ReadCloser, error)) *Attachment {
	return &Attachment{Name: name, ContentType: contentType, content: funcContent(open)}
}

// Open returns the decoded payload. For a parsed packet it decodes base64
// from the parsed source as it is read; a read error wrapping
// ErrAttachmentEncoding reports bad base64.
func (a *Attachment) Open() (io.ReadCloser, error) {
	if a.content == nil {
		return io.NopCloser(strings.NewReader("")), nil
	}
	return a.content.open()
}

// Empty reports whether the attachment carries no payload at all.
func (a *Attachment) Empty() bool { return a.content == nil || a.content.encodedEmpty() }

// IsZIP reports whether the payload starts with a ZIP local file header, as
// the national-axis SDK's one-entry ZIP wrapping does.
func (a *Attachment) IsZIP() (bool, error) {
	r, err := a.Open()
	if err != nil {
		return false, err
	}
	defer r.Close()
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return false, nil
		}
		return false, err
	}
	return head == [4]byte{'P', 'K', 3, 4}, nil
}

// Size decodes the whole payload and returns its length.
func (a *Attachment) Size() (int64, error) {
	r, err := a.Open()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return io.Copy(io.Discard, r)
}

type bytesContent []byte

func (b bytesContent) open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
func (b bytesContent) encodedEmpty() bool           { return len(b) == 0 }

type funcContent func() (io.ReadCloser, error)

func (f funcContent) open() (io.ReadCloser, error) { return f() }
func (f funcContent) encodedEmpty() bool           { return false }

// piece is part of a parsed payload: inline text, or a run of the source.
type piece struct {
	text []byte
	run  span
}

// encodedContent is a payload as it stands in a parsed source: base64 with
// white space, split into pieces.
type encodedContent struct {
	src    io.ReaderAt
	pieces []piece
}

func (e *encodedContent) encodedEmpty() bool {
	for _, p := range e.pieces {
		if p.run.Len > 0 {
			return false
		}
		for _, c := range p.text {
			if !isXMLSpace(c) {
				return false
			}
		}
	}
	return true
}

func (e *encodedContent) open() (io.ReadCloser, error) {
	rs := make([]io.Reader, 0, len(e.pieces))
	for _, p := range e.pieces {
		if p.text != nil {
			rs = append(rs, bytes.NewReader(p.text))
		} else {
			rs = append(rs, io.NewSectionReader(e.src, p.run.Off, p.run.Len))
		}
	}
	dec := base64.NewDecoder(base64.StdEncoding, &spaceStripper{r: io.MultiReader(rs...)})
	return io.NopCloser(&decodeErrReader{r: dec}), nil
}

// decodeErrReader marks base64 errors with ErrAttachmentEncoding.
type decodeErrReader struct{ r io.Reader }

func (d *decodeErrReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	var ce base64.CorruptInputError
	if errors.As(err, &ce) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = &Error{Err: ErrAttachmentEncoding, Msg: "attachment payload is not valid base64: " + err.Error()}
	}
	return n, err
}

// spaceStripper drops XML white space from a base64 stream.
type spaceStripper struct{ r io.Reader }

func (s *spaceStripper) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if !isXMLSpace(c) {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
