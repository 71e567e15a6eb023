package compiler

import (
	"github.com/cdpkit/cdp/program"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse/warehousetest"
)

func TestTraitCondOperators(t *testing.T) {
	d := ansiDialect{}
	asOf := d.TimestampLiteral(testAsOf)
	week := &models.Duration{N: 1, Unit: 'w', Text: "1w"}
	x := `p."x"`
	cases := []struct {
		op   string
		v    any
		want string
	}{
		{"eq", int64(5), `(p."x" IS NOT NULL AND p."x" = 5)`},
		{"eq", "FR", `(p."x" IS NOT NULL AND p."x" = 'FR')`},
		{"eq", true, `(p."x" IS NOT NULL AND p."x" = TRUE)`},
		{"eq", nil, `p."x" IS NULL`},
		{"ne", "a", `(p."x" IS NULL OR p."x" <> 'a')`},
		{"ne", nil, `p."x" IS NOT NULL`},
		{"gt", 1.5, `(p."x" IS NOT NULL AND p."x" > 1.5)`},
		{"gte", int64(500), `(p."x" IS NOT NULL AND p."x" >= 500)`},
		{"lt", int64(-3), `(p."x" IS NOT NULL AND p."x" < -3)`},
		{"lte", false, `(p."x" IS NOT NULL AND p."x" <= FALSE)`},
		{"gt", nil, `FALSE`},
		{"in", []any{"FR", "DE"}, `(p."x" IS NOT NULL AND p."x" IN ('FR', 'DE'))`},
		{"in", []any{"a", nil}, `(p."x" IS NULL OR p."x" IN ('a'))`},
		{"in", []any{nil}, `p."x" IS NULL`},
		{"in", []any{}, `FALSE`},
		{"in", "solo", `(p."x" IS NOT NULL AND p."x" IN ('solo'))`},
		{"not_in", []any{"a", int64(2)}, `(p."x" IS NULL OR p."x" NOT IN ('a', 2))`},
		{"not_in", []any{"a", nil}, `(p."x" IS NOT NULL AND p."x" NOT IN ('a'))`},
		{"not_in", []any{nil}, `p."x" IS NOT NULL`},
		{"not_in", []any{}, `TRUE`},
		{"contains", "o'k", `(p."x" IS NOT NULL AND CONTAINS(CAST(p."x" AS TEXT), 'o''k'))`},
		{"starts_with", "ab", `(p."x" IS NOT NULL AND STARTS_WITH(CAST(p."x" AS TEXT), 'ab'))`},
		{"ends_with", int64(42), `(p."x" IS NOT NULL AND ENDS_WITH(CAST(p."x" AS TEXT), '42'))`},
		{"contains", nil, `FALSE`},
		{"between", []any{int64(1), 9.5}, `(p."x" IS NOT NULL AND p."x" BETWEEN 1 AND 9.5)`},
		{"between", []any{int64(1)}, `FALSE`},
		{"between", []any{nil, int64(1)}, `FALSE`},
		{"is_set", true, `p."x" IS NOT NULL`},
		{"is_set", false, `p."x" IS NULL`},
		{"within", &models.Duration{N: 7, Unit: 'd', Text: "7d"}, `(p."x" IS NOT NULL AND p."x" >= (TIMESTAMP '2024-05-01 12:00:00' - INTERVAL '168 hours') AND p."x" <= TIMESTAMP '2024-05-01 12:00:00')`},
		{"within", models.Duration{N: 2, Unit: 'h', Text: "2h"}, `(p."x" IS NOT NULL AND p."x" >= (TIMESTAMP '2024-05-01 12:00:00' - INTERVAL '2 hours') AND p."x" <= TIMESTAMP '2024-05-01 12:00:00')`},
		{"within", "7d", `FALSE`},
		{"before", "2024-01-02", `(p."x" IS NOT NULL AND p."x" < TIMESTAMP '2024-01-02 00:00:00')`},
		{"after", "2024-01-02T03:04:05+02:00", `(p."x" IS NOT NULL AND p."x" > TIMESTAMP '2024-01-02 01:04:05')`},
		{"after", "2024-01-02 03:04:05", `(p."x" IS NOT NULL AND p."x" > TIMESTAMP '2024-01-02 03:04:05')`},
		{"after", time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), `(p."x" IS NOT NULL AND p."x" > TIMESTAMP '2023-01-01 00:00:00')`},
		{"before", week, `(p."x" IS NOT NULL AND p."x" < (TIMESTAMP '2024-05-01 12:00:00' - INTERVAL '168 hours'))`},
		{"before", "soon'; x", `(p."x" IS NOT NULL AND p."x" < 'soon''; x')`},
		{"before", int64(3), `FALSE`},
		{"matches", "x", `FALSE`},
	}
	for _, c := range cases {
		if got := traitCond(d, asOf, x, c.op, c.v); got != c.want {
			t.Errorf("%s %#v:\n got %s\nwant %s", c.op, c.v, got, c.want)
		}
	}
}

func TestSQLLiteral(t *testing.T) {
	d := ansiDialect{}
	cases := []struct {
		v    any
		want string
	}{
		{nil, "NULL"}, {"it's", "'it''s'"}, {true, "TRUE"}, {false, "FALSE"},
		{int64(-7), "-7"}, {3, "3"}, {uint64(8), "8"}, {0.25, "0.25"}, {1e21, "1e+21"},
		{math.NaN(), "NULL"}, {math.Inf(1), "NULL"},
		{[]any{"a"}, "'[a]'"},
	}
	for _, c := range cases {
		if got := sqlLiteral(d, c.v); got != c.want {
			t.Errorf("sqlLiteral(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
}

func TestHoldout(t *testing.T) {
	d := ansiDialect{}
	if got := holdoutSQL(d, `m."profile_id"`, &models.Segment{Name: "vip"}); got != "FALSE" {
		t.Errorf("no holdout: %s", got)
	}
	got := holdoutSQL(d, `m."profile_id"`, &models.Segment{Name: "vip", Holdout: 0.1})
	if want := `HASH_FRACTION(m."profile_id" || ':vip') < 0.1`; got != want {
		t.Errorf("10%% holdout:\n got %s\nwant %s", got, want)
	}
}

// vipSegment exercises every condition kind.
func vipSegment() *models.Segment {
	trait := func(name, op string, v any) *models.Condition {
		return &models.Condition{Kind: models.CondTrait, Trait: name, Op: op, Value: v}
	}
	return &models.Segment{Name: "vip_buyers", Holdout: 0.1, Where: &models.Condition{Kind: models.CondAll, Children: []*models.Condition{
		trait("lifetime_value", "gte", int64(500)),
		trait("city", "in", []any{"Paris", "Lyon"}),
		{Kind: models.CondEvent, Event: "order_completed", EventSource: "web", Count: &models.CountCond{Op: "gte", Value: 2},
			EventWithin: &models.Duration{N: 30, Unit: 'd', Text: "30d"}, EventWhere: "total > 20"},
		{Kind: models.CondNot, Children: []*models.Condition{{Kind: models.CondSegment, Segment: "churned"}}},
		{Kind: models.CondAny, Children: []*models.Condition{
			trait("email_opt_in", "eq", true),
			trait("last_seen_at", "within", &models.Duration{N: 7, Unit: 'd', Text: "7d"}),
			{Kind: models.CondNot, Children: []*models.Condition{{Kind: models.CondEvent, Event: "page_view", Count: &models.CountCond{Op: "eq", Value: 0}}}},
		}},
	}}}
}

func TestSegmentSQLSteps(t *testing.T) {
	steps := SegmentSQL(testProject(), testTables(), vipSegment(), testAsOf)
	var sqls []string
	for _, st := range program.Flatten(steps) {
		sqls = append(sqls, st.SQL)
	}
	if len(sqls) != 6 {
		t.Fatalf("want 6 statements, got %d:\n%s", len(sqls), strings.Join(sqls, ";\n"))
	}
	want := []string{
		"CREATE TABLE IF NOT EXISTS \"cdp\".\"customer_segments\" (\n  \"segment\" TEXT,\n  \"profile_id\" TEXT,\n  \"in_holdout\" BOOLEAN,\n  \"entered_at\" TIMESTAMP\n)",
		`DROP TABLE IF EXISTS "cdp"."customer__seg_vip_buyers"`,
		"", // the scratch query, checked below
		`DELETE FROM "cdp"."customer_segments" WHERE "segment" = 'vip_buyers'`,
		"INSERT INTO \"cdp\".\"customer_segments\" (\"segment\", \"profile_id\", \"in_holdout\", \"entered_at\")\n" +
			"SELECT 'vip_buyers', \"profile_id\", \"in_holdout\", \"entered_at\"\nFROM \"cdp\".\"customer__seg_vip_buyers\"",
		`DROP TABLE IF EXISTS "cdp"."customer__seg_vip_buyers"`,
	}
	for i, w := range want {
		if w != "" && sqls[i] != w {
			t.Errorf("statement %d:\n got %s\nwant %s", i, sqls[i], w)
		}
	}
	mustContain(t, sqls[2],
		"CREATE TABLE \"cdp\".\"customer__seg_vip_buyers\" AS\nWITH\n-- rows of source web with their profile\ns1 AS (",
		"-- event order_completed in web within 30d\nev1 AS (\n  SELECT \"_cdp_profile_id\", COUNT(*) AS \"_cdp_n\"\n  FROM s1\n"+
			"  WHERE \"event_name\" = 'order_completed'\n    AND \"_cdp_ts\" >= (TIMESTAMP '2024-05-01 12:00:00' - INTERVAL '720 hours')\n    AND \"_cdp_ts\" <= TIMESTAMP '2024-05-01 12:00:00'\n"+
			"    AND (total > 20)\n  GROUP BY \"_cdp_profile_id\"\n)",
		"-- event page_view in web\nev2 AS (",
		"  FROM \"cdp\".\"customer_profiles\" AS p\n  LEFT JOIN ev1 ON ev1.\"_cdp_profile_id\" = p.\"profile_id\"\n  LEFT JOIN ev2 ON ev2.\"_cdp_profile_id\" = p.\"profile_id\"\n",
		"  WHERE (\n"+
			"    (p.\"lifetime_value\" IS NOT NULL AND p.\"lifetime_value\" >= 500)\n"+
			"    AND (p.\"city\" IS NOT NULL AND p.\"city\" IN ('Paris', 'Lyon'))\n"+
			"    AND COALESCE(ev1.\"_cdp_n\", 0) >= 2\n"+
			"    AND NOT (p.\"profile_id\" IN (SELECT \"profile_id\" FROM \"cdp\".\"customer_segments\" WHERE \"segment\" = 'churned'))\n"+
			"    AND (\n"+
			"      (p.\"email_opt_in\" IS NOT NULL AND p.\"email_opt_in\" = TRUE)\n"+
			"      OR (p.\"last_seen_at\" IS NOT NULL AND p.\"last_seen_at\" >= (TIMESTAMP '2024-05-01 12:00:00' - INTERVAL '168 hours') AND p.\"last_seen_at\" <= TIMESTAMP '2024-05-01 12:00:00')\n"+
			"      OR NOT (COALESCE(ev2.\"_cdp_n\", 0) = 0)\n"+
			"    )\n"+
			"  )\n",
		"-- current members and when they entered\nprev AS (\n  SELECT \"profile_id\", \"entered_at\"\n  FROM \"cdp\".\"customer_segments\"\n  WHERE \"segment\" = 'vip_buyers'\n)",
		"SELECT\n  m.\"profile_id\",\n  HASH_FRACTION(m.\"profile_id\" || ':vip_buyers') < 0.1 AS \"in_holdout\",\n"+
			"  COALESCE(prev.\"entered_at\", TIMESTAMP '2024-05-01 12:00:00') AS \"entered_at\"\n"+
			"FROM members AS m\nLEFT JOIN prev ON prev.\"profile_id\" = m.\"profile_id\"",
	)
	if strings.Count(sqls[2], "s1 AS (") != 1 {
		t.Error("the event source should be mapped once and shared by both event conditions")
	}
}

func TestSegmentConditionEdges(t *testing.T) {
	p := testProject()
	query := func(c *models.Condition) string {
		return segmentQuery(p, testTables(), &models.Segment{Name: "s", Where: c}, testAsOf)
	}
	mustContain(t, query(nil), "  WHERE TRUE\n", "FALSE AS \"in_holdout\"")
	mustContain(t, query(&models.Condition{Kind: models.CondAny}), "  WHERE FALSE\n")
	mustContain(t, query(&models.Condition{Kind: models.CondAll}), "  WHERE TRUE\n")
	// default count (gte 1) and the only event stream as default source
	ev := query(&models.Condition{Kind: models.CondEvent, Event: "signup"})
	mustContain(t, ev, "-- event signup in web\n", `WHERE COALESCE(ev1."_cdp_n", 0) >= 1`)
	// an unknown event source compiles to FALSE without a CTE
	bad := query(&models.Condition{Kind: models.CondEvent, Event: "x", EventSource: "crm"})
	mustContain(t, bad, "  WHERE FALSE\n")
	if strings.Contains(bad, "ev1") {
		t.Error("no event CTE expected for a source without events")
	}
}

func TestSegmentDeterministicAndHostile(t *testing.T) {
	a := program.Flatten(SegmentSQL(testProject(), testTables(), vipSegment(), testAsOf))
	b := program.Flatten(SegmentSQL(testProject(), testTables(), vipSegment(), testAsOf))
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("statement %d differs between two compilations", i)
		}
	}

	evil := "vip'; DROP TABLE evil; --\n\""
	p := testProject()
	p.Sources = append(p.Sources, &models.Source{Name: evil, Event: evil,
		Identifiers: []*models.SourceIdentifier{{Column: evil, Type: evil}}})
	seg := &models.Segment{Name: evil, Holdout: 0.5, Where: &models.Condition{Kind: models.CondAll, Children: []*models.Condition{
		{Kind: models.CondTrait, Trait: evil, Op: "eq", Value: evil},
		{Kind: models.CondTrait, Trait: evil, Op: "in", Value: []any{evil, evil}},
		{Kind: models.CondTrait, Trait: evil, Op: "contains", Value: evil},
		{Kind: models.CondTrait, Trait: evil, Op: "before", Value: evil},
		{Kind: models.CondEvent, Event: evil, EventSource: evil, EventWithin: &models.Duration{N: 1, Unit: 'd', Text: evil}},
		{Kind: models.CondSegment, Segment: evil},
	}}}
	for _, n := range warehousetest.HostileNames() {
		var vals []any
		for _, v := range warehousetest.HostileStrings() {
			vals = append(vals, v)
		}
		seg.Where.Children = append(seg.Where.Children,
			&models.Condition{Kind: models.CondTrait, Trait: n, Op: "not_in", Value: vals},
			&models.Condition{Kind: models.CondTrait, Trait: n, Op: "ends_with", Value: n},
			&models.Condition{Kind: models.CondEvent, Event: n, EventSource: evil, Count: &models.CountCond{Op: "eq", Value: 0}},
			&models.Condition{Kind: models.CondSegment, Segment: n})
	}
	for _, tables := range []bool{false, true} {
		tt := testTables()
		if tables {
			tt.Schema, tt.Entity = evil, evil
		}
		for _, st := range program.Flatten(SegmentSQL(p, tt, seg, testAsOf)) {
			assertNoInjection(t, "-- "+st.Label+"\n"+st.SQL)
			if strings.Contains(st.Label, "\n") {
				t.Errorf("label spans lines: %q", st.Label)
			}
		}
	}
}

func TestNewlinesInsideQuotesSurviveIndentation(t *testing.T) {
	p := testProject()
	p.Traits = []*models.Trait{
		{Name: "new\nline", From: []models.ColumnRef{{Source: "crm", Column: "a\nb"}}, Where: "note = 'x\ny'"},
		{Name: "e", Expr: "CASE WHEN \"new\nline\" = 'p\nq' THEN 1 END"},
	}
	prof := program.Flatten(ProfilesSQL(p, testTables(), testAsOf))[1].SQL
	if strings.Contains(prof, "\x00") {
		t.Error("held newline left in the profiles SQL")
	}
	mustContain(t, prof, "\"a\nb\" AS \"_cdp_value\"", "(note = 'x\ny')", "CASE WHEN \"new\nline\" = 'p\nq' THEN 1 END", "\"new\nline\",\n")
	seg := &models.Segment{Name: "s\nt", Where: &models.Condition{Kind: models.CondAny, Children: []*models.Condition{
		{Kind: models.CondAll, Children: []*models.Condition{
			{Kind: models.CondTrait, Trait: "new\nline", Op: "eq", Value: "l1\nl2"},
			{Kind: models.CondTrait, Trait: "new\nline", Op: "contains", Value: "c1\nc2"},
		}},
		{Kind: models.CondEvent, Event: "ev\nent", EventWhere: "k = 'w\nz'"},
	}}}
	var all []string
	for _, st := range program.Flatten(SegmentSQL(p, testTables(), seg, testAsOf)) {
		all = append(all, st.SQL)
		if strings.Contains(st.SQL, "\x00") {
			t.Errorf("held newline left in:\n%s", st.SQL)
		}
	}
	mustContain(t, strings.Join(all, ";\n"),
		"      (p.\"new\nline\" IS NOT NULL AND p.\"new\nline\" = 'l1\nl2')\n",
		"CONTAINS(CAST(p.\"new\nline\" AS TEXT), 'c1\nc2')",
		"\"event_name\" = 'ev\nent'", "(k = 'w\nz')",
		"\"cdp\".\"customer__seg_s\nt\" AS\n", "WHERE \"segment\" = 's\nt'")
}
