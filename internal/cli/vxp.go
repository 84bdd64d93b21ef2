package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/internal/vxp"
	"github.com/edocgw/edocgw/routing"
)

// The national axis's SDK protocol (internal/vxp): the systems that speak
// it, and its mount in serve.

// vxpKeyHelp describes --vxp-key-file.
const vxpKeyHelp = "the key that seals VXP systems' secrets (AES-256, base64; $EDOCGW_VXP_KEY_FILE; default DATA/pki/vxp-secrets.key, made on first use)"

// vxpCommands are the subcommands of edocgw vxp.
func vxpCommands() []*command {
	return []*command{
		{name: "system", summary: "document-management systems on the SDK protocol: systemId, secret, agencies", sub: []*command{
			{name: "add", summary: "add a system for member agencies, writing its new secret to a file", run: runVxpSystemAdd},
			{name: "list", summary: "list the systems and their agencies", run: runVxpSystemList},
			{name: "update", summary: "replace a system's agencies", run: runVxpSystemUpdate},
			{name: "rotate", summary: "give a system a new secret (the old one stops working)", run: runVxpSystemRotate},
			{name: "remove", summary: "remove a system (its agencies stay members)", run: runVxpSystemRemove},
		}},
	}
}

// vxpKeyPath is the key file: the flag, else DATA/pki/vxp-secrets.key.
func vxpKeyPath(flag, data string) string {
	if flag != "" {
		return flag
	}
	return filepath.Join(data, "pki", "vxp-secrets.key")
}

// vxpAgencyFlags parses --agency values.
func vxpAgencyFlags(values []string) ([]agencyids.Code, error) {
	var out []agencyids.Code
	for _, v := range values {
		for s := range strings.SplitSeq(v, ",") {
			c, err := agencyids.Parse(strings.TrimSpace(s))
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// newSecretFile writes a new secret to path, mode 0600, as createToken
// writes tokens: refused if the file exists unless force.
func newSecretFile(path string, force bool) (string, *pendingToken, error) {
	secret, err := vxp.GenerateSecret()
	if err != nil {
		return "", nil, err
	}
	p, err := writeSecretFile("secret file", path, secret, force)
	if err != nil {
		return "", nil, err
	}
	return secret, p, nil
}

// vxpStore opens the stores and the key (made if need be).
func vxpStore(ctx context.Context, sf storeFlags, keyFlag string, env Env) (*store.Store, *vxp.SecretKey, error) {
	path := vxpKeyPath(keyFlag, *sf.data)
	key, created, err := vxp.EnsureSecretKey(path)
	if err != nil {
		return nil, nil, err
	}
	if created {
		fmt.Fprintf(env.Stderr, "edocgw: created the VXP key file %s (key %s): every edocgw serve on this database needs it; back it up apart from the database\n", path, key.ID())
	}
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	return s, key, nil
}

func runVxpSystemAdd(args []string, env Env) error {
	f := newFlags("vxp system add", "[--data DIR | --database-url URL] [--vxp-key-file F] SYSTEMID --agency CODE… --secret-file FILE [--force]", env)
	sf := addStoreFlags(f)
	keyFile := f.String("vxp-key-file", os.Getenv("EDOCGW_VXP_KEY_FILE"), vxpKeyHelp)
	secretFile := f.String("secret-file", "", "write the system's new secret into this file (mode 0600): the DMS's secret/SecretKey")
	force := f.Bool("force", false, "replace an existing secret file")
	var agencies multi
	f.Var(&agencies, "agency", "a member agency (pull) the system sends and receives for (repeatable, or comma-separated)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1 || *secretFile == "" || len(agencies) == 0:
		return usagef("vxp system add: want one SYSTEMID, --agency and --secret-file")
	}
	if err := vxp.ValidSystemID(pos[0]); err != nil {
		return err
	}
	codes, err := vxpAgencyFlags(agencies)
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, key, err := vxpStore(ctx, sf, *keyFile, env)
	if err != nil {
		return err
	}
	defer s.Close()
	secret, file, err := newSecretFile(*secretFile, *force)
	if err != nil {
		return err
	}
	sealed, err := key.Seal(pos[0], secret)
	if err == nil {
		err = s.AddVXPSystem(ctx, vxp.System{ID: pos[0], Agencies: codes, Secret: sealed, KeyID: key.ID()}, actor())
	}
	if err != nil {
		file.abort()
		return err
	}
	if err := file.commit(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "added VXP system %s for %s; secret written to %s\n", pos[0], joinCodes(codes), *secretFile)
	return nil
}

func joinCodes(cs []agencyids.Code) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ",")
}

type vxpSystemJSON struct {
	System    string           `json:"system"`
	Agencies  []agencyids.Code `json:"agencies"`
	KeyID     string           `json:"keyId"`
	KeyOK     bool             `json:"keyOk"` // the key file opens its secret
	CreatedAt time.Time        `json:"createdAt"`
	RotatedAt time.Time        `json:"rotatedAt"`
}

func runVxpSystemList(args []string, env Env) error {
	f := newFlags("vxp system list", "[--data DIR | --database-url URL] [--vxp-key-file F] [--json]", env)
	sf := addStoreFlags(f)
	keyFile := f.String("vxp-key-file", os.Getenv("EDOCGW_VXP_KEY_FILE"), vxpKeyHelp)
	asJSON := f.Bool("json", false, "print one JSON record per system")
	if err := f.parseNone(args); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	// Listing makes no key: a missing one shows as keyOk false.
	key, _ := vxp.LoadSecretKey(vxpKeyPath(*keyFile, *sf.data))
	systems, err := s.VXPSystems(ctx)
	if err != nil {
		return err
	}
	for _, sys := range systems {
		rec := vxpSystemJSON{System: sys.ID, Agencies: sys.Agencies, KeyID: sys.KeyID, CreatedAt: sys.CreatedAt, RotatedAt: sys.RotatedAt}
		if key != nil {
			_, err := key.Open(sys.ID, sys.Secret)
			rec.KeyOK = err == nil
		}
		if *asJSON {
			if err := writeJSONLine(env.Stdout, rec); err != nil {
				return err
			}
			continue
		}
		state := "key-ok"
		if !rec.KeyOK {
			state = "KEY-MISMATCH"
		}
		fmt.Fprintf(env.Stdout, "%s %s key=%s %s rotated=%s\n", sys.ID, joinCodes(sys.Agencies), sys.KeyID, state, sys.RotatedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

func runVxpSystemUpdate(args []string, env Env) error {
	f := newFlags("vxp system update", "[--data DIR | --database-url URL] SYSTEMID --agency CODE…", env)
	sf := addStoreFlags(f)
	var agencies multi
	f.Var(&agencies, "agency", "the system's agencies from now on (repeatable, or comma-separated)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || len(agencies) == 0 {
		return usagef("vxp system update: want one SYSTEMID and --agency")
	}
	codes, err := vxpAgencyFlags(agencies)
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.SetVXPAgencies(ctx, pos[0], codes, actor()); err != nil {
		return vxpNotFound(pos[0], err)
	}
	fmt.Fprintf(env.Stdout, "VXP system %s now for %s\n", pos[0], joinCodes(codes))
	return nil
}

func runVxpSystemRotate(args []string, env Env) error {
	f := newFlags("vxp system rotate", "[--data DIR | --database-url URL] [--vxp-key-file F] SYSTEMID --secret-file FILE [--force]", env)
	sf := addStoreFlags(f)
	keyFile := f.String("vxp-key-file", os.Getenv("EDOCGW_VXP_KEY_FILE"), vxpKeyHelp)
	secretFile := f.String("secret-file", "", "write the new secret into this file (mode 0600)")
	force := f.Bool("force", false, "replace an existing secret file")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *secretFile == "" {
		return usagef("vxp system rotate: want one SYSTEMID and --secret-file")
	}
	ctx := context.Background()
	s, key, err := vxpStore(ctx, sf, *keyFile, env)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.VXPSystem(ctx, pos[0]); err != nil {
		return vxpNotFound(pos[0], err)
	}
	secret, file, err := newSecretFile(*secretFile, *force)
	if err != nil {
		return err
	}
	sealed, err := key.Seal(pos[0], secret)
	if err == nil {
		err = s.RotateVXPSecret(ctx, pos[0], sealed, key.ID(), actor())
	}
	if err != nil {
		file.abort()
		return vxpNotFound(pos[0], err)
	}
	if err := file.commit(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "new secret of VXP system %s written to %s; the old one no longer works\n", pos[0], *secretFile)
	return nil
}

func runVxpSystemRemove(args []string, env Env) error {
	f := newFlags("vxp system remove", "[--data DIR | --database-url URL] SYSTEMID", env)
	sf := addStoreFlags(f)
	arg, err := f.parseOne(args, "one SYSTEMID")
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.RemoveVXPSystem(ctx, arg, actor()); err != nil {
		return vxpNotFound(arg, err)
	}
	fmt.Fprintf(env.Stdout, "removed VXP system %s\n", arg)
	return nil
}

func vxpNotFound(id string, err error) error {
	if errors.Is(err, routing.ErrNotFound) {
		return fmt.Errorf("no VXP system %s", id)
	}
	return err
}

// vxpServeFlags are serve's flags of the SDK protocol.
type vxpServeFlags struct {
	prefixes *multi
	keyFile  *string
	skew     *time.Duration
	poll     *time.Duration
}

func addVXPServeFlags(f *flags) vxpServeFlags {
	v := vxpServeFlags{prefixes: &multi{}}
	f.Var(v.prefixes, "vxp-prefix", "serve the national axis's SDK protocol under this path (repeatable; / for the root, where only its method names are taken; off disables it; default "+vxp.DefaultPrefix+")")
	v.keyFile = f.String("vxp-key-file", os.Getenv("EDOCGW_VXP_KEY_FILE"), vxpKeyHelp)
	v.skew = f.Duration("vxp-max-skew", 0, "refuse SDK requests whose signed timestamp is further than this from now (0: no check; the SDK's timestamp is fixed per service object)")
	v.poll = f.Duration("vxp-poll", 30*time.Second, "how often to fetch what vxp peers (the national axis) hold for our agencies (0: never)")
	return v
}

// key loads the VXP key file, making it on first use.
func (v vxpServeFlags) key(data string) (*vxp.SecretKey, string, error) {
	path := vxpKeyPath(*v.keyFile, data)
	key, _, err := vxp.EnsureSecretKey(path)
	return key, path, err
}

// mount wraps next with the SDK protocol under the prefixes; note says
// where, for serve to print.
func (v vxpServeFlags) mount(next http.Handler, hub *routing.Hub, st *store.Store, key *vxp.SecretKey, keyPath string, maxPacket int64, spool string,
	reg prometheus.Registerer, logger *slog.Logger, now func() time.Time) (h http.Handler, note string, err error) {
	prefixes := []string(*v.prefixes)
	switch {
	case len(prefixes) == 0:
		prefixes = []string{vxp.DefaultPrefix}
	case slices.Contains(prefixes, "off"):
		if len(prefixes) > 1 {
			return nil, "", usagef("serve: --vxp-prefix off goes alone")
		}
		return next, "", nil
	}
	vh, err := vxp.New(vxp.Config{Hub: hub, Store: st, Key: key, MaxBody: maxPacket, SpoolDir: spool, MaxSkew: *v.skew,
		Registerer: reg, Logger: logger, Now: now})
	if err != nil {
		return nil, "", err
	}
	h, err = vh.Mount(next, prefixes...)
	if err != nil {
		return nil, "", usagef("serve: --vxp-prefix: %v", err)
	}
	return h, fmt.Sprintf("national axis SDK protocol under %s (key %s in %s)", strings.Join(prefixes, ", "), key.ID(), keyPath), nil
}
