package envelope

import (
	"encoding/xml"
	"strings"

	"github.com/edocgw/edocgw/internal/xmltok"
)

// nsStack does for the tree what encoding/xml's Decoder.Token does on top of
// RawToken: it keeps the namespace bindings in scope and the raw names of the
// open elements, translates names as Decoder.translate does, and checks end
// tags as Token does in strict mode.
type nsStack struct {
	binds []binding // in scope, innermost last
	open  []openElem
}

type binding struct{ prefix, uri string }

// openElem is an open element's raw name and the bindings of its ancestors.
type openElem struct {
	prefix, local string
	nbinds        int
}

// xmlURL is the namespace of the xml prefix.
const xmlURL = "http://www.w3.org/XML/1998/namespace"

// start opens an element: its xmlns attributes bind first, then its name and
// attributes are translated.
func (s *nsStack) start(prefix, local []byte, tattrs []xmltok.Attr) (xml.Name, []xml.Attr) {
	nbinds := len(s.binds)
	for _, a := range tattrs {
		switch {
		case string(a.Prefix) == "xmlns":
			s.binds = append(s.binds, binding{prefix: intern(a.Local), uri: intern(a.Value)})
		case len(a.Prefix) == 0 && string(a.Local) == "xmlns":
			s.binds = append(s.binds, binding{uri: intern(a.Value)})
		}
	}
	e := openElem{prefix: intern(prefix), local: intern(local), nbinds: nbinds}
	s.open = append(s.open, e)
	name := xml.Name{Space: s.translate(prefix, local, true), Local: e.local}
	var attrs []xml.Attr
	if len(tattrs) > 0 {
		attrs = make([]xml.Attr, len(tattrs))
		for i, a := range tattrs {
			attrs[i] = xml.Attr{
				Name:  xml.Name{Space: s.translate(a.Prefix, a.Local, false), Local: intern(a.Local)},
				Value: intern(a.Value),
			}
		}
	}
	return name, attrs
}

// translate is the namespace of a name, as Decoder.translate finds it (with
// an empty DefaultSpace). The xml prefix cannot be rebound: no prefix
// contains the '/' of its URI, which translate would look up next.
func (s *nsStack) translate(prefix, local []byte, isElementName bool) string {
	switch {
	case string(prefix) == "xmlns":
		return "xmlns"
	case len(prefix) == 0 && !isElementName:
		return ""
	case string(prefix) == "xml":
		return xmlURL
	case len(prefix) == 0 && string(local) == "xmlns":
		return ""
	}
	for i := len(s.binds) - 1; i >= 0; i-- {
		if s.binds[i].prefix == string(prefix) {
			return s.binds[i].uri
		}
	}
	return intern(prefix) // unbound: the prefix stays; "" for no prefix
}

// end closes the open element, or returns Token's syntax error message if
// the end tag does not match it.
func (s *nsStack) end(prefix, local []byte) string {
	if len(s.open) == 0 {
		return "unexpected end element </" + string(local) + ">"
	}
	e := s.open[len(s.open)-1]
	switch {
	case e.local != string(local):
		return "element <" + e.local + "> closed by </" + string(local) + ">"
	case e.prefix != string(prefix):
		ns := string(prefix)
		if ns == "" {
			ns = `""`
		}
		return "element <" + e.local + "> in space " + e.prefix + " closed by </" + string(local) + "> in space " + ns
	}
	s.binds = s.binds[:e.nbinds]
	s.open = s.open[:len(s.open)-1]
	return ""
}

// known holds the names and values that edXML packets repeat, so that
// intern returns them without allocating.
var known = func() map[string]string {
	m := map[string]string{}
	for _, s := range strings.Fields(`edXML edXMLEnvelope edXMLHeader edXMLBody edXMLManifest
		MessageHeader From To Code CodeNumber CodeNotation PromulgationInfo Place PromulgationDate
		DocumentType Type TypeDetail TypeName Subject Content SignerInfo Competence Position FullName
		DueDate ToPlaces OtherInfo Priority SphereOfPromulgation TyperNotation PromulgationAmount
		PageAmount Direction Appendixes Appendix ResponseFor SteeringType DocumentId OrganId
		OrganizationInCharge OrganName OrganAdd Email Telephone Fax Website StaffInfo Department
		Staff Mobile StatusCode Description Timestamp TraceHeaderList TraceHeader Bussiness
		BussinessDocType BussinessDocReason Paper BussinessDocumentInfo DocumentInfo DocumentReceiver
		ReceiverList Receiver ReceiverType ReplacementInfoList ReplacementInfo OrganIdList
		Reference ContentId ContentType AttachmentName AttachmentEncoded Attachment
		ContentTransferEncoded Signature SignedInfo CanonicalizationMethod SignatureMethod
		Transforms Transform DigestMethod DigestValue SignatureValue KeyInfo X509Data
		X509Certificate X509SubjectName Algorithm URI Id version xmlns xml edXML ds dsig 1.0 true false
		http://www.w3.org/2000/09/xmldsig#sha1 http://www.w3.org/2000/09/xmldsig#rsa-sha1
		http://www.w3.org/2000/09/xmldsig#enveloped-signature
		http://www.w3.org/2001/04/xmlenc#sha256 http://www.w3.org/2001/04/xmldsig-more#rsa-sha256
		http://www.w3.org/TR/2001/REC-xml-c14n-20010315 http://www.w3.org/2001/10/xml-exc-c14n#
		http://www.w3.org/TR/xml-exc-c14n#`) {
		m[s] = s
	}
	for _, s := range []string{"", Namespace, LegacyNamespace, DSigNamespace, xmlURL} {
		m[s] = s
	}
	return m
}()

// intern returns b as a string, without allocating if it is a known one.
func intern(b []byte) string {
	if s, ok := known[string(b)]; ok {
		return s
	}
	return string(b)
}
