package engine_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/sync/synctest"
)

// newModel is the destination a mode must leave.
func newModel(mode string) *synctest.Model { return synctest.NewModel(mode) }

func TestModesConvergeOverThreeRuns(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engineEnv) {
		for _, mode := range []string{"upsert", "mirror", "insert", "update"} {
			t.Run(mode, func(t *testing.T) {
				srv := newServer(t, destinationtest.Faults{})
				eng := &engine.Engine{W: e.W, Project: project(srv.URL(), srv.Secret, mode), Tables: tables(e.W)}
				// a fresh state for each mode
				for _, tb := range []string{"cdp_sync_state", "cdp_sync_runs", "cdp_sync_rejections", "cdp_sync_locks"} {
					e.W.Exec(context.Background(), e.W.Dialect().DropTable(e.W.Dialect().Table("cdp", tb)))
				}
				model := newModel(mode)
				w := baseWorld(300)
				for run := 0; run < 3; run++ {
					if run > 0 {
						w = evolve(w, run)
					}
					load(t, e.W, w)
					baseline := mode == "update" && run == 0
					res := runSync(t, eng, engine.RunOptions{Baseline: baseline})
					model.Apply(w.Audience(), baseline)
					sameState(t, srv.State(), model.Dest, fmt.Sprintf("%s run %d", mode, run+1))
					if res.Failed != 0 || (res.Status != "success" && res.Status != "baseline") {
						t.Fatalf("run %d: %+v", run+1, res)
					}
					if run == 0 && mode != "update" && res.Skipped == 0 {
						t.Fatalf("holdout, null keys and the duplicate key must be counted as skipped: %+v", res.Plan)
					}
					// nothing left to do: a plan right after a run is empty
					p, err := eng.Plan(context.Background(), eng.Project.Syncs[0], engine.PlanOptions{})
					if err != nil {
						t.Fatal(err)
					}
					if p.Counts.Total() != 0 {
						t.Fatalf("run %d left work: %+v", run+1, p.Counts)
					}
				}
				if st := srv.Stats(); st.Duplicates != 0 {
					t.Fatalf("no batch may be delivered twice without faults: %+v", st)
				}
			})
		}
	})
}

func TestFaultsConvergeWithNothingLost(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engineEnv) {
		srv := newServer(t, destinationtest.Faults{Status429Every: 9, RetryAfterHeader: "0", Status500Every: 7,
			TimeoutEvery: 13, DropEvery: 11, RejectRate: 0.2, RetryableRecordRate: 0.05, Seed: 7})
		eng := &engine.Engine{W: e.W, Project: project(srv.URL(), srv.Secret, "mirror"), Tables: tables(e.W)}
		w := baseWorld(400)
		load(t, e.W, w)
		var failed int64
		converged := false
		for run := 1; run <= 15; run++ {
			if run == 3 {
				w = evolve(w, 1)
				load(t, e.W, w)
			}
			res := runSync(t, eng, engine.RunOptions{})
			failed += res.Failed
			p, err := eng.Plan(context.Background(), eng.Project.Syncs[0], engine.PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if run >= 3 && p.Counts.Total() == 0 {
				converged = true
				break
			}
		}
		if !converged {
			t.Fatal("repeated runs did not converge under faults")
		}
		sameState(t, srv.State(), w.Audience(), "after faults")
		st := srv.Stats()
		if failed == 0 || st.Throttled == 0 || st.Failed == 0 || st.TimedOut == 0 || st.Dropped == 0 || st.Rejected == 0 {
			t.Fatalf("the fault schedule was not exercised: failed=%d %+v", failed, st)
		}
		n, err := runner.Count(context.Background(), e.W, "SELECT COUNT(*) FROM "+e.W.Dialect().Table("cdp", "cdp_sync_rejections"))
		if err != nil || n == 0 {
			t.Fatalf("rejections must be recorded: %d %v", n, err)
		}
	})
}

func TestMaxRemovalsStopsBeforeSending(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engineEnv) {
		srv := newServer(t, destinationtest.Faults{})
		p := project(srv.URL(), srv.Secret, "mirror")
		p.Syncs[0].MaxRemovals = "10%"
		eng := &engine.Engine{W: e.W, Project: p, Tables: tables(e.W)}
		w := baseWorld(200)
		load(t, e.W, w)
		runSync(t, eng, engine.RunOptions{})
		before := srv.Requests()
		for i := range w {
			w[i].InSeg = false
		}
		load(t, e.W, w)
		res, err := eng.Run(context.Background(), p.Syncs[0], engine.RunOptions{RunID: "emptying", Delivery: fastDelivery})
		if !errors.Is(err, engine.ErrRemovalGuard) || res.Status != "aborted" {
			t.Fatalf("want the removal guard to abort, got %v (%+v)", err, res)
		}
		if srv.Requests() != before {
			t.Fatal("the guard must stop the run before anything is sent")
		}
		sameState(t, srv.State(), baseWorld(200).Audience(), "after the guard")
		h, err := eng.History(context.Background(), "vip_sync", 1)
		if err != nil || len(h) != 1 || h[0].Status != "aborted" || h[0].Error == nil {
			t.Fatalf("history must record the aborted run: %+v %v", h, err)
		}
	})
}

func TestFullResendsAndBaselineSendsNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engineEnv) {
		srv := newServer(t, destinationtest.Faults{})
		eng := &engine.Engine{W: e.W, Project: project(srv.URL(), srv.Secret, "upsert"), Tables: tables(e.W)}
		w := baseWorld(120)
		load(t, e.W, w)
		runSync(t, eng, engine.RunOptions{Baseline: true})
		if srv.Requests() != 0 {
			t.Fatal("--baseline must send nothing")
		}
		w[3].Name = sp("changed")
		load(t, e.W, w)
		res := runSync(t, eng, engine.RunOptions{})
		if res.Changed != 1 || res.Added != 0 || len(srv.State()) != 1 {
			t.Fatalf("after a baseline only the difference is sent: %+v, dest %d", res, len(srv.State()))
		}
		res = runSync(t, eng, engine.RunOptions{Full: true})
		if int(res.Changed) != len(w.Audience()) {
			t.Fatalf("--full must resend the whole audience: %+v", res)
		}
		sameState(t, srv.State(), w.Audience(), "after --full")
	})
}
