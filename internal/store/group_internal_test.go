package store

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
)

// TestGroupPanic: a transaction that panics in a shared batch panics in
// its own caller and leaves nothing; the others commit.
func TestGroupPanic(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "edocgw.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.wdb.ExecContext(ctx, "CREATE TABLE t (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	panicked := make([]any, 40)
	for i := range 40 {
		wg.Go(func() {
			defer func() { panicked[i] = recover() }()
			_ = s.writeTx(ctx, func(tx Tx) error {
				if _, err := tx.Exec(ctx, "INSERT INTO t (n) VALUES ($1)", i); err != nil {
					return err
				}
				if i%10 == 3 {
					panic("boom")
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, p := range panicked {
		if (i%10 == 3) != (p == "boom") {
			t.Errorf("transaction %d: panic %v", i, p)
		}
	}
	var n int
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE n % 10 <> 3").Scan(&n); err != nil || n != 36 {
		t.Fatalf("%d rows of the others, %v; want 36", n, err)
	}
	if err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE n % 10 = 3").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows of the panicking ones, %v; want 0", n, err)
	}
}
