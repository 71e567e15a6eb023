package engine_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
)

// baseWorld: n people; some without email (null key), some in holdout, one
// duplicate email (only the smaller profile_id is synced).
func baseWorld(n int) world {
	var w world
	for i := 0; i < n; i++ {
		p := person{id: fmt.Sprintf("p%05d", i), email: sp(fmt.Sprintf("p%d@mail.test", i)),
			name: sp(fmt.Sprintf("Name %d", i)), ltv: fp(float64(i) * 1.5), inSeg: i%5 != 0, holdout: i%23 == 0}
		if i%17 == 0 {
			p.email = nil
		}
		if i%11 == 0 {
			p.name = nil
		}
		w = append(w, p)
	}
	w = append(w, person{id: "z-dup", email: sp("p1@mail.test"), name: sp("Duplicate"), inSeg: true})
	return w
}

// evolve changes a world between runs: new people, changed traits, people
// leaving, a merge (one profile absorbed: its key disappears) and a key change.
func evolve(w world, step int) world {
	w = w.clone()
	n := len(w)
	for i := 0; i < 40; i++ {
		w = append(w, person{id: fmt.Sprintf("n%d-%03d", step, i), email: sp(fmt.Sprintf("new%d.%d@mail.test", step, i)),
			name: sp("Newcomer"), ltv: fp(10), inSeg: true})
	}
	for i := step; i < n; i += 7 {
		if w[i].name != nil {
			w[i].name = sp(*w[i].name + fmt.Sprintf(" v%d", step))
		} else {
			w[i].name = sp("now named")
		}
	}
	for i := step + 2; i < n; i += 13 {
		w[i].inSeg = !w[i].inSeg
	}
	for i := step + 3; i < n; i += 29 {
		w[i].ltv = nil
	}
	// merge: the profile at 2*step+6 is absorbed into its neighbour
	m := 2*step + 6
	w = append(w[:m], w[m+1:]...)
	// a key change: remove the old key, add the new one
	w[4*step+8].email = sp(fmt.Sprintf("changed%d@mail.test", step))
	return w
}

// destModel simulates a destination that obeys the mode: state is what the
// CDP believes delivered, dest what the destination holds.
type destModel struct {
	mode        string
	state, dest map[string]map[string]any
}

func newModel(mode string) *destModel {
	return &destModel{mode: mode, state: map[string]map[string]any{}, dest: map[string]map[string]any{}}
}

func (m *destModel) apply(aud map[string]map[string]any, baseline bool) {
	if baseline {
		m.state = map[string]map[string]any{}
		for k, v := range aud {
			m.state[k] = v
		}
		return
	}
	send := map[string]bool{"add": m.mode != "update", "change": m.mode != "insert",
		"remove": m.mode == "mirror"}
	for k, f := range aud {
		prev, ok := m.state[k]
		op := "add"
		if ok {
			if reflect.DeepEqual(prev, f) {
				continue
			}
			op = "change"
		}
		if send[op] {
			m.state[k], m.dest[k] = f, f
		}
	}
	for k := range m.state {
		if _, ok := aud[k]; !ok && send["remove"] {
			delete(m.state, k)
			delete(m.dest, k)
		}
	}
}

func TestModesConvergeOverThreeRuns(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engineEnv) {
		for _, mode := range []string{"upsert", "mirror", "insert", "update"} {
			t.Run(mode, func(t *testing.T) {
				srv := newServer(t, destinationtest.Faults{})
				eng := &engine.Engine{W: e.w, Project: project(srv.URL(), srv.Secret, mode), Tables: tables(e.w)}
				// a fresh state for each mode
				for _, tb := range []string{"cdp_sync_state", "cdp_sync_runs", "cdp_sync_rejections", "cdp_sync_locks"} {
					e.w.Exec(context.Background(), e.w.Dialect().DropTable(e.w.Dialect().Table("cdp", tb)))
				}
				model := newModel(mode)
				w := baseWorld(300)
				for run := 0; run < 3; run++ {
					if run > 0 {
						w = evolve(w, run)
					}
					load(t, e.w, w)
					baseline := mode == "update" && run == 0
					res := runSync(t, eng, engine.RunOptions{Baseline: baseline})
					model.apply(w.audience(), baseline)
					sameState(t, srv.State(), model.dest, fmt.Sprintf("%s run %d", mode, run+1))
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
		eng := &engine.Engine{W: e.w, Project: project(srv.URL(), srv.Secret, "mirror"), Tables: tables(e.w)}
		w := baseWorld(400)
		load(t, e.w, w)
		var failed int64
		converged := false
		for run := 1; run <= 15; run++ {
			if run == 3 {
				w = evolve(w, 1)
				load(t, e.w, w)
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
		sameState(t, srv.State(), w.audience(), "after faults")
		st := srv.Stats()
		if failed == 0 || st.Throttled == 0 || st.Failed == 0 || st.TimedOut == 0 || st.Dropped == 0 || st.Rejected == 0 {
			t.Fatalf("the fault schedule was not exercised: failed=%d %+v", failed, st)
		}
		n, err := runner.Count(context.Background(), e.w, "SELECT COUNT(*) FROM "+e.w.Dialect().Table("cdp", "cdp_sync_rejections"))
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
		eng := &engine.Engine{W: e.w, Project: p, Tables: tables(e.w)}
		w := baseWorld(200)
		load(t, e.w, w)
		runSync(t, eng, engine.RunOptions{})
		before := srv.Requests()
		for i := range w {
			w[i].inSeg = false
		}
		load(t, e.w, w)
		res, err := eng.Run(context.Background(), p.Syncs[0], engine.RunOptions{RunID: "emptying", Delivery: fastDelivery})
		if !errors.Is(err, engine.ErrRemovalGuard) || res.Status != "aborted" {
			t.Fatalf("want the removal guard to abort, got %v (%+v)", err, res)
		}
		if srv.Requests() != before {
			t.Fatal("the guard must stop the run before anything is sent")
		}
		sameState(t, srv.State(), baseWorld(200).audience(), "after the guard")
		h, err := eng.History(context.Background(), "vip_sync", 1)
		if err != nil || len(h) != 1 || h[0].Status != "aborted" || h[0].Error == nil {
			t.Fatalf("history must record the aborted run: %+v %v", h, err)
		}
	})
}

func TestFullResendsAndBaselineSendsNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engineEnv) {
		srv := newServer(t, destinationtest.Faults{})
		eng := &engine.Engine{W: e.w, Project: project(srv.URL(), srv.Secret, "upsert"), Tables: tables(e.w)}
		w := baseWorld(120)
		load(t, e.w, w)
		runSync(t, eng, engine.RunOptions{Baseline: true})
		if srv.Requests() != 0 {
			t.Fatal("--baseline must send nothing")
		}
		w[3].name = sp("changed")
		load(t, e.w, w)
		res := runSync(t, eng, engine.RunOptions{})
		if res.Changed != 1 || res.Added != 0 || len(srv.State()) != 1 {
			t.Fatalf("after a baseline only the difference is sent: %+v, dest %d", res, len(srv.State()))
		}
		res = runSync(t, eng, engine.RunOptions{Full: true})
		if int(res.Changed) != len(w.audience()) {
			t.Fatalf("--full must resend the whole audience: %+v", res)
		}
		sameState(t, srv.State(), w.audience(), "after --full")
	})
}
