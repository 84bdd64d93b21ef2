package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestWALVFSCoalesces: a transaction's WAL frames reach the file in a few
// large writes instead of two per page, and they are all in the file when
// COMMIT returns: a copy of the files taken then, as a crash would leave
// them, opened without this VFS, holds every row. The large case passes
// walBufMax, so the buffer is also written in the middle of the
// transaction.
func TestWALVFSCoalesces(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rows, size int
	}{
		{"small", 1, 100},
		{"pages", 200, 2000},
		{"beyond the buffer", 1500, 4000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := newTableStore(t)
			rng := rand.New(rand.NewPCG(1, uint64(tc.rows)))
			blobs := make([][]byte, tc.rows)
			for i := range blobs {
				blobs[i] = make([]byte, tc.size)
				for j := range blobs[i] {
					blobs[i][j] = byte(rng.Uint32())
				}
			}
			writes, base := walVFS.writes.Load(), walVFS.baseWrites.Load()
			if err := s.InTx(ctx, func(tx Tx) error {
				if _, err := tx.Exec(ctx, "ALTER TABLE t ADD COLUMN b BLOB"); err != nil {
					return err
				}
				for i, b := range blobs {
					if _, err := tx.Exec(ctx, "INSERT INTO t (n, b) VALUES (?, ?)", i, b); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			writes, base = walVFS.writes.Load()-writes, walVFS.baseWrites.Load()-base
			walBytes := int64(tc.rows*tc.size) + 4096
			if maxBase := uint64(walBytes/walWriteMax) + 4; base > maxBase || writes < 2 {
				t.Errorf("SQLite wrote %d times, the file %d times; want at most %d", writes, base, maxBase)
			}
			t.Logf("SQLite wrote %d times, the file %d times", writes, base)

			// The files as they are now, SQLite's shared memory left out.
			dir := t.TempDir()
			src := s.wal.path[:len(s.wal.path)-len("-wal")]
			for _, suffix := range []string{"", "-wal"} {
				copyFile(t, src+suffix, filepath.Join(dir, "copy.db"+suffix))
			}
			db, err := sql.Open("sqlite", filepath.Join(dir, "copy.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rows, err := db.QueryContext(ctx, "SELECT n, b FROM t ORDER BY n")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			got := 0
			for rows.Next() {
				var n int
				var b []byte
				if err := rows.Scan(&n, &b); err != nil {
					t.Fatal(err)
				}
				if n != got || !bytes.Equal(b, blobs[n]) {
					t.Fatalf("row %d: n %d, %d bytes, not as written", got, n, len(b))
				}
				got++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if got != tc.rows {
				t.Errorf("the copy holds %d rows, want %d", got, tc.rows)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestWALVFSReadersSeeWholeCommits: while transactions of 50 rows each
// commit through the buffered WAL, reads on the store's read connections
// (which read the frames back from the file) always see whole
// transactions, each row's bytes as written.
func TestWALVFSReadersSeeWholeCommits(t *testing.T) {
	const batches, perBatch = 40, 50
	ctx := context.Background()
	s := newTableStore(t)
	if err := s.InTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, "ALTER TABLE t ADD COLUMN b BLOB")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	blob := func(n int) []byte { return bytes.Repeat([]byte{byte(n), byte(n >> 8)}, 600) }
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				seen := 0
				err := s.query(ctx, "SELECT n, b FROM t", nil, func(scan func(...any) error) error {
					var n int
					var b []byte
					if err := scan(&n, &b); err != nil {
						return err
					}
					if !bytes.Equal(b, blob(n)) {
						return fmt.Errorf("row %d: %d bytes, not as written", n, len(b))
					}
					seen++
					return nil
				})
				if err == nil && seen%perBatch != 0 {
					err = fmt.Errorf("a read saw %d rows, not whole transactions of %d", seen, perBatch)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range batches {
		if err := s.InTx(ctx, func(tx Tx) error {
			for j := range perBatch {
				n := i*perBatch + j
				if _, err := tx.Exec(ctx, "INSERT INTO t (n, b) VALUES (?, ?)", n, blob(n)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
