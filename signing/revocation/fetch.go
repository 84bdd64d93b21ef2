package revocation

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// fetch makes one request bounded by the configured timeout and returns a
// 200 response's body of at most limit bytes.
func (c *Checker) fetch(ctx context.Context, method, rawURL string, body []byte, contentType string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP status %s", ErrUnreachable, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: body of %d bytes exceeds %d", ErrBadResponse, resp.ContentLength, limit)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %v", ErrUnreachable, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: body exceeds %d bytes", ErrBadResponse, limit)
	}
	return data, nil
}

// flight lets concurrent callers with the same key share one call of fn.
// The call runs detached from any one caller's cancellation (fn bounds its
// own time), so a caller that gives up does not fail the others. A caller
// whose context is already done starts nothing.
type flight[V any] struct {
	mu    sync.Mutex
	calls map[string]*call[V]
}

type call[V any] struct {
	done    chan struct{}
	val     V
	err     error
	waiters int // callers sharing the call, for tests
}

func (f *flight[V]) do(ctx context.Context, key, source string, fn func(context.Context) (V, error)) (V, error) {
	if err := ctx.Err(); err != nil {
		var zero V
		return zero, fmt.Errorf("%s: %w: %w", source, ErrUnreachable, err)
	}
	f.mu.Lock()
	c, ok := f.calls[key]
	if !ok {
		if f.calls == nil {
			f.calls = map[string]*call[V]{}
		}
		c = &call[V]{done: make(chan struct{})}
		f.calls[key] = c
		detached := context.WithoutCancel(ctx)
		go func() {
			c.val, c.err = fn(detached)
			f.mu.Lock()
			delete(f.calls, key)
			f.mu.Unlock()
			close(c.done)
		}()
	}
	c.waiters++
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		var zero V
		return zero, fmt.Errorf("%s: %w: %w", source, ErrUnreachable, ctx.Err())
	}
}

// ttlCache maps keys to values until a deadline. It holds at most max
// entries: when full it drops expired ones, then the one expiring first.
type ttlCache[V any] struct {
	mu  sync.Mutex
	max int
	m   map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	val   V
	until time.Time
}

func newTTLCache[V any](max int) *ttlCache[V] {
	return &ttlCache[V]{max: max, m: map[string]ttlEntry[V]{}}
}

func (c *ttlCache[V]) get(key string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		var zero V
		return zero, false
	}
	if !now.Before(e.until) {
		delete(c.m, key)
		var zero V
		return zero, false
	}
	return e.val, true
}

func (c *ttlCache[V]) put(key string, val V, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			var first string
			var at time.Time
			for k, e := range c.m {
				if at.IsZero() || e.until.Before(at) {
					first, at = k, e.until
				}
			}
			delete(c.m, first)
		}
	}
	c.m[key] = ttlEntry[V]{val: val, until: until}
}

func (c *ttlCache[V]) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
