package seed_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/seed"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// noBulk hides the BulkLoader of a real warehouse to exercise the INSERT path.
type noBulk struct{ warehouse.Warehouse }

func engines(t *testing.T) map[string]func(t *testing.T) warehouse.Warehouse {
	return map[string]func(t *testing.T) warehouse.Warehouse{
		"duckdb": func(t *testing.T) warehouse.Warehouse {
			w, err := duckdb.Open(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = w.Close() })
			return w
		},
		"postgres": func(t *testing.T) warehouse.Warehouse {
			w, err := postgres.Open(context.Background(), pgtest.DSN(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = w.Close() })
			return w
		},
	}
}

func TestLoadMessy(t *testing.T) {
	for name, open := range engines(t) {
		for _, bulk := range []bool{true, false} {
			label := name + "/bulk"
			if !bulk {
				label = name + "/insert"
			}
			t.Run(label, func(t *testing.T) {
				t.Parallel()
				w := open(t)
				if !bulk {
					w = noBulk{w}
				}
				results, err := seed.Load(context.Background(), w, "seeds 'x'", []string{"testdata/messy"}, seed.Options{BatchSize: 2})
				if err != nil {
					t.Fatal(err)
				}
				checkResults(t, results)
				checkCustomers(t, w, w.Dialect().Table("seeds 'x'", "seed_customers_file"))
			})
		}
	}
}

func checkResults(t *testing.T, results []seed.Result) {
	t.Helper()
	got := map[string]int64{}
	for _, r := range results {
		got[r.Table] = r.Rows
	}
	want := map[string]int64{"seed_customers_file": 4, "seed_header_only": 0, "seed_notes": 2}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows per table %v, want %v", got, want)
	}
	var types []string
	for _, c := range results[0].Columns {
		types = append(types, c.Name+":"+c.Type)
	}
	wantTypes := "id:integer Full Name:string email:string age:integer score:number active:boolean " +
		"signed_up:timestamp born:date zip:string notes:string mixed:string empty:string big_id:string ts_offset:timestamp"
	if strings.Join(types, " ") != wantTypes {
		t.Errorf("columns:\n got %s\nwant %s", strings.Join(types, " "), wantTypes)
	}
}

// customer is one row of the messy file as read back.
type customer struct {
	id                int64
	name, email       sql.NullString
	age               sql.NullInt64
	score             sql.NullFloat64
	active            sql.NullBool
	signedUp, born    sql.NullTime
	zip, notes, mixed sql.NullString
	empty, bigID      sql.NullString
	tsOffset          sql.NullTime
}

func checkCustomers(t *testing.T, w warehouse.Warehouse, table string) {
	t.Helper()
	rows, err := w.Query(context.Background(), "SELECT * FROM "+table+" ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []customer
	for rows.Next() {
		var c customer
		if err := rows.Scan(&c.id, &c.name, &c.email, &c.age, &c.score, &c.active, &c.signedUp, &c.born,
			&c.zip, &c.notes, &c.mixed, &c.empty, &c.bigID, &c.tsOffset); err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	s := func(v string) sql.NullString { return sql.NullString{String: v, Valid: true} }
	ts := func(v time.Time) sql.NullTime { return sql.NullTime{Time: v, Valid: true} }
	u := func(y int, mo time.Month, d, h, mi, sec, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, sec, ns, time.UTC)
	}
	want := []customer{
		{1, s("Doe, Jane"), s("jane@example.com"), sql.NullInt64{Int64: 34, Valid: true}, sql.NullFloat64{Float64: 1.5, Valid: true},
			sql.NullBool{Bool: true, Valid: true}, ts(u(2024, 1, 2, 3, 4, 5, 0)), ts(u(1990, 5, 1, 0, 0, 0, 0)),
			s("00501"), s(`said "hi"; then left`), s("1"), sql.NullString{}, s("12345678901234567890"), ts(u(2024, 1, 2, 1, 4, 5, 0))},
		{2, s("Zoë 🎉"), sql.NullString{}, sql.NullInt64{}, sql.NullFloat64{Float64: -2, Valid: true},
			sql.NullBool{Bool: false, Valid: true}, ts(u(2024, 1, 3, 0, 0, 0, 123456000)), sql.NullTime{},
			s("12345"), s("multi\nline, with comma"), s("two"), sql.NullString{}, s("2"), ts(u(2024, 1, 2, 0, 0, 0, 0))},
		{3, s(`O'Brien \ back`), s("obrien@example.com"), sql.NullInt64{Int64: 0, Valid: true}, sql.NullFloat64{Float64: 300, Valid: true},
			sql.NullBool{}, sql.NullTime{}, ts(u(2000, 2, 29, 0, 0, 0, 0)),
			sql.NullString{}, sql.NullString{}, s("3.5"), sql.NullString{}, s("3"), sql.NullTime{}},
		{4, sql.NullString{}, sql.NullString{}, sql.NullInt64{Int64: -7, Valid: true}, sql.NullFloat64{Float64: 0, Valid: true},
			sql.NullBool{Bool: true, Valid: true}, ts(u(2024, 12, 31, 23, 59, 59, 0)), ts(u(1999, 12, 31, 0, 0, 0, 0)),
			s("99999"), s("--"), sql.NullString{}, sql.NullString{}, s("4"), ts(u(2024, 6, 30, 17, 30, 0, 500000000))},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		// Normalize time locations before comparing.
		for _, p := range []*sql.NullTime{&g.signedUp, &g.born, &g.tsOffset} {
			p.Time = p.Time.UTC()
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i+1, g, w)
		}
	}
}

func TestLoadErrorsAllAtOnce(t *testing.T) {
	w, err := duckdb.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = seed.Load(context.Background(), w, "cdp", []string{"testdata/bad", "testdata/missing"}, seed.Options{})
	if err == nil {
		t.Fatal("bad seeds loaded")
	}
	msg := err.Error()
	for _, want := range []string{
		"testdata/missing: error: seed path does not exist",
		"testdata/bad/dup_header.csv:1:3: error: duplicate column name \"A\"",
		"testdata/bad/empty.csv:1:1: error: empty file",
		"testdata/bad/empty_header.csv:1:3: error: column 2 has an empty name",
		"testdata/bad/latin1.csv:2:1: error: value is not valid UTF-8",
		"testdata/bad/quote.csv:2:",
		"testdata/bad/ragged.csv:3:1: error: row has 1 fields but the header has 2",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	// Nothing was loaded.
	rows, err := w.Query(context.Background(), "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'cdp'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		_ = rows.Scan(&n)
	}
	if n != 0 {
		t.Errorf("%d tables created despite errors", n)
	}
}

func TestDuplicateTableNames(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a-b.csv", "A_B.csv"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x\n1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w, err := duckdb.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = seed.Load(context.Background(), w, "", []string{dir}, seed.Options{})
	if err == nil || !strings.Contains(err.Error(), "table seed_a_b is also loaded from") {
		t.Fatalf("got %v", err)
	}
}

func TestTableNameOption(t *testing.T) {
	w, err := duckdb.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	res, err := seed.Load(context.Background(), w, "", []string{"testdata/messy/NOTES.CSV"},
		seed.Options{TableName: func(stem string) string { return "raw_" + stem }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Table != "raw_notes" || res[0].Rows != 2 ||
		!reflect.DeepEqual(res[0].Columns, []warehouse.Column{{Name: "a", Type: models.TypeInteger}, {Name: "b", Type: models.TypeInteger}}) {
		t.Fatalf("got %+v", res)
	}
}
