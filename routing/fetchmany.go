package routing

import (
	"context"
	"errors"
	"fmt"

	"github.com/edocgw/edocgw/archive"
)

// Limits of one FetchMany.
const (
	// MaxFetchBatch is the most deliveries one FetchMany opens.
	MaxFetchBatch = 100
	// MaxFetchBytes bounds the originals of one FetchMany: a delivery
	// whose original would take the total past it is left for a later
	// request (ErrTooLarge), unless it is the first fetched.
	MaxFetchBytes = 64 << 20
)

// maxFetchBytes is MaxFetchBytes; tests lower it.
var maxFetchBytes int64 = MaxFetchBytes

// FetchResult is one delivery's outcome in FetchMany: Info and Blob (the
// original, which the caller closes) when fetched, else Err.
type FetchResult struct {
	ID   string
	Info *DeliveryInfo
	Blob archive.Blob
	Err  error
}

// FetchMany opens the originals of the deliveries ids of the caller and
// records the accesses as FetchDelivery does each, in one read and one
// write transaction (two when some were pulled before), and returns the
// outcomes in the order of ids. A DMS that pulls a page of its inbox this
// way waits for one commit instead of one per delivery. Only an error that
// concerns them all (role, size, repeated ids, the database) is returned
// as such; then no blob is left open.
func (h *Hub) FetchMany(ctx context.Context, p Principal, ids []string) ([]FetchResult, error) {
	if err := checkBatch(p, ids, MaxFetchBatch); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return nil, fmt.Errorf("%w: delivery %q named twice", ErrBadRequest, id)
		}
		seen[id] = true
	}
	ba, ok := h.o.Store.(batchAcker)
	if !ok {
		out := make([]FetchResult, len(ids))
		for i, id := range ids {
			out[i].ID = id
			out[i].Info, out[i].Blob, out[i].Err = h.FetchDelivery(ctx, p, id)
		}
		return out, nil
	}
	found, bad, err := h.readBatch(ctx, p, ba, ids)
	if err != nil {
		return nil, err
	}
	return h.fetchFound(ctx, p, ba, ids, found, bad)
}

// FetchNext is FetchMany for the first limit deliveries of the caller's
// inbox, those Inbox lists first: a DMS takes its next page, originals
// and all, in one request and one read, not a listing and then a fetch.
// An empty inbox gives no results and no error.
func (h *Hub) FetchNext(ctx context.Context, p Principal, limit int) ([]FetchResult, error) {
	if p.Role != RoleAgency {
		return nil, fmt.Errorf("%w: only an agency has an inbox", ErrForbidden)
	}
	if limit <= 0 || limit > MaxFetchBatch {
		return nil, fmt.Errorf("%w: limit %d, 1–%d", ErrBadRequest, limit, MaxFetchBatch)
	}
	items, err := h.o.Store.Inbox(ctx, p.Agency, "", limit)
	if err != nil {
		return nil, unavailable("database", err)
	}
	if len(items) == 0 {
		return nil, nil
	}
	ids := make([]string, len(items))
	found := make(map[string]InboxItem, len(items))
	for i, it := range items {
		ids[i] = it.Delivery.ID
		found[ids[i]] = it
	}
	ba, ok := h.o.Store.(batchAcker)
	if !ok {
		return h.FetchMany(ctx, p, ids)
	}
	// Inbox reads only the caller's own deliveries: none is refused.
	return h.fetchFound(ctx, p, ba, ids, found, make([]error, len(ids)))
}

// fetchFound is FetchMany once the deliveries of ids are read: found
// holds each, bad the refusal of those that are not the caller's.
func (h *Hub) fetchFound(ctx context.Context, p Principal, ba batchAcker, ids []string, found map[string]InboxItem, bad []error) ([]FetchResult, error) {
	out := make([]FetchResult, len(ids))
	for i, id := range ids {
		out[i].ID, out[i].Err = id, bad[i]
	}
	done := false
	defer func() {
		if !done {
			CloseBlobs(out)
		}
	}()
	now := h.now()
	var (
		updates []DeliveryUpdate
		index   []int // of out, for each update
		fetched []*archive.Event
		total   int64
		opened  bool
	)
	for i := range out {
		r := &out[i]
		if r.Err != nil {
			continue
		}
		it := found[r.ID]
		d, doc := it.Delivery, it.Document
		if opened && total+doc.Size > maxFetchBytes {
			r.Err = fmt.Errorf("%w: the originals of this request passed %d bytes; fetch delivery %s again", ErrTooLarge, maxFetchBytes, d.ID)
			continue
		}
		// The original is opened before its fetch is recorded.
		if r.Blob, r.Err = h.o.Blobs.Open(ctx, doc.Digest); r.Err != nil {
			r.Err = originalError(&doc, r.Err)
			continue
		}
		r.Blob = digestBlob{r.Blob, doc.Digest}
		opened, total = true, total+doc.Size
		ev := &archive.Event{At: now, Kind: "delivery.fetched", Actor: p.Actor(), Agency: d.Recipient, Document: d.Document, Delivery: d.ID}
		if d.State != StateQueued || d.Route != RoutePull {
			fetched = append(fetched, ev)
			r.Info = deliveryInfo(&d)
			continue
		}
		ev.Kind = "delivery.pulled"
		d.State, d.UpdatedAt = StatePulled, now
		updates = append(updates, DeliveryUpdate{Delivery: &d, From: []DeliveryState{StateQueued}, Claimed: d.LeaseUntil, Events: []*archive.Event{ev}})
		index = append(index, i)
	}
	if len(updates) > 0 {
		errs, err := ba.UpdateDeliveries(ctx, updates)
		if err != nil {
			return nil, unavailable("database", err)
		}
		for k, u := range updates {
			r := &out[index[k]]
			switch {
			case errors.Is(errs[k], ErrStateConflict):
				// Another fetch won: it recorded the pull.
				ev := u.Events[0]
				ev.Kind = "delivery.fetched"
				fetched = append(fetched, ev)
				found := found[r.ID]
				r.Info = deliveryInfo(&found.Delivery)
			case errs[k] != nil:
				r.Blob.Close()
				r.Blob, r.Err = nil, unavailable("database", errs[k])
			default:
				r.Info = deliveryInfo(u.Delivery)
			}
		}
	}
	if len(fetched) > 0 {
		if err := h.o.Store.AppendEvents(ctx, fetched...); err != nil {
			return nil, unavailable("database", err)
		}
	}
	done = true
	for _, r := range out {
		if r.Blob != nil {
			h.metrics.fetched.Inc()
		}
	}
	return out, nil
}

// CloseBlobs closes the originals that FetchMany opened for out.
func CloseBlobs(out []FetchResult) {
	for i := range out {
		if out[i].Blob != nil {
			out[i].Blob.Close()
			out[i].Blob = nil
		}
	}
}
