package engine_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/privacy"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/sync/synctest"
	"github.com/cdpkit/cdp/warehouse/duckdb"
)

// TestEraseCrashChild is the process TestCrashMidErasureRecovers kills
// while it erases; it does nothing unless started by that test. It runs
// the newsletter sync of testdata/erase (receivers from HOOK_URL,
// HOOK_SECRET, HOOK2_URL and HOOK2_SECRET) on the warehouse of
// childWarehouse.
func TestEraseCrashChild(t *testing.T) {
	if os.Getenv("CDP_ERASE_CRASH_CHILD") != "1" {
		t.Skip("helper process for TestCrashMidErasureRecovers")
	}
	w, ttl := childWarehouse(t)
	env := map[string]string{}
	for _, k := range []string{"HOOK_URL", "HOOK_SECRET", "HOOK2_URL", "HOOK2_SECRET"} {
		env[k] = os.Getenv(k)
	}
	p := loadErase(t, env)
	eng := &engine.Engine{W: w, Project: p, Tables: tables(w)}
	_, err := eng.Run(context.Background(), p.Syncs[0], engine.RunOptions{RunID: "crashing", LockTTL: ttl, Delivery: fastDelivery})
	t.Fatalf("the parent should have killed this process; the run ended with %v", err)
}

// TestCrashMidErasureRecovers forgets Camille after both syncs of
// testdata/erase delivered her, then kills the newsletter sync's process
// (SIGKILL) once the receiver has applied the batch that erases her and
// before the engine hears back: the ledger still says pending and the
// sync's state is as before the run. The next run, once the dead run's
// lease expired, sends the same erase again (the same webhook-id); the
// receiver, which no longer holds her, answers not_found, which confirms
// it: the ledger ends erased with a receipt, her state rows are gone, the
// request is complete, and Bob's and Dana's deliveries did not move.
func TestCrashMidErasureRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	synctest.ForEach(t, []synctest.Engine{synctest.DuckDB, synctest.Postgres}, func(t *testing.T, e engineEnv) {
		ctx := context.Background()
		const camille = "camille.moreau@orange.fr"
		// the hook kills the child once, when an applied batch erased her
		var mu sync.Mutex
		var child *exec.Cmd
		killed := make(chan struct{})
		var news *destinationtest.Server
		news = destinationtest.New(t, destinationtest.Options{MaxBatch: 50, OnBatch: func(n int) {
			mu.Lock()
			defer mu.Unlock()
			if child == nil || news.BatchLog()[n-1].Erase == 0 {
				return
			}
			_ = child.Process.Kill() // SIGKILL: no deferred cleanup, no commit, no lock release
			child = nil
			close(killed)
		}})
		crm := newServer(t, destinationtest.Faults{})
		asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		p, eng := syncedErase(t, e.W, news, crm, asOf)
		if _, err := privacy.Forget(ctx, e.W, eng.Tables, p, "email:"+camille, "DSR 2026-115", asOf); err != nil {
			t.Fatal(err)
		}
		buildAsRun(t, e.W, p, asOf, "m2")
		const ledger = "SELECT sync, status, key IS NOT NULL, receipt, confirmed_at FROM cdp.cdp_erasure_targets"
		pending := []string{"crm_upsert|pending|true|NULL|NULL", "newsletter|pending|true|NULL|NULL"}
		if got := textRows(t, e.W, ledger); !reflect.DeepEqual(got, pending) {
			t.Fatalf("erasure targets after the model run: %v", got)
		}
		const state = "SELECT sync, key, fields_hash, fields FROM cdp.cdp_sync_state"
		stateBefore := textRows(t, e.W, state)
		newsBefore, crmBefore := news.State(), crm.State()
		opsBefore := len(news.Ops())

		ttl := leaseFor(t, e.W)
		if e.Path != "" { // DuckDB allows one process per file
			e.W.Close()
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestEraseCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), "CDP_ERASE_CRASH_CHILD=1", "CDP_CRASH_TTL="+ttl.String(), "CDP_CRASH_DSN="+e.DSN,
			"CDP_CRASH_PATH="+e.Path)
		for k, v := range eraseEnv(news, crm) {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		mu.Lock()
		if err := cmd.Start(); err != nil {
			mu.Unlock()
			t.Fatal(err)
		}
		child = cmd
		mu.Unlock()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			select {
			case <-killed:
			default:
				t.Fatalf("the child finished before it was killed: %v\n%s", err, out.Bytes())
			}
		case <-time.After(2 * time.Minute):
			_ = cmd.Process.Kill()
			t.Fatalf("the child never erased at the receiver:\n%s", out.Bytes())
		}
		if e.Path != "" {
			w, err := duckdb.Open(ctx, e.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			e.W = w
			eng = &engine.Engine{W: w, Project: p, Tables: tables(w)}
		}

		// the receiver erased her, the engine never heard: nothing committed
		if got := news.Erased(); !reflect.DeepEqual(got, []string{camille}) {
			t.Fatalf("erased at the receiver before the kill: %v", got)
		}
		if got := textRows(t, e.W, ledger); !reflect.DeepEqual(got, pending) {
			t.Fatalf("erasure targets after the crash: %v (want both still pending)", got)
		}
		if got := textRows(t, e.W, state); !reflect.DeepEqual(got, stateBefore) {
			t.Fatalf("the crashed run changed the sync state:\n before %v\n after  %v", stateBefore, got)
		}
		plan, err := eng.Plan(ctx, p.Syncs[0], engine.PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c := plan.Counts; c.Erase != 1 || c.Total() != 1 || len(plan.Samples) != 1 || plan.Samples[0].Key != camille {
			t.Fatalf("plan after the crash: %+v (want her erase only)", plan)
		}
		if st, err := privacy.Status(ctx, e.W, eng.Tables); err != nil || len(st) != 1 || st[0].State != "erasing" {
			t.Fatalf("status after the crash: %+v %v (want erasing)", st, err)
		}

		// the rerun waits out the dead run's lease and sends the erase again
		res, err := eng.Run(ctx, p.Syncs[0], engine.RunOptions{RunID: "rerun", Wait: 2*ttl + 10*time.Second, Delivery: fastDelivery})
		if err != nil || res.Status != "success" || res.Erased != 1 || res.Added+res.Changed != 0 || res.Removed != 1 {
			t.Fatalf("rerun: %+v %v", res, err)
		}
		log := news.BatchLog()
		if last := log[len(log)-1]; last.RunID != "rerun" || last.Records != 1 || !last.Duplicate || last.NotFound != 1 || last.Erase != 0 {
			t.Fatalf("the rerun's batch: %+v (want the crashed run's erase again, same webhook-id, answered not_found)", last)
		}
		if got := news.Erased(); !reflect.DeepEqual(got, []string{camille}) {
			t.Fatalf("erased at the receiver after the rerun: %v (want her once)", got)
		}
		for _, op := range news.Ops()[opsBefore:] {
			if op.Key != camille || op.Op != "erase" {
				t.Fatalf("op %s %s sent since the forget: only her erase may be", op.Op, op.Key)
			}
		}
		if res, err := eng.Run(ctx, p.Syncs[1], engine.RunOptions{RunID: "s2-crm", Delivery: fastDelivery}); err != nil || res.Erased != 1 {
			t.Fatalf("crm sync: %+v %v", res, err)
		}
		delete(newsBefore, camille)
		delete(crmBefore, camille)
		sameState(t, news.State(), newsBefore, "newsletter receiver after the rerun")
		sameState(t, crm.State(), crmBefore, "crm receiver after its sync")

		// the ledger ends erased with receipts; her state rows are gone
		if got := textRows(t, e.W, "SELECT sync, status, key FROM cdp.cdp_erasure_targets WHERE receipt IS NOT NULL AND confirmed_at IS NOT NULL"); !reflect.DeepEqual(got,
			[]string{"crm_upsert|erased|NULL", "newsletter|erased|NULL"}) {
			t.Fatalf("erasure targets after the rerun: %v (want both erased, with a receipt)", got)
		}
		var others []string
		for _, r := range stateBefore {
			if !strings.Contains(r, camille) {
				others = append(others, r)
			}
		}
		if got := textRows(t, e.W, state); !reflect.DeepEqual(got, others) {
			t.Fatalf("sync state after the rerun:\n got  %v\n want %v (the others as before, without her)", got, others)
		}
		st, err := privacy.Status(ctx, e.W, eng.Tables)
		if err != nil || len(st) != 1 || st[0].State != "complete" || len(st[0].Targets) != 2 {
			t.Fatalf("status after the rerun: %+v %v (want complete)", st, err)
		}
		for _, g := range st[0].Targets {
			if g.Status != privacy.TargetErased || g.Receipt == "" || g.ConfirmedAt == nil {
				t.Fatalf("target %+v: want erased with a receipt", g)
			}
			// the repeat's answer: the receiver no longer held her
			if g.Sync == "newsletter" && g.Receipt != "not found: nothing to erase" {
				t.Fatalf("newsletter receipt %q: want the repeat's not_found", g.Receipt)
			}
		}
		if got := personCells(t, e.W, "camille", "cust-001"); len(got) > 0 {
			t.Fatalf("the forgotten person is still in CDP tables:\n%s", strings.Join(got, "\n"))
		}
		h, err := eng.History(ctx, p.Syncs[0].Name, 5)
		if err != nil || len(h) < 2 || h[1].RunID != "crashing" || h[1].Status != "crashed" {
			t.Fatalf("the killed run must show as crashed in history: %+v %v", h, err)
		}
		for _, s := range p.Syncs {
			res, err := eng.Run(ctx, s, engine.RunOptions{RunID: "s3-" + s.Name, Delivery: fastDelivery})
			if err != nil || res.Added+res.Changed+res.Removed+res.Erased != 0 {
				t.Fatalf("sync %s after the erasure: %+v %v", s.Name, res, err)
			}
		}
	})
}
