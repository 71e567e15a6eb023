package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cdpkit/cdp/runner"
)

// IncrementalRun compares `cdp run` after 1% new rows with `cdp run
// --full-refresh` on the same data.
type IncrementalRun struct {
	Available bool   `json:"available"`
	Note      string `json:"note,omitempty"`
	Engine    string `json:"engine"`
	People    int    `json:"people"`
	// BaseRows and AddedRows are the source rows before and added (1% more people).
	BaseRows  int64 `json:"base_rows"`
	AddedRows int64 `json:"added_rows"`
	// FirstSeconds is the first `cdp run` on the base data.
	FirstSeconds       float64 `json:"first_run_seconds"`
	IncrementalSeconds float64 `json:"incremental_seconds"`
	FullSeconds        float64 `json:"full_refresh_seconds"`
	// Ratio is IncrementalSeconds / FullSeconds.
	Ratio float64 `json:"ratio"`
	// SameResult: identifiers and profiles counts agree after both runs.
	SameResult bool   `json:"same_result"`
	Error      string `json:"error,omitempty"`
}

// hasFullRefresh reports whether `cdp run --help` lists --full-refresh.
func hasFullRefresh(ctx context.Context, cdp string) bool {
	out, _ := exec.CommandContext(ctx, cdp, "run", "--help").CombinedOutput()
	return strings.Contains(string(out), "--full-refresh")
}

// cdpRun runs `cdp run` at asOf with extra flags on the project and times it.
func (h *Harness) cdpRun(ctx context.Context, dir string, asOf time.Time, flags ...string) (float64, error) {
	args := append([]string{"--project", dir, "--as-of", asOf.Format(time.RFC3339), "run"}, flags...)
	cmd := exec.CommandContext(ctx, h.CDP, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	if err != nil {
		return 0, fmt.Errorf("cdp %s: %w\n%s", strings.Join(args, " "), err, tail(out.String()))
	}
	return time.Since(start).Seconds(), nil
}

// resultCounts summarizes the identity output to compare two runs.
func (h *Harness) resultCounts(ctx context.Context, t Target) (string, error) {
	w, err := openTarget(ctx, t)
	if err != nil {
		return "", err
	}
	defer w.Close()
	q := labelsCountQuery(w.Dialect())
	var parts []string
	for _, s := range q {
		n, err := runner.Count(ctx, w, s)
		if err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprint(n))
	}
	return strings.Join(parts, "/"), nil
}

// runIncremental measures the incremental run on DuckDB at n people.
func (h *Harness) runIncremental(ctx context.Context, n int) *IncrementalRun {
	r := &IncrementalRun{Engine: "duckdb", People: n}
	if !hasFullRefresh(ctx, h.CDP) {
		r.Note = "incremental: not available in this build (`cdp run --help` has no --full-refresh)"
		h.logf("%s", r.Note)
		return r
	}
	r.Available = true
	fail := func(err error) *IncrementalRun {
		r.Error = err.Error()
		h.logf("incremental: %v", err)
		return r
	}
	dir := filepath.Join(h.Work, "incremental")
	_ = os.RemoveAll(dir)
	t := Target{Engine: "duckdb", Path: filepath.Join(dir, "bench.duckdb")}
	if err := WriteProject(dir, t); err != nil {
		return fail(err)
	}
	load := func(from, to int, later bool) (int64, error) {
		w, err := openTarget(ctx, t)
		if err != nil {
			return 0, err
		}
		defer w.Close()
		if later {
			return AppendLater(ctx, w, h.gen(), from, to)
		}
		return LoadSources(ctx, w, h.gen(), from, to, false)
	}
	var err error
	if r.BaseRows, err = load(0, n, false); err != nil {
		return fail(err)
	}
	if r.FirstSeconds, err = h.cdpRun(ctx, dir, AsOf); err != nil {
		return fail(err)
	}
	// The new 1% arrive after the base data, as fresh rows do; both later
	// runs see them at the same as-of.
	if r.AddedRows, err = load(n, n+max(1, n/100), true); err != nil {
		return fail(err)
	}
	if r.IncrementalSeconds, err = h.cdpRun(ctx, dir, LaterAsOf); err != nil {
		return fail(err)
	}
	after1, err := h.resultCounts(ctx, t)
	if err != nil {
		return fail(err)
	}
	if r.FullSeconds, err = h.cdpRun(ctx, dir, LaterAsOf, "--full-refresh"); err != nil {
		return fail(err)
	}
	after2, err := h.resultCounts(ctx, t)
	if err != nil {
		return fail(err)
	}
	r.SameResult = after1 == after2
	r.Ratio = r.IncrementalSeconds / r.FullSeconds
	h.logf("incremental %d people: first %.1fs, +1%% incremental %.1fs, full refresh %.1fs (%.0f%%), same result %v",
		n, r.FirstSeconds, r.IncrementalSeconds, r.FullSeconds, 100*r.Ratio, r.SameResult)
	_ = os.RemoveAll(dir)
	return r
}
