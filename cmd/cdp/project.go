package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/privacy"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/warehouse"
)

// env is what every command needs: the loaded project and chosen target.
type env struct {
	c       *cli.Context
	project *models.Project
	target  *models.Target
	diags   models.Diagnostics
	asOf    time.Time
	json    bool
}

// load reads and checks the project; model errors exit with code 2 after
// printing every diagnostic.
func load(c *cli.Context) (*env, error) {
	e := &env{c: c, json: c.Bool("json")}
	asOf, err := parseAsOf(c.String("as-of"))
	if err != nil {
		return nil, usageErr("--as-of: %v", err)
	}
	e.asOf = asOf
	// The selected target goes to the loader: its ${VAR}s must be set.
	name := c.String("target")
	p, diags := models.LoadWithOptions(c.String("project"), models.LoadOptions{Target: name})
	// Destinations are checked against the settings their type declares.
	if more := checkDestinations(p); len(more) > 0 {
		diags = append(diags, more...)
		diags.Sort()
	}
	e.project, e.diags = p, diags
	if diags.HasErrors() {
		if !e.json {
			printDiags(c.App.ErrWriter, diags)
		} else {
			writeJSON(c.App.Writer, map[string]any{"ok": false, "diagnostics": diagJSON(diags)})
		}
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("%d error(s) in the project; fix them and retry", countErrors(diags))}
	}
	if !e.json {
		printDiags(c.App.ErrWriter, diags) // warnings
	}
	if name == "" {
		name = p.DefaultTarget
	}
	t, ok := p.Targets[name]
	if !ok {
		return nil, usageErr("unknown target %q (cdp.yml defines: %v)", name, p.TargetOrder)
	}
	e.target = t
	return e, nil
}

// compile builds the (full) DAG for the chosen target's dialect.
func (e *env) compile(runID string) (*compiler.Graph, error) {
	return e.compileMode(runID, compiler.Mode{})
}

// compileMode builds the DAG in the given mode.
func (e *env) compileMode(runID string, mode compiler.Mode) (*compiler.Graph, error) {
	d, err := warehouse.DialectFor(e.target.Type)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	g, err := compiler.Compile(e.project, d, compiler.Options{Schema: e.target.Schema, AsOf: e.asOf, RunID: runID, Mode: mode})
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return g, nil
}

// planRun decides on w whether the run is full or incremental (see
// runner.DecideMode) and compiles the graph in that mode; selectors pick
// nodes as in `cdp run NODE…`.
func (e *env) planRun(ctx context.Context, w warehouse.Warehouse, runID string, selectors []string, fullRefresh bool) (*compiler.Graph, []*compiler.Node, error) {
	g, err := e.compile(runID)
	if err != nil {
		return nil, nil, err
	}
	nodes, err := g.Select(selectors)
	if err != nil {
		return nil, nil, usageErr("%v", err)
	}
	partial := len(nodes) != len(g.Nodes)
	// the erasure requests are applied by complete runs only (they rebuild
	// every table without the person); every run excludes the tombstones
	erasures, err := privacy.Current(ctx, w, g.Tables)
	if err == nil && !partial {
		erasures, err = privacy.Apply(ctx, w, g.Tables, e.project, time.Now().UTC())
	}
	if err != nil {
		return nil, nil, fmt.Errorf("apply erasure requests: %w", err)
	}
	mode, err := runner.DecideMode(ctx, w, g.Tables, runner.ModeRequest{
		Fingerprint: compiler.Fingerprint(e.project), AsOf: e.asOf,
		FullRefresh: fullRefresh, Partial: partial, Erasures: erasures})
	if err != nil {
		return nil, nil, err
	}
	if g, err = e.compileMode(runID, mode); err != nil {
		return nil, nil, err
	}
	nodes, err = g.Select(selectors)
	return g, nodes, err
}

func parseAsOf(s string) (time.Time, error) {
	if s == "" {
		return time.Now().UTC().Truncate(time.Second), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q: use RFC 3339 (2026-11-01T00:00:00Z) or a date (2026-11-01)", s)
}

func printDiags(w io.Writer, diags models.Diagnostics) {
	for _, d := range diags {
		fmt.Fprintln(w, d.String())
	}
}

func countErrors(diags models.Diagnostics) int {
	n := 0
	for _, d := range diags {
		if d.Severity == "error" {
			n++
		}
	}
	return n
}

func diagJSON(diags models.Diagnostics) []map[string]any {
	out := []map[string]any{}
	for _, d := range diags {
		out = append(out, map[string]any{"file": d.Pos.File, "line": d.Pos.Line, "col": d.Pos.Col,
			"severity": d.Severity, "message": d.Message, "hint": d.Hint})
	}
	return out
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeJSONLine(w io.Writer, v any) {
	_ = json.NewEncoder(w).Encode(v)
}
