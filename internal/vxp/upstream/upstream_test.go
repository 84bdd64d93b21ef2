package upstream

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/internal/vxp"
	"github.com/edocgw/edocgw/routing"
)

const (
	systemID = "00.53.W00"
	secret   = "c2VjcmV0LW9mLXRoZS1wcm92aW5jZS1odWItMDEyMzQ1Ng=="
)

// axis is a fake national axis: it checks each request's HMAC as §11.1
// says, records the calls and answers from its fields.
type axis struct {
	t  *testing.T
	mu sync.Mutex
	// sendAnswer answers sendEdoc: the JSON envelope and HTTP status.
	sendAnswer func(body []byte) (int, string)
	sent       [][]byte          // sendEdoc bodies, CRLF stripped
	sentParams []vxp.Params      // their signed parameters
	inbox      map[string][]byte // docId → packet, listed until acked
	kinds      map[string]string // docId → messagetype
	acks       []string          // "docId status"
	badHMAC    int
}

func newAxis(t *testing.T) (*axis, *httptest.Server) {
	a := &axis{t: t, inbox: map[string][]byte{}, kinds: map[string]string{}}
	srv := httptest.NewTLSServer(a)
	t.Cleanup(srv.Close)
	return a, srv
}

func reply(w http.ResponseWriter, code int, s string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	io.WriteString(w, s)
}

func (a *axis) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	sign := r.Header.Get("XroadVnpt-sign-header")
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(sign))
	if r.Header.Get("XroadVnpt-systemid") != systemID || !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(strings.ToLower(r.Header.Get("XroadVnpt-hash-header")))) {
		a.badHMAC++
		reply(w, 200, `{"status":"FAIL","ErrorCode":"1003","ErrorDesc":"bad hmac"}`)
		return
	}
	p, err := vxp.ParseSignedHeader([]byte(sign))
	if err != nil {
		a.t.Errorf("sign-header: %v", err)
	}
	if ua := r.Header.Get("User-Agent"); ua != "JAVASDKAgent/1.0.0 XRoad/VPCP" {
		a.t.Errorf("User-Agent %q", ua)
	}
	body, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/adapter/sendEdoc":
		raw, ok := bytes.CutSuffix(body, []byte("\r\n"))
		sum := sha256.Sum256(raw)
		if !ok || p.Get("hash-file") != vxp.HashFileHex(sum[:]) || r.Header.Get("Content-Type") != "application/octet-stream" {
			a.t.Errorf("sendEdoc: body or hash-file not as the SDK sends them (%v, %q)", ok, p.Get("hash-file"))
		}
		a.sent = append(a.sent, raw)
		a.sentParams = append(a.sentParams, p)
		code, answer := a.sendAnswer(raw)
		reply(w, code, answer)
	case "/adapter/getReceivedEdocList":
		items := []map[string]string{}
		for id, k := range a.kinds {
			if k == p.Get("messagetype") {
				items = append(items, map[string]string{"docId": id, "messageType": k})
			}
		}
		b, _ := json.Marshal(items)
		reply(w, 200, `{"status":"OK","ErrorCode":"0","ErrorDesc":"Thanh cong","data":`+string(b)+`}`)
	case "/adapter/getEdoc":
		id := p.Get("docId")
		pkt, ok := a.inbox[id]
		if !ok {
			reply(w, 200, `{"status":"FAIL","ErrorCode":"3002","ErrorDesc":"not found","data":""}`)
			return
		}
		reply(w, 200, `{"status":"OK","ErrorCode":"0","ErrorDesc":"Thanh cong","data":"`+base64.StdEncoding.EncodeToString(pkt)+`"}`)
	case "/adapter/updateStatus":
		id := p.Get("docId")
		a.acks = append(a.acks, id+" "+p.Get("status"))
		delete(a.inbox, id)
		delete(a.kinds, id)
		reply(w, 200, `{"status":"OK","ErrorCode":"0","ErrorDesc":"Thanh cong"}`)
	default:
		reply(w, 404, `{"status":"FAIL","ErrorCode":"4040","ErrorDesc":"no method"}`)
	}
}

func testKey(t *testing.T) *vxp.SecretKey {
	k, err := vxp.NewSecretKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testPeer(t *testing.T, key *vxp.SecretKey, url string) routing.Peer {
	tok, err := SealSecret(key, systemID, secret)
	if err != nil {
		t.Fatal(err)
	}
	return routing.Peer{Name: "axis", Kind: routing.PeerVXP, URL: url + "/adapter/", SystemID: systemID, Token: tok}
}

func TestSealedSecret(t *testing.T) {
	key := testKey(t)
	p := testPeer(t, key, "https://axis.example")
	if strings.Contains(p.Token, secret) {
		t.Fatal("the token holds the secret in clear")
	}
	if got, err := openSecret(key, p); err != nil || got != secret {
		t.Fatalf("openSecret = %q, %v", got, err)
	}
	other, _ := vxp.NewSecretKey(bytes.Repeat([]byte{8}, 32))
	moved := p
	moved.SystemID = "vxp.saas.02"
	for name, c := range map[string]struct {
		key *vxp.SecretKey
		p   routing.Peer
	}{
		"another key":       {other, p},
		"another systemId":  {key, moved},
		"not sealed":        {key, routing.Peer{Name: "axis", SystemID: systemID, Token: secret}},
		"no key configured": {nil, p},
	} {
		if _, err := openSecret(c.key, c.p); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}

func TestForward(t *testing.T) {
	key := testKey(t)
	a, srv := newAxis(t)
	f := &Forwarder{Config{Key: key}}
	peer := testPeer(t, key, srv.URL)
	pkt := []byte("<edXML>a document</edXML>")
	doc := &routing.Document{ID: "01DOC", Kind: envelope.KindDocument, From: "000.00.01.H53", Digest: sha256.Sum256(pkt), Size: int64(len(pkt))}
	for _, c := range []struct {
		name      string
		kind      envelope.Kind
		status    int
		answer    string
		remote    string
		permanent bool
		fails     bool
	}{
		{"accepted", envelope.KindDocument, 200, `{"status":"OK","ErrorCode":"0","ErrorDesc":"Thanh cong","DocId":"68edb8c8c2dcb14db773ce44"}`, "68edb8c8c2dcb14db773ce44", false, false},
		{"a status packet", envelope.KindStatus, 200, `{"status":"OK","ErrorCode":0,"ErrorDesc":"Thanh cong","DocId":"s1"}`, "s1", false, false},
		{"had it already", envelope.KindDocument, 200, `{"status":"FAIL","ErrorCode":"2008","ErrorDesc":"dup","DocId":"first"}`, "first", false, false},
		{"invalid edXML", envelope.KindDocument, 200, `{"status":"FAIL","ErrorCode":"2004","ErrorDesc":"Goi tin edXML khong hop le","DocId":""}`, "", true, true},
		{"signature refused", envelope.KindDocument, 200, `{"status":"FAIL","ErrorCode":"2005","ErrorDesc":"x","DocId":""}`, "", true, true},
		{"unavailable", envelope.KindDocument, 200, `{"status":"FAIL","ErrorCode":"5000","ErrorDesc":"retry","DocId":""}`, "", false, true},
		{"an unknown code", envelope.KindDocument, 200, `{"status":"FAIL","ErrorCode":"-1","ErrorDesc":"?","DocId":""}`, "", false, true},
		{"HTTP 502, no JSON", envelope.KindDocument, 502, `<html>bad gateway</html>`, "", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			a.sendAnswer = func([]byte) (int, string) { return c.status, c.answer }
			d := *doc
			d.Kind = c.kind
			remote, err := f.Forward(context.Background(), srv.Client(), peer, &d, bytes.NewReader(pkt))
			if (err != nil) != c.fails || errors.Is(err, routing.ErrPermanent) != c.permanent || remote != c.remote {
				t.Fatalf("Forward = %q, %v; want %q, fails %v, permanent %v", remote, err, c.remote, c.fails, c.permanent)
			}
			last := a.sentParams[len(a.sentParams)-1]
			want := map[string]string{"from": "000.00.01.H53", "servicetype": "eDoc", "messagetype": map[bool]string{true: "status", false: "edoc"}[c.kind == envelope.KindStatus]}
			for k, v := range want {
				if last.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, last.Get(k), v)
				}
			}
			if !bytes.Equal(a.sent[len(a.sent)-1], pkt) {
				t.Error("the original was not sent unchanged")
			}
		})
	}
	// A wrong secret is not the packet's fault: retried.
	bad, _ := SealSecret(key, systemID, "not-the-secret")
	wrong := peer
	wrong.Token = bad
	if _, err := f.Forward(context.Background(), srv.Client(), wrong, doc, bytes.NewReader(pkt)); err == nil || errors.Is(err, routing.ErrPermanent) || a.badHMAC != 1 {
		t.Fatalf("wrong secret: %v (bad HMACs %d)", err, a.badHMAC)
	}
}

// hub is a fake hub: Accept answers by the packet's text.
type hub struct {
	mu       sync.Mutex
	accepted []string
	c        *http.Client
}

func (h *hub) PeerClient(routing.Peer) (*http.Client, error) { return h.c, nil }

func (h *hub) Accept(_ context.Context, p routing.Principal, body io.Reader, size int64) (*routing.Receipt, error) {
	b, _ := io.ReadAll(body)
	if int64(len(b)) != size || p.Role != routing.RoleHub || p.Peer != "axis" {
		return nil, fmt.Errorf("Accept(%+v, %d bytes of %d)", p, len(b), size)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch s := string(b); {
	case strings.HasPrefix(s, "dup"):
		return nil, &routing.DuplicateError{FirstID: "01FIRST", Key: "document-id"}
	case strings.HasPrefix(s, "bad"):
		return nil, fmt.Errorf("%w: no MessageHeader", routing.ErrInvalidPacket)
	case strings.HasPrefix(s, "down"):
		return nil, fmt.Errorf("%w: database", routing.ErrUnavailable)
	default:
		h.accepted = append(h.accepted, s)
		return &routing.Receipt{ID: "hub-" + s, From: agencyids.Code("000.00.00.G09")}, nil
	}
}

type store struct {
	mu     sync.Mutex
	peers  []routing.Peer
	events []*archive.Event
	leases map[string]string // name → holder; they do not expire here
}

func (s *store) Peers(context.Context) ([]routing.Peer, error) { return s.peers, nil }
func (s *store) AppendEvents(_ context.Context, e ...*archive.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e...)
	return nil
}

func (s *store) TryLease(_ context.Context, name, holder string, _ time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leases == nil {
		s.leases = map[string]string{}
	}
	if h, ok := s.leases[name]; ok && h != holder {
		return false, nil
	}
	s.leases[name] = holder
	return true, nil
}

func (s *store) ReleaseLease(_ context.Context, name, holder string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leases[name] == holder {
		delete(s.leases, name)
	}
	return nil
}

func TestPuller(t *testing.T) {
	key := testKey(t)
	a, srv := newAxis(t)
	for id, c := range map[string]struct{ kind, pkt string }{
		"d1": {"edoc", "doc one"}, "d2": {"edoc", "dup of a pulled one"}, "d3": {"edoc", "bad packet"},
		"d4": {"edoc", "down for now"}, "s1": {"status", "status 01"},
	} {
		a.inbox[id], a.kinds[id] = []byte(c.pkt), c.kind
	}
	h := &hub{c: srv.Client()}
	st := &store{peers: []routing.Peer{{Name: "neighbour", URL: "https://x.example"}, testPeer(t, key, srv.URL)}}
	p := &Puller{Config: Config{Key: key}, Hub: h, Store: st}
	err := p.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "d4") {
		t.Errorf("Poll = %v; want the unavailable one reported", err)
	}
	got := map[string]bool{}
	for _, ack := range a.acks {
		got[ack] = true
	}
	for _, want := range []string{"d1 done", "d2 done", "d3 fail", "s1 done"} {
		if !got[want] {
			t.Errorf("no ack %q in %v", want, a.acks)
		}
	}
	if len(a.acks) != 4 {
		t.Errorf("acks %v; d4 must stay listed", a.acks)
	}
	if _, listed := a.inbox["d4"]; !listed {
		t.Error("d4 was acknowledged though the hub could not take it")
	}
	if strings.Join(h.accepted, "|") != "doc one|status 01" {
		t.Errorf("accepted %q (documents before statuses)", h.accepted)
	}
	if len(st.events) != 2 || st.events[0].Kind != KindPulled || st.events[0].Document != "hub-doc one" || !strings.Contains(string(st.events[0].Details), `"remote":"d1"`) {
		t.Errorf("events %+v", st.events)
	}
	// The hub is back: the next poll takes d4 in.
	a.inbox["d4"] = []byte("now it goes")
	if err := p.Poll(context.Background()); err != nil {
		t.Fatalf("second Poll: %v", err)
	}
	if a.acks[len(a.acks)-1] != "d4 done" || len(a.inbox) != 0 {
		t.Errorf("acks %v, inbox %v", a.acks, a.inbox)
	}
}

// TestPullerLeavesALeasedPeer: while another process holds a peer's poll
// lease, a poll takes nothing from that peer; once it is released, the
// poll takes the peer's packets in and lets the lease go. Two pullers
// polling at once take each packet in once.
func TestPullerLeavesALeasedPeer(t *testing.T) {
	key := testKey(t)
	a, srv := newAxis(t)
	for i := range 12 {
		id := fmt.Sprintf("d%02d", i)
		a.inbox[id], a.kinds[id] = []byte("doc "+id), "edoc"
	}
	h := &hub{c: srv.Client()}
	peer := testPeer(t, key, srv.URL)
	st := &store{peers: []routing.Peer{peer}}
	ctx := context.Background()
	if held, _ := st.TryLease(ctx, leaseName(peer), "the other process", time.Minute); !held {
		t.Fatal("lease not taken")
	}
	p := &Puller{Config: Config{Key: key}, Hub: h, Store: st}
	if err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if len(h.accepted) != 0 || len(a.acks) != 0 {
		t.Fatalf("took %v, acked %v from a peer another process polls", h.accepted, a.acks)
	}
	if err := st.ReleaseLease(ctx, leaseName(peer), "the other process"); err != nil {
		t.Fatal(err)
	}
	q := &Puller{Config: Config{Key: key}, Hub: h, Store: st}
	var wg sync.WaitGroup
	for _, pl := range []*Puller{p, q} {
		wg.Go(func() {
			if err := pl.Poll(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for _, d := range h.accepted {
		seen[d]++
	}
	if len(h.accepted) != 12 || len(seen) != 12 || len(a.inbox) != 0 {
		t.Errorf("accepted %d packets (%d distinct) of 12; %d left at the axis", len(h.accepted), len(seen), len(a.inbox))
	}
	if len(st.leases) != 0 {
		t.Errorf("leases left held: %v", st.leases)
	}
}
