package warehousetest

import (
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/warehouse"
)

// testQuoteString selects every hostile literal, stores them in a table and
// reads them back exactly.
func testQuoteString(t *testing.T, w warehouse.Warehouse, o Options) {
	d := w.Dialect()
	vals := HostileStrings()
	for _, s := range vals {
		CheckQuoteString(t, w, s)
	}
	table := d.Table(o.HostileSchema, "hostile values")
	insertValues(t, w, table, vals)
	rows := queryRows(t, w, "SELECT id, v FROM "+table+" ORDER BY id",
		func() []any { return []any{new(int64), new(sql.NullString)} })
	if len(rows) != len(vals) {
		t.Fatalf("got %d rows, want %d", len(rows), len(vals))
	}
	for i, r := range rows {
		got := r[1].(*sql.NullString)
		if !got.Valid || got.String != vals[i] {
			t.Errorf("row %d: got %q (valid %v), want %q", i, got.String, got.Valid, vals[i])
		}
	}
	// Literals in a WHERE clause match exactly one stored row each.
	for i, s := range vals {
		q := "SELECT id FROM " + table + " WHERE v = " + d.QuoteString(s)
		got := queryRows(t, w, q, func() []any { return []any{new(int64)} })
		if len(got) != 1 || *got[0][0].(*int64) != int64(i) {
			t.Errorf("WHERE v = %s matched %d rows, want only id %d", clip(d.QuoteString(s)), len(got), i)
		}
	}
}

// testQuoteIdentColumns creates a table whose columns carry every hostile
// name and checks the names and values come back exactly.
func testQuoteIdentColumns(t *testing.T, w warehouse.Warehouse, o Options) {
	d := w.Dialect()
	names := o.names()
	for _, n := range names {
		CheckQuoteIdent(t, w, n)
	}
	table := d.Table(o.HostileSchema, "hostile columns")
	var defs, quoted, lits []string
	for i, n := range names {
		defs = append(defs, d.QuoteIdent(n)+" "+d.TypeName("string"))
		quoted = append(quoted, d.QuoteIdent(n))
		lits = append(lits, d.QuoteString("value of "+n+" #"+strconv.Itoa(i)))
	}
	mustExec(t, w, d.DropTable(table),
		"CREATE TABLE "+table+" ("+strings.Join(defs, ", ")+")",
		"INSERT INTO "+table+" ("+strings.Join(quoted, ", ")+") VALUES ("+strings.Join(lits, ", ")+")")
	q := "SELECT " + strings.Join(quoted, ", ") + " FROM " + table
	rs, err := w.Query(ctx(), q)
	if err != nil {
		t.Fatalf("query failed: %v\nSQL: %s", err, clip(q))
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cols, names) {
		t.Errorf("column names:\n got %q\nwant %q", cols, names)
	}
	dest := make([]any, len(names))
	for i := range dest {
		dest[i] = new(string)
	}
	n := 0
	for rs.Next() {
		n++
		if err := rs.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		for i, name := range names {
			want := "value of " + name + " #" + strconv.Itoa(i)
			if got := *dest[i].(*string); got != want {
				t.Errorf("column %q: got %q, want %q", name, got, want)
			}
		}
	}
	if err := rs.Err(); err != nil || n != 1 {
		t.Fatalf("got %d rows, err %v; want 1 row", n, err)
	}
}

// testQuoteIdentTables creates one table per hostile name in the hostile
// schema and finds each through the catalog and by selecting from it.
func testQuoteIdentTables(t *testing.T, w warehouse.Warehouse, o Options) {
	d := w.Dialect()
	for i, n := range o.names() {
		table := d.Table(o.HostileSchema, n)
		mustExec(t, w, d.DropTable(table),
			"CREATE TABLE "+table+" (id "+d.TypeName("integer")+")",
			"INSERT INTO "+table+" (id) VALUES ("+strconv.Itoa(i)+")")
		got := queryRows(t, w, "SELECT id FROM "+table, func() []any { return []any{new(int64)} })
		if len(got) != 1 || *got[0][0].(*int64) != int64(i) {
			t.Errorf("table %q: unexpected contents %v", n, got)
		}
		q := "SELECT table_name FROM information_schema.tables WHERE table_schema = " +
			d.QuoteString(catalogName(d, o.HostileSchema)) + " AND table_name = " + d.QuoteString(catalogName(d, n))
		if names := queryRows(t, w, q, func() []any { return []any{new(string)} }); len(names) != 1 {
			t.Errorf("table %q: found %d times in information_schema.tables, want 1", n, len(names))
		}
	}
}

// testRelation checks that user-written relations quote part by part.
func testRelation(t *testing.T, w warehouse.Warehouse) {
	d := w.Dialect()
	cases := []struct{ rel, schema, table string }{
		{"raw.crm_contacts", "raw", "crm_contacts"},
		{`"x.y".z`, "x.y", "z"},
		{`"q""uote"."t t"`, `q"uote`, "t t"},
		{Schema + ".rel_t", Schema, "rel_t"},
	}
	for _, c := range cases {
		if got, want := d.Relation(c.rel), d.Table(c.schema, c.table); got != want {
			t.Errorf("Relation(%q) = %s, want %s", c.rel, got, want)
		}
	}
	if got, want := d.Relation("plain"), d.QuoteIdent("plain"); got != want {
		t.Errorf("Relation(plain) = %s, want %s", got, want)
	}
	mustExec(t, w, d.DropTable(d.Table(Schema, "rel_t")),
		"CREATE TABLE "+d.Table(Schema, "rel_t")+" (id "+d.TypeName("integer")+")",
		"INSERT INTO "+d.Table(Schema, "rel_t")+" (id) VALUES (7)")
	got := queryRows(t, w, "SELECT id FROM "+d.Relation(Schema+".rel_t"), func() []any { return []any{new(int64)} })
	if len(got) != 1 || *got[0][0].(*int64) != 7 {
		t.Errorf("SELECT from Relation(%q): got %v", Schema+".rel_t", got)
	}
}

// catalogName is the name the catalog (information_schema) stores for
// QuoteIdent(name): a dialect that folds names (Snowflake upper-cases plain
// lower-case ones) says so with a StoredName method; else name itself.
func catalogName(d warehouse.Dialect, name string) string {
	if f, ok := d.(interface{ StoredName(string) string }); ok {
		return f.StoredName(name)
	}
	return name
}
