package daemon

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdpkit/cdp/serve/schedule"
	"github.com/cdpkit/cdp/sync/engine"
)

var t0 = time.Date(2026, 11, 1, 10, 5, 0, 0, time.UTC) // between fire times of */30

// fakeJobs records calls; syncs and model runs block on gate channels when set.
type fakeJobs struct {
	mu        sync.Mutex
	clock     *schedule.Fake
	syncRuns  map[string]int
	modelRuns int
	active    int32
	maxActive int32
	last      map[string]LastRuns
	gate      chan struct{} // syncs wait on it when non-nil
	modelGate chan struct{} // model runs wait on it when non-nil
	started   chan string   // receives each sync name as it starts (if non-nil)
	modelErr  error
	syncErr   map[string]error
}

func newFakeJobs(c *schedule.Fake) *fakeJobs {
	return &fakeJobs{clock: c, syncRuns: map[string]int{}, last: map[string]LastRuns{}, syncErr: map[string]error{}}
}

func (f *fakeJobs) RunSync(ctx context.Context, name, runID string) (*engine.Result, error) {
	n := atomic.AddInt32(&f.active, 1)
	defer atomic.AddInt32(&f.active, -1)
	for {
		m := atomic.LoadInt32(&f.maxActive)
		if n <= m || atomic.CompareAndSwapInt32(&f.maxActive, m, n) {
			break
		}
	}
	f.mu.Lock()
	f.syncRuns[name]++
	gate, started, err := f.gate, f.started, f.syncErr[name]
	f.mu.Unlock()
	if started != nil {
		started <- name
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return &engine.Result{RunID: runID, Sync: name, Status: "aborted"}, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	return &engine.Result{RunID: runID, Sync: name, Status: "success", Added: 1}, nil
}

func (f *fakeJobs) RunModels(ctx context.Context, runID string) error {
	f.mu.Lock()
	f.modelRuns++
	gate, err := f.modelGate, f.modelErr
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return err
}

func (f *fakeJobs) LastRuns(ctx context.Context, name string) (LastRuns, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last[name], nil
}

func (f *fakeJobs) runs(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.syncRuns[name]
}

func (f *fakeJobs) models() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.modelRuns
}

// recorder is an Observer keeping every outcome.
type recorder struct {
	mu     sync.Mutex
	syncs  []SyncOutcome
	models []ModelOutcome
}

func (r *recorder) SyncDone(o SyncOutcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncs = append(r.syncs, o)
}

func (r *recorder) ModelsDone(o ModelOutcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.models = append(r.models, o)
}

func (r *recorder) statuses(sync string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, o := range r.syncs {
		if o.Sync == sync {
			out = append(out, o.Status)
		}
	}
	return out
}

func mustSched(t *testing.T, spec string) *schedule.Schedule {
	t.Helper()
	s, err := schedule.Parse(spec, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func setup(t *testing.T, cfg Config) (*Scheduler, *fakeJobs, *schedule.Fake, *recorder) {
	t.Helper()
	clock := schedule.NewFake(t0)
	jobs := newFakeJobs(clock)
	rec := &recorder{}
	s := New(cfg, jobs, clock, nil, rec)
	var n int32
	s.NewRunID = func(time.Time) string { return fmt.Sprintf("run%d", atomic.AddInt32(&n, 1)) }
	return s, jobs, clock, rec
}

// recent is a history that is not missed at t0 for a half-hourly schedule.
var recent = LastRuns{Last: t0.Add(-4 * time.Minute), LastSuccess: t0.Add(-4 * time.Minute)}

func TestFiresOnScheduleWithoutSleeping(t *testing.T) {
	s, jobs, clock, rec := setup(t, Config{Syncs: []SyncSpec{{Name: "a", Schedule: mustSched(t, "*/30 * * * *")}}})
	jobs.last["a"] = recent
	s.Start(context.Background())
	s.Tick(clock.Now())
	s.Wait(0)
	if n := jobs.runs("a"); n != 0 {
		t.Fatalf("ran %d times before its fire time", n)
	}
	if got := s.Next("a"); !got.Equal(t0.Add(25 * time.Minute)) {
		t.Fatalf("next = %v", got)
	}
	clock.Advance(25 * time.Minute)
	s.Tick(clock.Now())
	s.Wait(0)
	if n := jobs.runs("a"); n != 1 {
		t.Fatalf("runs = %d, want 1", n)
	}
	if st := rec.statuses("a"); len(st) != 1 || st[0] != "success" {
		t.Fatalf("statuses = %v", st)
	}
}

func TestMissedRunRunsOnceAtStartup(t *testing.T) {
	s, jobs, clock, _ := setup(t, Config{Syncs: []SyncSpec{
		{Name: "missed", Schedule: mustSched(t, "*/30 * * * *")},
		{Name: "fresh", Schedule: mustSched(t, "*/30 * * * *")},
		{Name: "never", Schedule: mustSched(t, "@daily")},
	}})
	jobs.last["missed"] = LastRuns{Last: t0.Add(-5 * time.Hour)} // ten fire times passed
	jobs.last["fresh"] = recent
	s.Start(context.Background())
	s.Tick(clock.Now())
	s.Tick(clock.Now())
	s.Wait(0)
	if jobs.runs("missed") != 1 || jobs.runs("fresh") != 0 || jobs.runs("never") != 1 {
		t.Fatalf("runs = %v; want missed 1, fresh 0, never 1", jobs.syncRuns)
	}
	if got := s.Next("missed"); !got.Equal(t0.Add(25 * time.Minute)) {
		t.Fatalf("after the catch-up run, next = %v", got)
	}
}

func TestNoOverlapAndConcurrencyBound(t *testing.T) {
	var syncs []SyncSpec
	for i := range 5 {
		syncs = append(syncs, SyncSpec{Name: fmt.Sprint("s", i), Schedule: mustSched(t, "@every 1m")})
	}
	s, jobs, clock, rec := setup(t, Config{Syncs: syncs, MaxConcurrent: 2})
	for _, sp := range syncs {
		jobs.last[sp.Name] = LastRuns{Last: t0}
	}
	jobs.gate = make(chan struct{})
	jobs.started = make(chan string, 10)
	s.Start(context.Background())
	clock.Advance(time.Minute)
	s.Tick(clock.Now())
	<-jobs.started
	<-jobs.started
	// Two run, three wait for a slot; the next fire time finds all five busy.
	clock.Advance(time.Minute)
	s.Tick(clock.Now())
	for _, sp := range syncs {
		if st := rec.statuses(sp.Name); len(st) != 1 || st[0] != StatusSkippedRunning {
			t.Errorf("%s: statuses %v, want one %s", sp.Name, st, StatusSkippedRunning)
		}
	}
	close(jobs.gate)
	s.Wait(0)
	if m := atomic.LoadInt32(&jobs.maxActive); m != 2 {
		t.Errorf("max syncs at once = %d, want 2", m)
	}
	for _, sp := range syncs {
		if jobs.runs(sp.Name) != 1 {
			t.Errorf("%s ran %d times, want 1", sp.Name, jobs.runs(sp.Name))
		}
	}
}

func TestLockedElsewhereIsSkipped(t *testing.T) {
	s, jobs, clock, rec := setup(t, Config{Syncs: []SyncSpec{{Name: "a", Schedule: mustSched(t, "@every 1m")}}})
	jobs.syncErr["a"] = fmt.Errorf("acquire: %w", engine.ErrLocked)
	s.Start(context.Background())
	s.Tick(clock.Now())
	s.Wait(0)
	if st := rec.statuses("a"); len(st) != 1 || st[0] != StatusSkippedLocked {
		t.Fatalf("statuses = %v", st)
	}
}

func TestPausedIsSkipped(t *testing.T) {
	s, jobs, clock, rec := setup(t, Config{Syncs: []SyncSpec{{Name: "a", Schedule: mustSched(t, "@every 1m"), Paused: "destination crm paused", DependsOnRun: true}}})
	s.Start(context.Background())
	s.Tick(clock.Now())
	s.Wait(0)
	if jobs.runs("a") != 0 || jobs.models() != 0 {
		t.Fatalf("a paused sync ran: syncs %v, models %d", jobs.syncRuns, jobs.models())
	}
	if st := rec.statuses("a"); len(st) != 1 || st[0] != StatusPaused {
		t.Fatalf("statuses = %v", st)
	}
	// Unpausing on reload lets it run at its next fire time.
	s.Apply(Config{Syncs: []SyncSpec{{Name: "a", Schedule: mustSched(t, "@every 1m")}}})
	clock.Advance(time.Minute)
	s.Tick(clock.Now())
	s.Wait(0)
	if jobs.runs("a") != 1 {
		t.Fatalf("after unpausing, runs = %d", jobs.runs("a"))
	}
}

func TestDependentSyncsShareOneModelRun(t *testing.T) {
	s, jobs, clock, rec := setup(t, Config{Syncs: []SyncSpec{
		{Name: "a", Schedule: mustSched(t, "@every 1m"), DependsOnRun: true},
		{Name: "b", Schedule: mustSched(t, "@every 1m"), DependsOnRun: true},
		{Name: "c", Schedule: mustSched(t, "@every 1m")},
	}, MaxConcurrent: 3})
	jobs.modelGate = make(chan struct{})
	jobs.started = make(chan string, 10)
	s.Start(context.Background())
	s.Tick(clock.Now())
	if name := <-jobs.started; name != "c" {
		t.Fatalf("%s started before the model run finished", name)
	}
	close(jobs.modelGate)
	s.Wait(0)
	if jobs.models() != 1 {
		t.Fatalf("model runs = %d, want 1 shared", jobs.models())
	}
	if jobs.runs("a") != 1 || jobs.runs("b") != 1 {
		t.Fatalf("runs = %v", jobs.syncRuns)
	}
	// Next fire time: the model run started before the last delivery, so a
	// new one is needed.
	jobs.modelGate = nil
	clock.Advance(time.Minute)
	s.Tick(clock.Now())
	s.Wait(0)
	if jobs.models() != 2 {
		t.Fatalf("model runs = %d, want 2", jobs.models())
	}
	if len(rec.models) != 2 {
		t.Fatalf("model outcomes = %d", len(rec.models))
	}
}

func TestScheduledModelRunIsJoined(t *testing.T) {
	s, jobs, clock, _ := setup(t, Config{Models: mustSched(t, "*/30 * * * *"), Syncs: []SyncSpec{
		{Name: "a", Schedule: mustSched(t, "*/30 * * * *"), DependsOnRun: true},
	}})
	jobs.last["a"] = recent
	s.Start(context.Background())
	clock.Advance(25 * time.Minute)
	s.Tick(clock.Now())
	s.Wait(0)
	if jobs.models() != 1 || jobs.runs("a") != 1 {
		t.Fatalf("models %d, sync runs %d; want 1 and 1", jobs.models(), jobs.runs("a"))
	}
}

func TestModelFailureBlocksDependentSync(t *testing.T) {
	s, jobs, clock, rec := setup(t, Config{Syncs: []SyncSpec{{Name: "a", Schedule: mustSched(t, "@every 1m"), DependsOnRun: true}}})
	jobs.modelErr = fmt.Errorf("boom")
	s.Start(context.Background())
	s.Tick(clock.Now())
	s.Wait(0)
	if jobs.runs("a") != 0 {
		t.Fatal("the sync ran on stale models")
	}
	if st := rec.statuses("a"); len(st) != 1 || st[0] != StatusModelsFailed {
		t.Fatalf("statuses = %v", st)
	}
}

func TestRunLoopAndShutdown(t *testing.T) {
	s, jobs, clock, rec := setup(t, Config{Syncs: []SyncSpec{{Name: "a", Schedule: mustSched(t, "@every 10s")}}})
	jobs.last["a"] = LastRuns{Last: t0}
	jobs.started = make(chan string, 10)
	ctx, cancel := context.WithCancel(context.Background())
	s.Start(ctx)
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	waitFor(t, func() bool { return clock.Waiters() > 0 })
	clock.Advance(10 * time.Second)
	<-jobs.started
	// Block the second run and shut down while it is in flight.
	jobs.mu.Lock()
	jobs.gate = make(chan struct{})
	jobs.mu.Unlock()
	waitFor(t, func() bool { return len(rec.statuses("a")) == 1 && clock.Waiters() > 0 })
	clock.Advance(10 * time.Second)
	<-jobs.started
	s.Stop()
	cancel()
	<-done
	if err := s.Wait(0); err != nil {
		t.Fatal(err)
	}
	if st := rec.statuses("a"); len(st) != 2 || st[1] != "aborted" {
		t.Fatalf("statuses = %v; want the cancelled run reported aborted", st)
	}
	s.Tick(clock.Now().Add(time.Hour))
	if jobs.runs("a") != 2 {
		t.Fatal("work started after Stop")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
