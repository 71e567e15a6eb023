package bigquery_test

import (
	"context"
	"testing"

	"github.com/cdpkit/cdp/internal/bqtest"
	"github.com/cdpkit/cdp/warehouse/bigquery"
	"github.com/cdpkit/cdp/warehouse/warehousetest"
)

func TestMain(m *testing.M) { bqtest.Main(m) }

// suiteOptions restrict the hostile names to those BigQuery accepts.
var suiteOptions = warehousetest.Options{
	HostileSchema: "Cdp_Suite_Hostile_select",
	KeepName:      bigquery.ValidName,
}

// emulatorGaps are the conformance checks the emulator fails where BigQuery
// does not (docs/bigquery.md).
var emulatorGaps = map[string]string{
	"TypesAndCasts":        "emulator gap: CAST(string AS TIMESTAMP) reads the string in America/Los_Angeles, BigQuery in UTC",
	"RegexpReplaceEscapes": `emulator gap: REGEXP_REPLACE keeps \\ as two backslashes and drops a trailing \N group; the CDP only replaces with ''`,
}

func TestConformance(t *testing.T) {
	o := suiteOptions
	o.Skip = emulatorGaps
	warehousetest.RunDialectSuiteWith(t, bqtest.Open(t), o)
}

// TestConformanceReal runs the whole suite on a real project when
// CDP_TEST_BIGQUERY_PROJECT is set.
func TestConformanceReal(t *testing.T) {
	w, _ := bqtest.Real(t)
	warehousetest.RunDialectSuiteWith(t, w, suiteOptions)
}

// TestDMLRowCounts checks Exec's affected-row counts on a real project; the
// emulator reports none, so Exec returns -1 there.
func TestDMLRowCounts(t *testing.T) {
	w, _ := bqtest.Real(t)
	ctx := context.Background()
	d := w.Dialect()
	tb := d.Table("cdp_rowcounts", "t")
	for _, q := range []string{d.CreateSchema("cdp_rowcounts"), d.DropTable(tb), "CREATE TABLE " + tb + " (k STRING, v INT64)"} {
		if _, err := w.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		q    string
		want int64
	}{
		{"INSERT INTO " + tb + " (k, v) VALUES ('a', 1), ('b', 2), ('c', 3)", 3},
		{"UPDATE " + tb + " SET v = v + 1 WHERE v >= 2", 2},
		{"UPDATE " + tb + " SET v = 0 WHERE k = 'zz'", 0},
		{"DELETE FROM " + tb + " WHERE k = 'a'", 1},
	} {
		n, err := w.Exec(ctx, c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		if n != c.want {
			t.Errorf("%s: %d rows, want %d", c.q, n, c.want)
		}
	}
}

// TestEstimate dry-runs statements on the emulator: a valid one is estimated
// and creates nothing, an invalid one is refused.
func TestEstimate(t *testing.T) {
	w := bqtest.Open(t)
	ctx := context.Background()
	d := w.Dialect()
	tb := d.Table("est", "t")
	for _, q := range []string{d.CreateSchema("est"), "CREATE TABLE " + tb + " AS SELECT 'x' AS k UNION ALL SELECT 'y'"} {
		if _, err := w.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	e, err := w.EstimateStatement(ctx, d.CreateTableAs(d.Table("est", "u"), "SELECT k FROM "+tb)[1])
	if err != nil {
		t.Fatal(err)
	}
	if e.Bytes < 0 {
		t.Errorf("estimated %d bytes", e.Bytes)
	}
	if _, err := w.Query(ctx, "SELECT * FROM "+d.Table("est", "u")); err == nil {
		t.Error("the dry run created the table")
	}
	if _, err := w.EstimateStatement(ctx, "SELECT nope FROM "+tb); err == nil {
		t.Error("a dry run of an invalid statement succeeded")
	}
}
