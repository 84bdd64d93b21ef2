package envelope

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edocgw/edocgw/agencyids"
)

// Element paths used in validation messages; the parser builds the same.
const (
	pathEnvelope   = "/edXML/edXMLEnvelope"
	pathHeader     = pathEnvelope + "/edXMLHeader"
	pathMessage    = pathHeader + "/MessageHeader"
	pathTrace      = pathHeader + "/TraceHeaderList"
	pathBusiness   = pathTrace + "/Bussiness"
	pathManifest   = pathEnvelope + "/edXMLBody/edXMLManifest"
	pathAttachment = "/edXML/AttachmentEncoded/Attachment"
)

// idx is path for the i-th (0-based) of repeated siblings, as the parser
// writes it: no index for the first.
func idx(path string, i int) string {
	if i == 0 {
		return path
	}
	return path + "[" + strconv.Itoa(i+1) + "]"
}

// Validator checks packets.
type Validator struct {
	// Lenient accepts deviations that real packets from upstream hubs show
	// and returns them as warnings. The zero Validator is strict: for what
	// the gateway produces and what local systems send.
	Lenient bool
	// Now, if set, is the clock that dates are checked against (a
	// promulgation date may not be in the future).
	Now func() time.Time
	// SkipPayloads leaves attachment payloads undecoded; by default every
	// payload is decoded once as a stream to check its base64.
	SkipPayloads bool
}

// Strict and Lenient are the two validators without a clock.
var (
	Strict  = Validator{}
	Lenient = Validator{Lenient: true}
)

// Validate judges p. It returns the deviations accepted in lenient mode as
// warnings, and every error as Problems (nil if there is none).
func (v Validator) Validate(p *Packet) (warnings []*Error, err error) {
	c := &checker{v: v, seenErr: map[string]bool{}, seenWarn: map[string]bool{}}
	for _, is := range p.Issues {
		c.add(is)
	}
	switch {
	case p.Document != nil && p.Status != nil:
		c.add(newErr(pathMessage, ErrKind, "packet is both a document and a status"))
	case p.Document != nil:
		c.document(p)
	case p.Status != nil:
		c.status(p)
	default:
		c.add(newErr(pathMessage, ErrKind, "MessageHeader is missing"))
	}
	c.trace(p)
	if len(c.errs) > 0 {
		return c.warns, c.errs
	}
	return c.warns, nil
}

type checker struct {
	v     Validator
	errs  Problems
	warns []*Error
	// seenErr and seenWarn are the paths already reported as an error and
	// as a warning: one problem per path is enough, but a warning must not
	// hide an error found later at the same path. With a single set, an
	// unknown element named To (a warning in lenient mode) hid "a document
	// needs at least one To", and lenient validation passed a packet with
	// no To, no Subject or no sender code.
	seenErr, seenWarn map[string]bool
}

func (c *checker) add(e *Error) {
	if c.seenErr[e.Path] {
		return
	}
	if e.Deviation && c.v.Lenient {
		if !c.seenWarn[e.Path] {
			c.seenWarn[e.Path] = true
			c.warns = append(c.warns, e)
		}
		return
	}
	c.seenErr[e.Path] = true
	c.errs = append(c.errs, e)
}

// text checks a string field: valid XML characters, required (hard or as a
// deviation) and a maximum length in characters (0: none).
func (c *checker) text(path, s string, required, hard bool, max int) {
	if s == "" {
		switch {
		case required && hard:
			c.add(newErr(path, ErrMissing, "mandatory element missing or empty"))
		case required:
			c.add(deviation(path, ErrMissing, "element missing or empty"))
		}
		return
	}
	if err := xmlText(s); err != nil {
		c.add(newErr(path, ErrInvalidValue, "%v", err))
		return
	}
	if n := utf8.RuneCountInString(s); max > 0 && n > max {
		c.add(deviation(path, ErrLength, "%d characters, more than %d", n, max))
	}
}

// xmlText reports characters XML 1.0 cannot carry.
func xmlText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("text is not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF || r >= 0xD800 && r <= 0xDFFF {
			return fmt.Errorf("character %U is not allowed in XML", r)
		}
	}
	return nil
}

// agency checks an agency code: strict QCVN 102 or QĐ 20 forms are fine;
// odd wire forms are deviations; anything else is an error.
func (c *checker) agency(path string, code agencyids.Code, required bool) {
	if code == "" {
		if required {
			c.add(newErr(path, ErrMissing, "agency code missing"))
		}
		return
	}
	if _, err := agencyids.Parse(string(code)); err == nil {
		return
	}
	_, warn, err := agencyids.ParseLenient(string(code))
	switch {
	case err != nil:
		c.add(newErr(path, ErrAgencyCode, "%v", err))
	case warn != nil:
		c.add(deviation(path, ErrAgencyCode, "%v", warn))
	}
}

func (c *checker) org(path string, o Organization, nameRequired bool) {
	c.agency(path+"/OrganId", o.OrganID, true)
	c.text(path+"/OrganizationInCharge", o.OrganizationInCharge, false, false, 200)
	c.text(path+"/OrganName", o.OrganName, nameRequired, false, 200)
	c.text(path+"/OrganAdd", o.OrganAdd, false, false, 500)
	c.text(path+"/Email", o.Email, false, false, 100)
	c.text(path+"/Telephone", o.Telephone, false, false, 20)
	c.text(path+"/Fax", o.Fax, false, false, 20)
	c.text(path+"/Website", o.Website, false, false, 200)
}

func (c *checker) document(p *Packet) {
	h := p.Document
	c.org(pathMessage+"/From", h.From, true)
	if len(h.To) == 0 {
		c.add(newErr(pathMessage+"/To", ErrMissing, "a document needs at least one To"))
	}
	seenTo := map[agencyids.Code]bool{}
	for i, t := range h.To {
		path := idx(pathMessage+"/To", i)
		c.org(path, t, true)
		if t.OrganID != "" && seenTo[t.OrganID] {
			c.add(newErr(path+"/OrganId", ErrDuplicate, "recipient %s listed twice", t.OrganID))
		}
		seenTo[t.OrganID] = true
	}
	c.text(pathMessage+"/DocumentId", h.DocumentID, true, true, 100)
	if h.Code.Number == "" && h.Code.Notation == "" {
		c.add(newErr(pathMessage+"/Code", ErrMissing, "a document needs its number and notation"))
	} else {
		c.text(pathMessage+"/Code/CodeNumber", h.Code.Number, true, false, 11)
		c.text(pathMessage+"/Code/CodeNotation", h.Code.Notation, true, false, 30)
	}
	c.text(pathMessage+"/PromulgationInfo/Place", h.Promulgation.Place, true, false, 50)
	datePath := pathMessage + "/PromulgationInfo/PromulgationDate"
	if h.Promulgation.Date.IsZero() {
		c.add(newErr(datePath, ErrMissing, "promulgation date missing"))
	} else if c.v.Now != nil && h.Promulgation.Date.After(DateOf(c.v.Now())) {
		c.add(deviation(datePath, ErrFutureDate, "promulgation date %s is in the future", h.Promulgation.Date))
	}
	dt := h.DocumentType
	c.text(pathMessage+"/DocumentType/TypeName", dt.TypeName, true, false, 100)
	if dt.Type != nil && *dt.Type != 1 && *dt.Type != 2 {
		c.add(deviation(pathMessage+"/DocumentType/Type", ErrInvalidValue, "Type %d is not 1 or 2", *dt.Type))
	}
	if dt.TypeDetail != nil && *dt.TypeDetail < 0 {
		c.add(newErr(pathMessage+"/DocumentType/TypeDetail", ErrInvalidValue, "TypeDetail %d is negative", *dt.TypeDetail))
	}
	c.text(pathMessage+"/Subject", h.Subject, true, true, 500)
	c.text(pathMessage+"/Content", h.Content, false, false, 500)
	c.text(pathMessage+"/SignerInfo/Competence", h.Signer.Competence, false, false, 100)
	c.text(pathMessage+"/SignerInfo/Position", h.Signer.Position, true, false, 100)
	c.text(pathMessage+"/SignerInfo/FullName", h.Signer.FullName, true, false, 50)
	if !h.DueDate.IsZero() && !h.Promulgation.Date.IsZero() && h.Promulgation.Date.After(h.DueDate) {
		c.add(deviation(pathMessage+"/DueDate", ErrDate, "due date %s is before the promulgation date %s", h.DueDate, h.Promulgation.Date))
	}
	total := 0
	for i, pl := range h.ToPlaces {
		c.text(idx(pathMessage+"/ToPlaces/Place", i), pl, true, false, 150)
		total += utf8.RuneCountInString(pl)
	}
	if total > 1000 {
		c.add(deviation(pathMessage+"/ToPlaces", ErrLength, "%d characters in all, more than 1000", total))
	}
	if o := h.OtherInfo; o != nil {
		op := pathMessage + "/OtherInfo"
		if o.Priority != nil && !o.Priority.Known() {
			c.add(deviation(op+"/Priority", ErrInvalidValue, "priority %d is not 0–4", int(*o.Priority)))
		}
		c.text(op+"/SphereOfPromulgation", o.SphereOfPromulgation, false, false, 100)
		c.text(op+"/TyperNotation", o.TyperNotation, false, false, 10)
		c.nonNegative(op+"/PromulgationAmount", o.PromulgationAmount)
		c.nonNegative(op+"/PageAmount", o.PageAmount)
		for i, a := range o.Appendixes {
			c.text(idx(op+"/Appendixes/Appendix", i), a, true, false, 500)
		}
	}
	for i, r := range h.ResponseFor {
		c.responseFor(idx(pathMessage+"/ResponseFor", i), r, false)
	}
	if h.SteeringType != nil && (*h.SteeringType < 0 || *h.SteeringType > 3) {
		c.add(deviation(pathMessage+"/SteeringType", ErrInvalidValue, "SteeringType %d is not 0–3", *h.SteeringType))
	}
	if p.Business != nil {
		c.business(p.Business)
	}
	c.payloads(p)
}

func (c *checker) nonNegative(path string, v *int) {
	if v != nil && *v < 0 {
		c.add(newErr(path, ErrInvalidValue, "%d is negative", *v))
	}
}

func (c *checker) responseFor(path string, r ResponseFor, orgRequired bool) {
	c.agency(path+"/OrganId", r.OrganID, false)
	if r.OrganID == "" && orgRequired {
		c.add(deviation(path+"/OrganId", ErrMissing, "the other party's agency code is missing"))
	}
	c.text(path+"/Code", r.Code, false, false, 42)
	c.text(path+"/DocumentId", r.DocumentID, true, true, 100)
}

func (c *checker) business(b *Business) {
	switch {
	case b.DocType < 0:
		c.add(newErr(pathBusiness+"/BussinessDocType", ErrMissing, "BussinessDocType missing"))
		return
	case !b.DocType.Known():
		c.add(newErr(pathBusiness+"/BussinessDocType", ErrInvalidValue, "BussinessDocType %d is not 0–3", int(b.DocType)))
		return
	}
	c.text(pathBusiness+"/BussinessDocReason", b.Reason, b.DocType != BusinessNew, false, 500)
	c.text(pathBusiness+"/DocumentId", b.DocumentID, b.DocType == BusinessUpdate, true, 100)
	if b.Paper != nil && *b.Paper != 0 && *b.Paper != 1 {
		c.add(deviation(pathBusiness+"/Paper", ErrInvalidValue, "Paper %d is not 0 or 1", *b.Paper))
	}
	if b.DocType == BusinessUpdate {
		if b.DocumentInfo == nil {
			c.add(deviation(pathBusiness+"/BussinessDocumentInfo", ErrMissing, "an update says what it changes"))
		} else {
			dp := pathBusiness + "/BussinessDocumentInfo"
			c.flag(dp+"/DocumentInfo", b.DocumentInfo.DocumentInfo)
			c.flag(dp+"/DocumentReceiver", b.DocumentInfo.DocumentReceiver)
			for i, r := range b.DocumentInfo.Receivers {
				rp := idx(dp+"/ReceiverList/Receiver", i)
				c.agency(rp+"/OrganId", r.OrganID, true)
				if r.ReceiverType != 0 && r.ReceiverType != 1 {
					c.add(newErr(rp+"/ReceiverType", ErrInvalidValue, "ReceiverType must be 0 (removed) or 1 (added)"))
				}
			}
		}
	}
	if b.DocType == BusinessReplacement {
		if len(b.Replacements) == 0 {
			c.add(newErr(pathBusiness+"/ReplacementInfoList", ErrMissing, "a replacement names the documents it replaces"))
		}
		for i, r := range b.Replacements {
			rp := idx(pathBusiness+"/ReplacementInfoList/ReplacementInfo", i)
			c.text(rp+"/DocumentId", r.DocumentID, true, true, 100)
			for j, o := range r.OrganIDs {
				c.agency(idx(rp+"/OrganIdList/OrganId", j), o, true)
			}
		}
	}
}

func (c *checker) flag(path string, v *int) {
	if v != nil && *v != 0 && *v != 1 {
		c.add(deviation(path, ErrInvalidValue, "%d is not 0 or 1", *v))
	}
}

func (c *checker) status(p *Packet) {
	s := p.Status
	c.org(pathMessage+"/From", s.From, false)
	c.responseFor(pathMessage+"/ResponseFor", s.ResponseFor, true)
	codePath := pathMessage + "/StatusCode"
	switch {
	case s.Code == 0:
		c.add(newErr(codePath, ErrMissing, "status code missing"))
	case !s.Code.Known():
		c.add(deviation(codePath, ErrStatusCode, "status code %s is not one of 01–06, 13, 15, 16", s.Code))
	}
	needReason := s.Code == StatusRejected || s.Code == StatusRecallRequest || s.Code == StatusChangeRefused
	c.text(pathMessage+"/Description", s.Description, needReason, false, 1000)
	if s.Timestamp.IsZero() {
		c.add(newErr(pathMessage+"/Timestamp", ErrMissing, "timestamp missing"))
	}
	sp := pathMessage + "/StaffInfo"
	if s.Staff.IsZero() {
		c.add(deviation(sp, ErrMissing, "StaffInfo missing"))
	}
	c.staff(sp, s.Staff)
	if p.Business != nil {
		c.add(deviation(pathBusiness, ErrUnexpected, "a status packet carries no Bussiness block"))
	}
	if len(p.Manifest) > 0 || len(p.Attachments) > 0 {
		c.add(deviation(pathEnvelope+"/edXMLBody", ErrUnexpected, "a status packet carries no body or attachments"))
	}
}

func (c *checker) staff(path string, s StaffInfo) {
	c.text(path+"/Department", s.Department, false, false, 200)
	c.text(path+"/Staff", s.Staff, false, false, 100)
	c.text(path+"/Email", s.Email, false, false, 100)
	c.text(path+"/Mobile", s.Mobile, false, false, 20)
}

func (c *checker) trace(p *Packet) {
	for i, t := range p.Trace {
		tp := idx(pathTrace+"/TraceHeader", i)
		c.agency(tp+"/OrganId", t.OrganID, true)
		if t.Timestamp.IsZero() {
			c.add(newErr(tp+"/Timestamp", ErrMissing, "hop timestamp missing"))
		}
	}
	if p.Document != nil && len(p.Trace) == 0 {
		c.add(deviation(pathTrace, ErrMissing, "a document carries the sender's first TraceHeader"))
	}
	if p.Business != nil {
		c.staff(pathBusiness+"/StaffInfo", p.Business.Staff)
	}
}

// payloads joins manifest and attachments on ContentId and decodes each
// payload once.
func (c *checker) payloads(p *Packet) {
	if len(p.Attachments) == 0 && len(p.Manifest) == 0 {
		c.add(deviation(pathAttachment, ErrMissing, "a document carries its file as an attachment"))
		return
	}
	man := map[string]int{}
	for i, m := range p.Manifest {
		mp := idx(pathManifest+"/Reference", i)
		if m.ContentID == "" {
			c.add(newErr(mp+"/ContentId", ErrMissing, "ContentId missing"))
			continue
		}
		if _, dup := man[m.ContentID]; dup {
			c.add(newErr(mp+"/ContentId", ErrDuplicate, "ContentId %q listed twice", m.ContentID))
			continue
		}
		man[m.ContentID] = i
		c.text(mp+"/AttachmentName", m.AttachmentName, true, false, 255)
		c.text(mp+"/ContentType", m.ContentType, true, false, 255)
	}
	atts := map[string]bool{}
	for i, a := range p.Attachments {
		ap := idx(pathAttachment, i)
		if a.ContentID == "" {
			c.add(newErr(ap+"/ContentId", ErrMissing, "ContentId missing"))
			continue
		}
		if atts[a.ContentID] {
			c.add(newErr(ap+"/ContentId", ErrDuplicate, "ContentId %q used twice", a.ContentID))
			continue
		}
		atts[a.ContentID] = true
		mi, ok := man[a.ContentID]
		if !ok {
			c.add(newErr(ap+"/ContentId", ErrAttachmentWithoutManifest, "attachment %q is not in the manifest", a.ContentID))
			continue
		}
		c.text(ap+"/AttachmentName", a.Name, true, false, 255)
		if m := p.Manifest[mi]; m.ContentType != "" && a.ContentType != "" && !strings.EqualFold(m.ContentType, a.ContentType) {
			c.add(deviation(ap+"/ContentType", ErrInvalidValue, "content type %q differs from the manifest's %q", a.ContentType, m.ContentType))
		}
		if a.Empty() {
			c.add(deviation(ap+"/ContentTransferEncoded", ErrEmptyAttachment, "attachment %q has no payload", a.ContentID))
			continue
		}
		if !c.v.SkipPayloads {
			switch n, err := a.Size(); {
			case err != nil:
				c.add(newErr(ap+"/ContentTransferEncoded", ErrAttachmentEncoding, "%v", err))
			case n == 0:
				// Only white space: Empty cannot tell when it is longer
				// than MaxText, since Parse skips such a run unread.
				c.add(deviation(ap+"/ContentTransferEncoded", ErrEmptyAttachment, "attachment %q has no payload", a.ContentID))
			}
		}
	}
	for i, m := range p.Manifest {
		if m.ContentID != "" && !atts[m.ContentID] {
			c.add(newErr(idx(pathManifest+"/Reference", i)+"/ContentId", ErrManifestWithoutAttachment, "manifest entry %q has no attachment", m.ContentID))
		}
	}
}
