package identity_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/internal/oracle"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/warehouse"
)

// runSeq numbers test runs so that run IDs sort in run order.
var runSeq atomic.Int64

// runModels runs every node of p like `cdp run` does: it decides the mode
// (full or incremental) from the warehouse's state, compiles and runs.
// runID is the run's ID ("" = the next of a sequence); a minted profile ID
// that collides with an older one is salted with it, so runs compared with
// each other share it.
func runModels(t *testing.T, ctx context.Context, w warehouse.Warehouse, p *models.Project, at time.Time, fullRefresh bool, runID string) *runner.Result {
	t.Helper()
	d := w.Dialect()
	tb := layout.Tables{D: d, Schema: "cdp", Entity: p.Entity}
	mode, err := runner.DecideMode(ctx, w, tb, runner.ModeRequest{
		Fingerprint: compiler.Fingerprint(p), AsOf: at, FullRefresh: fullRefresh})
	if err != nil {
		t.Fatal(err)
	}
	if runID == "" {
		runID = fmt.Sprintf("r%06d", runSeq.Add(1))
	}
	g, err := compiler.Compile(p, d, compiler.Options{Schema: "cdp", AsOf: at, RunID: runID, Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	res, err := runner.Run(ctx, w, g, g.Nodes, runID, nil)
	if err != nil {
		var se *runner.StatementError
		if errors.As(err, &se) {
			t.Fatalf("%s run: %v\nSQL:\n%s", mode.Name(), err, se.SQL)
		}
		t.Fatalf("%s run: %v", mode.Name(), err)
	}
	return res
}

// incProject is testProject with an overlap for late rows.
func incProject(overlapHours int) *models.Project {
	p := testProject()
	p.Overlap = models.Duration{N: overlapHours, Unit: 'h'}
	return p
}

// arrivals splits rows into batches by time; a row close before a batch's
// end arrives late (in the next batch) one time in three, and rows without
// a time arrive in any batch.
func arrivals(rows []row, batches, overlap int, rnd *rand.Rand) [][]row {
	out := make([][]row, batches)
	end := func(k int) int { return 2000 * (k + 1) / batches }
	base := *ts(0)
	for _, r := range rows {
		k := rnd.IntN(batches)
		if r.ts != nil {
			h := int(r.ts.Sub(base).Hours())
			k = 0
			for h >= end(k) && k < batches-1 {
				k++
			}
			if k+1 < batches && h >= end(k)-overlap && rnd.IntN(3) == 0 {
				k++
			}
		}
		out[k] = append(out[k], r)
	}
	return out
}

// TestIncrementalEqualsFull loads random graphs in 2 to 4 batches (late
// rows, merges of existing profiles, new links that trip limits, splits) and
// checks after every batch that an incremental run gives exactly the rows of
// a full run after the same history, and the oracle's clusters.
func TestIncrementalEqualsFull(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			if e.small {
				// one 40-person graph in two batches takes 5.5 minutes on the
				// emulator; TestIncrementalScenarios runs every incremental
				// statement there against a full run and the oracle
				t.Skip("random incremental graphs are too slow on the emulator")
			}
			ctx := context.Background()
			for seed := uint64(1); seed <= 3; seed++ {
				inc, full := e.open(t), e.open(t)
				p := e.textPhones(incProject(48))
				rows := randomRows(seed+10, 150)
				batches := arrivals(rows, int(seed)+1, 48, rand.New(rand.NewPCG(seed, 99)))
				var loaded []row
				for k, batch := range batches {
					loaded = append(loaded, batch...)
					at := ts(2000 * (k + 1) / len(batches))
					for _, w := range []warehouse.Warehouse{inc, full} {
						load(t, ctx, w, loaded)
					}
					id := fmt.Sprintf("r%06d", runSeq.Add(1))
					res := runModels(t, ctx, inc, p, *at, false, id)
					if want := map[bool]string{true: "full", false: "incremental"}[k == 0]; res.Mode != want {
						t.Fatalf("seed %d batch %d: mode %s (%s), want %s", seed, k, res.Mode, res.Reason, want)
					}
					runModels(t, ctx, full, p, *at, true, id)
					assertSameState(t, ctx, inc, full, fmt.Sprintf("seed %d batch %d", seed, k))
					assertClustersMatchOracle(t, ctx, inc, p, loaded, *at)
				}
			}
		})
	}
}

// TestIncrementalModeChoice checks when a run is full: no state, a config
// change, --full-refresh, an earlier as-of, after a partial run.
func TestIncrementalModeChoice(t *testing.T) {
	ctx := context.Background()
	w := engines(t)[0].open(t)
	p := incProject(0)
	rows := randomRows(5, 40)
	load(t, ctx, w, rows)
	at := *ts(3000)
	mode := func(p *models.Project, at time.Time, fullRefresh bool) string {
		return runModels(t, ctx, w, p, at, fullRefresh, "").Reason
	}
	if r := mode(p, at, false); !strings.Contains(r, "first run") {
		t.Fatalf("first run: %s", r)
	}
	if r := mode(p, at, false); !strings.Contains(r, "watermarks") {
		t.Fatalf("second run: %s", r)
	}
	if r := mode(p, at, true); r != "--full-refresh" {
		t.Fatalf("--full-refresh: %s", r)
	}
	changed := incProject(0)
	changed.Identity.IDTypes[2].Limit = 3
	if r := mode(changed, at, false); !strings.Contains(r, "configuration") {
		t.Fatalf("config change: %s", r)
	}
	if r := mode(changed, at.Add(-time.Hour), false); !strings.Contains(r, "earlier") {
		t.Fatalf("earlier as-of: %s", r)
	}
	if r := mode(changed, at, false); !strings.Contains(r, "watermarks") {
		t.Fatalf("back to incremental: %s", r)
	}
}

// assertSameState compares the identifiers, audit and profile rows of two
// warehouses (audit run IDs and profile update times aside).
func assertSameState(t *testing.T, ctx context.Context, a, b warehouse.Warehouse, what string) {
	t.Helper()
	for _, q := range []string{
		"SELECT id_type, id_value, profile_id, first_seen_at, last_seen_at, source_count FROM cdp.customer_identifiers",
		"SELECT kind, id_type_a, id_value_a, id_type_b, id_value_b, reason FROM cdp.customer_identity_audit",
		"SELECT profile_id FROM cdp.customer_profiles",
	} {
		ra, rb := dump(t, ctx, a, q), dump(t, ctx, b, q)
		if strings.Join(ra, "\n") != strings.Join(rb, "\n") {
			t.Fatalf("%s: incremental and full differ on %s:\n%s", what, q, diffLines(ra, rb))
		}
	}
}

// dump returns every row of a query as sorted text lines.
func dump(t *testing.T, ctx context.Context, w warehouse.Warehouse, q string) []string {
	t.Helper()
	rows, err := w.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC().Format(time.RFC3339)
			}
			parts = append(parts, fmt.Sprint(v))
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// diffLines lists the lines only one side has (at most 20).
func diffLines(a, b []string) string {
	in := func(xs []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, x := range a {
		if !mb[x] {
			out = append(out, "incremental only: "+x)
		}
	}
	for _, x := range b {
		if !ma[x] {
			out = append(out, "full only:        "+x)
		}
	}
	if len(out) > 20 {
		out = append(out[:20], fmt.Sprintf("… %d more", len(out)-20))
	}
	return strings.Join(out, "\n")
}

// assertClustersMatchOracle compares the clusters (not the IDs, which depend
// on the history) and the dropped links with the union-find over rows.
func assertClustersMatchOracle(t *testing.T, ctx context.Context, w warehouse.Warehouse, p *models.Project, rows []row, at time.Time) {
	t.Helper()
	var orows []oracle.Row
	for _, r := range rows {
		orows = append(orows, r.oracleRow())
	}
	want := oracle.Resolve(p, orows, at)
	got := readIdentifiers(t, ctx, w)
	canon := func(m map[oracle.Node]string) map[oracle.Node]oracle.Node {
		first := map[string]oracle.Node{}
		for n, id := range m {
			if f, ok := first[id]; !ok || n.Type+"\x00"+n.Value < f.Type+"\x00"+f.Value {
				first[id] = n
			}
		}
		out := map[oracle.Node]oracle.Node{}
		for n, id := range m {
			out[n] = first[id]
		}
		return out
	}
	cw, cg := canon(want.ProfileOf), canon(got)
	if len(cw) != len(cg) {
		t.Fatalf("%d identifiers, oracle has %d", len(cg), len(cw))
	}
	for n, c := range cw {
		if cg[n] != c {
			t.Fatalf("%v: cluster of %v, oracle says %v", n, cg[n], c)
		}
	}
	if gd := readDropped(t, ctx, w); strings.Join(gd, "\n") != strings.Join(want.Dropped, "\n") {
		t.Fatalf("dropped links differ:\nsql:    %v\noracle: %v", gd, want.Dropped)
	}
}

// TestIncrementalScenarios replays hand-made batches on every engine: a
// merge of two existing profiles, a late row whose earlier link splits an
// existing profile under a limit, and a late row making a link earlier.
func TestIncrementalScenarios(t *testing.T) {
	batches := [][]row{{
		r1(ts(1), "email", "a@x.test", "device", "dA"),
		r1(ts(2), "email", "b@x.test", "device", "dB"),
		r1(ts(3), "user_id", "u1", "email", "c@x.test"),
		r1(ts(4), "device", "dC", "email", "c@x.test"),
		r1(ts(5), "device", "dC", "phone", "0611111111"),
		r1(nil, "card", "K1", "device", "dK"),
		r1(ts(6), "email", "n/a", "device", "dI"), // invalid email: audited once
	}, {
		r2(ts(12), "dA", "dB"),                          // merges two profiles
		r1(ts(3), "user_id", "u2", "device", "dC"),      // late, earlier than c—dC: splits u1's profile
		r1(ts(0), "email", "a@x.test", "device", "dA"),  // late: a—dA becomes earlier
		r1(nil, "card", "K1", "device", "dA"),           // no time: joins the merged profile
		r1(ts(13), "email", "n/a", "phone", "000"),      // the same invalid email again, an invalid phone
		r1(ts(14), "user_id", "\u00a0", "device", "dI"), // only an NBSP: empty after trimming
	}}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			inc, full := e.open(t), e.open(t)
			p := e.textPhones(incProject(48))
			var loaded []row
			for k, batch := range batches {
				loaded = append(loaded, batch...)
				at := *ts(10 * (k + 1))
				for _, w := range []warehouse.Warehouse{inc, full} {
					load(t, ctx, w, loaded)
				}
				id := fmt.Sprintf("r%06d", runSeq.Add(1))
				runModels(t, ctx, inc, p, at, false, id)
				runModels(t, ctx, full, p, at, true, id)
				assertSameState(t, ctx, inc, full, fmt.Sprintf("batch %d", k))
				assertClustersMatchOracle(t, ctx, inc, p, loaded, at)
			}
			ids := readIdentifiers(t, ctx, inc)
			a, b := oracle.Node{Type: "email", Value: "a@x.test"}, oracle.Node{Type: "email", Value: "b@x.test"}
			c, dc := oracle.Node{Type: "email", Value: "c@x.test"}, oracle.Node{Type: "device", Value: "dC"}
			k1 := oracle.Node{Type: "card", Value: "k1"}
			if ids[a] != ids[b] || ids[a] != ids[k1] || ids[c] == ids[dc] {
				t.Fatalf("want a, b and K1 merged and c split from dC: %v", ids)
			}
			if len(readDropped(t, ctx, inc)) != 1 {
				t.Fatalf("want one link dropped by the user_id limit, got %v", readDropped(t, ctx, inc))
			}
			// on a small engine the phone type is text (textPhones): 000 is kept
			want, which := int64(3), "n/a, 000, NBSP"
			if e.small {
				want, which = 2, "n/a, NBSP"
			}
			n, err := runner.Count(ctx, inc, "SELECT COUNT(*) FROM "+inc.Dialect().Table("cdp", "customer_identity_audit")+" WHERE kind = 'invalid'")
			if err != nil || n != want {
				t.Fatalf("want %d invalid values audited once each (%s), got %d (%v)", want, which, n, err)
			}
		})
	}
}
