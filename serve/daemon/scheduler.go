package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/serve/schedule"
	"github.com/cdpkit/cdp/sync/engine"
)

// Scheduler fires syncs and model runs. Create it with New, call Start once,
// then Run (or Tick from tests); Stop and Wait end it.
type Scheduler struct {
	clock     schedule.Clock
	jobs      Jobs
	log       *slog.Logger
	observers []Observer
	// NewRunID names runs (default runner.NewRunID with a random suffix).
	NewRunID func(time.Time) string

	mu           sync.Mutex
	cfg          Config
	sem          chan struct{}
	next         map[string]time.Time // sync → next fire time
	modelsNext   time.Time
	running      map[string]bool
	lastDelivery map[string]time.Time // sync → start of its newest run
	models       *flight              // model run in flight
	modelsOK     time.Time            // start of the newest successful model run
	stopping     bool
	ctx          context.Context // context of the work started
	wake         chan struct{}
	wg           sync.WaitGroup
}

// flight is one model run that several syncs may wait for.
type flight struct {
	start time.Time
	done  chan struct{}
	err   error
}

// New returns a scheduler for cfg.
func New(cfg Config, jobs Jobs, clock schedule.Clock, log *slog.Logger, observers ...Observer) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{clock: clock, jobs: jobs, log: log, observers: observers,
		next: map[string]time.Time{}, running: map[string]bool{}, lastDelivery: map[string]time.Time{},
		wake: make(chan struct{}, 1), ctx: context.Background()}
	s.NewRunID = func(t time.Time) string { return runner.NewRunID(t, rand.Uint32()) }
	s.setConfig(cfg, false)
	return s
}

func (s *Scheduler) setConfig(cfg Config, keep bool) {
	if cfg.MaxConcurrent < 1 {
		cfg.MaxConcurrent = 1
	}
	if s.sem == nil || cap(s.sem) != cfg.MaxConcurrent {
		s.sem = make(chan struct{}, cfg.MaxConcurrent) // runs in flight release the old one
	}
	now := s.clock.Now()
	old := map[string]string{}
	for _, sp := range s.cfg.Syncs {
		old[sp.Name] = sp.Schedule.Spec
	}
	next := map[string]time.Time{}
	for _, sp := range cfg.Syncs {
		if t, ok := s.next[sp.Name]; ok && keep && old[sp.Name] == sp.Schedule.Spec {
			next[sp.Name] = t
		} else {
			next[sp.Name] = sp.Schedule.Next(now)
		}
	}
	s.next = next
	switch {
	case cfg.Models == nil:
		s.modelsNext = time.Time{}
	case !keep || s.cfg.Models == nil || s.cfg.Models.Spec != cfg.Models.Spec:
		s.modelsNext = cfg.Models.Next(now)
	}
	s.cfg = cfg
}

// Apply swaps the configuration (reload): new or rescheduled syncs fire at
// their next time, runs in flight go on.
func (s *Scheduler) Apply(cfg Config) {
	s.mu.Lock()
	s.setConfig(cfg, true)
	s.mu.Unlock()
	s.poke()
}

func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start reads each sync's history: a sync whose previous fire time passed
// since its newest run (or that never ran) is due now — once, however many
// fire times were missed. Work started later runs under ctx.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	syncs := s.cfg.Syncs
	s.mu.Unlock()
	now := s.clock.Now()
	for _, sp := range syncs {
		lr, err := s.jobs.LastRuns(ctx, sp.Name)
		if err != nil {
			s.log.Warn("cannot read sync history; treating the sync as never run", "sync", sp.Name, "error", err)
		}
		s.mu.Lock()
		s.lastDelivery[sp.Name] = lr.Last
		if sp.Schedule.Missed(lr.Last, now) {
			s.log.Info("missed run: runs once now", "sync", sp.Name, "last_run", fmtTime(lr.Last), "schedule", sp.Schedule.Spec)
			s.next[sp.Name] = now
		}
		s.mu.Unlock()
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// Run fires due work until ctx ends; it does not wait for work in flight
// (see Wait).
func (s *Scheduler) Run(ctx context.Context) {
	for {
		now := s.clock.Now()
		s.Tick(now)
		d := s.untilNext(now)
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(d):
		case <-s.wake:
		}
	}
}

// untilNext is the wait until the earliest fire time (at most a minute, so
// clock jumps are noticed).
func (s *Scheduler) untilNext(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := time.Minute
	consider := func(t time.Time) {
		if !t.IsZero() && t.Sub(now) < d {
			d = t.Sub(now)
		}
	}
	for _, t := range s.next {
		consider(t)
	}
	consider(s.modelsNext)
	return max(d, 0)
}

// Tick starts everything due at now: the scheduled model run first, so a
// sync due at the same time joins it instead of triggering another.
func (s *Scheduler) Tick(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return
	}
	if s.cfg.Models != nil && !s.modelsNext.IsZero() && !s.modelsNext.After(now) {
		s.modelsNext = s.cfg.Models.Next(now)
		if s.models != nil {
			s.log.Info("scheduled model run skipped: one is still running")
		} else {
			s.startModels("schedule")
		}
	}
	for _, sp := range s.cfg.Syncs {
		t := s.next[sp.Name]
		if t.IsZero() || t.After(now) {
			continue
		}
		s.next[sp.Name] = sp.Schedule.Next(now)
		s.fire(sp, now)
	}
}

// fire starts one sync (mu held).
func (s *Scheduler) fire(sp SyncSpec, now time.Time) {
	out := SyncOutcome{Sync: sp.Name, Started: now, Finished: now, Interval: sp.Schedule.Interval(now)}
	switch {
	case sp.Paused != "":
		out.Status = StatusPaused
		s.log.Info("sync skipped: paused", "sync", sp.Name, "reason", sp.Paused)
		s.report(out)
		return
	case s.running[sp.Name]:
		out.Status = StatusSkippedRunning
		s.log.Warn("sync skipped: its previous run is still going", "sync", sp.Name)
		s.report(out)
		return
	}
	s.running[sp.Name] = true
	sem, ctx := s.sem, s.ctx
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		out := s.runSync(ctx, sem, sp, out)
		s.mu.Lock()
		delete(s.running, sp.Name)
		s.mu.Unlock()
		s.report(out)
	}()
}

// report tells the observers, without holding mu for their sake.
func (s *Scheduler) report(o SyncOutcome) {
	for _, ob := range s.observers {
		ob.SyncDone(o)
	}
}

func (s *Scheduler) runSync(ctx context.Context, sem chan struct{}, sp SyncSpec, out SyncOutcome) SyncOutcome {
	select {
	case sem <- struct{}{}:
		defer func() { <-sem }()
	case <-ctx.Done():
		out.Status = StatusCancelled
		return out
	}
	if ctx.Err() != nil {
		out.Status = StatusCancelled
		return out
	}
	out.Started = s.clock.Now()
	out.RunID = s.NewRunID(out.Started)
	log := s.log.With("sync", sp.Name, "run_id", out.RunID)
	if sp.DependsOnRun {
		s.mu.Lock()
		after := s.lastDelivery[sp.Name]
		s.mu.Unlock()
		if err := s.ensureModels(ctx, after, sp.Name, log); err != nil {
			out.Status, out.Err, out.Finished = StatusModelsFailed, err, s.clock.Now()
			log.Error("sync not run: the model run it needs failed", "error", err)
			return out
		}
	}
	log.Info("sync run started", "schedule", sp.Schedule.Spec)
	delivery := s.clock.Now() // the snapshot is read after this
	res, err := s.jobs.RunSync(ctx, sp.Name, out.RunID)
	out.Finished = s.clock.Now()
	out.Result, out.Err = res, err
	switch {
	case errors.Is(err, engine.ErrLocked):
		out.Status = StatusSkippedLocked
		log.Info("sync skipped: another process runs it")
		return out
	case res != nil:
		out.Status = res.Status
	default:
		out.Status = "failed"
	}
	s.mu.Lock()
	s.lastDelivery[sp.Name] = delivery
	s.mu.Unlock()
	attrs := []any{"status", out.Status, "seconds", out.Finished.Sub(out.Started).Seconds()}
	if res != nil {
		attrs = append(attrs, "added", res.Added, "changed", res.Changed, "removed", res.Removed, "failed", res.Failed)
	}
	out.Shutdown = ctx.Err() != nil
	if err != nil || !out.Succeeded() {
		if err != nil {
			attrs = append(attrs, "error", err)
		}
		log.Error("sync run failed", attrs...)
	} else {
		log.Info("sync run finished", attrs...)
	}
	return out
}

// ensureModels returns once a model run that started after `after`
// has succeeded: it joins the run in flight or starts one (single flight).
func (s *Scheduler) ensureModels(ctx context.Context, after time.Time, syncName string, log *slog.Logger) error {
	for {
		s.mu.Lock()
		if !s.modelsOK.IsZero() && s.modelsOK.After(after) {
			s.mu.Unlock()
			return nil
		}
		f := s.models
		if f == nil {
			if s.stopping {
				s.mu.Unlock()
				return context.Canceled
			}
			f = s.startModels("sync " + syncName)
		} else {
			log.Info("waiting for the model run in flight")
		}
		s.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !f.start.After(after) && !after.IsZero() && f.err == nil {
			continue // it started before our last delivery: another is needed
		}
		return f.err
	}
}

// startModels launches a model run (mu held).
func (s *Scheduler) startModels(reason string) *flight {
	f := &flight{start: s.clock.Now(), done: make(chan struct{})}
	s.models = f
	ctx := s.ctx
	runID := s.NewRunID(f.start)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		log := s.log.With("run_id", runID, "job", "models")
		log.Info("model run started", "reason", reason)
		err := s.jobs.RunModels(ctx, runID)
		out := ModelOutcome{RunID: runID, Status: "success", Reason: reason, Started: f.start, Finished: s.clock.Now(), Err: err}
		if err != nil {
			out.Status = "failed"
			log.Error("model run failed", "error", err, "seconds", out.Finished.Sub(out.Started).Seconds())
		} else {
			log.Info("model run finished", "seconds", out.Finished.Sub(out.Started).Seconds())
		}
		s.mu.Lock()
		f.err = err
		if err == nil && f.start.After(s.modelsOK) {
			s.modelsOK = f.start
		}
		s.models = nil
		s.mu.Unlock()
		close(f.done)
		for _, ob := range s.observers {
			ob.ModelsDone(out)
		}
	}()
	return f
}

// Stop starts no more work; the caller cancels the context given to Start
// to interrupt work in flight.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.poke()
}

// Wait waits for the work in flight, at most grace (<=0: no limit); it
// reports an error when work was still running.
func (s *Scheduler) Wait(grace time.Duration) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	if grace <= 0 {
		<-done
		return nil
	}
	select {
	case <-done:
		return nil
	case <-s.clock.After(grace):
		return fmt.Errorf("work still running after the %s grace period", grace)
	}
}

// Running returns the syncs running now.
func (s *Scheduler) Running() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.running {
		out = append(out, n)
	}
	return out
}

// Next returns a sync's next fire time (zero when unknown).
func (s *Scheduler) Next(sync string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next[sync]
}
