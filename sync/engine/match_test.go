package engine_test

import (
	"context"
	"testing"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/destinationtest"
	metaca "github.com/cdpkit/cdp/sync/destinationtest/metacustomaudience"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/sync/synctest"

	_ "github.com/cdpkit/cdp/sync/destinations/metacustomaudience"
)

// TestHistoryKeepsTheMatchReport: a run to an ad platform keeps what the
// platform reported (Meta: rows received and invalid) in its history row;
// a state table from before the match_report column gets it on the next
// run, its old rows reading no report.
func TestHistoryKeepsTheMatchReport(t *testing.T) {
	synctest.ForEach(t, []synctest.Engine{synctest.DuckDB, synctest.Postgres}, func(t *testing.T, e engineEnv) {
		ctx := context.Background()
		srv := metaca.New(t)
		p := &models.Project{Name: "t", Entity: "customer",
			Destinations: []*models.Destination{{Name: "meta", Type: metaca.Type, Settings: srv.Settings("mirror")}},
			Syncs: []*models.Sync{{Name: "vip_sync", Segment: "vip", Destination: "meta", Mode: "mirror", Key: "email",
				Fields:     []models.FieldMap{{Field: "EMAIL", Trait: "email", Hash: "meta_email"}, {Field: "FN", Trait: "first_name", Hash: "meta_name"}},
				NullValues: "skip"}}}
		eng := &engine.Engine{W: e.W, Project: p, Tables: tables(e.W)}
		w := baseWorld(120)
		load(t, e.W, w)
		first := runSync(t, eng, engine.RunOptions{RunID: "before"})
		if first.Match == nil || first.Match.Received != first.Added || first.Match.Invalid != 0 {
			t.Fatalf("the run's result must carry Meta's counts: %+v %+v", first, first.Match)
		}
		// a state table of an older version: no match_report column
		runs := eng.Tables.Q(eng.Tables.SyncRuns())
		if _, err := e.W.Exec(ctx, "ALTER TABLE "+runs+" DROP COLUMN match_report"); err != nil {
			t.Fatal(err)
		}
		srv.SetFaults(destinationtest.Faults{RejectRate: 0.2, Seed: 11})
		load(t, e.W, synctest.Evolve(w, 1))
		second := runSync(t, eng, engine.RunOptions{RunID: "after"})
		h, err := eng.History(ctx, "vip_sync", 2)
		if err != nil || len(h) != 2 {
			t.Fatalf("history: %+v %v", h, err)
		}
		m := h[0].Match
		if h[0].RunID != "after" || m == nil || m.Received == 0 || m.Invalid == 0 || m.Invalid > second.Failed {
			t.Fatalf("the latest run must show Meta's received and invalid counts: %+v %+v (result %+v)", h[0], m, second)
		}
		if h[1].RunID != "before" || h[1].Match != nil {
			t.Fatalf("a run recorded before the column existed has no report: %+v", h[1])
		}
	})
}
