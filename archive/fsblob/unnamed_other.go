//go:build !linux

package fsblob

import (
	"errors"
	"os"
)

var errNoUnnamed = errors.New("fsblob: unnamed files are a Linux feature")

func openUnnamed(string) (*os.File, error) { return nil, errNoUnnamed }

func linkUnnamed(*os.File, string) error { return errNoUnnamed }

func syncFS(string) (func() error, error) { return nil, errNoUnnamed }
