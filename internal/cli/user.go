package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/internal/store"
	"github.com/edocgw/edocgw/routing"
)

// userCommands are the subcommands of `edocgw user`.
func userCommands() []*command {
	return []*command{
		{name: "add", summary: "add a clerk, auditor or admin with a password from a file", run: runUserAdd},
		{name: "list", summary: "list the accounts: NAME ROLE AGENCY STATE", run: runUserList},
		{name: "disable", summary: "disable an account (its sessions end)", run: runUserDisable},
		{name: "enable", summary: "enable a disabled account again", run: runUserEnable},
		{name: "passwd", summary: "set a new password from a file (lifts a lock-out, ends the sessions)", run: runUserPasswd},
	}
}

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

type userJSON struct {
	Name        string    `json:"name"`
	Role        string    `json:"role"`
	Agency      string    `json:"agency,omitempty"`
	State       string    `json:"state"` // active, disabled or locked
	LockedUntil time.Time `json:"lockedUntil,omitzero"`
	CreatedAt   time.Time `json:"createdAt"`
	DisabledAt  time.Time `json:"disabledAt,omitzero"`
}

func runUserList(args []string, env Env) error {
	f := newFlags("user list", "[--data DIR | --database-url URL] [--json]", env)
	sf := addStoreFlags(f)
	asJSON := f.Bool("json", false, "print one JSON record per account")
	if err := f.parseNone(args); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	users, err := s.Users(ctx)
	if err != nil {
		return err
	}
	now := env.now()
	for _, u := range users {
		rec := userJSON{Name: u.Name, Role: string(u.Role), Agency: string(u.Agency), State: "active", CreatedAt: u.CreatedAt,
			DisabledAt: u.DisabledAt}
		switch {
		case !u.DisabledAt.IsZero():
			rec.State = "disabled"
		case now.Before(u.LockedUntil):
			rec.State, rec.LockedUntil = "locked", u.LockedUntil
		}
		if *asJSON {
			if err := writeJSONLine(env.Stdout, rec); err != nil {
				return err
			}
			continue
		}
		agency := rec.Agency
		if agency == "" {
			agency = "-"
		}
		state := rec.State
		if state == "locked" {
			state += " until " + u.LockedUntil.In(envelopeTime).Format(time.DateTime)
		}
		fmt.Fprintf(env.Stdout, "%s %s %s %s\n", u.Name, u.Role, agency, state)
	}
	return nil
}

func runUserDisable(args []string, env Env) error {
	return setUserDisabled("user disable", args, env, true)
}

func runUserEnable(args []string, env Env) error {
	return setUserDisabled("user enable", args, env, false)
}

// setUserDisabled disables or enables one account, audited.
func setUserDisabled(name string, args []string, env Env, disabled bool) error {
	f := newFlags(name, "[--data DIR | --database-url URL] NAME", env)
	sf := addStoreFlags(f)
	arg, err := f.parseOne(args, "one NAME")
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.SetUserDisabled(ctx, arg, disabled, actor()); err != nil {
		if errors.Is(err, routing.ErrNotFound) {
			return fmt.Errorf("%s: no user %s", name, arg)
		}
		return err
	}
	verb := "enabled"
	if disabled {
		verb = "disabled"
	}
	fmt.Fprintf(env.Stdout, "user %s %s\n", arg, verb)
	return nil
}

func runUserPasswd(args []string, env Env) error {
	f := newFlags("user passwd", "[--data DIR | --database-url URL] NAME --password-file FILE", env)
	sf := addStoreFlags(f)
	pwFile := f.String("password-file", "", "file whose first line is the new password (- reads standard input)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return usagef("user passwd: want one NAME")
	case *pwFile == "":
		return usagef("user passwd: want --password-file")
	}
	pw, err := readPassword(*pwFile, env.Stdin)
	if err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.open(ctx, store.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.SetUserPassword(ctx, pos[0], pw, actor()); err != nil {
		if errors.Is(err, routing.ErrNotFound) {
			return fmt.Errorf("user passwd: no user %s", pos[0])
		}
		return err
	}
	fmt.Fprintf(env.Stdout, "password of %s changed; its sessions ended\n", pos[0])
	return nil
}
