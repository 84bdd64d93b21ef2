package envelope

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Marshal writes p in canonical form and returns the bytes.
func Marshal(p *Packet) ([]byte, error) {
	var b bytes.Buffer
	if err := Encode(&b, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Encode writes p in canonical form to w: the layout of the national-axis
// SDK samples, elements in their order, two-space indentation, dates
// yyyy/MM/dd and timestamps in Vietnam time, each payload as one line of
// base64 streamed from its source. Empty optional elements are left out. A
// Signature is never written (it is applied to the marshalled bytes), nor are
// Issues. Encode does not validate: call a Validator first.
func Encode(w io.Writer, p *Packet) error {
	if p.Kind() == KindUnknown {
		return fmt.Errorf("envelope: marshal: %w", ErrKind)
	}
	e := &encoder{w: bufio.NewWriterSize(w, 32<<10)}
	e.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	e.raw(`<edXML xmlns="` + Namespace + `">` + "\n")
	e.depth = 1
	e.open("edXMLEnvelope", ` xmlns:edXML="`+Namespace+`"`)
	e.open("edXMLHeader", "")
	if p.Document != nil {
		e.document(p.Document)
	} else {
		e.status(p.Status)
	}
	if len(p.Trace) > 0 || p.Business != nil {
		e.open("TraceHeaderList", "")
		for _, t := range p.Trace {
			e.open("TraceHeader", "")
			e.leaf("OrganId", string(t.OrganID))
			if !t.Timestamp.IsZero() {
				e.leaf("Timestamp", FormatTimestamp(t.Timestamp))
			}
			e.close("TraceHeader")
		}
		if p.Business != nil {
			e.business(p.Business)
		}
		e.close("TraceHeaderList")
	}
	e.close("edXMLHeader")
	if len(p.Manifest) > 0 {
		e.open("edXMLBody", "")
		e.open("edXMLManifest", ` version="1.0"`)
		for _, m := range p.Manifest {
			e.open("Reference", "")
			e.leaf("ContentId", "cid:"+m.ContentID)
			e.leaf("ContentType", m.ContentType)
			e.leaf("Description", m.Description)
			e.leaf("AttachmentName", m.AttachmentName)
			e.close("Reference")
		}
		e.close("edXMLManifest")
		e.close("edXMLBody")
	}
	e.close("edXMLEnvelope")
	e.prefix = ""
	if len(p.Attachments) > 0 {
		e.open("AttachmentEncoded", "")
		for _, a := range p.Attachments {
			e.open("Attachment", "")
			e.leaf("ContentId", "cid:"+a.ContentID)
			e.leaf("AttachmentName", a.Name)
			e.leaf("Description", a.Description)
			e.leaf("ContentType", a.ContentType)
			e.payload(a)
			e.close("Attachment")
		}
		e.close("AttachmentEncoded")
	}
	e.raw("</edXML>\n")
	if e.err != nil {
		return e.err
	}
	return e.w.Flush()
}

type encoder struct {
	w      *bufio.Writer
	depth  int
	prefix string
	err    error
}

func (e *encoder) raw(s string) {
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

func (e *encoder) indent() { e.raw(strings.Repeat("  ", e.depth)) }

func (e *encoder) name(local string) string {
	if local == "edXMLEnvelope" {
		e.prefix = "edXML:"
	}
	return e.prefix + local
}

func (e *encoder) open(local, attrs string) {
	e.indent()
	e.raw("<" + e.name(local) + attrs + ">\n")
	e.depth++
}

func (e *encoder) close(local string) {
	e.depth--
	e.indent()
	e.raw("</" + e.prefix + local + ">\n")
}

// leaf writes <local>text</local>, or nothing for empty text.
func (e *encoder) leaf(local, text string) {
	if text == "" {
		return
	}
	e.indent()
	e.raw("<" + e.prefix + local + ">")
	if e.err == nil {
		e.err = xml.EscapeText(e.w, []byte(text))
	}
	e.raw("</" + e.prefix + local + ">\n")
}

func (e *encoder) intLeaf(local string, v *int) {
	if v != nil {
		e.leaf(local, strconv.Itoa(*v))
	}
}

func (e *encoder) org(local string, o Organization) {
	e.open(local, "")
	e.leaf("OrganId", string(o.OrganID))
	e.leaf("OrganizationInCharge", o.OrganizationInCharge)
	e.leaf("OrganName", o.OrganName)
	e.leaf("OrganAdd", o.OrganAdd)
	e.leaf("Email", o.Email)
	e.leaf("Telephone", o.Telephone)
	e.leaf("Fax", o.Fax)
	e.leaf("Website", o.Website)
	e.close(local)
}

func (e *encoder) document(h *DocumentHeader) {
	e.open("MessageHeader", "")
	e.org("From", h.From)
	for _, t := range h.To {
		e.org("To", t)
	}
	e.leaf("DocumentId", h.DocumentID)
	e.open("Code", "")
	e.leaf("CodeNumber", h.Code.Number)
	e.leaf("CodeNotation", h.Code.Notation)
	e.close("Code")
	e.open("PromulgationInfo", "")
	e.leaf("Place", h.Promulgation.Place)
	e.leaf("PromulgationDate", h.Promulgation.Date.String())
	e.close("PromulgationInfo")
	e.open("DocumentType", "")
	e.intLeaf("Type", h.DocumentType.Type)
	e.intLeaf("TypeDetail", h.DocumentType.TypeDetail)
	e.leaf("TypeName", h.DocumentType.TypeName)
	e.close("DocumentType")
	e.leaf("Subject", h.Subject)
	e.leaf("Content", h.Content)
	e.open("SignerInfo", "")
	e.leaf("Competence", h.Signer.Competence)
	e.leaf("Position", h.Signer.Position)
	e.leaf("FullName", h.Signer.FullName)
	e.close("SignerInfo")
	e.leaf("DueDate", h.DueDate.String())
	if o := h.OtherInfo; o != nil {
		e.open("OtherInfo", "")
		if o.Priority != nil {
			e.leaf("Priority", strconv.Itoa(int(*o.Priority)))
		}
		e.leaf("SphereOfPromulgation", o.SphereOfPromulgation)
		e.leaf("TyperNotation", o.TyperNotation)
		e.intLeaf("PromulgationAmount", o.PromulgationAmount)
		e.intLeaf("PageAmount", o.PageAmount)
		if o.Direction != nil {
			e.leaf("Direction", strconv.FormatBool(*o.Direction))
		}
		if len(o.Appendixes) > 0 {
			e.open("Appendixes", "")
			for _, a := range o.Appendixes {
				e.leaf("Appendix", a)
			}
			e.close("Appendixes")
		}
		e.close("OtherInfo")
	}
	for _, r := range h.ResponseFor {
		e.responseFor(r)
	}
	e.intLeaf("SteeringType", h.SteeringType)
	if len(h.ToPlaces) > 0 {
		e.open("ToPlaces", "")
		for _, p := range h.ToPlaces {
			e.leaf("Place", p)
		}
		e.close("ToPlaces")
	}
	e.close("MessageHeader")
}

func (e *encoder) responseFor(r ResponseFor) {
	e.open("ResponseFor", "")
	e.leaf("OrganId", string(r.OrganID))
	e.leaf("Code", r.Code)
	e.leaf("DocumentId", r.DocumentID)
	e.leaf("PromulgationDate", r.PromulgationDate.String())
	e.close("ResponseFor")
}

func (e *encoder) staff(s StaffInfo) {
	if s.IsZero() {
		return
	}
	e.open("StaffInfo", "")
	e.leaf("Department", s.Department)
	e.leaf("Staff", s.Staff)
	e.leaf("Email", s.Email)
	e.leaf("Mobile", s.Mobile)
	e.close("StaffInfo")
}

func (e *encoder) status(s *StatusHeader) {
	e.open("MessageHeader", "")
	e.org("From", s.From)
	e.responseFor(s.ResponseFor)
	e.staff(s.Staff)
	e.leaf("StatusCode", s.Code.String())
	e.leaf("Description", s.Description)
	if !s.Timestamp.IsZero() {
		e.leaf("Timestamp", FormatTimestamp(s.Timestamp))
	}
	e.close("MessageHeader")
}

func (e *encoder) business(b *Business) {
	e.open("Bussiness", "")
	e.leaf("DocumentId", b.DocumentID)
	e.leaf("BussinessDocType", strconv.Itoa(int(b.DocType)))
	e.leaf("BussinessDocReason", b.Reason)
	e.intLeaf("Paper", b.Paper)
	if d := b.DocumentInfo; d != nil {
		e.open("BussinessDocumentInfo", "")
		e.intLeaf("DocumentInfo", d.DocumentInfo)
		e.intLeaf("DocumentReceiver", d.DocumentReceiver)
		if len(d.Receivers) > 0 {
			e.open("ReceiverList", "")
			for _, r := range d.Receivers {
				e.open("Receiver", "")
				e.leaf("OrganId", string(r.OrganID))
				e.leaf("ReceiverType", strconv.Itoa(r.ReceiverType))
				e.close("Receiver")
			}
			e.close("ReceiverList")
		}
		e.close("BussinessDocumentInfo")
	}
	if len(b.Replacements) > 0 {
		e.open("ReplacementInfoList", "")
		for _, r := range b.Replacements {
			e.open("ReplacementInfo", "")
			e.leaf("DocumentId", r.DocumentID)
			if len(r.OrganIDs) > 0 {
				e.open("OrganIdList", "")
				for _, o := range r.OrganIDs {
					e.leaf("OrganId", string(o))
				}
				e.close("OrganIdList")
			}
			e.close("ReplacementInfo")
		}
		e.close("ReplacementInfoList")
	}
	e.staff(b.Staff)
	e.close("Bussiness")
}

// payload streams the attachment as one line of base64.
func (e *encoder) payload(a *Attachment) {
	e.indent()
	e.raw("<ContentTransferEncoded>")
	if e.err == nil {
		r, err := a.Open()
		if err != nil {
			e.err = fmt.Errorf("envelope: marshal attachment %q: %w", a.Name, err)
			return
		}
		enc := base64.NewEncoder(base64.StdEncoding, e.w)
		_, err = io.Copy(enc, r)
		r.Close()
		if err == nil {
			err = enc.Close()
		}
		if err != nil {
			e.err = fmt.Errorf("envelope: marshal attachment %q: %w", a.Name, err)
			return
		}
	}
	e.raw("</ContentTransferEncoded>\n")
}
