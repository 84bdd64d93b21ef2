package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/edocgw/edocgw/archive/bundle"
	"github.com/edocgw/edocgw/envelope"

	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
	"github.com/edocgw/edocgw/signing"
)

// runAuditExport writes a document's archive bundle straight from the
// stores, as GET /v1/archive/{id}/export does for an auditor.
func runAuditExport(args []string, env Env) error {
	f := newFlags("audit export", "[--data DIR | --database-url URL] [--archive-url URL] [--trust CA.pem]… [--hub-key K --hub-cert C] --document ID -o FILE.zip", env)
	sf := addStoreFlags(f)
	archiveURL := f.String("archive-url", os.Getenv("EDOCGW_ARCHIVE_URL"), archiveHelp)
	var trust multi
	f.Var(&trust, "trust", "trust anchors to verify the original's signature again (repeatable)")
	hubKey := f.String("hub-key", "", "the hub's signing key, PEM (default: DIR/pki)")
	hubCert := f.String("hub-cert", "", "the hub's signing certificate, PEM")
	doc := f.String("document", "", "the document's hub id")
	out := f.String("o", "", "the bundle file to write")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || *doc == "" || *out == "" {
		return usagef("audit export: want --document ID and -o FILE.zip")
	}
	if (*hubKey == "") != (*hubCert == "") {
		return usagef("audit export: --hub-key and --hub-cert go together")
	}
	if *hubKey == "" {
		*hubKey = filepath.Join(*sf.data, "pki", "hub-sign-key.pem")
		*hubCert = filepath.Join(*sf.data, "pki", "hub-sign-cert.pem")
		if _, err := os.Stat(*hubKey); err != nil {
			return fmt.Errorf("no hub signing key in %s: give --hub-key and --hub-cert (%w)", filepath.Dir(*hubKey), err)
		}
	}
	key, err := readKey(*hubKey)
	if err != nil {
		return fmt.Errorf("hub key: %w", err)
	}
	certs, err := readCerts(*hubCert)
	if err != nil {
		return fmt.Errorf("hub certificate: %w", err)
	}
	roots, err := certPool(trust)
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{Now: env.Now})
	if err != nil {
		return err
	}
	defer s.Close()
	blobs, _, err := openArchive(ctx, *archiveURL, *sf.data, 0, env.Now)
	if err != nil {
		return err
	}
	hub, err := routing.New(routing.Options{Store: s, Blobs: blobs, Verifier: &signing.Verifier{Roots: roots, Now: env.Now},
		HubKey: key, HubCert: certs[0], Now: env.Now})
	if err != nil {
		return err
	}
	exp, err := hub.ExportBundle(ctx, routing.Principal{Role: routing.RoleAuditor, Name: actor()}, *doc)
	if err != nil {
		return err
	}
	return writeFileAtomic(*out, exp.Write)
}

// writeFileAtomic writes a file through a hidden temporary one in its
// folder, synced and renamed into place only when write succeeded (the
// folder synced too, so the rename lasts); on failure path is untouched.
func writeFileAtomic(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.part")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // make the rename durable; best effort
		d.Close()
	}
	return nil
}

// runAuditVerifyBundle checks an archive bundle offline: only the bundle
// and the hub certificate the auditor trusts are needed.
func runAuditVerifyBundle(args []string, env Env) error {
	f := newFlags("audit verify-bundle", "--hub-cert HUB.pem [--extract DIR] [--json] FILE.zip", env)
	hubCert := f.String("hub-cert", "", "the hub's certificate, from a source you trust (without it the bundle's own is used and the result says so)")
	extract := f.String("extract", "", "after verification, write the original packet into this folder")
	asJSON := f.Bool("json", false, "print the report as JSON")
	arg, err := f.parseOne(args, "exactly one FILE.zip")
	if err != nil {
		return err
	}
	var cert *x509.Certificate
	if *hubCert != "" {
		certs, err := readCerts(*hubCert)
		if err != nil {
			return err
		}
		cert = certs[0]
	}
	file, size, err := openSized(arg)
	if err != nil {
		return err
	}
	defer file.Close()
	b, err := bundle.Open(file, size, cert)
	if err != nil {
		var ps bundle.Problems
		if !errors.As(err, &ps) {
			ps = bundle.Problems{{Err: err}}
		}
		if *asJSON {
			_ = writeJSONLine(env.Stdout, map[string]any{"valid": false, "file": arg, "problems": ps})
			return &silentError{ExitInput}
		}
		// One line per problem: an edited file often breaks several checks.
		fmt.Fprintf(env.Stdout, "INVALID %s: %v\n", arg, ps[0])
		for _, p := range ps[1:] {
			fmt.Fprintf(env.Stdout, "  %v\n", p)
		}
		return &silentError{ExitInput}
	}
	rep := b.Report()
	if *extract != "" {
		if err := os.MkdirAll(*extract, 0o700); err != nil {
			return err
		}
		path := filepath.Join(*extract, rep.DocumentID+".edxml")
		if err := writeFileAtomic(path, func(w io.Writer) error {
			r, err := b.Original()
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.Copy(w, r)
			return err
		}); err != nil {
			return err
		}
	}
	if *asJSON {
		return writeJSONLine(env.Stdout, map[string]any{"valid": true, "file": arg, "report": rep})
	}
	trust := "hub certificate given"
	if rep.SelfAsserted {
		trust = "SELF-ASSERTED: no --hub-cert given; compare the fingerprint with the hub's published one"
	}
	fmt.Fprintf(env.Stdout, "VALID %s document=%s sha256=%s size=%d\n", arg, rep.DocumentID, rep.Digest, rep.Size)
	fmt.Fprintf(env.Stdout, "  hub certificate sha256 %s (%s)\n", rep.HubCertSHA256, trust)
	fmt.Fprintf(env.Stdout, "  %d audit events (%d–%d) verified against %d signed checkpoints, %s to %s\n",
		rep.Events, rep.FirstSeq, rep.LastSeq, rep.Checkpoints,
		rep.From.In(envelopeTime).Format(time.DateTime), rep.To.In(envelopeTime).Format(time.DateTime))
	for _, e := range rep.DocumentEvents {
		fmt.Fprintf(env.Stdout, "  %7d %s %-24s %s\n", e.Seq, e.At.In(envelopeTime).Format(time.DateTime), e.Kind, e.Actor)
	}
	return nil
}

// envelopeTime is Vietnam time, in which people read times.
var envelopeTime = envelope.VietnamTime
