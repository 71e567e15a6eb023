package compiler

import (
	"github.com/cdpkit/cdp/program"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse/warehousetest"
)

// ansiDialect quotes like ANSI SQL and renders every dialect function as a
// recognizable call. It exists only to test compiled text without a database.
type ansiDialect struct{}

func (ansiDialect) Name() string { return "ansi" }
func (ansiDialect) QuoteIdent(n string) string {
	return `"` + strings.ReplaceAll(n, `"`, `""`) + `"`
}
func (ansiDialect) QuoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
func (d ansiDialect) Table(schema, table string) string {
	return d.QuoteIdent(schema) + "." + d.QuoteIdent(table)
}
func (d ansiDialect) Relation(name string) string { return name }
func (ansiDialect) TypeName(t string) string {
	return map[string]string{models.TypeString: "TEXT", models.TypeInteger: "BIGINT", models.TypeNumber: "DOUBLE",
		models.TypeBoolean: "BOOLEAN", models.TypeTimestamp: "TIMESTAMP", models.TypeDate: "DATE"}[t]
}
func (ansiDialect) CastText(e string) string  { return "CAST(" + e + " AS TEXT)" }
func (d ansiDialect) Cast(e, t string) string { return "CAST(" + e + " AS " + d.TypeName(t) + ")" }
func (ansiDialect) TimestampLiteral(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05") + "'"
}
func (ansiDialect) SubtractHours(e string, h int) string {
	return "(" + e + " - INTERVAL '" + strconv.Itoa(h) + " hours')"
}
func (ansiDialect) RegexpMatch(e, p string) string         { return "REGEXP(" + e + ")" }
func (ansiDialect) RegexpReplaceAll(e, p, r string) string { return "REGEXP_REPLACE(" + e + ")" }
func (ansiDialect) RegexpMatchExpr(e, p string) string     { return "REGEXP(" + e + ", " + p + ")" }
func (ansiDialect) RegexpReplaceExpr(e, p, r string) string {
	return "REGEXP_REPLACE(" + e + ", " + p + ", " + r + ")"
}
func (ansiDialect) MD5Hex(e string) string       { return "MD5(" + e + ")" }
func (ansiDialect) SHA256Hex(e string) string    { return "SHA256(" + e + ")" }
func (ansiDialect) HashFraction(e string) string { return "HASH_FRACTION(" + e + ")" }
func (ansiDialect) ByteOrder(e string) string    { return "BYTES(" + e + ")" }
func (d ansiDialect) Contains(e, lit string) string {
	return "CONTAINS(" + e + ", " + d.QuoteString(lit) + ")"
}
func (d ansiDialect) StartsWith(e, lit string) string {
	return "STARTS_WITH(" + e + ", " + d.QuoteString(lit) + ")"
}
func (d ansiDialect) EndsWith(e, lit string) string {
	return "ENDS_WITH(" + e + ", " + d.QuoteString(lit) + ")"
}
func (d ansiDialect) CreateSchema(s string) string {
	return "CREATE SCHEMA IF NOT EXISTS " + d.QuoteIdent(s)
}
func (ansiDialect) CreateView(v, q string) []string {
	return []string{"CREATE OR REPLACE VIEW " + v + " AS\n" + q}
}
func (ansiDialect) DropTable(t string) string    { return "DROP TABLE IF EXISTS " + t }
func (ansiDialect) Trim(expr string) string      { return "TRIM(" + expr + ")" }
func (ansiDialect) TrimSpace(expr string) string { return "TRIM(" + expr + ")" }
func (ansiDialect) Lower(expr string) string     { return "LOWER(" + expr + ")" }

func (ansiDialect) PrimaryKey(cols []string) string {
	return "PRIMARY KEY (" + strings.Join(cols, ", ") + ")"
}
func (ansiDialect) UpdateFrom(target, column, value, source, cond string) string {
	return "UPDATE " + target + " SET " + column + " = " + value + " FROM " + source + " WHERE " + cond
}
func (ansiDialect) CreateTableAs(t, q string) []string {
	return []string{"DROP TABLE IF EXISTS " + t, "CREATE TABLE " + t + " AS\n" + q}
}

var testAsOf = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func testTables() layout.Tables {
	return layout.Tables{D: ansiDialect{}, Schema: "cdp", Entity: "customer"}
}

// testProject has one source of each kind and a trait of every kind.
func testProject() *models.Project {
	p := &models.Project{Name: "retail", Entity: "customer"}
	p.Identity = &models.Identity{}
	for i, n := range []string{"user_id", "email", "phone", "anonymous_id"} {
		p.Identity.IDTypes = append(p.Identity.IDTypes, &models.IDType{Name: n, Rank: i})
	}
	p.Sources = []*models.Source{
		{Name: "crm", Table: "raw.crm", Timestamp: "updated_at", Identifiers: []*models.SourceIdentifier{
			{Column: "phone", Type: "phone"}, {Column: "email", Type: "email"}}},
		{Name: "shop", Table: "raw.shop", Identifiers: []*models.SourceIdentifier{{Column: "email", Type: "email"}}},
		{Name: "orders", Table: "raw.orders", Timestamp: "ordered_at", PrimaryKey: "order_id",
			Identifiers: []*models.SourceIdentifier{{Column: "user_id", Type: "user_id"}}},
		{Name: "web", Table: "raw.web", Timestamp: "ts", Event: "event_name", Identifiers: []*models.SourceIdentifier{
			{Column: "anonymous_id", Type: "anonymous_id"}, {Column: "user_id", Type: "user_id"}}},
	}
	ref := func(s, c string) []models.ColumnRef { return []models.ColumnRef{{Source: s, Column: c}} }
	p.Traits = []*models.Trait{
		{Name: "email", From: ref("crm", "email"), Pick: models.PickLatest},
		{Name: "first_name", From: []models.ColumnRef{{Source: "crm", Column: "first_name"}, {Source: "shop", Column: "first_name"}}, Pick: models.PickLatest},
		{Name: "signup_at", From: ref("crm", "created_at"), Pick: models.PickEarliest},
		{Name: "city", From: ref("shop", "city"), Pick: models.PickMostFrequent},
		{Name: "max_score", From: ref("crm", "score"), Pick: models.PickMax},
		{Name: "min_score", From: ref("crm", "score"), Pick: models.PickMin},
		{Name: "any_tag", From: ref("crm", "tag"), Pick: models.PickAny},
		{Name: "is_vip", Expr: "lifetime_value >= 1000 AND \"orders_90d\" > 0", Type: models.TypeBoolean},
		{Name: "lifetime_value", From: ref("orders", "amount"), Aggregate: models.AggSum, Where: "status = 'paid'"},
		{Name: "orders_90d", From: []models.ColumnRef{{Source: "orders"}}, Aggregate: models.AggCount, Within: &models.Duration{N: 90, Unit: 'd', Text: "90d"}},
		{Name: "order_count", From: []models.ColumnRef{{Source: "orders"}}, Aggregate: models.AggCountDistinct},
		{Name: "avg_amount", From: ref("orders", "amount"), Aggregate: models.AggAvg, Type: models.TypeNumber},
		{Name: "last_seen_at", From: ref("web", "ts"), Aggregate: models.AggMax},
		{Name: "tier", Expr: "CASE WHEN is_vip THEN 'gold' ELSE 'is_vip' END"},
	}
	return p
}

func profileSQL(t *testing.T, p *models.Project) string {
	t.Helper()
	steps := program.Flatten(ProfilesSQL(p, testTables(), testAsOf))
	if len(steps) != 2 {
		t.Fatalf("want the dialect's two CREATE TABLE AS statements, got %d steps", len(steps))
	}
	if want := "CREATE TABLE \"cdp\".\"customer_profiles\" AS\n"; !strings.HasPrefix(steps[1].SQL, want) {
		t.Fatalf("statement does not start with %q:\n%s", want, steps[1].SQL)
	}
	return steps[1].SQL
}

func mustContain(t *testing.T, sql string, parts ...string) {
	t.Helper()
	for _, part := range parts {
		if !strings.Contains(sql, part) {
			t.Errorf("SQL lacks %q", part)
		}
	}
	if t.Failed() {
		t.Logf("SQL:\n%s", sql)
	}
}

func TestMappedSourcePriority(t *testing.T) {
	p := testProject()
	got := MappedSource(p, testTables(), p.Source("web"))
	want := `SELECT v.*, COALESCE(i1."profile_id", i0."profile_id") AS "_cdp_profile_id"
FROM "cdp"."customer_src_web" AS v
LEFT JOIN "cdp"."customer_identifiers" AS i1
  ON i1."id_type" = 'user_id' AND i1."id_value" = v."_cdp_id_1"
LEFT JOIN "cdp"."customer_identifiers" AS i0
  ON i0."id_type" = 'anonymous_id' AND i0."id_value" = v."_cdp_id_0"
WHERE COALESCE(i1."profile_id", i0."profile_id") IS NOT NULL`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	single := MappedSource(p, testTables(), p.Source("shop"))
	mustContain(t, single, `SELECT v.*, i0."profile_id" AS "_cdp_profile_id"`, `WHERE i0."profile_id" IS NOT NULL`)
	none := MappedSource(p, testTables(), &models.Source{Name: "bare"})
	mustContain(t, none, `CAST(NULL AS TEXT) AS "_cdp_profile_id"`, "WHERE 1 = 0")
}

func TestProfilesSQLPicksAndAggregates(t *testing.T) {
	sql := profileSQL(t, testProject())
	ts := `"_cdp_ts"`
	mustContain(t, sql,
		// one mapped CTE per source, in first-use order
		"-- rows of source crm with their profile\ns1 AS (",
		"-- rows of source shop with their profile\ns2 AS (",
		// latest / earliest: order by timestamp, NULLs last, then byte order
		"-- trait email: latest of crm.email\nt1 AS (",
		`ORDER BY (`+ts+` IS NULL), `+ts+` DESC, BYTES(CAST("email" AS TEXT))`,
		`WHERE "email" IS NOT NULL`,
		`ORDER BY (`+ts+` IS NULL), `+ts+` ASC, BYTES(CAST("created_at" AS TEXT))`,
		`WHERE "_cdp_rn" = 1`,
		// source priority
		"-- trait first_name: latest of crm.first_name (source priority 1)\nt2_1 AS (",
		"-- trait first_name: latest of shop.first_name (source priority 2)\nt2_2 AS (",
		`COALESCE(t2_1."_cdp_value", t2_2."_cdp_value") AS "first_name"`,
		// most frequent: count, then latest, then byte order
		`COUNT(*) AS "_cdp_n", MAX("_cdp_ts") AS "_cdp_last_ts"`,
		`ORDER BY "_cdp_n" DESC, ("_cdp_last_ts" IS NULL), "_cdp_last_ts" DESC, BYTES(CAST("_cdp_value" AS TEXT))`,
		`GROUP BY "_cdp_profile_id", "city"`,
		// max / min use the column's own order; any uses byte order only
		`SELECT "_cdp_profile_id", MAX("score") AS "_cdp_value"`,
		`SELECT "_cdp_profile_id", MIN("score") AS "_cdp_value"`,
		"ORDER BY BYTES(CAST(\"tag\" AS TEXT))\n",
		// aggregates with where, within, defaults and casts
		`SUM("amount") AS "_cdp_value"`,
		"WHERE (status = 'paid')",
		`WHERE `+ts+` >= (TIMESTAMP '2024-05-01 12:00:00' - INTERVAL '2160 hours')`,
		`COALESCE(t10."_cdp_value", 0) AS "orders_90d"`,
		`COUNT(DISTINCT "order_id") AS "_cdp_value"`,
		`COALESCE(t11."_cdp_value", 0) AS "order_count"`,
		`t9."_cdp_value" AS "lifetime_value"`,
		`CAST(t12."_cdp_value" AS DOUBLE) AS "avg_amount"`,
		// every profile of the identifiers table
		"SELECT DISTINCT \"profile_id\"\n    FROM \"cdp\".\"customer_identifiers\"",
		`LEFT JOIN t2_2 ON t2_2."_cdp_profile_id" = p."profile_id"`,
		`TIMESTAMP '2024-05-01 12:00:00' AS "updated_at"`,
	)
	// the final column order follows p.Traits
	tail := sql[strings.LastIndex(sql, "\nSELECT\n"):]
	var names []string
	for _, tr := range testProject().Traits {
		names = append(names, `  "`+tr.Name+`"`)
	}
	want := "\nSELECT\n  \"profile_id\",\n" + strings.Join(names, ",\n") + ",\n  TIMESTAMP '2024-05-01 12:00:00' AS \"updated_at\"\nFROM x2"
	if tail != want {
		t.Errorf("final select:\n%s\nwant:\n%s", tail, want)
	}
}

func TestProfilesWithoutTraits(t *testing.T) {
	p := testProject()
	p.Traits = nil
	want := "CREATE TABLE \"cdp\".\"customer_profiles\" AS\nWITH\n" +
		"-- every profile with its source-based traits\nbase AS (\n" +
		"  SELECT\n    p.\"profile_id\"\n  FROM (\n    SELECT DISTINCT \"profile_id\"\n    FROM \"cdp\".\"customer_identifiers\"\n  ) AS p\n)\n" +
		"SELECT\n  \"profile_id\",\n  TIMESTAMP '2024-05-01 12:00:00' AS \"updated_at\"\nFROM base"
	if got := profileSQL(t, p); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestExprLayers(t *testing.T) {
	p := testProject()
	p.Traits = append(p.Traits,
		&models.Trait{Name: "c", Expr: "lifetime_value * 2"},
		&models.Trait{Name: "a", Expr: "b + c -- uses d in a comment"},
		&models.Trait{Name: "b", Expr: "c + 1"},
		&models.Trait{Name: "self", Expr: "self_count + 1"},
	)
	var got []string
	for _, layer := range exprLayers(p.Traits) {
		var names []string
		for _, tr := range layer {
			names = append(names, tr.Name)
		}
		got = append(got, strings.Join(names, ","))
	}
	want := []string{"is_vip,c,self", "tier,b", "a"}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("layers = %v, want %v", got, want)
	}
	sql := profileSQL(t, p)
	mustContain(t, sql,
		"-- expression traits, layer 1\nx1 AS (\n  SELECT\n    *,\n    CAST((lifetime_value >= 1000 AND \"orders_90d\" > 0) AS BOOLEAN) AS \"is_vip\",\n    (lifetime_value * 2) AS \"c\",",
		"FROM base\n)",
		"-- expression traits, layer 2\nx2 AS (",
		"    (c + 1) AS \"b\"\n  FROM x1\n)",
		"    (b + c -- uses d in a comment\n    ) AS \"a\"\n  FROM x2\n)",
		"\nFROM x3",
	)
	// a cycle (rejected by validation) still compiles to a last layer
	cyc := []*models.Trait{{Name: "u", Expr: "v"}, {Name: "v", Expr: "u"}, {Name: "w", Expr: "1"}}
	if layers := exprLayers(cyc); len(layers) != 2 || len(layers[0]) != 1 || layers[0][0].Name != "w" || len(layers[1]) != 2 {
		t.Errorf("cycle layers = %v", layers)
	}
}

func TestExprRefs(t *testing.T) {
	got := strings.Join(exprRefs(`a+"b c"  * 'd''e' -- f`+"\n"+`g_1 >= 'x'`), ",")
	if want := "a,b c,g_1"; got != want {
		t.Errorf("exprRefs = %s, want %s", got, want)
	}
}

func TestProfilesDeterministic(t *testing.T) {
	a := program.Flatten(ProfilesSQL(testProject(), testTables(), testAsOf))
	for i := 0; i < 5; i++ {
		b := program.Flatten(ProfilesSQL(testProject(), testTables(), testAsOf))
		if len(a) != len(b) {
			t.Fatal("step counts differ")
		}
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("run %d differs at step %d", i, j)
			}
		}
	}
}

func TestProfilesHostileNames(t *testing.T) {
	evil := "x\"; DROP TABLE evil; --\n'"
	p := testProject()
	p.Sources = append(p.Sources, &models.Source{Name: evil, Timestamp: evil, PrimaryKey: evil,
		Identifiers: []*models.SourceIdentifier{{Column: evil, Type: evil}}})
	p.Traits = []*models.Trait{
		{Name: evil, From: []models.ColumnRef{{Source: evil, Column: evil}}},
		{Name: evil + "2", From: []models.ColumnRef{{Source: evil}}, Aggregate: models.AggCountDistinct, Within: &models.Duration{N: 1, Unit: 'h', Text: evil}},
		{Name: evil + "3", From: []models.ColumnRef{{Source: evil, Column: evil}}, Pick: models.PickMostFrequent},
	}
	steps := ProfilesSQL(p, layout.Tables{D: ansiDialect{}, Schema: evil, Entity: evil}, testAsOf)
	for _, st := range program.Flatten(steps) {
		assertNoInjection(t, "-- "+st.Label+"\n"+st.SQL)
		if strings.Contains(st.Label, "\n") {
			t.Errorf("label spans lines: %q", st.Label)
		}
	}
}

func TestProfilesHostileSuiteNames(t *testing.T) {
	p := testProject()
	p.Traits = nil
	for _, n := range warehousetest.HostileNames() {
		p.Traits = append(p.Traits,
			&models.Trait{Name: n, From: []models.ColumnRef{{Source: "crm", Column: n}}, Where: "1 = 1"},
			&models.Trait{Name: n + "_n", From: []models.ColumnRef{{Source: n, Column: n}}, Aggregate: models.AggCount})
	}
	for _, st := range program.Flatten(ProfilesSQL(p, testTables(), testAsOf)) {
		assertNoInjection(t, "-- "+st.Label+"\n"+st.SQL)
	}
}

// assertNoInjection fails when the text of sql outside string literals,
// quoted identifiers and line comments holds a statement separator or the
// hostile payload.
func assertNoInjection(t *testing.T, sql string) {
	t.Helper()
	var out strings.Builder
	for i := 0; i < len(sql); {
		switch c := sql[i]; {
		case c == '\'' || c == '"':
			j := i + 1
			for ; j < len(sql); j++ {
				if sql[j] == c {
					if j+1 < len(sql) && sql[j+1] == c {
						j++
						continue
					}
					break
				}
			}
			if j >= len(sql) {
				t.Fatalf("unterminated quote at %d in:\n%s", i, sql)
			}
			out.WriteString("Q")
			i = j + 1
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		default:
			out.WriteByte(c)
			i++
		}
	}
	bare := out.String()
	if strings.Contains(bare, ";") || strings.Contains(bare, "evil") || strings.Contains(strings.ToLower(bare), "drop table x") ||
		strings.Contains(bare, "users") {
		t.Errorf("hostile text escaped quoting:\n%s\nfrom:\n%s", bare, sql)
	}
}
