package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/routing"
)

// The audit event kinds of account management and sessions.
const (
	KindUserDisabled      = "user.disabled"
	KindUserEnabled       = "user.enabled"
	KindUserPasswordReset = "user.password-reset"
	KindSessionIdle       = "session.idle-expired"
)

// RequeueDelivery writes d's Route, Peer, State, Attempts, NextAttemptAt,
// LeaseUntil, LastError and RequeuedAt (required) if the stored state is one of from (which may
// not hold StateSending: a claimed delivery is the worker's), with events
// in the same transaction; else it returns routing.ErrStateConflict
// (routing.ErrNotFound for no such delivery) and writes nothing. It is how
// an operator sends a dead delivery again by a route planned anew. d is
// then what is stored.
func (s *Store) RequeueDelivery(ctx context.Context, d *routing.Delivery, from []routing.DeliveryState, events []*archive.Event) error {
	switch {
	case d == nil || d.ID == "" || !validState(d.State):
		return fmt.Errorf("%w: requeue without an id or with a bad state", ErrBadArgument)
	case !validRoute(d.Route):
		return fmt.Errorf("%w: delivery %s: route %q", ErrBadArgument, d.ID, d.Route)
	case (d.Route == routing.RoutePeer) != (d.Peer != ""):
		return fmt.Errorf("%w: delivery %s: a peer goes with route peer only", ErrBadArgument, d.ID)
	case d.Attempts < 0 || d.NextAttemptAt.IsZero() || d.RequeuedAt.IsZero():
		return fmt.Errorf("%w: delivery %s: attempts %d, next attempt %v, requeued %v", ErrBadArgument, d.ID, d.Attempts, d.NextAttemptAt, d.RequeuedAt)
	case len(from) == 0:
		return fmt.Errorf("%w: delivery %s: no expected state", ErrBadArgument, d.ID)
	}
	now := s.now()
	args := []any{string(d.Route), d.Peer, string(d.State), d.Attempts, s.timeArg(d.NextAttemptAt), s.nullTime(d.LeaseUntil),
		d.LastError, s.timeArg(now), d.ID, s.timeArg(d.RequeuedAt)}
	for _, st := range from {
		if !validState(st) || st == routing.StateSending {
			return fmt.Errorf("%w: delivery %s: expected state %q", ErrBadArgument, d.ID, st)
		}
		args = append(args, string(st))
	}
	q := "UPDATE deliveries SET route = $1, peer = $2, state = $3, attempts = $4, next_attempt_at = $5, lease_until = $6," +
		" last_error = $7, updated_at = $8, requeued_at = $10 WHERE id = $9 AND state IN (" + placeholders(len(args)-len(from)+1, len(from)) + ") RETURNING " + deliveryColumns
	sealed, err := s.sealEvents(events)
	if err != nil {
		return err
	}
	var updated *routing.Delivery
	err = s.InTx(ctx, func(tx Tx) (err error) {
		updated, err = s.updateDelivery(ctx, tx, d.ID, q, args, sealed)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: requeue delivery %s: %w", d.ID, err)
	}
	*d = *updated
	return nil
}

// LastAuditEvent returns the newest event of kind; routing.ErrNotFound
// when there is none.
func (s *Store) LastAuditEvent(ctx context.Context, kind string) (*archive.Event, error) {
	out, err := s.events(ctx, lastEventQuery(kind), kind)
	switch {
	case err != nil:
		return nil, fmt.Errorf("store: last %s event: %w", kind, err)
	case len(out) == 0:
		return nil, fmt.Errorf("store: last %s event: %w", kind, routing.ErrNotFound)
	}
	return out[0], nil
}

// lastEventQuery reads the newest event of kind: through the kind index
// unless kind is dense (then the newest is near the log's end).
func lastEventQuery(kind string) string {
	where := "kind = $1"
	if !slices.Contains(denseKinds, kind) {
		where = denseKindsCond + " AND " + where
	}
	return "SELECT " + auditColumns + " FROM audit_events WHERE " + where + " ORDER BY seq DESC LIMIT 1"
}

// touchEvery is how stale a session's last use may be before a request
// writes it again: most requests only read.
const touchEvery = time.Minute

// TouchSession is LookupSession for a request: a session not used for
// idle (when idle > 0) ends here, deleted and audited
// ("session.idle-expired"), as ErrNoSession; a live one is marked used.
func (s *Store) TouchSession(ctx context.Context, token string, idle time.Duration) (*Session, error) {
	sess, err := s.LookupSession(ctx, token)
	if err != nil {
		return nil, err
	}
	th := sha256.Sum256([]byte(token))
	var (
		last  time.Time
		found bool
	)
	err = s.query(ctx, "SELECT COALESCE(last_seen, created_at) FROM sessions WHERE hash = $1", []any{th[:]}, func(scan func(...any) error) error {
		var v any
		if err := scan(&v); err != nil {
			return err
		}
		found = true
		last, err = s.parseTime(v)
		return err
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("store: session: %w", err)
	case !found:
		return nil, ErrNoSession
	}
	now := s.now()
	if idle > 0 && now.Sub(last) >= idle {
		err := s.InTx(ctx, func(tx Tx) error {
			n, err := tx.Exec(ctx, "DELETE FROM sessions WHERE hash = $1", th[:])
			if err != nil || n == 0 {
				return err
			}
			return s.AppendAudit(ctx, tx, &archive.Event{Kind: KindSessionIdle, Actor: "hub", Agency: sess.User.Agency,
				Details: mustJSON(map[string]any{"user": sess.User.Name, "session": sessionID(th), "idle": idle.String()})})
		})
		if err != nil {
			return nil, fmt.Errorf("store: end idle session: %w", err)
		}
		return nil, ErrNoSession
	}
	if now.Sub(last) >= touchEvery {
		if err := s.InTx(ctx, func(tx Tx) error {
			_, err := tx.Exec(ctx, "UPDATE sessions SET last_seen = $1 WHERE hash = $2", s.timeArg(now), th[:])
			return err
		}); err != nil {
			return nil, fmt.Errorf("store: touch session: %w", err)
		}
	}
	return sess, nil
}

// Users returns every account, in name order.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	var out []User
	err := s.query(ctx, "SELECT "+userColumns+" FROM users ORDER BY name", nil, func(scan func(...any) error) error {
		u, _, err := s.scanUser(scan)
		if err != nil {
			return err
		}
		out = append(out, *u)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return out, nil
}

// SetUserDisabled disables an account (ending its sessions) or enables it
// again, audited ("user.disabled", "user.enabled"); an account already so
// is left alone. routing.ErrNotFound when there is none.
func (s *Store) SetUserDisabled(ctx context.Context, name string, disabled bool, actor string) error {
	kind, set, cond := KindUserEnabled, "disabled_at = NULL", "disabled_at IS NOT NULL"
	args := []any{name}
	if disabled {
		kind, set, cond = KindUserDisabled, "disabled_at = $2", "disabled_at IS NULL"
		args = append(args, s.timeArg(s.now()))
	}
	err := s.InTx(ctx, func(tx Tx) error {
		agency, err := userAgency(ctx, tx, name)
		if err != nil {
			return err
		}
		n, err := tx.Exec(ctx, "UPDATE users SET "+set+" WHERE name = $1 AND "+cond, args...)
		if err != nil || n == 0 {
			return err
		}
		if disabled {
			if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_name = $1", name); err != nil {
				return err
			}
		}
		return s.AppendAudit(ctx, tx, &archive.Event{Kind: kind, Actor: actor, Agency: agency, Details: mustJSON(map[string]any{"user": name})})
	})
	if err != nil {
		return fmt.Errorf("store: %s %s: %w", kind, name, err)
	}
	return nil
}

// SetUserPassword gives an account a new password, lifts a lock-out and
// ends its sessions, audited ("user.password-reset", never with the
// password). routing.ErrNotFound when there is none.
func (s *Store) SetUserPassword(ctx context.Context, name, password, actor string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	err = s.InTx(ctx, func(tx Tx) error {
		agency, err := userAgency(ctx, tx, name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET pw_hash = $1, pw_salt = $2, pw_time = $3, pw_memory = $4, pw_threads = $5,"+
			" failed_logins = 0, locked_until = NULL WHERE name = $6",
			h.Hash, h.Salt, int64(h.Time), int64(h.Memory), int64(h.Threads), name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_name = $1", name); err != nil {
			return err
		}
		return s.AppendAudit(ctx, tx, &archive.Event{Kind: KindUserPasswordReset, Actor: actor, Agency: agency,
			Details: mustJSON(map[string]any{"user": name})})
	})
	if err != nil {
		return fmt.Errorf("store: reset password of %s: %w", name, err)
	}
	return nil
}

// checkPassword applies CreateUser's rule: MinPasswordLen to 1024
// characters.
func checkPassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLen || len(pw) > 1024 {
		return fmt.Errorf("%w: a password has %d to 1024 characters", ErrBadArgument, MinPasswordLen)
	}
	return nil
}

// userAgency returns the agency of an account (empty but for clerks).
func userAgency(ctx context.Context, tx Tx, name string) (agencyids.Code, error) {
	var agency string
	switch err := tx.QueryRow(ctx, "SELECT agency FROM users WHERE name = $1", name).Scan(&agency); {
	case isNoRows(err):
		return "", routing.ErrNotFound
	case err != nil:
		return "", err
	}
	return agencyids.Code(agency), nil
}

// OverviewQuery selects what the operators' overview shows.
type OverviewQuery struct {
	// Days counts documents on each of Days days (1–92) from Since,
	// midnight of the first day in the console's time zone.
	Since time.Time
	Days  int
	// DeadLetters is how many dead deliveries to list, newest first (0–200).
	DeadLetters int
}

// Overview is the state of the hub at a glance.
type Overview struct {
	Days []DayCount
	// Waiting counts deliveries queued or being sent; Dead the dead ones.
	Waiting, Dead int64
	// Oldest is the longest-waiting delivery (queued or sending) with its
	// document; nil when none waits.
	Oldest *ConsoleDelivery
	// DeadLetters are the newest dead deliveries with their documents.
	DeadLetters []ConsoleDelivery
}

// DayCount is the documents (not status packets) received on one day.
type DayCount struct {
	Day       time.Time // its first instant
	Documents int64
}

// ConsoleDelivery is a delivery with its document.
type ConsoleDelivery struct {
	Delivery routing.Delivery
	Document routing.Document
}

// The conditions of the partial index deliveries_open (00009), repeated
// word for word in each query, as SQLite uses such an index only then.
const (
	openDeliveries = "d.state IN ('queued', 'sending', 'dead')"
	waitingOnly    = openDeliveries + " AND d.state <> 'dead'"
	deadOnly       = openDeliveries + " AND d.state = 'dead'"
)

// Overview reads the overview q selects from one snapshot.
func (s *Store) Overview(ctx context.Context, q OverviewQuery) (*Overview, error) {
	switch {
	case q.Days < 1 || q.Days > 92 || q.Since.IsZero():
		return nil, fmt.Errorf("%w: overview of %d days from %v", ErrBadArgument, q.Days, q.Since)
	case q.DeadLetters < 0 || q.DeadLetters > 200:
		return nil, fmt.Errorf("%w: %d dead letters", ErrBadArgument, q.DeadLetters)
	}
	o := &Overview{}
	join := "SELECT " + prefixed("d", deliveryColumns) + ", " + prefixed("doc", documentColumns) +
		" FROM deliveries d JOIN documents doc ON doc.id = d.document WHERE "
	err := s.readTx(ctx, func(tx Tx) error {
		o.Days = o.Days[:0]
		for i := range q.Days {
			from, to := q.Since.AddDate(0, 0, i), q.Since.AddDate(0, 0, i+1)
			var n int64
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM documents WHERE received_at >= $1 AND received_at < $2 AND kind = 'document'",
				s.timeArg(from), s.timeArg(to)).Scan(&n); err != nil {
				return fmt.Errorf("documents per day: %w", err)
			}
			o.Days = append(o.Days, DayCount{Day: from, Documents: n})
		}
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM deliveries d WHERE "+waitingOnly).Scan(&o.Waiting); err != nil {
			return fmt.Errorf("waiting deliveries: %w", err)
		}
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM deliveries d WHERE "+deadOnly).Scan(&o.Dead); err != nil {
			return fmt.Errorf("dead deliveries: %w", err)
		}
		oldest, err := s.consoleDeliveries(ctx, tx, join+waitingOnly+" ORDER BY d.created_at, d.id LIMIT 1")
		if err != nil {
			return fmt.Errorf("oldest waiting delivery: %w", err)
		}
		o.Oldest = nil
		if len(oldest) > 0 {
			o.Oldest = &oldest[0]
		}
		o.DeadLetters = nil
		if q.DeadLetters > 0 {
			if o.DeadLetters, err = s.consoleDeliveries(ctx, tx, join+deadOnly+" ORDER BY d.created_at DESC, d.id DESC LIMIT $1", q.DeadLetters); err != nil {
				return fmt.Errorf("dead letters: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: overview: %w", err)
	}
	return o, nil
}

func (s *Store) consoleDeliveries(ctx context.Context, tx Tx, q string, args ...any) ([]ConsoleDelivery, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ConsoleDelivery
	for rows.Next() {
		var (
			dr  deliveryRow
			dcr documentRow
		)
		if err := rows.Scan(append(dr.dest(), dcr.dest()...)...); err != nil {
			return nil, err
		}
		d, err := s.delivery(&dr)
		if err != nil {
			return nil, err
		}
		doc, err := s.document(&dcr)
		if err != nil {
			return nil, err
		}
		out = append(out, ConsoleDelivery{Delivery: *d, Document: *doc})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}
