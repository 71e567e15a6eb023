package guarantee_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/sync/synctest"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

// TestCrashChild is the process TestCrashMidDeliveryConverges kills; it
// does nothing unless started by it.
func TestCrashChild(t *testing.T) {
	if os.Getenv("CDP_G_CHILD") != "1" {
		t.Skip("helper process for TestCrashMidDeliveryConverges")
	}
	ctx := context.Background()
	var w warehouse.Warehouse
	var err error
	if dsn := os.Getenv("CDP_G_DSN"); dsn != "" {
		w, err = postgres.Open(ctx, dsn)
	} else {
		w, err = duckdb.Open(ctx, os.Getenv("CDP_G_PATH"))
	}
	if err != nil {
		t.Fatal(err)
	}
	var settings map[string]string
	var fields []models.FieldMap
	if err := json.Unmarshal([]byte(os.Getenv("CDP_G_SETTINGS")), &settings); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(os.Getenv("CDP_G_FIELDS")), &fields); err != nil {
		t.Fatal(err)
	}
	p := project(os.Getenv("CDP_G_TYPE"), settings, fields, os.Getenv("CDP_G_MODE"))
	eng := &engine.Engine{W: w, Project: p, Tables: synctest.Tables(w)}
	_, err = eng.Run(ctx, p.Syncs[0], engine.RunOptions{RunID: "crashing", LockTTL: time.Second, Delivery: fastDelivery})
	t.Fatalf("the parent should have killed this process; the run ended with %v", err)
}

// TestCrashMidDeliveryConverges kills a run with SIGKILL in the middle of
// its delivery: the killed run's history shows what it committed, the
// rerun (after the dead run's lease expires) sends nothing that was
// committed, sees asynchronous jobs through, and leaves the exact audience.
func TestCrashMidDeliveryConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	forEachVendor(t, func(t *testing.T, v vendor) {
		synctest.ForEach(t, []synctest.Engine{synctest.DuckDB, synctest.Postgres}, func(t *testing.T, e synctest.Env) {
			mode := mainMode(t, v.name)
			srv := v.new(t)
			var mu sync.Mutex
			var child *exec.Cmd
			killed := make(chan struct{})
			srv.OnWrite(func(n int) {
				if n == 5 {
					close(killed)
					mu.Lock()
					_ = child.Process.Kill() // SIGKILL: no deferred cleanup, no lock release
					mu.Unlock()
				}
			})
			w := synctest.BaseWorld(600)
			synctest.Load(t, e.W, w)
			if e.Path != "" { // DuckDB allows one process per file
				e.W.Close()
			}
			settings, _ := json.Marshal(srv.Settings(mode))
			fields, _ := json.Marshal(fieldMaps(srv.Fields()))
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
			cmd.Env = append(os.Environ(), "CDP_G_CHILD=1", "CDP_G_DSN="+e.DSN, "CDP_G_PATH="+e.Path,
				"CDP_G_TYPE="+srv.Type(), "CDP_G_MODE="+mode, "CDP_G_SETTINGS="+string(settings), "CDP_G_FIELDS="+string(fields))
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
			case <-time.After(2 * time.Minute):
				_ = cmd.Process.Kill()
				t.Fatal("the child never reached the kill point")
			}
			srv.OnWrite(nil)
			if e.Path != "" {
				var err error
				if e.W, err = duckdb.Open(context.Background(), e.Path); err != nil {
					t.Fatal(err)
				}
				defer e.W.Close()
			}
			state := count(t, e.W, "SELECT COUNT(*) FROM "+e.W.Dialect().Table("cdp", "cdp_sync_state"))
			eng := newEngine(e, srv, mode)
			h, err := eng.History(context.Background(), "vip_sync", 1)
			if err != nil || len(h) != 1 || h[0].RunID != "crashing" || h[0].Added != state {
				t.Fatalf("the killed run's row must count the %d records it committed: %+v %v", state, h, err)
			}
			res := run(t, eng, engine.RunOptions{Wait: 20 * time.Second})
			if res.Status != "success" {
				t.Fatalf("rerun: %+v", res)
			}
			aud := w.Audience()
			if res.Added != int64(len(aud))-state {
				t.Fatalf("the rerun added %d records; %d were left after the %d the killed run committed", res.Added, int64(len(aud))-state, state)
			}
			same(t, srv, mode, aud, "after crash and rerun")
			h, err = eng.History(context.Background(), "vip_sync", 5)
			if err != nil || len(h) < 2 || h[1].RunID != "crashing" || h[1].Status != "crashed" {
				t.Fatalf("the killed run must show as crashed in history: %+v %v", h, err)
			}
			t.Logf("killed after 5 writes with %d records committed; the rerun resumed %d and added %d", state, res.Resumed, res.Added)
		})
	})
}

// TestConcurrentRunsNeverOverlap: while a run holds the sync's lock a
// second one fails at once with ErrLocked, and one that may wait starts
// after the first ended and finds nothing left.
func TestConcurrentRunsNeverOverlap(t *testing.T) {
	forEachVendor(t, func(t *testing.T, v vendor) {
		synctest.ForEach(t, []synctest.Engine{synctest.DuckDB, synctest.Postgres}, func(t *testing.T, e synctest.Env) {
			mode := mainMode(t, v.name)
			srv := v.new(t)
			eng := newEngine(e, srv, mode)
			w := synctest.BaseWorld(300)
			synctest.Load(t, e.W, w)
			hold, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			srv.OnWrite(func(int) {
				once.Do(func() { close(hold); <-release })
			})
			first := make(chan *engine.Result, 1)
			go func() {
				res, err := eng.Run(context.Background(), eng.Project.Syncs[0], engine.RunOptions{RunID: "first", Delivery: fastDelivery})
				if err != nil {
					t.Error(err)
				}
				first <- res
			}()
			select {
			case <-hold: // the first run is delivering, so it holds the lock
			case <-time.After(30 * time.Second):
				t.Fatal("the first run never wrote")
			}
			_, err := eng.Run(context.Background(), eng.Project.Syncs[0], engine.RunOptions{RunID: "impatient", Delivery: fastDelivery})
			if !errors.Is(err, engine.ErrLocked) {
				close(release)
				t.Fatalf("a second run must fail clearly while the first holds the lock, got %v", err)
			}
			patient := make(chan *engine.Result, 1)
			go func() {
				res, err := eng.Run(context.Background(), eng.Project.Syncs[0], engine.RunOptions{RunID: "patient", Wait: time.Minute, Delivery: fastDelivery})
				if err != nil {
					t.Error(err)
				}
				patient <- res
			}()
			time.Sleep(100 * time.Millisecond)
			close(release)
			a, b := <-first, <-patient
			if a == nil || b == nil {
				t.FailNow()
			}
			if a.Added == 0 || b.Added+b.Changed+b.Removed != 0 || !b.Started.After(a.Started) {
				t.Fatalf("the waiting run must start after the first and find nothing left: first %+v, second %+v", a, b)
			}
			same(t, srv, mode, w.Audience(), "after concurrent runs")
		})
	})
}
