package hashing_test

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cdpkit/cdp/internal/bqtest"
	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/internal/sqlcheck"
	"github.com/cdpkit/cdp/sync/hashing"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
	"github.com/cdpkit/cdp/warehouse/snowflake"
	"github.com/cdpkit/cdp/warehouse/warehousetest"
)

// TestMain stops the PostgreSQL server and the BigQuery emulator the tests
// started.
func TestMain(m *testing.M) {
	code := m.Run()
	bqtest.Stop()
	if err := pgtest.Stop(); err != nil && code == 0 {
		os.Stderr.WriteString("pgtest: " + err.Error() + "\n")
		code = 1
	}
	os.Exit(code)
}

// piiValues are PII-shaped hostile values: mixed case, padding of every
// ASCII whitespace, gmail tricks, phone punctuation, non-ASCII letters.
var piiValues = []string{
	"Mary@Example.com", " \t\nJane.Doe+promo@Gmail.COM\r\n", "j.a.n.e@googlemail.com", "a.b+c+d@gmail.com",
	"+x@gmail.com", ".@gmail.com", "a@b@gmail.com", "jane.doe@gmail.com.au", "jane doe @ gmail . com",
	"ÉMILE.Zola@Gmail.com", "ünïcödé@例え.jp", "\vfeed\f@x.org", "+1 (800) 555-0100", "0044 20 7031 3000",
	"00", "tel: +33 6 12 34 56 78 ext. 9", "١٢٣٤٥", "Mary-Ann O'Brien, Jr.", "  ÉLODIE  ", "José Ñúñez",
	"Straße", "ΣΊΣΥΦΟΣ", "US", " gb ", "usa", "u1", "Ü S", "fr\n", "_-_", "[]", `\^`, "`~{}|", "İstanbul", "ǅemal", "ẞ", "Ωmega", "\u212Aa", "ΣΊΣΥΦΟΣ ΣΟΦΌΣ", "οδός", "i\u0307 dot", "ς",
}

// engines opens each real warehouse the profiles run on.
var engines = []struct {
	name string
	open func(t *testing.T) warehouse.Warehouse
}{
	{"duckdb", func(t *testing.T) warehouse.Warehouse {
		w, err := duckdb.Open(context.Background(), ":memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return w
	}},
	{"postgres", func(t *testing.T) warehouse.Warehouse {
		w, err := postgres.Open(context.Background(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return w
	}},
	{"bigquery", func(t *testing.T) warehouse.Warehouse { return bqtest.Open(t) }},
}

// TestEnginesMatchReference runs every profile's SQL over hostile values on
// every engine and compares each hash (or NULL) with the Go reference.
func TestEnginesMatchReference(t *testing.T) {
	vals := append(warehousetest.HostileStrings(), piiValues...)
	names := hashing.Names()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			w := e.open(t)
			d := w.Dialect()
			ctx := context.Background()
			table := d.Table("cdp_hashing", "vals")
			exec(t, w, d.CreateSchema("cdp_hashing"), d.DropTable(table),
				"CREATE TABLE "+table+" (id "+d.TypeName("integer")+", v "+d.TypeName("string")+")")
			var tuples []string
			for i, v := range vals {
				tuples = append(tuples, "("+strconv.Itoa(i)+", "+d.QuoteString(v)+")")
			}
			tuples = append(tuples, "("+strconv.Itoa(len(vals))+", NULL)")
			exec(t, w, "INSERT INTO "+table+" (id, v) VALUES "+strings.Join(tuples, ", "))
			cols := []string{"id"}
			for _, n := range names {
				cols = append(cols, hashing.Lookup(n).SQL(d, "v"))
			}
			rows, err := w.Query(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+table+" ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			seen := 0
			for rows.Next() {
				var id int64
				got := make([]sql.NullString, len(names))
				dest := []any{&id}
				for i := range got {
					dest = append(dest, &got[i])
				}
				if err := rows.Scan(dest...); err != nil {
					t.Fatal(err)
				}
				seen++
				for i, n := range names {
					if id == int64(len(vals)) {
						if got[i].Valid {
							t.Errorf("%s(NULL) = %q, want NULL", n, got[i].String)
						}
						continue
					}
					want, ok := hashing.Lookup(n).Reference(vals[id])
					if got[i].Valid != ok || got[i].String != want {
						norm, _ := hashing.Lookup(n).Normalize(vals[id])
						t.Errorf("%s(%.60q) = %q (valid %v), want %q (valid %v, normalized %.60q)", n, vals[id], got[i].String, got[i].Valid, want, ok, norm)
					}
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if seen != len(vals)+1 {
				t.Fatalf("got %d rows, want %d", seen, len(vals)+1)
			}
		})
	}
}

func exec(t *testing.T, w warehouse.Warehouse, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := w.Exec(context.Background(), s); err != nil {
			t.Fatalf("%v\nSQL: %.400s", err, s)
		}
	}
}

// TestSnowflakeSQLParses checks every profile's Snowflake SQL with the SQL
// parser (no Snowflake account needed).
func TestSnowflakeSQLParses(t *testing.T) {
	c := sqlcheck.ForTest(t)
	d := snowflake.Dialect{}
	var stmts []sqlcheck.Statement
	for _, n := range hashing.Names() {
		stmts = append(stmts, sqlcheck.Statement{Name: n,
			SQL: "SELECT " + hashing.Lookup(n).SQL(d, d.QuoteIdent("v")) + " AS h FROM " + d.Table("cdp", "t")})
	}
	sqlcheck.Require(t, c, snowflake.Type, stmts)
}

// FuzzProfilesDuckDB compares every profile's SQL on DuckDB with the Go
// reference on arbitrary valid UTF-8 without NUL (DuckDB VARCHAR's domain).
func FuzzProfilesDuckDB(f *testing.F) {
	for _, s := range append(warehousetest.HostileStrings(), piiValues...) {
		f.Add(s)
	}
	w, err := duckdb.Open(context.Background(), ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	defer w.Close()
	d := w.Dialect()
	names := hashing.Names()
	cols := make([]string, len(names))
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Skip("DuckDB VARCHAR holds valid UTF-8 without NUL")
		}
		for i, n := range names {
			cols[i] = hashing.Lookup(n).SQL(d, "v")
		}
		rows, err := w.Query(context.Background(), "SELECT "+strings.Join(cols, ", ")+" FROM (SELECT "+d.QuoteString(s)+" AS v) AS t")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := make([]sql.NullString, len(names))
		dest := make([]any, len(names))
		for i := range got {
			dest[i] = &got[i]
		}
		if !rows.Next() {
			t.Fatal("no row")
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		for i, n := range names {
			want, ok := hashing.Lookup(n).Reference(s)
			if got[i].Valid != ok || got[i].String != want {
				t.Errorf("%s(%q) = %q (valid %v), want %q (valid %v)", n, s, got[i].String, got[i].Valid, want, ok)
			}
		}
	})
}
