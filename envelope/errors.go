package envelope

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Hard limits and refused constructs. Each limit has its own error so that a
// caller (and an audit log) can tell exactly why input was refused.
var (
	ErrTooLarge           = errors.New("packet exceeds the size limit")
	ErrTooDeep            = errors.New("elements nested deeper than the limit")
	ErrTooManyElements    = errors.New("more elements than the limit")
	ErrTooManyAttributes  = errors.New("more attributes on one element than the limit")
	ErrTextTooLong        = errors.New("text longer than the limit")
	ErrMarkupTooLong      = errors.New("tag, comment or processing instruction longer than the limit")
	ErrTooManyAttachments = errors.New("more attachments than the limit")
	ErrDTD                = errors.New("document type declarations are not allowed")
	ErrExternalEntity     = errors.New("external entities are not allowed")
	ErrUndefinedEntity    = errors.New("undefined entity reference")
	ErrEncoding           = errors.New("unsupported character encoding (only UTF-8)")
	ErrMalformed          = errors.New("malformed XML")
	ErrTruncated          = errors.New("truncated XML")
	ErrRead               = errors.New("cannot read the packet")
)

// Structure and content errors.
var (
	ErrNotEdXML       = errors.New("not an edXML packet")
	ErrCommentInValue = errors.New("comment or processing instruction inside a value")
	ErrNamespace      = errors.New("wrong namespace")
	ErrMissing        = errors.New("mandatory element missing")
	ErrDuplicate      = errors.New("element repeated")
	ErrUnknown        = errors.New("unknown element")
	ErrUnexpected     = errors.New("element not allowed here")
	ErrInvalidValue   = errors.New("invalid value")
	ErrAgencyCode     = errors.New("invalid agency code")
	ErrDate           = errors.New("invalid date")
	ErrTimestamp      = errors.New("invalid timestamp")
	ErrLength         = errors.New("value longer than allowed")
	ErrStatusCode     = errors.New("unknown status code")
	ErrKind           = errors.New("packet is neither a document nor a status packet")
	ErrSignature      = errors.New("malformed Signature element")
	ErrFutureDate     = errors.New("date in the future")

	ErrManifestWithoutAttachment = errors.New("manifest entry has no attachment")
	ErrAttachmentWithoutManifest = errors.New("attachment has no manifest entry")
	ErrAttachmentEncoding        = errors.New("attachment is not valid base64")
	ErrEmptyAttachment           = errors.New("attachment payload is empty")
)

// Error is one problem with a packet, located by its element path
// (e.g. "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/To[2]/OrganId").
type Error struct {
	Path string
	Err  error  // one of the sentinel errors of this package
	Msg  string // what is wrong, for people
	// Deviation marks a departure from the standard that real packets show;
	// Lenient validation reports it as a warning instead of an error.
	Deviation bool
}

func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = e.Err.Error()
	}
	if e.Path == "" {
		return msg
	}
	return e.Path + ": " + msg
}

func (e *Error) Unwrap() error { return e.Err }

// MarshalJSON writes the problem as {"path", "error", "message"}: the
// element path, the sentinel's text (stable, for programs) and the whole
// message (for people).
func (e *Error) MarshalJSON() ([]byte, error) {
	kind := ""
	if e.Err != nil {
		kind = e.Err.Error()
	}
	return json.Marshal(struct {
		Path    string `json:"path"`
		Error   string `json:"error"`
		Message string `json:"message"`
	}{e.Path, kind, e.Error()})
}

func newErr(path string, kind error, format string, args ...any) *Error {
	return &Error{Path: path, Err: kind, Msg: fmt.Sprintf(format, args...)}
}

func deviation(path string, kind error, format string, args ...any) *Error {
	e := newErr(path, kind, format, args...)
	e.Deviation = true
	return e
}

// Problems is the error Validate returns: every problem found, in document
// order. errors.Is and errors.As see each of them.
type Problems []*Error

func (ps Problems) Error() string {
	switch len(ps) {
	case 0:
		return "no problems"
	case 1:
		return ps[0].Error()
	}
	var b strings.Builder
	b.WriteString(ps[0].Error())
	fmt.Fprintf(&b, " (and %d more)", len(ps)-1)
	return b.String()
}

func (ps Problems) Unwrap() []error {
	out := make([]error, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// First returns the first problem of err if err holds any *Error.
func First(err error) *Error {
	var ps Problems
	if errors.As(err, &ps) && len(ps) > 0 {
		return ps[0]
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
