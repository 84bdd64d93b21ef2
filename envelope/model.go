package envelope

import (
	"time"

	"github.com/edocgw/edocgw/agencyids"
)

// Namespace is the edXML namespace of QCVN 102:2016. Elements are matched by
// this namespace and their local name, never by prefix.
const Namespace = "http://www.mic.gov.vn/TBT/QCVN_102_2016"

// LegacyNamespace is the pre-QCVN SOAP-style edXML namespace, refused with a
// clear error.
const LegacyNamespace = "http://www.e-doc.vn/Schema/"

// DSigNamespace is the W3C XML-Signature namespace.
const DSigNamespace = "http://www.w3.org/2000/09/xmldsig#"

// Kind tells document packets from status packets.
type Kind int

const (
	KindUnknown Kind = iota
	KindDocument
	KindStatus
)

func (k Kind) String() string {
	switch k {
	case KindDocument:
		return "document"
	case KindStatus:
		return "status"
	}
	return "unknown"
}

// Packet is one edXML packet. Exactly one of Document and Status is set.
type Packet struct {
	Document *DocumentHeader
	Status   *StatusHeader

	// Trace is TraceHeaderList/TraceHeader, oldest hop first.
	Trace []TraceHeader
	// Business is TraceHeaderList/Bussiness, the lifecycle block of
	// revocations, updates and replacements; nil for a plain new document.
	Business *Business

	Manifest    []ManifestEntry
	Attachments []*Attachment

	// Signature summarises the packet's Signature element as found. It is
	// never written by Marshal: a signature is applied by the signing package
	// to marshalled bytes.
	Signature *Signature

	// Issues are what Parse noticed that Validate must judge: deviations
	// from the canonical form and values that could not be read.
	Issues []*Error
}

// Kind reports whether p is a document or a status packet.
func (p *Packet) Kind() Kind {
	switch {
	case p.Document != nil:
		return KindDocument
	case p.Status != nil:
		return KindStatus
	}
	return KindUnknown
}

// From is the sending (or, for a status packet, the reporting) agency.
func (p *Packet) From() Organization {
	switch {
	case p.Document != nil:
		return p.Document.From
	case p.Status != nil:
		return p.Status.From
	}
	return Organization{}
}

// Recipients are the agencies the packet is addressed to: the To agencies of
// a document, or the ResponseFor agency (the other party) of a status.
func (p *Packet) Recipients() []agencyids.Code {
	switch {
	case p.Document != nil:
		out := make([]agencyids.Code, 0, len(p.Document.To))
		for _, t := range p.Document.To {
			out = append(out, t.OrganID)
		}
		return out
	case p.Status != nil:
		if p.Status.ResponseFor.OrganID == "" {
			return nil
		}
		return []agencyids.Code{p.Status.ResponseFor.OrganID}
	}
	return nil
}

// DocumentID is MessageHeader/DocumentId of a document, or
// ResponseFor/DocumentId (the document reported on) of a status.
func (p *Packet) DocumentID() string {
	switch {
	case p.Document != nil:
		return p.Document.DocumentID
	case p.Status != nil:
		return p.Status.ResponseFor.DocumentID
	}
	return ""
}

// Organization is the edXML "Organization" structure of From and To.
type Organization struct {
	OrganID              agencyids.Code
	OrganizationInCharge string
	OrganName            string
	OrganAdd             string
	Email                string
	Telephone            string
	Fax                  string
	Website              string
}

// Code is a document's number and notation (số, ký hiệu).
type Code struct {
	Number   string // CodeNumber, e.g. "7816"
	Notation string // CodeNotation, e.g. "VPCP-TTĐT"
}

// String is "number/notation", the form ResponseFor/Code carries.
func (c Code) String() string {
	switch {
	case c.Number == "":
		return c.Notation
	case c.Notation == "":
		return c.Number
	}
	return c.Number + "/" + c.Notation
}

// PromulgationInfo is the place and date of issue.
type PromulgationInfo struct {
	Place string
	Date  Date
}

// DocumentType is DocumentType{Type, TypeDetail, TypeName}. Type and
// TypeDetail are advisory (their use differs between senders); TypeName is
// always carried.
type DocumentType struct {
	Type       *int
	TypeDetail *int
	TypeName   string
}

// SignerInfo names who signed the document.
type SignerInfo struct {
	Competence string // e.g. "TL. BỘ TRƯỞNG", "KT."
	Position   string
	FullName   string
}

// OtherInfo is MessageHeader/OtherInfo.
type OtherInfo struct {
	Priority             *Priority
	SphereOfPromulgation string
	TyperNotation        string
	PromulgationAmount   *int
	PageAmount           *int
	Direction            *bool
	Appendixes           []string
}

// ResponseFor refers to the document a packet answers or reports on.
type ResponseFor struct {
	OrganID          agencyids.Code
	Code             string // "number/notation" in one string
	PromulgationDate Date
	DocumentID       string
}

// IsZero reports whether r carries nothing (an empty <ResponseFor/>).
func (r ResponseFor) IsZero() bool { return r == ResponseFor{} }

// DocumentHeader is the MessageHeader of a document packet, in the order the
// SDK samples write it.
type DocumentHeader struct {
	From         Organization
	To           []Organization
	DocumentID   string
	Code         Code
	Promulgation PromulgationInfo
	DocumentType DocumentType
	Subject      string
	Content      string
	Signer       SignerInfo
	DueDate      Date
	OtherInfo    *OtherInfo
	ResponseFor  []ResponseFor
	SteeringType *int
	ToPlaces     []string
}

// StaffInfo is the clerk handling a status or a lifecycle action.
type StaffInfo struct {
	Department string
	Staff      string
	Email      string
	Mobile     string
}

// IsZero reports whether s carries nothing.
func (s StaffInfo) IsZero() bool { return s == StaffInfo{} }

// StatusHeader is the MessageHeader of a status packet.
type StatusHeader struct {
	From        Organization
	ResponseFor ResponseFor
	Staff       StaffInfo
	Code        StatusCode
	Description string
	Timestamp   time.Time
}

// TraceHeader is one hop of TraceHeaderList.
type TraceHeader struct {
	OrganID   agencyids.Code
	Timestamp time.Time
}

// Business is the Bussiness block (spelled with a double "s" on the wire).
type Business struct {
	DocType    BusinessDocType
	Reason     string
	DocumentID string // the document revoked or updated, when given
	Paper      *int   // 0/1: a paper copy is also sent
	Staff      StaffInfo
	// DocumentInfo is set for updates (BussinessDocType 2).
	DocumentInfo *BusinessDocumentInfo
	// Replacements is set for replacements (BussinessDocType 3).
	Replacements []ReplacementInfo
}

// BusinessDocumentInfo says what an update changes.
type BusinessDocumentInfo struct {
	DocumentInfo     *int // 1: the document's metadata changed
	DocumentReceiver *int // 1: the receiver list changed
	Receivers        []Receiver
}

// Receiver is a receiver added (ReceiverType 1) or removed (0) by an update.
type Receiver struct {
	OrganID      agencyids.Code
	ReceiverType int
}

// ReplacementInfo names a replaced document and the receivers concerned.
type ReplacementInfo struct {
	DocumentID string
	OrganIDs   []agencyids.Code
}

// ManifestEntry is one edXMLManifest/Reference.
type ManifestEntry struct {
	ContentID      string // without the "cid:" prefix
	ContentType    string
	Description    string
	AttachmentName string
}

// Signature summarises a packet's Signature element. It is informative only:
// nothing here has been verified.
type Signature struct {
	// Namespace is the element's namespace: DSigNamespace, Namespace (the
	// common SDK deviation: no xmldsig declaration) or "".
	Namespace              string
	CanonicalizationMethod string
	SignatureMethod        string
	References             []SignatureReference
	// Certificates are the X509Certificate values, base64 as found.
	Certificates []string
	SubjectNames []string
}

// SignatureReference is one SignedInfo/Reference.
type SignatureReference struct {
	URI          string
	Transforms   []string
	DigestMethod string
}
