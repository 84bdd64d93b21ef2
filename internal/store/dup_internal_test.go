package store

import (
	"strings"
	"testing"
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
