package identity_test

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/internal/oracle"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/warehouse"
)

// asOf is the reference time of every test build.
var asOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// columns of the synthetic sources: one column per identifier type.
var sourceCols = []string{"user_id", "email", "phone", "device", "card", "device2"}

// testProject declares the identity rules the tests exercise.
func testProject() *models.Project {
	types := []*models.IDType{
		{Name: "user_id", Normalize: "trim", Limit: 1},
		{Name: "email", Normalize: "email", Exclude: []string{`@example\.com$`, `^test@`}},
		{Name: "phone", Normalize: "phone", DefaultCountry: "FR", Limit: 2},
		{Name: "card", Normalize: "lowercase"},
		{Name: "device", Normalize: "trim"},
	}
	for i, t := range types {
		t.Rank = i
	}
	idents := func(cols ...string) []*models.SourceIdentifier {
		var out []*models.SourceIdentifier
		for _, c := range cols {
			typ := c
			if c == "device2" {
				typ = "device"
			}
			out = append(out, &models.SourceIdentifier{Column: c, Type: typ})
		}
		return out
	}
	return &models.Project{
		Name: "t", Entity: "customer",
		Identity: &models.Identity{IDTypes: types, MaxProfileIdentifiers: 50},
		Sources: []*models.Source{
			{Name: "s1", Table: "raw.s1", Timestamp: "ts", Identifiers: idents("user_id", "email", "phone", "device", "card")},
			{Name: "s2", Table: "raw.s2", Timestamp: "ts", Identifiers: idents("device", "device2")},
		},
	}
}

// row is one synthetic source row.
type row struct {
	source string
	ts     *time.Time
	vals   map[string]string // column → raw value
}

func (r row) oracleRow() oracle.Row {
	o := oracle.Row{Source: r.source, TS: r.ts}
	for _, c := range sourceCols {
		if v, ok := r.vals[c]; ok {
			typ := c
			if c == "device2" {
				typ = "device"
			}
			o.IDs = append(o.IDs, oracle.Ident{Type: typ, Value: v})
		}
	}
	return o
}

// engine is a real warehouse the identity build runs on.
type engine struct {
	name string
	open func(t *testing.T) warehouse.Warehouse
	// graphs is how many random graphs to check (0: all four)
	graphs int
	// small skips the largest inputs and shrinks the random graphs to 30
	// people (a slow engine such as the emulator)
	small bool
}

// project is testProject, with phone numbers normalized as text on a small
// engine (see textPhones).
func (e engine) project() *models.Project { return e.textPhones(testProject()) }

// textPhones gives p's phone type the trim normalizer on a small engine: on
// the emulator the phone normalizer's staged SQL takes about ten seconds per
// build, which these graph tests would pay on every run. The phone corpus
// test (identity/phone) checks that SQL on the emulator, and the compiler's
// and the retail example's tests check it wired into cdp run there.
func (e engine) textPhones(p *models.Project) *models.Project {
	if !e.small {
		return p
	}
	for i, t := range p.Identity.IDTypes {
		if t.Normalize == "phone" {
			c := *t
			c.Normalize, c.DefaultCountry = "trim", ""
			p.Identity.IDTypes[i] = &c
		}
	}
	return p
}

// people is how many people a random graph of e has.
func (e engine) people() int {
	if e.small {
		return 30
	}
	return 300
}

// seeds is how many random graphs e checks.
func (e engine) seeds() uint64 {
	if e.graphs > 0 {
		return uint64(e.graphs)
	}
	return 4
}

// load (re)creates raw.s1 and raw.s2 with rows.
func load(t *testing.T, ctx context.Context, w warehouse.Warehouse, rows []row) {
	t.Helper()
	d := w.Dialect()
	for _, s := range []string{"raw", "cdp"} {
		if _, err := w.Exec(ctx, d.CreateSchema(s)); err != nil {
			t.Fatal(err)
		}
	}
	bl, ok := w.(warehouse.BulkLoader)
	if !ok {
		t.Fatalf("%T cannot bulk load", w)
	}
	for _, src := range []string{"s1", "s2"} {
		cols := []warehouse.Column{{Name: "ts", Type: models.TypeTimestamp}}
		names := sourceCols[:5]
		if src == "s2" {
			names = []string{"device", "device2"}
		}
		for _, c := range names {
			cols = append(cols, warehouse.Column{Name: c, Type: models.TypeString})
		}
		var mine []row
		for _, r := range rows {
			if r.source == src {
				mine = append(mine, r)
			}
		}
		i := 0
		_, err := bl.LoadRows(ctx, d.Table("raw", src), cols, func() ([]any, error) {
			if i == len(mine) {
				return nil, io.EOF
			}
			r := mine[i]
			i++
			vals := []any{nil}
			if r.ts != nil {
				vals[0] = *r.ts
			}
			for _, c := range names {
				if v, ok := r.vals[c]; ok {
					vals = append(vals, v)
				} else {
					vals = append(vals, nil)
				}
			}
			return vals, nil
		})
		if err != nil {
			t.Fatalf("load %s: %v", src, err)
		}
	}
}

// build runs the source views and the identity program; it returns loop stats.
func build(t *testing.T, ctx context.Context, w warehouse.Warehouse, p *models.Project, runID string) []runner.LoopStat {
	t.Helper()
	tb := layout.Tables{D: w.Dialect(), Schema: "cdp", Entity: p.Entity}
	steps := compiler.PrepareSteps(p, tb)
	for _, s := range p.Sources {
		steps = append(steps, compiler.SourceSteps(p, tb, s, "")...)
	}
	steps = append(steps, identity.Steps(p, tb, identity.Options{RunID: runID, AsOf: asOf})...)
	stats, err := (&runner.Executor{W: w}).Exec(ctx, steps)
	if err != nil {
		var se *runner.StatementError
		if ok := asStmtErr(err, &se); ok {
			t.Fatalf("identity build: %v\nSQL:\n%s", err, se.SQL)
		}
		t.Fatalf("identity build: %v", err)
	}
	return stats
}

func asStmtErr(err error, out **runner.StatementError) bool {
	se, ok := err.(*runner.StatementError)
	if ok {
		*out = se
	}
	return ok
}

// readIdentifiers returns (type:value) → profile_id from the identifiers table.
func readIdentifiers(t *testing.T, ctx context.Context, w warehouse.Warehouse) map[oracle.Node]string {
	t.Helper()
	rows, err := w.Query(ctx, "SELECT id_type, id_value, profile_id FROM "+w.Dialect().Table("cdp", "customer_identifiers"))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[oracle.Node]string{}
	for rows.Next() {
		var n oracle.Node
		var p string
		if err := rows.Scan(&n.Type, &n.Value, &p); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[n]; dup {
			t.Fatalf("identifier %v appears twice", n)
		}
		out[n] = p
	}
	return out
}

// readDropped returns the links the audit says a limit dropped.
func readDropped(t *testing.T, ctx context.Context, w warehouse.Warehouse) []string {
	t.Helper()
	rows, err := w.Query(ctx, "SELECT id_type_a, id_value_a, id_type_b, id_value_b FROM "+
		w.Dialect().Table("cdp", "customer_identity_audit")+" WHERE kind = 'limit'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a, b, c, d string
		if err := rows.Scan(&a, &b, &c, &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, a+":"+b+"|"+c+":"+d)
	}
	sort.Strings(out)
	return out
}

// assertMatchesOracle compares the SQL result with the union-find exactly.
func assertMatchesOracle(t *testing.T, ctx context.Context, w warehouse.Warehouse, p *models.Project, rows []row) {
	t.Helper()
	var orows []oracle.Row
	for _, r := range rows {
		orows = append(orows, r.oracleRow())
	}
	want := oracle.Resolve(p, orows, asOf)
	got := readIdentifiers(t, ctx, w)
	var diffs []string
	for n, p := range want.ProfileOf {
		if got[n] != p {
			diffs = append(diffs, fmt.Sprintf("%v: sql %q, oracle %q", n, got[n], p))
		}
	}
	for n := range got {
		if _, ok := want.ProfileOf[n]; !ok {
			diffs = append(diffs, fmt.Sprintf("%v: in sql only", n))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		if len(diffs) > 20 {
			diffs = append(diffs[:20], fmt.Sprintf("… %d more", len(diffs)-20))
		}
		t.Fatalf("%d identifiers differ from the union-find oracle:\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
	if gd := readDropped(t, ctx, w); strings.Join(gd, "\n") != strings.Join(want.Dropped, "\n") {
		t.Fatalf("dropped links differ:\nsql:    %v\noracle: %v", gd, want.Dropped)
	}
}
