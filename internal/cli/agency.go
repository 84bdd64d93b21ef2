package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/dirstore"
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
	f := newFlags("agency import", "[--data DIR] [--format csv|json] FILE", env)
	data := f.String("data", DefaultDataDir, "data folder of the embedded backend")
	format := f.String("format", "", "csv or json (default: from the file name)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("agency import: want exactly one FILE")
	}
	name := pos[0]
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
	old, err := dirstore.Load(*data)
	if err != nil {
		return err
	}
	merged, added, updated, err := mergeDirectory(old, rows)
	if err != nil {
		return fmt.Errorf("%s: nothing imported: %w", name, err)
	}
	if err := dirstore.Save(*data, merged); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "imported %d agencies from %s: %d new, %d updated, %d in the directory\n", len(rows), name, added, updated, merged.Len())
	return nil
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
	f := newFlags("agency show", "[--data DIR] [--json] CODE", env)
	data := f.String("data", DefaultDataDir, "data folder of the embedded backend")
	asJSON := f.Bool("json", false, "print the agency as JSON")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("agency show: want exactly one CODE")
	}
	d, err := dirstore.Load(*data)
	if err != nil {
		return err
	}
	a, ok := d.Lookup(agencyids.Code(pos[0]))
	if !ok {
		return fmt.Errorf("agency %s: %w", pos[0], agencyids.ErrNotFound)
	}
	if *asJSON {
		return writeJSONLine(env.Stdout, a)
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
	f := newFlags("agency search", "[--data DIR] [--limit N] [--json] NAME-PREFIX…", env)
	data := f.String("data", DefaultDataDir, "data folder of the embedded backend")
	limit := f.Int("limit", 20, "most results")
	asJSON := f.Bool("json", false, "print one JSON record per agency")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("agency search: no NAME-PREFIX given")
	}
	d, err := dirstore.Load(*data)
	if err != nil {
		return err
	}
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
	f := newFlags("agency add", "[--data DIR] CODE --name NAME [--alt-code CODE] [--parent CODE] [--cert AGENCY.pem]… [--push URL]", env)
	data := f.String("data", DefaultDataDir, "data folder of the embedded backend")
	name := f.String("name", "", "the agency's name (required)")
	alt := f.String("alt-code", "", "its code in the other form (QĐ 20/2020 or QCVN 102)")
	parent := f.String("parent", "", "the agency it belongs to")
	push := f.String("push", "", "HTTPS endpoint its documents are pushed to")
	var certs multi
	f.Var(&certs, "cert", "bind a signing/TLS certificate (PEM) to the agency (repeatable)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *name == "" {
		return usagef("agency add: want one CODE and --name")
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
	d, err := dirstore.Load(*data)
	if err != nil {
		return err
	}
	if err := d.Add(a); err != nil {
		return err
	}
	if err := dirstore.Save(*data, d); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "added %s %s\n", a.Code, a.Name)
	return nil
}

func runAgencyRetire(args []string, env Env) error {
	f := newFlags("agency retire", "[--data DIR] CODE [--successor CODE] [--at yyyy-mm-dd]", env)
	data := f.String("data", DefaultDataDir, "data folder of the embedded backend")
	successor := f.String("successor", "", "the agency that took over")
	at := f.String("at", "", "date the code closes (default now)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("agency retire: want one CODE")
	}
	when := env.now()
	if *at != "" {
		if when, err = time.ParseInLocation(time.DateOnly, *at, time.FixedZone("ICT", 7*3600)); err != nil {
			return usagef("--at: %v", err)
		}
	}
	d, err := dirstore.Load(*data)
	if err != nil {
		return err
	}
	if err := d.Retire(agencyids.Code(pos[0]), when, agencyids.Code(*successor)); err != nil {
		return err
	}
	if err := dirstore.Save(*data, d); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "retired %s on %s\n", pos[0], when.Format(time.DateOnly))
	return nil
}
