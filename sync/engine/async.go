package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/warehouse"
)

// asyncDest adapts an AsyncDestination to the deliverer: Apply submits the
// batch, records its records as pending under the job's ID (committed before
// the first poll, so a crashed run's successor resumes the job instead of
// resending), and polls until the job is done or times out. The committer
// clears the pending rows in the transaction that commits their outcomes.
type asyncDest struct {
	destination.AsyncDestination
	e     *Engine
	s     *models.Sync
	runID string
	cm    *committer
}

// Capabilities gives each Apply call the job's time budget.
func (a *asyncDest) Capabilities() destination.Capabilities {
	c := a.AsyncDestination.Capabilities()
	_, timeout := a.AsyncDestination.JobTiming()
	c.Timeout = max(c.Timeout, timeout+time.Minute)
	return c
}

// Apply submits, records the job and waits for it.
func (a *asyncDest) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	jobID, err := a.Submit(ctx, batch)
	if err != nil {
		return nil, err
	}
	if err := a.e.recordPending(ctx, a.s.Name, a.runID, jobID, batch, a.cm); err != nil {
		return nil, &destination.BatchError{Err: err, Retryable: true}
	}
	return a.e.awaitJob(ctx, a.AsyncDestination, jobID, batch, a.e.now())
}

// awaitJob polls a job until it is done; past its timeout (counted from
// submitted) every record is a retryable failure.
func (e *Engine) awaitJob(ctx context.Context, d destination.AsyncDestination, jobID string, batch []destination.Record,
	submitted time.Time) ([]destination.Result, error) {
	every, timeout := d.JobTiming()
	every = max(every, 5*time.Millisecond)
	for {
		res, done, err := d.Poll(ctx, jobID, batch)
		switch {
		case err != nil && destination.IsFatal(err):
			return nil, err
		case err == nil && done:
			return res, nil
		}
		if e.now().Sub(submitted) > timeout {
			msg := fmt.Errorf("job %s did not finish within %v; its records are retried by a later run", jobID, timeout)
			if err != nil {
				msg = fmt.Errorf("%w (last poll: %v)", msg, err)
			}
			out := make([]destination.Result, len(batch))
			for i := range out {
				out[i] = destination.Result{Err: msg, Retryable: true}
			}
			return out, nil
		}
		select {
		case <-ctx.Done():
			return nil, &destination.BatchError{Err: fmt.Errorf("job %s: %w", jobID, ctx.Err()), Retryable: true}
		case <-time.After(every):
		}
	}
}

// pendingCols are the columns of cdp_sync_pending, in insert order.
var pendingCols = []string{"sync", "job_id", "seq", "key", "operation", "fields_hash", "fields", "remote_id", "run_id", "submitted_at"}

// recordPending writes a submitted job's records, in batch order.
func (e *Engine) recordPending(ctx context.Context, sync, runID, jobID string, batch []destination.Record, cm *committer) error {
	t, d := e.Tables, e.Tables.D
	now := d.TimestampLiteral(e.now())
	rows := make([][]string, len(batch))
	cm.mu.Lock()
	for i, r := range batch {
		p := cm.inFlight[r.Key]
		rows[i] = []string{d.QuoteString(sync), d.QuoteString(jobID), fmt.Sprint(i), d.QuoteString(r.Key),
			d.QuoteString(string(r.Op)), d.QuoteString(p.hash), d.QuoteString(p.fields), d.QuoteString(p.remoteID),
			d.QuoteString(runID), now}
	}
	cm.mu.Unlock()
	return warehouse.InTx(ctx, e.W, func(exec warehouse.ExecFunc) error {
		for _, chunk := range chunks(rows, 500) {
			q := fmt.Sprintf("INSERT INTO %s (%s) SELECT * FROM %s", t.Q(t.SyncPending()),
				strings.Join(pendingCols, ", "), warehouse.LiteralRows(d, "v", pendingCols, chunk))
			if _, err := exec(ctx, q); err != nil {
				return fmt.Errorf("sync %s: record pending job %s: %w", sync, jobID, err)
			}
		}
		return nil
	})
}

// pendingJob is a job found in cdp_sync_pending.
type pendingJob struct {
	id        string
	submitted time.Time
	records   []destination.Record
}

// pendingJobs reads a sync's pending jobs, oldest first.
func (e *Engine) pendingJobs(ctx context.Context, s *models.Sync, cm *committer) ([]*pendingJob, error) {
	t, d := e.Tables, e.Tables.D
	rows, err := e.W.Query(ctx, fmt.Sprintf(
		"SELECT job_id, seq, key, operation, fields_hash, fields, remote_id, submitted_at FROM %s WHERE sync = %s ORDER BY submitted_at, job_id, seq",
		t.Q(t.SyncPending()), d.QuoteString(s.Name)))
	if err != nil {
		return nil, fmt.Errorf("sync %s: read pending jobs: %w", s.Name, err)
	}
	defer rows.Close()
	var jobs []*pendingJob
	byID := map[string]*pendingJob{}
	for rows.Next() {
		var id, key, op, hash, fields, remote string
		var seq int64
		var at time.Time
		if err := rows.Scan(&id, &seq, &key, &op, &hash, &fields, &remote, &at); err != nil {
			return nil, err
		}
		j := byID[id]
		if j == nil {
			j = &pendingJob{id: id, submitted: at}
			byID[id] = j
			jobs = append(jobs, j)
		}
		r := destination.Record{Op: destination.Op(op), Key: key, Fields: map[string]any{}, RemoteID: remote, Hash: hash}
		if fields != "" {
			if err := json.Unmarshal([]byte(fields), &r.Fields); err != nil {
				return nil, fmt.Errorf("sync %s: pending record %q holds bad JSON: %w", s.Name, key, err)
			}
		}
		cm.mu.Lock()
		if cm.inFlight == nil {
			cm.inFlight = map[string]pending{}
		}
		cm.inFlight[key] = pending{hash: hash, fields: fields, remoteID: remote}
		cm.mu.Unlock()
		j.records = append(j.records, payload(s, r))
	}
	return jobs, rows.Err()
}

// resumePending finishes the jobs an earlier run submitted and did not see
// through (it crashed or was stopped): each is polled until done or timed
// out, and its outcomes are committed as if this run had delivered them.
func (e *Engine) resumePending(ctx context.Context, s *models.Sync, d destination.AsyncDestination, cm *committer, res *Result) error {
	jobs, err := e.pendingJobs(ctx, s, cm)
	if err != nil || len(jobs) == 0 {
		return err
	}
	for _, j := range jobs {
		results, err := e.awaitJob(ctx, d, j.id, j.records, j.submitted)
		if err != nil {
			return fmt.Errorf("sync %s: resuming job %s: %w", s.Name, j.id, err)
		}
		if len(results) != len(j.records) {
			return fmt.Errorf("sync %s: job %s: %w", s.Name, j.id, delivery.ErrResultCount)
		}
		outs := make([]delivery.Outcome, len(results))
		for i, r := range results {
			outs[i] = delivery.Outcome{Record: j.records[i], Err: r.Err, Retryable: r.Retryable, Attempts: 1, RemoteID: r.RemoteID, Receipt: r.Receipt}
		}
		if err := cm.commit(ctx, outs, res); err != nil {
			return err
		}
		res.Resumed += int64(len(outs))
	}
	return nil
}

// countPending counts a sync's pending records.
func (e *Engine) countPending(ctx context.Context, sync string) (int64, error) {
	t := e.Tables
	rows, err := e.W.Query(ctx, fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE sync = %s", t.Q(t.SyncPending()), t.D.QuoteString(sync)))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		err = rows.Scan(&n)
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return 0, err
	}
	return n, err
}
