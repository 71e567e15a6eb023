package warehousetest

import (
	"slices"
	"testing"

	"github.com/cdpkit/cdp/warehouse"
)

// testReplace runs CreateTableAs and CreateView twice, the second time with
// other columns, and DropTable on present and missing tables.
func testReplace(t *testing.T, w warehouse.Warehouse) {
	d := w.Dialect()
	table := d.Table(Schema, "ctas")
	view := d.Table(Schema, "ctas_view")
	mustExec(t, w, d.DropTable(table))
	mustExec(t, w, d.CreateTableAs(table, "SELECT 1 AS a")...)
	mustExec(t, w, d.CreateTableAs(table, "SELECT 1 AS a UNION ALL SELECT 2")...)
	checkColumns(t, w, "SELECT * FROM "+table, []string{"a"}, 2)
	mustExec(t, w, d.CreateTableAs(table, "SELECT 'x' AS b, 2 AS c")...)
	checkColumns(t, w, "SELECT * FROM "+table, []string{"b", "c"}, 1)

	mustExec(t, w, d.CreateView(view, "SELECT a FROM (SELECT 1 AS a) s")...)
	mustExec(t, w, d.CreateView(view, "SELECT b, c FROM "+table)...)
	checkColumns(t, w, "SELECT * FROM "+view, []string{"b", "c"}, 1)
	mustExec(t, w, d.CreateView(view, "SELECT c AS renamed FROM "+table)...)
	checkColumns(t, w, "SELECT * FROM "+view, []string{"renamed"}, 1)

	other := d.Table(Schema, "dropped")
	mustExec(t, w, d.CreateTableAs(other, "SELECT 1 AS a")...)
	mustExec(t, w, d.DropTable(other), d.DropTable(other))
	if _, err := w.Query(ctx(), "SELECT * FROM "+other); err == nil {
		t.Errorf("table %s still readable after DropTable", other)
	}
}

// checkColumns runs q and compares its column names and row count.
func checkColumns(t *testing.T, w warehouse.Warehouse, q string, cols []string, nrows int) {
	t.Helper()
	rows, err := w.Query(ctx(), q)
	if err != nil {
		t.Fatalf("query failed: %v\nSQL: %s", err, q)
	}
	defer rows.Close()
	got, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, cols) {
		t.Errorf("%s: columns %q, want %q", q, got, cols)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != nrows {
		t.Errorf("%s: %d rows, want %d", q, n, nrows)
	}
}
