package retail_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/examples/retail"
	"github.com/cdpkit/cdp/examples/retail/seedgen"
	"github.com/cdpkit/cdp/internal/bqtest"
	"github.com/cdpkit/cdp/models"
	_ "github.com/cdpkit/cdp/sync/destinations/webhook"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
)

// forBigQuery applies retail.AdaptForBigQuery and checks it still finds the
// example's two DuckDB/PostgreSQL expressions.
func forBigQuery(t *testing.T, p *models.Project) {
	t.Helper()
	if n := retail.AdaptForBigQuery(p); n != 2 {
		t.Fatalf("rewrote %d source expressions for BigQuery, want 2: the example changed", n)
	}
}

// emulatorPeople is the population of the example generated for the
// emulator: the committed seeds (3,000 people, 40,000 rows) would take
// hours there, since the emulator's SQLite joins are nested loops.
const emulatorPeople = 60

// TestRetailBigQueryEmulator builds the whole example project (every
// source, the identity graph with its exclusions and limits, traits,
// segments) on the BigQuery emulator and on DuckDB, from the example's
// generator at 60 people (about 800 rows, with every hard case: duplicates,
// messy formats, junk stars, shared devices, anonymous-to-known chains). It
// expects the same identifiers, profiles, segment members and audit, checks
// the clusters against the union-find oracle and the generator's truth.
func TestRetailBigQueryEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole example on the emulator")
	}
	dir := t.TempDir()
	seeds, truth := filepath.Join(dir, "seeds"), filepath.Join(dir, "truth.csv")
	anchor, _ := time.Parse("2006-01-02", seedgen.DefaultAnchor)
	if err := seedgen.Generate(seedgen.Config{Seed: seedgen.DefaultSeed, People: emulatorPeople, Anchor: anchor}).Write(seeds, truth); err != nil {
		t.Fatal(err)
	}
	bw := bqtest.Open(t)
	dw, err := duckdb.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer dw.Close()
	p, bp := loadProject(t), loadProject(t)
	dg, bg := compareWithDuckDB(t, dw, bw, p, bp, seeds)
	checkTruth(t, bw, bg, bp, truth)

	compareSyncs(t, dw, bw, dg, bg)
}

// compareSyncs runs the example's syncs from dw (DuckDB) and from bw and
// expects the same records delivered, and the same run counts.
func compareSyncs(t *testing.T, dw, bw warehouse.Warehouse, dg, bg *compiler.Graph) {
	t.Helper()
	for _, name := range []string{"vip_to_crm", "customers_export"} {
		dState, dRes := syncExample(t, dw, dg, name)
		bState, bRes := syncExample(t, bw, bg, name)
		if len(dState) == 0 || dRes.Added != int64(len(dState)) {
			t.Fatalf("%s on duckdb: %d records delivered, %d added", name, len(dState), dRes.Added)
		}
		if !reflect.DeepEqual(dState, bState) {
			t.Fatalf("%s: deliveries differ:\nduckdb:   %v\nbigquery: %v", name, dState, bState)
		}
		if dRes.Added != bRes.Added || dRes.Changed != bRes.Changed || dRes.Removed != bRes.Removed || dRes.Skipped != bRes.Skipped {
			t.Fatalf("%s: run counts differ: duckdb %+v, bigquery %+v", name, dRes, bRes)
		}
		t.Logf("%s: the same %d records delivered from both", name, len(dState))
	}
}

// syncExample runs the example's sync named name from w twice, delivering
// to a webhook contract server (customers_export, which writes files in the
// example, is pointed at it too), and returns what the server holds after
// the first run and the first run's result; the second run must find
// nothing to send.
func syncExample(t *testing.T, w warehouse.Warehouse, g *compiler.Graph, name string) (map[string]map[string]any, *engine.Result) {
	t.Helper()
	srv := destinationtest.New(t, destinationtest.Options{MaxBatch: 100})
	p, diags := models.LoadWithOptions(".", models.LoadOptions{Getenv: func(k string) (string, bool) {
		v, ok := map[string]string{"CDP_POSTGRES_DSN": "postgres://unused",
			"CRM_HOOK_URL": srv.URL() + "/hooks/crm", "CRM_HOOK_SECRET": srv.Secret}[k]
		return v, ok
	}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	s := p.Sync(name)
	s.Destination = "crm_webhook"
	eng := &engine.Engine{W: w, Project: p, Tables: g.Tables}
	ctx := context.Background()
	first, err := eng.Run(ctx, s, engine.RunOptions{RunID: "first"})
	if err != nil || first.Status != "success" {
		t.Fatalf("%s: first sync: %v %+v", w.Dialect().Name(), err, first)
	}
	state := srv.State()
	again, err := eng.Run(ctx, s, engine.RunOptions{RunID: "again"})
	if err != nil || again.Status != "success" || again.Added+again.Changed+again.Removed != 0 {
		t.Fatalf("%s: a second sync of unchanged data must send nothing: %v %+v", w.Dialect().Name(), err, again)
	}
	return state, first
}

// TestRetailBigQueryReal is TestRetailBigQueryEmulator with the committed
// seeds, on the real project named by CDP_TEST_BIGQUERY_PROJECT (dataset
// cdp). Skipped when the variable is not set.
func TestRetailBigQueryReal(t *testing.T) {
	w, _ := bqtest.Real(t)
	dw, err := duckdb.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer dw.Close()
	p, bp := loadProject(t), loadProject(t)
	dg, bg := compareWithDuckDB(t, dw, w, p, bp, "seeds")
	checkTruth(t, w, bg, bp, filepath.Join("testdata", "truth.csv"))
	compareSyncs(t, dw, w, dg, bg)
}

// compareWithDuckDB builds project p on dw (DuckDB) and bp (p adapted for
// BigQuery here) on bw from the seed CSVs of seeds, expects the same four
// output tables row for row and checks bw's clusters against the oracle.
func compareWithDuckDB(t *testing.T, dw, bw warehouse.Warehouse, p, bp *models.Project, seeds string) (dg, bg *compiler.Graph) {
	forBigQuery(t, bp)
	dg, bg = buildFrom(t, dw, p, seeds), buildFrom(t, bw, bp, seeds)
	dq, bq := outputQueries(dg), outputQueries(bg)
	for _, name := range []string{"identifiers", "profiles", "segments", "audit"} {
		a, b := snapshot(t, dw, dq[name]), snapshot(t, bw, bq[name])
		if len(a) == 0 {
			t.Fatalf("%s is empty", name)
		}
		if len(a) != len(b) {
			t.Fatalf("%s: duckdb has %d rows, bigquery %d", name, len(a), len(b))
		}
		bad := 0
		for i := range a {
			if a[i] != b[i] {
				bad++
				if bad <= 5 {
					t.Errorf("%s differ at row %d:\nduckdb:   %s\nbigquery: %s", name, i, a[i], b[i])
				}
			}
		}
		if bad > 0 {
			t.Fatalf("%s: %d rows differ", name, bad)
		}
		t.Logf("%s: %d identical rows", name, len(a))
	}
	checkOracle(t, bw, bg, bp)
	return dg, bg
}
