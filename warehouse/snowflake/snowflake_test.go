package snowflake_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/seed"
	_ "github.com/cdpkit/cdp/sync/destinations/webhook"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/snowflake"
	"github.com/cdpkit/cdp/warehouse/warehousetest"
)

// EnvDSN names the environment variable with the gosnowflake DSN of a real
// account (user:password@account/database?warehouse=WH&role=ROLE) that the
// gated tests run against.
const EnvDSN = "CDP_TEST_SNOWFLAKE_DSN"

var asOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// TestSnowflake runs the dialect conformance suite and the retail example
// end to end on a real account. It is skipped without CDP_TEST_SNOWFLAKE_DSN.
// It works in a fresh schema (and the suite's two schemas) and drops them
// afterwards.
func TestSnowflake(t *testing.T) {
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		t.Skip("set " + EnvDSN + " to a gosnowflake DSN to test against a real Snowflake account (docs/snowflake.md)")
	}
	ctx := context.Background()
	w, err := snowflake.OpenDSN(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	d := w.Dialect()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	schema := "cdp_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		for _, s := range []string{schema, warehousetest.Schema, warehousetest.HostileSchema} {
			if _, err := w.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+d.QuoteIdent(s)+" CASCADE"); err != nil {
				t.Errorf("dropping schema %s: %v", s, err)
			}
		}
	})
	t.Run("DialectSuite", func(t *testing.T) { warehousetest.RunDialectSuite(t, w) })
	t.Run("Retail", func(t *testing.T) { testRetail(t, w, schema) })
}

// testRetail builds the retail example in schema, compares identifiers,
// profiles, segments and the audit with an in-memory DuckDB build, then
// syncs the VIP segment to a local contract server twice (the second run
// sends nothing).
func testRetail(t *testing.T, w *snowflake.Warehouse, schema string) {
	ctx := context.Background()
	srv := destinationtest.New(t, destinationtest.Options{MaxBatch: 100})
	dir := copyExample(t, schema)
	p := loadProject(t, dir, srv)
	g := build(t, w, p, schema, dir)

	dw, err := duckdb.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer dw.Close()
	ref := build(t, dw, loadProject(t, filepath.Join("..", "..", "examples", "retail"), srv), "cdp",
		filepath.Join("..", "..", "examples", "retail"))
	for _, q := range []struct{ name, cols, table string }{
		{"identifiers", "id_type, id_value, profile_id, first_seen_at, last_seen_at, source_count", g.Tables.Identifiers()},
		{"profiles", "*", g.Tables.Profiles()},
		{"segments", "segment, profile_id, in_holdout, entered_at", g.Tables.Segments()},
		{"audit", "kind, id_type_a, id_value_a, id_type_b, id_value_b, reason", g.Tables.Audit()},
	} {
		got := snapshot(t, w, "SELECT "+q.cols+" FROM "+g.Tables.Q(q.table))
		want := snapshot(t, dw, "SELECT "+q.cols+" FROM "+ref.Tables.Q(q.table))
		if len(want) == 0 || len(got) != len(want) {
			t.Fatalf("%s: snowflake has %d rows, duckdb %d", q.name, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s differ at row %d:\nsnowflake: %s\nduckdb:    %s", q.name, i, got[i], want[i])
			}
		}
		t.Logf("%s: %d rows identical to DuckDB", q.name, len(got))
	}

	eng := &engine.Engine{W: w, Project: p, Tables: g.Tables}
	s := p.Sync("vip_to_crm")
	res, err := eng.Run(ctx, s, engine.RunOptions{RunID: "sf-1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "success" || res.Added == 0 || int64(len(srv.State())) != res.Added {
		t.Fatalf("first sync: %+v; receiver holds %d keys", res, len(srv.State()))
	}
	again, err := eng.Run(ctx, s, engine.RunOptions{RunID: "sf-2"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Added+again.Changed+again.Removed != 0 {
		t.Fatalf("second sync sent changes without any change in the data: %+v", again)
	}
	hist, err := eng.History(ctx, s.Name, 10)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %d runs, %v", len(hist), err)
	}
}

// copyExample copies the retail example into a temporary folder with its
// sources pointing at schema instead of cdp.
func copyExample(t *testing.T, schema string) string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", "retail")
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".yml") {
			b = []byte(strings.ReplaceAll(string(b), "cdp.seed_", schema+".seed_"))
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func loadProject(t *testing.T, dir string, srv *destinationtest.Server) *models.Project {
	t.Helper()
	p, diags := models.LoadWithOptions(dir, models.LoadOptions{Getenv: func(k string) (string, bool) {
		switch k {
		case "CRM_HOOK_URL":
			return srv.URL(), true
		case "CRM_HOOK_SECRET":
			return srv.Secret, true
		}
		return "", false
	}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return p
}

// build seeds the example into schema of w and runs every node.
func build(t *testing.T, w warehouse.Warehouse, p *models.Project, schema, dir string) *compiler.Graph {
	t.Helper()
	ctx := context.Background()
	if _, err := seed.Load(ctx, w, schema, []string{filepath.Join(dir, "seeds")}, seed.Options{}); err != nil {
		t.Fatal(err)
	}
	g, err := compiler.Compile(p, w.Dialect(), compiler.Options{Schema: schema, AsOf: asOf, RunID: "test"})
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
			parts[i] = cols[i] + "=" + neutral(warehouse.Plain(v))
		}
		out = append(out, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// neutral prints a plain value the same way whichever engine produced it.
func neutral(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatFloat(float64(x), 'g', 9, 64)
	case float64:
		return strconv.FormatFloat(x, 'g', 9, 64)
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}
