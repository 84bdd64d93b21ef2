package envelope_test

import (
	"strings"
	"testing"

	"github.com/edocgw/edocgw/envelope"
)

// A value split by a comment reads differently to parsers that keep only
// the first text node; a signature does not cover comments. Strict refuses
// it, Lenient warns; either way the value read is the whole text.
func TestHostile_CommentSplitsAgencyCode(t *testing.T) {
	b := replaced(t, baseDoc(t), "<edXML:OrganId>000.00.00.G22</edXML:OrganId>", "<edXML:OrganId>000.00.00.<!-- -->G22</edXML:OrganId>")
	refusedByStrictOnly(t, b, envelope.ErrCommentInValue, pMsg+"/To/OrganId")
	if got := parsed(t, b).Document.To[0].OrganID; got != "000.00.00.G22" {
		t.Fatalf("To = %q", got)
	}
}

func TestHostile_ProcessingInstructionSplitsSubject(t *testing.T) {
	b := replaced(t, baseDoc(t), "<edXML:Subject>V/v", "<edXML:Subject>V<?x y?>/v")
	refusedByStrictOnly(t, b, envelope.ErrCommentInValue, pMsg+"/Subject")
}

// A comment before or after a value does not split it.
func TestCommentBesideValueIsFine(t *testing.T) {
	b := replaced(t, baseDoc(t), "<edXML:Subject>V/v", "<edXML:Subject><!-- trích yếu -->V/v")
	accepted(t, b)
}

func TestByteOrderMarkAccepted(t *testing.T) {
	accepted(t, append([]byte("\uFEFF"), baseDoc(t)...))
}

func TestHostile_PlusSignNumber(t *testing.T) {
	b := replaced(t, baseDoc(t), "<edXML:PageAmount>", "<edXML:PageAmount>+")
	refusedByBoth(t, b, envelope.ErrInvalidValue, pMsg+"/OtherInfo/PageAmount")
}

// Values longer than the scanner's 1 KiB payload threshold but made only of
// base64 characters are read back as ordinary text; one that turns out to
// hold other characters after the threshold is put back whole.
func TestLongBase64LookingValues(t *testing.T) {
	long := strings.Repeat("Cong van so 12 ve viec ket noi ", 70) // 2170 bytes, letters and spaces
	for _, tc := range []struct{ name, in, want string }{
		{"letters", long, strings.TrimSpace(long)},
		{"letters then punctuation", long + "(xem phụ lục)", long + "(xem phụ lục)"},
		{"line ends", "A\r\nB" + long + "C\rD", "A\nB" + long + "C\nD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := replaced(t, baseDoc(t), "<edXML:Subject>", "<edXML:Subject>"+tc.in+" ")
			p := parsed(t, b)
			if !strings.HasPrefix(p.Document.Subject, tc.want) {
				t.Fatalf("Subject = %.60q…, want %.60q…", p.Document.Subject, tc.want)
			}
		})
	}
}
