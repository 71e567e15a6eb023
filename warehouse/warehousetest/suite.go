package warehousetest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/warehouse"
)

// Schema is the plain schema the suite works in; HostileSchema is a second
// one whose name needs quoting.
const (
	Schema        = "cdp_suite"
	HostileSchema = `cdp "suite"; drop--/*x*/ ü`
)

// Options adapts the suite to an engine's documented limits. The zero value
// runs everything with HostileSchema and HostileNames.
type Options struct {
	// HostileSchema, when set, replaces HostileSchema, for engines whose
	// schema names allow fewer characters (BigQuery datasets: letters,
	// digits and underscores).
	HostileSchema string
	// KeepName, when set, keeps only the HostileNames an engine accepts as
	// column and table names.
	KeepName func(name string) bool
	// Skip maps subtest names to the reason they are skipped: a documented
	// gap of the engine or of its emulator.
	Skip map[string]string
}

// RunDialectSuite runs the conformance suite against w, an open connection to
// a real engine with an empty or previous-suite database. It creates the
// schemas Schema and HostileSchema and tables inside them.
func RunDialectSuite(t *testing.T, w warehouse.Warehouse) { RunDialectSuiteWith(t, w, Options{}) }

// RunDialectSuiteWith runs the suite with options.
func RunDialectSuiteWith(t *testing.T, w warehouse.Warehouse, o Options) {
	if o.HostileSchema == "" {
		o.HostileSchema = HostileSchema
	}
	d := w.Dialect()
	mustExec(t, w, d.CreateSchema(Schema), d.CreateSchema(Schema), d.CreateSchema(o.HostileSchema))
	for _, c := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"QuoteStringRoundTrip", func(t *testing.T) { testQuoteString(t, w, o) }},
		{"QuoteIdentColumns", func(t *testing.T) { testQuoteIdentColumns(t, w, o) }},
		{"QuoteIdentTables", func(t *testing.T) { testQuoteIdentTables(t, w, o) }},
		{"Relation", func(t *testing.T) { testRelation(t, w) }},
		{"TypesAndCasts", func(t *testing.T) { testTypesAndCasts(t, w) }},
		{"SubstringTests", func(t *testing.T) { testSubstrings(t, w) }},
		{"Regexp", func(t *testing.T) { testRegexp(t, w) }},
		{"RegexpReplaceEscapes", func(t *testing.T) { testRegexpReplaceEscapes(t, w) }},
		{"HashFraction", func(t *testing.T) { testHash(t, w) }},
		{"SHA256Hex", func(t *testing.T) { testSHA256(t, w) }},
		{"ByteOrder", func(t *testing.T) { testByteOrder(t, w) }},
		{"Timestamps", func(t *testing.T) { testTimestamps(t, w) }},
		{"ReplaceTablesAndViews", func(t *testing.T) { testReplace(t, w) }},
		{"BulkLoader", func(t *testing.T) { testBulkLoader(t, w, o) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			if why, ok := o.Skip[c.name]; ok {
				t.Skip(why)
			}
			c.fn(t)
		})
	}
}

// names returns the hostile names the engine accepts.
func (o Options) names() []string {
	var out []string
	for _, n := range HostileNames() {
		if o.KeepName == nil || o.KeepName(n) {
			out = append(out, n)
		}
	}
	return out
}

// HostileStrings are string values that break naive quoting; they also seed
// the fuzz targets of dialect packages. None holds a NUL byte.
func HostileStrings() []string {
	return []string{
		"", " ", "plain", "it's", "''", "'", `say "hi"`, `"`, `\`, `\'`, `\\'`, `'\`,
		`back\slash\n`, `'; DROP TABLE users; --`, "-- comment", "/* block */", "*/",
		"semi;colon", "line1\nline2", "crlf\r\n", "tab\tx", "ünïcödé", "日本語テキスト",
		"emoji 🎉👍🏽", "%", "_", "%_%", `\%`, "50% off_now", "$$dollar$$", "$tag$x$tag$",
		"E'x'", "?", "$1", ":name", "@var", "{}[]()", "ʼunicode apostropheʼ",
		"ends with quote'", "'starts with quote", "mañana@example.com", "NULL", "null",
		strings.Repeat("long'\"\\; ", 2000),
	}
}

// HostileNames are identifiers that need quoting. They are at most 63 bytes
// (PostgreSQL's limit), differ in more than case (DuckDB ignores case), and
// avoid PostgreSQL's system column names.
func HostileNames() []string {
	return []string{
		"select", "order", "user", "group by", "from", `a"b`, `"`, `""x""`, "it's",
		"semi;colon", "dash--dash", "/* c */", `back\slash`, "new\nline", "tab\tname",
		"  spaces  ", "Mixed Case", "ünïcödé", "emoji 🎉", "日本語", "$1", "?", "%s",
		"null", "123digits", ".", "a.b", "'); drop table x; --",
		strings.Repeat("x", 60) + "end",
	}
}

// ctx is the context of every suite statement.
func ctx() context.Context { return context.Background() }

func mustExec(t testing.TB, w warehouse.Warehouse, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := w.Exec(ctx(), s); err != nil {
			t.Fatalf("exec failed: %v\nSQL: %s", err, clip(s))
		}
	}
}

// queryRows runs q and scans each row into fresh destinations from newDest.
func queryRows(t testing.TB, w warehouse.Warehouse, q string, newDest func() []any) [][]any {
	t.Helper()
	rows, err := w.Query(ctx(), q)
	if err != nil {
		t.Fatalf("query failed: %v\nSQL: %s", err, clip(q))
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		dest := newDest()
		if err := rows.Scan(dest...); err != nil {
			t.Fatalf("scan failed: %v\nSQL: %s", err, clip(q))
		}
		out = append(out, dest)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("rows failed: %v\nSQL: %s", err, clip(q))
	}
	return out
}

// queryString returns the single text value of q.
func queryString(t testing.TB, w warehouse.Warehouse, q string) string {
	t.Helper()
	rows := queryRows(t, w, q, func() []any { return []any{new(string)} })
	if len(rows) != 1 {
		t.Fatalf("want 1 row, got %d\nSQL: %s", len(rows), clip(q))
	}
	return *rows[0][0].(*string)
}

// insertValues fills table (id BIGINT, v text) with vals in batches.
func insertValues(t testing.TB, w warehouse.Warehouse, table string, vals []string) {
	t.Helper()
	d := w.Dialect()
	mustExec(t, w, d.DropTable(table),
		"CREATE TABLE "+table+" (id "+d.TypeName("integer")+", v "+d.TypeName("string")+")")
	for start := 0; start < len(vals); start += 200 {
		end := min(start+200, len(vals))
		var tuples []string
		for i := start; i < end; i++ {
			tuples = append(tuples, "("+strconv.Itoa(i)+", "+d.QuoteString(vals[i])+")")
		}
		mustExec(t, w, "INSERT INTO "+table+" (id, v) VALUES "+strings.Join(tuples, ", "))
	}
}

// clip shortens SQL for failure messages.
func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// CheckQuoteString fails t unless SELECT <QuoteString(s)> returns s exactly.
func CheckQuoteString(t testing.TB, w warehouse.Warehouse, s string) {
	t.Helper()
	q := "SELECT " + w.Dialect().QuoteString(s) + " AS v"
	if got := queryString(t, w, q); got != s {
		t.Fatalf("QuoteString round trip: got %q, want %q\nSQL: %s", got, s, clip(q))
	}
}

// CheckQuoteIdent fails t unless a column aliased QuoteIdent(name) comes back
// named exactly name.
func CheckQuoteIdent(t testing.TB, w warehouse.Warehouse, name string) {
	t.Helper()
	q := "SELECT 1 AS " + w.Dialect().QuoteIdent(name)
	rows, err := w.Query(ctx(), q)
	if err != nil {
		t.Fatalf("query failed: %v\nSQL: %s", err, clip(q))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) != 1 || cols[0] != name {
		t.Fatalf("QuoteIdent round trip: got columns %q, want [%q]\nSQL: %s", cols, name, clip(q))
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// utc builds a UTC time with microseconds.
func utc(y int, mo time.Month, d, h, mi, s, us int) time.Time {
	return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC)
}
