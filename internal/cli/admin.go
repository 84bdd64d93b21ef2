package cli

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edocgw/edocgw/internal/authtoken"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/vxp"
	"github.com/edocgw/edocgw/internal/vxp/upstream"
	"github.com/edocgw/edocgw/routing"
)

// pendingToken is a new bearer token already in its file, kept (commit)
// once its credential is stored, or removed (abort) if that fails.
type pendingToken struct {
	hash authtoken.Hash
	path string
	tmp  string // with --force: written here, renamed over path by commit
}

// createToken makes a token and writes it to path, mode 0600. Without
// force an existing file is refused before anything is changed.
func createToken(path string, force bool) (*pendingToken, error) {
	tok, h, err := authtoken.New(nil)
	if err != nil {
		return nil, err
	}
	p, err := writeSecretFile("token file", path, tok, force)
	if err != nil {
		return nil, err
	}
	p.hash = h
	return p, nil
}

// writeSecretFile writes a secret (a token, a VXP system's secret) and a
// newline to path, mode 0600: a new file, or with force a temporary one
// that commit renames over path. what names the file in errors.
func writeSecretFile(what, path, secret string, force bool) (*pendingToken, error) {
	p := &pendingToken{path: path}
	var (
		f   *os.File
		err error
	)
	if force {
		f, err = os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*") // mode 0600
		if err == nil {
			p.tmp = f.Name()
		}
	} else {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s %s exists: nothing changed (--force replaces it)", what, path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	_, err = f.WriteString(secret + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		p.abort()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return p, nil
}

// commit puts the token file in place.
func (p *pendingToken) commit() error {
	if p == nil || p.tmp == "" {
		return nil
	}
	if err := os.Rename(p.tmp, p.path); err != nil {
		os.Remove(p.tmp)
		return fmt.Errorf("token file: %w (the token was stored: revoke it)", err)
	}
	return nil
}

// abort removes the file the token was written to.
func (p *pendingToken) abort() {
	if p == nil {
		return
	}
	if p.tmp != "" {
		os.Remove(p.tmp)
		return
	}
	os.Remove(p.path)
}

// issue stores a credential for the token it writes to path.
func issue(ctx context.Context, s *store.Store, c store.Credential, path string, force bool) error {
	tok, err := createToken(path, force)
	if err != nil {
		return err
	}
	c.Hash = tok.hash
	if err := s.CreateCredential(ctx, c, actor()); err != nil {
		tok.abort()
		return err
	}
	return tok.commit()
}

func runPeerAdd(args []string, env Env) error {
	f := newFlags("peer add", "[--data DIR | --database-url URL] NAME [--url URL] [--ca CA.pem] [--token-file FILE]\n"+
		"       peer add [--data DIR | --database-url URL] NAME --kind vxp --url ENDPOINT --system-id ID --secret-file FILE [--vxp-key-file F]", env)
	sf := addStoreFlags(f)
	url := f.String("url", "", "the peer's API base, https://host:port (none: it only sends to us); for --kind vxp the SDK endpoint, e.g. https://axis/XrdAdapter/adapter")
	ca := f.String("ca", "", "PEM certificates to trust for the peer's TLS, besides the system roots")
	tokenFile := f.String("token-file", "", "file holding the bearer token we present to the peer")
	kind := f.String("kind", "", "the peer's protocol: edocgw (its API, the default) or vxp (the national axis's SDK protocol)")
	systemID := f.String("system-id", "", "--kind vxp: the systemId the axis issued to this hub")
	secretFile := f.String("secret-file", "", "--kind vxp: file holding the secret the axis issued with the systemId (stored sealed)")
	keyFile := f.String("vxp-key-file", os.Getenv("EDOCGW_VXP_KEY_FILE"), vxpKeyHelp)
	arg, err := f.parseOne(args, "one NAME")
	if err != nil {
		return err
	}
	ctx := context.Background()
	var (
		s   *store.Store
		key *vxp.SecretKey
	)
	if *kind == string(routing.PeerVXP) || *secretFile != "" {
		s, key, err = vxpStore(ctx, sf, *keyFile, env)
	} else {
		s, err = sf.open(ctx, store.Options{})
	}
	if err != nil {
		return err
	}
	defer s.Close()
	// A peer added again keeps what the command line does not change.
	p, err := s.Peer(ctx, arg)
	verb := "updated"
	if errors.Is(err, routing.ErrNotFound) {
		p, verb, err = routing.Peer{Name: arg}, "added", nil
	}
	if err != nil {
		return err
	}
	if *url != "" {
		p.URL = *url
	}
	if *ca != "" {
		certs, err := readCerts(*ca)
		if err != nil {
			return err
		}
		p.CAPEM = nil
		for _, c := range certs {
			p.CAPEM = append(p.CAPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
	}
	if *kind != "" {
		p.Kind = routing.PeerKind(*kind)
	}
	if *systemID != "" {
		if err := vxp.ValidSystemID(*systemID); err != nil {
			return usagef("peer add: --system-id: %v", err)
		}
		p.SystemID = *systemID
	}
	switch {
	case p.Kind == routing.PeerVXP && *tokenFile != "":
		return usagef("peer add: a vxp peer takes --secret-file, not --token-file")
	case p.Kind != routing.PeerVXP && (*secretFile != "" || *systemID != ""):
		return usagef("peer add: --system-id and --secret-file are for --kind vxp")
	case p.Kind == routing.PeerVXP && *secretFile == "" && *systemID != "" && p.Token != "":
		return usagef("peer add: a new --system-id needs its --secret-file")
	}
	for _, tf := range []string{*tokenFile, *secretFile} {
		if tf == "" {
			continue
		}
		b, err := os.ReadFile(tf)
		if err != nil {
			return err
		}
		if p.Token = strings.TrimSpace(string(b)); p.Token == "" {
			return fmt.Errorf("%s: no token in the file", tf)
		}
		if key != nil {
			if p.Token, err = upstream.SealSecret(key, p.SystemID, p.Token); err != nil {
				return err
			}
		}
	}
	if err := s.PutPeer(ctx, p, actor()); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s peer %s\n", verb, p.Name)
	return nil
}

func runPeerToken(args []string, env Env) error {
	f := newFlags("peer token", "[--data DIR | --database-url URL] NAME --token-file OUT [--force]", env)
	sf := addStoreFlags(f)
	tokenFile := f.String("token-file", "", "write the new token the peer authenticates to us with into this file (mode 0600)")
	force := f.Bool("force", false, "replace an existing file")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *tokenFile == "" {
		return usagef("peer token: want one NAME and --token-file")
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	// A peer that only sends to us needs no URL: issuing its token
	// registers it.
	if _, err := s.Peer(ctx, pos[0]); errors.Is(err, routing.ErrNotFound) {
		if err := s.PutPeer(ctx, routing.Peer{Name: pos[0]}, actor()); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := issue(ctx, s, store.Credential{Role: routing.RoleHub, Peer: pos[0]}, *tokenFile, *force); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "token for peer %s written to %s\n", pos[0], *tokenFile)
	return nil
}

type peerJSON struct {
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	SystemID  string    `json:"systemId,omitempty"`
	URL       string    `json:"url,omitempty"`
	Token     bool      `json:"token"`
	CACerts   int       `json:"caCertificates"`
	Routes    []string  `json:"routes"`
	CreatedAt time.Time `json:"createdAt"`
}

func runPeerList(args []string, env Env) error {
	f := newFlags("peer list", "[--data DIR | --database-url URL] [--json]", env)
	sf := addStoreFlags(f)
	asJSON := f.Bool("json", false, "print one JSON record per peer")
	if err := f.parseNone(args); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	peers, err := s.Peers(ctx)
	if err != nil {
		return err
	}
	routes, err := s.Routes(ctx)
	if err != nil {
		return err
	}
	for _, p := range peers {
		rec := peerJSON{Name: p.Name, Kind: string(p.Kind), SystemID: p.SystemID, URL: p.URL, Token: p.Token != "", Routes: []string{}, CreatedAt: p.CreatedAt}
		for rest := p.CAPEM; ; {
			var blk *pem.Block
			if blk, rest = pem.Decode(rest); blk == nil {
				break
			}
			rec.CACerts++
		}
		for _, r := range routes {
			if r.Peer == p.Name {
				rec.Routes = append(rec.Routes, r.Pattern)
			}
		}
		if *asJSON {
			if err := writeJSONLine(env.Stdout, rec); err != nil {
				return err
			}
			continue
		}
		url, token, rs := rec.URL, "none", "none"
		if url == "" {
			url = "-"
		}
		if rec.Token {
			token = "set"
		}
		if len(rec.Routes) > 0 {
			rs = strings.Join(rec.Routes, ",")
		}
		kind := rec.Kind
		if rec.SystemID != "" {
			kind += " system=" + rec.SystemID
		}
		fmt.Fprintf(env.Stdout, "%s %s %s token=%s ca=%d routes=%s\n", p.Name, kind, url, token, rec.CACerts, rs)
	}
	return nil
}

func runRouteAdd(args []string, env Env) error {
	f := newFlags("route add", "[--data DIR | --database-url URL] PATTERN PEER", env)
	sf := addStoreFlags(f)
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("route add: want PATTERN and PEER (PATTERN: *, a level-1 group such as H53, or an agency code)")
	}
	if err := store.ValidRoutePattern(pos[0]); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.PutRoute(ctx, routing.Route{Pattern: pos[0], Peer: pos[1]}, actor()); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "route %s -> %s\n", pos[0], pos[1])
	return nil
}

func runRouteList(args []string, env Env) error {
	f := newFlags("route list", "[--data DIR | --database-url URL] [--json]", env)
	sf := addStoreFlags(f)
	asJSON := f.Bool("json", false, "print one JSON record per route")
	if err := f.parseNone(args); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	routes, err := s.Routes(ctx)
	if err != nil {
		return err
	}
	for _, r := range routes {
		if *asJSON {
			if err := writeJSONLine(env.Stdout, map[string]any{"pattern": r.Pattern, "peer": r.Peer, "createdAt": r.CreatedAt}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(env.Stdout, "%s %s\n", r.Pattern, r.Peer)
	}
	return nil
}

func runRouteRemove(args []string, env Env) error {
	f := newFlags("route remove", "[--data DIR | --database-url URL] PATTERN", env)
	sf := addStoreFlags(f)
	arg, err := f.parseOne(args, "one PATTERN")
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.DeleteRoute(ctx, arg, actor()); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "removed route %s\n", arg)
	return nil
}

func runTokenAdd(args []string, env Env) error {
	f := newFlags("token add", "[--data DIR | --database-url URL] --role auditor|admin --name NAME --token-file OUT [--force]", env)
	sf := addStoreFlags(f)
	role := f.String("role", "", "auditor (reads everything) or admin (manages the directory, routes and credentials)")
	name := f.String("name", "", "the user or purpose the token is for")
	tokenFile := f.String("token-file", "", "write the new token into this file (mode 0600)")
	force := f.Bool("force", false, "replace an existing file")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	switch r := routing.Role(*role); {
	case len(pos) > 0:
		return usagef("token add: unexpected argument %q", pos[0])
	case r != routing.RoleAuditor && r != routing.RoleAdmin:
		return usagef("token add: --role %q: want auditor or admin (agency tokens: agency add --token-file; hub tokens: peer token)", *role)
	case strings.TrimSpace(*name) == "" || *tokenFile == "":
		return usagef("token add: want --name and --token-file")
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := issue(ctx, s, store.Credential{Role: routing.Role(*role), Name: *name}, *tokenFile, *force); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "token for %s %s written to %s\n", *role, *name, *tokenFile)
	return nil
}

func runTokenRevoke(args []string, env Env) error {
	f := newFlags("token revoke", "[--data DIR | --database-url URL] --role agency|hub|auditor|admin SUBJECT", env)
	sf := addStoreFlags(f)
	role := f.String("role", "", "agency (SUBJECT: its code), hub (the peer's name), auditor or admin (the name)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	switch routing.Role(*role) {
	case routing.RoleAgency, routing.RoleHub, routing.RoleAuditor, routing.RoleAdmin:
	default:
		return usagef("token revoke: --role %q: want agency, hub, auditor or admin", *role)
	}
	if len(pos) != 1 {
		return usagef("token revoke: want one SUBJECT")
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	n, err := s.RevokeCredentials(ctx, routing.Role(*role), pos[0], actor())
	if errors.Is(err, routing.ErrNotFound) {
		return fmt.Errorf("no %s token of %s in force", *role, pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "revoked %d %s token(s) of %s\n", n, *role, pos[0])
	return nil
}
