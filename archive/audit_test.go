package archive_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
)

func chain(t *testing.T, n int) []*archive.Event {
	t.Helper()
	start := time.Date(2026, 11, 22, 8, 0, 0, 123456789, time.FixedZone("ICT", 7*3600))
	var out []*archive.Event
	var prev *archive.Event
	for i := range n {
		e := &archive.Event{At: start.Add(time.Duration(i) * time.Second), Kind: "document.accepted", Actor: "000.00.00.G22",
			Agency: "000.00.00.G22", Document: fmt.Sprintf("doc-%d", i),
			Details: json.RawMessage(fmt.Sprintf(`{ "to": ["000.00.00.H53"], "size": %d, "a": 1.50 }`, i))}
		if err := e.Seal(prev); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
		prev = e
	}
	return out
}

func seq(es []*archive.Event) iter.Seq2[*archive.Event, error] {
	return func(yield func(*archive.Event, error) bool) {
		for _, e := range es {
			c := *e
			if !yield(&c, nil) {
				return
			}
		}
	}
}

func TestChainVerifiesClean(t *testing.T) {
	es := chain(t, 50)
	head, last, err := archive.VerifyChain(seq(es))
	if err != nil || last != 50 || head != es[49].Hash {
		t.Fatalf("head %s last %d err %v", head, last, err)
	}
	if string(es[0].Details) != `{"a":1.50,"size":0,"to":["000.00.00.H53"]}` {
		t.Fatalf("details not canonical: %s", es[0].Details)
	}
	if es[0].At.Location() != time.UTC || es[0].At.Nanosecond() != 123456000 {
		t.Fatalf("time not normalized: %v", es[0].At)
	}
}

func breakAt(t *testing.T, es []*archive.Event, wantSeq int64, want error, cps ...archive.Checkpoint) {
	t.Helper()
	_, _, err := archive.VerifyChain(seq(es), cps...)
	var ce *archive.ChainError
	if !errors.As(err, &ce) || !errors.Is(err, want) || ce.Seq != wantSeq {
		t.Fatalf("error %v, want %v at event %d", err, want, wantSeq)
	}
}

func TestChainEditedRow(t *testing.T) {
	es := chain(t, 20)
	es[9].Details = json.RawMessage(`{"a":1.50,"size":999,"to":["000.00.00.H53"]}`)
	breakAt(t, es, 10, archive.ErrChainHash)
}

func TestChainEditedRowWithRecomputedHash(t *testing.T) {
	es := chain(t, 20)
	es[9].Actor = "someone else"
	es[9].Hash = es[9].ComputeHash()
	breakAt(t, es, 11, archive.ErrChainLink)
}

func TestChainDeletedRow(t *testing.T) {
	es := chain(t, 20)
	breakAt(t, slices.Delete(es, 5, 6), 6, archive.ErrChainGap)
}

func TestChainInsertedRow(t *testing.T) {
	es := chain(t, 20)
	forged := *es[4]
	forged.Kind = "document.deleted"
	forged.Hash = forged.ComputeHash()
	breakAt(t, slices.Insert(es, 5, &forged), 6, archive.ErrChainGap)
}

func TestChainFirstEventMustStartTheChain(t *testing.T) {
	es := chain(t, 5)
	breakAt(t, es[1:], 1, archive.ErrChainGap)
}

func TestCheckpoints(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	es := chain(t, 30)
	cp := archive.Checkpoint{Seq: 20, Head: es[19].Hash, At: time.Now()}
	if err := cp.Sign(key); err != nil {
		t.Fatal(err)
	}
	if err := cp.Verify(&key.PublicKey); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	if _, _, err := archive.VerifyChain(seq(es), cp); err != nil {
		t.Fatalf("clean chain with checkpoint: %v", err)
	}
	// A signature altered, or a checkpoint moved, no longer verifies.
	bad := cp
	bad.Signature = slices.Clone(cp.Signature)
	bad.Signature[10] ^= 1
	if err := bad.Verify(&key.PublicKey); !errors.Is(err, archive.ErrCheckpoint) {
		t.Fatalf("altered signature: %v", err)
	}
	moved := cp
	moved.Seq = 21
	if err := moved.Verify(&key.PublicKey); !errors.Is(err, archive.ErrCheckpoint) {
		t.Fatalf("moved checkpoint: %v", err)
	}
	// An edit with the whole chain recomputed after it is caught at the
	// checkpoint.
	rewritten := chain(t, 30)
	rewritten[4].Actor = "intruder"
	for i := 4; i < len(rewritten); i++ {
		var prev *archive.Event
		if i > 0 {
			prev = rewritten[i-1]
		}
		if err := rewritten[i].Seal(prev); err != nil {
			t.Fatal(err)
		}
	}
	breakAt(t, rewritten, 20, archive.ErrNotCheckpointed, cp)
	// Events cut from the end, behind a checkpoint.
	breakAt(t, es[:15], 16, archive.ErrNotCheckpointed, cp)
}

func TestDetailsMustBeAnObject(t *testing.T) {
	for _, d := range []string{`[1]`, `"x"`, `{"a":1}{}`, `{`} {
		e := &archive.Event{Kind: "x", Details: json.RawMessage(d)}
		if err := e.Seal(nil); !errors.Is(err, archive.ErrBadDetails) {
			t.Errorf("details %s: %v", d, err)
		}
	}
}

// Sealed alone and then linked under a head, an event is what Seal under
// that head makes of it: the store seals before it reads the head.
func TestLinkAfterSeal(t *testing.T) {
	es := chain(t, 3)
	head := es[1]
	e := &archive.Event{At: head.At.Add(time.Nanosecond * 1500), Kind: "delivery.acked", Agency: "000.00.00.H53",
		Details: json.RawMessage(`{ "b": 2, "a": [1, 2.50] }`)}
	want := *e
	if err := want.Seal(head); err != nil {
		t.Fatal(err)
	}
	if err := e.Seal(nil); err != nil {
		t.Fatal(err)
	}
	e.Link(head)
	if e.Seq != head.Seq+1 || e.Prev != head.Hash || e.Hash != want.Hash || string(e.Details) != string(want.Details) {
		t.Errorf("linked %d %x %x %s; sealed %d %x %x %s", e.Seq, e.Prev, e.Hash, e.Details, want.Seq, want.Prev, want.Hash, want.Details)
	}
	if _, _, err := archive.VerifyChain(seq(append(es[:2:2], e))); err != nil {
		t.Errorf("chain with the linked event: %v", err)
	}
}

// BenchmarkSeal is the CPU cost of appending one event to the chain
// (canonical details and hash), before any storage.
func BenchmarkSeal(b *testing.B) {
	prev := &archive.Event{Kind: "x"}
	if err := prev.Seal(nil); err != nil {
		b.Fatal(err)
	}
	e := &archive.Event{At: time.Now(), Kind: "delivery.pulled", Actor: "000.00.00.H53", Agency: "000.00.00.H53",
		Document: "01JDQ8Z1", Delivery: "01JDQ8Z2", Details: json.RawMessage(`{"attempt":1,"route":"pull"}`)}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Seal(prev); err != nil {
			b.Fatal(err)
		}
	}
}
