//go:build cgo

package compiler_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

// idTraitsSetup creates the raw tables of testdata/idtraits. Profiles:
//
//	A  phone +33612345678: a@x.io on 4 rows (whitespace and case variants;
//	   a shop row with the same address in both columns counts once),
//	   alt@x.io on 2 rows but the most recent one (crm, 2024-03-01)
//	B  phone +33781234567: two emails on one row each at the same time: the
//	   smallest in byte order wins ("b-z@x.io" < "b_y@x.io", whatever the
//	   collation says)
//	C  phone +33698765432, pos only (no timestamp): test@x.io (excluded) and
//	   "not an email" (invalid) on 3 rows each must never be picked; c@x.io
//	   on 2 rows beats c2@x.io on 1
//	D  email d@x.io, shop only
//	E  phone +447911123456 only
var idTraitsSetup = []string{
	`CREATE SCHEMA IF NOT EXISTS cdp`,
	`CREATE TABLE cdp.raw_crm (email VARCHAR, phone VARCHAR, updated_at TIMESTAMP)`,
	`INSERT INTO cdp.raw_crm VALUES
		('a@x.io', '+33 6 12 34 56 78', TIMESTAMP '2024-01-01 00:00:00'),
		(' A@x.io ', '06 12 34 56 78', TIMESTAMP '2024-02-01 00:00:00'),
		('ALT@x.io', '0612345678', TIMESTAMP '2024-03-01 00:00:00'),
		('b_y@x.io', '07 81 23 45 67', TIMESTAMP '2024-05-01 00:00:00'),
		('B-Z@x.io', '0781234567', TIMESTAMP '2024-05-01 00:00:00'),
		(NULL, '+44 7911 123456', TIMESTAMP '2024-04-01 00:00:00')`,
	`CREATE TABLE cdp.raw_shop (email VARCHAR, billing_email VARCHAR, updated_at TIMESTAMP)`,
	`INSERT INTO cdp.raw_shop VALUES
		('a@x.io', 'A@X.IO', TIMESTAMP '2024-01-15 00:00:00'),
		('Alt@X.io', 'a@x.io', TIMESTAMP '2024-02-15 00:00:00'),
		('D@x.io ', NULL, TIMESTAMP '2024-01-01 00:00:00')`,
	`CREATE TABLE cdp.raw_pos (email VARCHAR, phone VARCHAR)`,
	`INSERT INTO cdp.raw_pos VALUES
		('test@x.io', '0698765432'), ('test@x.io', '06 98 76 54 32'), ('TEST@x.io', '0698765432'),
		('not an email', '0698765432'), ('not an email', '0698765432'), ('not an email', '06.98.76.54.32'),
		('c@x.io', '06 98 76 54 32'), (' C@X.IO', '0698765432'), ('c2@x.io', '0698765432')`,
}

// idTraitsMore are the rows of the second (incremental) run: C's c2@x.io is
// now seen with a time, B's b_y@x.io is seen again in the shop.
var idTraitsMore = []string{
	`INSERT INTO cdp.raw_crm VALUES ('c2@x.io', '0698765432', TIMESTAMP '2024-06-01 00:00:00')`,
	`INSERT INTO cdp.raw_shop VALUES ('B_Y@x.io', NULL, TIMESTAMP '2024-06-01 00:00:00')`,
}

// idTraitCols are the profile columns the test reads, after the marker.
var idTraitCols = []string{"email", "email_recent", "email_crm_first", "email_shop_first", "phone", "raw_email", "email_moved"}

// idTraitsWant is each profile's traits (idTraitCols order) by marker.
var idTraitsWant = map[string][]string{
	"phone:+33612345678":  {"a@x.io", "alt@x.io", "alt@x.io", "a@x.io", "+33612345678", "ALT@x.io", "moved"},
	"phone:+33781234567":  {"b-z@x.io", "b-z@x.io", "b-z@x.io", "b-z@x.io", "+33781234567", "B-Z@x.io", "same"},
	"phone:+33698765432":  {"c@x.io", "c@x.io", "NULL", "NULL", "+33698765432", "NULL", "same"},
	"email:d@x.io":        {"d@x.io", "d@x.io", "d@x.io", "d@x.io", "NULL", "NULL", "same"},
	"phone:+447911123456": {"NULL", "NULL", "NULL", "NULL", "+447911123456", "NULL", "moved"},
}

// idTraitsWantMore is what changes after idTraitsMore.
var idTraitsWantMore = map[string][]string{
	// b_y@x.io: 2 rows now; the crm alone still ties, on byte order
	"phone:+33781234567": {"b_y@x.io", "b_y@x.io", "b-z@x.io", "b_y@x.io", "+33781234567", "B-Z@x.io", "same"},
	// c2@x.io ties c@x.io on rows, and only it has a time; the crm (second
	// for email_shop_first) now has it
	"phone:+33698765432": {"c2@x.io", "c2@x.io", "c2@x.io", "c2@x.io", "+33698765432", "c2@x.io", "same"},
}

// TestIdentifierTraitsEngines builds testdata/idtraits on DuckDB and
// PostgreSQL (full, then incremental after new rows, then full again) and
// checks every pick, that the keys are normalized and unique per profile,
// and that excluded and invalid values are never picked.
func TestIdentifierTraitsEngines(t *testing.T) {
	engines := engineOpeners()
	for _, name := range []string{"duckdb", "postgres"} {
		t.Run(name, func(t *testing.T) {
			w := engines[name](t)
			t.Cleanup(func() { w.Close() })
			p := loadIDTraits(t)
			execAll(t, w, idTraitsSetup)
			asOf := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)

			if mode := buildIDTraits(t, w, p, asOf, "run1"); mode.Incremental {
				t.Fatalf("first run must be full: %s", mode.Reason)
			}
			checkIDTraits(t, w, p, idTraitsWant)

			execAll(t, w, idTraitsMore)
			want := map[string][]string{}
			for k, v := range idTraitsWant {
				want[k] = v
			}
			for k, v := range idTraitsWantMore {
				want[k] = v
			}
			if mode := buildIDTraits(t, w, p, asOf.Add(time.Hour), "run2"); !mode.Incremental {
				t.Fatalf("second run must be incremental: %s", mode.Reason)
			}
			checkIDTraits(t, w, p, want)

			if _, err := w.Exec(context.Background(), "DELETE FROM cdp.customer_watermarks WHERE TRUE"); err != nil {
				t.Fatal(err)
			}
			if mode := buildIDTraits(t, w, p, asOf.Add(2*time.Hour), "run3"); mode.Incremental {
				t.Fatalf("third run must be full: %s", mode.Reason)
			}
			checkIDTraits(t, w, p, want)
		})
	}
}

// engineOpeners opens an in-memory DuckDB or a fresh PostgreSQL database,
// by engine name.
func engineOpeners() map[string]func(t *testing.T) warehouse.Warehouse {
	return map[string]func(t *testing.T) warehouse.Warehouse{
		"duckdb": func(t *testing.T) warehouse.Warehouse {
			w, err := duckdb.Open(context.Background(), ":memory:")
			if err != nil {
				t.Fatal(err)
			}
			return w
		},
		"postgres": func(t *testing.T) warehouse.Warehouse {
			w, err := postgres.Open(context.Background(), pgtest.DSN(t))
			if err != nil {
				t.Fatal(err)
			}
			return w
		},
	}
}

// execAll runs statements in order.
func execAll(t *testing.T, w warehouse.Warehouse, stmts []string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := w.Exec(context.Background(), s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
}

// buildIDTraits runs the whole DAG as `cdp run` does, in the mode
// runner.DecideMode chooses, and returns that mode.
func buildIDTraits(t *testing.T, w warehouse.Warehouse, p *models.Project, asOf time.Time, runID string) compiler.Mode {
	t.Helper()
	ctx := context.Background()
	tabs := layout.Tables{D: w.Dialect(), Schema: "cdp", Entity: p.Entity}
	mode, err := runner.DecideMode(ctx, w, tabs, runner.ModeRequest{Fingerprint: compiler.Fingerprint(p), AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	g, err := compiler.Compile(p, w.Dialect(), compiler.Options{Schema: "cdp", AsOf: asOf, RunID: runID, Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Run(ctx, w, g, g.Nodes, runID, nil); err != nil {
		t.Fatalf("%s run: %v", mode.Name(), err)
	}
	return mode
}

// checkIDTraits compares every profile's traits with want (by marker
// identifier), checks that each email and phone trait holds a normalized
// value unique across profiles, and that segment x_io holds the profiles
// whose most recent email ends with @x.io.
func checkIDTraits(t *testing.T, w warehouse.Warehouse, p *models.Project, want map[string][]string) {
	t.Helper()
	var markers []string
	for k := range want {
		typ, val, _ := strings.Cut(k, ":")
		markers = append(markers, "(i.id_type = '"+typ+"' AND i.id_value = '"+val+"')")
	}
	rows := queryRows(t, w, "SELECT i.id_type || ':' || i.id_value, p."+strings.Join(idTraitCols, ", p.")+
		" FROM cdp.customer_profiles AS p JOIN cdp.customer_identifiers AS i ON i.profile_id = p.profile_id WHERE "+
		strings.Join(markers, " OR "))
	got := map[string][]string{}
	for _, r := range rows {
		got[r[0]] = r[1:]
	}
	if !reflect.DeepEqual(got, want) {
		for k, v := range want {
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("profile %s:\n  got  %v\n  want %v (columns %v)", k, got[k], v, idTraitCols)
			}
		}
		if len(got) != len(want) {
			t.Errorf("got %d marked profiles, want %d", len(got), len(want))
		}
	}
	if n := queryRows(t, w, "SELECT COUNT(*) FROM cdp.customer_profiles"); n[0][0] != fmt.Sprint(len(want)) {
		t.Errorf("got %s profiles, want %d", n[0][0], len(want))
	}
	for _, col := range []string{"email", "email_recent", "email_crm_first", "email_shop_first", "phone"} {
		dups := queryRows(t, w, "SELECT "+col+", COUNT(*) FROM cdp.customer_profiles WHERE "+col+
			" IS NOT NULL GROUP BY "+col+" HAVING COUNT(*) > 1")
		if len(dups) > 0 {
			t.Errorf("%s: duplicate keys %v", col, dups)
		}
		for _, r := range queryRows(t, w, "SELECT "+col+" FROM cdp.customer_profiles WHERE "+col+" IS NOT NULL") {
			if col != "phone" && r[0] != strings.ToLower(strings.TrimSpace(r[0])) {
				t.Errorf("%s: %q is not normalized", col, r[0])
			}
			if r[0] == "test@x.io" || r[0] == "not an email" {
				t.Errorf("%s: picked the excluded or invalid %q", col, r[0])
			}
		}
	}
	var wantSeg []string
	for k, v := range want {
		if strings.HasSuffix(v[1], "@x.io") {
			wantSeg = append(wantSeg, k)
		}
	}
	seg := queryRows(t, w, "SELECT COUNT(*) FROM cdp.customer_segments WHERE segment = 'x_io'")
	if seg[0][0] != fmt.Sprint(len(wantSeg)) {
		t.Errorf("segment x_io: got %s members, want %d (%v)", seg[0][0], len(wantSeg), wantSeg)
	}
}

// queryRows returns every row of a query, each cell as text ("NULL" for nil).
func queryRows(t *testing.T, w warehouse.Warehouse, query string) [][]string {
	t.Helper()
	rs, err := w.Query(context.Background(), query)
	if err != nil {
		t.Fatalf("%v\n%s", err, query)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = fmt.Sprint(warehouse.Plain(v))
			}
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
