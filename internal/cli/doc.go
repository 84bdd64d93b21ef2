// Package cli implements the edocgw command line: one function per
// subcommand, each taking its arguments and an Env so tests run them in
// process. Exit codes follow the design: 0 success, 1 bad input, 2 usage.
package cli
