package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/serve/alert"
	"github.com/cdpkit/cdp/serve/daemon"
	"github.com/cdpkit/cdp/serve/metrics"
	"github.com/cdpkit/cdp/serve/schedule"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/warehouse"
)

// Defaults of cdp.yml's serve: block.
const (
	defaultServeAddress  = "127.0.0.1:9464"
	defaultMaxConcurrent = 2
	defaultGracePeriod   = 30 * time.Second
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "scheduler daemon: runs models and syncs by their cron schedules; /healthz, /readyz, /metrics, /runs over HTTP",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Usage: "HTTP listen address (default: serve.address, else " + defaultServeAddress + ")"},
			&cli.DurationFlag{Name: "poll", Value: 3 * time.Second, Usage: "how often to check the project files for changes (0: only on SIGHUP)"},
		},
		Action: serveAction,
	}
}

// serveSettings is cdp.yml's serve: block with defaults filled in.
func serveSettings(p *models.Project) models.ServeConfig {
	var s models.ServeConfig
	if p.Serve != nil {
		s = *p.Serve
	}
	if s.Address == "" {
		s.Address = defaultServeAddress
	}
	if s.MaxConcurrent < 1 {
		s.MaxConcurrent = defaultMaxConcurrent
	}
	if s.GracePeriod <= 0 {
		s.GracePeriod = defaultGracePeriod
	}
	return s
}

// serveState is one loaded configuration; a reload swaps it whole.
type serveState struct {
	env      *env
	settings models.ServeConfig
	engine   *engine.Engine
	cfg      daemon.Config
	channels []alert.Channel
}

// buildServeState loads the project and checks everything serve needs.
func buildServeState(c *cli.Context, w warehouse.Warehouse) (*serveState, error) {
	e, err := load(c)
	if err != nil {
		return nil, err
	}
	g, err := e.compile("serve")
	if err != nil {
		return nil, err
	}
	st := &serveState{env: e, settings: serveSettings(e.project),
		engine: &engine.Engine{W: w, Project: e.project, Tables: g.Tables}}
	loc, err := schedule.LoadLocation(st.settings.TimeZone)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	st.cfg.MaxConcurrent = st.settings.MaxConcurrent
	if st.settings.ModelsSchedule != "" {
		if st.cfg.Models, err = schedule.Parse(st.settings.ModelsSchedule, loc); err != nil {
			return nil, usageErr("serve.models_schedule: %v", err)
		}
	}
	paused := map[string]bool{}
	for _, d := range e.project.Destinations {
		paused[d.Name] = d.Paused
	}
	for _, s := range e.project.Syncs {
		if s.Schedule == "" {
			continue // run by hand only
		}
		sched, err := schedule.Parse(s.Schedule, loc)
		if err != nil {
			return nil, usageErr("%s:%d: sync %s: %v", s.Pos.File, s.Pos.Line, s.Name, err)
		}
		sp := daemon.SyncSpec{Name: s.Name, Schedule: sched, DependsOnRun: s.DependsOnRun}
		switch {
		case s.Paused:
			sp.Paused = "sync paused"
		case paused[s.Destination]:
			sp.Paused = "destination " + s.Destination + " paused"
		}
		st.cfg.Syncs = append(st.cfg.Syncs, sp)
	}
	for _, a := range e.project.Alerts {
		if a.Type != "slack" && a.Type != "webhook" {
			return nil, usageErr("%s:%d: alert %s: type must be slack or webhook", a.Pos.File, a.Pos.Line, a.Name)
		}
		st.channels = append(st.channels, alert.Channel{Name: a.Name, Type: a.Type, URL: a.URL, Secret: a.Secret,
			On: a.On, RejectionShare: a.RejectionShare, StaleAfter: a.StaleAfter})
	}
	return st, nil
}

// serveJobs runs the work of the scheduler against the current state.
type serveJobs struct {
	c     *cli.Context
	w     warehouse.Warehouse
	mu    sync.RWMutex
	state *serveState
}

func (j *serveJobs) current() *serveState {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.state
}

func (j *serveJobs) set(st *serveState) {
	j.mu.Lock()
	j.state = st
	j.mu.Unlock()
}

// RunSync implements daemon.Jobs: Wait 0, so another process's run is
// reported as engine.ErrLocked at once.
func (j *serveJobs) RunSync(ctx context.Context, name, runID string) (*engine.Result, error) {
	st := j.current()
	for _, s := range st.env.project.Syncs {
		if s.Name == name {
			return st.engine.Run(ctx, s, engine.RunOptions{RunID: runID, Wait: 0, LockTTL: 5 * time.Minute})
		}
	}
	return nil, fmt.Errorf("sync %s is no longer in the project", name)
}

// RunModels implements daemon.Jobs: every node, as `cdp run` does; without
// --as-of each run's reference time is its start.
func (j *serveJobs) RunModels(ctx context.Context, runID string) error {
	st := j.current()
	e := *st.env
	asOf, err := parseAsOf(j.c.String("as-of"))
	if err != nil {
		return err
	}
	e.asOf = asOf
	g, nodes, err := e.planRun(ctx, j.w, runID, nil, false)
	if err != nil {
		return err
	}
	res, err := runner.Run(ctx, j.w, g, nodes, runID, nil)
	if err != nil {
		return err
	}
	if res.Status != "success" {
		return fmt.Errorf("model run %s: %s", res.Status, res.Error)
	}
	return nil
}

// LastRuns implements daemon.Jobs from cdp_sync_runs.
func (j *serveJobs) LastRuns(ctx context.Context, name string) (daemon.LastRuns, error) {
	h, err := j.current().engine.History(ctx, name, 100)
	var lr daemon.LastRuns
	if err != nil {
		return lr, err
	}
	for i, r := range h {
		if i == 0 {
			lr.Last = r.Started
		}
		if r.Status == "success" || r.Status == "partial" || r.Status == "baseline" {
			lr.LastSuccess = r.Started
			break
		}
	}
	return lr, nil
}

func newLogger(c *cli.Context, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.String("log-level")))
	opts := &slog.HandlerOptions{Level: level}
	if c.Bool("json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serveAction(c *cli.Context) error {
	log := newLogger(c, c.App.ErrWriter)
	first, err := load(c)
	if err != nil {
		return err
	}
	ctx := context.Background()
	w, err := warehouse.Open(ctx, first.target, first.project.Root)
	if err != nil {
		return err
	}
	defer w.Close()
	jobs := &serveJobs{c: c, w: w}
	st, err := buildServeState(c, w)
	if err != nil {
		return err
	}
	jobs.set(st)
	addr := st.settings.Address
	if a := c.String("addr"); a != "" {
		addr = a
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return usageErr("listen on %s: %v", addr, err)
	}
	clock := schedule.Real{}
	m := metrics.New()
	notifier := alert.New(st.channels, clock, log)
	sched := daemon.New(st.cfg, jobs, clock, log, m, notifier)

	srv := &http.Server{Handler: serveMux(jobs, m), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "error", err)
		}
	}()
	log.Info("cdp serve started", "project", st.env.project.Name, "target", st.env.target.Name, "warehouse", st.env.target.Type,
		"addr", ln.Addr().String(), "syncs", len(st.cfg.Syncs), "max_concurrent", st.cfg.MaxConcurrent,
		"models_schedule", st.settings.ModelsSchedule, "alerts", len(st.channels))

	workCtx, cancelWork := context.WithCancel(ctx)
	defer cancelWork()
	sched.Start(workCtx)
	trackStale(workCtx, jobs, notifier, st)
	loopCtx, stopLoop := context.WithCancel(ctx)
	go sched.Run(loopCtx)
	go func() { // stale checks
		for {
			select {
			case <-loopCtx.Done():
				return
			case <-time.After(30 * time.Second):
				notifier.CheckStale()
			}
		}
	}()

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	watch := newWatcher(st.env.project.Root)
	var poll <-chan time.Time
	for {
		if d := c.Duration("poll"); d > 0 {
			poll = time.After(d)
		}
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				log.Info("reload requested (SIGHUP)")
				reload(c, w, jobs, sched, notifier, log)
				continue
			}
			return shutdown(log, sig, sigs, sched, stopLoop, cancelWork, srv, notifier, jobs.current().settings.GracePeriod)
		case <-poll:
			if watch.changed() {
				log.Info("project files changed: reloading")
				reload(c, w, jobs, sched, notifier, log)
			}
		}
	}
}

// trackStale registers every scheduled sync for stale alerts.
func trackStale(ctx context.Context, jobs *serveJobs, n *alert.Notifier, st *serveState) {
	now := time.Now()
	for _, sp := range st.cfg.Syncs {
		lr, _ := jobs.LastRuns(ctx, sp.Name)
		n.Track(sp.Name, lr.LastSuccess, sp.Schedule.Interval(now))
	}
}

func reload(c *cli.Context, w warehouse.Warehouse, jobs *serveJobs, sched *daemon.Scheduler, n *alert.Notifier, log *slog.Logger) {
	st, err := buildServeState(c, w)
	if err != nil {
		log.Error("reload failed; the previous configuration keeps running", "error", err)
		return
	}
	old := jobs.current()
	if st.env.target.Name != old.env.target.Name {
		log.Warn("target changes need a restart; keeping the open warehouse connection", "target", old.env.target.Name)
	}
	jobs.set(st)
	sched.Apply(st.cfg)
	n.SetChannels(st.channels)
	trackStale(context.Background(), jobs, n, st)
	log.Info("configuration reloaded", "syncs", len(st.cfg.Syncs), "models_schedule", st.settings.ModelsSchedule, "alerts", len(st.channels))
}

// shutdown stops new work, cancels the running syncs (the engine commits
// the batches in flight) and waits up to the grace period; a second signal
// exits at once with code 1.
func shutdown(log *slog.Logger, sig os.Signal, sigs chan os.Signal, sched *daemon.Scheduler, stopLoop, cancelWork context.CancelFunc,
	srv *http.Server, n *alert.Notifier, grace time.Duration) error {
	log.Info("shutting down: no new runs; cancelling runs in flight", "signal", sig.String(), "grace_period", grace.String(),
		"running", strings.Join(sched.Running(), ","))
	sched.Stop()
	stopLoop()
	cancelWork()
	done := make(chan error, 1)
	go func() { done <- sched.Wait(grace) }()
	select {
	case err := <-done:
		if err != nil {
			log.Warn("grace period over; exiting with work unfinished (its lease expires, the next run resends)", "error", err)
		}
	case s := <-sigs:
		log.Error("second signal: exiting at once", "signal", s.String())
		os.Exit(exitFailure)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	n.Close()
	log.Info("shutdown complete")
	return nil
}

func serveMux(jobs *serveJobs, m *metrics.Metrics) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if jobs.current() == nil {
			http.Error(w, "configuration not loaded", http.StatusServiceUnavailable)
			return
		}
		rows, err := jobs.w.Query(ctx, "SELECT 1")
		if err != nil {
			http.Error(w, "warehouse unreachable", http.StatusServiceUnavailable)
			return
		}
		rows.Close()
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /runs", func(w http.ResponseWriter, r *http.Request) {
		limit := 50
		if l, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && l > 0 && l <= 1000 {
			limit = l
		}
		h, err := jobs.current().engine.History(r.Context(), r.URL.Query().Get("sync"), limit)
		if err != nil {
			http.Error(w, "cannot read cdp_sync_runs", http.StatusServiceUnavailable)
			return
		}
		if h == nil {
			h = []engine.RunRecord{}
		}
		w.Header().Set("Content-Type", "application/json")
		writeJSON(w, map[string]any{"runs": h})
	})
	return mux
}

// watcher notices changes to the project's YAML files by their mtimes.
type watcher struct {
	root string
	last string
}

func newWatcher(root string) *watcher {
	w := &watcher{root: root}
	w.last = w.snapshot()
	return w
}

func (w *watcher) snapshot() string {
	var b strings.Builder
	_ = filepath.WalkDir(w.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && path != w.root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yml" || ext == ".yaml") {
			if info, err := d.Info(); err == nil {
				fmt.Fprintf(&b, "%s %d %d\n", path, info.ModTime().UnixNano(), info.Size())
			}
		}
		return nil
	})
	return b.String()
}

func (w *watcher) changed() bool {
	s := w.snapshot()
	if s == w.last {
		return false
	}
	w.last = s
	return true
}
