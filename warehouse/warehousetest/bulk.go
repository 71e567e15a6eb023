package warehousetest

import (
	"database/sql"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// bulkRows is how many rows the BulkLoader test loads.
const bulkRows = 10000

// bulkColumns are the typed columns of the BulkLoader test.
var bulkColumns = []warehouse.Column{
	{Name: "id", Type: models.TypeInteger},
	{Name: `na"me; --`, Type: models.TypeString},
	{Name: "amount", Type: models.TypeNumber},
	{Name: "Flag", Type: models.TypeBoolean},
	{Name: "seen at", Type: models.TypeTimestamp},
	{Name: "day", Type: models.TypeDate},
}

// bulkStrings are the string cells of the BulkLoader test.
var bulkStrings = HostileStrings()

// bulkRow returns row i of the BulkLoader test: cell j is NULL when
// (i+j)%7 == 0, except the id.
func bulkRow(i int) []any {
	strs := bulkStrings
	amount := float64(i)*1.25 + 0.1
	switch i {
	case 1:
		amount = math.Inf(1)
	case 2:
		amount = math.Inf(-1)
	case 3:
		amount = math.MaxFloat64
	case 4:
		amount = math.SmallestNonzeroFloat64
	}
	base := utc(2020, 1, 1, 0, 0, 0, 0)
	row := []any{
		int64(i),
		strs[i%len(strs)],
		amount,
		i%3 == 0,
		base.Add(time.Duration(i)*time.Hour + time.Duration(i)*time.Microsecond),
		base.AddDate(0, 0, i),
	}
	for j := 1; j < len(row); j++ {
		if (i+j)%7 == 0 {
			row[j] = nil
		}
	}
	return row
}

// rowSource yields n rows from gen, then io.EOF.
func rowSource(n int, gen func(int) []any) func() ([]any, error) {
	i := 0
	return func() ([]any, error) {
		if i >= n {
			return nil, io.EOF
		}
		i++
		return gen(i - 1), nil
	}
}

// testBulkLoader loads typed rows with NULLs, reads them back, replaces the
// table, and checks that a failed load leaves the previous table intact.
func testBulkLoader(t *testing.T, w warehouse.Warehouse, o Options) {
	bl, ok := w.(warehouse.BulkLoader)
	if !ok {
		t.Skip("warehouse does not implement warehouse.BulkLoader")
	}
	d := w.Dialect()
	table := d.Table(o.HostileSchema, "bulk 'load'")
	n, err := bl.LoadRows(ctx(), table, bulkColumns, rowSource(bulkRows, bulkRow))
	if err != nil {
		t.Fatal(err)
	}
	if n != bulkRows {
		t.Fatalf("LoadRows reported %d rows, want %d", n, bulkRows)
	}
	checkBulkTable(t, w, table)

	// Reloading replaces the table, columns and all.
	small := []warehouse.Column{{Name: "k", Type: models.TypeString}, {Name: "v", Type: models.TypeInteger}}
	gen := func(i int) []any { return []any{strings.Repeat("k", i+1), int64(i)} }
	if n, err := bl.LoadRows(ctx(), table, small, rowSource(3, gen)); err != nil || n != 3 {
		t.Fatalf("reload: %d rows, %v", n, err)
	}
	checkColumns(t, w, "SELECT * FROM "+table, []string{"k", "v"}, 3)

	// A source error halfway rolls the whole load back.
	boom := errors.New("source failed")
	i := 0
	failing := func() ([]any, error) {
		if i == bulkRows/2 {
			return nil, boom
		}
		i++
		return bulkRow(i - 1), nil
	}
	if _, err := bl.LoadRows(ctx(), table, bulkColumns, failing); !errors.Is(err, boom) {
		t.Fatalf("failed load returned %v, want an error wrapping %v", err, boom)
	}
	checkColumns(t, w, "SELECT * FROM "+table, []string{"k", "v"}, 3)

	// A value of the wrong Go type is refused, and also rolls back.
	wrong := func(i int) []any { return []any{"not an int", "x"} }
	if _, err := bl.LoadRows(ctx(), table, []warehouse.Column{{Name: "a", Type: models.TypeInteger}, {Name: "b", Type: models.TypeString}}, rowSource(1, wrong)); err == nil {
		t.Fatal("loading a string into an integer column succeeded")
	}
	checkColumns(t, w, "SELECT * FROM "+table, []string{"k", "v"}, 3)
}

// checkBulkTable reads the bulk table back and compares every cell.
func checkBulkTable(t *testing.T, w warehouse.Warehouse, table string) {
	t.Helper()
	d := w.Dialect()
	var names []string
	for _, c := range bulkColumns {
		names = append(names, d.QuoteIdent(c.Name))
	}
	q := "SELECT " + strings.Join(names, ", ") + " FROM " + table + " ORDER BY id"
	rows := queryRows(t, w, q, func() []any {
		return []any{new(int64), new(sql.NullString), new(sql.NullFloat64), new(sql.NullBool), new(sql.NullTime), new(sql.NullTime)}
	})
	if len(rows) != bulkRows {
		t.Fatalf("read %d rows, want %d", len(rows), bulkRows)
	}
	bad := 0
	for i, r := range rows {
		want := bulkRow(i)
		got := []any{
			*r[0].(*int64),
			nullable(r[1].(*sql.NullString).Valid, r[1].(*sql.NullString).String),
			nullable(r[2].(*sql.NullFloat64).Valid, r[2].(*sql.NullFloat64).Float64),
			nullable(r[3].(*sql.NullBool).Valid, r[3].(*sql.NullBool).Bool),
			nullable(r[4].(*sql.NullTime).Valid, r[4].(*sql.NullTime).Time),
			nullable(r[5].(*sql.NullTime).Valid, r[5].(*sql.NullTime).Time),
		}
		for j := range want {
			if !sameValue(got[j], want[j]) {
				bad++
				if bad <= 10 {
					t.Errorf("row %d, column %q: got %#v, want %#v", i, bulkColumns[j].Name, got[j], want[j])
				}
			}
		}
	}
}

func nullable[T any](valid bool, v T) any {
	if !valid {
		return nil
	}
	return v
}

func sameValue(got, want any) bool {
	if gt, ok := got.(time.Time); ok {
		wt, ok := want.(time.Time)
		return ok && gt.Equal(wt)
	}
	return got == want
}
