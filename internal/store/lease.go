package store

import (
	"context"
	"fmt"
	"time"
)

// TryLease takes or renews the lease name for holder until ttl from the
// store's clock, and reports whether holder has it: it does if nobody
// held it, if holder did, or if the last holder's lease has expired. Two
// gateway processes on one database use leases so that one of them does a
// job at a time (the vxp upstream poll of a peer).
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, fmt.Errorf("%w: lease %q for %q, %v", ErrBadArgument, name, holder, ttl)
	}
	now := s.now()
	var n int64
	err := s.InTx(ctx, func(tx Tx) (err error) {
		n, err = tx.Exec(ctx, "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3)"+
			" ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until"+
			" WHERE leases.holder = excluded.holder OR leases.until <= $4",
			name, holder, s.timeArg(now.Add(ttl)), s.timeArg(now))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", name, err)
	}
	return n == 1, nil
}

// ReleaseLease ends holder's lease name; it does nothing if holder does
// not hold it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if err := s.InTx(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM leases WHERE name = $1 AND holder = $2", name, holder)
		return err
	}); err != nil {
		return fmt.Errorf("store: release lease %s: %w", name, err)
	}
	return nil
}
