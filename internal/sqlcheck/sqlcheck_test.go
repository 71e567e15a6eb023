package sqlcheck_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/internal/sqlcheck"
)

// TestCheckerFailsOnBrokenSQL proves the check can fail: a broken statement
// is reported with its name and the position of the error, and a good one
// next to it is not.
func TestCheckerFailsOnBrokenSQL(t *testing.T) {
	c := sqlcheck.ForTest(t)
	stmts := []sqlcheck.Statement{
		{Name: "good", SQL: `CREATE OR REPLACE TRANSIENT TABLE "CDP"."T" AS SELECT a FROM t QUALIFY ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) = 1`},
		{Name: "broken", SQL: "SELECT a,\n  b +\nFROM t"},
	}
	got, err := c.Check(context.Background(), "snowflake", stmts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("want exactly one finding (for broken), got %v", got)
	}
	f := got[0]
	if f.Name != "broken" || f.Parser != "polyglot" || f.Line != 3 || f.Col < 1 {
		t.Errorf("finding = %+v, want broken at line 3 from polyglot", f)
	}
	if ex := sqlcheck.Excerpt(stmts[1].SQL, f.Line, f.Col); !strings.Contains(ex, "FROM t") {
		t.Errorf("excerpt %q does not show the failing line", ex)
	}
}

// TestBigQueryUsesBothParsers checks hand-written BigQuery SQL with both
// parsers, and that a broken statement is reported by each of them.
func TestBigQueryUsesBothParsers(t *testing.T) {
	c := sqlcheck.ForTest(t)
	good := []sqlcheck.Statement{
		{Name: "ctas", SQL: "CREATE OR REPLACE TABLE `cdp`.`customer_profiles` AS SELECT profile_id, MAX(ts) AS last_seen FROM `cdp`.`customer__id_occ` GROUP BY profile_id"},
		{Name: "qualify", SQL: "SELECT k, v FROM `p.d.t` WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY k ORDER BY v) = 1"},
		{Name: "merge", SQL: "MERGE INTO `cdp`.`cdp_sync_state` AS st USING (SELECT 'a' AS k) AS s ON st.`key` = s.k WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT (`key`) VALUES (s.k)"},
		{Name: "string", SQL: `SELECT 'it\'s', r'\d+', REGEXP_CONTAINS(x, r'^a') FROM t`},
	}
	got, err := c.Check(context.Background(), "bigquery", good)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range got {
		t.Errorf("valid BigQuery refused: %s", f)
	}
	got, err = c.Check(context.Background(), "bigquery", []sqlcheck.Statement{{Name: "broken", SQL: "SELECT FROM WHERE"}})
	if err != nil {
		t.Fatal(err)
	}
	parsers := map[string]bool{}
	for _, f := range got {
		parsers[f.Parser] = true
	}
	if !parsers["polyglot"] || !parsers["sql-parser-cst"] {
		t.Errorf("broken BigQuery should fail both parsers, got %v", got)
	}
}

// TestBigQueryRulesBeyondGrammar: statements both parsers accept but
// BigQuery refuses (the emulator found each in compiled SQL) are reported
// at the offending clause; their valid spellings pass.
func TestBigQueryRulesBeyondGrammar(t *testing.T) {
	c := sqlcheck.ForTest(t)
	bad := []sqlcheck.Statement{
		{Name: "union", SQL: "SELECT a FROM t\nUNION SELECT b FROM u"},
		{Name: "nested union", SQL: "SELECT 1 FROM t WHERE a IN (SELECT a FROM u UNION SELECT b FROM u)"},
		{Name: "delete", SQL: "DELETE FROM `cdp`.`customer_watermarks`"},
		{Name: "update", SQL: "UPDATE t SET a = 1"},
	}
	got, err := c.Check(context.Background(), "bigquery", bad)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"union": "2:1", "nested union": "1:45", "delete": "1:1", "update": "1:1"}
	for _, f := range got {
		if f.Parser != "sql-parser-cst" {
			continue
		}
		if at := fmt.Sprintf("%d:%d", f.Line, f.Col); at != want[f.Name] {
			t.Errorf("%s: reported at %s, want %s: %s", f.Name, at, want[f.Name], f)
		}
		delete(want, f.Name)
	}
	for name := range want {
		t.Errorf("%s: BigQuery refuses it, the check passed it", name)
	}
	good := []sqlcheck.Statement{
		{Name: "union all", SQL: "SELECT DISTINCT a FROM (SELECT a FROM t UNION ALL SELECT b FROM u) AS x"},
		{Name: "union distinct", SQL: "SELECT a FROM t UNION DISTINCT SELECT b FROM u"},
		{Name: "delete", SQL: "DELETE FROM t WHERE TRUE"},
		{Name: "update", SQL: "UPDATE t SET a = 1 WHERE TRUE"},
	}
	if got, err = c.Check(context.Background(), "bigquery", good); err != nil {
		t.Fatal(err)
	}
	for _, f := range got {
		t.Errorf("valid BigQuery refused: %s", f)
	}
}

// TestUnmappedDialect: a dialect without parsers is not checked.
func TestUnmappedDialect(t *testing.T) {
	c := sqlcheck.ForTest(t)
	got, err := c.Check(context.Background(), "duckdb", []sqlcheck.Statement{{Name: "x", SQL: "not sql"}})
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v; want nothing", got, err)
	}
}

func TestExcerpt(t *testing.T) {
	if got, want := sqlcheck.Excerpt("a\nbcd", 2, 3), "  bcd\n    ^"; got != want {
		t.Errorf("Excerpt = %q, want %q", got, want)
	}
	if got := sqlcheck.Excerpt("a", 5, 1); got != "" {
		t.Errorf("Excerpt out of range = %q", got)
	}
}

// TestSnowflakeRefusesPostgresFunctions: polyglot alone accepts any
// function name and PostgreSQL's E'…' strings; the function list and the
// forbidden literal kinds catch them.
func TestSnowflakeRefusesPostgresFunctions(t *testing.T) {
	c := sqlcheck.ForTest(t)
	got, err := c.Check(context.Background(), "snowflake", []sqlcheck.Statement{
		{Name: "pg-func", SQL: "SELECT regexp_matches(a, 'x') FROM t"},
		{Name: "pg-escape", SQL: `SELECT E'a\\b' FROM t`},
		{Name: "ok", SQL: "SELECT REGEXP_INSTR(a, 'x'), DATEADD(hour, -3, ts), MD5(a) FROM t"},
	})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range got {
		names[f.Name] = true
	}
	if !names["pg-func"] || !names["pg-escape"] || names["ok"] {
		t.Errorf("findings = %v, want pg-func and pg-escape only", got)
	}
}
