package main_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/hubtest"
	"github.com/edocgw/edocgw/internal/testenv"
	"github.com/edocgw/edocgw/routing"
)

// webhook is a member's push endpoint: it counts each delivery id it gets.
type webhook struct {
	srv    *httptest.Server
	caFile string
	mu     sync.Mutex
	got    map[string]int // delivery id → times received
	docs   map[string]string
}

func newWebhook(t *testing.T) *webhook {
	t.Helper()
	w := &webhook{got: map[string]int{}, docs: map[string]string{}}
	w.srv = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(rw, err.Error(), 400)
			return
		}
		w.mu.Lock()
		w.got[r.Header.Get("Edocgw-Delivery-Id")]++
		w.docs[r.Header.Get("Edocgw-Delivery-Id")] = r.Header.Get("Edocgw-Document-Id")
		w.mu.Unlock()
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(w.srv.Close)
	w.caFile = filepath.Join(t.TempDir(), "webhook-ca.pem")
	if err := os.WriteFile(w.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *webhook) counts() (distinct, total int, docs map[string]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	docs = map[string]int{}
	for id, n := range w.got {
		distinct++
		total += n
		docs[w.docs[id]]++
	}
	return distinct, total, docs
}

// loadSetup registers a sender, a pull recipient and a push recipient on g.
type loadSetup struct {
	send, pull, push *party
	pki              *hubtest.PKI
	root             string
}

func newLoadSetup(t *testing.T) *loadSetup {
	t.Helper()
	pki, err := hubtest.NewPKI(time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	root, err := pki.WriteRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &loadSetup{pki: pki, root: root,
		send: newParty(t, pki, sender, "UBND tỉnh Tây Ninh"),
		pull: newParty(t, pki, dept1, "Sở Nội vụ"),
		push: newParty(t, pki, dept2, "Sở Tài chính")}
}

func (l *loadSetup) register(g *gateway, hook *webhook) {
	g.admin("agency", "add", string(sender), "--name", l.send.a.Name, "--cert", l.send.cert, "--token-file", l.send.tok, "--force")
	g.admin("agency", "add", string(dept1), "--name", l.pull.a.Name, "--cert", l.pull.cert, "--token-file", l.pull.tok, "--force")
	args := []string{"agency", "add", string(dept2), "--name", l.push.a.Name, "--cert", l.push.cert}
	if hook != nil {
		args = append(args, "--push", hook.srv.URL+"/edocgw")
	}
	g.admin(args...)
}

// documents signs n documents from the sender to the given recipients.
func (l *loadSetup) documents(t *testing.T, n int, to ...agencyids.Code) [][]byte {
	t.Helper()
	out := make([][]byte, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	per := (n + 3) / 4
	for w := 0; w < n; w += per {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				b, err := l.send.a.SignedDocument(hubtest.Doc{To: to, Number: fmt.Sprint(i + 1), Notation: "UBND-TAI",
					Attachment: []byte(strings.Repeat("nội dung văn bản ", 400))})
				if err != nil {
					errs <- err
					return
				}
				out[i] = b
			}
		}(w, min(w+per, n))
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	return out
}

// pullAll drains the pull recipient's inbox through the given gateways in
// turn, acking each delivery, and returns document id → deliveries seen.
func pullAll(t *testing.T, tok string, gws []*gateway, want int, within time.Duration) map[string]int {
	t.Helper()
	ctx := t.Context()
	seen := map[string]int{}
	byDelivery := map[string]string{}
	deadline := time.Now().Add(within)
	for i := 0; len(byDelivery) < want; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("pulled %d deliveries of %d", len(byDelivery), want)
		}
		g := gws[i%len(gws)]
		c := g.httpClient()
		st, body, err := do(ctx, c, "GET", g.url+"/v1/inbox?limit=500", tok, nil)
		if err != nil || st != 200 {
			t.Fatalf("inbox: %d %s %v", st, body, err)
		}
		page := decode[routing.InboxPage](t, body)
		if len(page.Items) == 0 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for _, it := range page.Items {
			if _, ok := byDelivery[it.DeliveryID]; !ok {
				byDelivery[it.DeliveryID] = it.DocumentID
				seen[it.DocumentID]++
			}
			if st, body, err := do(ctx, c, "POST", g.url+"/v1/deliveries/"+it.DeliveryID+"/ack", tok, nil); err != nil || st != 200 {
				t.Fatalf("ack: %d %s %v", st, body, err)
			}
		}
	}
	return seen
}

// TestTwoInstancesShareLoad runs two gateways on one PostgreSQL and one
// MinIO bucket and sends 2,000 documents through both: every document
// reaches its pull recipient once and its push recipient once.
func TestTwoInstancesShareLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED: -short")
	}
	minio := testenv.MinIO(t)
	b := production(t, minio, "edocgw-shared")
	l := newLoadSetup(t)
	hook := newWebhook(t)
	g1 := newGateway(t, b, l.root, "--push-ca", hook.caFile, "--retry-base", "200ms")
	g1.start()
	g2 := newGateway(t, b, l.root, "--push-ca", hook.caFile, "--retry-base", "200ms")
	g2.start()
	l.register(g1, hook)
	const n = 2000
	docs := l.documents(t, n, dept1, dept2)
	tok := readToken(t, l.send.tok)
	var accepted atomic.Int64
	ids := make([]string, n)
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				g := []*gateway{g1, g2}[i%2]
				st, body, err := do(t.Context(), g.httpClient(), "POST", g.url+"/v1/documents", tok, docs[i])
				if err != nil || st != http.StatusAccepted {
					errc <- fmt.Errorf("document %d via %s: %d %s %v", i, g.url, st, body, err)
					return
				}
				ids[i] = decode[routing.Receipt](t, body).ID
				accepted.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	seen := pullAll(t, readToken(t, l.pull.tok), []*gateway{g1, g2}, n, 2*time.Minute)
	for i, id := range ids {
		if seen[id] != 1 {
			t.Fatalf("document %d (%s) pulled %d times", i, id, seen[id])
		}
	}
	eventually(t, 2*time.Minute, func() error {
		if d, _, _ := hook.counts(); d < n {
			return fmt.Errorf("webhook got %d of %d deliveries", d, n)
		}
		return nil
	})
	distinct, total, perDoc := hook.counts()
	if distinct != n || total != n {
		t.Fatalf("webhook: %d distinct deliveries, %d requests, want %d each", distinct, total, n)
	}
	for _, id := range ids {
		if perDoc[id] != 1 {
			t.Fatalf("document %s pushed as %d deliveries", id, perDoc[id])
		}
	}
	// Both processes did push work.
	for _, g := range []*gateway{g1, g2} {
		st, body, err := do(t.Context(), g.httpClient(), "GET", g.url+"/metrics", "", nil)
		if err != nil || st != 200 || !strings.Contains(string(body), `edocgw_delivery_attempts_total{outcome="delivered",route="push"}`) {
			t.Errorf("%s pushed nothing: %d %v", g.url, st, err)
		}
	}
}

// TestKillLosesNothing kills the gateway (SIGKILL) while documents pour in;
// after a restart every document acknowledged with 202 is delivered exactly
// once to its pull recipient and once (by delivery id) to its push
// recipient.
func TestKillLosesNothing(t *testing.T) {
	l := newLoadSetup(t)
	hook := newWebhook(t)
	g := newGateway(t, embedded(), l.root, "--push-ca", hook.caFile, "--retry-base", "100ms", "--lease", "3s")
	g.start()
	l.register(g, hook)
	const n = 600
	docs := l.documents(t, n, dept1, dept2)
	tok := readToken(t, l.send.tok)
	var (
		mu   sync.Mutex
		acks = map[string]bool{}
	)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	var next atomic.Int64
	c := g.httpClient()
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				st, body, err := do(ctx, c, "POST", g.url+"/v1/documents", tok, docs[i])
				if err == nil && st == http.StatusAccepted {
					mu.Lock()
					acks[decode[routing.Receipt](t, body).ID] = true
					mu.Unlock()
				}
			}
		}()
	}
	eventually(t, 60*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acks) < n/3 {
			return fmt.Errorf("%d accepted", len(acks))
		}
		return nil
	})
	g.kill()
	cancel()
	wg.Wait()
	t.Logf("%d documents acknowledged before SIGKILL", len(acks))
	g.start()
	// Documents accepted but whose answer was lost may appear too; every
	// acknowledged one must, once.
	inbox := pullAllAvailable(t, g, readToken(t, l.pull.tok), len(acks))
	for id := range acks {
		if inbox[id] != 1 {
			t.Fatalf("acknowledged document %s delivered %d times to the pull recipient", id, inbox[id])
		}
	}
	for id, k := range inbox {
		if k != 1 {
			t.Fatalf("document %s delivered %d times", id, k)
		}
	}
	eventually(t, 60*time.Second, func() error {
		_, _, perDoc := hook.counts()
		for id := range acks {
			if perDoc[id] != 1 {
				return fmt.Errorf("acknowledged document %s pushed as %d deliveries", id, perDoc[id])
			}
		}
		return nil
	})
}

// pullAllAvailable drains the inbox until it is empty and at least min
// deliveries were seen.
func pullAllAvailable(t *testing.T, g *gateway, tok string, atLeast int) map[string]int {
	t.Helper()
	seen := pullAll(t, tok, []*gateway{g}, atLeast, time.Minute)
	// One more look: nothing left.
	st, body, err := do(t.Context(), g.httpClient(), "GET", g.url+"/v1/inbox?limit=500", tok, nil)
	if err != nil || st != 200 {
		t.Fatalf("inbox: %d %v", st, err)
	}
	for _, it := range decode[routing.InboxPage](t, body).Items {
		seen[it.DocumentID]++
	}
	return seen
}

// TestOutageAnswers503 cuts the gateway off from PostgreSQL, then from the
// object store: sending answers 503 and /readyz names the failure; when
// they return the gateway recovers by itself.
func TestOutageAnswers503(t *testing.T) {
	minio := testenv.MinIO(t)
	b := production(t, minio, "edocgw-outage")
	dbProxy := testenv.Proxy(t, "127.0.0.1:5432")
	s3Proxy := testenv.Proxy(t, minio.Endpoint)
	u, err := url.Parse(b.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = dbProxy.Addr
	b.dbURL = u.String()
	b.archiveURL = strings.Replace(b.archiveURL, minio.Endpoint, s3Proxy.Addr, 1)
	l := newLoadSetup(t)
	g := newGateway(t, b, l.root)
	g.start()
	l.register(g, nil)
	docs := l.documents(t, 6, dept1)
	tok := readToken(t, l.send.tok)
	c := g.httpClient()
	send := func(i int) (int, string) {
		st, body, err := do(t.Context(), c, "POST", g.url+"/v1/documents", tok, docs[i])
		if err != nil {
			t.Fatal(err)
		}
		return st, string(body)
	}
	ready := func() (int, string) {
		st, body, err := do(t.Context(), c, "GET", g.url+"/readyz", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return st, string(body)
	}
	if st, body := send(0); st != 202 {
		t.Fatalf("healthy send: %d %s", st, body)
	}
	for i, cut := range []struct {
		name  string
		proxy *testenv.TCPProxy
	}{{"database", dbProxy}, {"archive", s3Proxy}} {
		cut.proxy.Cut()
		if st, body := send(1 + 2*i); st != 503 || !strings.Contains(body, "unavailable") {
			t.Fatalf("%s down: send answered %d %s", cut.name, st, body)
		}
		if st, body := ready(); st != 503 || !strings.Contains(body, cut.name) {
			t.Fatalf("%s down: /readyz %d %s", cut.name, st, body)
		}
		cut.proxy.Restore(t)
		eventually(t, 60*time.Second, func() error {
			if st, body := ready(); st != 200 {
				return fmt.Errorf("%s back: /readyz %d %s", cut.name, st, body)
			}
			return nil
		})
		if st, body := send(2 + 2*i); st != 202 {
			t.Fatalf("%s back: send %d %s", cut.name, st, body)
		}
	}
	// What was refused left nothing; what was accepted is delivered.
	seen := pullAll(t, readToken(t, l.pull.tok), []*gateway{g}, 3, 30*time.Second)
	if len(seen) != 3 {
		t.Fatalf("recipient has %d documents, want 3", len(seen))
	}
}
