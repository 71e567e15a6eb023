package duckdb_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/warehousetest"
)

func openMemory(t testing.TB) *duckdb.Warehouse {
	t.Helper()
	w, err := duckdb.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func TestConformance(t *testing.T) {
	warehousetest.RunDialectSuite(t, openMemory(t))
}

func TestRendering(t *testing.T) {
	d := duckdb.Dialect{}
	ts := time.Date(2024, 5, 1, 13, 4, 5, 123456789, time.FixedZone("x", 3600))
	for _, c := range []struct{ got, want string }{
		{d.QuoteIdent(`a"b`), `"a""b"`},
		{d.QuoteString(`it's \ fine`), `'it''s \ fine'`},
		{d.QuoteString("a\x00b'\x00"), `('a' || chr(0) || 'b''' || chr(0) || '')`},
		{d.Table("raw", "crm"), `"raw"."crm"`},
		{d.Table("", "crm"), `"crm"`},
		{d.Relation("raw.crm_contacts"), `"raw"."crm_contacts"`},
		{d.Relation(`"my.db"."Sch""ema".t`), `"my.db"."Sch""ema"."t"`},
		{d.TimestampLiteral(ts), `TIMESTAMP '2024-05-01 12:04:05.123456'`},
		{d.SubtractHours("ts", 48), `(ts - INTERVAL '48 hours')`},
		{d.RegexpMatch("v", `\d'`), `regexp_matches(v, '\d''')`},
		{d.RegexpReplaceAll("v", "a", `\1`), `regexp_replace(v, 'a', '\1', 'g')`},
		{d.SHA256Hex("v"), `sha256(v)`},
		{d.HashFraction("v"), `(CAST(('0x' || substr(md5(v), 1, 8)) AS BIGINT) / CAST(4294967296 AS DOUBLE))`},
		{d.ByteOrder("v"), `(v COLLATE "binary")`},
		{d.Contains("v", "50%_"), `contains(v, '50%_')`},
		{d.StartsWith("v", "a'"), `starts_with(v, 'a''')`},
		{d.EndsWith("v", "z"), `suffix(v, 'z')`},
		{d.Cast("x", models.TypeNumber), `CAST(x AS DOUBLE)`},
		{d.CastText("x"), `CAST(x AS VARCHAR)`},
		{d.CreateSchema("cdp"), `CREATE SCHEMA IF NOT EXISTS "cdp"`},
		{strings.Join(d.CreateTableAs(`"t"`, "SELECT 1"), ";"), `CREATE OR REPLACE TABLE "t" AS SELECT 1`},
		{strings.Join(d.CreateView(`"v"`, "SELECT 1"), ";"), `CREATE OR REPLACE VIEW "v" AS SELECT 1`},
		{d.DropTable(`"t"`), `DROP TABLE IF EXISTS "t"`},
	} {
		if c.got != c.want {
			t.Errorf("got  %s\nwant %s", c.got, c.want)
		}
	}
	for typ, want := range map[string]string{
		models.TypeString: "VARCHAR", models.TypeInteger: "BIGINT", models.TypeNumber: "DOUBLE",
		models.TypeBoolean: "BOOLEAN", models.TypeTimestamp: "TIMESTAMP", models.TypeDate: "DATE",
	} {
		if got := d.TypeName(typ); got != want {
			t.Errorf("TypeName(%s) = %s, want %s", typ, got, want)
		}
	}
}

// TestNULStrings checks that strings holding NUL bytes survive, which DuckDB
// supports but cannot receive inside query text.
func TestNULStrings(t *testing.T) {
	w := openMemory(t)
	for _, s := range []string{"\x00", "a\x00b", "\x00'\x00", "end\x00"} {
		warehousetest.CheckQuoteString(t, w, s)
	}
	if _, err := w.Exec(context.Background(), "SELECT 'a\x00b'"); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("statement with a raw NUL byte: got %v, want a NUL error", err)
	}
}

func TestOpenTargetFile(t *testing.T) {
	root := t.TempDir()
	target := &models.Target{Name: "local", Type: "duckdb", Settings: map[string]string{"path": ".cdp/sub/db.duckdb"}}
	ctx := context.Background()
	w, err := warehouse.Open(ctx, target, root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(ctx, "CREATE TABLE kept AS SELECT 42 AS answer"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".cdp", "sub", "db.duckdb")); err != nil {
		t.Fatalf("database file not created under the project root: %v", err)
	}
	w, err = warehouse.Open(ctx, target, root)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rows, err := w.Query(ctx, "SELECT answer FROM kept")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	if n != 42 {
		t.Fatalf("reopened database: answer = %d, want 42", n)
	}
}

func TestExecRowsAffected(t *testing.T) {
	w := openMemory(t)
	ctx := context.Background()
	if _, err := w.Exec(ctx, "CREATE TABLE t (a BIGINT)"); err != nil {
		t.Fatal(err)
	}
	n, err := w.Exec(ctx, "INSERT INTO t VALUES (1), (2), (3)")
	if err != nil || n != 3 {
		t.Fatalf("INSERT: %d, %v; want 3", n, err)
	}
	if _, err := w.Query(ctx, "SELECT nope FROM t"); err == nil {
		t.Fatal("query of a missing column succeeded")
	}
}

func FuzzQuoteString(f *testing.F) {
	for _, s := range warehousetest.HostileStrings() {
		f.Add(s)
	}
	f.Add("a\x00b")
	w := openMemory(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("DuckDB VARCHAR holds valid UTF-8 only")
		}
		warehousetest.CheckQuoteString(t, w, s)
	})
}

func FuzzQuoteIdent(f *testing.F) {
	for _, s := range warehousetest.HostileNames() {
		f.Add(s)
	}
	w := openMemory(f)
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" || !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			t.Skip("identifiers are non-empty, valid UTF-8 without NUL")
		}
		warehousetest.CheckQuoteIdent(t, w, s)
	})
}
