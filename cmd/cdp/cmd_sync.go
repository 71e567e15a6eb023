package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/warehouse"
)

// exitChanges is `sync plan --detailed-exitcode`'s code when there are changes.
const exitChanges = 3

func syncCommand() *cli.Command {
	return &cli.Command{
		Name:  "sync",
		Usage: "diff audiences in the warehouse and deliver only the changes",
		Subcommands: []*cli.Command{
			{
				Name:      "plan",
				Usage:     "dry run: counts of + add ~ change - remove and samples; sends nothing",
				ArgsUsage: "[SYNC…]  (default: every sync)",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 3 when there are changes, 0 when none"},
					&cli.BoolFlag{Name: "full", Usage: "plan a full resend"},
					&cli.IntFlag{Name: "samples", Value: 3, Usage: "samples per operation (0: counts only)"},
					&cli.StringFlag{Name: "out", Usage: "save the whole plan to this file, for `sync run --plan`"},
				},
				Action: syncPlan,
			},
			{
				Name:      "run",
				Usage:     "diff and deliver; commit each batch after the destination confirms it",
				ArgsUsage: "[SYNC…]  (default: every sync; --all says so explicitly)",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "all", Usage: "run every sync"},
					&cli.BoolFlag{Name: "full", Usage: "resend every member, ignoring what was delivered"},
					&cli.BoolFlag{Name: "baseline", Usage: "mark the current audience delivered without sending (first run against a destination that already has it)"},
					&cli.DurationFlag{Name: "wait", Usage: "wait this long for another run of the same sync to finish"},
					&cli.DurationFlag{Name: "lock-ttl", Value: 5 * time.Minute, Usage: "lease length of the sync lock (renewed while the run lives)"},
					&cli.StringFlag{Name: "plan", Usage: "deliver exactly this saved plan (`sync plan --out`), or refuse it if the state moved since"},
				},
				Action: syncRun,
			},
			{
				Name:      "check",
				Usage:     "check the mapped fields against the destination's schema (HubSpot properties, Salesforce describe…), sending nothing",
				ArgsUsage: "[SYNC...]",
				Action:    syncCheck,
			},
			{
				Name:      "history",
				Usage:     "recent runs with counts, failures, durations",
				ArgsUsage: "[SYNC]",
				Flags:     []cli.Flag{&cli.IntFlag{Name: "limit", Value: 20, Usage: "most runs to list, newest first"}},
				Action:    syncHistory,
			},
		},
	}
}

// selectSyncs returns the named syncs (all when none are named).
func selectSyncs(p *models.Project, names []string) ([]*models.Sync, error) {
	if len(names) == 0 {
		if len(p.Syncs) == 0 {
			return nil, usageErr("the project declares no syncs")
		}
		return p.Syncs, nil
	}
	var out []*models.Sync
	for _, n := range names {
		var found *models.Sync
		for _, s := range p.Syncs {
			if s.Name == n {
				found = s
			}
		}
		if found == nil {
			var known []string
			for _, s := range p.Syncs {
				known = append(known, s.Name)
			}
			return nil, usageErr("unknown sync %q (known: %s)", n, strings.Join(known, ", "))
		}
		out = append(out, found)
	}
	return out, nil
}

// openEngine loads the project and connects to the target.
func openEngine(c *cli.Context) (*env, *engine.Engine, func(), error) {
	e, err := load(c)
	if err != nil {
		return nil, nil, nil, err
	}
	g, err := e.compile("sync")
	if err != nil {
		return nil, nil, nil, err
	}
	w, err := warehouse.Open(c.Context, e.target, e.project.Root)
	if err != nil {
		return nil, nil, nil, err
	}
	return e, &engine.Engine{W: w, Project: e.project, Tables: g.Tables, Logger: newLogger(c, c.App.ErrWriter)}, func() { w.Close() }, nil
}

func syncPlan(c *cli.Context) error {
	e, eng, closeFn, err := openEngine(c)
	if err != nil {
		return err
	}
	defer closeFn()
	syncs, err := selectSyncs(e.project, c.Args().Slice())
	if err != nil {
		return err
	}
	samples := c.Int("samples")
	if samples < 0 {
		return usageErr("--samples must be 0 or more")
	}
	ctx, stop := signalContext(c.Context)
	defer stop()
	var plans []*engine.Plan
	var saved *engine.SavedPlan
	if c.String("out") != "" {
		saved = &engine.SavedPlan{Format: engine.PlanFormat, Project: e.project.Name, Created: time.Now().UTC()}
	}
	changes := false
	for _, s := range syncs {
		var p *engine.Plan
		if saved != nil {
			ss, err := eng.Save(ctx, s, engine.PlanOptions{Full: c.Bool("full")})
			if err != nil {
				return err
			}
			saved.Syncs = append(saved.Syncs, ss)
			p = ss.Summary(s, max(samples, 1))
		} else if p, err = eng.Plan(ctx, s, engine.PlanOptions{Full: c.Bool("full"), Samples: max(samples, 1)}); err != nil {
			return err
		}
		if samples == 0 { // the engine reads 0 as its default
			p.Samples = []engine.Sample{}
		}
		plans = append(plans, p)
		changes = changes || p.Counts.Total() > 0
		if !e.json {
			printPlan(c.App.Writer, p)
		}
	}
	if saved != nil {
		if err := writePlanFile(c.String("out"), saved); err != nil {
			return err
		}
		if !e.json { // on stderr: stdout stays the plan
			fmt.Fprintf(c.App.ErrWriter, "saved the plan to %s; apply it with `cdp sync run --plan %s`\n", c.String("out"), c.String("out"))
		}
	}
	if e.json {
		doc := map[string]any{"plans": plans, "changes": changes}
		if saved != nil {
			doc["saved_to"] = c.String("out")
		}
		writeJSON(c.App.Writer, doc)
	}
	if changes && c.Bool("detailed-exitcode") {
		return &exitError{code: exitChanges, err: errors.New("")}
	}
	return nil
}

func printPlan(w io.Writer, p *engine.Plan) {
	c := p.Counts
	fmt.Fprintf(w, "sync %s (%s → %s)\n", p.Sync, p.Mode, p.Destination)
	for _, s := range p.Samples {
		sym := map[string]string{"add": "+", "change": "~", "remove": "-", "unsubscribe": "!", "erase": "x"}[string(s.Op)]
		fmt.Fprintf(w, "  %s %s %s\n", sym, s.Key, fieldsText(s.Fields))
	}
	more := c.Total() - int64(len(p.Samples))
	if more > 0 && len(p.Samples) > 0 {
		fmt.Fprintf(w, "  … and %d more\n", more)
	}
	fmt.Fprintf(w, "  %d to add, %d to change, %d to remove", c.Add, c.Change, c.Remove)
	if c.Unsubscribe > 0 {
		fmt.Fprintf(w, ", %d to unsubscribe", c.Unsubscribe)
	}
	if c.Erase > 0 {
		fmt.Fprintf(w, ", %d to erase", c.Erase)
	}
	if c.Skipped > 0 {
		privacy := ""
		if c.Suppressed > 0 {
			privacy += fmt.Sprintf(", suppressed %d", c.Suppressed)
		}
		if c.NoConsent > 0 {
			privacy += fmt.Sprintf(", no consent %d", c.NoConsent)
		}
		fmt.Fprintf(w, "; %d skipped (holdout %d%s, null key %d, duplicate key %d, not in mode %d)",
			c.Skipped, c.Holdout, privacy, c.NullKey, c.DuplicateKey, c.NotInMode)
	}
	fmt.Fprintln(w)
	if c.NoConsent > 0 {
		fmt.Fprintf(w, "  skipped: no consent %d\n", c.NoConsent)
	}
	if c.RemovalBlocked {
		fmt.Fprintf(w, "  ! a run would stop: %d removals exceed max_removals (%d of %d delivered)\n", c.Remove+c.Unsubscribe, c.MaxRemovals, c.Delivered)
	}
}

func fieldsText(f map[string]any) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + fmtValue(f[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func syncRun(c *cli.Context) error {
	e, eng, closeFn, err := openEngine(c)
	if err != nil {
		return err
	}
	defer closeFn()
	var saved map[string]*engine.SavedSync
	var syncs []*models.Sync
	if c.String("plan") != "" {
		if c.Bool("full") || c.Bool("baseline") || c.Bool("all") {
			return usageErr("--plan excludes --full, --baseline and --all: the plan says what to send")
		}
		if saved, syncs, err = loadPlan(c, e.project, eng); err != nil {
			return err
		}
	} else if syncs, err = selectSyncs(e.project, c.Args().Slice()); err != nil {
		return err
	}
	if c.Bool("full") && c.Bool("baseline") {
		return usageErr("--full and --baseline exclude each other")
	}
	if c.Bool("all") && c.NArg() > 0 {
		return usageErr("--all and SYNC names exclude each other")
	}
	if c.Duration("wait") < 0 {
		return usageErr("--wait must not be negative")
	}
	if c.Duration("lock-ttl") < time.Second {
		return usageErr("--lock-ttl must be at least 1s")
	}
	ctx, stop := signalContext(c.Context)
	defer stop()
	out := c.App.Writer
	tty := isTTY(out)
	var failed, stale []string
	for _, s := range syncs {
		if why := pausedReason(e.project, s); why != "" {
			if e.json {
				writeJSONLine(out, map[string]any{"event": "skipped", "sync": s.Name, "reason": why})
			} else {
				fmt.Fprintf(out, "sync %s skipped: %s (set paused: false to run it; its state is kept)\n", s.Name, why)
			}
			continue
		}
		runID := runner.NewRunID(time.Now(), rand.Uint32())
		drawn := false // a progress line is on the terminal
		progress := func(p engine.Progress) {
			switch {
			case e.json:
				writeJSONLine(out, map[string]any{"event": "progress", "run_id": runID, "progress": p})
			case tty:
				fmt.Fprintf(out, "\r  %s", progressText(p))
				drawn = true
			}
		}
		if !e.json {
			fmt.Fprintf(out, "sync %s (%s → %s) run %s\n", s.Name, s.Mode, s.Destination, runID)
		}
		res, err := eng.Run(ctx, s, engine.RunOptions{RunID: runID, Full: c.Bool("full"), Baseline: c.Bool("baseline"),
			Wait: c.Duration("wait"), LockTTL: c.Duration("lock-ttl"), Progress: progress, Plan: saved[s.Name]})
		if drawn {
			fmt.Fprintln(out)
		}
		if e.json {
			writeJSONLine(out, map[string]any{"event": "result", "result": res, "error": errText(err)})
		} else if res != nil {
			printResult(out, res)
		}
		if err != nil {
			if !e.json {
				fmt.Fprintf(c.App.ErrWriter, "error: %v\n", err)
			}
			if errors.Is(err, engine.ErrPlanStale) {
				stale = append(stale, s.Name)
			} else {
				failed = append(failed, s.Name)
			}
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if res.Failed > 0 {
			failed = append(failed, s.Name)
		}
	}
	if len(stale) > 0 && len(failed) == 0 {
		return &exitError{code: exitConflict, err: fmt.Errorf("the plan no longer applies to %s: nothing was sent for it; run `cdp sync plan --out` again", strings.Join(stale, ", "))}
	}
	failed = append(failed, stale...)
	if len(failed) > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("%d sync(s) did not deliver everything: %s (see `cdp sync history`)", len(failed), strings.Join(failed, ", "))}
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// progressText renders `1200/5000 records (24%) 830 rows/s, ETA 5s, 3 retries`.
func progressText(p engine.Progress) string {
	rate := float64(p.Done) / p.Elapsed.Seconds()
	s := fmt.Sprintf("%d/%d records", p.Done, p.Planned)
	if p.Planned > 0 {
		s += fmt.Sprintf(" (%d%%)", p.Done*100/p.Planned)
	}
	if rate > 0 {
		eta := time.Duration(float64(p.Planned-p.Done) / rate * float64(time.Second))
		s += fmt.Sprintf(", %.0f rows/s, ETA %s", rate, eta.Round(time.Second))
	}
	if p.Stats.Retries > 0 {
		s += fmt.Sprintf(", %d retries", p.Stats.Retries)
	}
	if p.Failed > 0 {
		s += fmt.Sprintf(", %d failed", p.Failed)
	}
	return s + "   "
}

func printResult(w io.Writer, r *engine.Result) {
	took := r.Finished.Sub(r.Started).Seconds()
	fmt.Fprintf(w, "  %s in %.2fs: %d added, %d changed, %d removed, %d failed, %d skipped",
		r.Status, took, r.Added, r.Changed, r.Removed, r.Failed, r.Skipped)
	if r.Stats.Requests > 0 {
		fmt.Fprintf(w, " (%d requests, %d retries, %d throttled)", r.Stats.Requests, r.Stats.Retries, r.Stats.Throttled)
	}
	fmt.Fprintln(w)
	if r.Unsubscribed > 0 {
		fmt.Fprintf(w, "  %d of the removed withdrew a required consent and were unsubscribed\n", r.Unsubscribed)
	}
	if r.Erased > 0 {
		fmt.Fprintf(w, "  %d of the removed were forgotten (cdp forget) and erased: see `cdp forget --status`\n", r.Erased)
	}
	if r.Plan.NoConsent > 0 || r.Plan.Suppressed > 0 {
		fmt.Fprintf(w, "  not sent: %d without a required consent, %d suppressed\n", r.Plan.NoConsent, r.Plan.Suppressed)
	}
	if r.Match != nil {
		fmt.Fprintf(w, "  the platform reports: %s\n", r.Match)
	}
	switch {
	case r.Refused > 0 && r.Refused == r.Failed:
		fmt.Fprintf(w, "  the destination refuses the failed records for good (see cdp_sync_rejections); they are sent again only once they change\n")
	case r.Refused > 0:
		fmt.Fprintf(w, "  failed records are in cdp_sync_rejections and will be retried by the next run, except %d the destination refuses for good until they change\n", r.Refused)
	case r.Failed > 0:
		fmt.Fprintf(w, "  failed records are in cdp_sync_rejections and will be retried by the next run\n")
	}
}

func syncHistory(c *cli.Context) error {
	e, eng, closeFn, err := openEngine(c)
	if err != nil {
		return err
	}
	defer closeFn()
	if c.NArg() > 1 {
		return usageErr("history takes at most one SYNC")
	}
	if c.NArg() == 1 {
		if _, err := selectSyncs(e.project, c.Args().Slice()); err != nil {
			return err
		}
	}
	if c.Int("limit") < 1 {
		return usageErr("--limit must be at least 1")
	}
	ctx, stop := signalContext(c.Context)
	defer stop()
	runs, err := eng.History(ctx, c.Args().First(), c.Int("limit"))
	if err != nil {
		return err
	}
	if runs == nil {
		runs = []engine.RunRecord{}
	}
	if e.json {
		writeJSON(c.App.Writer, map[string]any{"runs": runs})
		return nil
	}
	w := c.App.Writer
	if len(runs) == 0 {
		fmt.Fprintln(w, "no sync runs recorded yet")
		return nil
	}
	fmt.Fprintf(w, "%-28s %-22s %-9s %20s %7s %7s %7s %7s %7s %8s\n", "run", "sync", "status", "started", "added", "changed", "removed", "failed", "skipped", "seconds")
	for _, r := range runs {
		secs := "-"
		if r.Finished != nil {
			secs = fmt.Sprintf("%.2f", r.Finished.Sub(r.Started).Seconds())
		}
		fmt.Fprintf(w, "%-28s %-22s %-9s %20s %7d %7d %7d %7d %7d %8s\n", r.RunID, r.Sync, r.Status,
			r.Started.UTC().Format("2006-01-02 15:04:05"), r.Added, r.Changed, r.Removed, r.Failed, r.Skipped, secs)
		if r.Match != nil {
			fmt.Fprintf(w, "    match: %s\n", r.Match)
		}
		for _, why := range r.Reasons {
			kind := "rejected"
			if why.Retryable {
				kind = "failed, retryable"
			}
			fmt.Fprintf(w, "    %d %s: %s\n", why.Count, kind, why.Error)
		}
		if r.Error != nil && *r.Error != "" {
			fmt.Fprintf(w, "    %s\n", *r.Error)
		}
	}
	return nil
}

// isTTY reports whether w is a terminal (progress lines redraw in place).
func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// pausedReason says why a sync must not run ("" when it may).
func pausedReason(p *models.Project, s *models.Sync) string {
	if s.Paused {
		return "the sync is paused"
	}
	if d := p.Destination(s.Destination); d != nil && d.Paused {
		return "destination " + d.Name + " is paused"
	}
	return ""
}
