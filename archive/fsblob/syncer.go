package fsblob

import "sync"

// syncer makes many Puts durable with one sync of the file system: each
// Put that wrote and linked its file joins the round being gathered and
// waits; one goroutine at a time syncs, a round at a time. A round's sync
// starts after every member joined it, so after their writes.
type syncer struct {
	sync func() error

	mu      sync.Mutex
	next    *round // gathering; nil when none
	running bool
}

type round struct {
	done chan struct{}
	err  error
}

// wait returns once a sync that started after the call has finished.
func (s *syncer) wait() error {
	s.mu.Lock()
	if s.next == nil {
		s.next = &round{done: make(chan struct{})}
	}
	r := s.next
	if !s.running {
		s.running = true
		go s.run()
	}
	s.mu.Unlock()
	<-r.done
	return r.err
}

// run syncs round after round until none is gathering.
func (s *syncer) run() {
	for {
		s.mu.Lock()
		r := s.next
		s.next = nil
		if r == nil {
			s.running = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		r.err = s.sync()
		close(r.done)
	}
}
