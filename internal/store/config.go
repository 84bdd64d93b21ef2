package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/authtoken"
	"github.com/edocgw/edocgw/routing"
)

// The audit event kinds of configuration changes.
const (
	KindAgencySaved  = "directory.agency.saved"
	KindMemberSaved  = "member.saved"
	KindPeerSaved    = "peer.saved"
	KindRouteSaved   = "route.saved"
	KindRouteRemoved = "route.removed"
	KindTokenCreated = "token.created"
	KindTokenRevoked = "token.revoked"
)

// Credential is a bearer token as stored: its hash and whom it
// authenticates. Agency is set for routing.RoleAgency, Peer for
// routing.RoleHub, Name for the other roles (and optionally for any).
type Credential struct {
	Hash      authtoken.Hash
	Role      routing.Role
	Agency    agencyids.Code
	Peer      string
	Name      string
	CreatedAt time.Time
	RevokedAt time.Time // zero: in force
}

// agencyBatch is how many agencies one INSERT writes.
const agencyBatch = 200

// ConfigVersion returns the configuration's version, which grows with
// every change.
func (s *Store) ConfigVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.query(ctx, "SELECT version FROM config_version WHERE id = 1", nil, func(scan func(...any) error) error {
		return scan(&v)
	})
	switch {
	case err != nil:
		return 0, fmt.Errorf("store: config version: %w", err)
	case v == 0:
		return 0, fmt.Errorf("%w: no config version row", ErrCorrupt)
	}
	return v, nil
}

// Config returns the whole configuration, read from one snapshot.
func (s *Store) Config(ctx context.Context) (*routing.Config, error) {
	var c routing.Config
	err := s.readTx(ctx, func(tx Tx) error {
		var err error
		if err = tx.QueryRow(ctx, "SELECT version FROM config_version WHERE id = 1").Scan(&c.Version); err != nil {
			return fmt.Errorf("version: %w", err)
		}
		if c.Agencies, err = readAgencies(ctx, tx); err != nil {
			return err
		}
		if c.Members, err = s.readMembers(ctx, tx, ""); err != nil {
			return err
		}
		if c.Peers, err = s.readPeers(ctx, tx, ""); err != nil {
			return err
		}
		c.Routes, err = s.readRoutes(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: config: %w", err)
	}
	return &c, nil
}

// Agencies returns the directory, in code order.
func (s *Store) Agencies(ctx context.Context) ([]agencyids.Agency, error) {
	var out []agencyids.Agency
	err := s.readTx(ctx, func(tx Tx) error {
		var err error
		out, err = readAgencies(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: agencies: %w", err)
	}
	return out, nil
}

// Directory returns the directory loaded into an agencyids.Directory, read
// afresh (to change it, or where the hub's copy is not at hand).
func (s *Store) Directory(ctx context.Context) (*agencyids.Directory, error) {
	as, err := s.Agencies(ctx)
	if err != nil {
		return nil, err
	}
	d := agencyids.NewDirectory()
	if err := d.Load(as); err != nil {
		return nil, fmt.Errorf("store: agency directory: %w", err)
	}
	return d, nil
}

// HasAgencies reports whether the directory holds any agency.
func (s *Store) HasAgencies(ctx context.Context) (bool, error) {
	n := 0
	if err := s.query(ctx, "SELECT 1 FROM agencies LIMIT 1", nil, func(scan func(...any) error) error {
		n++
		return scan(new(int))
	}); err != nil {
		return false, fmt.Errorf("store: agencies: %w", err)
	}
	return n > 0, nil
}

// Members returns the members, in code order.
func (s *Store) Members(ctx context.Context) ([]routing.Member, error) {
	var out []routing.Member
	err := s.readTx(ctx, func(tx Tx) error {
		var err error
		out, err = s.readMembers(ctx, tx, "")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: members: %w", err)
	}
	return out, nil
}

// Member returns a member; routing.ErrNotFound if code is none.
func (s *Store) Member(ctx context.Context, code agencyids.Code) (routing.Member, error) {
	var ms []routing.Member
	err := s.readTx(ctx, func(tx Tx) error {
		var err error
		ms, err = s.readMembers(ctx, tx, code)
		return err
	})
	switch {
	case err != nil:
		return routing.Member{}, fmt.Errorf("store: member %s: %w", code, err)
	case len(ms) == 0:
		return routing.Member{}, fmt.Errorf("store: member %s: %w", code, routing.ErrNotFound)
	}
	return ms[0], nil
}

// Peers returns the peer hubs, in name order.
func (s *Store) Peers(ctx context.Context) ([]routing.Peer, error) {
	var out []routing.Peer
	err := s.readTx(ctx, func(tx Tx) error {
		var err error
		out, err = s.readPeers(ctx, tx, "")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: peers: %w", err)
	}
	return out, nil
}

// Peer returns a peer hub; routing.ErrNotFound if name is none.
func (s *Store) Peer(ctx context.Context, name string) (routing.Peer, error) {
	var ps []routing.Peer
	err := s.readTx(ctx, func(tx Tx) error {
		var err error
		ps, err = s.readPeers(ctx, tx, name)
		return err
	})
	switch {
	case err != nil:
		return routing.Peer{}, fmt.Errorf("store: peer %s: %w", name, err)
	case len(ps) == 0:
		return routing.Peer{}, fmt.Errorf("store: peer %s: %w", name, routing.ErrNotFound)
	}
	return ps[0], nil
}

// Routes returns the route table, in pattern order.
func (s *Store) Routes(ctx context.Context) ([]routing.Route, error) {
	var out []routing.Route
	err := s.readTx(ctx, func(tx Tx) error {
		var err error
		out, err = s.readRoutes(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: routes: %w", err)
	}
	return out, nil
}

// SaveAgencies inserts agencies or replaces those with the same code, in
// one transaction with one audit event naming the codes. It checks each
// record alone (a strictly valid code, a name); whether the directory
// stays consistent (parents, successors, retired codes) is the caller's
// question, answered by loading it into an agencyids.Directory first.
func (s *Store) SaveAgencies(ctx context.Context, agencies []agencyids.Agency, actor string) error {
	if len(agencies) == 0 {
		return nil
	}
	return s.configTx(ctx, "save agencies", func(tx Tx, version int64) ([]*archive.Event, error) {
		e, err := s.saveAgencies(ctx, tx, agencies, actor, version)
		return []*archive.Event{e}, err
	})
}

// SaveAgenciesIfEmpty is SaveAgencies if the directory is empty, all in
// one transaction (a first import that two processes may race to do); it
// reports whether it saved them.
func (s *Store) SaveAgenciesIfEmpty(ctx context.Context, agencies []agencyids.Agency, actor string) (bool, error) {
	if len(agencies) == 0 {
		return false, nil
	}
	saved := false
	err := s.InTx(ctx, func(tx Tx) error {
		saved = false
		switch err := tx.QueryRow(ctx, "SELECT 1 FROM agencies LIMIT 1").Scan(new(int)); {
		case err == nil:
			return nil
		case !isNoRows(err):
			return err
		}
		version, err := bumpConfig(ctx, tx)
		if err != nil {
			return err
		}
		e, err := s.saveAgencies(ctx, tx, agencies, actor, version)
		if err != nil {
			return err
		}
		saved = true
		return s.AppendAudit(ctx, tx, e)
	})
	if err != nil {
		return false, fmt.Errorf("store: first import of agencies: %w", err)
	}
	return saved, nil
}

func (s *Store) saveAgencies(ctx context.Context, tx Tx, agencies []agencyids.Agency, actor string, version int64) (*archive.Event, error) {
	// The last record of a code wins; codes keep their first position.
	at := map[agencyids.Code]int{}
	var batch []agencyids.Agency
	for _, a := range agencies {
		if !a.Code.Valid() || strings.TrimSpace(a.Name) == "" {
			return nil, fmt.Errorf("%w: agency %q without a valid code or a name", ErrBadArgument, a.Code)
		}
		if i, ok := at[a.Code]; ok {
			batch[i] = a
			continue
		}
		at[a.Code] = len(batch)
		batch = append(batch, a)
	}
	now := s.timeArg(s.now())
	codes := make([]string, 0, len(batch))
	for len(batch) > 0 {
		n := min(len(batch), agencyBatch)
		var (
			values []string
			args   []any
		)
		for _, a := range batch[:n] {
			data, err := json.Marshal(a)
			if err != nil {
				return nil, fmt.Errorf("agency %s: %w", a.Code, err)
			}
			args = append(args, string(a.Code), string(data), now)
			k := len(args)
			values = append(values, fmt.Sprintf("($%d, $%d, $%d)", k-2, k-1, k))
			codes = append(codes, string(a.Code))
		}
		if _, err := tx.Exec(ctx, "INSERT INTO agencies (code, data, updated_at) VALUES "+strings.Join(values, ", ")+
			" ON CONFLICT (code) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at", args...); err != nil {
			return nil, fmt.Errorf("insert agencies: %w", err)
		}
		batch = batch[n:]
	}
	var agency agencyids.Code
	if len(codes) == 1 {
		agency = agencyids.Code(codes[0])
	}
	return configEvent(KindAgencySaved, actor, agency, map[string]any{"codes": codes, "count": len(codes), "configVersion": version})
}

// PutMember makes an agency a member or changes how it is served. A zero
// Mode is pull, a zero Signature is required; CreatedAt is kept from the
// first time.
func (s *Store) PutMember(ctx context.Context, m routing.Member, actor string) error {
	return s.AddMember(ctx, nil, m, nil, actor)
}

// AddMember records, in one transaction, the agency a in the directory
// (unless a is nil), m as a member and the credential c (unless nil).
func (s *Store) AddMember(ctx context.Context, a *agencyids.Agency, m routing.Member, c *Credential, actor string) error {
	if err := s.checkMember(&m); err != nil {
		return err
	}
	if c != nil {
		if err := s.checkCredential(c); err != nil {
			return err
		}
	}
	return s.configTx(ctx, "put member "+string(m.Code), func(tx Tx, version int64) ([]*archive.Event, error) {
		var events []*archive.Event
		if a != nil {
			e, err := s.saveAgencies(ctx, tx, []agencyids.Agency{*a}, actor, version)
			if err != nil {
				return nil, err
			}
			events = append(events, e)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO members (code, mode, push_url, signature, created_at) VALUES ($1, $2, $3, $4, $5)"+
			" ON CONFLICT (code) DO UPDATE SET mode = excluded.mode, push_url = excluded.push_url, signature = excluded.signature",
			string(m.Code), string(m.Mode), m.PushURL, string(m.Signature), s.timeArg(m.CreatedAt)); err != nil {
			return nil, err
		}
		e, err := configEvent(KindMemberSaved, actor, m.Code, map[string]any{"mode": m.Mode, "pushUrl": m.PushURL,
			"signature": m.Signature, "configVersion": version})
		if err != nil {
			return nil, err
		}
		events = append(events, e)
		if c != nil {
			e, err := s.insertCredential(ctx, tx, c, actor, version)
			if err != nil {
				return nil, err
			}
			events = append(events, e)
		}
		return events, nil
	})
}

func (s *Store) checkMember(m *routing.Member) error {
	if m.Mode == "" {
		m.Mode = routing.ModePull
	}
	if m.Signature == "" {
		m.Signature = routing.SignatureRequired
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.now()
	}
	switch {
	case !m.Code.Valid():
		return fmt.Errorf("%w: member code %q is not a valid agency code", ErrBadArgument, m.Code)
	case m.Mode != routing.ModePull && m.Mode != routing.ModePush:
		return fmt.Errorf("%w: member %s: mode %q", ErrBadArgument, m.Code, m.Mode)
	case m.Signature != routing.SignatureRequired && m.Signature != routing.SignatureAll && m.Signature != routing.SignatureOptional:
		return fmt.Errorf("%w: member %s: signature policy %q", ErrBadArgument, m.Code, m.Signature)
	case m.Mode == routing.ModePush && m.PushURL == "":
		return fmt.Errorf("%w: member %s: push mode without a URL", ErrBadArgument, m.Code)
	case m.Mode == routing.ModePull && m.PushURL != "":
		return fmt.Errorf("%w: member %s: a push URL in pull mode", ErrBadArgument, m.Code)
	}
	if m.PushURL != "" {
		if err := checkURL(m.PushURL); err != nil {
			return fmt.Errorf("%w: member %s: push URL: %v", ErrBadArgument, m.Code, err)
		}
	}
	return nil
}

// PutPeer adds a peer hub or replaces its URL, token and CA certificates;
// CreatedAt is kept from the first time.
func (s *Store) PutPeer(ctx context.Context, p routing.Peer, actor string) error {
	if err := checkPeerName(p.Name); err != nil {
		return err
	}
	if p.URL != "" {
		if err := checkURL(p.URL); err != nil {
			return fmt.Errorf("%w: peer %s: URL: %v", ErrBadArgument, p.Name, err)
		}
	}
	if len(p.CAPEM) > 0 {
		if blk, _ := pem.Decode(p.CAPEM); blk == nil || blk.Type != "CERTIFICATE" {
			return fmt.Errorf("%w: peer %s: CA is not PEM certificates", ErrBadArgument, p.Name)
		}
	}
	if p.Kind == "" {
		p.Kind = routing.PeerEdocgw
	}
	switch {
	case !p.Kind.Valid():
		return fmt.Errorf("%w: peer %s: kind %q (want edocgw or vxp)", ErrBadArgument, p.Name, p.Kind)
	case p.Kind == routing.PeerVXP && (p.URL == "" || p.SystemID == "" || p.Token == ""):
		return fmt.Errorf("%w: peer %s: a vxp peer needs a URL, a systemId and a secret", ErrBadArgument, p.Name)
	case p.Kind != routing.PeerVXP && p.SystemID != "":
		return fmt.Errorf("%w: peer %s: a systemId is for vxp peers", ErrBadArgument, p.Name)
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.now()
	}
	return s.configTx(ctx, "put peer "+p.Name, func(tx Tx, version int64) ([]*archive.Event, error) {
		if _, err := tx.Exec(ctx, "INSERT INTO peers (name, url, token, ca_pem, created_at, kind, system_id) VALUES ($1, $2, $3, $4, $5, $6, $7)"+
			" ON CONFLICT (name) DO UPDATE SET url = excluded.url, token = excluded.token, ca_pem = excluded.ca_pem,"+
			" kind = excluded.kind, system_id = excluded.system_id",
			p.Name, p.URL, p.Token, string(p.CAPEM), s.timeArg(p.CreatedAt), string(p.Kind), p.SystemID); err != nil {
			return nil, err
		}
		// The token itself stays out of the audit log.
		d := map[string]any{"peer": p.Name, "kind": p.Kind, "url": p.URL, "token": p.Token != "", "ca": len(p.CAPEM) > 0, "configVersion": version}
		if p.SystemID != "" {
			d["systemId"] = p.SystemID
		}
		e, err := configEvent(KindPeerSaved, actor, "", d)
		return []*archive.Event{e}, err
	})
}

// PutRoute adds a route or points its pattern at another peer. The pattern
// must be valid (ValidRoutePattern) and the peer known, else the error
// wraps ErrBadArgument.
func (s *Store) PutRoute(ctx context.Context, r routing.Route, actor string) error {
	if err := ValidRoutePattern(r.Pattern); err != nil {
		return err
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	return s.configTx(ctx, "put route "+r.Pattern, func(tx Tx, version int64) ([]*archive.Event, error) {
		if err := peerExists(ctx, tx, r.Peer); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO routes (pattern, peer, created_at) VALUES ($1, $2, $3)"+
			" ON CONFLICT (pattern) DO UPDATE SET peer = excluded.peer, created_at = excluded.created_at",
			r.Pattern, r.Peer, s.timeArg(r.CreatedAt)); err != nil {
			return nil, err
		}
		e, err := configEvent(KindRouteSaved, actor, "", map[string]any{"pattern": r.Pattern, "peer": r.Peer, "configVersion": version})
		return []*archive.Event{e}, err
	})
}

// DeleteRoute removes the route of pattern; routing.ErrNotFound if there
// is none.
func (s *Store) DeleteRoute(ctx context.Context, pattern, actor string) error {
	return s.configTx(ctx, "remove route "+pattern, func(tx Tx, version int64) ([]*archive.Event, error) {
		var peer string
		switch err := tx.QueryRow(ctx, "DELETE FROM routes WHERE pattern = $1 RETURNING peer", pattern).Scan(&peer); {
		case isNoRows(err):
			return nil, routing.ErrNotFound
		case err != nil:
			return nil, err
		}
		e, err := configEvent(KindRouteRemoved, actor, "", map[string]any{"pattern": pattern, "peer": peer, "configVersion": version})
		return []*archive.Event{e}, err
	})
}

// ValidRoutePattern checks a route pattern: "*", a level-1 group ("H53",
// "G09") or a strictly valid agency code. Its error wraps ErrBadArgument.
func ValidRoutePattern(p string) error {
	if p == "*" || isLevel1Group(p) || agencyids.Code(p).Valid() {
		return nil
	}
	return fmt.Errorf("%w: route pattern %q is not *, a level-1 group (H53) or an agency code", ErrBadArgument, p)
}

// isLevel1Group reports an upper-case letter followed by two digits.
func isLevel1Group(p string) bool {
	return len(p) == 3 && 'A' <= p[0] && p[0] <= 'Z' && '0' <= p[1] && p[1] <= '9' && '0' <= p[2] && p[2] <= '9'
}

// CreateCredential stores a token's hash for its principal. A hub
// credential needs a known peer.
func (s *Store) CreateCredential(ctx context.Context, c Credential, actor string) error {
	if err := s.checkCredential(&c); err != nil {
		return err
	}
	return s.configTx(ctx, "create credential", func(tx Tx, version int64) ([]*archive.Event, error) {
		e, err := s.insertCredential(ctx, tx, &c, actor, version)
		return []*archive.Event{e}, err
	})
}

func (s *Store) checkCredential(c *Credential) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	switch {
	case c.Hash == authtoken.Hash{}:
		return fmt.Errorf("%w: credential without a hash", ErrBadArgument)
	case !c.RevokedAt.IsZero():
		return fmt.Errorf("%w: a new credential is not revoked", ErrBadArgument)
	}
	switch c.Role {
	case routing.RoleAgency:
		if !c.Agency.Valid() || c.Peer != "" {
			return fmt.Errorf("%w: agency credential for %q (peer %q)", ErrBadArgument, c.Agency, c.Peer)
		}
	case routing.RoleHub:
		if c.Peer == "" || c.Agency != "" {
			return fmt.Errorf("%w: hub credential for peer %q (agency %q)", ErrBadArgument, c.Peer, c.Agency)
		}
	case routing.RoleAuditor, routing.RoleAdmin:
		if strings.TrimSpace(c.Name) == "" || c.Agency != "" || c.Peer != "" {
			return fmt.Errorf("%w: %s credential needs a name and nothing else", ErrBadArgument, c.Role)
		}
	default:
		return fmt.Errorf("%w: role %q", ErrBadArgument, c.Role)
	}
	return nil
}

func (s *Store) insertCredential(ctx context.Context, tx Tx, c *Credential, actor string, version int64) (*archive.Event, error) {
	if c.Role == routing.RoleHub {
		if err := peerExists(ctx, tx, c.Peer); err != nil {
			return nil, err
		}
	}
	if _, err := tx.Exec(ctx, "INSERT INTO credentials (hash, role, agency, peer, name, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
		c.Hash[:], string(c.Role), string(c.Agency), c.Peer, c.Name, s.timeArg(c.CreatedAt)); err != nil {
		return nil, fmt.Errorf("insert credential: %w", err)
	}
	return configEvent(KindTokenCreated, actor, c.Agency, map[string]any{"role": c.Role, "subject": subject(c.Role, c.Agency, c.Peer, c.Name),
		"name": c.Name, "token": tokenID(c.Hash), "configVersion": version})
}

// LookupToken returns the principal of a token's hash; routing.ErrNotFound
// when it is unknown or revoked.
func (s *Store) LookupToken(ctx context.Context, h authtoken.Hash) (routing.Principal, error) {
	var (
		p                  routing.Principal
		role, agency, name string
		found              bool
	)
	err := s.query(ctx, "SELECT role, agency, peer, name FROM credentials WHERE hash = $1 AND revoked_at IS NULL", []any{h[:]},
		func(scan func(...any) error) error {
			found = true
			return scan(&role, &agency, &p.Peer, &name)
		})
	switch {
	case err != nil:
		return routing.Principal{}, fmt.Errorf("store: token %s: %w", tokenID(h), err)
	case !found:
		return routing.Principal{}, fmt.Errorf("store: token %s: %w", tokenID(h), routing.ErrNotFound)
	}
	p.Role, p.Agency, p.Name, p.Via = routing.Role(role), agencyids.Code(agency), name, "token"
	return p, nil
}

// RevokeCredentials revokes every token in force of role for subject (an
// agency code, a peer name, or an auditor's or admin's name) and returns
// how many; none is routing.ErrNotFound.
func (s *Store) RevokeCredentials(ctx context.Context, role routing.Role, subject string, actor string) (int, error) {
	var column string
	switch role {
	case routing.RoleAgency:
		column = "agency"
	case routing.RoleHub:
		column = "peer"
	case routing.RoleAuditor, routing.RoleAdmin:
		column = "name"
	default:
		return 0, fmt.Errorf("%w: role %q", ErrBadArgument, role)
	}
	if subject == "" {
		return 0, fmt.Errorf("%w: revoke %s tokens of nobody", ErrBadArgument, role)
	}
	n := 0
	err := s.configTx(ctx, "revoke "+string(role)+" tokens of "+subject, func(tx Tx, version int64) ([]*archive.Event, error) {
		n = 0
		rows, err := tx.Exec(ctx, "UPDATE credentials SET revoked_at = $1 WHERE role = $2 AND "+column+" = $3 AND revoked_at IS NULL",
			s.timeArg(s.now()), string(role), subject)
		if err != nil {
			return nil, err
		}
		if rows == 0 {
			return nil, routing.ErrNotFound
		}
		n = int(rows)
		var agency agencyids.Code
		if role == routing.RoleAgency {
			agency = agencyids.Code(subject)
		}
		e, err := configEvent(KindTokenRevoked, actor, agency, map[string]any{"role": role, "subject": subject, "count": n, "configVersion": version})
		return []*archive.Event{e}, err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// configTx runs fn in a transaction that first bumps the configuration
// version and then appends the events fn returns.
func (s *Store) configTx(ctx context.Context, what string, fn func(tx Tx, version int64) ([]*archive.Event, error)) error {
	err := s.InTx(ctx, func(tx Tx) error {
		version, err := bumpConfig(ctx, tx)
		if err != nil {
			return err
		}
		events, err := fn(tx, version)
		if err != nil {
			return err
		}
		return s.AppendAudit(ctx, tx, events...)
	})
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

func bumpConfig(ctx context.Context, tx Tx) (int64, error) {
	var v int64
	if err := tx.QueryRow(ctx, "UPDATE config_version SET version = version + 1 WHERE id = 1 RETURNING version").Scan(&v); err != nil {
		return 0, fmt.Errorf("bump config version: %w", err)
	}
	return v, nil
}

func configEvent(kind, actor string, agency agencyids.Code, details map[string]any) (*archive.Event, error) {
	b, err := json.Marshal(details)
	if err != nil {
		return nil, fmt.Errorf("%s event: %w", kind, err)
	}
	return &archive.Event{Kind: kind, Actor: actor, Agency: agency, Details: b}, nil
}

func peerExists(ctx context.Context, tx Tx, name string) error {
	switch err := tx.QueryRow(ctx, "SELECT 1 FROM peers WHERE name = $1", name).Scan(new(int)); {
	case isNoRows(err):
		return fmt.Errorf("%w: no peer %q", ErrBadArgument, name)
	case err != nil:
		return fmt.Errorf("peer %s: %w", name, err)
	}
	return nil
}

// checkPeerName allows 1–64 letters, digits, '.', '_' and '-'.
func checkPeerName(name string) error {
	ok := len(name) > 0 && len(name) <= 64
	for _, c := range name {
		ok = ok && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-')
	}
	if !ok {
		return fmt.Errorf("%w: peer name %q (want 1-64 of A-Z a-z 0-9 . _ -)", ErrBadArgument, name)
	}
	return nil
}

// checkURL accepts an absolute http or https URL with a host.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL with a host", s)
	}
	return nil
}

// subject names a credential's principal as RevokeCredentials takes it.
func subject(role routing.Role, agency agencyids.Code, peer, name string) string {
	switch role {
	case routing.RoleAgency:
		return string(agency)
	case routing.RoleHub:
		return peer
	}
	return name
}

// tokenID is the first 8 bytes of a token's hash, in hex: enough to tell
// tokens apart in the audit log.
func tokenID(h authtoken.Hash) string { return hex.EncodeToString(h[:8]) }

func readAgencies(ctx context.Context, tx Tx) ([]agencyids.Agency, error) {
	rows, err := tx.Query(ctx, "SELECT code, data FROM agencies ORDER BY code")
	if err != nil {
		return nil, fmt.Errorf("agencies: %w", err)
	}
	defer rows.Close()
	var out []agencyids.Agency
	for rows.Next() {
		var (
			code, data string
			a          agencyids.Agency
		)
		if err := rows.Scan(&code, &data); err != nil {
			return nil, fmt.Errorf("agencies: %w", err)
		}
		if err := json.Unmarshal([]byte(data), &a); err != nil || string(a.Code) != code {
			return nil, fmt.Errorf("%w: agency %s: %v", ErrCorrupt, code, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("agencies: %w", err)
	}
	return out, rows.Close()
}

// readMembers reads every member, or the one of code.
func (s *Store) readMembers(ctx context.Context, tx Tx, code agencyids.Code) ([]routing.Member, error) {
	q, args := "SELECT code, mode, push_url, signature, created_at FROM members", []any{}
	if code != "" {
		q, args = q+" WHERE code = $1", append(args, string(code))
	}
	rows, err := tx.Query(ctx, q+" ORDER BY code", args...)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	defer rows.Close()
	var out []routing.Member
	for rows.Next() {
		var (
			m                     routing.Member
			code, mode, signature string
			created               any
		)
		if err := rows.Scan(&code, &mode, &m.PushURL, &signature, &created); err != nil {
			return nil, fmt.Errorf("members: %w", err)
		}
		if m.CreatedAt, err = s.parseTime(created); err != nil {
			return nil, fmt.Errorf("member %s: %w", code, err)
		}
		m.Code, m.Mode, m.Signature = agencyids.Code(code), routing.Mode(mode), routing.SignaturePolicy(signature)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	return out, rows.Close()
}

// readPeers reads every peer, or the one named name.
func (s *Store) readPeers(ctx context.Context, tx Tx, name string) ([]routing.Peer, error) {
	q, args := "SELECT name, url, token, ca_pem, created_at, kind, system_id FROM peers", []any{}
	if name != "" {
		q, args = q+" WHERE name = $1", append(args, name)
	}
	rows, err := tx.Query(ctx, q+" ORDER BY name", args...)
	if err != nil {
		return nil, fmt.Errorf("peers: %w", err)
	}
	defer rows.Close()
	var out []routing.Peer
	for rows.Next() {
		var (
			p       routing.Peer
			ca      string
			created any
		)
		if err := rows.Scan(&p.Name, &p.URL, &p.Token, &ca, &created, &p.Kind, &p.SystemID); err != nil {
			return nil, fmt.Errorf("peers: %w", err)
		}
		if p.CreatedAt, err = s.parseTime(created); err != nil {
			return nil, fmt.Errorf("peer %s: %w", p.Name, err)
		}
		if ca != "" {
			p.CAPEM = []byte(ca)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("peers: %w", err)
	}
	return out, rows.Close()
}

func (s *Store) readRoutes(ctx context.Context, tx Tx) ([]routing.Route, error) {
	rows, err := tx.Query(ctx, "SELECT pattern, peer, created_at FROM routes ORDER BY pattern")
	if err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	defer rows.Close()
	var out []routing.Route
	for rows.Next() {
		var (
			r       routing.Route
			created any
		)
		if err := rows.Scan(&r.Pattern, &r.Peer, &created); err != nil {
			return nil, fmt.Errorf("routes: %w", err)
		}
		if r.CreatedAt, err = s.parseTime(created); err != nil {
			return nil, fmt.Errorf("route %s: %w", r.Pattern, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	return out, rows.Close()
}
