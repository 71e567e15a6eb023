package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
)

// IdentityRun is the identity comparison on one engine at one scale.
type IdentityRun struct {
	Engine      string            `json:"engine"`
	People      int               `json:"people"`
	SourceRows  int64             `json:"source_rows"`
	LoadSeconds float64           `json:"load_seconds"`
	LongestHops int               `json:"longest_chain_hops"`
	Approaches  []*IdentityResult `json:"approaches"`
	Error       string            `json:"error,omitempty"`
}

// Approach returns the named approach's result, or nil.
func (r *IdentityRun) Approach(name string) *IdentityResult {
	for _, a := range r.Approaches {
		if a.Approach == name {
			return a
		}
	}
	return nil
}

// longestChain is the longest anonymous_id chain among persons [0, n).
func longestChain(g Gen, n int) int {
	m := 0
	for i := 0; i < n; i++ {
		m = max(m, len(g.Person(i).Anon))
	}
	return m
}

// runIdentity loads the data into t and runs the three approaches, each in
// its own process.
func (h *Harness) runIdentity(ctx context.Context, t Target, n int, naiveBudget time.Duration) *IdentityRun {
	run := &IdentityRun{Engine: t.Engine, People: n, LongestHops: longestChain(h.gen(), n)}
	dir := filepath.Join(h.Work, fmt.Sprintf("identity-%s-%d", t.Engine, n))
	if t.Engine == "duckdb" {
		t.Path = filepath.Join(dir, "bench.duckdb")
	}
	fail := func(err error) *IdentityRun {
		run.Error = err.Error()
		h.logf("identity %s %d: %v", t.Engine, n, err)
		return run
	}
	_ = os.RemoveAll(dir)
	if err := WriteProject(dir, t); err != nil {
		return fail(err)
	}
	start := time.Now()
	w, err := openTarget(ctx, t)
	if err != nil {
		return fail(err)
	}
	run.SourceRows, err = LoadSources(ctx, w, h.gen(), 0, n, false)
	w.Close()
	if err != nil {
		return fail(err)
	}
	run.LoadSeconds = time.Since(start).Seconds()
	h.logf("identity %s %d people: loaded %d rows in %.1fs", t.Engine, n, run.SourceRows, run.LoadSeconds)
	spec := ChildSpec{Target: t, Project: dir, People: n, Seed: h.Seed}
	compare := []string{}
	tasks := h.SQLApproaches
	if len(tasks) == 0 {
		tasks = []string{"stitcher", "naive"}
	}
	for _, task := range tasks {
		spec.Task, spec.BudgetSec = task, h.StitcherBudget.Seconds()
		if task == "naive" {
			spec.BudgetSec = naiveBudget.Seconds()
		}
		r, err := Spawn(ctx, h.Self, spec, h.Log)
		if err != nil {
			return fail(err)
		}
		run.Approaches = append(run.Approaches, r.Identity)
		h.logf("  %-9s %7.1fs rounds %d finished %v %s", task, r.Identity.Seconds, r.Identity.Rounds, r.Identity.Finished, r.Identity.Note)
		if r.Identity.Finished {
			compare = append(compare, task)
		}
	}
	spec.Task, spec.Compare = "unionfind", compare
	r, err := Spawn(ctx, h.Self, spec, h.Log)
	if err != nil {
		return fail(err)
	}
	run.Approaches = append(run.Approaches, r.Identity)
	h.logf("  %-9s %7.1fs", "unionfind", r.Identity.Seconds)
	for _, a := range run.Approaches {
		if s, ok := r.Scores[a.Approach]; ok {
			a.Truth, a.VsUF = s[0], s[1]
		}
		if a.Approach == "naive" {
			a.RoundsNeeded = r.NaiveRoundsNeeded
			project(a)
		}
	}
	if t.Engine == "duckdb" && !h.Keep {
		_ = os.RemoveAll(dir)
	}
	return run
}

// ChainPoint is the rounds each SQL approach needs for one chain length.
type ChainPoint struct {
	Hops           int `json:"hops"`
	StitcherRounds int `json:"stitcher_rounds"`
	StitcherJumps  int `json:"stitcher_jump_rounds"`
	// ConflictLimitRounds: the same chain with a different user_id at each
	// end (a limit of one user_id per profile), resolved by the limit rule.
	ConflictLimitRounds int     `json:"conflict_limit_rounds"`
	ConflictSeconds     float64 `json:"conflict_seconds"`
	ConflictFinished    bool    `json:"conflict_finished"`
	NaiveRounds         int     `json:"naive_rounds"`
	NaiveFinished       bool    `json:"naive_finished"`
	Log2Hops            float64 `json:"log2_hops"`
}

// runChains measures rounds against chain length on a single anonymous_id
// chain (in-process DuckDB): the shape that separates the two SQL approaches.
func (h *Harness) runChains(ctx context.Context, lengths []int) ([]ChainPoint, error) {
	var out []ChainPoint
	for _, L := range lengths {
		dir := filepath.Join(h.Work, fmt.Sprintf("chain-%d", L))
		_ = os.RemoveAll(dir)
		t := Target{Engine: "duckdb", Path: filepath.Join(dir, "chain.duckdb")}
		if err := WriteProject(dir, t); err != nil {
			return nil, err
		}
		p, err := h.chainPoint(ctx, dir, t, L)
		if err != nil {
			return nil, err
		}
		_ = os.RemoveAll(dir)
		out = append(out, p)
		h.logf("chain %5d hops: stitcher %d rounds (+%d jumps), naive %d rounds (finished %v); with a user_id conflict: %d limit rounds, %.1fs (finished %v)",
			L, p.StitcherRounds, p.StitcherJumps, p.NaiveRounds, p.NaiveFinished, p.ConflictLimitRounds, p.ConflictSeconds, p.ConflictFinished)
	}
	return out, nil
}

func (h *Harness) chainPoint(ctx context.Context, dir string, t Target, L int) (ChainPoint, error) {
	p := ChainPoint{Hops: L, Log2Hops: log2(float64(L))}
	w, err := duckdb.Open(ctx, t.Path)
	if err != nil {
		return p, err
	}
	defer w.Close()
	if err := loadChain(ctx, w, h.gen(), L, false); err != nil {
		return p, err
	}
	st, err := RunStitcher(ctx, w, dir, t, 0)
	if err != nil {
		return p, err
	}
	p.StitcherRounds, p.StitcherJumps = st.Rounds, st.InnerRounds
	nv, err := RunNaive(ctx, w, dir, t, h.ChainNaiveBudget)
	if err != nil {
		return p, err
	}
	p.NaiveRounds, p.NaiveFinished = nv.Rounds, nv.Finished
	if err := loadChain(ctx, w, h.gen(), L, true); err != nil {
		return p, err
	}
	cf, err := RunStitcher(ctx, w, dir, t, h.ChainNaiveBudget)
	if err != nil {
		return p, err
	}
	p.ConflictLimitRounds, p.ConflictSeconds, p.ConflictFinished = cf.LimitRounds, cf.Seconds, cf.Finished
	return p, nil
}

// loadChain writes one anonymous_id chain of L hops as web events (and
// empty other sources); with conflict, a different user_id logs in at each end.
func loadChain(ctx context.Context, w warehouse.Warehouse, g Gen, L int, conflict bool) error {
	r := g.rng(L, 99)
	anon := make([]string, L+1)
	for i := range anon {
		anon[i] = hex16(r)
	}
	d := w.Dialect()
	if _, err := w.Exec(ctx, d.CreateSchema(RawSchema)); err != nil {
		return err
	}
	var rows [][]any
	for i := 1; i <= L; i++ {
		rows = append(rows, []any{int64(i), anon[i], anon[i-1], nil, nil, nil, "page_viewed", Epoch.Add(time.Duration(i) * time.Hour)})
	}
	if conflict {
		rows = append(rows, []any{int64(L + 1), anon[0], nil, "usr_first", nil, nil, "added_to_cart", Epoch},
			[]any{int64(L + 2), anon[L], nil, "usr_last", nil, nil, "added_to_cart", Epoch.Add(time.Duration(L+1) * time.Hour)})
	}
	bl := w.(warehouse.BulkLoader)
	for _, s := range Sources {
		i := 0
		_, err := bl.LoadRows(ctx, d.Table(RawSchema, s.Name), s.Cols, func() ([]any, error) {
			if s.Name != "web_events" || i == len(rows) {
				return nil, errEOF
			}
			i++
			return rows[i-1], nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// project extrapolates an unfinished naive run from the rounds it ran: the
// interrupted round counts as a whole one, so the mean is a lower bound.
func project(a *IdentityResult) {
	if a.Finished || a.Rounds == 0 || len(a.Stages) < 2 {
		return
	}
	perRound := a.Stages[1].Seconds / float64(a.Rounds)
	a.ProjectedSeconds = a.Stages[0].Seconds + perRound*float64(a.RoundsNeeded)
}
