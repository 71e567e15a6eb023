//go:build cgo

package compiler

import (
	"context"
	"fmt"
	"github.com/cdpkit/cdp/program"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
	_ "github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/warehousetest"
)

// duckFixture is an in-memory DuckDB holding hand-made source views and an
// identifiers table, as the source and identity nodes would leave them.
type duckFixture struct {
	t   *testing.T
	w   warehouse.Warehouse
	p   *models.Project
	tab layout.Tables
}

// Known data. Profiles: P1 (a@x, u1, an1), P2 (b@x, an2), P3 (z@x, no rows
// anywhere), P4 (d@x, only in shop).
var duckSetup = []string{
	`CREATE SCHEMA cdp`,
	`CREATE TABLE cdp.customer_identifiers (id_type VARCHAR, id_value VARCHAR, profile_id VARCHAR,
		first_seen_at TIMESTAMP, last_seen_at TIMESTAMP, source_count BIGINT)`,
	`INSERT INTO cdp.customer_identifiers (id_type, id_value, profile_id) VALUES
		('email', 'a@x', 'P1'), ('user_id', 'u1', 'P1'), ('anonymous_id', 'an1', 'P1'),
		('email', 'b@x', 'P2'), ('anonymous_id', 'an2', 'P2'), ('email', 'z@x', 'P3'), ('email', 'd@x', 'P4')`,
	`CREATE TABLE cdp.raw_crm (email VARCHAR, first_name VARCHAR, city VARCHAR, score BIGINT, tag VARCHAR, updated_at TIMESTAMP)`,
	`INSERT INTO cdp.raw_crm VALUES
		('a@x', 'Ann', 'Paris', 10, 'b', '2024-01-01'),
		('a@x', 'Anna', 'Lyon', 30, 'a', '2024-03-01'),
		('a@x', NULL, 'Lyon', 20, 'B', '2024-04-01'),
		('a@x', 'Zed', NULL, NULL, NULL, NULL),
		('b@x', 'Bobby', 'Rome', 5, 'z', '2024-01-01'),
		('b@x', 'Bob', 'Nice', 7, 'y', '2024-01-01'),
		('nobody@x', 'Ghost', 'Oslo', 99, 'g', '2024-01-01')`,
	`CREATE VIEW cdp.customer_src_crm AS SELECT *, updated_at AS _cdp_ts, email AS _cdp_id_0 FROM cdp.raw_crm`,
	`CREATE TABLE cdp.raw_shop (email VARCHAR, first_name VARCHAR)`,
	`INSERT INTO cdp.raw_shop VALUES ('b@x', 'Robert'), ('d@x', 'Dora')`,
	`CREATE VIEW cdp.customer_src_shop AS SELECT *, CAST(NULL AS TIMESTAMP) AS _cdp_ts, email AS _cdp_id_0 FROM cdp.raw_shop`,
	`CREATE TABLE cdp.raw_orders (order_id VARCHAR, user_id VARCHAR, amount DOUBLE, status VARCHAR, ordered_at TIMESTAMP)`,
	`INSERT INTO cdp.raw_orders VALUES
		('o1', 'u1', 100, 'paid', '2024-04-20'),
		('o2', 'u1', 950, 'paid', '2023-06-01'),
		('o3', 'u1', 50, 'refunded', '2024-04-25'),
		('o3', 'u1', 50, 'refunded', '2024-04-25'),
		('o4', 'u2', 10, 'paid', '2024-04-25')`,
	`CREATE VIEW cdp.customer_src_orders AS SELECT *, ordered_at AS _cdp_ts, user_id AS _cdp_id_0 FROM cdp.raw_orders`,
	`CREATE TABLE cdp.raw_web (anonymous_id VARCHAR, user_id VARCHAR, event_name VARCHAR, total DOUBLE, ts TIMESTAMP)`,
	`INSERT INTO cdp.raw_web VALUES
		('an1', NULL, 'order_completed', 30, '2024-04-28'),
		('an1', 'u1', 'order_completed', 10, '2024-04-29'),
		('an9', 'u1', 'order_completed', 50, '2024-04-30'),
		('an1', NULL, 'order_completed', 100, '2024-01-01'),
		('an2', NULL, 'page_view', NULL, '2024-04-30'),
		('an2', 'u1', 'signup', NULL, '2024-04-30')`,
	`CREATE VIEW cdp.customer_src_web AS SELECT *, ts AS _cdp_ts, anonymous_id AS _cdp_id_0, user_id AS _cdp_id_1 FROM cdp.raw_web`,
}

var duckAsOf = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

func newDuckFixture(t *testing.T) *duckFixture {
	t.Helper()
	ctx := context.Background()
	w, err := warehouse.Open(ctx, &models.Target{Name: "test", Type: "duckdb", Settings: map[string]string{"path": ":memory:"}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	for _, q := range duckSetup {
		if _, err := w.Exec(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	p := testProject() // same id types, sources and ranks as the text tests
	for _, s := range p.Sources {
		if s.Name == "crm" {
			s.Identifiers = []*models.SourceIdentifier{{Column: "email", Type: "email"}}
		}
	}
	ref := func(s, c string) []models.ColumnRef { return []models.ColumnRef{{Source: s, Column: c}} }
	p.Traits = []*models.Trait{
		{Name: "email", From: ref("crm", "email")},
		{Name: "first_name", From: []models.ColumnRef{{Source: "crm", Column: "first_name"}, {Source: "shop", Column: "first_name"}}, Pick: models.PickLatest},
		{Name: "first_name_earliest", From: ref("crm", "first_name"), Pick: models.PickEarliest},
		{Name: "city", From: ref("crm", "city"), Pick: models.PickMostFrequent},
		{Name: "max_score", From: ref("crm", "score"), Pick: models.PickMax},
		{Name: "min_score", From: ref("crm", "score"), Pick: models.PickMin},
		{Name: "any_tag", From: ref("crm", "tag"), Pick: models.PickAny},
		{Name: "lifetime_value", From: ref("orders", "amount"), Aggregate: models.AggSum, Where: "status = 'paid'"},
		{Name: "orders_90d", From: []models.ColumnRef{{Source: "orders"}}, Aggregate: models.AggCount, Within: &models.Duration{N: 90, Unit: 'd', Text: "90d"}},
		{Name: "order_count", From: []models.ColumnRef{{Source: "orders"}}, Aggregate: models.AggCountDistinct},
		{Name: "statuses", From: ref("orders", "status"), Aggregate: models.AggCountDistinct},
		{Name: "avg_amount", From: ref("orders", "amount"), Aggregate: models.AggAvg, Type: models.TypeNumber},
		{Name: "min_amount", From: ref("orders", "amount"), Aggregate: models.AggMin},
		{Name: "max_amount", From: ref("orders", "amount"), Aggregate: models.AggMax, Type: models.TypeInteger},
		{Name: "last_seen_at", From: ref("web", "ts"), Aggregate: models.AggMax},
		{Name: "vip_label", Expr: "tier || '/' || CAST(orders_90d AS VARCHAR)"},
		{Name: "is_vip", Expr: "lifetime_value >= 1000", Type: models.TypeBoolean},
		{Name: "tier", Expr: "CASE WHEN is_vip THEN 'gold' ELSE 'basic' END"},
	}
	f := &duckFixture{t: t, w: w, p: p, tab: layout.Tables{D: w.Dialect(), Schema: "cdp", Entity: "customer"}}
	f.exec(ProfilesSQL(p, f.tab, duckAsOf))
	return f
}

func (f *duckFixture) exec(steps []Step) {
	f.t.Helper()
	for _, st := range program.Flatten(steps) {
		if _, err := f.w.Exec(context.Background(), st.SQL); err != nil {
			f.t.Fatalf("%s: %v\n%s", st.Label, err, st.SQL)
		}
	}
}

// rows returns every row of a query, each cell as text (NULL for nil).
func (f *duckFixture) rows(query string) [][]string {
	f.t.Helper()
	rs, err := f.w.Query(context.Background(), query)
	if err != nil {
		f.t.Fatalf("%v\n%s", err, query)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		f.t.Fatal(err)
	}
	var out [][]string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			f.t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				row[i] = "NULL"
			case time.Time:
				row[i] = x.UTC().Format("2006-01-02 15:04")
			default:
				row[i] = fmt.Sprint(x)
			}
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func TestDuckDBProfiles(t *testing.T) {
	f := newDuckFixture(t)
	cols := "profile_id, " + strings.Join(func() []string {
		var n []string
		for _, tr := range f.p.Traits {
			n = append(n, tr.Name)
		}
		return n
	}(), ", ") + ", updated_at"
	got := f.rows("SELECT " + cols + " FROM cdp.customer_profiles ORDER BY profile_id")
	want := [][]string{
		// id email first_name earliest city max min any ltv o90 count statuses avg min max last_seen vip_label is_vip tier updated
		{"P1", "a@x", "Anna", "Ann", "Lyon", "30", "10", "B", "1050", "3", "3", "2", "287.5", "50", "950",
			"2024-04-30 00:00", "gold/3", "true", "gold", "2024-05-01 00:00"},
		{"P2", "b@x", "Bob", "Bob", "Nice", "7", "5", "y", "NULL", "0", "0", "0", "NULL", "NULL", "NULL",
			"2024-04-30 00:00", "basic/0", "NULL", "basic", "2024-05-01 00:00"},
		{"P3", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "0", "0", "0", "NULL", "NULL", "NULL",
			"NULL", "basic/0", "NULL", "basic", "2024-05-01 00:00"},
		{"P4", "NULL", "Dora", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "0", "0", "0", "NULL", "NULL", "NULL",
			"NULL", "basic/0", "NULL", "basic", "2024-05-01 00:00"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d profiles, want %d: %v", len(got), len(want), got)
	}
	names := strings.Split(cols, ", ")
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("%s.%s = %s, want %s", want[i][0], names[j], got[i][j], want[i][j])
			}
		}
	}
	// the mapped source resolves each row by identifier priority and drops
	// rows without a profile
	mapped := f.rows("SELECT _cdp_profile_id, event_name, total FROM (" +
		MappedSource(f.p, f.tab, f.p.Source("web")) + ") AS m ORDER BY ts, total, event_name")
	if fmt.Sprint(mapped) != "[[P1 order_completed 100] [P1 order_completed 30] [P1 order_completed 10] [P1 order_completed 50] [P2 page_view NULL] [P1 signup NULL]]" {
		t.Errorf("mapped web rows: %v", mapped)
	}
}

// members refreshes seg and returns "profile in_holdout entered_at" lines.
func (f *duckFixture) members(seg *models.Segment, asOf time.Time) []string {
	f.t.Helper()
	f.exec(SegmentSQL(f.p, f.tab, seg, asOf))
	var out []string
	for _, r := range f.rows("SELECT profile_id, in_holdout, entered_at FROM cdp.customer_segments WHERE segment = " +
		f.tab.D.QuoteString(seg.Name) + " ORDER BY profile_id") {
		out = append(out, strings.Join(r, " "))
	}
	return out
}

// ids refreshes seg and returns its members' profile IDs.
func (f *duckFixture) ids(seg *models.Segment) string {
	f.t.Helper()
	var out []string
	for _, m := range f.members(seg, duckAsOf) {
		out = append(out, strings.Fields(m)[0])
	}
	return strings.Join(out, ",")
}

func TestDuckDBSegmentOperators(t *testing.T) {
	f := newDuckFixture(t)
	week := &models.Duration{N: 7, Unit: 'd', Text: "7d"}
	trait := func(name, op string, v any) *models.Condition {
		return &models.Condition{Kind: models.CondTrait, Trait: name, Op: op, Value: v}
	}
	event := func(name string, count *models.CountCond, within *models.Duration, where string) *models.Condition {
		return &models.Condition{Kind: models.CondEvent, Event: name, Count: count, EventWithin: within, EventWhere: where}
	}
	not := func(c *models.Condition) *models.Condition {
		return &models.Condition{Kind: models.CondNot, Children: []*models.Condition{c}}
	}
	cases := []struct {
		cond *models.Condition
		want string
	}{
		{nil, "P1,P2,P3,P4"},
		{trait("email", "eq", "a@x"), "P1"},
		{trait("email", "eq", nil), "P3,P4"},
		{trait("email", "ne", "a@x"), "P2,P3,P4"},
		{trait("email", "ne", nil), "P1,P2"},
		{trait("max_score", "gt", int64(7)), "P1"},
		{trait("max_score", "gte", int64(7)), "P1,P2"},
		{trait("max_score", "lt", int64(30)), "P2"},
		{trait("max_score", "lte", 30.0), "P1,P2"},
		{trait("is_vip", "eq", true), "P1"},
		{trait("city", "in", []any{"Lyon", "Nice"}), "P1,P2"},
		{trait("city", "in", []any{"Nice", nil}), "P2,P3,P4"},
		{trait("city", "not_in", []any{"Lyon"}), "P2,P3,P4"},
		{trait("city", "not_in", []any{"Lyon", nil}), "P2"},
		{trait("email", "contains", "@"), "P1,P2"},
		{trait("first_name", "starts_with", "Bo"), "P2"},
		{trait("first_name", "ends_with", "ra"), "P4"},
		{trait("first_name", "contains", "o'"), ""},
		{trait("max_score", "between", []any{int64(7), int64(30)}), "P1,P2"},
		{trait("max_score", "between", []any{int64(8), int64(29)}), ""},
		{trait("first_name", "is_set", true), "P1,P2,P4"},
		{trait("first_name", "is_set", false), "P3"},
		{trait("last_seen_at", "within", week), "P1,P2"},
		{trait("last_seen_at", "within", &models.Duration{N: 12, Unit: 'h', Text: "12h"}), ""},
		{trait("last_seen_at", "after", "2024-04-29"), "P1,P2"},
		{trait("last_seen_at", "before", "2024-04-30T00:00:01Z"), "P1,P2"},
		{trait("last_seen_at", "before", week), ""},
		{trait("last_seen_at", "after", week), "P1,P2"},
		{not(trait("email", "eq", "a@x")), "P2,P3,P4"},
		{&models.Condition{Kind: models.CondAll, Children: []*models.Condition{trait("email", "is_set", true), not(trait("is_vip", "eq", true))}}, "P2"},
		{&models.Condition{Kind: models.CondAny, Children: []*models.Condition{trait("email", "eq", "b@x"), trait("first_name", "eq", "Dora")}}, "P2,P4"},
		{event("order_completed", nil, nil, ""), "P1"},
		{event("order_completed", &models.CountCond{Op: "gte", Value: 2}, &models.Duration{N: 30, Unit: 'd', Text: "30d"}, "total > 20"), "P1"},
		{event("order_completed", &models.CountCond{Op: "gte", Value: 3}, &models.Duration{N: 30, Unit: 'd', Text: "30d"}, "total > 20"), ""},
		{event("order_completed", &models.CountCond{Op: "eq", Value: 4}, nil, ""), "P1"},
		{event("order_completed", &models.CountCond{Op: "eq", Value: 0}, nil, ""), "P2,P3,P4"},
		{event("page_view", &models.CountCond{Op: "lt", Value: 1}, nil, ""), "P1,P3,P4"},
		{event("signup", nil, nil, ""), "P1"}, // user_id outranks anonymous_id
		{not(event("page_view", nil, week, "")), "P1,P3,P4"},
	}
	for i, c := range cases {
		seg := &models.Segment{Name: "s" + strconv.Itoa(i), Where: c.cond}
		if got := f.ids(seg); got != c.want {
			t.Errorf("case %d: members = %q, want %q\n%s", i, got, c.want, segmentQuery(f.p, f.tab, seg, duckAsOf))
		}
	}
	// segment references read the other segment's stored members
	f.ids(&models.Segment{Name: "vips", Where: trait("is_vip", "eq", true)})
	ref := &models.Condition{Kind: models.CondSegment, Segment: "vips"}
	if got := f.ids(&models.Segment{Name: "in_vips", Where: ref}); got != "P1" {
		t.Errorf("in segment: %q", got)
	}
	if got := f.ids(&models.Segment{Name: "not_vips", Where: not(ref)}); got != "P2,P3,P4" {
		t.Errorf("not in segment: %q", got)
	}
}

func TestDuckDBSegmentHoldoutAndEnteredAt(t *testing.T) {
	f := newDuckFixture(t)
	all := &models.Segment{Name: "everyone"}
	first := f.members(all, duckAsOf)
	if strings.Join(first, "|") != "P1 false 2024-05-01 00:00|P2 false 2024-05-01 00:00|P3 false 2024-05-01 00:00|P4 false 2024-05-01 00:00" {
		t.Errorf("no holdout: %v", first)
	}
	// holdout matches HashFraction computed in Go, and entered_at survives a rerun
	for _, h := range []float64{0.1, 0.5, 1} {
		seg := &models.Segment{Name: "everyone", Holdout: h}
		later := duckAsOf.Add(24 * time.Hour)
		var want []string
		for _, id := range []string{"P1", "P2", "P3", "P4"} {
			in := warehousetest.HashFraction(id+":everyone") < h
			want = append(want, id+" "+strconv.FormatBool(in)+" 2024-05-01 00:00")
		}
		if got := f.members(seg, later); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("holdout %v:\n got %v\nwant %v", h, got, want)
		}
	}
	// a profile that leaves and comes back enters again at the new as-of
	f.members(&models.Segment{Name: "everyone", Where: &models.Condition{Kind: models.CondTrait, Trait: "email", Op: "is_set", Value: true}}, duckAsOf)
	back := f.members(all, duckAsOf.Add(48*time.Hour))
	sort.Strings(back)
	if strings.Join(back, "|") != "P1 false 2024-05-01 00:00|P2 false 2024-05-01 00:00|P3 false 2024-05-03 00:00|P4 false 2024-05-03 00:00" {
		t.Errorf("re-entry: %v", back)
	}
	// other segments' rows are untouched by a refresh
	f.members(&models.Segment{Name: "other"}, duckAsOf)
	f.members(all, duckAsOf)
	if n := f.rows("SELECT COUNT(*) FROM cdp.customer_segments"); n[0][0] != "8" {
		t.Errorf("segments rows = %s, want 8", n[0][0])
	}
	if n := f.rows("SELECT COUNT(*) FROM information_schema.tables WHERE table_name LIKE 'customer__seg_%'"); n[0][0] != "0" {
		t.Errorf("scratch tables left behind: %s", n[0][0])
	}
}

func TestDuckDBHostileNamesAndValues(t *testing.T) {
	f := newDuckFixture(t)
	names := warehousetest.HostileNames()
	f.p.Traits = nil
	for _, n := range names {
		f.p.Traits = append(f.p.Traits, &models.Trait{Name: n, From: []models.ColumnRef{{Source: "crm", Column: "email"}}})
	}
	f.exec(ProfilesSQL(f.p, f.tab, duckAsOf))
	for i, n := range names {
		values := []any{"a@x"}
		for _, v := range warehousetest.HostileStrings() {
			values = append(values, v)
		}
		other := values[2+i%(len(values)-2)] // a non-empty hostile string that a@x does not contain
		seg := &models.Segment{Name: n, Holdout: 0.5, Where: &models.Condition{Kind: models.CondAll, Children: []*models.Condition{
			{Kind: models.CondTrait, Trait: n, Op: "in", Value: values},
			{Kind: models.CondTrait, Trait: n, Op: "not_in", Value: values[1:]},
			{Kind: models.CondTrait, Trait: n, Op: "ne", Value: other},
			{Kind: models.CondNot, Children: []*models.Condition{{Kind: models.CondTrait, Trait: n, Op: "contains", Value: other}}},
			{Kind: models.CondNot, Children: []*models.Condition{{Kind: models.CondSegment, Segment: n + "'"}}},
			{Kind: models.CondNot, Children: []*models.Condition{{Kind: models.CondEvent, Event: other.(string), EventWhere: "total <> 0 -- no newline'"}}},
		}}}
		if got := f.ids(seg); got != "P1" {
			t.Errorf("segment %q: members %q, want P1", n, got)
		}
	}
}
