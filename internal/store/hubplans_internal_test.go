package store

import (
	"strings"
	"testing"

	"github.com/edocgw/edocgw/envelope"
)

// TestDuplicatePlan: the one statement of both duplicate rules looks each
// up in its unique index, not by a scan of the documents.
func TestDuplicatePlan(t *testing.T) {
	s := newSQLite(t)
	p := queryPlan(t, s, dupBoth, []any{"000.00.00.G22", "id", 0, "1", "VPCP"})
	for _, index := range []string{"documents_dup_document_id", "documents_dup_number"} {
		if !strings.Contains(p, "SEARCH documents USING INDEX "+index) {
			t.Errorf("plan of the duplicate check:\n%s\nwant a search in %s", p, index)
		}
	}
	if strings.Contains(p, "SCAN documents") {
		t.Errorf("plan of the duplicate check scans the documents:\n%s", p)
	}
}

// TestStatusSendersPlan: a page's status lookup searches documents_ref.
func TestStatusSendersPlan(t *testing.T) {
	s := newSQLite(t)
	q, args, err := s.statusSendersQuery([]string{"A", "B"}, envelope.StatusArrived)
	if err != nil {
		t.Fatal(err)
	}
	if p := queryPlan(t, s, q, args); !strings.Contains(p, "SEARCH documents USING INDEX documents_ref (ref=?)") {
		t.Errorf("plan of StatusSenders:\n%s\nwant a search in documents_ref", p)
	}
}
