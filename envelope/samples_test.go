package envelope_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/sharedspec"
)

// TestRealSamples parses every real packet of the national-axis SDK and
// checks that lenient validation accepts it, with the facts each one carries.
func TestRealSamples(t *testing.T) {
	files := sharedspec.Samples(t)
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := envelope.Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			warns, err := envelope.Lenient.Validate(p)
			if err != nil {
				t.Fatalf("lenient Validate: %v", err)
			}
			for _, w := range warns {
				t.Logf("warning: %v", w)
			}
			if check, ok := sampleChecks[name]; ok {
				check(t, p, warns)
			} else {
				t.Errorf("no expectations written for sample %s", name)
			}
		})
	}
	for name := range sampleChecks {
		if !seen[name] {
			t.Errorf("sample %s expected but not found", name)
		}
	}
}

var sampleChecks = map[string]func(*testing.T, *envelope.Packet, []*envelope.Error){
	"sample-envelope-received-vxp-2019.xml": func(t *testing.T, p *envelope.Packet, warns []*envelope.Error) {
		doc := mustDoc(t, p)
		eq(t, "From", doc.From.OrganID, agencyids.Code("000.00.15.H51"))
		eq(t, "DocumentId", doc.DocumentID, "9fbfbad2-f1f8-4256-a2eb-50fb1061cddb")
		eq(t, "Code", doc.Code.String(), "1223412/PRO-TEST-CASE1")
		eq(t, "Date", doc.Promulgation.Date, envelope.MustDate("2019/01/17"))
		eq(t, "TypeName", doc.DocumentType.TypeName, "Thông tư")
		eq(t, "Signer", strings.HasSuffix(doc.Signer.FullName, "Minh Tuấn") || strings.Contains(doc.Signer.FullName, "Minh"), true)
		eq(t, "Priority", *doc.OtherInfo.Priority, envelope.PriorityNormal)
		eq(t, "Appendix", doc.OtherInfo.Appendixes[0], "Phụ lục")
		eq(t, "ResponseFor (empty element)", len(doc.ResponseFor), 0)
		eq(t, "trace hops", len(p.Trace), 2)
		eq(t, "hop 1", p.Trace[0].OrganID, agencyids.Code("01.02.G22"))
		eq(t, "hop 2 time", envelope.FormatTimestamp(p.Trace[1].Timestamp), "2019/05/17 18:16:33")
		eq(t, "attachments", len(p.Attachments), 1)
		zip, err := p.Attachments[0].IsZIP()
		if err != nil || !zip {
			t.Errorf("attachment IsZIP = %v, %v; want a ZIP", zip, err)
		}
		eq(t, "signature method", p.Signature.SignatureMethod, "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
		eq(t, "signature ns", p.Signature.Namespace, envelope.Namespace)
		eq(t, "certificates", len(p.Signature.Certificates), 1)
		wantWarning(t, warns, envelope.ErrAgencyCode, "TraceHeader/OrganId")
		wantWarning(t, warns, envelope.ErrInvalidValue, "Attachment/ContentType")
		wantWarning(t, warns, envelope.ErrDate, "DueDate")
		wantWarning(t, warns, envelope.ErrNamespace, "Signature")
	},
	"sample-envelope-replacement-vpcp-sdk.xml": func(t *testing.T, p *envelope.Packet, warns []*envelope.Error) {
		doc := mustDoc(t, p)
		eq(t, "To", len(doc.To), 3)
		eq(t, "DocumentId", doc.DocumentID, "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT")
		eq(t, "business", p.Business.DocType, envelope.BusinessReplacement)
		eq(t, "replacements", len(p.Business.Replacements), 2)
		eq(t, "replaced for", p.Business.Replacements[0].OrganIDs, []agencyids.Code{"000.00.00.H41", "000.00.00.H14"})
		eq(t, "staff", p.Business.Staff.Staff, "Nguyễn Thị Ngọc Trâm")
		eq(t, "transform", p.Signature.References[0].Transforms[1], "http://www.w3.org/TR/xml-exc-c14n#")
		wantWarning(t, warns, envelope.ErrEmptyAttachment, "ContentTransferEncoded")
	},
	"sample-envelope-revocation-vpcp-sdk.xml": func(t *testing.T, p *envelope.Packet, warns []*envelope.Error) {
		doc := mustDoc(t, p)
		eq(t, "business", p.Business.DocType, envelope.BusinessRevocation)
		eq(t, "reason", p.Business.Reason, "Thu hồi văn bản điện tử")
		eq(t, "ResponseFor", len(doc.ResponseFor), 1)
		eq(t, "ResponseFor id", doc.ResponseFor[0].DocumentID, "000.00.04.G14,2012/08/06,267/VPCP-TTĐT")
		eq(t, "ResponseFor code", doc.ResponseFor[0].Code, "267/VPCP-TTĐT")
	},
	"sample-envelope-update-vpcp-sdk.xml": func(t *testing.T, p *envelope.Packet, warns []*envelope.Error) {
		mustDoc(t, p)
		b := p.Business
		eq(t, "business", b.DocType, envelope.BusinessUpdate)
		eq(t, "updated id", b.DocumentID, "000.00.00.G22,2014/02/30,7806/VPCP-TTĐT")
		eq(t, "receivers", len(b.DocumentInfo.Receivers), 2)
		eq(t, "removed", b.DocumentInfo.Receivers[0], envelope.Receiver{OrganID: "000.00.00.H41", ReceiverType: 0})
		eq(t, "added", b.DocumentInfo.Receivers[1], envelope.Receiver{OrganID: "000.00.00.H14", ReceiverType: 1})
	},
	"sample-status-01-arrived-vpcp-sdk.xml": func(t *testing.T, p *envelope.Packet, warns []*envelope.Error) {
		s := mustStatus(t, p)
		eq(t, "code", s.Code, envelope.StatusArrived)
		eq(t, "name", s.Code.NameVI(), "Đã đến")
		eq(t, "from", s.From.OrganID, agencyids.Code("000.00.00.H41"))
		eq(t, "other party", p.Recipients(), []agencyids.Code{"000.00.00.G22"})
		eq(t, "document", p.DocumentID(), "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT")
		eq(t, "time", envelope.FormatTimestamp(s.Timestamp), "2018/09/28 17:25:11")
		if len(warns) != 0 {
			t.Errorf("status 01 sample is canonical, got warnings %v", warns)
		}
	},
	"sample-status-13-recall-request-vpcp-sdk.xml": func(t *testing.T, p *envelope.Packet, warns []*envelope.Error) {
		s := mustStatus(t, p)
		eq(t, "code", s.Code, envelope.StatusRecallRequest)
		if !s.Code.SentBySender() {
			t.Error("13 is sent by the sender")
		}
		eq(t, "staff", s.Staff.Department, "Phong hanh chinh")
		eq(t, "other party", p.Recipients(), []agencyids.Code{"000.00.00.H41"})
	},
}

// TestRealSampleAttachmentDecodes checks the one real payload streams out as
// the one-entry ZIP the SDK makes.
func TestRealSampleAttachmentDecodes(t *testing.T) {
	dir := sharedspec.Dir(t)
	b, err := os.ReadFile(filepath.Join(dir, "spec", "samples", "sample-envelope-received-vxp-2019.xml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := envelope.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Attachments[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 214 || !strings.HasPrefix(string(data), "PK\x03\x04") {
		t.Fatalf("payload: %d bytes starting %q", len(data), data[:min(4, len(data))])
	}
}

func mustDoc(t *testing.T, p *envelope.Packet) *envelope.DocumentHeader {
	t.Helper()
	if p.Kind() != envelope.KindDocument {
		t.Fatalf("kind = %v, want document", p.Kind())
	}
	return p.Document
}

func mustStatus(t *testing.T, p *envelope.Packet) *envelope.StatusHeader {
	t.Helper()
	if p.Kind() != envelope.KindStatus {
		t.Fatalf("kind = %v, want status", p.Kind())
	}
	return p.Status
}

func wantWarning(t *testing.T, warns []*envelope.Error, kind error, pathSuffix string) {
	t.Helper()
	for _, w := range warns {
		if errors.Is(w, kind) && strings.Contains(w.Path, pathSuffix) {
			return
		}
	}
	t.Errorf("no %v warning at …%s among %v", kind, pathSuffix, warns)
}
