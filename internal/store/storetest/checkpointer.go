package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/store"
)

// testCheckpointer runs archive.Checkpointer on the store: it signs the
// head when the chain moved, does nothing when it did not, and two
// checkpointers (two processes) racing on one head store one checkpoint.
func testCheckpointer(t *testing.T, open Open) {
	ctx := context.Background()
	s := open(t, store.Options{})
	cp := &archive.Checkpointer{Store: s, Key: hubKey(t), Now: func() time.Time { return t0 }}
	if _, err := cp.Checkpoint(ctx); !errors.Is(err, archive.ErrEmptyChain) {
		t.Fatalf("empty chain: %v", err)
	}
	if seq, _, err := s.AuditHead(ctx); err != nil || seq != 0 {
		t.Fatalf("AuditHead of an empty chain = %d, %v", seq, err)
	}
	Append(t, s, Event(1), Event(2), Event(3))
	c1, err := cp.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	head := VerifyAll(t, s, 3, c1)
	if c1.Seq != 3 || c1.Head != head {
		t.Fatalf("checkpoint %d %s, want 3 %s", c1.Seq, c1.Head, head)
	}
	if err := c1.Verify(hubKey(t).Public()); err != nil {
		t.Fatal(err)
	}
	again, err := cp.Checkpoint(ctx)
	if err != nil || again.Seq != 3 || !again.At.Equal(c1.At) {
		t.Fatalf("unchanged head checkpointed again: %+v %v", again, err)
	}
	Append(t, s, Event(4))
	c2, err := cp.Checkpoint(ctx)
	if err != nil || c2.Seq != 4 {
		t.Fatalf("second checkpoint %+v %v", c2, err)
	}
	// Another process's checkpoint at the same seq is not an error.
	if err := s.PutCheckpoint(ctx, c2); err != nil {
		t.Fatalf("PutCheckpoint twice: %v", err)
	}
	last, ok, err := s.LastCheckpoint(ctx)
	if err != nil || !ok || last.Seq != 4 {
		t.Fatalf("LastCheckpoint = %+v %v %v", last, ok, err)
	}
	for _, c := range []struct {
		seq  int64
		want int64
		ok   bool
	}{{1, 3, true}, {3, 3, true}, {4, 4, true}, {5, 0, false}} {
		got, ok, err := s.CheckpointAtOrAfter(ctx, c.seq)
		if err != nil || ok != c.ok || got.Seq != c.want {
			t.Errorf("CheckpointAtOrAfter(%d) = %d %v %v, want %d %v", c.seq, got.Seq, ok, err, c.want, c.ok)
		}
	}
	cps, err := s.Checkpoints(ctx)
	if err != nil || len(cps) != 2 {
		t.Fatalf("Checkpoints = %d %v", len(cps), err)
	}
	VerifyAll(t, s, 4, cps...)
}
