package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/privacy"
	"github.com/cdpkit/cdp/warehouse"
)

// ModeRequest is what DecideMode weighs.
type ModeRequest struct {
	Fingerprint string    // compiler.Fingerprint of the project
	AsOf        time.Time // this run's as-of
	FullRefresh bool      // --full-refresh
	Partial     bool      // the run selects only some nodes
	// Erasures is what privacy.Apply prepared: requests to apply make the
	// run full (every table is rebuilt without the person), and the
	// tombstones are compiled into the source views.
	Erasures privacy.Applied
}

// DecideMode chooses how a run builds the models. It is incremental only
// when the watermarks table holds the state of a complete, successful run
// that is also the latest run in cdp_runs, built from the same model
// configuration (fingerprint), with an as-of not later than this run's;
// otherwise the run is full, and Reason says why.
func DecideMode(ctx context.Context, w warehouse.Warehouse, t layout.Tables, r ModeRequest) (compiler.Mode, error) {
	m, err := decideMode(ctx, w, t, r)
	m.Erasures = r.Erasures
	return m, err
}

func decideMode(ctx context.Context, w warehouse.Warehouse, t layout.Tables, r ModeRequest) (compiler.Mode, error) {
	full := func(why string) (compiler.Mode, error) { return compiler.Mode{Reason: why}, nil }
	switch {
	case r.FullRefresh:
		return full("--full-refresh")
	case r.Partial:
		return full("a node selection runs full; incremental runs build the whole DAG")
	case len(r.Erasures.Requests) > 0:
		return full(fmt.Sprintf("%d erasure request(s) to apply (cdp forget): every table is rebuilt without the person", len(r.Erasures.Requests)))
	}
	d := w.Dialect()
	for _, stmt := range []string{d.CreateSchema(t.Schema), RunsDDL(t), identity.WatermarksDDL(d, t.Q(t.Watermarks()))} {
		if _, err := w.Exec(ctx, stmt); err != nil {
			return compiler.Mode{}, err
		}
	}
	st, ok, err := readState(ctx, w, t)
	if err != nil {
		return compiler.Mode{}, fmt.Errorf("read %s: %w", t.Watermarks(), err)
	}
	if !ok {
		return full("no previous state (first run)")
	}
	last, err := latestRun(ctx, w, t)
	if err != nil {
		return compiler.Mode{}, fmt.Errorf("read %s: %w", t.Runs(), err)
	}
	switch {
	case last != st.runID:
		return full(fmt.Sprintf("the latest run %s failed or was partial (the state is from run %s)", last, st.runID))
	case st.fingerprint != r.Fingerprint:
		return full(fmt.Sprintf("the model configuration (identity, sources or traits) changed since run %s", st.runID))
	case r.AsOf.Before(st.asOf):
		return full(fmt.Sprintf("--as-of %s is earlier than run %s's (%s)", r.AsOf.Format(time.RFC3339),
			st.runID, st.asOf.Format(time.RFC3339)))
	}
	marks, err := readWatermarks(ctx, w, t)
	if err != nil {
		return compiler.Mode{}, fmt.Errorf("read %s: %w", t.Watermarks(), err)
	}
	return compiler.Mode{Incremental: true, Watermarks: &identity.Watermarks{Source: marks, PrevAsOf: st.asOf},
		Reason: fmt.Sprintf("rows since the watermarks of run %s (deleted or updated-in-place rows need --full-refresh)", st.runID)}, nil
}

// readWatermarks returns every source's non-NULL watermark.
func readWatermarks(ctx context.Context, w warehouse.Warehouse, t layout.Tables) (map[string]time.Time, error) {
	rows, err := w.Query(ctx, "SELECT source, watermark FROM "+t.Q(t.Watermarks())+" WHERE watermark IS NOT NULL")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var src string
		var mark time.Time
		if err := rows.Scan(&src, &mark); err != nil {
			return nil, err
		}
		out[src] = mark.UTC()
	}
	return out, rows.Err()
}

// state is the recorded state of the last successful complete run.
type state struct {
	runID, fingerprint string
	asOf               time.Time
}

// readState reads the watermarks table's run (ok false when it is empty).
func readState(ctx context.Context, w warehouse.Warehouse, t layout.Tables) (state, bool, error) {
	rows, err := w.Query(ctx, "SELECT run_id, fingerprint, MAX(as_of) FROM "+t.Q(t.Watermarks())+
		" GROUP BY run_id, fingerprint")
	if err != nil {
		return state{}, false, err
	}
	defer rows.Close()
	var st state
	n := 0
	for rows.Next() {
		if err := rows.Scan(&st.runID, &st.fingerprint, &st.asOf); err != nil {
			return state{}, false, err
		}
		st.asOf = st.asOf.UTC()
		n++
	}
	if err := rows.Err(); err != nil {
		return state{}, false, err
	}
	return st, n == 1, nil
}

// latestRun returns the ID of the most recently started run ("" if none).
func latestRun(ctx context.Context, w warehouse.Warehouse, t layout.Tables) (string, error) {
	rows, err := w.Query(ctx, "SELECT run_id FROM "+t.Q(t.Runs())+" ORDER BY started_at DESC, run_id DESC LIMIT 1")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var id string
	if rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return "", err
		}
	}
	return id, rows.Err()
}
