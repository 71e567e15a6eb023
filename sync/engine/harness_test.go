package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/cdpkit/cdp/internal/bqtest"
	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/bigquery"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"

	_ "github.com/cdpkit/cdp/sync/destinations/webhook"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// person is one profile of the synthetic audience.
type person struct {
	id      string
	email   *string
	name    *string
	ltv     *float64
	inSeg   bool
	holdout bool
}

func sp(s string) *string   { return &s }
func fp(f float64) *float64 { return &f }

// world is the data a sync reads: profiles and one segment's memberships.
type world []person

// clone copies a world so runs can change it.
func (w world) clone() world { return append(world{}, w...) }

// audience is what a mirror destination must hold: key → fields (JSON-decoded),
// with null_values: skip applied; holdout and null keys excluded; one profile
// per key (the smallest profile_id).
func (w world) audience() map[string]map[string]any {
	byKey := map[string]person{}
	for _, p := range w {
		if !p.inSeg || p.holdout || p.email == nil {
			continue
		}
		if q, ok := byKey[*p.email]; ok && q.id < p.id {
			continue
		}
		byKey[*p.email] = p
	}
	out := map[string]map[string]any{}
	for k, p := range byKey {
		f := map[string]any{"email": *p.email}
		if p.name != nil {
			f["name"] = *p.name
		}
		if p.ltv != nil {
			f["ltv"] = *p.ltv
		}
		out[k] = jsonRound(f)
	}
	return out
}

func jsonRound(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// engineEnv is one real warehouse with the sync's input tables.
type engineEnv struct {
	name string
	w    warehouse.Warehouse
	dsn  string           // postgres only
	path string           // duckdb file
	bq   *bigquery.Config // bigquery only
}

// engines lists the real warehouses the sync tests run on.
var engines = []struct {
	name string
	open func(t *testing.T) engineEnv
}{
	{"duckdb", func(t *testing.T) engineEnv {
		path := t.TempDir() + "/sync.duckdb"
		w, err := duckdb.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return engineEnv{name: "duckdb", w: w, path: path}
	}},
	{"postgres", func(t *testing.T) engineEnv {
		dsn := pgtest.DSN(t)
		w, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return engineEnv{name: "postgres", w: w, dsn: dsn}
	}},
	{"bigquery", func(t *testing.T) engineEnv {
		cfg := bqtest.Config(t)
		w, err := bigquery.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return engineEnv{name: "bigquery", w: w, bq: &cfg}
	}},
}

func forEachEngine(t *testing.T, fn func(t *testing.T, e engineEnv)) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { fn(t, e.open(t)) })
	}
}

// tables of the test project.
func tables(w warehouse.Warehouse) layout.Tables {
	return layout.Tables{D: w.Dialect(), Schema: "cdp", Entity: "customer"}
}

// load writes profiles and segment memberships for a world.
func load(t *testing.T, w warehouse.Warehouse, people world) {
	t.Helper()
	ctx := context.Background()
	tb := tables(w)
	if _, err := w.Exec(ctx, w.Dialect().CreateSchema("cdp")); err != nil {
		t.Fatal(err)
	}
	bl := w.(warehouse.BulkLoader)
	i := 0
	_, err := bl.LoadRows(ctx, tb.Q(tb.Profiles()), []warehouse.Column{
		{Name: "profile_id", Type: models.TypeString}, {Name: "email", Type: models.TypeString},
		{Name: "first_name", Type: models.TypeString}, {Name: "ltv", Type: models.TypeNumber},
	}, func() ([]any, error) {
		if i == len(people) {
			return nil, io.EOF
		}
		p := people[i]
		i++
		row := []any{p.id, nil, nil, nil}
		if p.email != nil {
			row[1] = *p.email
		}
		if p.name != nil {
			row[2] = *p.name
		}
		if p.ltv != nil {
			row[3] = *p.ltv
		}
		return row, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var members []person
	for _, p := range people {
		if p.inSeg {
			members = append(members, p)
		}
	}
	i = 0
	_, err = bl.LoadRows(ctx, tb.Q(tb.Segments()), []warehouse.Column{
		{Name: "segment", Type: models.TypeString}, {Name: "profile_id", Type: models.TypeString},
		{Name: "in_holdout", Type: models.TypeBoolean}, {Name: "entered_at", Type: models.TypeTimestamp},
	}, func() ([]any, error) {
		if i == len(members) {
			return nil, io.EOF
		}
		p := members[i]
		i++
		return []any{"vip", p.id, p.holdout, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// project declares one webhook destination and one sync.
func project(url, secret, mode string) *models.Project {
	return &models.Project{
		Name: "t", Entity: "customer",
		Destinations: []*models.Destination{{Name: "hook", Type: "webhook",
			Settings: map[string]string{"url": url, "secret": secret, "batch_size": "50", "timeout": "2s"}}},
		Syncs: []*models.Sync{{Name: "vip_sync", Segment: "vip", Destination: "hook", Mode: mode, Key: "email",
			Fields:     []models.FieldMap{{Field: "email", Trait: "email"}, {Field: "name", Trait: "first_name"}, {Field: "ltv", Trait: "ltv"}},
			NullValues: "skip"}},
	}
}

// fastDelivery keeps retries quick in tests.
var fastDelivery = delivery.Options{Concurrency: 4, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
	AttemptTimeout: 500 * time.Millisecond}

var runSeq int

func runSync(t *testing.T, eng *engine.Engine, o engine.RunOptions) *engine.Result {
	t.Helper()
	runSeq++
	if o.RunID == "" {
		o.RunID = fmt.Sprintf("run%04d", runSeq)
	}
	if o.Delivery.Concurrency == 0 {
		o.Delivery = fastDelivery
	}
	res, err := eng.Run(context.Background(), eng.Project.Syncs[0], o)
	if err != nil {
		t.Fatalf("sync run: %v", err)
	}
	return res
}

// sameState compares a destination's state with the expected records.
func sameState(t *testing.T, got, want map[string]map[string]any, label string) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	var diffs []string
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			diffs = append(diffs, fmt.Sprintf("%s: got %v want %v", k, got[k], v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: unexpected %v", k, v))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 10 {
		diffs = append(diffs[:10], fmt.Sprintf("… %d more", len(diffs)-10))
	}
	t.Fatalf("%s: destination differs from the expected audience (%d keys vs %d):\n%v", label, len(got), len(want), diffs)
}

func newServer(t *testing.T, f destinationtest.Faults) *destinationtest.Server {
	return destinationtest.New(t, destinationtest.Options{MaxBatch: 50, Faults: f})
}
