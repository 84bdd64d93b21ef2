package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"

	"github.com/edocgw/edocgw/archive/tsa"

	"github.com/edocgw/edocgw/archive"
	"github.com/edocgw/edocgw/internal/dirstore"
	"github.com/edocgw/edocgw/internal/store"
)

// storeFlags are the flags of every command that reads the stores, as for
// serve: --data DIR (embedded) or --database-url (or $EDOCGW_DATABASE_URL).
type storeFlags struct {
	data, url *string
	notes     io.Writer // where the one-time import of agencies.json is reported
}

func addStoreFlags(f *flags) storeFlags {
	return storeFlags{
		data:  f.String("data", DefaultDataDir, "data folder of the embedded backend"),
		url:   f.String("database-url", os.Getenv("EDOCGW_DATABASE_URL"), "PostgreSQL URL (postgres://…) instead of the embedded database"),
		notes: f.Output(),
	}
}

// open opens the metadata store; the embedded one is DATA/edocgw.db. A
// data folder that still has the directory file of earlier versions
// (agencies.json) gets it imported into an empty directory on first open;
// the file is left as it is.
func (sf storeFlags) open(ctx context.Context, opts store.Options) (*store.Store, error) {
	url := *sf.url
	if url == "" {
		if err := os.MkdirAll(*sf.data, 0o700); err != nil {
			return nil, err
		}
		url = filepath.Join(*sf.data, "edocgw.db")
	}
	s, err := store.Open(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	if *sf.url == "" && !opts.NoMigrate {
		if err := importDirectoryFile(ctx, s, *sf.data, sf.notes); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// importDirectoryFile moves DATA/agencies.json into an empty directory.
func importDirectoryFile(ctx context.Context, s *store.Store, data string, notes io.Writer) error {
	file := filepath.Join(data, dirstore.FileName)
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if has, err := s.HasAgencies(ctx); err != nil || has {
		return err
	}
	d, err := dirstore.Load(data)
	if err != nil {
		return err
	}
	saved, err := s.SaveAgenciesIfEmpty(ctx, d.All(), actor())
	if err != nil {
		return fmt.Errorf("importing %s: %w", file, err)
	}
	if saved && notes != nil {
		fmt.Fprintf(notes, "edocgw: imported %d agencies from %s into the metadata store (the file is no longer used)\n", d.Len(), file)
	}
	return nil
}

// actor names the user of the command line in the audit log.
func actor() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		return "cli"
	}
	return "cli:" + name
}

func runMigrate(args []string, env Env) error {
	f := newFlags("migrate", "[--data DIR | --database-url URL]", env)
	sf := addStoreFlags(f)
	if err := f.parseNone(args); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{NoMigrate: true})
	if err != nil {
		return err
	}
	defer s.Close()
	before, err := s.Version(ctx)
	if err != nil {
		return err
	}
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	after, err := s.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "schema version %d (was %d)\n", after, before)
	return nil
}

func runAuditVerify(args []string, env Env) error {
	f := newFlags("audit verify", "[--data DIR | --database-url URL] [--archive-url URL] [--hub-cert CERT.pem] [--no-originals]", env)
	sf := addStoreFlags(f)
	archiveURL := f.String("archive-url", os.Getenv("EDOCGW_ARCHIVE_URL"), archiveHelp)
	skipOriginals := f.Bool("no-originals", false, "walk the chain and checkpoints only; do not re-hash the originals")
	tsaRoots := f.String("tsa-roots", "", "CA certificates of the time-stamping authority: checkpoint timestamps must chain to them (default: their signatures only)")
	hubCert := f.String("hub-cert", "", "the hub's certificate: checkpoint signatures are verified with it (without it checkpoints are not trusted)")
	if err := f.parseNone(args); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{NoMigrate: true})
	if err != nil {
		return err
	}
	defer s.Close()
	var (
		cps     []archive.Checkpoint
		stamped int
	)
	if *hubCert != "" {
		certs, err := readCerts(*hubCert)
		if err != nil {
			return err
		}
		if cps, err = s.Checkpoints(ctx); err != nil {
			return err
		}
		var roots *x509.CertPool
		if *tsaRoots != "" {
			if roots, err = certPool([]string{*tsaRoots}); err != nil {
				return err
			}
		}
		for _, c := range cps {
			if err := c.Verify(certs[0].PublicKey); err != nil {
				fmt.Fprintf(env.Stdout, "BROKEN at checkpoint %d: %v\n", c.Seq, err)
				return &silentError{ExitInput}
			}
			if len(c.Timestamp) == 0 {
				continue
			}
			if _, err := tsa.Verify(c.Timestamp, tsa.Digest(c.Signature), roots); err != nil {
				fmt.Fprintf(env.Stdout, "BROKEN timestamp of checkpoint %d: %v\n", c.Seq, err)
				return &silentError{ExitInput}
			}
			stamped++
		}
	}
	head, last, err := archive.VerifyChain(s.AuditAll(ctx), cps...)
	var ce *archive.ChainError
	if errors.As(err, &ce) {
		fmt.Fprintf(env.Stdout, "BROKEN at event %d: %v\n", ce.Seq, ce.Err)
		return &silentError{ExitInput}
	}
	if err != nil {
		return err
	}
	originals := "originals not checked"
	if !*skipOriginals {
		blobs, _, err := openArchive(ctx, *archiveURL, *sf.data, 0, env.Now)
		if err != nil {
			return err
		}
		n, bad, purged, err := rehashOriginals(ctx, s, blobs, env)
		if err != nil {
			return err
		}
		if bad > 0 {
			fmt.Fprintf(env.Stdout, "BROKEN: %d of %d originals do not match their digest\n", bad, n)
			return &silentError{ExitInput}
		}
		originals = fmt.Sprintf("%d originals re-hashed", n-purged)
		if purged > 0 {
			originals += fmt.Sprintf(", %d purged after their retention", purged)
		}
	}
	fmt.Fprintf(env.Stdout, "OK %d events, head %s, %d checkpoints verified (%d timestamped), %s\n", last, head, len(cps), stamped, originals)
	return nil
}

// rehashOriginals reads every document's original to the end (the blob
// store verifies the digest on a full read) and prints each that fails.
func rehashOriginals(ctx context.Context, s *store.Store, blobs archive.BlobStore, env Env) (n, bad, purged int, err error) {
	seen := map[archive.Digest]error{}
	for after := ""; ; {
		docs, err := s.Documents(ctx, after, 500)
		if err != nil {
			return n, bad, purged, err
		}
		for _, d := range docs {
			after = d.ID
			n++
			res, done := seen[d.Digest]
			if !done {
				res = rehash(ctx, blobs, d.Digest)
				seen[d.Digest] = res
			}
			if errors.Is(res, archive.ErrNotFound) {
				// Removed by the audited purge: its metadata and events stay.
				if at, err := s.PurgedAt(ctx, d.ID); err == nil && !at.IsZero() {
					purged++
					continue
				}
			}
			if res != nil {
				bad++
				fmt.Fprintf(env.Stdout, "BROKEN original of document %s (sha256 %s): %v\n", d.ID, d.Digest, res)
			}
		}
		if len(docs) < 500 {
			return n, bad, purged, nil
		}
	}
}

func rehash(ctx context.Context, blobs archive.BlobStore, d archive.Digest) error {
	b, err := blobs.Open(ctx, d)
	if err != nil {
		return err
	}
	defer b.Close()
	_, err = io.Copy(io.Discard, b)
	return err
}
