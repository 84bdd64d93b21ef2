package fsblob

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A wait that begins while a sync runs is answered by the next sync, not
// by the running one; waits gathered meanwhile share that next sync; a
// sync's error reaches each of its waiters.
func TestSyncerRounds(t *testing.T) {
	started := make(chan int, 10)
	release := make(chan error)
	var syncs atomic.Int32
	s := &syncer{sync: func() error {
		started <- int(syncs.Add(1))
		return <-release
	}}
	first := make(chan error, 1)
	go func() { first <- s.wait() }()
	if n := <-started; n != 1 {
		t.Fatalf("sync %d", n)
	}
	// Three waits while sync 1 runs.
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- s.wait() }()
	}
	time.Sleep(200 * time.Millisecond) // let them join the gathering round
	release <- nil
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		t.Fatalf("a wait that began during sync 1 returned with it (%v)", err)
	case n := <-started:
		if n != 2 {
			t.Fatalf("sync %d", n)
		}
	}
	boom := errors.New("EIO")
	release <- boom
	wg.Wait()
	for range 3 {
		if err := <-errs; !errors.Is(err, boom) {
			t.Fatalf("waiter got %v, want the sync's error", err)
		}
	}
	if n := syncs.Load(); n != 2 {
		t.Fatalf("%d syncs for two rounds", n)
	}
	// Idle again: the next wait starts a sync of its own.
	go func() { <-started; release <- nil }()
	if err := s.wait(); err != nil || syncs.Load() != 3 {
		t.Fatalf("wait = %v after %d syncs", err, syncs.Load())
	}
}
