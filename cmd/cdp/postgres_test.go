package main

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/internal/pgtest"
)

// checkPostgres seeds and runs the example on PostgreSQL through the pg
// target of the project dir, which DuckDB already ran (duck is that run's
// JSON summary), and checks it builds the same profiles and segments, and
// that profile lookups work there too.
func checkPostgres(t *testing.T, dir string, duck runSummary) {
	t.Setenv("CDP_POSTGRES_DSN", pgtest.DSN(t))

	// The same project on PostgreSQL: --target before or after the command.
	r := mustCDP(t, 0, "--project", dir, "--target", "pg", "seed")
	if !strings.Contains(r.stdout, "6 seed files loaded into pg (postgres)") {
		t.Errorf("pg seed:\n%s", r.stdout)
	}
	pg := lastSummary(t, mustCDP(t, 0, "--project", dir, "run", "--target", "pg", "--json", "--as-of", asOf).stdout)
	if pg.Run.Status != "success" || duck.Run.Status != "success" {
		t.Fatalf("run status: duckdb %s, postgres %s", duck.Run.Status, pg.Run.Status)
	}
	if pg.Profiles == 0 || pg.Profiles != duck.Profiles {
		t.Errorf("profiles: duckdb %d, postgres %d", duck.Profiles, pg.Profiles)
	}
	if len(pg.Segments) == 0 || !reflect.DeepEqual(pg.Segments, duck.Segments) {
		t.Errorf("segment sizes differ:\nduckdb   %+v\npostgres %+v", duck.Segments, pg.Segments)
	}
	for i := range duck.Run.Nodes {
		if d, p := duck.Run.Nodes[i], pg.Run.Nodes[i]; d.Node != p.Node || d.Rows != p.Rows {
			t.Errorf("node %d: duckdb %s %d rows, postgres %s %d rows", i, d.Node, d.Rows, p.Node, p.Rows)
		}
	}

	// The demo person: same profile id, identifiers and segments on both.
	email := demo(t, "demo_email")
	dv := decodeProfile(t, mustCDP(t, 0, "--project", dir, "--json", "profile", "email:"+email).stdout)
	pv := decodeProfile(t, mustCDP(t, 0, "--project", dir, "--target", "pg", "--json", "profile", "email:"+email).stdout)
	if pv.ProfileID != dv.ProfileID || !reflect.DeepEqual(pv.Identifiers, dv.Identifiers) || !reflect.DeepEqual(pv.Segments, dv.Segments) {
		t.Errorf("demo profile differs:\nduckdb   %+v\npostgres %+v", dv, pv)
	}
	if len(pv.Traits) != len(dv.Traits) {
		t.Errorf("traits: duckdb %d, postgres %d", len(dv.Traits), len(pv.Traits))
	}
	for _, tr := range dv.Traits {
		if d, p := tr.Value, pv.trait(tr.Name); !sameValue(d, p) {
			t.Errorf("trait %s: duckdb %#v, postgres %#v", tr.Name, d, p)
		}
	}
	r = mustCDP(t, 0, "--project", dir, "--target", "pg", "profile", "profile:"+pv.ProfileID)
	if !strings.HasPrefix(r.stdout, "profile "+pv.ProfileID+"\n") || !strings.Contains(r.stdout, "  ltv_tier               gold\n") {
		t.Errorf("pg text profile:\n%s", r.stdout)
	}
	r = mustCDP(t, 1, "--project", dir, "--target", "pg", "profile", "email:nobody@nowhere.test")
	if !strings.Contains(r.stderr, "no profile matches") {
		t.Errorf("pg not found: %q", r.stderr)
	}
}

// sameValue compares trait values from two engines' JSON. Numbers compare
// numerically: PostgreSQL NUMERIC columns come back as strings today
// ("250.9475000000000000"), DuckDB's as JSON numbers.
func sameValue(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	x, okA := number(a)
	y, okB := number(b)
	return okA && okB && math.Abs(x-y) < 1e-9*math.Max(1, math.Abs(x))
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}
