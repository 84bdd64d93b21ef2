// Command edocgw is the electronic document exchange gateway: one binary
// with subcommands. See README.md and `edocgw help`.
package main

import (
	"os"

	"github.com/edocgw/edocgw/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
