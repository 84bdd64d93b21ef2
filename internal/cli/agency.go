package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

// DefaultDataDir is where the embedded backend keeps its data.
const DefaultDataDir = "./edocgw-data"

type codeJSON struct {
	Code      string   `json:"code"`
	Valid     bool     `json:"valid"`
	Form      string   `json:"form,omitempty"`
	Level     int      `json:"level,omitempty"`
	Parent    string   `json:"parent,omitempty"`
	Root      string   `json:"root,omitempty"`
	Ancestors []string `json:"ancestors,omitempty"`
	Warning   string   `json:"warning,omitempty"`
	Error     string   `json:"error,omitempty"`
}

func runAgencyValidate(args []string, env Env) error {
	f := newFlags("agency validate", "[--lenient] [--json] CODE…", env)
	lenient := f.Bool("lenient", false, "also accept the odd codes real packets carry (e.g. 01.02.G22), with a warning")
	asJSON := f.Bool("json", false, "print one JSON record per code")
	codes, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(codes) == 0 {
		return usagef("agency validate: no CODE given")
	}
	bad := 0
	for _, s := range codes {
		rec := codeJSON{Code: s}
		c, err := agencyids.Parse(s)
		if err != nil && *lenient {
			var warn error
			if c, warn, err = agencyids.ParseLenient(s); err == nil && warn != nil {
				rec.Warning = warn.Error()
			}
		}
		if err != nil {
			bad++
			rec.Error = err.Error()
		} else {
			rec.Valid = true
			rec.Form = c.Form().String()
			rec.Level = c.Level()
			if p, ok := c.Parent(); ok {
				rec.Parent = string(p)
			}
			rec.Root = string(c.Root())
			for _, a := range c.Ancestors() {
				rec.Ancestors = append(rec.Ancestors, string(a))
			}
		}
		switch {
		case *asJSON:
			if err := writeJSONLine(env.Stdout, rec); err != nil {
				return err
			}
		case !rec.Valid:
			fmt.Fprintf(env.Stdout, "INVALID %s: %s\n", s, rec.Error)
		default:
			line := fmt.Sprintf("OK %s %s level=%d", s, rec.Form, rec.Level)
			if rec.Parent != "" {
				line += " parent=" + rec.Parent
			}
			if rec.Root != "" {
				line += " root=" + rec.Root
			}
			if rec.Warning != "" {
				line += " (warning: " + rec.Warning + ")"
			}
			fmt.Fprintln(env.Stdout, line)
		}
	}
	if bad > 0 {
		return &silentError{ExitInput}
	}
	return nil
}

func runAgencyImport(args []string, env Env) error {
	f := newFlags("agency import", "[--data DIR | --database-url URL] [--format csv|json] FILE", env)
	sf := addStoreFlags(f)
	format := f.String("format", "", "csv or json (default: from the file name)")
	arg, err := f.parseOne(args, "exactly one FILE")
	if err != nil {
		return err
	}
	name := arg
	if *format == "" {
		*format = strings.TrimPrefix(strings.ToLower(filepath.Ext(name)), ".")
	}
	var in io.Reader = env.Stdin
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return err
		}
		defer file.Close()
		in = file
	}
	var rows []agencyids.Agency
	switch *format {
	case "csv":
		rows, err = agencyids.ImportCSV(in)
	case "json":
		rows, err = agencyids.ImportJSON(in)
	default:
		return usagef("agency import: unknown format %q (want csv or json)", *format)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	ctx := context.Background()
	s, old, err := sf.openDirectory(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	merged, added, updated, err := mergeDirectory(old, rows)
	if err != nil {
		return fmt.Errorf("%s: nothing imported: %w", name, err)
	}
	// Save the records as the directory settled them (effective parents).
	save := make([]agencyids.Agency, 0, len(rows))
	for _, r := range rows {
		a, _ := merged.Lookup(r.Code)
		save = append(save, a)
	}
	if err := s.SaveAgencies(ctx, save, actor()); err != nil {
		return fmt.Errorf("%s: nothing imported: %w", name, err)
	}
	fmt.Fprintf(env.Stdout, "imported %d agencies from %s: %d new, %d updated, %d in the directory\n", len(rows), name, added, updated, merged.Len())
	return nil
}

// loadDirectory reads the store's agency directory into memory.
// openDirectory opens the metadata store and loads its agency directory;
// the caller closes the store.
func (sf storeFlags) openDirectory(ctx context.Context) (*store.Store, *agencyids.Directory, error) {
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	d, err := s.Directory(ctx)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, d, nil
}

// mergeDirectory is old with rows added or updated, all or nothing. Codes
// are never deleted: agencies absent from rows are kept, and a retired code
// stays retired with its successor.
func mergeDirectory(old *agencyids.Directory, rows []agencyids.Agency) (*agencyids.Directory, int, int, error) {
	byCode := map[agencyids.Code]int{}
	all := old.All()
	for i, a := range all {
		byCode[a.Code] = i
	}
	added, updated := 0, 0
	for _, r := range rows {
		i, ok := byCode[r.Code]
		if !ok {
			byCode[r.Code] = len(all)
			all = append(all, r)
			added++
			continue
		}
		prev := all[i]
		if prev.Retired() && (!r.ValidTo.Equal(prev.ValidTo) || r.Successor != prev.Successor) {
			return nil, 0, 0, fmt.Errorf("%s: %w: it was retired on %s and stays retired", r.Code, agencyids.ErrRetiredCode, prev.ValidTo.Format(time.DateOnly))
		}
		all[i] = r
		updated++
	}
	d := agencyids.NewDirectory()
	if err := d.Load(all); err != nil {
		return nil, 0, 0, err
	}
	return d, added, updated, nil
}

func runAgencyShow(args []string, env Env) error {
	f := newFlags("agency show", "[--data DIR | --database-url URL] [--json] CODE", env)
	sf := addStoreFlags(f)
	asJSON := f.Bool("json", false, "print the agency as JSON")
	arg, err := f.parseOne(args, "exactly one CODE")
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, d, err := sf.openDirectory(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	a, ok := d.Lookup(agencyids.Code(arg))
	if !ok {
		return fmt.Errorf("agency %s: %w", arg, agencyids.ErrNotFound)
	}
	if *asJSON {
		return writeJSONLine(env.Stdout, a)
	}
	m, err := s.Member(ctx, a.Code)
	member := err == nil
	if err != nil && !errors.Is(err, routing.ErrNotFound) {
		return err
	}
	w := env.Stdout
	fmt.Fprintf(w, "code:        %s\n", a.Code)
	if a.AltCode != "" {
		fmt.Fprintf(w, "alt code:    %s\n", a.AltCode)
	}
	fmt.Fprintf(w, "name:        %s\n", a.Name)
	if a.Parent != "" {
		pname := ""
		if p, ok := d.Lookup(a.Parent); ok {
			pname = " (" + p.Name + ")"
		}
		fmt.Fprintf(w, "parent:      %s%s\n", a.Parent, pname)
	}
	fmt.Fprintf(w, "level:       %d\n", a.Code.Level())
	if !a.ValidFrom.IsZero() {
		fmt.Fprintf(w, "valid from:  %s\n", a.ValidFrom.Format(time.DateOnly))
	}
	if a.Retired() {
		fmt.Fprintf(w, "retired:     %s\n", a.ValidTo.Format(time.DateOnly))
		if a.Successor != "" {
			fmt.Fprintf(w, "successor:   %s\n", a.Successor)
		}
		if cur, err := d.Resolve(a.Code, env.now()); err == nil && cur.Code != a.Code {
			fmt.Fprintf(w, "now:         %s %s\n", cur.Code, cur.Name)
		}
	} else {
		fmt.Fprintf(w, "status:      active\n")
	}
	if member {
		how := string(m.Mode)
		if m.Mode == routing.ModePush {
			how += " " + m.PushURL
		}
		fmt.Fprintf(w, "member:      %s, signature %s\n", how, m.Signature)
	}
	if a.Endpoint != "" {
		fmt.Fprintf(w, "endpoint:    %s\n", a.Endpoint)
	}
	for _, fp := range a.CertFingerprints {
		fmt.Fprintf(w, "certificate: sha256:%s\n", fp)
	}
	fmt.Fprintf(w, "units:       %d\n", len(d.Children(a.Code)))
	return nil
}

func runAgencySearch(args []string, env Env) error {
	f := newFlags("agency search", "[--data DIR | --database-url URL] [--limit N] [--json] NAME-PREFIX…", env)
	sf := addStoreFlags(f)
	limit := f.Int("limit", 20, "most results")
	asJSON := f.Bool("json", false, "print one JSON record per agency")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("agency search: no NAME-PREFIX given")
	}
	ctx := context.Background()
	s, d, err := sf.openDirectory(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	found := d.SearchName(strings.Join(pos, " "), *limit)
	for _, a := range found {
		if *asJSON {
			if err := writeJSONLine(env.Stdout, a); err != nil {
				return err
			}
			continue
		}
		state := ""
		if a.Retired() {
			state = " (retired)"
		}
		fmt.Fprintf(env.Stdout, "%s %s%s\n", a.Code, a.Name, state)
	}
	if len(found) == 0 {
		return &silentError{ExitInput}
	}
	return nil
}

func runAgencyAdd(args []string, env Env) error {
	f := newFlags("agency add", "[--data DIR | --database-url URL] CODE --name NAME [--alt-code CODE] [--parent CODE] [--cert AGENCY.pem]… "+
		"[--pull | --push URL] [--signature required|all|optional] [--token-file FILE [--force]] [--directory-only]", env)
	sf := addStoreFlags(f)
	name := f.String("name", "", "the agency's name (required)")
	alt := f.String("alt-code", "", "its code in the other form (QĐ 20/2020 or QCVN 102)")
	parent := f.String("parent", "", "the agency it belongs to")
	pull := f.Bool("pull", false, "member mode: its DMS polls the hub's inbox (the default)")
	push := f.String("push", "", "member mode: the hub POSTs its documents to this HTTPS endpoint")
	signature := f.String("signature", string(routing.SignatureRequired), "which of its packets must be signed: required (documents), all (statuses too) or optional")
	tokenFile := f.String("token-file", "", "write a new bearer token for the agency into this file (mode 0600)")
	force := f.Bool("force", false, "with --token-file: replace an existing file")
	dirOnly := f.Bool("directory-only", false, "only record the agency in the directory; it does not become a member of this hub")
	var certs multi
	f.Var(&certs, "cert", "bind a signing/TLS certificate (PEM) to the agency (repeatable)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1 || *name == "":
		return usagef("agency add: want one CODE and --name")
	case *pull && *push != "":
		return usagef("agency add: --pull and --push exclude each other")
	case *dirOnly && *tokenFile != "":
		return usagef("agency add: --token-file makes a member's token; --directory-only makes no member")
	case *force && *tokenFile == "":
		return usagef("agency add: --force goes with --token-file")
	}
	sig := routing.SignaturePolicy(*signature)
	if sig != routing.SignatureRequired && sig != routing.SignatureAll && sig != routing.SignatureOptional {
		return usagef("agency add: --signature %q: want required, all or optional", *signature)
	}
	code, err := agencyids.Parse(pos[0])
	if err != nil {
		return err
	}
	a := agencyids.Agency{Code: code, AltCode: agencyids.Code(*alt), Name: *name, Parent: agencyids.Code(*parent),
		Endpoint: *push}
	for _, c := range certs {
		cs, err := readCerts(c)
		if err != nil {
			return err
		}
		a.CertFingerprints = append(a.CertFingerprints, agencyids.FingerprintOf(cs[0].Raw))
	}
	m := routing.Member{Code: code, Mode: routing.ModePull, Signature: sig}
	if *push != "" {
		m.Mode, m.PushURL = routing.ModePush, *push
	}

	ctx := context.Background()
	s, d, err := sf.openDirectory(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	prev, inDir := d.Lookup(code)
	inDir = inDir && prev.Code == code
	_, err = s.Member(ctx, code)
	isMember := err == nil
	if err != nil && !errors.Is(err, routing.ErrNotFound) {
		return err
	}
	note := ""
	switch {
	case !inDir || *dirOnly || isMember:
		if err := d.Add(a); err != nil { // a code in use is refused here
			return err
		}
	default:
		// In the directory (imported) but not served here yet: it becomes
		// a member, its entry updated with what the command line says.
		upd := prev
		upd.Name = a.Name
		if a.AltCode != "" {
			upd.AltCode = a.AltCode
		}
		if a.Parent != "" {
			upd.Parent = a.Parent
		}
		if a.Endpoint != "" {
			upd.Endpoint = a.Endpoint
		}
		for _, fp := range a.CertFingerprints {
			if !slices.Contains(upd.CertFingerprints, fp) {
				upd.CertFingerprints = append(upd.CertFingerprints, fp)
			}
		}
		if _, err := d.Upsert(upd); err != nil {
			return err
		}
		note = " (already in the directory, now a member)"
	}
	a, _ = d.Lookup(code)
	if *dirOnly {
		if err := s.SaveAgencies(ctx, []agencyids.Agency{a}, actor()); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "added %s %s\n", a.Code, a.Name)
		return nil
	}
	var (
		tok  *pendingToken
		cred *store.Credential
	)
	if *tokenFile != "" {
		if tok, err = createToken(*tokenFile, *force); err != nil {
			return err
		}
		cred = &store.Credential{Hash: tok.hash, Role: routing.RoleAgency, Agency: code}
	}
	if err := s.AddMember(ctx, &a, m, cred, actor()); err != nil {
		tok.abort()
		return err
	}
	if err := tok.commit(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "added %s %s%s\n", a.Code, a.Name, note)
	if tok != nil {
		fmt.Fprintf(env.Stdout, "token for %s written to %s\n", a.Code, *tokenFile)
	}
	return nil
}

func runAgencyRetire(args []string, env Env) error {
	f := newFlags("agency retire", "[--data DIR | --database-url URL] CODE [--successor CODE] [--at yyyy-mm-dd]", env)
	sf := addStoreFlags(f)
	successor := f.String("successor", "", "the agency that took over")
	at := f.String("at", "", "date the code closes (default now)")
	arg, err := f.parseOne(args, "one CODE")
	if err != nil {
		return err
	}
	when := env.now()
	if *at != "" {
		if when, err = time.ParseInLocation(time.DateOnly, *at, time.FixedZone("ICT", 7*3600)); err != nil {
			return usagef("--at: %v", err)
		}
	}
	ctx := context.Background()
	s, d, err := sf.openDirectory(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := d.Retire(agencyids.Code(arg), when, agencyids.Code(*successor)); err != nil {
		return err
	}
	a, _ := d.Lookup(agencyids.Code(arg))
	if err := s.SaveAgencies(ctx, []agencyids.Agency{a}, actor()); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "retired %s on %s\n", arg, when.Format(time.DateOnly))
	return nil
}
