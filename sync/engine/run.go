package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
)

// RunOptions tune a sync run.
type RunOptions struct {
	RunID    string
	Full     bool          // resend every member, ignoring what was delivered
	Baseline bool          // mark the current audience delivered without sending
	Wait     time.Duration // how long to wait for another run's lock
	LockTTL  time.Duration // lease length (default 5m), renewed every third
	// Delivery overrides (zero values keep the destination's defaults).
	Delivery delivery.Options
	// Progress is called after each committed batch.
	Progress func(Progress)
	// Plan, when set, is delivered instead of a fresh diff: the same
	// records, ops and fields. The run refuses it (ErrPlanStale, nothing
	// recorded) when the sync's definition or state moved since.
	Plan *SavedSync
}

// Progress reports a running sync.
type Progress struct {
	Sync      string         `json:"sync"`
	Planned   int64          `json:"planned"`
	Done      int64          `json:"done"`
	Confirmed int64          `json:"confirmed"`
	Failed    int64          `json:"failed"`
	Elapsed   time.Duration  `json:"elapsed_ns"`
	Stats     delivery.Stats `json:"stats"`
}

// Result is the outcome of one sync run, as recorded in cdp_sync_runs.
type Result struct {
	RunID       string    `json:"run_id"`
	Sync        string    `json:"sync"`
	Status      string    `json:"status"` // success | partial | failed | cancelled | aborted | baseline
	Mode        string    `json:"mode"`
	Destination string    `json:"destination"`
	Started     time.Time `json:"started_at"`
	Finished    time.Time `json:"finished_at"`
	Plan        Counts    `json:"plan"`
	Added       int64     `json:"added"`
	Changed     int64     `json:"changed"`
	Removed     int64     `json:"removed"`
	Failed      int64     `json:"failed"`
	// Refused counts the failed records the destination refuses for good
	// (destination.Result.Permanent): not sent again until they change.
	Refused int64 `json:"refused,omitempty"`
	// Unsubscribed counts the confirmed unsubscribes (`on_withdrawal:
	// unsubscribe`), which Removed includes.
	Unsubscribed int64 `json:"unsubscribed,omitempty"`
	// Erased counts the confirmed erasures of forgotten people (`cdp
	// forget`), which Removed includes.
	Erased  int64 `json:"erased,omitempty"`
	Skipped int64 `json:"skipped"`
	// Resumed counts records of an earlier run's asynchronous jobs that
	// this run saw through (their outcomes are in the counts above).
	Resumed int64          `json:"resumed,omitempty"`
	Stats   delivery.Stats `json:"delivery"`
	Error   string         `json:"error,omitempty"`
	// Match is the match rate an ad platform reported for the run
	// (destination.MatchReporter), nil when none.
	Match *destination.MatchReport `json:"match,omitempty"`
}

// ErrRemovalGuard is returned when max_removals stops a run.
var ErrRemovalGuard = errors.New("max_removals guard")

// Run diffs and delivers one sync. The returned error is also recorded in
// the result (and in cdp_sync_runs); a run that delivered with some records
// rejected is "partial" without an error.
func (e *Engine) Run(ctx context.Context, s *models.Sync, o RunOptions) (*Result, error) {
	if o.LockTTL == 0 {
		o.LockTTL = 5 * time.Minute
	}
	res := &Result{RunID: o.RunID, Sync: s.Name, Mode: s.Mode, Destination: s.Destination, Started: e.now(), Status: "running"}
	t := e.Tables
	if err := ensureState(ctx, e.W, t); err != nil {
		return nil, err
	}
	l, err := acquire(ctx, e.W, t, s.Name, o.RunID, o.LockTTL, o.Wait, e.now)
	if err != nil {
		return nil, err
	}
	defer l.release()
	if o.Plan != nil {
		if o.Full || o.Baseline {
			return nil, fmt.Errorf("sync %s: a saved plan cannot be combined with --full or --baseline", s.Name)
		}
		if err := e.checkSaved(ctx, s, o.Plan); err != nil {
			return nil, err
		}
	}
	if err := e.startRecord(ctx, res); err != nil {
		return nil, err
	}
	runErr := e.run(ctx, s, o, l, res)
	if runErr != nil {
		res.Error = runErr.Error()
		switch {
		case res.Status != "running":
		case errors.Is(runErr, context.Canceled):
			res.Status = "cancelled" // SIGTERM or Ctrl-C: what was confirmed is committed
		default:
			res.Status = "failed"
		}
	} else if res.Status == "running" {
		res.Status = "success"
		switch {
		case res.Failed > 0 && res.Added+res.Changed+res.Removed == 0:
			res.Status = "failed" // nothing was confirmed: the destination is down or refuses everything
		case res.Failed > 0:
			res.Status = "partial"
		}
	}
	res.Finished = e.now()
	if err := e.finishRecord(context.WithoutCancel(ctx), res); err != nil && runErr == nil {
		runErr = err
	}
	return res, runErr
}

func (e *Engine) run(ctx context.Context, s *models.Sync, o RunOptions, l *lease, res *Result) error {
	table := e.Tables.SyncDiff(s.Name)
	defer e.W.Exec(context.WithoutCancel(ctx), e.Tables.D.DropTable(e.Tables.Q(table)))
	cm := &committer{e: e, s: s, runID: o.RunID, eraseAs: e.eraseAs(s)}
	if cm.eraseAs == "" && !o.Baseline {
		if err := e.markManual(ctx, s); err != nil {
			return err
		}
	}
	var err error
	if cm.erasing, err = e.erasingKeys(ctx, s); err != nil {
		return err
	}
	var dest destination.Destination
	defer func() {
		if dest != nil {
			if mr, ok := dest.(destination.MatchReporter); ok {
				if m, ok := mr.MatchReport(); ok {
					res.Match = &m
				}
			}
			dest.Close()
		}
	}()
	// an earlier run's asynchronous jobs are seen through first, so the
	// diff does not send their records again
	if n, err := e.countPending(ctx, s.Name); err != nil {
		return err
	} else if n > 0 && !o.Baseline {
		if dest, err = e.open(ctx, s, o); err != nil {
			return err
		}
		if ad, ok := dest.(destination.AsyncDestination); ok {
			cm.async = true
			if err := e.resumePending(ctx, s, ad, cm, res); err != nil {
				return err
			}
		}
	}
	var c Counts
	if o.Plan != nil {
		c, err = savedCounts(s, o.Plan)
	} else {
		c, err = e.prepare(ctx, s, table, o.Full)
	}
	res.Plan = c
	res.Skipped = c.Skipped
	if err != nil {
		return err
	}
	if c.RemovalBlocked && !o.Baseline {
		res.Status = "aborted"
		return fmt.Errorf("sync %s: %w: the run would remove %d of %d delivered records, above max_removals %s (%d); nothing was sent. If the audience really shrank, raise max_removals or fix the segment",
			s.Name, ErrRemovalGuard, c.Remove+c.Unsubscribe, c.Delivered, s.MaxRemovals, c.MaxRemovals)
	}
	if o.Baseline {
		res.Status = "baseline"
		return e.baseline(ctx, s, table, cm, res)
	}
	destCfg, err := e.destination(s)
	if err != nil {
		return err
	}
	if dest == nil {
		if dest, err = e.open(ctx, s, o); err != nil {
			return err
		}
	}
	var deliverTo destination.Destination = dest
	if ad, ok := dest.(destination.AsyncDestination); ok {
		cm.async = true
		deliverTo = &asyncDest{AsyncDestination: ad, e: e, s: s, runID: o.RunID, cm: cm}
	}
	opts := o.Delivery
	if opts.RateLimit == 0 {
		if opts.RateLimit, err = parseRate(destCfg.RateLimit); err != nil {
			return err
		}
	}
	start := time.Now()
	opts.Progress = func(st delivery.Stats) {
		res.Stats = st
		if o.Progress != nil {
			o.Progress(Progress{Sync: s.Name, Planned: c.Total(), Done: st.Confirmed + st.Rejected + st.FailedRetryable,
				Confirmed: st.Confirmed, Failed: st.Rejected + st.FailedRetryable, Elapsed: time.Since(start), Stats: st})
		}
	}
	var next func() (destination.Record, bool, error)
	if o.Plan != nil {
		next = savedSource(s, o.Plan, cm)
	} else {
		var stop func()
		next, stop = e.pull(ctx, s, table, cm)
		defer stop()
	}
	stats, err := delivery.Deliver(ctx, deliverTo, opts, next, func(ctx context.Context, outs []delivery.Outcome) error {
		if lost := l.Lost(); lost != nil {
			return lost
		}
		return cm.commit(ctx, outs, res)
	})
	res.Stats = stats
	return err
}

// open opens the sync's destination for this run.
func (e *Engine) open(ctx context.Context, s *models.Sync, o RunOptions) (destination.Destination, error) {
	destCfg, err := e.destination(s)
	if err != nil {
		return nil, err
	}
	fields := make([]string, len(s.Fields))
	keyField := ""
	hashes := map[string]string{}
	for i, f := range s.Fields {
		fields[i] = f.Field
		if f.Hash != "" {
			hashes[f.Field] = f.Hash
		}
		if f.Trait == s.Key && f.Hash == "" && keyField == "" {
			keyField = f.Field
		}
	}
	settings := destCfg.Settings
	if destCfg.RateLimit != "" { // the spec reads it like any setting, so the connector paces itself by it
		settings = make(map[string]string, len(destCfg.Settings)+1)
		for k, v := range destCfg.Settings {
			settings[k] = v
		}
		settings["rate_limit"] = destCfg.RateLimit
	}
	dest, err := destination.Open(ctx, destCfg.Type, destination.Config{Name: destCfg.Name, Settings: settings,
		Options: s.Options, ProjectRoot: e.Project.Root, SyncName: s.Name, RunID: o.RunID, Mode: s.Mode, Fields: fields,
		KeyField: keyField, Hashes: hashes, Logger: e.Logger})
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", destCfg.Name, err)
	}
	return dest, nil
}

// destination finds the sync's destination.
func (e *Engine) destination(s *models.Sync) (*models.Destination, error) {
	for _, d := range e.Project.Destinations {
		if d.Name == s.Destination {
			return d, nil
		}
	}
	return nil, fmt.Errorf("sync %s: unknown destination %q", s.Name, s.Destination)
}

// pull streams the diff to the deliverer from a goroutine, so memory stays
// bounded by the channel and the deliverer's batches.
func (e *Engine) pull(ctx context.Context, s *models.Sync, table string, cm *committer) (func() (destination.Record, bool, error), func()) {
	type item struct {
		r   destination.Record
		err error
	}
	ch := make(chan item, 256)
	quit := make(chan struct{})
	go func() {
		defer close(ch)
		err := e.stream(ctx, s, table, opsOf(s), func(r destination.Record, hash string) (bool, error) {
			cm.remember(r, hash)
			select {
			case ch <- item{r: payload(s, e.deliverable(s, cm.eraseAs, r))}:
				return true, nil
			case <-quit:
				return false, nil
			}
		})
		if err != nil {
			select {
			case ch <- item{err: err}:
			case <-quit:
			}
		}
	}()
	next := func() (destination.Record, bool, error) {
		it, ok := <-ch
		if !ok {
			return destination.Record{}, false, nil
		}
		if it.err != nil {
			return destination.Record{}, false, it.err
		}
		return it.r, true, nil
	}
	stop := func() {
		close(quit)
		for range ch { // let the reader finish and close its rows
		}
	}
	return next, stop
}

// baseline commits every planned record as delivered without sending it.
func (e *Engine) baseline(ctx context.Context, s *models.Sync, table string, cm *committer, res *Result) error {
	var batch []delivery.Outcome
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := cm.commit(ctx, batch, res)
		batch = batch[:0]
		return err
	}
	// erasures are not marked done without being sent
	ops := allOps[:len(allOps)-1]
	err := e.stream(ctx, s, table, ops, func(r destination.Record, hash string) (bool, error) {
		cm.remember(r, hash)
		batch = append(batch, delivery.Outcome{Record: r, Attempts: 0})
		if len(batch) == 1000 {
			return true, flush()
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// CheckFields asks the sync's destination whether the mapped fields fit
// its schema, sending nothing. checked is false when the destination type
// has no schema endpoint.
func (e *Engine) CheckFields(ctx context.Context, s *models.Sync, fields []destination.FieldInfo) (probs []destination.FieldProblem, checked bool, err error) {
	dest, err := e.open(ctx, s, RunOptions{RunID: "check"})
	if err != nil {
		return nil, false, err
	}
	defer dest.Close()
	sc, ok := dest.(destination.SchemaChecker)
	if !ok {
		return nil, false, nil
	}
	probs, err = sc.CheckFields(ctx, fields)
	return probs, true, err
}
