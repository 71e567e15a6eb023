package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/program"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/warehouse"
)

// Stage is the wall time of one part of an approach.
type Stage struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// IdentityResult is what one approach measured on one engine and scale.
type IdentityResult struct {
	Approach string  `json:"approach"` // stitcher | naive | unionfind
	Seconds  float64 `json:"seconds"`  // wall time of every stage
	Stages   []Stage `json:"stages"`
	// Rounds of the outer loop (stitcher: hook+contract rounds; naive:
	// propagation rounds including the last one that changes nothing).
	Rounds int `json:"rounds"`
	// InnerRounds are the stitcher's pointer-jumping rounds, summed.
	InnerRounds int `json:"inner_rounds,omitempty"`
	// LimitRounds are the stitcher's rounds resolving limit-breaking
	// components link by link in priority order, summed over tiers.
	LimitRounds int  `json:"limit_rounds,omitempty"`
	Finished    bool `json:"finished"`
	// Note says why an approach did not finish.
	Note string `json:"note,omitempty"`
	// RoundsNeeded (naive) is the rounds the graph needs, computed in
	// memory from its pairs; ProjectedSeconds extrapolates an unfinished
	// run: prepare + RoundsNeeded × the mean time of the rounds it ran.
	RoundsNeeded     int     `json:"rounds_needed,omitempty"`
	ProjectedSeconds float64 `json:"projected_seconds,omitempty"`
	// PeakRSSKiB is the peak resident set measured as RSSWhat says; 0 = not measured.
	PeakRSSKiB int64  `json:"peak_rss_kib"`
	RSSWhat    string `json:"rss_what"`
	// Agreement of the approach's clusters with the ground truth and with
	// the union-find (filled by the union-find child).
	Truth *Agreement `json:"truth,omitempty"`
	VsUF  *Agreement `json:"vs_unionfind,omitempty"`
}

// loadProject loads the generated project for its target.
func loadProject(dir string, t Target) (*models.Project, error) {
	env := func(k string) (string, bool) {
		if k == "CDP_POSTGRES_DSN" {
			return t.DSN, true
		}
		return os.LookupEnv(k)
	}
	p, diags := models.LoadWithOptions(dir, models.LoadOptions{Getenv: env})
	if diags.HasErrors() {
		return nil, fmt.Errorf("generated project: %v", diags)
	}
	return p, nil
}

// compileIdentity compiles the project and returns the source nodes'
// steps and the identity node's steps.
func compileIdentity(p *models.Project, d warehouse.Dialect) (views, ident []program.Step, err error) {
	g, err := compiler.Compile(p, d, compiler.Options{Schema: CDPSchema, AsOf: AsOf, RunID: "bench"})
	if err != nil {
		return nil, nil, err
	}
	views = append(views, g.Prepare...)
	for _, n := range g.Nodes {
		switch n.Kind {
		case "source":
			views = append(views, n.Steps...)
		case "identity":
			ident = n.Steps
		}
	}
	if ident == nil {
		return nil, nil, fmt.Errorf("no identity node")
	}
	return views, ident, nil
}

// stitcherStage names the stage a top-level identity step belongs to; the
// step list is prepare, components, limits, final components, IDs, outputs.
func stitcherStage(cur string, st program.Step) string {
	label := ""
	if st.Stmt != nil {
		label = st.Stmt.Label
	} else if st.Loop != nil {
		label = st.Loop.Label
	} else if st.Tx != nil {
		label = st.Tx.Label
	}
	switch {
	case strings.HasPrefix(label, "component edges (all)"), strings.HasPrefix(label, "connected components (all)"):
		return "components"
	case label == "components" || strings.HasPrefix(label, "components after the limit rules"):
		return "profile IDs + outputs"
	case cur == "components" && label != "":
		return "limits"
	}
	return cur
}

// RunStitcher runs the compiled identity program of the project on w and
// times its stages; budget (0 = none) stops it.
func RunStitcher(ctx context.Context, w warehouse.Warehouse, projectDir string, t Target, budget time.Duration) (*IdentityResult, error) {
	p, err := loadProject(projectDir, t)
	if err != nil {
		return nil, err
	}
	views, steps, err := compileIdentity(p, w.Dialect())
	if err != nil {
		return nil, err
	}
	ex := &runner.Executor{W: w}
	res := &IdentityResult{Approach: "stitcher"}
	if _, err := w.Exec(ctx, w.Dialect().CreateSchema(CDPSchema)); err != nil {
		return nil, err
	}
	if _, err := ex.Exec(ctx, views); err != nil {
		return nil, err
	}
	start := time.Now()
	if budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, budget)
		defer cancel()
	}
	stage, stageStart := "prepare", time.Now()
	var times []Stage
	add := func(name string, d time.Duration) {
		if n := len(times); n > 0 && times[n-1].Name == name {
			times[n-1].Seconds += d.Seconds()
			return
		}
		times = append(times, Stage{Name: name, Seconds: d.Seconds()})
	}
	for _, st := range steps {
		next := stitcherStage(stage, st)
		if next != stage {
			add(stage, time.Since(stageStart))
			stage, stageStart = next, time.Now()
		}
		stats, err := ex.Exec(ctx, []program.Step{st})
		countRounds(res, stage, stats)
		if err != nil {
			add(stage, time.Since(stageStart))
			res.Stages = times
			return res, notFinished(res, err, start, budget, "in stage "+stage)
		}
	}
	add(stage, time.Since(stageStart))
	res.Seconds = time.Since(start).Seconds()
	res.Stages, res.Finished = times, true
	return res, nil
}

// countRounds adds the loop statistics of one top-level step.
func countRounds(res *IdentityResult, stage string, stats []runner.LoopStat) {
	for _, s := range stats {
		if strings.HasPrefix(s.Label, "resolve the tier's remaining links") {
			res.LimitRounds += s.Rounds
		}
		if strings.HasPrefix(s.Label, "connected components (all)") {
			res.Rounds += s.Rounds
		}
		if strings.HasPrefix(s.Label, "pointer jumping") && stage == "components" {
			res.InnerRounds += s.Rounds
		}
	}
}
