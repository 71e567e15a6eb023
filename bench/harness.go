package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/cdpkit/cdp/internal/pgtest"
)

var errEOF = io.EOF

func log2(x float64) float64 { return math.Log2(x) }

// Harness is one benchmark run's configuration.
type Harness struct {
	// Self re-executes the harness for child tasks (see MaybeChild).
	Self []string
	// CDP is the path of the cdp CLI binary.
	CDP string
	// Work is a scratch folder.
	Work string
	Seed uint64
	// DuckDBScales and PostgresScales are people counts for the identity
	// comparison on each engine.
	DuckDBScales, PostgresScales []int
	// NaiveBudget caps naive propagation per run; StitcherBudget the
	// stitcher (0 = none).
	NaiveBudget, StitcherBudget time.Duration
	// ChainLengths and ChainNaiveBudget drive the rounds-against-chain probe.
	ChainLengths     []int
	ChainNaiveBudget time.Duration
	// IncrementalPeople is the scale of the incremental comparison (0 skips it).
	IncrementalPeople int
	// SyncScales are audience sizes; SyncRate the destination's rate limit (requests/s).
	SyncScales []int
	SyncRate   float64
	// SQLApproaches are the SQL approaches of the identity comparison
	// (default stitcher and naive); the union-find always runs.
	SQLApproaches []string
	// Notes are copied into the report (e.g. why a scale was chosen).
	Notes []string
	// Keep leaves the DuckDB files in Work.
	Keep bool
	Log  io.Writer
}

// Report is everything one run measured.
type Report struct {
	Machine     Machine           `json:"machine"`
	Config      map[string]any    `json:"config"`
	Identity    []*IdentityRun    `json:"identity"`
	Chains      []ChainPoint      `json:"chains"`
	Incremental *IncrementalRun   `json:"incremental"`
	Sync        []*SyncRun        `json:"sync"`
	Targets     []TargetVerdict   `json:"targets"`
	Seconds     float64           `json:"total_seconds"`
	Notes       []string          `json:"notes,omitempty"`
	Skipped     map[string]string `json:"skipped,omitempty"`
}

func (h *Harness) gen() Gen { return Gen{Seed: h.Seed} }

func (h *Harness) logf(format string, args ...any) {
	if h.Log != nil {
		fmt.Fprintf(h.Log, "%s "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05")}, args...)...)
	}
}

// Run runs every section and returns the report.
func (h *Harness) Run(ctx context.Context) (*Report, error) {
	start := time.Now()
	rep := &Report{Machine: ReadMachine(ctx, h.CDP), Skipped: map[string]string{}, Config: map[string]any{
		"seed": h.Seed, "duckdb_scales": h.DuckDBScales, "postgres_scales": h.PostgresScales,
		"naive_budget_sec": h.NaiveBudget.Seconds(), "stitcher_budget_sec": h.StitcherBudget.Seconds(), "chain_lengths": h.ChainLengths,
		"incremental_people": h.IncrementalPeople, "sync_scales": h.SyncScales, "sync_rate_limit": h.SyncRate,
	}}
	h.logf("machine: %s, %d cores, %.1f GiB, load %s", rep.Machine.CPU, rep.Machine.Cores, rep.Machine.MemGiB, rep.Machine.LoadStart)
	var err error
	if rep.Chains, err = h.runChains(ctx, h.ChainLengths); err != nil {
		return nil, fmt.Errorf("chains: %w", err)
	}
	for _, n := range h.DuckDBScales {
		rep.Identity = append(rep.Identity, h.runIdentity(ctx, Target{Engine: "duckdb"}, n, h.NaiveBudget))
	}
	if len(h.PostgresScales) > 0 {
		h.postgres(ctx, rep)
	}
	if h.IncrementalPeople > 0 {
		rep.Incremental = h.runIncremental(ctx, h.IncrementalPeople)
	}
	for _, n := range h.SyncScales {
		rep.Sync = append(rep.Sync, h.runSync(ctx, n))
	}
	rep.Machine.LoadEnd = loadAvg()
	rep.Seconds = time.Since(start).Seconds()
	rep.Targets = Verdicts(rep)
	rep.Notes = append(rep.Notes, h.Notes...)
	return rep, nil
}

// postgres runs the identity comparison on a PostgreSQL database per scale.
func (h *Harness) postgres(ctx context.Context, rep *Report) {
	defer func() { _ = pgtest.Stop() }()
	for _, n := range h.PostgresScales {
		dsn, drop, err := pgtest.NewDatabase()
		if errors.Is(err, pgtest.ErrNoServer) {
			rep.Skipped["postgres"] = err.Error()
			h.logf("postgres skipped: %v", err)
			return
		}
		if err != nil {
			rep.Identity = append(rep.Identity, &IdentityRun{Engine: "postgres", People: n, Error: err.Error()})
			continue
		}
		if rep.Machine.Postgres == "" {
			rep.Machine.Postgres = postgresVersion(ctx, dsn)
		}
		rep.Identity = append(rep.Identity, h.runIdentity(ctx, Target{Engine: "postgres", DSN: dsn}, n, h.NaiveBudget))
		if drop != nil {
			drop()
		}
	}
}
