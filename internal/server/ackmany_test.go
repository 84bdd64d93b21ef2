package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/edocgw/edocgw/internal/server"
	"github.com/edocgw/edocgw/routing"
)

// TestAckMany: POST /v1/inbox/ack answers each delivery in the order
// asked, a problem in the place of one that failed, and refuses a body
// that is not a list of 1–500 ids as a whole.
func TestAckMany(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, routing.RoleAgency, "POST", "/v1/inbox/ack", strings.NewReader(`{"deliveryIds": ["dl1", "gone", "dl2"]}`))
	if r.StatusCode != 200 {
		t.Fatalf("got %s", r)
	}
	got := decode[struct {
		Items []struct {
			DeliveryID string                `json:"deliveryId"`
			Delivery   *routing.DeliveryInfo `json:"delivery"`
			Problem    map[string]any        `json:"problem"`
		} `json:"items"`
	}](t, r)
	if len(got.Items) != 3 {
		t.Fatalf("%d items, want 3: %s", len(got.Items), r.body)
	}
	for i, want := range []string{"dl1", "gone", "dl2"} {
		it := got.Items[i]
		if it.DeliveryID != want {
			t.Errorf("item %d is %q, want %q", i, it.DeliveryID, want)
		}
		if want == "gone" {
			if it.Delivery != nil || it.Problem["type"] != server.ProblemTypeBase+"not-found" || it.Problem["status"] != float64(404) {
				t.Errorf("item %d: %+v, want a not-found problem", i, it)
			}
			continue
		}
		if it.Problem != nil || it.Delivery == nil || it.Delivery.ID != want || it.Delivery.State != routing.StateAcked {
			t.Errorf("item %d: %+v, want %s acked", i, it, want)
		}
	}

	refusesIDBodies(t, e, "/v1/inbox/ack", routing.MaxAckBatch)
}

// refusesIDBodies checks that path refuses as a whole (400 or 413) a body
// that is not a list of 1–max ids of up to 256 bytes.
func refusesIDBodies(t *testing.T, e *env, path string, max int) {
	t.Helper()
	many := make([]string, max+1)
	for i := range many {
		many[i] = fmt.Sprintf("%q", fmt.Sprint("dl", i))
	}
	for _, body := range []string{
		``, `[]`, `{"deliveryIds": []}`, `{"deliveryIds": "dl1"}`, `{"deliveryIds": [` + strings.Join(many, ",") + `]}`,
		`{"deliveryIds": ["` + strings.Repeat("x", 257) + `"]}`,
	} {
		r := e.do(t, routing.RoleAgency, "POST", path, strings.NewReader(body))
		if r.StatusCode != 400 && r.StatusCode != 413 {
			t.Errorf("%s, body %.40q: got %s, want 400", path, body, r)
		}
	}
}
