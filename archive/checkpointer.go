package archive

import (
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ChainHead is what a Checkpointer needs of the audit log's store.
type ChainHead interface {
	// AuditHead returns the last event's Seq and Hash (0 and zero for an
	// empty chain).
	AuditHead(ctx context.Context) (int64, Digest, error)
	// LastCheckpoint returns the newest checkpoint, or ok false.
	LastCheckpoint(ctx context.Context) (c Checkpoint, ok bool, err error)
	// PutCheckpoint stores a signed checkpoint; one at a Seq already
	// checkpointed (by another process) is not an error.
	PutCheckpoint(ctx context.Context, c Checkpoint) error
}

// Timestamper obtains an RFC 3161 timestamp token over a SHA-256 digest
// (archive/tsa.Client).
type Timestamper interface {
	Timestamp(ctx context.Context, digest []byte) ([]byte, error)
}

// Checkpointer signs the chain's head at an interval, when it moved.
type Checkpointer struct {
	Store ChainHead
	Key   crypto.Signer // the hub key (RSA)
	// TSA, when set, timestamps each checkpoint's signature. A failure is
	// logged and the checkpoint kept without a token: the chain's integrity
	// does not depend on it.
	TSA      Timestamper
	Interval time.Duration // default 1 minute
	Now      func() time.Time
	Logger   *slog.Logger
}

// Checkpoint signs and stores the current head if it is past the last
// checkpoint; it returns the checkpoint (the last one when nothing moved).
func (c *Checkpointer) Checkpoint(ctx context.Context) (Checkpoint, error) {
	seq, head, err := c.Store.AuditHead(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("archive: checkpoint: %w", err)
	}
	last, ok, err := c.Store.LastCheckpoint(ctx)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("archive: checkpoint: %w", err)
	}
	if seq == 0 {
		return Checkpoint{}, ErrEmptyChain
	}
	if ok && last.Seq >= seq {
		return last, nil
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	cp := Checkpoint{Seq: seq, Head: head, At: now().UTC().Truncate(time.Microsecond)}
	if err := cp.Sign(c.Key); err != nil {
		return Checkpoint{}, fmt.Errorf("archive: sign checkpoint: %w", err)
	}
	if c.TSA != nil {
		d := sha256.Sum256(cp.Signature)
		tok, err := c.TSA.Timestamp(ctx, d[:])
		if err != nil {
			c.logger().Warn("audit checkpoint not timestamped", "seq", cp.Seq, "err", err)
		} else {
			cp.Timestamp = tok
		}
	}
	if err := c.Store.PutCheckpoint(ctx, cp); err != nil {
		return Checkpoint{}, fmt.Errorf("archive: store checkpoint: %w", err)
	}
	return cp, nil
}

// ErrEmptyChain: there is nothing to checkpoint yet.
var ErrEmptyChain = errors.New("archive: the audit chain is empty")

// Run checkpoints every Interval until ctx is done.
func (c *Checkpointer) Run(ctx context.Context) {
	every := c.Interval
	if every <= 0 {
		every = time.Minute
	}
	log := c.logger()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := c.Checkpoint(ctx); err != nil && !errors.Is(err, ErrEmptyChain) && ctx.Err() == nil {
			log.Warn("audit checkpoint", "err", err)
		}
	}
}

func (c *Checkpointer) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}
