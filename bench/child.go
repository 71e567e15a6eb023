package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

// childEnv carries a ChildSpec to a re-executed harness process.
const childEnv = "CDP_BENCH_CHILD"

const resultPrefix = "BENCHRESULT "

// ChildSpec is one measured task run in its own process, so that its peak
// RSS is its own.
type ChildSpec struct {
	Task    string `json:"task"` // stitcher | naive | unionfind
	Target  Target `json:"target"`
	Project string `json:"project"`
	People  int    `json:"people"`
	Seed    uint64 `json:"seed"`
	// BudgetSec caps the approach's run (0 = none).
	BudgetSec float64 `json:"budget_sec"`
	// Compare lists the approaches whose warehouse results the union-find
	// child scores against the ground truth and itself.
	Compare []string `json:"compare"`
}

// ChildResult is what a child reports.
type ChildResult struct {
	Identity *IdentityResult          `json:"identity"`
	Scores   map[string][2]*Agreement `json:"scores,omitempty"` // approach → {truth, union-find}
	// NaiveRoundsNeeded is computed by the union-find child.
	NaiveRoundsNeeded int `json:"naive_rounds_needed,omitempty"`
}

// MaybeChild runs the child task named in the environment, if any, and
// exits. Call it first in main (and in TestMain of tests that run the harness).
func MaybeChild() {
	spec := os.Getenv(childEnv)
	if spec == "" {
		return
	}
	var s ChildSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		os.Exit(2)
	}
	res, err := runChild(context.Background(), s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		os.Exit(1)
	}
	b, _ := json.Marshal(res)
	fmt.Printf("%s%s\n", resultPrefix, b)
	os.Exit(0)
}

// openTarget opens the warehouse of t.
func openTarget(ctx context.Context, t Target) (warehouse.Warehouse, error) {
	if t.Engine == "duckdb" {
		return duckdb.Open(ctx, t.Path)
	}
	return postgres.Open(ctx, t.DSN)
}

func runChild(ctx context.Context, s ChildSpec) (*ChildResult, error) {
	if s.Task == "unionfind" {
		return unionFindChild(ctx, s)
	}
	w, err := openTarget(ctx, s.Target)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	var r *IdentityResult
	switch s.Task {
	case "stitcher":
		r, err = RunStitcher(ctx, w, s.Project, s.Target, time.Duration(s.BudgetSec*float64(time.Second)))
	case "naive":
		r, err = RunNaive(ctx, w, s.Project, s.Target, time.Duration(s.BudgetSec*float64(time.Second)))
	default:
		return nil, fmt.Errorf("unknown task %q", s.Task)
	}
	if err != nil {
		return nil, err
	}
	r.PeakRSSKiB, r.RSSWhat = engineRSS(ctx, w, s.Target)
	return &ChildResult{Identity: r}, nil
}

// engineRSS measures the peak memory of the engine that did the work.
func engineRSS(ctx context.Context, w warehouse.Warehouse, t Target) (int64, string) {
	if t.Engine == "duckdb" {
		return selfHWM(), "peak RSS (VmHWM) of the process running DuckDB in-process"
	}
	rows, err := w.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
	if err != nil {
		return 0, "not measured: " + err.Error()
	}
	defer rows.Close()
	var peak int64
	for rows.Next() {
		var pid int64
		if rows.Scan(&pid) == nil {
			peak = max(peak, procHWM(strconv.FormatInt(pid, 10)))
		}
	}
	if peak == 0 {
		return 0, "not measured: server backends not readable in /proc (remote server?)"
	}
	return peak, "peak RSS (VmHWM) of the busiest PostgreSQL backend serving the run (includes the shared buffers it touched; the server's other processes not counted)"
}

// selfHWM is this process's peak resident set in KiB.
func selfHWM() int64 { return procHWM("self") }

func procHWM(pid string) int64 {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// unionFindChild times the in-memory union-find, then scores every
// approach against the ground truth and the union-find.
func unionFindChild(ctx context.Context, s ChildSpec) (*ChildResult, error) {
	g := Gen{Seed: s.Seed}
	in := ReadInput(g, s.People)
	inputRSS := selfHWM()
	start := time.Now()
	uf := UnionFind(in)
	r := &IdentityResult{Approach: "unionfind", Seconds: time.Since(start).Seconds(), Stages: uf.Stages, Finished: true,
		PeakRSSKiB: selfHWM(),
		RSSWhat: fmt.Sprintf("peak RSS (VmHWM) of the Go process, including the raw input held in memory (%.0f MiB before the union-find started)",
			float64(inputRSS)/1024)}
	in = nil
	truth := Truth(g, s.People)
	res := &ChildResult{Identity: r, Scores: map[string][2]*Agreement{}, NaiveRoundsNeeded: uf.NaiveRoundsNeeded()}
	ufTruth, _ := Compare(truth, "ground truth", ufLabels(uf))
	res.Scores["unionfind"] = [2]*Agreement{ufTruth, nil}
	if len(s.Compare) == 0 {
		return res, nil
	}
	w, err := openTarget(ctx, s.Target)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	truthRef := Reference{Name: "ground truth", Groups: truth.groups(), Lookup: truth.lookup}
	for _, a := range s.Compare {
		sc, err := CompareMany([]Reference{truthRef, uf.Reference()}, warehouseLabels(ctx, w, a))
		if err != nil {
			return nil, fmt.Errorf("score %s: %w", a, err)
		}
		res.Scores[a] = [2]*Agreement{sc[0], sc[1]}
	}
	return res, nil
}

// Spawn runs spec in a child process (self is the harness executable and
// its arguments) and returns its result; the child's standard error goes to log.
func Spawn(ctx context.Context, self []string, spec ChildSpec, log io.Writer) (*ChildResult, error) {
	b, _ := json.Marshal(spec)
	cmd := exec.CommandContext(ctx, self[0], self[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s child on %s: %w\n%s", spec.Task, spec.Target.Engine, err, tail(out.String()))
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, resultPrefix); ok {
			var r ChildResult
			if err := json.Unmarshal([]byte(v), &r); err != nil {
				return nil, err
			}
			return &r, nil
		}
	}
	return nil, fmt.Errorf("%s child printed no result:\n%s", spec.Task, tail(out.String()))
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
