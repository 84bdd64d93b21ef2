// Package dirstore keeps the agency directory of an embedded data folder
// in one JSON file (agencies.json), replaced atomically on every change.
package dirstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/edocgw/edocgw/agencyids"
)

// FileName is the directory's file inside the data folder.
const FileName = "agencies.json"

// Load reads the directory of dataDir; a folder without one yields an empty
// directory.
func Load(dataDir string) (*agencyids.Directory, error) {
	d := agencyids.NewDirectory()
	f, err := os.Open(filepath.Join(dataDir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return nil, fmt.Errorf("agency directory: %w", err)
	}
	defer f.Close()
	as, err := agencyids.ImportJSON(f)
	if err != nil {
		return nil, fmt.Errorf("agency directory %s: %w", f.Name(), err)
	}
	if err := d.Load(as); err != nil {
		return nil, fmt.Errorf("agency directory %s: %w", f.Name(), err)
	}
	return d, nil
}

// Save writes d to dataDir atomically: a temporary file, fsynced, renamed
// over the old one.
func Save(dataDir string, d *agencyids.Directory) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("agency directory: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, FileName+".*")
	if err != nil {
		return fmt.Errorf("agency directory: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := d.WriteJSON(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("agency directory: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("agency directory: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("agency directory: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dataDir, FileName)); err != nil {
		return fmt.Errorf("agency directory: %w", err)
	}
	return nil
}
