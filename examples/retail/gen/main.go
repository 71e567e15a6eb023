// Command gen writes the seed CSVs of the retail example project, and the
// ground truth that tells which raw identifiers belong to one real person
// (package seedgen says what they hold and which hard cases they contain).
//
//	go run ./examples/retail/gen                 # rewrite the committed seeds
//	go run ./examples/retail/gen -people 200 -out /tmp/seeds -truth /tmp/truth.csv
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/cdpkit/cdp/examples/retail/seedgen"
)

func main() {
	var (
		seed   = flag.Uint64("seed", seedgen.DefaultSeed, "random seed (PCG)")
		people = flag.Int("people", seedgen.DefaultPeople, "number of real people to generate")
		anchor = flag.String("anchor", seedgen.DefaultAnchor, "every timestamp is before this date (YYYY-MM-DD or RFC3339)")
		out    = flag.String("out", "examples/retail/seeds", "directory receiving the seed CSVs")
		truth  = flag.String("truth", "examples/retail/testdata/truth.csv", "ground-truth CSV (person_id,id_type,id_value)")
		quiet  = flag.Bool("q", false, "do not print the summary")
	)
	flag.Parse()
	at, err := parseAnchor(*anchor)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(2)
	}
	if *people < 10 {
		fmt.Fprintln(os.Stderr, "gen: -people must be at least 10")
		os.Exit(2)
	}
	d := seedgen.Generate(seedgen.Config{Seed: *seed, People: *people, Anchor: at})
	if err := d.Write(*out, *truth); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if !*quiet {
		d.Summary(os.Stdout)
	}
}

func parseAnchor(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("-anchor %q: want YYYY-MM-DD or RFC3339", s)
	}
	return t.UTC(), nil
}
