package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/warehouse"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:  "validate",
		Usage: "load and check every file; print all diagnostics",
		Action: func(c *cli.Context) error {
			e, err := load(c)
			if err != nil {
				return err
			}
			// Compiling catches what only the whole DAG shows (for every target's dialect).
			for _, name := range e.project.TargetOrder {
				t := e.project.Targets[name]
				d, err := warehouse.DialectFor(t.Type)
				if err != nil {
					continue // a connector from a later release; the loader already checked the type
				}
				if _, err := compiler.Compile(e.project, d, compiler.Options{Schema: t.Schema, AsOf: e.asOf, RunID: "validate"}); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			}
			if e.json {
				writeJSON(c.App.Writer, map[string]any{"ok": true, "diagnostics": diagJSON(e.diags)})
				return nil
			}
			fmt.Fprintf(c.App.Writer, "ok: %d sources, %d traits, %d segments, %d destinations, %d syncs (%d warnings)\n",
				len(e.project.Sources), len(e.project.Traits), len(e.project.Segments),
				len(e.project.Destinations), len(e.project.Syncs), len(e.diags))
			return nil
		},
	}
}

func compileCommand() *cli.Command {
	return &cli.Command{
		Name:      "compile",
		Usage:     "print the SQL of the selected nodes (default all) in run order",
		ArgsUsage: "[NODE…]  (kind.name, +kind.name includes its dependencies)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "incremental", Usage: "show the program of an incremental run instead of a full one"},
			&cli.BoolFlag{Name: "estimate",
				Usage: "dry-run each node on the target and print the bytes it would process (bigquery targets)"},
		},
		Action: func(c *cli.Context) error {
			e, err := load(c)
			if err != nil {
				return err
			}
			mode := compiler.Mode{Incremental: c.Bool("incremental")}
			g, err := e.compileMode("compile", mode)
			if err != nil {
				return err
			}
			nodes, err := g.Select(c.Args().Slice())
			if err != nil {
				return usageErr("%v", err)
			}
			if c.Bool("estimate") {
				w, err := warehouse.Open(c.Context, e.target, e.project.Root)
				if err != nil {
					return err
				}
				defer w.Close()
				return printEstimates(c.Context, c.App.Writer, w, e.target.Name, nodes)
			}
			if e.json {
				var out []map[string]any
				for _, n := range nodes {
					out = append(out, map[string]any{"id": n.ID, "deps": n.Deps, "file": n.Pos.File, "line": n.Pos.Line,
						"sql": compiler.Render([]*compiler.Node{n})})
				}
				writeJSON(c.App.Writer, map[string]any{"target": e.target.Name, "dialect": e.target.Type, "nodes": out})
				return nil
			}
			incr := ""
			if mode.Incremental {
				incr = ", incremental run"
			}
			fmt.Fprintf(c.App.Writer, "-- cdp compile: project %s, target %s (%s), as of %s%s\n\n",
				e.project.Name, e.target.Name, e.target.Type, e.asOf.Format(time.RFC3339), incr)
			if pre := compiler.RenderPrepare(g.Prepare); pre != "" {
				fmt.Fprint(c.App.Writer, pre+"\n")
			}
			fmt.Fprint(c.App.Writer, compiler.Render(nodes))
			if len(nodes) == len(g.Nodes) {
				fmt.Fprint(c.App.Writer, "\n"+compiler.RenderFinish(g.Finish))
			}
			return nil
		},
	}
}

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "build identity graph, profiles and segments in the warehouse (incrementally when it can)",
		ArgsUsage: "[NODE…]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "full-refresh", Usage: "rebuild everything from every source row instead of only new rows"},
		},
		Action: func(c *cli.Context) error {
			e, err := load(c)
			if err != nil {
				return err
			}
			runID := runner.NewRunID(time.Now(), rand.Uint32())
			g, err := e.compile(runID)
			if err != nil {
				return err
			}
			nodes, err := g.Select(c.Args().Slice())
			if err != nil {
				return usageErr("%v", err)
			}
			ctx, stop := signalContext(c.Context)
			defer stop()
			w, err := warehouse.Open(ctx, e.target, e.project.Root)
			if err != nil {
				return err
			}
			defer w.Close()
			if g, nodes, err = e.planRun(ctx, w, runID, c.Args().Slice(), c.Bool("full-refresh")); err != nil {
				return err
			}
			out := c.App.Writer
			if !e.json {
				fmt.Fprintf(out, "run %s: %d nodes on %s (%s), as of %s; %s: %s\n", runID, len(nodes), e.target.Name, e.target.Type,
					e.asOf.Format(time.RFC3339), g.Mode.Name(), g.Mode.Reason)
			}
			progress := func(i, total int, r runner.NodeResult) {
				if e.json {
					writeJSONLine(out, map[string]any{"event": "node", "run_id": runID, "index": i, "total": total, "result": r})
					return
				}
				fmt.Fprintln(out, progressLine(i, total, r))
			}
			res, runErr := runner.Run(ctx, w, g, nodes, runID, progress)
			if res == nil {
				return runErr
			}
			if e.json {
				summary := map[string]any{"event": "summary", "run": res}
				if res.Status == "success" {
					t := g.Tables
					if n, err := runner.Count(ctx, w, "SELECT COUNT(*) FROM "+t.Q(t.Profiles())); err == nil {
						summary["profiles"] = n
					}
					if sizes, err := runner.SegmentSizes(ctx, w, t); err == nil {
						summary["segments"] = sizes
					}
					if counts, err := runner.IDTypeCounts(ctx, w, t, idTypeNames(e.project)); err == nil {
						summary["id_types"] = counts
					}
				}
				writeJSONLine(out, summary)
			} else {
				printRunSummary(ctx, out, w, g, e.project, res)
			}
			return runErr
		},
	}
}

// progressLine renders `[ 3/12] identity.customer ........ ok  1.23s  4512 rows`.
func progressLine(i, total int, r runner.NodeResult) string {
	name := r.ID + " "
	if len(name) < 40 {
		name += strings.Repeat(".", 40-len(name))
	}
	line := fmt.Sprintf("[%*d/%d] %s %-5s %7.2fs", len(fmt.Sprint(total)), i, total, name, r.Status, r.Seconds)
	if r.Rows >= 0 {
		line += fmt.Sprintf("  %d rows", r.Rows)
	}
	var loops []string
	for _, l := range r.Loops {
		if strings.HasPrefix(l.Label, "connected components") {
			loops = append(loops, fmt.Sprintf("%d rounds", l.Rounds))
			break
		}
	}
	if len(loops) > 0 {
		line += "  (components converged in " + strings.Join(loops, ", ") + ")"
	}
	if r.Error != "" {
		line += "\n    " + r.Error
	}
	return line
}

func printRunSummary(ctx context.Context, out interface{ Write([]byte) (int, error) }, w warehouse.Warehouse, g *compiler.Graph, p *models.Project, res *runner.Result) {
	took := res.Finished.Sub(res.Started).Seconds()
	fmt.Fprintf(out, "%s in %.2fs: %d nodes\n", res.Status, took, len(res.Nodes))
	if res.Status != "success" {
		return // the tables may still hold an earlier run's results: do not report them as this run's
	}
	t := g.Tables
	if n, err := runner.Count(ctx, w, "SELECT COUNT(*) FROM "+t.Q(t.Profiles())); err == nil {
		fmt.Fprintf(out, "profiles: %d (table %s.%s)\n", n, t.Schema, t.Profiles())
	}
	if sizes, err := runner.SegmentSizes(ctx, w, t); err == nil && len(sizes) > 0 {
		fmt.Fprintf(out, "segments:\n")
		for _, s := range sizes {
			fmt.Fprintf(out, "  %-28s %7d members (%d in holdout)\n", s.Segment, s.Members, s.Holdout)
		}
	}
	if counts, err := runner.IDTypeCounts(ctx, w, t, idTypeNames(p)); err == nil && len(counts) > 0 {
		fmt.Fprintf(out, "identifiers:\n")
		for _, c := range counts {
			fmt.Fprintf(out, "  %-28s %7d kept (%d merged), %d excluded, %d invalid\n", c.IDType, c.Kept, c.Merged, c.Excluded, c.Invalid)
		}
		if sumInvalid(counts) > 0 {
			fmt.Fprintf(out, "  invalid values and their reasons: SELECT * FROM %s WHERE kind = 'invalid'\n", t.Audit())
		}
	}
	if n, err := runner.Count(ctx, w, "SELECT COUNT(*) FROM "+t.Q(t.Audit())+" WHERE kind = "+t.D.QuoteString("oversized")); err == nil && n > 0 {
		fmt.Fprintf(out, "warning: %d profiles hold more identifiers than max_profile_identifiers; see %s\n", n, t.Audit())
	}
}

// idTypeNames lists the project's identifier types in priority order.
func idTypeNames(p *models.Project) []string {
	var names []string
	if p == nil || p.Identity == nil {
		return nil
	}
	for _, it := range p.Identity.IDTypes {
		names = append(names, it.Name)
	}
	return names
}

// sumInvalid adds up the invalid values of every type.
func sumInvalid(counts []runner.IDTypeCount) int64 {
	var n int64
	for _, c := range counts {
		n += c.Invalid
	}
	return n
}
