package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

// TestMemoryChild is the process whose peak RSS TestSyncMemoryIsBoundedByBatch measures.
func TestMemoryChild(t *testing.T) {
	if os.Getenv("CDP_MEM_CHILD") != "1" {
		t.Skip("helper process for TestSyncMemoryIsBoundedByBatch")
	}
	ctx := context.Background()
	w, err := postgres.Open(ctx, os.Getenv("CDP_MEM_DSN"))
	if err != nil {
		t.Fatal(err)
	}
	p := project(os.Getenv("CDP_MEM_URL"), "", "upsert")
	p.Destinations[0].Settings["batch_size"] = "1000"
	eng := &engine.Engine{W: w, Project: p, Tables: tables(w)}
	res, err := eng.Run(ctx, p.Syncs[0], engine.RunOptions{RunID: "mem", Delivery: delivery.Options{Concurrency: 4}})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("SYNCED %d in %s (delivery %s, %d requests)\n", res.Added, res.Finished.Sub(res.Started), res.Stats.Duration, res.Stats.Requests)
}

// TestSyncMemoryIsBoundedByBatch syncs 100,000 and 1,000,000 changed rows
// from PostgreSQL (the warehouse runs in its own process) and checks that the
// syncing process's peak RSS does not grow with the audience.
func TestSyncMemoryIsBoundedByBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs a million rows")
	}
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Records []json.RawMessage `json:"records"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		received.Add(int64(len(body.Records)))
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	rss := map[int]int64{}
	for _, n := range []int{100_000, 1_000_000} {
		dsn := pgtest.DSN(t)
		w, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		loadMany(t, w, n)
		w.Close()
		received.Store(0)
		cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryChild$")
		cmd.Env = append(os.Environ(), "CDP_MEM_CHILD=1", "CDP_MEM_DSN="+dsn, "CDP_MEM_URL="+srv.URL)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		if received.Load() != int64(n) {
			t.Fatalf("%d rows: the receiver got %d records\n%s", n, received.Load(), out)
		}
		rss[n] = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
		t.Logf("%9d changed rows: peak RSS %6.1f MiB, %.1fs: %s", n, float64(rss[n])/1024, time.Since(start).Seconds(), bytes.TrimSpace(out))
	}
	if ratio := float64(rss[1_000_000]) / float64(rss[100_000]); ratio > 1.5 {
		t.Fatalf("peak RSS grew %.2f× from 100k to 1M rows; the sync must stay O(batch)", ratio)
	}
}

// loadMany writes n profiles, all in the segment, straight into the tables.
func loadMany(t *testing.T, w warehouse.Warehouse, n int) {
	t.Helper()
	ctx := context.Background()
	tb := tables(w)
	if _, err := w.Exec(ctx, w.Dialect().CreateSchema("cdp")); err != nil {
		t.Fatal(err)
	}
	bl := w.(warehouse.BulkLoader)
	i := 0
	if _, err := bl.LoadRows(ctx, tb.Q(tb.Profiles()), []warehouse.Column{
		{Name: "profile_id", Type: models.TypeString}, {Name: "email", Type: models.TypeString},
		{Name: "first_name", Type: models.TypeString}, {Name: "ltv", Type: models.TypeNumber},
	}, func() ([]any, error) {
		if i == n {
			return nil, io.EOF
		}
		i++
		return []any{"p" + strconv.Itoa(i), "person" + strconv.Itoa(i) + "@mail.test", "Name " + strconv.Itoa(i), float64(i)}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(ctx, fmt.Sprintf(
		"CREATE TABLE %s AS SELECT 'vip' AS segment, profile_id, FALSE AS in_holdout, CAST(NULL AS TIMESTAMP) AS entered_at FROM %s",
		tb.Q(tb.Segments()), tb.Q(tb.Profiles()))); err != nil {
		t.Fatal(err)
	}
}
