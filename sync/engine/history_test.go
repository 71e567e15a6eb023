package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/sync/synctest"
)

// TestHistoryIsHonest: a run with rejections lists its top reasons; a run
// stopped by cancellation (SIGTERM) reads cancelled and counts what it
// committed; a change that failed in a --full run is sent again by the next
// run although it did not change.
func TestHistoryIsHonest(t *testing.T) {
	synctest.ForEach(t, []synctest.Engine{synctest.DuckDB, synctest.Postgres}, func(t *testing.T, e engineEnv) {
		ctx := context.Background()
		srv := newServer(t, destinationtest.Faults{RejectRate: 0.3, Seed: 3})
		eng := &engine.Engine{W: e.W, Project: project(srv.URL(), srv.Secret, "mirror"), Tables: tables(e.W)}
		w := baseWorld(200)
		load(t, e.W, w)
		res := runSync(t, eng, engine.RunOptions{RunID: "rejecting"})
		h, err := eng.History(ctx, "vip_sync", 1)
		if err != nil || len(h) != 1 || res.Failed == 0 || len(h[0].Reasons) == 0 || h[0].Reasons[0].Count == 0 ||
			!strings.Contains(h[0].Reasons[0].Error, "rejected") || h[0].Reasons[0].Retryable {
			t.Fatalf("a run with rejections must list its reasons: %+v %+v %v", res, h, err)
		}

		// --full: everyone is a change; the ones rejected stay to be sent
		srv.SetFaults(destinationtest.Faults{})
		for runSync(t, eng, engine.RunOptions{}).Failed > 0 {
		}
		srv.SetFaults(destinationtest.Faults{RejectRate: 0.3, Seed: 5})
		full := runSync(t, eng, engine.RunOptions{RunID: "full", Full: true})
		srv.SetFaults(destinationtest.Faults{})
		next := runSync(t, eng, engine.RunOptions{RunID: "after-full"})
		if full.Failed == 0 || next.Changed != full.Failed || next.Failed != 0 {
			t.Fatalf("the changes a --full run failed must be sent again by the next run: full %+v, next %+v", full, next)
		}

		// cancelled: stop the run once a few batches are committed
		w = synctest.Evolve(w, 1)
		for i := range w {
			w[i].Name = synctest.S("renamed")
		}
		load(t, e.W, w)
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		o := engine.RunOptions{RunID: "stopped", Delivery: fastDelivery}
		o.Delivery.Concurrency = 1
		o.Progress = func(p engine.Progress) {
			if p.Done >= 100 {
				cancel()
			}
		}
		res, err = eng.Run(runCtx, eng.Project.Syncs[0], o)
		if !errors.Is(err, context.Canceled) || res.Status != "cancelled" {
			t.Fatalf("a cancelled run must read cancelled: %v %+v", err, res)
		}
		h, _ = eng.History(ctx, "vip_sync", 1)
		if h[0].RunID != "stopped" || h[0].Status != "cancelled" || h[0].Changed+h[0].Added == 0 || h[0].Changed+h[0].Added != res.Changed+res.Added {
			t.Fatalf("history of the cancelled run: %+v, result %+v", h[0], res)
		}
	})
}

// TestUnansweredAddsAreTracked: in mirror mode an add whose batch reached
// the destination but never got its answer (the client timed out) is
// tracked, so when the person leaves the audience before a later run
// confirms them, that run removes them from the destination.
func TestUnansweredAddsAreTracked(t *testing.T) {
	synctest.ForEach(t, []synctest.Engine{synctest.DuckDB}, func(t *testing.T, e engineEnv) {
		var stall atomic.Bool
		srv := destinationtest.New(t, destinationtest.Options{MaxBatch: 50, OnBatch: func(int) {
			if stall.Load() {
				time.Sleep(800 * time.Millisecond) // applied, then answered after the client gave up
			}
		}})
		eng := &engine.Engine{W: e.W, Project: project(srv.URL(), srv.Secret, "mirror"), Tables: tables(e.W)}
		w := baseWorld(60)
		load(t, e.W, w)
		stall.Store(true)
		o := engine.RunOptions{RunID: "unanswered", Delivery: fastDelivery}
		o.Delivery.MaxAttempts = 2
		res := runSync(t, eng, o)
		stall.Store(false)
		if res.Failed == 0 || len(srv.State()) == 0 {
			t.Fatalf("the batches must reach the receiver and fail at the client: %+v, receiver holds %d", res, len(srv.State()))
		}
		for i := range w {
			w[i].InSeg = false
		}
		load(t, e.W, w)
		runSync(t, eng, engine.RunOptions{RunID: "everyone-left"})
		if n := len(srv.State()); n != 0 {
			t.Fatalf("people who left the audience must be removed even if their add was never answered: the receiver holds %d", n)
		}
	})
}
