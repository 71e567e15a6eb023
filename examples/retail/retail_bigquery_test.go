package retail_test

import (
	"context"
	"testing"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/examples/retail"
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

// TestRetailBigQueryReal builds the example on the real project named by
// CDP_TEST_BIGQUERY_PROJECT (dataset cdp) and on DuckDB and expects the same
// identifiers, profiles, segment members and audit, then checks the clusters
// against the union-find oracle. Skipped when the variable is not set. (On
// the emulator the example takes well over ten minutes: docs/bigquery.md.)
func TestRetailBigQueryReal(t *testing.T) {
	w, _ := bqtest.Real(t)
	compareWithDuckDB(t, w)
}

func compareWithDuckDB(t *testing.T, bw warehouse.Warehouse) {
	p, bp := loadProject(t), loadProject(t)
	forBigQuery(t, bp)
	ctx := context.Background()
	dw, err := duckdb.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer dw.Close()
	dg, bg := build(t, dw, p), build(t, bw, bp)
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
}
