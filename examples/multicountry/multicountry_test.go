package multicountry_test

import (
	"context"
	"encoding/csv"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/internal/bqtest"
	"github.com/cdpkit/cdp/internal/oracle"
	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/seed"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

func TestMain(m *testing.M) {
	code := m.Run()
	bqtest.Stop()
	if err := pgtest.Stop(); err != nil && code == 0 {
		os.Stderr.WriteString("pgtest: " + err.Error() + "\n")
		code = 1
	}
	os.Exit(code)
}

var asOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// engines are the warehouses the example must give the same clusters on.
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
	{"postgres-c", func(t *testing.T) warehouse.Warehouse {
		w, err := postgres.Open(context.Background(), pgtest.CLocaleDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return w
	}},
	{"bigquery", func(t *testing.T) warehouse.Warehouse { return bqtest.Open(t) }},
}

// TestMultiCountryClusters builds the example on DuckDB, PostgreSQL in the C
// locale and the BigQuery emulator. Every engine must give the same
// identifiers, profile IDs and invalid values; the clusters must be the
// union-find oracle's over libphonenumber's numbers in each row's country;
// and each person of the generator's truth must be exactly one profile
// holding their email and their E.164 number.
func TestMultiCountryClusters(t *testing.T) {
	p, diags := models.LoadWithOptions(".", models.LoadOptions{Getenv: func(k string) (string, bool) {
		return "postgres://unused", k == "CDP_POSTGRES_DSN"
	}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want := oracle.Resolve(p, oracleRows(t), asOf)
	truth := readCSV(t, "testdata/truth.csv")
	countries := map[string]bool{}
	for _, r := range readCSV(t, "seeds/members.csv") {
		countries[strings.ToUpper(strings.TrimSpace(r[3]))] = true
	}
	if len(countries) < 6 {
		t.Fatalf("members come from %d countries, want at least 6", len(countries))
	}
	var first []string
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			w := e.open(t)
			ctx := context.Background()
			if _, err := seed.Load(ctx, w, "cdp", []string{"seeds"}, seed.Options{}); err != nil {
				t.Fatal(err)
			}
			g, err := compiler.Compile(p, w.Dialect(), compiler.Options{Schema: "cdp", AsOf: asOf, RunID: "test"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := runner.Run(ctx, w, g, g.Nodes, "test", nil); err != nil {
				t.Fatal(err)
			}
			tb := g.Tables
			got := map[oracle.Node]string{}
			var lines []string
			for _, r := range rows(t, w, "SELECT id_type, id_value, profile_id FROM "+tb.Q(tb.Identifiers())) {
				got[oracle.Node{Type: r[0], Value: r[1]}] = r[2]
				lines = append(lines, strings.Join(r, " "))
			}
			for _, r := range rows(t, w, "SELECT id_type_a, id_value_a, reason FROM "+tb.Q(tb.Audit())+" WHERE kind = 'invalid'") {
				lines = append(lines, "invalid "+strings.Join(r, " "))
			}
			sort.Strings(lines)
			if !reflect.DeepEqual(got, want.ProfileOf) {
				t.Errorf("identifiers differ from the oracle: %d in the warehouse, %d in the oracle", len(got), len(want.ProfileOf))
				for n, pid := range want.ProfileOf {
					if got[n] != pid {
						t.Errorf("  %v: warehouse %q, oracle %q", n, got[n], pid)
					}
				}
			}
			profiles := map[string]bool{}
			for _, r := range truth[1:] {
				pe, pp := got[oracle.Node{Type: "email", Value: r[1]}], got[oracle.Node{Type: "phone", Value: r[2]}]
				if pe == "" || pe != pp {
					t.Errorf("person %s: email %s in profile %q, phone %s in %q", r[0], r[1], pe, r[2], pp)
				}
				profiles[pe] = true
			}
			all := map[string]bool{}
			for _, pid := range got {
				all[pid] = true
			}
			if len(all) != len(truth)-1 || len(profiles) != len(truth)-1 {
				t.Errorf("%d profiles (%d for the people), want one per person: %d", len(all), len(profiles), len(truth)-1)
			}
			if first == nil {
				first = lines
			} else if !reflect.DeepEqual(lines, first) {
				t.Errorf("identifiers, profile IDs or invalid values differ from %s's", engines[0].name)
			}
		})
	}
}

// oracleRows reads the seeds as the oracle's rows: each identifier with its
// row's country.
func oracleRows(t *testing.T) []oracle.Row {
	t.Helper()
	var out []oracle.Row
	for _, r := range readCSV(t, "seeds/members.csv")[1:] {
		out = append(out, oracle.Row{Source: "members", TS: ts(t, r[4]), IDs: []oracle.Ident{
			{Type: "email", Value: r[1]}, {Type: "phone", Value: r[2], Country: r[3]}}})
	}
	for _, r := range readCSV(t, "seeds/orders.csv")[1:] {
		out = append(out, oracle.Row{Source: "orders", TS: ts(t, r[4]), IDs: []oracle.Ident{
			{Type: "phone", Value: r[1], Country: r[2]}}})
	}
	return out
}

func ts(t *testing.T, s string) *time.Time {
	v, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		t.Fatal(err)
	}
	return &v
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// rows returns a query's rows as text.
func rows(t *testing.T, w warehouse.Warehouse, query string) [][]string {
	t.Helper()
	rs, err := w.Query(context.Background(), query)
	if err != nil {
		t.Fatalf("%v\n%s", err, query)
	}
	defer rs.Close()
	var out [][]string
	for rs.Next() {
		var a, b, c *string
		if err := rs.Scan(&a, &b, &c); err != nil {
			t.Fatal(err)
		}
		row := []string{}
		for _, v := range []*string{a, b, c} {
			if v == nil {
				row = append(row, "NULL")
			} else {
				row = append(row, *v)
			}
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
