package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/store"
)

// runUserAdd creates an account of the web console.
func runUserAdd(args []string, env Env) error {
	f := newFlags("user add", "[--data DIR | --database-url URL] NAME --role clerk|auditor|admin [--agency CODE] --password-file FILE", env)
	sf := addStoreFlags(f)
	role := f.String("role", "", "clerk (the documents of one agency and its units), auditor (the audit log, exports) or admin")
	agency := f.String("agency", "", "a clerk's agency code (it must be in the directory)")
	pwFile := f.String("password-file", "", "file whose first line is the password (- reads standard input)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	r := store.UserRole(*role)
	switch {
	case len(pos) != 1:
		return usagef("user add: want one NAME")
	case r != store.UserClerk && r != store.UserAuditor && r != store.UserAdmin:
		return usagef("user add: --role %q: want clerk, auditor or admin", *role)
	case (r == store.UserClerk) != (*agency != ""):
		return usagef("user add: --agency is for clerks, and every clerk needs one")
	case *pwFile == "":
		return usagef("user add: want --password-file")
	}
	pw, err := readPassword(*pwFile, env.Stdin)
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, dir, err := sf.openDirectory(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	code := agencyids.Code(*agency)
	if r == store.UserClerk {
		a, ok := dir.Lookup(code)
		if !ok {
			return fmt.Errorf("user add: agency %s is not in the directory (edocgw agency add or import)", code)
		}
		code = a.Code
	}
	if err := s.CreateUser(ctx, store.User{Name: pos[0], Role: r, Agency: code}, pw, actor()); err != nil {
		return err
	}
	of := ""
	if code != "" {
		of = " of " + string(code)
	}
	fmt.Fprintf(env.Stdout, "user %s added (%s%s)\n", pos[0], r, of)
	return nil
}

// readPassword reads the first line of path ("-": in).
func readPassword(path string, in io.Reader) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(in, 4096))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fmt.Errorf("password file %s: the first line is empty", path)
	}
	return line, nil
}
