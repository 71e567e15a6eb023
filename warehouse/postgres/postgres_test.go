package postgres_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/postgres"
	"github.com/cdpkit/cdp/warehouse/warehousetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t testing.TB) *postgres.Warehouse {
	t.Helper()
	w, err := postgres.Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func TestConformance(t *testing.T) {
	t.Parallel()
	warehousetest.RunDialectSuite(t, open(t))
}

func TestRendering(t *testing.T) {
	d := postgres.Dialect{}
	ts := time.Date(2024, 5, 1, 13, 4, 5, 123456789, time.FixedZone("x", 3600))
	for _, c := range []struct{ got, want string }{
		{d.QuoteIdent(`a"b`), `"a""b"`},
		{d.QuoteString(`it's`), `'it''s'`},
		{d.QuoteString(`it's \ fine`), `E'it''s \\ fine'`},
		{d.QuoteString("a\x00b"), `('a' || chr(0) || 'b')`},
		{d.Table("raw", "crm"), `"raw"."crm"`},
		{d.Relation("raw.CRM_contacts"), `"raw"."CRM_contacts"`},
		{d.TimestampLiteral(ts), `TIMESTAMP '2024-05-01 12:04:05.123456'`},
		{d.SubtractHours("ts", 48), `(ts - INTERVAL '48 hours')`},
		{d.RegexpMatch("v", `^a`), `(v ~ '^a')`},
		{d.RegexpMatch("v", `\d`), `(v ~ E'\\d')`},
		{d.RegexpReplaceAll("v", "a", "b"), `regexp_replace(v, 'a', 'b', 'g')`},
		{d.SHA256Hex("v"), `encode(sha256(convert_to(v, 'UTF8')), 'hex')`},
		{d.HashFraction("v"), `(CAST(CAST(('x' || substr(md5(v), 1, 8)) AS bit(32)) AS bigint) / CAST(4294967296 AS double precision))`},
		{d.ByteOrder("v"), `(v COLLATE "C")`},
		{d.Contains("v", "50%_"), `(strpos(v, '50%_') > 0)`},
		{d.StartsWith("v", "a'"), `starts_with(v, 'a''')`},
		{d.EndsWith("v", "zé🎉"), `(right(v, 3) = 'zé🎉')`},
		{d.Cast("x", models.TypeNumber), `CAST(x AS DOUBLE PRECISION)`},
		{d.CastText("x"), `CAST(x AS TEXT)`},
		{strings.Join(d.CreateTableAs(`"t"`, "SELECT 1"), ";"), `DROP TABLE IF EXISTS "t";CREATE TABLE "t" AS SELECT 1`},
		{strings.Join(d.CreateView(`"v"`, "SELECT 1"), ";"), `DROP VIEW IF EXISTS "v";CREATE VIEW "v" AS SELECT 1`},
	} {
		if c.got != c.want {
			t.Errorf("got  %s\nwant %s", c.got, c.want)
		}
	}
	for typ, want := range map[string]string{
		models.TypeString: "TEXT", models.TypeInteger: "BIGINT", models.TypeNumber: "DOUBLE PRECISION",
		models.TypeBoolean: "BOOLEAN", models.TypeTimestamp: "TIMESTAMP", models.TypeDate: "DATE",
	} {
		if got := d.TypeName(typ); got != want {
			t.Errorf("TypeName(%s) = %s, want %s", typ, got, want)
		}
	}
}

// TestServerFacts pins the engine behaviour the dialect relies on.
func TestServerFacts(t *testing.T) {
	t.Parallel()
	w := open(t)
	ctx := context.Background()
	one := func(q string, dest any) {
		t.Helper()
		rows, err := w.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		if !rows.Next() {
			t.Fatalf("%s: no row (%v)", q, rows.Err())
		}
		if err := rows.Scan(dest); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var n int64
	one(`SELECT CAST(x'ffffffff' AS bigint)`, &n)
	if n != 4294967295 {
		t.Errorf("bit(32) to bigint = %d, want 4294967295 (unsigned)", n)
	}
	// The test server's default collation is linguistic, so ByteOrder matters.
	var lt bool
	one(`SELECT 'B' < 'a'`, &lt)
	if lt {
		t.Log("default collation is byte order; the ByteOrder conformance test is weaker here")
	}
	// With standard_conforming_strings off, E'' literals still read the same.
	err := w.WithConn(ctx, func(c *pgx.Conn) error {
		if _, err := c.Exec(ctx, "SET standard_conforming_strings = off"); err != nil {
			return err
		}
		var s string
		if err := c.QueryRow(ctx, "SELECT "+postgres.Dialect{}.QuoteString(`a\b'c`)).Scan(&s); err != nil {
			return err
		}
		if s != `a\b'c` {
			t.Errorf("with standard_conforming_strings off: got %q", s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// NUL bytes are refused with a clear error, never sent or stored.
	_, err = w.Exec(ctx, "SELECT "+postgres.Dialect{}.QuoteString("a\x00b"))
	if err == nil || !strings.Contains(err.Error(), "null character") {
		t.Errorf("NUL literal: got %v, want a null character error", err)
	}
}

func TestRowsScan(t *testing.T) {
	t.Parallel()
	w := open(t)
	ctx := context.Background()
	rows, err := w.Query(ctx, `SELECT 42::bigint, 7::int, '12'::text, 1.5::numeric, NULL::text, now()::date, '{"a":1}'::json`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	var (
		asText  string
		asInt   int64
		fromTxt int
		num     float64
		null    sql.NullString
		nullPtr *string
		day     time.Time
		anyJSON any
	)
	if err := rows.Scan(&asText, &asInt, &fromTxt, &num, &null, &day, &anyJSON); err != nil {
		t.Fatal(err)
	}
	if asText != "42" || asInt != 7 || fromTxt != 12 || num != 1.5 || null.Valid || day.IsZero() || anyJSON != `{"a":1}` {
		t.Errorf("scanned %q %d %d %v %v %v %#v", asText, asInt, fromTxt, num, null, day, anyJSON)
	}
	if err := rows.Scan(&asText, &asInt, &fromTxt, &num, &nullPtr, &day, &anyJSON); err != nil || nullPtr != nil {
		t.Errorf("scan NULL into **string: %v, %v", nullPtr, err)
	}
	if err := rows.Scan(&asText, &asInt, &fromTxt, &num, &asText, &day, &anyJSON); err == nil {
		t.Error("scanning NULL into *string succeeded")
	}
	if rows.Next() {
		t.Fatal("second row")
	}
	if _, err := w.Query(ctx, "SELECT nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("bad query: got %v", err)
	}
	n, err := w.Exec(ctx, "CREATE TABLE t AS SELECT generate_series(1, 5) AS x")
	if err != nil || n != 5 {
		t.Errorf("CREATE TABLE AS: %d, %v; want 5", n, err)
	}
	if n, err := w.Exec(ctx, "CREATE INDEX ON t (x)"); err != nil || n != -1 {
		t.Errorf("CREATE INDEX: %d, %v; want -1", n, err)
	}
	// Query inside an open result uses a second connection.
	outer, err := w.Query(ctx, "SELECT x FROM t ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	defer outer.Close()
	for outer.Next() {
		if _, err := w.Exec(ctx, "UPDATE t SET x = x"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenTarget(t *testing.T) {
	ctx := context.Background()
	_, err := warehouse.Open(ctx, &models.Target{Name: "pg", Type: "postgres", Settings: map[string]string{}}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "dsn") {
		t.Fatalf("missing dsn: got %v", err)
	}
	w, err := warehouse.Open(ctx, &models.Target{Name: "pg", Type: "postgres", Settings: map[string]string{"dsn": pgtest.DSN(t)}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Dialect().Name() != "postgres" {
		t.Fatalf("dialect %s", w.Dialect().Name())
	}
}

func FuzzQuoteString(f *testing.F) {
	for _, s := range warehousetest.HostileStrings() {
		f.Add(s)
	}
	w := open(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			t.Skip("PostgreSQL text holds valid UTF-8 without NUL bytes")
		}
		warehousetest.CheckQuoteString(t, w, s)
	})
}

func FuzzQuoteIdent(f *testing.F) {
	for _, s := range warehousetest.HostileNames() {
		f.Add(s)
	}
	w := open(f)
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" || len(s) > postgres.MaxIdentifierBytes || !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			t.Skip("identifiers are 1-63 bytes of valid UTF-8 without NUL")
		}
		warehousetest.CheckQuoteIdent(t, w, s)
	})
}
