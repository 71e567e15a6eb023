package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/sync/destination"
)

// startRecord inserts the run's row and marks runs left `running` by a
// crashed process (we hold the lock, so no other run is alive) as crashed.
func (e *Engine) startRecord(ctx context.Context, r *Result) error {
	for _, q := range startSQL(e.Tables, r) {
		if _, err := e.W.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// startSQL marks crashed runs and inserts the run's row.
func startSQL(t layout.Tables, r *Result) []string {
	d := t.D
	return []string{
		fmt.Sprintf("UPDATE %s SET status = 'crashed', error = 'the process stopped before the run finished; its confirmed batches were committed' WHERE sync = %s AND status = 'running'",
			t.Q(t.SyncRuns()), d.QuoteString(r.Sync)),
		fmt.Sprintf("INSERT INTO %s (run_id, sync, started_at, status, added, changed, removed, failed, skipped, mode, destination, requests, retries, throttled) VALUES (%s, %s, %s, 'running', 0, 0, 0, 0, 0, %s, %s, 0, 0, 0)",
			t.Q(t.SyncRuns()), d.QuoteString(r.RunID), d.QuoteString(r.Sync), d.TimestampLiteral(r.Started),
			d.QuoteString(r.Mode), d.QuoteString(r.Destination)),
	}
}

// finishRecord writes the run's outcome.
func (e *Engine) finishRecord(ctx context.Context, r *Result) error {
	_, err := e.W.Exec(ctx, finishSQL(e.Tables, r))
	return err
}

// finishSQL writes a run's outcome to its row.
func finishSQL(t layout.Tables, r *Result) string {
	d := t.D
	errSQL, matchSQL := "NULL", "NULL"
	if r.Error != "" {
		errSQL = d.QuoteString(truncate(r.Error, 4000))
	}
	if r.Match != nil {
		b, _ := json.Marshal(r.Match)
		matchSQL = d.QuoteString(string(b))
	}
	return fmt.Sprintf(
		"UPDATE %s SET finished_at = %s, status = %s, added = %d, changed = %d, removed = %d, failed = %d, skipped = %d, error = %s, requests = %d, retries = %d, throttled = %d, match_report = %s WHERE run_id = %s AND sync = %s",
		t.Q(t.SyncRuns()), d.TimestampLiteral(r.Finished), d.QuoteString(r.Status), r.Added, r.Changed, r.Removed,
		r.Failed, r.Skipped, errSQL, r.Stats.Requests, r.Stats.Retries, r.Stats.Throttled, matchSQL,
		d.QuoteString(r.RunID), d.QuoteString(r.Sync))
}

// RunRecord is one row of cdp_sync_runs.
type RunRecord struct {
	RunID     string     `json:"run_id"`
	Sync      string     `json:"sync"`
	Started   time.Time  `json:"started_at"`
	Finished  *time.Time `json:"finished_at"`
	Status    string     `json:"status"`
	Added     int64      `json:"added"`
	Changed   int64      `json:"changed"`
	Removed   int64      `json:"removed"`
	Failed    int64      `json:"failed"`
	Skipped   int64      `json:"skipped"`
	Requests  int64      `json:"requests"`
	Retries   int64      `json:"retries"`
	Throttled int64      `json:"throttled"`
	Error     *string    `json:"error"`
	// Match is what an ad platform reported of the run's match rate
	// (destination.MatchReporter); nil when it reported nothing.
	Match *destination.MatchReport `json:"match,omitempty"`
	// Reasons are the most frequent rejection messages of the run.
	Reasons []Reason `json:"rejection_reasons,omitempty"`
}

// Reason is a rejection message and how many records it rejected.
type Reason struct {
	Error     string `json:"error"`
	Count     int64  `json:"count"`
	Retryable bool   `json:"retryable"`
}

// History reads recent runs, newest first; sync "" means every sync.
func (e *Engine) History(ctx context.Context, sync string, limit int) ([]RunRecord, error) {
	if err := ensureState(ctx, e.W, e.Tables); err != nil {
		return nil, err
	}
	rows, err := e.W.Query(ctx, historySQL(e.Tables, sync, limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RunRecord
	for rows.Next() {
		var r RunRecord
		var match *string
		if err := rows.Scan(&r.RunID, &r.Sync, &r.Started, &r.Finished, &r.Status, &r.Added, &r.Changed, &r.Removed,
			&r.Failed, &r.Skipped, &r.Requests, &r.Retries, &r.Throttled, &r.Error, &match); err != nil {
			return nil, err
		}
		if match != nil && *match != "" {
			var m destination.MatchReport
			if json.Unmarshal([]byte(*match), &m) == nil {
				r.Match = &m
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for i := range out {
		if out[i].Failed == 0 {
			continue
		}
		if out[i].Reasons, err = e.reasons(ctx, out[i].RunID, out[i].Sync); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// reasons reads a run's three most frequent rejection messages.
func (e *Engine) reasons(ctx context.Context, runID, sync string) ([]Reason, error) {
	t, d := e.Tables, e.Tables.D
	rows, err := e.W.Query(ctx, fmt.Sprintf(
		"SELECT error, retryable, COUNT(*) AS n FROM %s WHERE run_id = %s AND sync = %s GROUP BY error, retryable ORDER BY n DESC, error LIMIT 3",
		t.Q(t.SyncRejections()), d.QuoteString(runID), d.QuoteString(sync)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Reason
	for rows.Next() {
		var r Reason
		if err := rows.Scan(&r.Error, &r.Retryable, &r.Count); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// historySQL selects recent runs, newest first; sync "" means every sync.
func historySQL(t layout.Tables, sync string, limit int) string {
	where := ""
	if sync != "" {
		where = " WHERE sync = " + t.D.QuoteString(sync)
	}
	return fmt.Sprintf(
		"SELECT run_id, sync, started_at, finished_at, status, added, changed, removed, failed, skipped, requests, retries, throttled, error, match_report FROM %s%s ORDER BY started_at DESC, run_id DESC LIMIT %d",
		t.Q(t.SyncRuns()), where, limit)
}
