package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/sync/synctest"
)

// savedEngines: saved plans are tested on the two local engines.
var savedEngines = []synctest.Engine{synctest.DuckDB, synctest.Postgres}

// savePlan computes and round-trips a saved plan through its JSON file form.
func savePlan(t *testing.T, eng *engine.Engine) *engine.SavedSync {
	t.Helper()
	ss, err := eng.Save(context.Background(), eng.Project.Syncs[0], engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(&engine.SavedPlan{Format: engine.PlanFormat, Project: "t", Created: time.Now(), Syncs: []*engine.SavedSync{ss}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.ReadPlan(b)
	if err != nil {
		t.Fatal(err)
	}
	return p.Syncs[0]
}

// planned is a plan's records as the receiver decodes them (null fields
// skipped, as null_values: skip sends them).
func planned(ss *engine.SavedSync) []destinationtest.LoggedOp {
	var out []destinationtest.LoggedOp
	for _, r := range ss.Records {
		f := map[string]any{}
		for k, v := range r.Fields {
			if v != nil || r.Op == "remove" {
				f[k] = v
			}
		}
		b, _ := json.Marshal(f)
		var round map[string]any
		json.Unmarshal(b, &round)
		out = append(out, destinationtest.LoggedOp{Op: string(r.Op), Key: r.Key, Fields: round})
	}
	return sortOps(out)
}

func sortOps(ops []destinationtest.LoggedOp) []destinationtest.LoggedOp {
	for i := range ops {
		ops[i].Batch, ops[i].WebhookID = 0, ""
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Key < ops[j].Key })
	return ops
}

func applyPlan(eng *engine.Engine, ss *engine.SavedSync, id string) (*engine.Result, error) {
	return eng.Run(context.Background(), eng.Project.Syncs[0], engine.RunOptions{RunID: id, Plan: ss, Delivery: fastDelivery})
}

func TestSavedPlanAppliesExactlyOnce(t *testing.T) {
	synctest.ForEach(t, savedEngines, func(t *testing.T, e engineEnv) {
		synctest.Reset(e.W)
		srv := newServer(t, destinationtest.Faults{})
		eng := &engine.Engine{W: e.W, Project: project(srv.URL(), srv.Secret, "mirror"), Tables: tables(e.W)}
		w := baseWorld(200)
		load(t, e.W, w)
		runSync(t, eng, engine.RunOptions{})
		w = evolve(w, 1)
		load(t, e.W, w)
		ss := savePlan(t, eng)
		if ss.Counts.Add == 0 || ss.Counts.Change == 0 || ss.Counts.Remove == 0 || int64(len(ss.Records)) != ss.Counts.Total() {
			t.Fatalf("the evolved world must plan adds, changes and removals: %+v, %d records", ss.Counts, len(ss.Records))
		}
		// the warehouse moves on after the plan: the apply still sends the plan
		load(t, e.W, evolve(w, 2))
		before := len(srv.Ops())
		res, err := applyPlan(eng, ss, "apply1")
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != "success" || res.Added != ss.Counts.Add || res.Changed != ss.Counts.Change || res.Removed != ss.Counts.Remove {
			t.Fatalf("apply: %+v, plan %+v", res, ss.Counts)
		}
		got := sortOps(append([]destinationtest.LoggedOp{}, srv.Ops()[before:]...))
		if want := planned(ss); !reflect.DeepEqual(got, want) {
			t.Fatalf("the apply sent %d ops, the plan holds %d:\n got %v\nwant %v", len(got), len(want), got[:min(3, len(got))], want[:min(3, len(want))])
		}
		// the state is what the plan delivered: planning against the plan's
		// world again is empty
		load(t, e.W, w)
		if p, err := eng.Plan(context.Background(), eng.Project.Syncs[0], engine.PlanOptions{}); err != nil || p.Counts.Total() != 0 {
			t.Fatalf("after the apply the plan's world needs nothing: %+v %v", p, err)
		}
		// a second apply of the same plan is refused: the state moved
		n := len(srv.Ops())
		if _, err := applyPlan(eng, ss, "apply2"); !errors.Is(err, engine.ErrPlanStale) {
			t.Fatalf("a second apply must be refused as stale, got %v", err)
		}
		if len(srv.Ops()) != n {
			t.Fatal("a refused plan must send nothing")
		}
	})
}

func TestSavedPlanRefusedAfterRun(t *testing.T) {
	synctest.ForEach(t, savedEngines, func(t *testing.T, e engineEnv) {
		synctest.Reset(e.W)
		srv := newServer(t, destinationtest.Faults{})
		eng := &engine.Engine{W: e.W, Project: project(srv.URL(), srv.Secret, "mirror"), Tables: tables(e.W)}
		w := baseWorld(120)
		load(t, e.W, w)
		runSync(t, eng, engine.RunOptions{})
		load(t, e.W, evolve(w, 1))
		ss := savePlan(t, eng)
		runSync(t, eng, engine.RunOptions{}) // a run in between
		n := len(srv.Ops())
		_, err := applyPlan(eng, ss, "late")
		if !errors.Is(err, engine.ErrPlanStale) || !containsAll(err.Error(), "state moved", "plan again") {
			t.Fatalf("want a stale-state refusal, got %v", err)
		}
		if len(srv.Ops()) != n {
			t.Fatal("a refused plan must send nothing")
		}
		// a baseline moves the state too, even with nothing to mark
		ss = savePlan(t, eng)
		runSync(t, eng, engine.RunOptions{Baseline: true})
		if _, err := applyPlan(eng, ss, "late2"); !errors.Is(err, engine.ErrPlanStale) {
			t.Fatalf("a baseline since the plan must make it stale, got %v", err)
		}
		// an edit of cdp_sync_state outside any run is caught by the digest
		ss = savePlan(t, eng)
		tb := tables(e.W)
		if _, err := e.W.Exec(context.Background(), "UPDATE "+tb.Q(tb.SyncState())+" SET fields_hash = 'x' WHERE key = 'p2@mail.test'"); err != nil {
			t.Fatal(err)
		}
		if _, err := applyPlan(eng, ss, "late3"); !errors.Is(err, engine.ErrPlanStale) || !containsAll(err.Error(), "outside a run") {
			t.Fatalf("a state edit must make the plan stale, got %v", err)
		}
	})
}

func TestSavedPlanRefusedAfterDefinitionChange(t *testing.T) {
	synctest.ForEach(t, savedEngines, func(t *testing.T, e engineEnv) {
		synctest.Reset(e.W)
		srv := newServer(t, destinationtest.Faults{})
		eng := &engine.Engine{W: e.W, Project: project(srv.URL(), srv.Secret, "mirror"), Tables: tables(e.W)}
		load(t, e.W, baseWorld(60))
		ss := savePlan(t, eng)
		s := eng.Project.Syncs[0]
		s.Fields = append(s.Fields, models.FieldMap{Field: "id", Trait: "profile_id"})
		_, err := applyPlan(eng, ss, "redefined")
		if !errors.Is(err, engine.ErrPlanStale) || !containsAll(err.Error(), "definition changed", "fields") {
			t.Fatalf("want a definition refusal, got %v", err)
		}
		s.Fields = s.Fields[:len(s.Fields)-1]
		s.Mode = "upsert"
		if _, err := applyPlan(eng, ss, "remoded"); err == nil || !containsAll(err.Error(), `mode "mirror" → "upsert"`) {
			t.Fatalf("want a mode refusal, got %v", err)
		}
		s.Mode = "mirror"
		if len(srv.Ops()) != 0 {
			t.Fatal("refused plans must send nothing")
		}
		// back as it was, the plan applies
		if res, err := applyPlan(eng, ss, "ok"); err != nil || res.Added != ss.Counts.Add {
			t.Fatalf("the unchanged definition applies: %+v %v", res, err)
		}
	})
}

func TestSavedPlanKeepsMaxRemovals(t *testing.T) {
	synctest.ForEach(t, savedEngines, func(t *testing.T, e engineEnv) {
		synctest.Reset(e.W)
		srv := newServer(t, destinationtest.Faults{})
		eng := &engine.Engine{W: e.W, Project: project(srv.URL(), srv.Secret, "mirror"), Tables: tables(e.W)}
		w := baseWorld(80)
		load(t, e.W, w)
		runSync(t, eng, engine.RunOptions{})
		for i := range w {
			w[i].InSeg = false
		}
		load(t, e.W, w)
		ss := savePlan(t, eng)
		eng.Project.Syncs[0].MaxRemovals = "10%"
		n := len(srv.Ops())
		res, err := applyPlan(eng, ss, "guarded")
		if !errors.Is(err, engine.ErrRemovalGuard) || res == nil || res.Status != "aborted" || len(srv.Ops()) != n {
			t.Fatalf("max_removals must stop the plan: %+v %v", res, err)
		}
	})
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !contains(s, sub) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
