package engine_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/sync/synctest"
	"github.com/cdpkit/cdp/warehouse"

	_ "github.com/cdpkit/cdp/sync/destinations/webhook"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The audience, warehouses and loader come from synctest, shared with the
// destination guarantee suite.
type (
	person    = synctest.Person
	world     = synctest.World
	engineEnv = synctest.Env
)

var (
	sp, fp    = synctest.S, synctest.F
	baseWorld = synctest.BaseWorld
	evolve    = synctest.Evolve
	tables    = synctest.Tables
	// engines lists the real warehouses the sync tests run on.
	engines = []synctest.Engine{synctest.DuckDB, synctest.Postgres, synctest.BigQuery}
)

func forEachEngine(t *testing.T, fn func(t *testing.T, e engineEnv)) {
	synctest.ForEach(t, engines, fn)
}

// load writes profiles and segment memberships for a world.
func load(t *testing.T, w warehouse.Warehouse, people world) { synctest.Load(t, w, people) }

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
