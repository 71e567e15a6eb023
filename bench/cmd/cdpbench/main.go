package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/bench"
)

func main() {
	bench.MaybeChild()
	var (
		out         = flag.String("out", "docs", "folder for benchmarks.md, .json and .svg")
		work        = flag.String("work", "", "scratch folder (default: a temporary one)")
		cdp         = flag.String("cdp", "bin/cdp", "the cdp CLI binary")
		duck        = flag.String("duckdb", "100000,1000000", "people counts for the identity comparison on DuckDB")
		pg          = flag.String("postgres", "100000", "people counts for the identity comparison on PostgreSQL (empty: skip)")
		naive       = flag.Duration("naive-budget", 45*time.Second, "time budget of the naive propagation loop per run (after its preparation)")
		stitch      = flag.Duration("stitcher-budget", 10*time.Minute, "time budget of the stitcher per run (0: none)")
		chains      = flag.String("chains", "10,100,1000,10000", "chain lengths for the rounds probe")
		incr        = flag.Int("incremental", 100000, "people for the incremental comparison (0: skip)")
		syncs       = flag.String("sync", "100000,1000000", "audience sizes for the sync benchmark")
		rate        = flag.Float64("rate", 4, "the destination's rate limit, requests/s")
		seed        = flag.Uint64("seed", 1, "generator seed")
		chainBudget = flag.Duration("chain-budget", 15*time.Second, "time budget of each naive and limit-conflict run of the chain probe")
		with10m     = flag.Bool("10m", false, "add 10,000,000 people on DuckDB")
		approaches  = flag.String("approaches", "stitcher,naive", "SQL approaches of the identity comparison (the union-find always runs)")
		name        = flag.String("name", "benchmarks", "base name of the report files")
		note        = flag.String("note", "", "with -merge: a note to add to the report")
		merge       = flag.String("merge", "", "re-render the report in -out from its JSON, merging the identity runs of this second report's JSON (no benchmark runs)")
		keep        = flag.Bool("keep", false, "keep the DuckDB files in the scratch folder")
		render      = flag.Bool("render", false, "re-render the report in -out from its JSON with the current verdicts (no benchmark runs)")
	)
	flag.Parse()
	if *render {
		rep, err := bench.ReadReport(filepath.Join(*out, *name+".json"))
		must(err)
		rep.Targets = bench.Verdicts(rep)
		must(bench.WriteReportAs(rep, *out, *name))
		return
	}
	if *merge != "" {
		must(mergeReports(*out, *name, *merge, *note))
		return
	}
	self, err := os.Executable()
	must(err)
	cdpPath, err := filepath.Abs(*cdp)
	must(err)
	dir := *work
	if dir == "" {
		dir, err = os.MkdirTemp("", "cdpbench-")
		must(err)
		defer os.RemoveAll(dir)
	}
	h := &bench.Harness{Self: []string{self}, CDP: cdpPath, Work: dir, Seed: *seed,
		DuckDBScales: ints(*duck), PostgresScales: ints(*pg), NaiveBudget: *naive, StitcherBudget: *stitch, SQLApproaches: strings.Split(*approaches, ","),
		ChainLengths: ints(*chains), ChainNaiveBudget: *chainBudget, IncrementalPeople: *incr,
		SyncScales: ints(*syncs), SyncRate: *rate, Keep: *keep, Log: os.Stderr}
	h.Notes = []string{
		"Scales are chosen to fit `make bench` in about 30 minutes on 2 shared cores: identity on DuckDB at " + *duck +
			" people, on PostgreSQL at " + *pg + " (its stitcher needs minutes there and its naive loop tens of seconds per round; " +
			"pass -postgres 100000,1000000 for more), incremental at " + strconv.Itoa(*incr) + " people, sync at " + *syncs + " members.",
		"Naive propagation runs its preparation in full, then its loop for " + naive.String() + " at most; " +
			"the chain probe's naive and limit-conflict runs get " + chainBudget.String() + " each. Unfinished runs are reported as such, with the rounds they reached.",
		"The sync rate limit is " + strconv.FormatFloat(*rate, 'f', -1, 64) + " requests/s of 1000 records: below what one sequential webhook " +
			"request loop sustains here, so that the share of the limit used measures the rate limiter rather than the machine.",
	}
	if *with10m {
		h.DuckDBScales = append(h.DuckDBScales, 10_000_000)
	}
	rep, err := h.Run(context.Background())
	must(err)
	must(bench.WriteReportAs(rep, *out, *name))
	fmt.Fprintf(os.Stderr, "wrote %s/%s.{md,json,svg} in %.0fs\n", *out, *name, rep.Seconds)
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		must(err)
		out = append(out, n)
	}
	return out
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "cdpbench:", err)
		os.Exit(1)
	}
}

// mergeReports merges the identity runs (and a measured incremental
// comparison) of the report at other into
// <out>/<name>.json and rewrites that report.
func mergeReports(out, name, other, note string) error {
	rep, err := bench.ReadReport(filepath.Join(out, name+".json"))
	if err != nil {
		return err
	}
	o, err := bench.ReadReport(other)
	if err != nil {
		return err
	}
	var parts []string
	for _, r := range o.Identity {
		parts = append(parts, "identity on "+r.Engine+" at "+strconv.Itoa(r.People)+" people")
	}
	if o.Incremental != nil && o.Incremental.Available {
		parts = append(parts, "the incremental comparison")
	}
	rep.Merge(o, fmt.Sprintf("Merged with -merge %s: %s, from a second invocation (%s, commit %s, load average %s → %s, config %v); "+
		"every other number is from the main run.",
		filepath.Base(other), strings.Join(parts, ", "), o.Machine.Date, o.Machine.Commit, o.Machine.LoadStart, o.Machine.LoadEnd, o.Config))
	if note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	return bench.WriteReportAs(rep, out, name)
}
