package retail_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/examples/retail"
	"github.com/cdpkit/cdp/examples/retail/seedgen"
	"github.com/cdpkit/cdp/internal/bqtest"
	"github.com/cdpkit/cdp/models"
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
	p, bp := loadProject(t), loadProject(t)
	_, bg := compareWithDuckDB(t, bw, p, bp, seeds)
	checkTruth(t, bw, bg, bp, truth)
}

// TestRetailBigQueryReal is TestRetailBigQueryEmulator on the real project
// named by CDP_TEST_BIGQUERY_PROJECT (dataset cdp). Skipped when the
// variable is not set.
func TestRetailBigQueryReal(t *testing.T) {
	w, _ := bqtest.Real(t)
	p, bp := loadProject(t), loadProject(t)
	_, bg := compareWithDuckDB(t, w, p, bp, "seeds")
	checkTruth(t, w, bg, bp, filepath.Join("testdata", "truth.csv"))
}

// compareWithDuckDB builds project p on DuckDB and bp (p adapted for
// BigQuery here) on bw from the seed CSVs of seeds, expects the same four
// output tables row for row and checks bw's clusters against the oracle.
func compareWithDuckDB(t *testing.T, bw warehouse.Warehouse, p, bp *models.Project, seeds string) (dg, bg *compiler.Graph) {
	forBigQuery(t, bp)
	ctx := context.Background()
	dw, err := duckdb.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer dw.Close()
	dg, bg = buildFrom(t, dw, p, seeds), buildFrom(t, bw, bp, seeds)
	queries := func(g *compiler.Graph) map[string]string {
		tb := g.Tables
		return map[string]string{
			"identifiers": "SELECT id_type, id_value, profile_id, first_seen_at, last_seen_at, source_count FROM " + tb.Q(tb.Identifiers()),
			"profiles":    "SELECT * FROM " + tb.Q(tb.Profiles()),
			"segments":    "SELECT segment, profile_id, in_holdout, entered_at FROM " + tb.Q(tb.Segments()),
			"audit":       "SELECT kind, id_type_a, id_value_a, id_type_b, id_value_b, reason FROM " + tb.Q(tb.Audit()),
		}
	}
	dq, bq := queries(dg), queries(bg)
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
