package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/vxp"
	"github.com/edocgw/edocgw/routing"
)

// The store keeps the systems of the SDK protocol.
var _ vxp.Store = (*Store)(nil)

// The audit event kinds of SDK-protocol systems. Secrets never appear in
// the log; keyId names the key that sealed one.
const (
	KindVXPSystemAdded   = "vxp.system.added"
	KindVXPSystemUpdated = "vxp.system.updated"
	KindVXPSecretRotated = "vxp.system.rotated"
	KindVXPSystemRemoved = "vxp.system.removed"
)

// AddVXPSystem records a new system (its sealed secret and agencies) with
// its audit event in one transaction. Each agency must be a pull member
// of no other system; a system that exists is refused (RotateVXPSecret,
// SetVXPAgencies change one). Errors of the arguments wrap ErrBadArgument.
func (s *Store) AddVXPSystem(ctx context.Context, sys vxp.System, actor string) error {
	if err := vxp.ValidSystemID(sys.ID); err != nil {
		return fmt.Errorf("%w: %v", ErrBadArgument, err)
	}
	if len(sys.Secret) == 0 || sys.KeyID == "" {
		return fmt.Errorf("%w: system %s without a sealed secret and its key id", ErrBadArgument, sys.ID)
	}
	agencies, err := vxpAgencies(sys.Agencies)
	if err != nil {
		return err
	}
	now := s.now()
	if sys.CreatedAt.IsZero() {
		sys.CreatedAt = now
	}
	if sys.RotatedAt.IsZero() {
		sys.RotatedAt = sys.CreatedAt
	}
	return s.vxpTx(ctx, "add VXP system "+sys.ID, func(tx Tx) (*archive.Event, error) {
		switch err := tx.QueryRow(ctx, "SELECT 1 FROM vxp_systems WHERE id = $1", sys.ID).Scan(new(int)); {
		case err == nil:
			return nil, fmt.Errorf("%w: VXP system %s exists (rotate its secret or update its agencies)", ErrBadArgument, sys.ID)
		case !isNoRows(err):
			return nil, err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO vxp_systems (id, secret, key_id, created_at, rotated_at) VALUES ($1, $2, $3, $4, $5)",
			sys.ID, sys.Secret, sys.KeyID, s.timeArg(sys.CreatedAt), s.timeArg(sys.RotatedAt)); err != nil {
			return nil, err
		}
		if err := s.insertVXPAgencies(ctx, tx, sys.ID, agencies); err != nil {
			return nil, err
		}
		return vxpEvent(KindVXPSystemAdded, actor, sys.ID, agencies, map[string]any{"keyId": sys.KeyID})
	})
}

// SetVXPAgencies replaces the agencies of a system (the rules of
// AddVXPSystem); routing.ErrNotFound if there is no such system.
func (s *Store) SetVXPAgencies(ctx context.Context, id string, agencies []agencyids.Code, actor string) error {
	agencies, err := vxpAgencies(agencies)
	if err != nil {
		return err
	}
	return s.vxpTx(ctx, "update VXP system "+id, func(tx Tx) (*archive.Event, error) {
		if err := vxpExists(ctx, tx, id); err != nil {
			return nil, err
		}
		before, err := vxpSystemAgencies(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM vxp_system_agencies WHERE system_id = $1", id); err != nil {
			return nil, err
		}
		if err := s.insertVXPAgencies(ctx, tx, id, agencies); err != nil {
			return nil, err
		}
		return vxpEvent(KindVXPSystemUpdated, actor, id, agencies, map[string]any{"previous": codeStrings(before)})
	})
}

// RotateVXPSecret replaces a system's sealed secret; routing.ErrNotFound
// if there is no such system.
func (s *Store) RotateVXPSecret(ctx context.Context, id string, secret []byte, keyID string, actor string) error {
	if len(secret) == 0 || keyID == "" {
		return fmt.Errorf("%w: system %s without a sealed secret and its key id", ErrBadArgument, id)
	}
	return s.vxpTx(ctx, "rotate the secret of VXP system "+id, func(tx Tx) (*archive.Event, error) {
		n, err := tx.Exec(ctx, "UPDATE vxp_systems SET secret = $1, key_id = $2, rotated_at = $3 WHERE id = $4",
			secret, keyID, s.timeArg(s.now()), id)
		switch {
		case err != nil:
			return nil, err
		case n == 0:
			return nil, fmt.Errorf("VXP system %s: %w", id, routing.ErrNotFound)
		}
		agencies, err := vxpSystemAgencies(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		return vxpEvent(KindVXPSecretRotated, actor, id, agencies, map[string]any{"keyId": keyID})
	})
}

// RemoveVXPSystem removes a system and its agencies' registration (the
// agencies stay members); routing.ErrNotFound if there is none.
func (s *Store) RemoveVXPSystem(ctx context.Context, id string, actor string) error {
	return s.vxpTx(ctx, "remove VXP system "+id, func(tx Tx) (*archive.Event, error) {
		agencies, err := vxpSystemAgencies(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM vxp_system_agencies WHERE system_id = $1", id); err != nil {
			return nil, err
		}
		n, err := tx.Exec(ctx, "DELETE FROM vxp_systems WHERE id = $1", id)
		switch {
		case err != nil:
			return nil, err
		case n == 0:
			return nil, fmt.Errorf("VXP system %s: %w", id, routing.ErrNotFound)
		}
		return vxpEvent(KindVXPSystemRemoved, actor, id, agencies, nil)
	})
}

// VXPSystem returns a system with its sealed secret; routing.ErrNotFound
// if there is none.
func (s *Store) VXPSystem(ctx context.Context, id string) (*vxp.System, error) {
	var out []vxp.System
	err := s.readTx(ctx, func(tx Tx) error {
		var err error
		out, err = s.readVXPSystems(ctx, tx, id)
		return err
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("store: VXP system %s: %w", id, err)
	case len(out) == 0:
		return nil, fmt.Errorf("store: VXP system %s: %w", id, routing.ErrNotFound)
	}
	return &out[0], nil
}

// VXPSystems returns every system, in id order.
func (s *Store) VXPSystems(ctx context.Context) ([]vxp.System, error) {
	var out []vxp.System
	err := s.readTx(ctx, func(tx Tx) error {
		var err error
		out, err = s.readVXPSystems(ctx, tx, "")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: VXP systems: %w", err)
	}
	return out, nil
}

// vxpTx runs fn and appends the event it returns, in one transaction.
func (s *Store) vxpTx(ctx context.Context, what string, fn func(tx Tx) (*archive.Event, error)) error {
	err := s.InTx(ctx, func(tx Tx) error {
		e, err := fn(tx)
		if err != nil {
			return err
		}
		return s.AppendAudit(ctx, tx, e)
	})
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// vxpAgencies checks a system's agencies: at least one, each a strictly
// valid code; duplicates dropped, sorted.
func vxpAgencies(codes []agencyids.Code) ([]agencyids.Code, error) {
	if len(codes) == 0 {
		return nil, fmt.Errorf("%w: a VXP system needs at least one agency", ErrBadArgument)
	}
	out := slices.Clone(codes)
	for _, c := range out {
		if !c.Valid() {
			return nil, fmt.Errorf("%w: %q is not a valid agency code", ErrBadArgument, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// insertVXPAgencies registers agencies to a system: each must be a pull
// member (a system pulls its agencies' inboxes) of no other system.
func (s *Store) insertVXPAgencies(ctx context.Context, tx Tx, id string, agencies []agencyids.Code) error {
	for _, a := range agencies {
		var mode string
		switch err := tx.QueryRow(ctx, "SELECT mode FROM members WHERE code = $1", string(a)).Scan(&mode); {
		case isNoRows(err):
			return fmt.Errorf("%w: %s is not a member of this hub (edocgw agency add %s …)", ErrBadArgument, a, a)
		case err != nil:
			return err
		case mode != string(routing.ModePull):
			return fmt.Errorf("%w: %s is a %s member; a VXP system pulls its agencies' documents", ErrBadArgument, a, mode)
		}
		var other string
		switch err := tx.QueryRow(ctx, "SELECT system_id FROM vxp_system_agencies WHERE agency = $1", string(a)).Scan(&other); {
		case err == nil:
			return fmt.Errorf("%w: %s is registered to VXP system %s", ErrBadArgument, a, other)
		case !isNoRows(err):
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO vxp_system_agencies (agency, system_id) VALUES ($1, $2)", string(a), id); err != nil {
			return err
		}
	}
	return nil
}

func vxpExists(ctx context.Context, tx Tx, id string) error {
	switch err := tx.QueryRow(ctx, "SELECT 1 FROM vxp_systems WHERE id = $1", id).Scan(new(int)); {
	case isNoRows(err):
		return fmt.Errorf("VXP system %s: %w", id, routing.ErrNotFound)
	case err != nil:
		return err
	}
	return nil
}

func vxpSystemAgencies(ctx context.Context, tx Tx, id string) ([]agencyids.Code, error) {
	rows, err := tx.Query(ctx, "SELECT agency FROM vxp_system_agencies WHERE system_id = $1 ORDER BY agency", id)
	if err != nil {
		return nil, fmt.Errorf("VXP agencies: %w", err)
	}
	defer rows.Close()
	var out []agencyids.Code
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("VXP agencies: %w", err)
		}
		out = append(out, agencyids.Code(a))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("VXP agencies: %w", err)
	}
	return out, rows.Close()
}

// readVXPSystems reads every system, or the one of id.
func (s *Store) readVXPSystems(ctx context.Context, tx Tx, id string) ([]vxp.System, error) {
	q, args := "SELECT id, secret, key_id, created_at, rotated_at FROM vxp_systems", []any{}
	if id != "" {
		q, args = q+" WHERE id = $1", append(args, id)
	}
	rows, err := tx.Query(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("VXP systems: %w", err)
	}
	defer rows.Close()
	var out []vxp.System
	for rows.Next() {
		var (
			sys              vxp.System
			created, rotated any
		)
		if err := rows.Scan(&sys.ID, &sys.Secret, &sys.KeyID, &created, &rotated); err != nil {
			return nil, fmt.Errorf("VXP systems: %w", err)
		}
		if sys.CreatedAt, err = s.parseTime(created); err != nil {
			return nil, fmt.Errorf("VXP system %s: %w", sys.ID, err)
		}
		if sys.RotatedAt, err = s.parseTime(rotated); err != nil {
			return nil, fmt.Errorf("VXP system %s: %w", sys.ID, err)
		}
		out = append(out, sys)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("VXP systems: %w", err)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Agencies, err = vxpSystemAgencies(ctx, tx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func vxpEvent(kind, actor, id string, agencies []agencyids.Code, extra map[string]any) (*archive.Event, error) {
	d := map[string]any{"system": id, "agencies": codeStrings(agencies)}
	for k, v := range extra {
		d[k] = v
	}
	var agency agencyids.Code
	if len(agencies) == 1 {
		agency = agencies[0]
	}
	return configEvent(kind, actor, agency, d)
}

func codeStrings(cs []agencyids.Code) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, string(c))
	}
	return out
}
