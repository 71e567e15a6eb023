package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/bigquery"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

// TestCrashChild is the process the crash test kills; it does nothing
// unless started by TestCrashMidDeliveryConverges.
func TestCrashChild(t *testing.T) {
	if os.Getenv("CDP_CRASH_CHILD") != "1" {
		t.Skip("helper process for TestCrashMidDeliveryConverges")
	}
	ctx := context.Background()
	w, ttl := childWarehouse(t)
	eng := &engine.Engine{W: w, Project: project(os.Getenv("CDP_CRASH_URL"), os.Getenv("CDP_CRASH_SECRET"), "mirror"), Tables: tables(w)}
	_, err := eng.Run(ctx, eng.Project.Syncs[0], engine.RunOptions{RunID: "crashing", LockTTL: ttl, Delivery: fastDelivery})
	t.Fatalf("the parent should have killed this process; the run ended with %v", err)
}

// childWarehouse opens, in a child process of a crash test, the
// parent's warehouse (CDP_CRASH_DSN, CDP_CRASH_BQ_PROJECT and
// CDP_CRASH_BQ_ENDPOINT, or CDP_CRASH_PATH) and reads the lock TTL its
// run must use (CDP_CRASH_TTL).
func childWarehouse(t *testing.T) (warehouse.Warehouse, time.Duration) {
	t.Helper()
	ctx := context.Background()
	var w warehouse.Warehouse
	var err error
	if dsn := os.Getenv("CDP_CRASH_DSN"); dsn != "" {
		w, err = postgres.Open(ctx, dsn)
	} else if p := os.Getenv("CDP_CRASH_BQ_PROJECT"); p != "" {
		w, err = bigquery.Open(ctx, bigquery.Config{Project: p, Endpoint: os.Getenv("CDP_CRASH_BQ_ENDPOINT")})
	} else {
		w, err = duckdb.Open(ctx, os.Getenv("CDP_CRASH_PATH"))
	}
	if err != nil {
		t.Fatal(err)
	}
	ttl, err := time.ParseDuration(os.Getenv("CDP_CRASH_TTL"))
	if err != nil {
		t.Fatal(err)
	}
	return w, ttl
}

func TestCrashMidDeliveryConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	forEachEngine(t, func(t *testing.T, e engineEnv) {
		const killAfter = 8
		var mu sync.Mutex
		var child *exec.Cmd
		killed := make(chan struct{})
		srv := destinationtest.New(t, destinationtest.Options{MaxBatch: 50, OnBatch: func(n int) {
			if n == killAfter {
				mu.Lock()
				_ = child.Process.Kill() // SIGKILL: no deferred cleanup, no lock release
				mu.Unlock()
				close(killed)
			}
		}})
		people := 2000
		if e.BQ != nil {
			people = 600 // the emulator's diff is quadratic: 2,000 rows take 20 s
		}
		w := baseWorld(people)
		load(t, e.W, w)
		// the dead run's lease expires after ttl (see leaseFor)
		ttl := leaseFor(t, e.W)
		if e.Path != "" { // DuckDB allows one process per file
			e.W.Close()
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), "CDP_CRASH_CHILD=1", "CDP_CRASH_TTL="+ttl.String(), "CDP_CRASH_DSN="+e.DSN, "CDP_CRASH_PATH="+e.Path,
			"CDP_CRASH_URL="+srv.URL(), "CDP_CRASH_SECRET="+srv.Secret)
		if e.BQ != nil {
			cmd.Env = append(cmd.Env, "CDP_CRASH_BQ_PROJECT="+e.BQ.Project, "CDP_CRASH_BQ_ENDPOINT="+e.BQ.Endpoint)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		mu.Lock()
		child = cmd
		if err := cmd.Start(); err != nil {
			mu.Unlock()
			t.Fatal(err)
		}
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
		case <-time.After(3 * time.Minute): // generous: the BigQuery emulator is slow
			_ = cmd.Process.Kill()
			t.Fatal("the child never reached the kill point")
		}
		applied := srv.BatchLog()
		if e.Path != "" {
			var err error
			if e.W, err = duckdb.Open(context.Background(), e.Path); err != nil {
				t.Fatal(err)
			}
			defer e.W.Close()
		}
		// the rerun waits for the dead run's lease to expire, then converges
		eng := &engine.Engine{W: e.W, Project: project(srv.URL(), srv.Secret, "mirror"), Tables: tables(e.W)}
		res := runSync(t, eng, engine.RunOptions{Wait: 2*ttl + 10*time.Second})
		if res.Status != "success" {
			t.Fatalf("rerun: %+v", res)
		}
		sameState(t, srv.State(), w.Audience(), "after crash and rerun")

		// duplicates only for the batches in flight when the process died
		sentBefore := map[string]string{} // key → webhook-id of the crashed run's batch
		for _, op := range srv.Ops() {
			if op.Batch <= len(applied) {
				sentBefore[op.Key] = op.WebhookID
			}
		}
		dupBatches := map[string]bool{}
		for _, op := range srv.Ops() {
			if op.Batch > len(applied) {
				if id, ok := sentBefore[op.Key]; ok {
					dupBatches[id] = true
				}
			}
		}
		if len(dupBatches) == 0 || len(dupBatches) > fastDelivery.Concurrency+1 {
			t.Fatalf("%d of the crashed run's batches were re-sent; only those in flight (1..%d) may be", len(dupBatches), fastDelivery.Concurrency+1)
		}
		h, err := eng.History(context.Background(), "vip_sync", 5)
		if err != nil || len(h) < 2 || h[1].RunID != "crashing" || h[1].Status != "crashed" {
			t.Fatalf("the killed run must show as crashed in history: %+v %v", h, err)
		}
		t.Logf("killed after %d batches; %d batches re-sent; rerun sent %d", killAfter, len(dupBatches), res.Added+res.Changed+res.Removed)
	})
}

func TestConcurrentRunsNeverOverlap(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engineEnv) {
		srv := newServer(t, destinationtest.Faults{})
		eng := &engine.Engine{W: e.W, Project: project(srv.URL(), srv.Secret, "mirror"), Tables: tables(e.W)}
		w := baseWorld(300)
		load(t, e.W, w)
		srv.Pause()
		first := make(chan *engine.Result, 1)
		go func() {
			res, err := eng.Run(context.Background(), eng.Project.Syncs[0], engine.RunOptions{RunID: "first", Delivery: fastDelivery})
			if err != nil {
				t.Error(err)
			}
			first <- res
		}()
		// wait until the first run holds the lease
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, _ := runner.Count(context.Background(), e.W, "SELECT COUNT(*) FROM "+e.W.Dialect().Table("cdp", "cdp_sync_locks")+" WHERE holder IS NOT NULL")
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the first run never took the lock")
			}
			time.Sleep(10 * time.Millisecond)
		}
		_, err := eng.Run(context.Background(), eng.Project.Syncs[0], engine.RunOptions{RunID: "impatient", Delivery: fastDelivery})
		if !errors.Is(err, engine.ErrLocked) {
			t.Fatalf("a second run must fail clearly while the first holds the lock, got %v", err)
		}
		patient := make(chan *engine.Result, 1)
		go func() {
			res, err := eng.Run(context.Background(), eng.Project.Syncs[0], engine.RunOptions{RunID: "patient", Wait: 30 * time.Second, Delivery: fastDelivery})
			if err != nil {
				t.Error(err)
			}
			patient <- res
		}()
		time.Sleep(100 * time.Millisecond)
		srv.Resume()
		a, b := <-first, <-patient
		if a == nil || b == nil {
			t.FailNow()
		}
		if a.Added == 0 || b.Added+b.Changed+b.Removed != 0 {
			t.Fatalf("the waiting run must start after the first and find nothing left: first %+v, second %+v", a, b)
		}
		if !b.Started.After(a.Started) {
			t.Fatal("runs overlapped")
		}
		sameState(t, srv.State(), w.Audience(), "after concurrent runs")
		h, _ := eng.History(context.Background(), "vip_sync", 10)
		for _, r := range h {
			if r.RunID == "impatient" {
				t.Fatal("a run refused by the lock must not write history")
			}
		}
	})
}

// leaseFor derives the crashing run's lock TTL from the engine's latency
// (a renewal must finish within a third of it; the emulator runs one job at
// a time, behind batch commits, and is much slower on a busy machine):
// 150 times the slowest of three trivial queries, at least 1 s (15 s on the
// BigQuery emulator) (a lock
// renewal takes a few statements, queued behind the run's batch commits).
func leaseFor(t *testing.T, w warehouse.Warehouse) time.Duration {
	t.Helper()
	var worst time.Duration
	for i := 0; i < 3; i++ {
		start := time.Now()
		rows, err := w.Query(context.Background(), "SELECT 1")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
		worst = max(worst, time.Since(start))
	}
	ttl := max(time.Second, 150*worst)
	if strings.Contains(fmt.Sprintf("%T", w.Dialect()), "bigquery") {
		// the emulator answers a trivial query fast but queues a renewal
		// behind the batch commits of a busy machine for seconds
		ttl = max(ttl, 15*time.Second)
	}
	t.Logf("lock TTL %s (slowest trivial query %s)", ttl, worst)
	return ttl
}
