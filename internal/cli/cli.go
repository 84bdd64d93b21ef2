package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/edocgw/edocgw/envelope"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitInput = 1 // bad input: an invalid file or code, a failed operation
	ExitUsage = 2 // the command line itself is wrong
)

// Env is what a command may touch.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (e Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

type command struct {
	name    string
	summary string
	run     func(args []string, env Env) error
	sub     []*command
}

func commands() []*command {
	return []*command{
		{name: "serve", summary: "run the gateway", run: runServe},
		{name: "bench", summary: "load-test a gateway (in-process, spawned or running) with signed documents and report JSON: throughput, latency, CPU, memory", run: runBench},
		{name: "migrate", summary: "bring the metadata database's schema up to date", run: runMigrate},
		{name: "backup", summary: "write a consistent backup of the embedded backend (database, originals, keys) to a tar file", run: runBackup},
		{name: "restore", summary: "restore a backup into a new data folder, verifying every file and the audit chain", run: runRestore},
		{name: "archive", summary: "originals: retention period and purge", sub: []*command{
			{name: "retention", summary: "show or set the retention period of originals: DAYS or permanent", run: runArchiveRetention},
			{name: "purge", summary: "remove the originals past the retention period, audited (--confirm, --dry-run)", run: runArchivePurge},
		}},
		{name: "audit", summary: "auditor tools", sub: []*command{
			{name: "verify", summary: "walk the audit hash chain and its checkpoints, re-hash every original, report the first break", run: runAuditVerify},
			{name: "export", summary: "write a document's archive bundle (ZIP) that verify-bundle checks offline", run: runAuditExport},
			{name: "verify-bundle", summary: "verify an archive bundle offline against the hub certificate", run: runAuditVerifyBundle},
		}},
		{name: "envelope", summary: "edXML packets", sub: []*command{
			{name: "validate", summary: "check packets: OK FILE KIND FROM -> TO or INVALID FILE: PATH: MESSAGE", run: runEnvelopeValidate},
			{name: "build", summary: "build a document or status packet from flags and files", run: runEnvelopeBuild},
		}},
		{name: "sign", summary: "apply an enveloped XML signature to a packet", run: runSign},
		{name: "verify", summary: "verify a packet's signature: VALID signer=… agency=… or INVALID: reason", run: runVerify},
		{name: "send", summary: "send a packet to the hub: ACCEPTED ID, DUPLICATE FIRST-ID or REJECTED: TYPE: DETAIL", run: runSend},
		{name: "status", summary: "send a status packet to the hub (as send)", run: runStatus},
		{name: "inbox", summary: "list the pending deliveries: DELIVERY-ID DOCUMENT-ID FROM SUBJECT", run: runInbox},
		{name: "fetch", summary: "download a delivery's original packet, optionally acknowledging it", run: runFetch},
		{name: "trace", summary: "show a document's delivery timeline for every recipient", run: runTrace},
		{name: "agency", summary: "agency codes and the directory", sub: []*command{
			{name: "validate", summary: "check agency codes", run: runAgencyValidate},
			{name: "add", summary: "register an agency, binding its certificates", run: runAgencyAdd},
			{name: "retire", summary: "close an agency code, naming its successor (codes are never deleted)", run: runAgencyRetire},
			{name: "import", summary: "import agencies from a CSV or JSON file into the directory", run: runAgencyImport},
			{name: "show", summary: "show an agency of the directory", run: runAgencyShow},
			{name: "search", summary: "find agencies by name prefix", run: runAgencySearch},
		}},
		{name: "peer", summary: "other hubs this one exchanges with", sub: []*command{
			{name: "add", summary: "add a peer hub or change its URL, CA or the token we present to it", run: runPeerAdd},
			{name: "token", summary: "issue a token by which a peer hub authenticates to us", run: runPeerToken},
			{name: "list", summary: "list the peer hubs and their routes", run: runPeerList},
		}},
		{name: "route", summary: "the route table: which peer hub reaches which agencies", sub: []*command{
			{name: "add", summary: "route *, a level-1 group (H53) or an agency code to a peer hub", run: runRouteAdd},
			{name: "list", summary: "list the routes", run: runRouteList},
			{name: "remove", summary: "remove a route", run: runRouteRemove},
		}},
		{name: "user", summary: "accounts of the web console", sub: userCommands()},
		{name: "vxp", summary: "document-management systems on the national axis's SDK protocol (XroadVnpt)", sub: vxpCommands()},
		{name: "token", summary: "bearer tokens of auditors and admins", sub: []*command{
			{name: "add", summary: "issue a token for an auditor or an admin", run: runTokenAdd},
			{name: "revoke", summary: "revoke every token of an agency, peer hub, auditor or admin", run: runTokenRevoke},
		}},
	}
}

// usageError is a wrong command line (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// silentError carries an exit code for a failure already reported.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Main runs the command line args and returns the exit code.
func Main(args []string, env Env) int {
	err := dispatch(commands(), nil, args, env)
	var ue *usageError
	var se *silentError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &se):
		return se.code
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "edocgw: %v\n", err)
		return ExitUsage
	}
	var ps envelope.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintf(env.Stderr, "edocgw: %v\n", p)
		}
		return ExitInput
	}
	fmt.Fprintf(env.Stderr, "edocgw: %v\n", err)
	return ExitInput
}

func dispatch(cmds []*command, path []string, args []string, env Env) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(env.Stderr, cmds, path)
		if len(args) == 0 {
			return &silentError{ExitUsage}
		}
		return nil
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		if c.sub != nil {
			return dispatch(c.sub, append(path, c.name), args[1:], env)
		}
		return c.run(args[1:], env)
	}
	printUsage(env.Stderr, cmds, path)
	return usagef("unknown command %q", strings.Join(append(path, args[0]), " "))
}

func printUsage(w io.Writer, cmds []*command, path []string) {
	prefix := strings.Join(append([]string{"edocgw"}, path...), " ")
	fmt.Fprintf(w, "usage: %s COMMAND [flags] [args]\n\ncommands:\n", prefix)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\n'%s COMMAND --help' describes a command.\n", prefix)
}

// flags is a flag set that lets flags and arguments interleave
// (edocgw envelope validate a.xml --json b.xml).
type flags struct {
	*flag.FlagSet
	name, usage string
}

func newFlags(name, usage string, env Env) *flags {
	fs := flag.NewFlagSet("edocgw "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	f := &flags{FlagSet: fs, name: name, usage: usage}
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: edocgw %s %s\n", name, usage)
		fs.PrintDefaults()
	}
	return f
}

// parseNone parses a command that takes flags only.
func (f *flags) parseNone(args []string) error {
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("%s: unexpected argument %q", f.name, pos[0])
	}
	return nil
}

// parseOne parses a command that takes exactly one argument and returns
// it; want names it in the usage error ("one NAME").
func (f *flags) parseOne(args []string, want string) (string, error) {
	pos, err := f.parse(args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", usagef("%s: want %s", f.name, want)
	}
	return pos[0], nil
}

// parse returns the positional arguments.
func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		rest := f.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
