package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/edocgw/edocgw/archive"
)

func TestReader(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000) // 10,000 bytes
	tests := []struct {
		name    string
		max     int64
		wantErr error
	}{
		{"no limit", 0, nil},
		{"limit above", 10_001, nil},
		{"limit exact", 10_000, nil},
		{"limit one below", 9_999, archive.ErrTooLarge},
		{"limit far below", 10, archive.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &counting{r: iotest.HalfReader(bytes.NewReader(data))}
			r := New(context.Background(), src, tt.max)
			got, err := io.ReadAll(r)
			if !errors.Is(err, tt.wantErr) || !errors.Is(r.Err(), tt.wantErr) {
				t.Fatalf("ReadAll: %v (Err %v), want %v", err, r.Err(), tt.wantErr)
			}
			if tt.wantErr != nil {
				if src.n > tt.max+1 {
					t.Errorf("read %d bytes from the source past a limit of %d", src.n, tt.max)
				}
				return
			}
			d, n := r.Sum()
			if !bytes.Equal(got, data) || d != archive.Sum(data) || n != int64(len(data)) {
				t.Errorf("passed %d bytes, Sum %s, %d; want the input, %s, %d", len(got), d, n, archive.Sum(data), len(data))
			}
		})
	}
}

func TestReaderContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := New(ctx, strings.NewReader("abcdef"), 0)
	if _, err := r.Read(make([]byte, 3)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Read(make([]byte, 3)); !errors.Is(err, context.Canceled) || !errors.Is(r.Err(), context.Canceled) {
		t.Errorf("Read after cancel: %v (Err %v), want context.Canceled", err, r.Err())
	}
}

func TestReaderSourceError(t *testing.T) {
	boom := errors.New("connection reset")
	r := New(context.Background(), io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)), 0)
	if _, err := io.ReadAll(r); !errors.Is(err, boom) || !errors.Is(r.Err(), boom) {
		t.Errorf("ReadAll: %v (Err %v), want the source's error", err, r.Err())
	}
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, boom) {
		t.Errorf("Read after an error: %v, want it again", err)
	}
}

type counting struct {
	r io.Reader
	n int64
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
