package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/envelope"
	"github.com/edocgw/edocgw/routing"
)

// The store is the hub's metadata store.
var _ routing.Store = (*Store)(nil)

const (
	documentColumns = "id, kind, sender, edxml_id, number, notation, business, status_code, ref, subject, digest, size, via, received_at, recipients"
	deliveryColumns = "id, document, recipient, route, peer, state, attempts, next_attempt_at, lease_until, last_error, remote, created_at, updated_at, requeued_at"
)

// prefixed qualifies each of a comma-separated column list with alias.
func prefixed(alias, columns string) string {
	cs := strings.Split(columns, ", ")
	for i, c := range cs {
		cs[i] = alias + "." + c
	}
	return strings.Join(cs, ", ")
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.query(ctx, "SELECT 1", nil, func(scan func(...any) error) error {
		var one int
		return scan(&one)
	}); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Accept commits doc, its deliveries and events in one transaction; a
// packet that repeats an earlier one commits nothing and returns a
// *routing.DuplicateError (see routing.Store). Zero times are filled in
// (ReceivedAt from the store's clock, a delivery's CreatedAt, UpdatedAt and
// NextAttemptAt from ReceivedAt), as is an empty Delivery.Document, and
// times are set as stored (UTC, microseconds).
func (s *Store) Accept(ctx context.Context, doc *routing.Document, deliveries []*routing.Delivery, events []*archive.Event) error {
	if err := s.prepareAccept(doc, deliveries); err != nil {
		return err
	}
	recipients, err := json.Marshal(codesOrEmpty(doc.Recipients))
	if err != nil {
		return fmt.Errorf("store: accept %s: %w", doc.ID, err)
	}
	sealed, err := s.sealEvents(events)
	if err != nil {
		return err
	}
	// The unique indexes documents_dup_* refuse a repeat: the writer
	// spends no lookups on it, and the repeat's caller is told which
	// packet it repeats once the transaction has ended (duplicateOf).
	err = s.writeTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO documents ("+documentColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
			doc.ID, doc.Kind.String(), string(doc.From), doc.EdxmlID, doc.Number, doc.Notation, int(doc.Business),
			int(doc.StatusCode), doc.Ref, doc.Subject, doc.Digest[:], doc.Size, doc.Via, s.timeArg(doc.ReceivedAt),
			string(recipients)); err != nil {
			return err
		}
		for _, d := range deliveries {
			if _, err := tx.Exec(ctx, "INSERT INTO deliveries ("+deliveryColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
				d.ID, d.Document, string(d.Recipient), string(d.Route), d.Peer, string(d.State), d.Attempts,
				s.timeArg(d.NextAttemptAt), s.nullTime(d.LeaseUntil), d.LastError, d.Remote,
				s.timeArg(d.CreatedAt), s.timeArg(d.UpdatedAt), s.nullTime(d.RequeuedAt)); err != nil {
				return fmt.Errorf("delivery %s: %w", d.ID, err)
			}
		}
		return s.appendSealed(ctx, tx, sealed)
	})
	var dup *routing.DuplicateError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &dup):
		return dup
	case isUniqueViolation(err):
		// A stored packet, or one committed meanwhile, has the same
		// keys: name it.
		if dup, derr := s.duplicateOf(ctx, doc); derr == nil && dup != nil {
			return dup
		}
	}
	return fmt.Errorf("store: accept %s: %w", doc.ID, err)
}

// prepareAccept checks the arguments of Accept and fills in zero times.
func (s *Store) prepareAccept(doc *routing.Document, deliveries []*routing.Delivery) error {
	switch {
	case doc == nil || doc.ID == "":
		return fmt.Errorf("%w: document without an id", ErrBadArgument)
	case doc.Kind != envelope.KindDocument && doc.Kind != envelope.KindStatus:
		return fmt.Errorf("%w: document %s of kind %v", ErrBadArgument, doc.ID, doc.Kind)
	case doc.Size < 0:
		return fmt.Errorf("%w: document %s of size %d", ErrBadArgument, doc.ID, doc.Size)
	}
	if doc.ReceivedAt.IsZero() {
		doc.ReceivedAt = s.now()
	}
	doc.ReceivedAt = stored(doc.ReceivedAt)
	for i, d := range deliveries {
		switch {
		case d == nil || d.ID == "":
			return fmt.Errorf("%w: delivery %d of %s without an id", ErrBadArgument, i, doc.ID)
		case d.Document != "" && d.Document != doc.ID:
			return fmt.Errorf("%w: delivery %s is of document %s, not %s", ErrBadArgument, d.ID, d.Document, doc.ID)
		case !validRoute(d.Route):
			return fmt.Errorf("%w: delivery %s has route %q", ErrBadArgument, d.ID, d.Route)
		case !validState(d.State):
			return fmt.Errorf("%w: delivery %s has state %q", ErrBadArgument, d.ID, d.State)
		}
		d.Document = doc.ID
		if d.CreatedAt.IsZero() {
			d.CreatedAt = doc.ReceivedAt
		}
		if d.UpdatedAt.IsZero() {
			d.UpdatedAt = d.CreatedAt
		}
		if d.NextAttemptAt.IsZero() {
			d.NextAttemptAt = d.CreatedAt
		}
		d.CreatedAt, d.UpdatedAt, d.NextAttemptAt = stored(d.CreatedAt), stored(d.UpdatedAt), stored(d.NextAttemptAt)
		if !d.LeaseUntil.IsZero() {
			d.LeaseUntil = stored(d.LeaseUntil)
		}
	}
	return nil
}

// stored is t as the store keeps it: UTC, to the microsecond.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// The duplicate rules of routing.Store.Accept, each backed by a unique
// partial index of the same condition (documents_dup_*).
const (
	dupDocumentID = "SELECT id FROM documents WHERE kind = 'document' AND edxml_id <> '' AND business <> 2 AND sender = $1 AND edxml_id = $2 AND business = $3 ORDER BY received_at, id LIMIT 1"
	dupNumber     = "SELECT id FROM documents WHERE kind = 'document' AND business IN (0, 3) AND number <> '' AND sender = $1 AND number = $2 AND notation = $3 ORDER BY received_at, id LIMIT 1"
	dupStatus     = "SELECT id FROM documents WHERE kind = 'status' AND status_code <> 5 AND sender = $1 AND edxml_id = $2 AND status_code = $3 ORDER BY received_at, id LIMIT 1"
)

type duplicateRule struct {
	key, query string
	args       []any
}

// duplicateRules are the lookups, each on a unique index, that find a
// stored packet doc would repeat.
func duplicateRules(doc *routing.Document) []duplicateRule {
	var rules []duplicateRule
	from := string(doc.From)
	switch doc.Kind {
	case envelope.KindDocument:
		if doc.EdxmlID != "" {
			rules = append(rules, duplicateRule{"document-id", dupDocumentID, []any{from, doc.EdxmlID, int(doc.Business)}})
		}
		if doc.Number != "" && (doc.Business == envelope.BusinessNew || doc.Business == envelope.BusinessReplacement) {
			rules = append(rules, duplicateRule{"number-notation", dupNumber, []any{from, doc.Number, doc.Notation}})
		}
	case envelope.KindStatus:
		if doc.StatusCode != envelope.StatusProcessing {
			rules = append(rules, duplicateRule{"status", dupStatus, []any{from, doc.EdxmlID, int(doc.StatusCode)}})
		}
	}
	return rules
}

// Duplicate reports whether doc repeats a stored packet, by the rules of
// Accept, without writing anything: the hub asks before it archives.
func (s *Store) Duplicate(ctx context.Context, doc *routing.Document) (*routing.DuplicateError, error) {
	dup, err := s.duplicateOf(ctx, doc)
	if err != nil {
		return nil, fmt.Errorf("store: duplicate check of %s: %w", doc.ID, err)
	}
	return dup, nil
}

// duplicateOf returns the duplicate error for the stored packet that doc
// repeats, or nil. Each lookup is a read of its own: before archiving, the
// answer only spares the archive a copy, as the unique indexes decide.
func (s *Store) duplicateOf(ctx context.Context, doc *routing.Document) (*routing.DuplicateError, error) {
	rules := duplicateRules(doc)
	if len(rules) == 2 && s.dialect == SQLite {
		return s.duplicateOfBoth(ctx, rules)
	}
	for _, r := range rules {
		var id string
		found := false
		if err := s.lookup(ctx, r.query, r.args, func(scan func(...any) error) error {
			found = true
			return scan(&id)
		}); err != nil {
			return nil, fmt.Errorf("duplicate check (%s): %w", r.key, err)
		}
		if found {
			return &routing.DuplicateError{FirstID: id, Key: r.key}, nil
		}
	}
	return nil, nil
}

// dupBoth asks the document-id and number-notation rules in one statement,
// a scalar subquery each: on SQLite one read instead of two (a read after
// a commit finds the page cache stale and costs more than the lookup).
var dupBoth = "SELECT (" + dupDocumentID + "), (" + strings.NewReplacer("$2", "$4", "$3", "$5").Replace(dupNumber) + ")"

// duplicateOfBoth is duplicateOf for a document with both rules, in the
// order duplicateRules gives them.
func (s *Store) duplicateOfBoth(ctx context.Context, rules []duplicateRule) (*routing.DuplicateError, error) {
	var ids [2]sql.NullString
	args := append(slices.Clip(rules[0].args), rules[1].args[1:]...)
	if err := s.lookup(ctx, dupBoth, args, func(scan func(...any) error) error {
		return scan(&ids[0], &ids[1])
	}); err != nil {
		return nil, fmt.Errorf("duplicate check (%s, %s): %w", rules[0].key, rules[1].key, err)
	}
	for i, id := range ids {
		if id.Valid {
			return &routing.DuplicateError{FirstID: id.String, Key: rules[i].key}, nil
		}
	}
	return nil, nil
}

// isUniqueViolation reports a unique constraint failure.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == 2067 || se.Code() == 1555 // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
	}
	return false
}

// Document returns a document by hub id.
func (s *Store) Document(ctx context.Context, id string) (*routing.Document, error) {
	docs, err := s.documents(ctx, "SELECT "+documentColumns+" FROM documents WHERE id = $1", id)
	if err != nil {
		return nil, fmt.Errorf("store: document %s: %w", id, err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("store: document %s: %w", id, routing.ErrNotFound)
	}
	return docs[0], nil
}

// Documents returns up to limit documents (and statuses) with ID > after,
// in ID order: the walk of `edocgw audit verify` over every original.
func (s *Store) Documents(ctx context.Context, after string, limit int) ([]*routing.Document, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit %d", ErrBadArgument, limit)
	}
	docs, err := s.documents(ctx, "SELECT "+documentColumns+" FROM documents WHERE id > $1 ORDER BY id LIMIT $2", after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: documents after %q: %w", after, err)
	}
	return docs, nil
}

// DocumentsByEdxmlID returns the documents (not statuses) whose EdxmlID is
// id, oldest first.
func (s *Store) DocumentsByEdxmlID(ctx context.Context, id string) ([]*routing.Document, error) {
	if id == "" {
		return nil, nil
	}
	docs, err := s.documents(ctx, "SELECT "+documentColumns+" FROM documents WHERE edxml_id <> '' AND edxml_id = $1 AND kind = 'document' ORDER BY received_at, id", id)
	if err != nil {
		return nil, fmt.Errorf("store: documents with edXML id %q: %w", id, err)
	}
	return docs, nil
}

func (s *Store) documents(ctx context.Context, q string, args ...any) ([]*routing.Document, error) {
	var out []*routing.Document
	err := s.query(ctx, q, args, func(scan func(...any) error) error {
		var r documentRow
		if err := scan(r.dest()...); err != nil {
			return err
		}
		d, err := s.document(&r)
		if err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// documentRow receives the documentColumns of a row.
type documentRow struct {
	d                    routing.Document
	kind, from, rcpts    string
	business, statusCode int
	digest               []byte
	receivedAt           any
}

func (r *documentRow) dest() []any {
	d := &r.d
	return []any{&d.ID, &r.kind, &r.from, &d.EdxmlID, &d.Number, &d.Notation, &r.business, &r.statusCode, &d.Ref,
		&d.Subject, &r.digest, &d.Size, &d.Via, &r.receivedAt, &r.rcpts}
}

func (s *Store) document(r *documentRow) (*routing.Document, error) {
	d := r.d
	switch r.kind {
	case "document":
		d.Kind = envelope.KindDocument
	case "status":
		d.Kind = envelope.KindStatus
	default:
		return nil, fmt.Errorf("%w: document %s of kind %q", ErrCorrupt, d.ID, r.kind)
	}
	d.From, d.Business, d.StatusCode = agencyids.Code(r.from), envelope.BusinessDocType(r.business), envelope.StatusCode(r.statusCode)
	if err := digest(&d.Digest, r.digest); err != nil {
		return nil, fmt.Errorf("document %s: %w", d.ID, err)
	}
	var err error
	if d.ReceivedAt, err = s.parseTime(r.receivedAt); err != nil {
		return nil, fmt.Errorf("document %s: %w", d.ID, err)
	}
	if err := json.Unmarshal([]byte(r.rcpts), &d.Recipients); err != nil {
		return nil, fmt.Errorf("%w: document %s recipients: %v", ErrCorrupt, d.ID, err)
	}
	return &d, nil
}

// Delivery returns a delivery by id.
func (s *Store) Delivery(ctx context.Context, id string) (*routing.Delivery, error) {
	ds, err := s.deliveries(ctx, "SELECT "+deliveryColumns+" FROM deliveries WHERE id = $1", id)
	if err != nil {
		return nil, fmt.Errorf("store: delivery %s: %w", id, err)
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("store: delivery %s: %w", id, routing.ErrNotFound)
	}
	return ds[0], nil
}

// deliveryDocumentSelect reads deliveries (d) with their documents (doc);
// scanDeliveryDocument reads one of its rows.
var deliveryDocumentSelect = "SELECT " + prefixed("d", deliveryColumns) + ", " + prefixed("doc", documentColumns) +
	" FROM deliveries d JOIN documents doc ON doc.id = d.document"

func (s *Store) scanDeliveryDocument(scan func(...any) error) (*routing.Delivery, *routing.Document, error) {
	var dr deliveryRow
	var cr documentRow
	if err := scan(append(dr.dest(), cr.dest()...)...); err != nil {
		return nil, nil, err
	}
	del, err := s.delivery(&dr)
	if err != nil {
		return nil, nil, err
	}
	doc, err := s.document(&cr)
	if err != nil {
		return nil, nil, err
	}
	return del, doc, nil
}

// DeliveryDocument returns a delivery and its document, read together.
func (s *Store) DeliveryDocument(ctx context.Context, id string) (*routing.Delivery, *routing.Document, error) {
	var (
		del *routing.Delivery
		doc *routing.Document
	)
	err := s.lookup(ctx, deliveryDocumentSelect+" WHERE d.id = $1", []any{id}, func(scan func(...any) error) (err error) {
		del, doc, err = s.scanDeliveryDocument(scan)
		return err
	})
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("store: delivery %s: %w", id, err)
	case del == nil:
		return nil, nil, fmt.Errorf("store: delivery %s: %w", id, routing.ErrNotFound)
	}
	return del, doc, nil
}

// DeliveryDocuments returns the deliveries of ids that exist, each with its
// document, read together.
func (s *Store) DeliveryDocuments(ctx context.Context, ids []string) (map[string]routing.InboxItem, error) {
	out := make(map[string]routing.InboxItem, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	cond, arg, err := s.inList("d.id", ids)
	if err != nil {
		return nil, err
	}
	err = s.lookup(ctx, deliveryDocumentSelect+" WHERE "+cond, []any{arg}, func(scan func(...any) error) error {
		del, doc, err := s.scanDeliveryDocument(scan)
		if err != nil {
			return err
		}
		out[del.ID] = routing.InboxItem{Delivery: *del, Document: *doc}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %d deliveries: %w", len(ids), err)
	}
	return out, nil
}

// inList is the condition "column is one of values" as parameter $1, and
// its argument: one statement whatever the number of values, an array on
// PostgreSQL, a JSON array on SQLite.
func (s *Store) inList(column string, values []string) (string, any, error) {
	if s.dialect == Postgres {
		return column + " = ANY($1)", values, nil
	}
	b, err := json.Marshal(values)
	if err != nil {
		return "", nil, err
	}
	return column + " IN (SELECT value FROM json_each($1))", string(b), nil
}

// Deliveries returns the deliveries of a document, oldest first.
func (s *Store) Deliveries(ctx context.Context, document string) ([]*routing.Delivery, error) {
	ds, err := s.deliveries(ctx, "SELECT "+deliveryColumns+" FROM deliveries WHERE document = $1 ORDER BY created_at, id", document)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of %s: %w", document, err)
	}
	return ds, nil
}

func (s *Store) deliveries(ctx context.Context, q string, args ...any) ([]*routing.Delivery, error) {
	var out []*routing.Delivery
	err := s.query(ctx, q, args, func(scan func(...any) error) error {
		var r deliveryRow
		if err := scan(r.dest()...); err != nil {
			return err
		}
		d, err := s.delivery(&r)
		if err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// deliveryRow receives the deliveryColumns of a row.
type deliveryRow struct {
	d                                        routing.Delivery
	recipient, route, state                  string
	nextAt, leaseUntil, createdAt, updatedAt any
	requeuedAt                               any
}

func (r *deliveryRow) dest() []any {
	d := &r.d
	return []any{&d.ID, &d.Document, &r.recipient, &r.route, &d.Peer, &r.state, &d.Attempts, &r.nextAt,
		&r.leaseUntil, &d.LastError, &d.Remote, &r.createdAt, &r.updatedAt, &r.requeuedAt}
}

func (s *Store) delivery(r *deliveryRow) (*routing.Delivery, error) {
	d := r.d
	d.Recipient, d.Route, d.State = agencyids.Code(r.recipient), routing.RouteKind(r.route), routing.DeliveryState(r.state)
	for _, t := range []struct {
		dst *time.Time
		v   any
	}{{&d.NextAttemptAt, r.nextAt}, {&d.LeaseUntil, r.leaseUntil}, {&d.CreatedAt, r.createdAt}, {&d.UpdatedAt, r.updatedAt}, {&d.RequeuedAt, r.requeuedAt}} {
		var err error
		if *t.dst, err = s.parseNullTime(t.v); err != nil {
			return nil, fmt.Errorf("delivery %s: %w", d.ID, err)
		}
	}
	return &d, nil
}

// Inbox returns up to limit pull deliveries of recipient in state queued
// or pulled, with ID > after, in ID order, each with its document.
func (s *Store) Inbox(ctx context.Context, recipient agencyids.Code, after string, limit int) ([]routing.InboxItem, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit %d", ErrBadArgument, limit)
	}
	// The conditions repeat those of the partial index deliveries_inbox
	// word for word: SQLite uses such an index only then.
	q := deliveryDocumentSelect +
		" WHERE d.route = 'pull' AND d.state IN ('queued', 'pulled') AND d.recipient = $1 AND d.id > $2" +
		" ORDER BY d.id LIMIT $3"
	var out []routing.InboxItem
	err := s.lookup(ctx, q, []any{string(recipient), after, limit}, func(scan func(...any) error) error {
		d, doc, err := s.scanDeliveryDocument(scan)
		if err != nil {
			return err
		}
		out = append(out, routing.InboxItem{Delivery: *d, Document: *doc})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: inbox of %s: %w", recipient, err)
	}
	return out, nil
}

// Claim leases up to limit due push or peer deliveries (see
// routing.Store): state queued with NextAttemptAt <= now, or sending with
// LeaseUntil < now. It sets them sending until now+lease, counts the
// attempt and returns them as updated, in NextAttemptAt order. On
// PostgreSQL concurrent claimers skip each other's rows (FOR UPDATE SKIP
// LOCKED); SQLite has one writer.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*routing.Delivery, error) {
	switch {
	case limit <= 0:
		return nil, fmt.Errorf("%w: claim limit %d", ErrBadArgument, limit)
	case lease <= 0:
		return nil, fmt.Errorf("%w: lease %v", ErrBadArgument, lease)
	}
	// The due conditions repeat those of deliveries_claim and
	// deliveries_lease word for word.
	const due = "SELECT id FROM deliveries WHERE route IN ('push', 'peer') AND state IN ('queued', 'sending')" +
		" AND ((state = 'queued' AND next_attempt_at <= $1) OR (state = 'sending' AND lease_until < $1))" +
		" ORDER BY next_attempt_at, id LIMIT $3"
	const set = " SET state = 'sending', lease_until = $2, attempts = attempts + 1, updated_at = $1"
	q := "UPDATE deliveries" + set + " WHERE id IN (" + due + ") RETURNING " + deliveryColumns
	if s.dialect == Postgres {
		q = "WITH due AS (" + due + " FOR UPDATE SKIP LOCKED) UPDATE deliveries" + set +
			" FROM due WHERE deliveries.id = due.id RETURNING " + prefixed("deliveries", deliveryColumns)
	}
	var out []*routing.Delivery
	err := s.InTx(ctx, func(tx Tx) (err error) {
		out, err = s.txDeliveries(ctx, tx, q, s.timeArg(now), s.timeArg(now.Add(lease)), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim: %w", err)
	}
	slices.SortFunc(out, func(a, b *routing.Delivery) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// UpdateDelivery writes d's State, NextAttemptAt (a zero one is left as
// stored), LeaseUntil, LastError and Remote if the stored state is one of
// from and, when that state is sending, the stored LeaseUntil equals
// claimed; else it returns routing.ErrStateConflict (routing.ErrNotFound
// for no such delivery) and writes nothing. d is then what is stored.
func (s *Store) UpdateDelivery(ctx context.Context, d *routing.Delivery, from []routing.DeliveryState, claimed time.Time, events []*archive.Event) error {
	u, err := s.prepareUpdate(d, from, claimed)
	if err != nil {
		return err
	}
	q, args := u.query()
	sealed, err := s.sealEvents(events)
	if err != nil {
		return err
	}
	var updated *routing.Delivery
	err = s.writeTx(ctx, func(tx Tx) (err error) {
		updated, err = s.updateDelivery(ctx, tx, d.ID, q, args, sealed)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: update delivery %s: %w", d.ID, err)
	}
	*d = *updated
	return nil
}

// UpdateDeliveries applies each update as UpdateDelivery does, all in one
// transaction (routing's batch acknowledgement). An update whose delivery
// is not in an expected state, or missing, gets routing.ErrStateConflict
// or routing.ErrNotFound in its place of the result and writes nothing;
// the others are applied. A non-nil error of its own means none was.
func (s *Store) UpdateDeliveries(ctx context.Context, updates []routing.DeliveryUpdate) ([]error, error) {
	us := make([]rowUpdate, len(updates))
	var events []*archive.Event
	for i, u := range updates {
		var err error
		if us[i], err = s.prepareUpdate(u.Delivery, u.From, u.Claimed); err != nil {
			return nil, err
		}
		events = append(events, u.Events...)
	}
	// Every event is sealed here, before the writer; the writer appends
	// those of the rows it updated (a subset, still sealed).
	if _, err := s.sealEvents(events); err != nil {
		return nil, err
	}
	errs := make([]error, len(updates))
	done := make([]*routing.Delivery, len(updates))
	err := s.writeTx(ctx, func(tx Tx) error {
		// The rows first, then the events of those updated in one append:
		// a few INSERTs rather than one per update.
		for i := 0; i < len(us); {
			n := s.batchable(us[i:])
			var err error
			if n > 1 {
				err = s.updateRows(ctx, tx, us[i:i+n], done[i:i+n], errs[i:i+n])
			} else {
				q, args := us[i].query()
				done[i], err = s.updateRow(ctx, tx, us[i].id, q, args)
				if errors.Is(err, routing.ErrStateConflict) || errors.Is(err, routing.ErrNotFound) {
					// The conditional UPDATE matched nothing: nothing to undo.
					errs[i], err = err, nil
				}
			}
			if err != nil {
				return err
			}
			i += max(n, 1)
		}
		var applied []*archive.Event
		for i, d := range done {
			if d != nil {
				applied = append(applied, updates[i].Events...)
			}
		}
		return s.appendSealed(ctx, tx, sealedEvents{applied})
	})
	if err != nil {
		return nil, fmt.Errorf("store: update %d deliveries: %w", len(updates), err)
	}
	for i, d := range done {
		if d != nil {
			*updates[i].Delivery = *d
		}
	}
	return errs, nil
}

// rowUpdate is one conditional update of a delivery row: UpdateDelivery's,
// or one of UpdateDeliveries'.
type rowUpdate struct {
	id string
	// set: state, next_attempt_at (NULL: left as stored), lease_until,
	// last_error, remote, updated_at.
	set  [6]any
	from []any // the states the row must be in
	// claimed is the lease_until a row in state sending must still
	// have, when sending is one of from.
	claimed any
	sending bool
}

// prepareUpdate checks and prepares the update of UpdateDelivery.
func (s *Store) prepareUpdate(d *routing.Delivery, from []routing.DeliveryState, claimed time.Time) (rowUpdate, error) {
	if d == nil || d.ID == "" || !validState(d.State) {
		return rowUpdate{}, fmt.Errorf("%w: delivery update without an id or with a bad state", ErrBadArgument)
	}
	if len(from) == 0 {
		return rowUpdate{}, fmt.Errorf("%w: delivery %s: no expected state", ErrBadArgument, d.ID)
	}
	u := rowUpdate{
		id:  d.ID,
		set: [6]any{string(d.State), s.nullTime(d.NextAttemptAt), s.nullTime(d.LeaseUntil), d.LastError, d.Remote, s.timeArg(s.now())},
	}
	for _, st := range from {
		if !validState(st) {
			return rowUpdate{}, fmt.Errorf("%w: delivery %s: expected state %q", ErrBadArgument, d.ID, st)
		}
		u.from = append(u.from, string(st))
	}
	if slices.Contains(from, routing.StateSending) {
		u.sending, u.claimed = true, s.nullTime(claimed)
	}
	return u, nil
}

// query is u as one conditional UPDATE … RETURNING deliveryColumns.
func (u *rowUpdate) query() (string, []any) {
	args := append(u.set[:len(u.set):len(u.set)], u.id)
	q := "UPDATE deliveries SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at), lease_until = $3," +
		" last_error = $4, remote = $5, updated_at = $6 WHERE id = $7 AND state IN (" + placeholders(len(args)+1, len(u.from)) + ")"
	args = append(args, u.from...)
	if u.sending {
		args = append(args, u.claimed)
		q += " AND (state <> 'sending' OR lease_until = $" + strconv.Itoa(len(args)) + ")"
	}
	return q + " RETURNING " + deliveryColumns, args
}

// placeholders is n parameters from $first on, comma-separated.
func placeholders(first, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = "$" + strconv.Itoa(first+i)
	}
	return strings.Join(ps, ", ")
}

// updateDelivery runs q, a conditional UPDATE … RETURNING deliveryColumns
// of delivery id, and appends events; a row that did not match is
// explained by stateConflict.
func (s *Store) updateDelivery(ctx context.Context, tx Tx, id, q string, args []any, events sealedEvents) (*routing.Delivery, error) {
	d, err := s.updateRow(ctx, tx, id, q, args)
	if err != nil {
		return nil, err
	}
	return d, s.appendSealed(ctx, tx, events)
}

// updateRow runs a conditional UPDATE … RETURNING of delivery id.
func (s *Store) updateRow(ctx context.Context, tx Tx, id, q string, args []any) (*routing.Delivery, error) {
	var r deliveryRow
	switch err := tx.QueryRow(ctx, q, args...).Scan(r.dest()...); {
	case isNoRows(err):
		return nil, stateConflict(ctx, tx, id)
	case err != nil:
		return nil, err
	}
	return s.delivery(&r)
}

// txDeliveries runs q, which returns deliveryColumns, in tx.
func (s *Store) txDeliveries(ctx context.Context, tx Tx, q string, args ...any) ([]*routing.Delivery, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*routing.Delivery
	for rows.Next() {
		var r deliveryRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		d, err := s.delivery(&r)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}

// stateConflict explains a conditional update that matched no row.
func stateConflict(ctx context.Context, tx Tx, id string) error {
	var state string
	switch err := tx.QueryRow(ctx, "SELECT state FROM deliveries WHERE id = $1", id).Scan(&state); {
	case isNoRows(err):
		return routing.ErrNotFound
	case err != nil:
		return err
	}
	return fmt.Errorf("%w: it is %s", routing.ErrStateConflict, state)
}

// DocumentEvents returns the audit events of a document and of the
// documents whose Ref is it, in chain order.
func (s *Store) DocumentEvents(ctx context.Context, document string) ([]*archive.Event, error) {
	// Two indexed lookups rather than one OR, which would scan the log.
	const q = "SELECT " + auditColumns + " FROM audit_events WHERE document <> '' AND document = $1" +
		" UNION ALL SELECT " + auditColumns + " FROM audit_events WHERE document <> ''" +
		" AND document IN (SELECT id FROM documents WHERE ref <> '' AND ref = $1 AND id <> $1) ORDER BY seq"
	out, err := s.events(ctx, q, document)
	if err != nil {
		return nil, fmt.Errorf("store: events of document %s: %w", document, err)
	}
	return out, nil
}

// StatusSenders returns, of documents, those about which a status packet
// with code was accepted, each with the agencies that sent one, in one
// read: whether a recipient sent status 01 before acknowledging, for one
// delivery or a page.
func (s *Store) StatusSenders(ctx context.Context, documents []string, code envelope.StatusCode) (map[string][]agencyids.Code, error) {
	out := map[string][]agencyids.Code{}
	if len(documents) == 0 {
		return out, nil
	}
	q, args, err := s.statusSendersQuery(documents, code)
	if err != nil {
		return nil, err
	}
	err = s.lookup(ctx, q, args, func(scan func(...any) error) error {
		var ref, sender string
		if err := scan(&ref, &sender); err != nil {
			return err
		}
		out[ref] = append(out[ref], agencyids.Code(sender))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: statuses %02d of %d documents: %w", int(code), len(documents), err)
	}
	return out, nil
}

// statusSendersQuery is the read of StatusSenders.
func (s *Store) statusSendersQuery(documents []string, code envelope.StatusCode) (string, []any, error) {
	cond, arg, err := s.inList("ref", documents)
	if err != nil {
		return "", nil, err
	}
	// The conditions repeat those of the partial index documents_ref.
	return "SELECT ref, sender FROM documents WHERE ref <> '' AND " + cond + " AND kind = 'status' AND status_code = $2",
		[]any{arg, int(code)}, nil
}

// AppendEvents appends events in a transaction of their own.
func (s *Store) AppendEvents(ctx context.Context, events ...*archive.Event) error {
	if len(events) == 0 {
		return nil
	}
	sealed, err := s.sealEvents(events)
	if err != nil {
		return fmt.Errorf("store: append events: %w", err)
	}
	if err := s.writeTx(ctx, func(tx Tx) error { return s.appendSealed(ctx, tx, sealed) }); err != nil {
		return fmt.Errorf("store: append events: %w", err)
	}
	return nil
}

func validRoute(r routing.RouteKind) bool {
	return r == routing.RoutePull || r == routing.RoutePush || r == routing.RoutePeer
}

func validState(st routing.DeliveryState) bool {
	switch st {
	case routing.StateQueued, routing.StateSending, routing.StatePulled, routing.StateAcked,
		routing.StateDelivered, routing.StateDead, routing.StateCancelled:
		return true
	}
	return false
}

func codesOrEmpty(cs []agencyids.Code) []agencyids.Code {
	if cs == nil {
		return []agencyids.Code{}
	}
	return cs
}

// nullTime is timeArg, with the zero time as NULL.
func (s *Store) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.timeArg(t)
}

// parseNullTime is parseTime, with NULL as the zero time.
func (s *Store) parseNullTime(v any) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	return s.parseTime(v)
}

// readTx runs fn in a read-only transaction that sees one snapshot of the
// database (REPEATABLE READ on PostgreSQL; a read transaction of a reader
// connection on SQLite).
func (s *Store) readTx(ctx context.Context, fn func(tx Tx) error) error {
	if s.dialect == Postgres {
		t, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return fmt.Errorf("store: begin: %w", err)
		}
		defer t.Rollback(context.WithoutCancel(ctx))
		return fn(&pgTx{t})
	}
	s.rstmts.prepareWanted(ctx)
	t, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	err = fn(&sqlTx{tx: t, stmts: s.rstmts})
	_ = t.Rollback()
	if err != nil {
		return err
	}
	return s.wal.visible(ctx) // answer only with what is on disk
}
