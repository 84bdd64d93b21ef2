package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"

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
	if pos, err := f.parse(args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("migrate: unexpected argument %q", pos[0])
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
	f := newFlags("audit verify", "[--data DIR | --database-url URL] [--hub-cert CERT.pem]", env)
	sf := addStoreFlags(f)
	hubCert := f.String("hub-cert", "", "the hub's certificate: checkpoint signatures are verified with it (without it checkpoints are not trusted)")
	if pos, err := f.parse(args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("audit verify: unexpected argument %q", pos[0])
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{NoMigrate: true})
	if err != nil {
		return err
	}
	defer s.Close()
	var cps []archive.Checkpoint
	if *hubCert != "" {
		certs, err := readCerts(*hubCert)
		if err != nil {
			return err
		}
		if cps, err = s.Checkpoints(ctx); err != nil {
			return err
		}
		for _, c := range cps {
			if err := c.Verify(certs[0].PublicKey); err != nil {
				fmt.Fprintf(env.Stdout, "BROKEN at checkpoint %d: %v\n", c.Seq, err)
				return &silentError{ExitInput}
			}
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
	fmt.Fprintf(env.Stdout, "OK %d events, head %s, %d checkpoints verified\n", last, head, len(cps))
	return nil
}
