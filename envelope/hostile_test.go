package envelope_test

// The hostile corpus: one test per malformed or hostile packet. Small cases
// are files in testdata/hostile, each a variant of testdata/base/document.edxml
// or status.edxml (both strictly valid: TestHostileBases) with one defect, so
// that the first problem reported is that defect. Large, deep and wide cases
// are generated from the same base inside their test function instead of
// being checked in.
//
// Each test says which stage refuses the packet and how:
//   - refusedByParse: Parse itself, with the sentinel and the path of the
//     *Error ("" when the problem is outside any element);
//   - refusedByBoth: Parse succeeds, Strict and Lenient Validate both fail,
//     the first problem wrapping the sentinel at the path;
//   - refusedByStrictOnly: Strict fails that way, Lenient accepts the packet
//     and reports the same problem as a warning.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edocgw/edocgw/envelope"
)

const (
	pEnv      = "/edXML/edXMLEnvelope"
	pHdr      = pEnv + "/edXMLHeader"
	pMsg      = pHdr + "/MessageHeader"
	pBus      = pHdr + "/TraceHeaderList/Bussiness"
	pManifest = pEnv + "/edXMLBody/edXMLManifest"
	pAtt      = "/edXML/AttachmentEncoded/Attachment"
	pPayload  = pAtt + "/ContentTransferEncoded"

	basePayload = "JVBERi0xLjQKJSBlZG9jZ3cgaG9zdGlsZSBjb3JwdXMK"
	baseSubject = "<edXML:Subject>V/v báo cáo tình hình triển khai văn bản điện tử</edXML:Subject>"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hostile is the corpus file testdata/hostile/<name>.edxml.
func hostile(t *testing.T, name string) []byte {
	t.Helper()
	return readFile(t, filepath.Join("testdata", "hostile", name+".edxml"))
}

// baseDoc is the strictly valid document every case starts from.
func baseDoc(t *testing.T) []byte {
	t.Helper()
	return readFile(t, filepath.Join("testdata", "base", "document.edxml"))
}

// replaced is b with old (which must be there) replaced once by new.
func replaced(t *testing.T, b []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%q not found", old)
	}
	return bytes.Replace(b, []byte(old), []byte(new), 1)
}

// checkErr asserts that err is an *envelope.Error (or Problems of them) whose
// first problem wraps want at path.
func checkErr(t *testing.T, stage string, err, want error, path string) {
	t.Helper()
	var e *envelope.Error
	switch {
	case err == nil:
		t.Fatalf("%s: no error, want %v at %q", stage, want, path)
	case !errors.As(err, &e):
		t.Fatalf("%s: error %v (%T) is not an *envelope.Error", stage, err, err)
	case !errors.Is(err, want):
		t.Fatalf("%s: error %v, want %v", stage, err, want)
	}
	if f := envelope.First(err); f == nil || !errors.Is(f, want) || f.Path != path {
		t.Fatalf("%s: first problem %#v, want %v at %q", stage, f, want, path)
	}
}

// refusedByParse asserts that Parse with opts fails with want at path.
func refusedByParse(t *testing.T, b []byte, opts envelope.Options, want error, path string) {
	t.Helper()
	p, err := envelope.ParseReaderAt(bytes.NewReader(b), int64(len(b)), opts)
	if p != nil {
		t.Errorf("Parse returned a packet along with error %v", err)
	}
	checkErr(t, "Parse", err, want, path)
}

// parsed parses b, which must succeed.
func parsed(t *testing.T, b []byte) *envelope.Packet {
	t.Helper()
	p, err := envelope.Parse(b)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

// refusedByBoth asserts that b parses and both strict and lenient validation
// fail with want at path.
func refusedByBoth(t *testing.T, b []byte, want error, path string) {
	t.Helper()
	refusedByBothAs(t, b, want, want, path)
}

// refusedByBothAs is refusedByBoth where the first problem at path differs:
// strict validation reports a deviation found there first (an error in
// strict mode), lenient validation the error behind it.
func refusedByBothAs(t *testing.T, b []byte, strict, lenient error, path string) {
	t.Helper()
	p := parsed(t, b)
	_, err := envelope.Strict.Validate(p)
	checkErr(t, "Strict.Validate", err, strict, path)
	_, err = envelope.Lenient.Validate(p)
	checkErr(t, "Lenient.Validate", err, lenient, path)
}

// refusedByStrictOnly asserts that b parses, strict validation fails with
// want at path and lenient validation accepts it with that warning.
func refusedByStrictOnly(t *testing.T, b []byte, want error, path string) {
	t.Helper()
	refusedByStrictOnlyAt(t, b, nil, want, path)
}

// refusedByStrictOnlyAt is refusedByStrictOnly with validators whose clock
// is now (nil: none).
func refusedByStrictOnlyAt(t *testing.T, b []byte, now func() time.Time, want error, path string) {
	t.Helper()
	p := parsed(t, b)
	_, err := envelope.Validator{Now: now}.Validate(p)
	checkErr(t, "Strict.Validate", err, want, path)
	warns, err := envelope.Validator{Lenient: true, Now: now}.Validate(p)
	if err != nil {
		t.Fatalf("Lenient.Validate: %v, want only a warning", err)
	}
	for _, w := range warns {
		if errors.Is(w, want) && w.Path == path {
			return
		}
	}
	t.Fatalf("Lenient.Validate: no %v warning at %q among %v", want, path, warns)
}

// accepted asserts that b parses and passes strict validation without
// warnings.
func accepted(t *testing.T, b []byte) *envelope.Packet {
	t.Helper()
	p := parsed(t, b)
	if warns, err := envelope.Strict.Validate(p); err != nil || len(warns) > 0 {
		t.Fatalf("Strict.Validate: %v, warnings %v", err, warns)
	}
	return p
}

func payloadOf(t *testing.T, p *envelope.Packet, i int) []byte {
	t.Helper()
	r, err := p.Attachments[i].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var none envelope.Options

// TestHostileBases checks the two packets the corpus is derived from.
func TestHostileBases(t *testing.T) {
	accepted(t, baseDoc(t))
	accepted(t, readFile(t, filepath.Join("testdata", "base", "status.edxml")))
}

// TestHostileCorpusNames keeps the corpus at its minimum size and naming.
func TestHostileCorpusNames(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "hostile", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 45 {
		t.Errorf("%d hostile packets, want at least 45", len(files))
	}
	re := regexp.MustCompile(`^[0-9]{2}-[a-z0-9.-]+\.edxml$`)
	for _, f := range files {
		if !re.MatchString(filepath.Base(f)) {
			t.Errorf("%s: not named NN-short-name.edxml", f)
		}
	}
}

// ---- Truncation and not-XML ----

func TestHostile_TruncatedRootStartTag(t *testing.T) {
	refusedByParse(t, hostile(t, "01-truncated-root-start-tag"), none, envelope.ErrTruncated, "")
}

func TestHostile_TruncatedMidUTF8(t *testing.T) {
	refusedByParse(t, hostile(t, "02-truncated-mid-utf8"), none, envelope.ErrTruncated, pMsg+"/Subject")
}

func TestHostile_TruncatedInEndTag(t *testing.T) {
	refusedByParse(t, hostile(t, "03-truncated-in-end-tag"), none, envelope.ErrTruncated, pMsg)
}

func TestHostile_TruncatedInPayload(t *testing.T) {
	refusedByParse(t, hostile(t, "04-truncated-in-payload"), none, envelope.ErrTruncated, pPayload)
}

func TestHostile_TruncatedBeforeRootEnd(t *testing.T) {
	refusedByParse(t, hostile(t, "05-truncated-before-root-end"), none, envelope.ErrTruncated, "/edXML")
}

// TestHostile_TruncatedEverywhere cuts the base packet at every byte: each
// cut must be refused by Parse (never accepted, never a panic) and with a
// typed error.
func TestHostile_TruncatedEverywhere(t *testing.T) {
	b := baseDoc(t)
	end := bytes.LastIndex(b, []byte("</edXML>")) + len("</edXML>")
	for n := 0; n < end; n++ {
		if _, err := envelope.Parse(b[:n]); err == nil || envelope.First(err) == nil {
			t.Fatalf("cut at %d: error %v, want an *envelope.Error", n, err)
		}
	}
}

func TestHostile_NotXML(t *testing.T) {
	refusedByParse(t, hostile(t, "06-not-xml"), none, envelope.ErrMalformed, "")
}

func TestHostile_Empty(t *testing.T) {
	refusedByParse(t, hostile(t, "07-empty"), none, envelope.ErrTruncated, "")
}

// ---- Root and namespace ----

func TestHostile_WrongRootSOAP(t *testing.T) {
	refusedByParse(t, hostile(t, "08-wrong-root-soap"), none, envelope.ErrNotEdXML, "/Envelope")
}

func TestHostile_WrongNamespace(t *testing.T) {
	refusedByParse(t, hostile(t, "09-wrong-namespace"), none, envelope.ErrNamespace, "/edXML")
}

func TestHostile_LegacyNamespace(t *testing.T) {
	refusedByParse(t, hostile(t, "10-legacy-namespace"), none, envelope.ErrNamespace, "/edXML")
}

func TestHostile_NoNamespace(t *testing.T) {
	refusedByParse(t, hostile(t, "11-no-namespace"), none, envelope.ErrNamespace, "/edXML")
}

// The envelope prefix bound to a look-alike URI (a trailing slash): the
// envelope is not in the edXML namespace, so it is missing.
func TestHostile_PrefixRebound(t *testing.T) {
	refusedByParse(t, hostile(t, "76-prefix-rebound"), none, envelope.ErrMissing, pEnv)
}

// ---- Missing elements ----

func TestHostile_MissingEnvelope(t *testing.T) {
	refusedByParse(t, hostile(t, "12-missing-envelope"), none, envelope.ErrMissing, pEnv)
}

func TestHostile_MissingHeader(t *testing.T) {
	refusedByParse(t, hostile(t, "13-missing-header"), none, envelope.ErrMissing, pHdr)
}

func TestHostile_MissingMessageHeader(t *testing.T) {
	refusedByParse(t, hostile(t, "14-missing-messageheader"), none, envelope.ErrMissing, pMsg)
}

func TestHostile_MissingFromOrganId(t *testing.T) {
	refusedByBoth(t, hostile(t, "15-missing-from-organid"), envelope.ErrMissing, pMsg+"/From/OrganId")
}

func TestHostile_MissingTo(t *testing.T) {
	refusedByBoth(t, hostile(t, "16-missing-to"), envelope.ErrMissing, pMsg+"/To")
}

func TestHostile_MissingDocumentId(t *testing.T) {
	refusedByBoth(t, hostile(t, "17-missing-documentid"), envelope.ErrMissing, pMsg+"/DocumentId")
}

func TestHostile_MissingSubject(t *testing.T) {
	refusedByBoth(t, hostile(t, "18-missing-subject"), envelope.ErrMissing, pMsg+"/Subject")
}

func TestHostile_MissingPromulgationDate(t *testing.T) {
	refusedByBoth(t, hostile(t, "19-missing-promulgationdate"), envelope.ErrMissing, pMsg+"/PromulgationInfo/PromulgationDate")
}

func TestHostile_MissingStatusCode(t *testing.T) {
	refusedByBoth(t, hostile(t, "20-missing-statuscode"), envelope.ErrMissing, pMsg+"/StatusCode")
}

func TestHostile_StatusMissingResponseForDocumentId(t *testing.T) {
	refusedByBoth(t, hostile(t, "21-status-missing-responsefor-documentid"), envelope.ErrMissing, pMsg+"/ResponseFor/DocumentId")
}

// A To hidden inside a processing instruction is not a To.
func TestHostile_PIHidesRecipient(t *testing.T) {
	refusedByBoth(t, hostile(t, "71-pi-hides-recipient"), envelope.ErrMissing, pMsg+"/To")
}

// ---- Agency codes ----

func TestHostile_AgencyLowerCase(t *testing.T) {
	refusedByStrictOnly(t, hostile(t, "22-agency-lowercase"), envelope.ErrAgencyCode, pMsg+"/From/OrganId")
}

func TestHostile_AgencyScript(t *testing.T) {
	refusedByBoth(t, hostile(t, "23-agency-script"), envelope.ErrAgencyCode, pMsg+"/From/OrganId")
}

func TestHostile_AgencyTooLong(t *testing.T) {
	refusedByBoth(t, hostile(t, "24-agency-too-long"), envelope.ErrAgencyCode, pMsg+"/From/OrganId")
}

func TestHostile_AgencyEmpty(t *testing.T) {
	refusedByBoth(t, hostile(t, "25-agency-empty"), envelope.ErrMissing, pMsg+"/To/OrganId")
}

// ---- Dates, timestamps, numbers, codes ----

func TestHostile_DateFebruary30(t *testing.T) {
	refusedByBoth(t, hostile(t, "26-date-feb-30"), envelope.ErrDate, pMsg+"/PromulgationInfo/PromulgationDate")
}

func TestHostile_DateMonth13(t *testing.T) {
	refusedByBoth(t, hostile(t, "27-date-month-13"), envelope.ErrDate, pMsg+"/PromulgationInfo/PromulgationDate")
}

func TestHostile_DateInWords(t *testing.T) {
	refusedByBoth(t, hostile(t, "28-date-words"), envelope.ErrDate, pMsg+"/PromulgationInfo/PromulgationDate")
}

func TestHostile_BadTimestamp(t *testing.T) {
	refusedByBoth(t, hostile(t, "29-bad-timestamp"), envelope.ErrTimestamp, pMsg+"/Timestamp")
}

func TestHostile_FuturePromulgationDate(t *testing.T) {
	now := func() time.Time { return time.Date(2024, 5, 7, 10, 0, 0, 0, envelope.VietnamTime) }
	refusedByStrictOnlyAt(t, hostile(t, "30-future-promulgation-date"), now, envelope.ErrFutureDate, pMsg+"/PromulgationInfo/PromulgationDate")
}

func TestHostile_PriorityNotANumber(t *testing.T) {
	refusedByBoth(t, hostile(t, "31-priority-not-number"), envelope.ErrInvalidValue, pMsg+"/OtherInfo/Priority")
}

func TestHostile_StatusCode99(t *testing.T) {
	refusedByStrictOnly(t, hostile(t, "32-status-code-99"), envelope.ErrStatusCode, pMsg+"/StatusCode")
}

func TestHostile_StatusCodeNegative(t *testing.T) {
	refusedByBoth(t, hostile(t, "33-status-code-negative"), envelope.ErrStatusCode, pMsg+"/StatusCode")
}

func TestHostile_StatusCodeAndTo(t *testing.T) {
	refusedByParse(t, hostile(t, "34-status-and-to"), none, envelope.ErrKind, pMsg)
}

// ---- Duplicates ----

func TestHostile_DuplicateSubject(t *testing.T) {
	refusedByParse(t, hostile(t, "35-duplicate-subject"), none, envelope.ErrDuplicate, pMsg+"/Subject[2]")
}

func TestHostile_DuplicateFrom(t *testing.T) {
	refusedByParse(t, hostile(t, "36-duplicate-from"), none, envelope.ErrDuplicate, pMsg+"/From[2]")
}

func TestHostile_DuplicateMessageHeader(t *testing.T) {
	refusedByParse(t, hostile(t, "37-duplicate-messageheader"), none, envelope.ErrDuplicate, pMsg+"[2]")
}

func TestHostile_DuplicateToOrganId(t *testing.T) {
	refusedByBoth(t, hostile(t, "38-duplicate-to-organid"), envelope.ErrDuplicate, pMsg+"/To[2]/OrganId")
}

// ---- Signatures ----

func TestHostile_TwoSignatures(t *testing.T) {
	refusedByParse(t, hostile(t, "39-two-signatures"), none, envelope.ErrDuplicate, pHdr+"/Signature[2]")
}

func TestHostile_SignatureInMessageHeader(t *testing.T) {
	refusedByParse(t, hostile(t, "40-signature-in-messageheader"), none, envelope.ErrUnexpected, pMsg+"/Signature")
}

func TestHostile_SignatureAtRoot(t *testing.T) {
	refusedByParse(t, hostile(t, "41-signature-at-root"), none, envelope.ErrUnexpected, "/edXML/Signature")
}

// <ds:Signature> with ds never declared: encoding/xml gives it the namespace
// "ds", which used to make it an unknown element that Lenient let through.
func TestHostile_SignatureUnboundPrefix(t *testing.T) {
	refusedByParse(t, hostile(t, "42-signature-unbound-prefix"), none, envelope.ErrUnexpected, pMsg+"/Signature")
}

// A second edXMLEnvelope/edXMLHeader nested in AttachmentEncoded, carrying a
// Signature: only the packet's own header may carry one.
func TestHostile_SignatureInLookalikeHeader(t *testing.T) {
	refusedByParse(t, hostile(t, "43-signature-in-lookalike-header"), none, envelope.ErrUnexpected, "/edXML/AttachmentEncoded/edXMLEnvelope/edXMLHeader/Signature")
}

// ---- DTDs, entities, encodings ----

func TestHostile_BillionLaughs(t *testing.T) {
	refusedByParse(t, hostile(t, "44-billion-laughs"), none, envelope.ErrDTD, "")
}

func TestHostile_ExternalEntitySystem(t *testing.T) {
	refusedByParse(t, hostile(t, "45-xxe-system"), none, envelope.ErrExternalEntity, "")
}

func TestHostile_ExternalEntityPublic(t *testing.T) {
	refusedByParse(t, hostile(t, "46-xxe-public"), none, envelope.ErrExternalEntity, "")
}

func TestHostile_ParameterEntity(t *testing.T) {
	refusedByParse(t, hostile(t, "47-parameter-entity"), none, envelope.ErrExternalEntity, "")
}

// `<!ENTITY decoy "]>">` must not end the DTD before the SYSTEM entity that
// follows it is seen.
func TestHostile_DTDQuotedBracket(t *testing.T) {
	refusedByParse(t, hostile(t, "48-dtd-quoted-bracket"), none, envelope.ErrExternalEntity, "")
}

func TestHostile_DTDTruncated(t *testing.T) {
	refusedByParse(t, hostile(t, "49-dtd-truncated"), none, envelope.ErrExternalEntity, "")
}

func TestHostile_UndefinedEntity(t *testing.T) {
	refusedByParse(t, hostile(t, "50-undefined-entity"), none, envelope.ErrUndefinedEntity, pMsg+"/Subject")
}

func TestHostile_EncodingLatin1(t *testing.T) {
	refusedByParse(t, hostile(t, "51-encoding-latin1"), none, envelope.ErrEncoding, "")
}

func TestHostile_EncodingUTF16(t *testing.T) {
	refusedByParse(t, hostile(t, "52-encoding-utf16"), none, envelope.ErrEncoding, "")
}

// A second XML declaration inside Subject trying to switch the decoder to
// Windows-1258 for the rest of the packet.
func TestHostile_EncodingSwitchMidDocument(t *testing.T) {
	refusedByParse(t, hostile(t, "53-encoding-switch-mid-document"), none, envelope.ErrEncoding, pMsg+"/Subject")
}

// Windows-1258 bytes without any declaration.
func TestHostile_InvalidUTF8(t *testing.T) {
	refusedByParse(t, hostile(t, "54-invalid-utf8"), none, envelope.ErrMalformed, pMsg+"/Subject")
}

func TestHostile_ControlCharReference(t *testing.T) {
	refusedByParse(t, hostile(t, "55-control-char-reference"), none, envelope.ErrMalformed, pMsg+"/Subject")
}

func TestHostile_XMLVersion11(t *testing.T) {
	refusedByParse(t, hostile(t, "72-xml-version-1.1"), none, envelope.ErrMalformed, "")
}

// ---- Document-level well-formedness ----

func TestHostile_ContentAfterRoot(t *testing.T) {
	refusedByParse(t, hostile(t, "63-content-after-root"), none, envelope.ErrMalformed, "")
}

func TestHostile_TwoRoots(t *testing.T) {
	refusedByParse(t, hostile(t, "64-two-roots"), none, envelope.ErrMalformed, "")
}

func TestHostile_TextOutsideRoot(t *testing.T) {
	refusedByParse(t, hostile(t, "65-text-outside-root"), none, envelope.ErrMalformed, "")
}

func TestHostile_DuplicateAttribute(t *testing.T) {
	refusedByParse(t, hostile(t, "57-duplicate-attribute"), none, envelope.ErrMalformed, pManifest)
}

// ---- Limits (small) ----

func TestHostile_TooManyAttributes(t *testing.T) {
	refusedByParse(t, hostile(t, "56-too-many-attributes"), none, envelope.ErrTooManyAttributes, pMsg+"/Subject")
}

func TestHostile_TooManyAttachments(t *testing.T) {
	opts := envelope.Options{Limits: envelope.Limits{MaxAttachments: 2}}
	refusedByParse(t, hostile(t, "58-too-many-attachments"), opts, envelope.ErrTooManyAttachments, pManifest)
}

// ---- Attachments ----

func TestHostile_AttachmentWithoutManifest(t *testing.T) {
	refusedByBoth(t, hostile(t, "59-attachment-without-manifest"), envelope.ErrAttachmentWithoutManifest, pAtt+"[2]/ContentId")
}

func TestHostile_ManifestWithoutAttachment(t *testing.T) {
	refusedByBoth(t, hostile(t, "60-manifest-without-attachment"), envelope.ErrManifestWithoutAttachment, pManifest+"/Reference[2]/ContentId")
}

func TestHostile_DuplicateContentId(t *testing.T) {
	refusedByBoth(t, hostile(t, "61-duplicate-contentid"), envelope.ErrDuplicate, pManifest+"/Reference[2]/ContentId")
}

func TestHostile_InvalidBase64(t *testing.T) {
	refusedByBoth(t, hostile(t, "62-invalid-base64"), envelope.ErrAttachmentEncoding, pPayload)
}

func TestHostile_ElementInPayload(t *testing.T) {
	refusedByParse(t, hostile(t, "69-element-in-payload"), none, envelope.ErrUnexpected, pPayload+"/Extra")
}

// ---- Bussiness block ----

func TestHostile_BusinessDocType7(t *testing.T) {
	refusedByBoth(t, hostile(t, "66-business-doctype-7"), envelope.ErrInvalidValue, pBus+"/BussinessDocType")
}

func TestHostile_UpdateWithoutDocumentId(t *testing.T) {
	refusedByBoth(t, hostile(t, "67-update-without-documentid"), envelope.ErrMissing, pBus+"/DocumentId")
}

func TestHostile_ReplacementWithoutList(t *testing.T) {
	refusedByBoth(t, hostile(t, "68-replacement-without-list"), envelope.ErrMissing, pBus+"/ReplacementInfoList")
}

// ---- Tricks that must change nothing ----

// A comment shaped like the scanner's payload marker, in Subject and in a
// payload, is an ordinary comment: the packet reads as the base one. The
// comment splitting Subject is itself a deviation (ErrCommentInValue):
// Strict refuses it, Lenient warns.
func TestHostile_CommentSpoofsMarker(t *testing.T) {
	b := hostile(t, "70-comment-spoofs-marker")
	refusedByStrictOnly(t, b, envelope.ErrCommentInValue, pMsg+"/Subject")
	p, want := parsed(t, b), accepted(t, baseDoc(t))
	eq(t, "document", p.Document, want.Document)
	eq(t, "payload", string(payloadOf(t, p, 0)), string(payloadOf(t, want, 0)))
}

// XInclude is not processed: the include element is reported, never followed.
func TestHostile_XIncludeInSubject(t *testing.T) {
	b := hostile(t, "75-xinclude-in-subject")
	refusedByStrictOnly(t, b, envelope.ErrUnexpected, pMsg+"/Subject/include")
	eq(t, "subject", parsed(t, b).Document.Subject, "V/v báo cáo tình hình triển khai văn bản điện tử")
}

// CDATA is ordinary text, "]]>" split over two sections included.
func TestHostile_CDATASubject(t *testing.T) {
	escaped := replaced(t, baseDoc(t), baseSubject, `<edXML:Subject>V/v kết nối &amp; &lt;thử nghiệm&gt; ]]&gt; "liên thông"</edXML:Subject>`)
	p, want := accepted(t, hostile(t, "73-cdata-subject")), accepted(t, escaped)
	eq(t, "subject", p.Document.Subject, `V/v kết nối & <thử nghiệm> ]]> "liên thông"`)
	eq(t, "document", p.Document, want.Document)
}

func TestHostile_CDATAPayload(t *testing.T) {
	p, want := accepted(t, hostile(t, "74-cdata-payload")), accepted(t, baseDoc(t))
	eq(t, "payload", string(payloadOf(t, p, 0)), string(payloadOf(t, want, 0)))
}

// ---- A warning at a path must not hide an error at the same path ----

// The only To is in a vendor namespace: an unknown element (a warning), and
// no To at all (an error).
func TestHostile_ToInForeignNamespace(t *testing.T) {
	refusedByBothAs(t, hostile(t, "77-to-foreign-namespace"), envelope.ErrUnknown, envelope.ErrMissing, pMsg+"/To")
}

func TestHostile_OrganIdInForeignNamespace(t *testing.T) {
	refusedByBothAs(t, hostile(t, "78-organid-foreign-namespace"), envelope.ErrUnknown, envelope.ErrMissing, pMsg+"/From/OrganId")
}

// "0" is a status code of one digit (a warning) and no status code (an error).
func TestHostile_StatusCodeZero(t *testing.T) {
	refusedByBothAs(t, hostile(t, "79-status-code-zero"), envelope.ErrStatusCode, envelope.ErrMissing, pMsg+"/StatusCode")
}

func TestHostile_CodeAsText(t *testing.T) {
	refusedByBothAs(t, hostile(t, "80-code-as-text"), envelope.ErrUnexpected, envelope.ErrMissing, pMsg+"/Code")
}

// ---- Generated: large, deep and wide inputs (built here, not checked in) ----

// TestHostile_Oversized: generated. A packet with a 300 KB payload against
// a 256 KB MaxBytes.
func TestHostile_Oversized(t *testing.T) {
	b := replaced(t, baseDoc(t), basePayload, strings.Repeat("QUJD", 75<<10))
	refusedByParse(t, b, envelope.Options{Limits: envelope.Limits{MaxBytes: 256 << 10}}, envelope.ErrTooLarge, "")
}

// TestHostile_DeepNesting: generated. 60 nested elements in Subject; the
// 33rd level (the 28th <x>) is refused.
func TestHostile_DeepNesting(t *testing.T) {
	b := replaced(t, baseDoc(t), baseSubject, "<edXML:Subject>"+strings.Repeat("<x>", 60)+strings.Repeat("</x>", 60)+"</edXML:Subject>")
	refusedByParse(t, b, none, envelope.ErrTooDeep, pMsg+"/Subject"+strings.Repeat("/x", 28))
}

// TestHostile_TooManyElements: generated. 20 001 Place elements first in
// MessageHeader: the 20 001st element of the packet is Place number 19 996.
func TestHostile_TooManyElements(t *testing.T) {
	places := "<edXML:ToPlaces>" + strings.Repeat("<edXML:Place>Lưu: VT</edXML:Place>", 20001) + "</edXML:ToPlaces>"
	b := replaced(t, baseDoc(t), "<edXML:MessageHeader>", "<edXML:MessageHeader>"+places)
	refusedByParse(t, b, none, envelope.ErrTooManyElements, pMsg+"/ToPlaces/Place[19996]")
}

// TestHostile_HugeSubject: generated. 100 KB of Vietnamese text.
func TestHostile_HugeSubject(t *testing.T) {
	b := replaced(t, baseDoc(t), baseSubject, "<edXML:Subject>"+strings.Repeat("Trích yếu rất dài. ", 5000)+"</edXML:Subject>")
	refusedByParse(t, b, none, envelope.ErrTextTooLong, pMsg+"/Subject")
}

// TestHostile_HugeNonBase64Payload: generated. 100 KB of raw (not base64)
// PDF text pasted into ContentTransferEncoded.
func TestHostile_HugeNonBase64Payload(t *testing.T) {
	b := replaced(t, baseDoc(t), basePayload, "%PDF-1.4\n"+strings.Repeat("1 0 obj &lt;&lt; /Type /Page &gt;&gt; endobj\n", 2500))
	refusedByParse(t, b, none, envelope.ErrTextTooLong, pPayload)
}

// TestHostile_LongBase64ThenGarbage: generated. A payload that is base64 for
// longer than MaxText (so the scanner stops buffering it) and then is not.
func TestHostile_LongBase64ThenGarbage(t *testing.T) {
	b := replaced(t, baseDoc(t), basePayload, strings.Repeat("QUJD", 20<<10)+"*not base64*")
	refusedByParse(t, b, none, envelope.ErrTextTooLong, pPayload)
}

// TestHostile_HugeComment: generated. A 100 KB comment in MessageHeader.
func TestHostile_HugeComment(t *testing.T) {
	b := replaced(t, baseDoc(t), "<edXML:MessageHeader>", "<edXML:MessageHeader><!--"+strings.Repeat("chú thích ", 10000)+"-->")
	refusedByParse(t, b, none, envelope.ErrMarkupTooLong, pMsg)
}

// TestHostile_HugeAttributeValue: generated. A 100 KB attribute on Subject;
// its start tag is being read inside MessageHeader.
func TestHostile_HugeAttributeValue(t *testing.T) {
	b := replaced(t, baseDoc(t), "<edXML:Subject>", `<edXML:Subject note="`+strings.Repeat("A", 100<<10)+`">`)
	refusedByParse(t, b, none, envelope.ErrMarkupTooLong, pMsg)
}

// TestHostile_LongBase64InSubject: generated. A payload-sized base64 run in
// Subject is skipped by the scanner like a payload, then refused where it is.
func TestHostile_LongBase64InSubject(t *testing.T) {
	b := replaced(t, baseDoc(t), baseSubject, "<edXML:Subject>"+strings.Repeat("QUJD", 25<<10)+"</edXML:Subject>")
	refusedByParse(t, b, none, envelope.ErrTextTooLong, pMsg+"/Subject")
}

// TestHostile_WhitespaceOnlyLongPayload: generated. 100 KB of white space as
// the payload is an empty payload, even though Parse skips it unread.
func TestHostile_WhitespaceOnlyLongPayload(t *testing.T) {
	b := replaced(t, baseDoc(t), basePayload, strings.Repeat(" \r\n\t", 25<<10))
	refusedByStrictOnly(t, b, envelope.ErrEmptyAttachment, pPayload)
}

// TestHostile_ManyLongPayloads: generated. Many long payloads parse in
// memory that does not grow with them, and each decodes as written.
func TestHostile_ManyLongPayloads(t *testing.T) {
	doc := baseDoc(t)
	long := strings.Repeat("QUJD", 20<<10) // 80 KB, longer than MaxText
	var refs, atts strings.Builder
	for i := range 8 {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		fmt.Fprintf(&refs, "<edXML:Reference><edXML:ContentId>cid:%s</edXML:ContentId><edXML:ContentType>application/pdf</edXML:ContentType><edXML:AttachmentName>f%d.pdf</edXML:AttachmentName></edXML:Reference>", id, i)
		fmt.Fprintf(&atts, "<Attachment><ContentId>cid:%s</ContentId><AttachmentName>f%d.pdf</AttachmentName><ContentType>application/pdf</ContentType><ContentTransferEncoded>\n%s\n</ContentTransferEncoded></Attachment>", id, i, long)
	}
	b := bytes.Replace(doc, doc[bytes.Index(doc, []byte("<edXML:Reference>")):bytes.Index(doc, []byte("</edXML:edXMLManifest>"))], []byte(refs.String()), 1)
	b = bytes.Replace(b, b[bytes.Index(b, []byte("<Attachment>")):bytes.Index(b, []byte("</AttachmentEncoded>"))], []byte(atts.String()), 1)
	p := accepted(t, b)
	eq(t, "attachments", len(p.Attachments), 8)
	eq(t, "payload 7", payloadOf(t, p, 7), bytes.Repeat([]byte("ABC"), 20<<10))
}

// ---- Regressions: bugs found while building this corpus ----

// TestBugExternalEntityReportedAsPlainDTD: the scanner passed a refused
// declaration on to encoding/xml, whose Directive token then reached the
// parser's catch-all ErrDTD first; a "]>" in an entity value ended the
// declaration early; and a declaration cut off by the end of input was
// reported as mere truncation. All three hid an external entity.
func TestBugExternalEntityReportedAsPlainDTD(t *testing.T) {
	for _, name := range []string{"45-xxe-system", "48-dtd-quoted-bracket", "49-dtd-truncated"} {
		_, err := envelope.Parse(hostile(t, name))
		checkErr(t, name, err, envelope.ErrExternalEntity, "")
	}
}

// TestBugWarningHidesErrorAtSamePath: Validate reported one problem per
// path, the first; when that was a deviation (a warning in lenient mode), the
// error found after it at the same path was dropped, and lenient validation
// passed packets without a To, a sender code, a status code or a document
// number.
func TestBugWarningHidesErrorAtSamePath(t *testing.T) {
	for _, name := range []string{"77-to-foreign-namespace", "78-organid-foreign-namespace", "79-status-code-zero", "80-code-as-text"} {
		if _, err := envelope.Lenient.Validate(parsed(t, hostile(t, name))); !errors.Is(err, envelope.ErrMissing) {
			t.Errorf("%s: lenient validation returned %v, want ErrMissing", name, err)
		}
	}
}

// TestBugSignatureInForeignNamespaceIgnored: a Signature outside the header
// in any namespace other than xmldsig, edXML or none was an unknown element
// (a warning in Lenient mode), and a second one in the header in such a
// namespace sat beside the real one unnoticed.
func TestBugSignatureInForeignNamespaceIgnored(t *testing.T) {
	stray := replaced(t, baseDoc(t), "<edXML:Subject>", `<Signature xmlns="urn:x-evil"><SignedInfo/></Signature><edXML:Subject>`)
	refusedByParse(t, stray, none, envelope.ErrUnexpected, pMsg+"/Signature")
	two := replaced(t, baseDoc(t), "</edXML:TraceHeaderList>", `</edXML:TraceHeaderList><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/><Signature xmlns="urn:x-evil"/>`)
	refusedByParse(t, two, none, envelope.ErrDuplicate, pHdr+"/Signature[2]")
}

// TestBugDuplicateAttributeAccepted: encoding/xml does not check attribute
// uniqueness, so <edXMLManifest version="1.0" version="2.0"> was accepted.
func TestBugDuplicateAttributeAccepted(t *testing.T) {
	ns := replaced(t, baseDoc(t), `<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">`,
		`<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016" xmlns:edXML="urn:x">`)
	refusedByParse(t, ns, none, envelope.ErrMalformed, pEnv)
}

// TestBugStatusWithoutCodeReadAsDocument: a status packet without
// StatusCode was read as a document and reported as missing To.
func TestBugStatusWithoutCodeReadAsDocument(t *testing.T) {
	p := parsed(t, hostile(t, "20-missing-statuscode"))
	eq(t, "kind", p.Kind(), envelope.KindStatus)
	empty := replaced(t, readFile(t, "testdata/base/status.edxml"), "<edXML:StatusCode>01</edXML:StatusCode>", "<edXML:StatusCode> </edXML:StatusCode>")
	refusedByBoth(t, empty, envelope.ErrMissing, pMsg+"/StatusCode")
}

// TestBugPathMemoryAmplification: every node kept its full path, so 30
// levels of 20 KB names made each of 300 leaves below them hold a 600 KB
// path: hundreds of MB from a 1.2 MB packet (gigabytes at larger sizes).
func TestBugPathMemoryAmplification(t *testing.T) {
	name := strings.Repeat("n", 20000)
	b := []byte(`<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">` + strings.Repeat("<"+name+">", 30) +
		strings.Repeat("<a/>", 300) + strings.Repeat("</"+name+">", 30) + "</edXML>")
	alloc := allocated(func() { envelope.Parse(b) })
	if max := uint64(16 * len(b)); alloc > max {
		t.Errorf("parsing %d bytes allocated %d bytes, more than %d", len(b), alloc, max)
	}
}

// TestBugNamespaceMemoryAmplification: the note for each unknown element
// quoted its namespace in full, so one 60 KB namespace declared once cost
// 60 KB per child element.
func TestBugNamespaceMemoryAmplification(t *testing.T) {
	ns := `<edXML:MessageHeader xmlns:x="urn:` + strings.Repeat("u", 60000) + `">`
	b := replaced(t, baseDoc(t), "<edXML:MessageHeader>", ns+strings.Repeat("<x:a/>", 2000))
	alloc := allocated(func() { envelope.Parse(b) })
	// Each element costs a node and a note of its own, about 1 KB.
	if max := uint64(16*len(b) + 2000<<10); alloc > max {
		t.Errorf("parsing %d bytes allocated %d bytes, more than %d", len(b), alloc, max)
	}
}

// TestBugTextPiecePerComment: each text run between comments became its own
// piece, so a payload written "QUJD<!---->QUJD<!---->…" kept a 40-byte
// piece (plus an allocation) per 4 bytes of text for the life of the packet.
func TestBugTextPiecePerComment(t *testing.T) {
	b := replaced(t, baseDoc(t), basePayload, strings.Repeat("QUJD<!---->", 10000))
	var p *envelope.Packet
	held := retained(func() { p = accepted(t, b) })
	if max := uint64(len(b)); held > max {
		t.Errorf("a packet parsed from %d bytes holds %d bytes, more than %d", len(b), held, max)
	}
	eq(t, "payload", payloadOf(t, p, 0), bytes.Repeat([]byte("ABC"), 10000))
}

// TestBugQuadraticSiblings: each element's index among same-named siblings
// was found by scanning all earlier siblings, quadratic in their number:
// 16 000 siblings with 500-byte names took seconds. Time must grow about
// linearly: 8 times the siblings, well under 64 times the time.
func TestBugQuadraticSiblings(t *testing.T) {
	gen := func(n int) []byte {
		return []byte(`<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">` + strings.Repeat("<"+strings.Repeat("s", 300)+"/>", n) + "</edXML>")
	}
	small, large := gen(2000), gen(16000)
	ts, tl := fastest(func() { envelope.Parse(small) }), fastest(func() { envelope.Parse(large) })
	if tl > 24*ts {
		t.Errorf("8 times the siblings took %.1f times as long (%v, %v)", float64(tl)/float64(ts), ts, tl)
	}
}

// allocated is how many bytes f allocates.
func allocated(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

// retained is how much more live heap there is after f than before. Two
// collections on each side empty the sync.Pools (the first moves their
// contents to a victim cache, the second frees it), so that the parser's
// pooled buffers, which a Get on another processor may have made anew,
// do not count as held by what f returns.
func retained(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m0)
	f()
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if m1.HeapAlloc < m0.HeapAlloc {
		return 0
	}
	return m1.HeapAlloc - m0.HeapAlloc
}

// fastest is the shortest of five runs of f.
func fastest(f func()) time.Duration {
	best := time.Duration(1<<63 - 1)
	for range 5 {
		runtime.GC()
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best
}
