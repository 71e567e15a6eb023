package retail_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/internal/oracle"
	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/seed"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var asOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func loadProject(t *testing.T) *models.Project {
	t.Helper()
	p, diags := models.LoadWithOptions(".", models.LoadOptions{Getenv: func(k string) (string, bool) {
		return "postgres://unused", k == "CDP_POSTGRES_DSN"
	}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return p
}

// build seeds the example into w and runs every node.
func build(t *testing.T, w warehouse.Warehouse, p *models.Project) *compiler.Graph {
	t.Helper()
	return buildFrom(t, w, p, "seeds")
}

// buildFrom is build with the seed CSVs of another folder.
func buildFrom(t *testing.T, w warehouse.Warehouse, p *models.Project, seeds string) *compiler.Graph {
	t.Helper()
	ctx := context.Background()
	if _, err := seed.Load(ctx, w, "cdp", []string{seeds}, seed.Options{}); err != nil {
		t.Fatal(err)
	}
	g, err := compiler.Compile(p, w.Dialect(), compiler.Options{Schema: "cdp", AsOf: asOf, RunID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Run(ctx, w, g, g.Nodes, "test", nil); err != nil {
		t.Fatal(err)
	}
	return g
}

// snapshot renders a query's rows as sorted, engine-neutral text lines.
func snapshot(t *testing.T, w warehouse.Warehouse, query string) []string {
	t.Helper()
	rows, err := w.Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = cols[i] + "=" + neutral(v)
		}
		out = append(out, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// neutral formats a value the same way whatever engine returned it; numbers
// keep 9 significant digits (floating sums may differ in the last bits).
func neutral(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return neutral(string(x))
	case *big.Int:
		return neutral(x.String())
	case bool:
		return strconv.FormatBool(x)
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil && !strings.HasPrefix(x, "0") {
			return strconv.FormatFloat(f, 'g', 9, 64)
		}
		return strconv.Quote(x)
	}
	if f, err := strconv.ParseFloat(fmt.Sprint(v), 64); err == nil {
		return strconv.FormatFloat(f, 'g', 9, 64)
	}
	return fmt.Sprint(v)
}

// TestRetailIdenticalOnDuckDBAndPostgres builds the example on DuckDB and on
// PostgreSQL with its default (ICU) collation and in the C locale, and
// expects the same identifiers, profiles, segments and audit on each.
func TestRetailIdenticalOnDuckDBAndPostgres(t *testing.T) {
	p := loadProject(t)
	ctx := context.Background()
	dw, err := duckdb.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer dw.Close()
	dg := build(t, dw, p)
	dq := outputQueries(dg)
	for _, pgc := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"postgres", pgtest.DSN}, {"postgres-c", pgtest.CLocaleDSN}} {
		t.Run(pgc.name, func(t *testing.T) {
			pw, err := postgres.Open(ctx, pgc.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer pw.Close()
			pq := outputQueries(build(t, pw, p))
			for _, name := range []string{"identifiers", "profiles", "segments", "audit"} {
				a, b := snapshot(t, dw, dq[name]), snapshot(t, pw, pq[name])
				if len(a) == 0 {
					t.Fatalf("%s is empty", name)
				}
				if len(a) != len(b) {
					t.Fatalf("%s: duckdb has %d rows, %s %d", name, len(a), pgc.name, len(b))
				}
				for i := range a {
					if a[i] != b[i] {
						t.Fatalf("%s differ at row %d:\nduckdb: %s\n%s: %s", name, i, a[i], pgc.name, b[i])
					}
				}
				t.Logf("%s: %d identical rows", name, len(a))
			}
		})
	}

	checkOracle(t, dw, dg, p)
	checkTruth(t, dw, dg, p, filepath.Join("testdata", "truth.csv"))
}

// outputQueries reads the four output tables of a build, by name.
func outputQueries(g *compiler.Graph) map[string]string {
	tb := g.Tables
	return map[string]string{
		"identifiers": "SELECT id_type, id_value, profile_id, first_seen_at, last_seen_at, source_count FROM " + tb.Q(tb.Identifiers()),
		"profiles":    "SELECT * FROM " + tb.Q(tb.Profiles()),
		"segments":    "SELECT segment, profile_id, in_holdout, entered_at FROM " + tb.Q(tb.Segments()),
		"audit":       "SELECT kind, id_type_a, id_value_a, id_type_b, id_value_b, reason FROM " + tb.Q(tb.Audit()),
	}
}

// checkOracle feeds the normalized identifiers of every source row (read
// back from the source views) to the union-find and expects exactly the
// warehouse's profiles.
func checkOracle(t *testing.T, w warehouse.Warehouse, g *compiler.Graph, p *models.Project) {
	t.Helper()
	tb := g.Tables
	var rows []oracle.Row
	for _, s := range p.Sources {
		cols := []string{w.Dialect().QuoteIdent(layout.SourceTSColumn)}
		for i := range s.Identifiers {
			cols = append(cols, w.Dialect().QuoteIdent(layout.SourceIdentColumn(i)))
		}
		rs, err := w.Query(context.Background(), "SELECT "+strings.Join(cols, ", ")+" FROM "+tb.Q(tb.SourceView(s.Name)))
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var ts *time.Time
			vals := make([]*string, len(s.Identifiers))
			dest := []any{&ts}
			for i := range vals {
				dest = append(dest, &vals[i])
			}
			if err := rs.Scan(dest...); err != nil {
				t.Fatal(err)
			}
			r := oracle.Row{Source: s.Name, TS: ts}
			for i, v := range vals {
				if v != nil {
					r.IDs = append(r.IDs, oracle.Ident{Type: s.Identifiers[i].Type, Value: *v})
				}
			}
			rows = append(rows, r)
		}
		rs.Close()
	}
	// values are already normalized: the oracle must not normalize again
	q := *p
	id := *p.Identity
	id.IDTypes = nil
	for _, it := range p.Identity.IDTypes {
		c := *it
		c.Normalize = "none"
		id.IDTypes = append(id.IDTypes, &c)
	}
	q.Identity = &id
	want := oracle.Resolve(&q, rows, asOf)
	got := map[oracle.Node]string{}
	rs, err := w.Query(context.Background(), "SELECT id_type, id_value, profile_id FROM "+tb.Q(tb.Identifiers()))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		var n oracle.Node
		var pid string
		if err := rs.Scan(&n.Type, &n.Value, &pid); err != nil {
			t.Fatal(err)
		}
		got[n] = pid
	}
	if len(got) != len(want.ProfileOf) {
		t.Fatalf("warehouse has %d identifiers, oracle %d", len(got), len(want.ProfileOf))
	}
	for n, pid := range want.ProfileOf {
		if got[n] != pid {
			t.Fatalf("%v: warehouse profile %q, union-find %q", n, got[n], pid)
		}
	}
	if len(want.Dropped) == 0 {
		t.Fatal("the example should exercise the limit rules (shared devices)")
	}
	t.Logf("oracle: %d identifiers, %d profiles, %d links dropped by limits — all equal", len(got), len(want.Clusters()), len(want.Dropped))
}

// checkTruth asserts no profile mixes two real people of the generator
// (truth is the generator's person_id,id_type,id_value file).
func checkTruth(t *testing.T, w warehouse.Warehouse, g *compiler.Graph, p *models.Project, truth string) {
	t.Helper()
	f, err := os.Open(truth)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	owners := map[oracle.Node]map[string]bool{}
	for _, r := range recs[1:] {
		it := p.IDType(r[1])
		if it == nil {
			continue
		}
		v, ok := identity.NormalizeGo(it, r[2])
		if !ok {
			continue
		}
		n := oracle.Node{Type: r[1], Value: v}
		if owners[n] == nil {
			owners[n] = map[string]bool{}
		}
		owners[n][r[0]] = true
	}
	tb := g.Tables
	rs, err := w.Query(context.Background(), "SELECT id_type, id_value, profile_id FROM "+tb.Q(tb.Identifiers()))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	people := map[string]map[string]bool{}
	for rs.Next() {
		var n oracle.Node
		var pid string
		if err := rs.Scan(&n.Type, &n.Value, &pid); err != nil {
			t.Fatal(err)
		}
		o := owners[n]
		if len(o) != 1 { // shared values (devices) belong to nobody in particular
			continue
		}
		if people[pid] == nil {
			people[pid] = map[string]bool{}
		}
		for person := range o {
			people[pid][person] = true
		}
	}
	for pid, ps := range people {
		if len(ps) > 1 {
			t.Fatalf("profile %s mixes real people %v", pid, ps)
		}
	}
}
