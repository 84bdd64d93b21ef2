package routing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/routing"
)

var adminP = routing.Principal{Role: routing.RoleAdmin, Name: "quantri", Via: "console"}

// lastEvent returns the newest audit event of kind.
func (e *env) lastEvent(kind string) *archive.Event {
	e.t.Helper()
	ev, err := e.store.LastAuditEvent(context.Background(), kind)
	if err != nil {
		e.t.Fatalf("last %s: %v", kind, err)
	}
	return ev
}

// TestResendDeadLetter: a push whose endpoint refuses for good is dead;
// once the endpoint works, the sender's clerk resends it and it is
// delivered, the trace showing who requeued it.
func TestResendDeadLetter(t *testing.T) {
	fixturePKI(t)
	var refuse atomic.Bool
	refuse.Store(true)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse.Load() {
			http.Error(w, "no such mailbox", http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	e := newEnv(t, srv.URL, func(o *routing.Options) { o.Transport = srv.Client().Transport })
	stop := e.runWorker()
	defer stop()
	ctx := context.Background()
	rc := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h53, h41}}))
	del := recipient(t, e.trace(agencyP(g22), rc.ID), h53).DeliveryID
	pull := recipient(t, e.trace(agencyP(g22), rc.ID), h41).DeliveryID
	waitState(t, e, del, routing.StateDead)

	refusals := []struct {
		name string
		p    routing.Principal
		id   string
		want error
	}{
		{"auditor", auditorP, del, routing.ErrForbidden},
		{"hub", routing.Principal{Role: routing.RoleHub, Peer: "national"}, del, routing.ErrForbidden},
		{"a recipient", agencyP(h41), pull, routing.ErrForbidden},
		{"another agency", agencyP(h14), del, routing.ErrNotFound},
		{"no such delivery", agencyP(g22), "01ZZZZZZZZZZZZZZZZZZZZZZZZ", routing.ErrNotFound},
		{"not an id", agencyP(g22), "../" + del, routing.ErrNotFound},
		{"not dead", agencyP(g22), pull, routing.ErrStateConflict},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.hub.Resend(ctx, tc.p, tc.id, "clerk:lan"); !errors.Is(err, tc.want) {
				t.Fatalf("Resend = %v, want %v", err, tc.want)
			}
		})
	}
	if ev := e.lastEvent("auth.refused"); ev.Actor != "agency:"+string(h14) || !strings.Contains(string(ev.Details), `"request":"resend"`) {
		t.Fatalf("the refusal is not audited: %+v", ev)
	}

	refuse.Store(false)
	info, err := e.hub.Resend(ctx, agencyP(g22), del, "clerk:lan")
	if err != nil {
		t.Fatal(err)
	}
	if info.State != routing.StateQueued || info.Route != routing.RoutePush || info.Attempts != 0 || info.LastError != "" {
		t.Fatalf("resent: %+v", info)
	}
	waitState(t, e, del, routing.StateDelivered)
	r := recipient(t, e.trace(agencyP(g22), rc.ID), h53)
	if got, want := steps(r), []string{"queued", "dead", "requeued", "pushed"}; !slices.Equal(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	if s := r.Steps[2]; s.Actor != "clerk:lan" || s.Detail != "route push" {
		t.Fatalf("requeued step %+v", s)
	}
	ev := e.lastEvent("delivery.requeued")
	var det map[string]any
	if err := json.Unmarshal(ev.Details, &det); err != nil || det["as"] != "agency:"+string(g22) || det["previousAttempts"] != 1.0 ||
		!strings.Contains(det["previousError"].(string), "404") {
		t.Fatalf("requeued event %s", ev.Details)
	}
}

// TestResendReplans: a recipient with no route is dead at once; resent
// before an admin fixes that it stays dead, after it goes by the new route.
func TestResendReplans(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	rc := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41, g17}}))
	del := recipient(t, e.trace(agencyP(g22), rc.ID), g17)
	if del.State != routing.StateDead {
		t.Fatalf("g17: %s", del.State)
	}
	if _, err := e.hub.Resend(ctx, adminP, del.DeliveryID, "admin:quantri"); !errors.Is(err, routing.ErrNoRoute) {
		t.Fatalf("resend without a route: %v", err)
	}
	if d, _ := e.store.Delivery(ctx, del.DeliveryID); d.State != routing.StateDead {
		t.Fatalf("a failed resend changed the delivery: %+v", d)
	}
	if err := e.store.PutMember(ctx, routing.Member{Code: g17, Mode: routing.ModePull}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.hub.Resend(ctx, adminP, del.DeliveryID, "admin:quantri"); err != nil {
		t.Fatalf("resend with a route: %v", err)
	}
	if in := e.inbox(g17); len(in) != 1 || in[0].DeliveryID != del.DeliveryID {
		t.Fatalf("g17's inbox %+v", in)
	}
	if got := steps(recipient(t, e.trace(agencyP(g22), rc.ID), g17)); !slices.Equal(got, []string{"dead", "requeued"}) {
		t.Fatalf("steps %v", got)
	}
	if ev := e.lastEvent("delivery.requeued"); ev.Actor != "admin:quantri" {
		t.Fatalf("actor %s", ev.Actor)
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	rc := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41, h14, g17}}))
	tr := e.trace(agencyP(g22), rc.ID)
	queued, pulled, dead := recipient(t, tr, h41).DeliveryID, recipient(t, tr, h14).DeliveryID, recipient(t, tr, g17).DeliveryID
	e.fetch(h14, pulled)

	refusals := []struct {
		name   string
		p      routing.Principal
		id     string
		reason string
		want   error
	}{
		{"no reason", agencyP(g22), queued, "  ", routing.ErrBadRequest},
		{"a long reason", agencyP(g22), queued, strings.Repeat("x", routing.MaxReason+1), routing.ErrBadRequest},
		{"auditor", auditorP, queued, "sai", routing.ErrForbidden},
		{"the recipient", agencyP(h41), queued, "sai", routing.ErrForbidden},
		{"another agency", agencyP(h53), queued, "sai", routing.ErrNotFound},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.hub.Cancel(ctx, tc.p, tc.id, "clerk:lan", tc.reason); !errors.Is(err, tc.want) {
				t.Fatalf("Cancel = %v, want %v", err, tc.want)
			}
		})
	}
	for _, id := range []string{queued, pulled, dead} {
		info, err := e.hub.Cancel(ctx, agencyP(g22), id, "clerk:lan", "gửi nhầm nơi nhận")
		if err != nil || info.State != routing.StateCancelled {
			t.Fatalf("cancel %s: %+v, %v", id, info, err)
		}
	}
	if _, err := e.hub.Cancel(ctx, agencyP(g22), queued, "clerk:lan", "lần nữa"); !errors.Is(err, routing.ErrStateConflict) {
		t.Fatalf("cancel twice: %v", err)
	}
	if in := e.inbox(h41); len(in) != 0 {
		t.Fatalf("a cancelled delivery in the inbox: %+v", in)
	}
	if _, err := e.hub.Ack(ctx, agencyP(h14), pulled); !errors.Is(err, routing.ErrStateConflict) {
		t.Fatalf("ack of a cancelled delivery: %v", err)
	}
	r := recipient(t, e.trace(agencyP(g22), rc.ID), h14)
	last := r.Steps[len(r.Steps)-1]
	if r.State != routing.StateCancelled || last.Step != "cancelled" || last.Actor != "clerk:lan" || last.Detail != "gửi nhầm nơi nhận" {
		t.Fatalf("trace %s %+v", r.State, last)
	}
	// Acked is done: nothing to cancel.
	rc2 := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Number: "2"}))
	d2 := recipient(t, e.trace(agencyP(g22), rc2.ID), h41).DeliveryID
	if _, err := e.hub.Ack(ctx, agencyP(h41), d2); err != nil {
		t.Fatal(err)
	}
	if _, err := e.hub.Cancel(ctx, adminP, d2, "admin:quantri", "muộn"); !errors.Is(err, routing.ErrStateConflict) {
		t.Fatalf("cancel acked: %v", err)
	}
}

func TestRecordAndVerifyAudit(t *testing.T) {
	fixturePKI(t)
	hubAgency := ags[g17]
	e := newEnv(t, "", func(o *routing.Options) { o.HubKey, o.HubCert = hubAgency.Leaf.Key, hubAgency.Leaf.Cert })
	ctx := context.Background()
	rc := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41, h14}}))
	cp := &archive.Checkpointer{Store: e.store, Key: hubAgency.Leaf.Key}
	if _, err := cp.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}

	if _, err := e.hub.Record(ctx, agencyP(g22), rc.ID); !errors.Is(err, routing.ErrForbidden) {
		t.Fatalf("an agency reads the record: %v", err)
	}
	rec, err := e.hub.Record(ctx, auditorP, rc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Document.ID != rc.ID || len(rec.Deliveries) != 2 || len(rec.Events) < 4 || rec.Verification == nil ||
		!rec.Verification.Reverified.Valid || rec.Verification.Digest != rc.Digest || len(rec.Trace.Recipients) != 2 {
		t.Fatalf("record %+v", rec)
	}
	if ev := e.lastEvent("audit.read"); ev.Document != rc.ID || ev.Actor != auditorP.Actor() {
		t.Fatalf("the read is not audited: %+v", ev)
	}

	if _, err := e.hub.LastVerification(ctx, auditorP); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("no verification yet: %v", err)
	}
	for _, p := range []routing.Principal{agencyP(g22), adminP} {
		if _, err := e.hub.VerifyAudit(ctx, p, true); !errors.Is(err, routing.ErrForbidden) {
			t.Fatalf("%s verifies: %v", p.Actor(), err)
		}
	}
	v, err := e.hub.VerifyAudit(ctx, auditorP, true)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.Checkpoints != 1 || v.Originals != 1 || !v.OriginalsChecked || v.Events < 6 || v.Problem != "" || v.By != auditorP.Actor() {
		t.Fatalf("verification %+v", v)
	}
	last, err := e.hub.LastVerification(ctx, auditorP)
	if err != nil || last.Events != v.Events || last.Head != v.Head || !last.At.Equal(v.At) {
		t.Fatalf("last verification %+v, %v\nwant %+v", last, err, v)
	}

	// An original altered on disk fails the re-hash; the chain alone still holds.
	h := rc.Digest.String()
	path := filepath.Join(e.blobs, "sha256", h[0:2], h[2:4], h) // fsblob's layout
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("<edXML>altered</edXML>"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err = e.hub.VerifyAudit(ctx, auditorP, true)
	if err != nil {
		t.Fatal(err)
	}
	if v.OK || !slices.Equal(v.BadOriginals, []string{rc.ID}) || !strings.Contains(v.Problem, rc.ID) {
		t.Fatalf("altered original: %+v", v)
	}
	if v, err = e.hub.VerifyAudit(ctx, auditorP, false); err != nil || !v.OK || v.OriginalsChecked {
		t.Fatalf("chain only: %+v, %v", v, err)
	}
}

func TestAttachments(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	pdf := []byte("%PDF-1.7 công văn số 12")
	rc := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h41}, Attachment: pdf}))
	for _, p := range []routing.Principal{agencyP(g22), agencyP(h41), auditorP} {
		as, err := e.hub.Attachments(ctx, p, rc.ID)
		if err != nil || len(as) != 1 || as[0].Name != "van-ban.pdf" || as[0].ContentType != "application/pdf" || as[0].Index != 0 {
			t.Fatalf("%s: attachments %+v, %v", p.Actor(), as, err)
		}
	}
	if _, err := e.hub.Attachments(ctx, agencyP(h14), rc.ID); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("another agency lists: %v", err)
	}
	if _, _, err := e.hub.OpenAttachment(ctx, agencyP(h14), rc.ID, 0); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("another agency opens: %v", err)
	}
	if _, _, err := e.hub.OpenAttachment(ctx, agencyP(h41), rc.ID, 1); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("attachment 1 of 1: %v", err)
	}
	info, r, err := e.hub.OpenAttachment(ctx, agencyP(h41), rc.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, pdf) || info.Name != "van-ban.pdf" {
		t.Fatalf("attachment %q, %v (%+v)", got, err, info)
	}
	if ev := e.lastEvent("document.read"); ev.Actor != "agency:"+string(h41) || ev.Document != rc.ID || !strings.Contains(string(ev.Details), `"attachment":0`) {
		t.Fatalf("the read is not audited: %+v", ev)
	}
}

// A delivery resent after its retry horizon passed gets a new horizon: a
// transient failure after the resend is retried, not dead at once.
func TestResendRestartsHorizon(t *testing.T) {
	fixturePKI(t)
	var mode atomic.Int32 // 0: 502, 1: 502 once more, then 204
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mode.Load() == 0 || mode.CompareAndSwap(1, 2) {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	e := newEnv(t, srv.URL, func(o *routing.Options) {
		o.Transport = srv.Client().Transport
		o.DeadAfter = time.Hour
		o.Now = func() time.Time { return time.Unix(0, now.Load()) }
	})
	rc := e.accept(agencyP(g22), e.signed(g22, hubtest.Doc{To: []agencyids.Code{h53}}))
	del := rc.Recipients[0].DeliveryID
	now.Add(int64(2 * time.Hour)) // past the horizon: the first failure is final
	stop := e.runWorker()
	defer stop()
	waitState(t, e, del, routing.StateDead)
	mode.Store(1)
	if _, err := e.hub.Resend(context.Background(), agencyP(g22), del, "clerk:lan"); err != nil {
		t.Fatal(err)
	}
	// The attempt after the resend fails: queued again, not dead.
	deadline := time.Now().Add(20 * time.Second)
	for !slices.Contains(steps(recipient(t, e.trace(agencyP(g22), rc.ID), h53)), "attempt-failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no failed attempt after the resend: %v", steps(recipient(t, e.trace(agencyP(g22), rc.ID), h53)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	now.Add(int64(time.Minute)) // the retry is due
	e.hub.Wake()
	waitState(t, e, del, routing.StateDelivered)
	r := recipient(t, e.trace(agencyP(g22), rc.ID), h53)
	if got, want := steps(r), []string{"queued", "dead", "requeued", "attempt-failed", "pushed"}; !slices.Equal(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
}
