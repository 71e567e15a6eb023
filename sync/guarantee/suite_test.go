package guarantee_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/sync/synctest"
)

// TestModesOverThreeRuns delivers three runs of changing data in every mode
// the connector supports; after each run the vendor holds exactly what the
// mode must leave, and a plan finds nothing left to do. Every mode runs on
// DuckDB; on PostgreSQL the main mode (state and commits behave the same
// for every mode).
func TestModesOverThreeRuns(t *testing.T) {
	forEachVendor(t, func(t *testing.T, v vendor) {
		for _, e := range []synctest.Engine{synctest.DuckDB, synctest.Postgres} {
			t.Run(e.Name, func(t *testing.T) {
				env := e.Open(t)
				for _, mode := range modes(t, v.name) {
					if e.Name != "duckdb" && mode != mainMode(t, v.name) {
						continue
					}
					t.Run(mode, func(t *testing.T) { threeRuns(t, env, v, mode) })
				}
			})
		}
	})
}

func threeRuns(t *testing.T, env synctest.Env, v vendor, mode string) {
	synctest.Reset(env.W)
	srv := v.new(t)
	eng := newEngine(env, srv, mode)
	model := synctest.NewModel(mode)
	w := synctest.BaseWorld(300)
	if mode == "update" {
		// an update sync only changes what exists: an upsert sync creates it
		synctest.Load(t, env.W, w)
		seed := newEngine(env, srv, "upsert")
		seed.Project.Syncs[0].Name = "seed"
		if res := run(t, seed, engine.RunOptions{}); res.Failed != 0 {
			t.Fatalf("seeding for update: %+v", res)
		}
		model.Dest = w.Audience()
	}
	for r := 0; r < 3; r++ {
		if r > 0 {
			w = synctest.Evolve(w, r)
		}
		synctest.Load(t, env.W, w)
		baseline := mode == "update" && r == 0
		res := run(t, eng, engine.RunOptions{Baseline: baseline})
		model.Apply(w.Audience(), baseline)
		same(t, srv, mode, model.Dest, fmt.Sprintf("%s run %d", mode, r+1))
		if res.Failed != 0 || (res.Status != "success" && res.Status != "baseline") {
			t.Fatalf("run %d: %+v", r+1, res)
		}
		if n := plannedTotal(t, eng); n != 0 {
			t.Fatalf("run %d left %d records to deliver", r+1, n)
		}
	}
	if vs := srv.Violations(); len(vs) > 0 {
		t.Fatalf("contract violations: %v", vs)
	}
}

// TestFaultsConverge delivers under the vendor's rate-limit signal, 5xx,
// timeouts, dropped connections and per-record errors: repeated runs
// converge to the exact audience, failures are recorded, nothing is lost.
func TestFaultsConverge(t *testing.T) {
	forEachVendor(t, func(t *testing.T, v vendor) {
		env := synctest.DuckDB.Open(t)
		mode := mainMode(t, v.name)
		srv := v.new(t)
		srv.SetFaults(destinationtest.Faults{Status429Every: 9, RetryAfterHeader: "0", Status500Every: 7,
			TimeoutEvery: 23, DropEvery: 11, RejectRate: 0.1, RetryableRecordRate: 0.05, Seed: 7})
		eng := newEngine(env, srv, mode)
		// a request held by the timeout fault costs the client's timeout
		eng.Project.Destinations[0].Settings["timeout"] = "1s"
		w := synctest.BaseWorld(250)
		synctest.Load(t, env.W, w)
		var failed int64
		converged := false
		for r := 1; r <= 20; r++ {
			if r == 3 {
				w = synctest.Evolve(w, 1)
				synctest.Load(t, env.W, w)
			}
			res, err := eng.Run(context.Background(), eng.Project.Syncs[0], engine.RunOptions{RunID: fmt.Sprintf("f%02d", r), Delivery: fastDelivery})
			if err != nil {
				t.Fatalf("run %d: %v", r, err)
			}
			failed += res.Failed
			left := plannedTotal(t, eng)
			t.Logf("run %d: %s in %v: +%d ~%d -%d, %d failed (%d requests, %d retries, %d throttled); %d left",
				r, res.Status, res.Finished.Sub(res.Started).Round(time.Millisecond), res.Added, res.Changed, res.Removed,
				res.Failed, res.Stats.Requests, res.Stats.Retries, res.Stats.Throttled, left)
			if r >= 3 && left == 0 {
				converged = true
				break
			}
		}
		if !converged {
			h, _ := eng.History(context.Background(), "vip_sync", 1)
			if len(h) == 1 {
				t.Logf("last run's rejections: %+v", h[0].Reasons)
			}
			t.Fatal("repeated runs did not converge under faults")
		}
		same(t, srv, mode, w.Audience(), "after faults")
		st := srv.Stats()
		if failed == 0 || st.Throttled == 0 || st.Failed == 0 || st.TimedOut == 0 || st.Dropped == 0 || st.Rejected == 0 {
			t.Fatalf("the fault schedule was not exercised: failed=%d %+v", failed, st)
		}
		if n := count(t, env.W, "SELECT COUNT(*) FROM "+env.W.Dialect().Table("cdp", "cdp_sync_rejections")); n == 0 {
			t.Fatal("rejections must be recorded")
		}
		if vs := srv.Violations(); len(vs) > 0 {
			t.Fatalf("contract violations: %v", vs)
		}
	})
}

// TestMaxRemovalsStopsBeforeSending: a run that would remove more than
// max_removals sends nothing.
func TestMaxRemovalsStopsBeforeSending(t *testing.T) {
	forEachVendor(t, func(t *testing.T, v vendor) {
		if mainMode(t, v.name) != "mirror" {
			t.Skip("no mirror mode: nothing is ever removed")
		}
		env := synctest.DuckDB.Open(t)
		srv := v.new(t)
		eng := newEngine(env, srv, "mirror")
		eng.Project.Syncs[0].MaxRemovals = "10%"
		w := synctest.BaseWorld(200)
		synctest.Load(t, env.W, w)
		run(t, eng, engine.RunOptions{})
		before := srv.Stats().Requests
		for i := range w {
			w[i].InSeg = false
		}
		synctest.Load(t, env.W, w)
		res, err := eng.Run(context.Background(), eng.Project.Syncs[0], engine.RunOptions{RunID: "emptying", Delivery: fastDelivery})
		if !errors.Is(err, engine.ErrRemovalGuard) || res.Status != "aborted" {
			t.Fatalf("want the removal guard to abort, got %v (%+v)", err, res)
		}
		if srv.Stats().Requests != before {
			t.Fatal("the guard must stop the run before anything is sent")
		}
		same(t, srv, "mirror", synctest.BaseWorld(200).Audience(), "after the guard")
	})
}
