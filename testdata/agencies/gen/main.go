// Command gen writes a synthetic national agency directory (see package
// agencygen) as CSV or JSON:
//
//	go run ./testdata/agencies/gen -n 120000 -seed 1 -format csv -o agencies.csv
//
// The sample used by tests is testdata/agencies/sample.csv:
//
//	go run ./testdata/agencies/gen -n 200 -seed 1 -format csv -o testdata/agencies/sample.csv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/edocgw/edocgw/agencyids"
	"github.com/edocgw/edocgw/agencyids/agencygen"
)

func main() {
	n := flag.Int("n", 120000, "number of agencies (at most agencygen.MaxAgencies)")
	seed := flag.Int64("seed", 1, "random seed; the output depends only on -n and -seed")
	format := flag.String("format", "csv", "output format: csv or json")
	out := flag.String("o", "-", "output file, - for standard output")
	flag.Parse()
	if flag.NArg() > 0 || (*format != "csv" && *format != "json") || *n < 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*n, *seed, *format, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(n int, seed int64, format, out string) error {
	agencies := agencygen.Generate(n, seed)
	var w io.Writer = os.Stdout
	var f *os.File
	if out != "-" {
		var err error
		if f, err = os.Create(out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	var err error
	if format == "json" {
		err = agencyids.WriteJSON(bw, agencies)
	} else {
		err = agencyids.WriteCSV(bw, agencies)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && f != nil {
		err = f.Close()
	}
	return err
}
