package identity_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/internal/oracle"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/warehouse"
)

func ts(h int) *time.Time {
	t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(h) * time.Hour)
	return &t
}

func r1(t *time.Time, kv ...string) row {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return row{source: "s1", ts: t, vals: m}
}

func r2(t *time.Time, a, b string) row {
	return row{source: "s2", ts: t, vals: map[string]string{"device": a, "device2": b}}
}

// randomRows makes a messy graph: people with several identifiers in varied
// formats, shared devices across people, junk values and tied timestamps.
func randomRows(seed uint64, people int) []row {
	rnd := rand.New(rand.NewPCG(seed, seed*7+1))
	var rows []row
	pick := func() *time.Time {
		if rnd.IntN(10) == 0 {
			return nil
		}
		return ts(rnd.IntN(2000))
	}
	type person struct{ ids map[string][]string }
	ps := make([]person, people)
	for i := range ps {
		ids := map[string][]string{}
		if rnd.IntN(10) < 8 {
			ids["user_id"] = []string{fmt.Sprintf("u%d", i)}
		}
		for k := 0; k <= rnd.IntN(2); k++ {
			e := fmt.Sprintf("p%d.%d@mail.test", i, k)
			if rnd.IntN(3) == 0 {
				e = " " + strings.ToUpper(e) + " "
			}
			ids["email"] = append(ids["email"], e)
		}
		for k := 0; k < rnd.IntN(3); k++ {
			n := fmt.Sprintf("6%08d", rnd.IntN(100000000))
			switch rnd.IntN(3) {
			case 0:
				n = "0" + n[:1] + " " + n[1:3] + " " + n[3:5] + " " + n[5:]
			case 1:
				n = "+33 " + n
			default:
				n = "0033" + n
			}
			ids["phone"] = append(ids["phone"], n)
		}
		for k := 0; k <= rnd.IntN(3); k++ {
			ids["device"] = append(ids["device"], fmt.Sprintf("d%d.%d", i, k))
		}
		if rnd.IntN(10) < 3 {
			ids["card"] = []string{fmt.Sprintf("LC%05d", i)}
		}
		ps[i] = person{ids}
	}
	anyOf := func(p person, typ string) (string, bool) {
		v := p.ids[typ]
		if len(v) == 0 {
			return "", false
		}
		return v[rnd.IntN(len(v))], true
	}
	for i, p := range ps {
		for k := 0; k < 2+rnd.IntN(4); k++ {
			r := r1(pick())
			for _, c := range []string{"user_id", "email", "phone", "device", "card"} {
				if rnd.IntN(2) == 0 {
					if v, ok := anyOf(p, c); ok {
						r.vals[c] = v
					}
				}
			}
			rows = append(rows, r)
		}
		if devs := p.ids["device"]; len(devs) > 1 {
			rows = append(rows, r2(pick(), devs[0], devs[len(devs)-1]))
		}
		switch rnd.IntN(25) {
		case 0: // shared device: another person's device next to this user
			j := rnd.IntN(people)
			if d, ok := anyOf(ps[j], "device"); ok {
				if u, ok := anyOf(p, "user_id"); ok {
					rows = append(rows, r1(pick(), "user_id", u, "device", d))
				}
			}
		case 1: // junk
			rows = append(rows, r1(pick(), "email", []string{"n/a", "test@shop.test", "x@example.com", ""}[rnd.IntN(4)],
				"phone", "000", "device", fmt.Sprintf("d%d.0", i)))
		case 2: // a phone shared by a household
			j := rnd.IntN(people)
			if ph, ok := anyOf(ps[j], "phone"); ok {
				if e, ok := anyOf(p, "email"); ok {
					rows = append(rows, r1(pick(), "email", e, "phone", ph))
				}
			}
		}
	}
	return rows
}

func TestRandomGraphsMatchOracle(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			w := e.open(t)
			for seed := uint64(1); seed <= e.seeds(); seed++ {
				rows := randomRows(seed, e.people())
				load(t, ctx, w, rows)
				build(t, ctx, w, e.project(), fmt.Sprintf("run%d", seed))
				assertMatchesOracle(t, ctx, w, e.project(), rows)
				if seed == 1 {
					// a second run on the same data keeps every ID
					before := readIdentifiers(t, ctx, w)
					build(t, ctx, w, e.project(), "again")
					after := readIdentifiers(t, ctx, w)
					for n, p := range before {
						if after[n] != p {
							t.Fatalf("rerun changed %v: %s → %s", n, p, after[n])
						}
					}
				}
				dropTables(t, ctx, w)
			}
		})
	}
}

func dropTables(t *testing.T, ctx context.Context, w warehouse.Warehouse) {
	t.Helper()
	for _, n := range []string{"customer_identifiers", "customer_identity_audit"} {
		if _, err := w.Exec(ctx, w.Dialect().DropTable(w.Dialect().Table("cdp", n))); err != nil {
			t.Fatal(err)
		}
	}
}

// rounds returns how many rounds the components loop ran.
func rounds(stats []runner.LoopStat, prefix string) int {
	for _, s := range stats {
		if strings.HasPrefix(s.Label, prefix) {
			return s.Rounds
		}
	}
	return -1
}

func TestLongChainConvergesInLogRounds(t *testing.T) {
	const n = 10001
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			if e.small {
				t.Skip("a 10,001-node chain is too slow on the emulator; the random graphs and the retail example cover the same SQL")
			}
			ctx := context.Background()
			w := e.open(t)
			// a path of n devices whose names (and so node IDs) are shuffled along it
			perm := rand.New(rand.NewPCG(3, 4)).Perm(n)
			var rows []row
			for i := 0; i+1 < n; i++ {
				rows = append(rows, r2(ts(i), fmt.Sprintf("dev%06d", perm[i]), fmt.Sprintf("dev%06d", perm[i+1])))
			}
			load(t, ctx, w, rows)
			stats := build(t, ctx, w, e.project(), "chain")
			got := readIdentifiers(t, ctx, w)
			ids := map[string]bool{}
			for _, p := range got {
				ids[p] = true
			}
			if len(got) != n || len(ids) != 1 {
				t.Fatalf("want %d identifiers in 1 profile, got %d in %d", n, len(got), len(ids))
			}
			r := rounds(stats, "connected components (all)")
			bound := 2 * int(math.Ceil(math.Log2(n)))
			t.Logf("chain of %d: %d rounds (bound %d); loops %+v", n, r, bound, stats)
			if r < 1 || r > bound {
				t.Fatalf("components took %d rounds for a chain of %d; want ≤ %d (O(log n))", r, n, bound)
			}
			assertMatchesOracle(t, ctx, w, e.project(), rows)
		})
	}
}

func TestSharedDeviceRespectsUserLimit(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			w := e.open(t)
			rows := []row{
				r1(ts(1), "user_id", "alice", "email", "alice@mail.test"),
				r1(ts(2), "user_id", "bob", "email", "bob@mail.test"),
				r1(ts(10), "user_id", "alice", "device", "family-pc"),
				r1(ts(20), "user_id", "bob", "device", "family-pc"),
				r2(ts(30), "family-pc", "tablet"),
			}
			load(t, ctx, w, rows)
			build(t, ctx, w, e.project(), "shared")
			got := readIdentifiers(t, ctx, w)
			alice, bob := got[oracle.Node{Type: "user_id", Value: "alice"}], got[oracle.Node{Type: "user_id", Value: "bob"}]
			if alice == bob {
				t.Fatalf("alice and bob merged into %s despite user_id limit 1", alice)
			}
			if got[oracle.Node{Type: "device", Value: "family-pc"}] != alice || got[oracle.Node{Type: "device", Value: "tablet"}] != alice {
				t.Fatalf("the shared device should stay with the earlier link (alice): %v", got)
			}
			dropped := readDropped(t, ctx, w)
			if len(dropped) != 1 || dropped[0] != "device:family-pc|user_id:bob" {
				t.Fatalf("audit should hold the dropped device–bob link, got %v", dropped)
			}
			assertMatchesOracle(t, ctx, w, e.project(), rows)
		})
	}
}

func TestJunkValuesLinkNothing(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			w := e.open(t)
			rows := []row{
				r1(ts(1), "user_id", "u1", "email", "n/a", "phone", "000"),
				r1(ts(2), "user_id", "u2", "email", "n/a", "phone", "000"),
				r1(ts(3), "user_id", "u3", "email", "TEST@shop.test"),
				r1(ts(4), "user_id", "u4", "email", "test@shop.test"),
				r1(ts(5), "user_id", "u5", "email", "someone@example.com"),
				r1(ts(6), "user_id", "u6", "email", "someone@example.com"),
				r1(ts(7), "user_id", "  ", "email", "", "card", " LC1 "),
				r1(ts(8), "user_id", "u8", "card", "lc1"),
			}
			load(t, ctx, w, rows)
			build(t, ctx, w, e.project(), "junk")
			got := readIdentifiers(t, ctx, w)
			seen := map[string]bool{}
			for i := 1; i <= 6; i++ {
				p := got[oracle.Node{Type: "user_id", Value: fmt.Sprintf("u%d", i)}]
				if p == "" || seen[p] {
					t.Fatalf("u%d should be alone in its profile: %v", i, got)
				}
				seen[p] = true
			}
			if got[oracle.Node{Type: "card", Value: "lc1"}] != got[oracle.Node{Type: "user_id", Value: "u8"}] {
				t.Fatalf("card normalized to lowercase should link u8")
			}
			var n int64
			n, err := runner.Count(ctx, w, "SELECT COUNT(*) FROM "+w.Dialect().Table("cdp", "customer_identity_audit")+" WHERE kind = 'excluded'")
			if err != nil || n != 2 {
				t.Fatalf("want 2 excluded values in the audit (test@shop.test, someone@example.com), got %d (%v)", n, err)
			}
			assertMatchesOracle(t, ctx, w, e.project(), rows)
		})
	}
}

func TestGiantStar(t *testing.T) {
	const spokes = 3000
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			if e.small {
				t.Skip("a 3,000-spoke star is too slow on the emulator")
			}
			ctx := context.Background()
			w := e.open(t)
			var rows []row
			for i := 0; i < spokes; i++ {
				// one kiosk device used by every user: only the first link may stay
				rows = append(rows, r1(ts(spokes-i), "user_id", fmt.Sprintf("u%04d", i), "device", "kiosk"))
				// one card shared by thousands of emails (no limit): a huge profile, reported
				rows = append(rows, r1(ts(i), "email", fmt.Sprintf("e%04d@mail.test", i), "card", "staff-card"))
			}
			load(t, ctx, w, rows)
			build(t, ctx, w, e.project(), "star")
			got := readIdentifiers(t, ctx, w)
			last := fmt.Sprintf("u%04d", spokes-1) // earliest timestamp
			if got[oracle.Node{Type: "device", Value: "kiosk"}] != got[oracle.Node{Type: "user_id", Value: last}] {
				t.Fatalf("kiosk should stay with the earliest user %s", last)
			}
			if d := readDropped(t, ctx, w); len(d) != spokes-1 {
				t.Fatalf("want %d dropped links, got %d", spokes-1, len(d))
			}
			n, err := runner.Count(ctx, w, "SELECT COUNT(*) FROM "+w.Dialect().Table("cdp", "customer_identity_audit")+" WHERE kind = 'oversized'")
			if err != nil || n != 1 {
				t.Fatalf("want the card profile reported as oversized once, got %d (%v)", n, err)
			}
			assertMatchesOracle(t, ctx, w, e.project(), rows)
		})
	}
}

func TestStableIDsAcrossMergesAndSplits(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			w := e.open(t)
			id := func(got map[oracle.Node]string, typ, v string) string { return got[oracle.Node{Type: typ, Value: v}] }
			older := []row{r1(ts(1), "email", "old@mail.test", "device", "d-old")}
			younger := []row{r1(ts(50), "email", "young@mail.test", "device", "d-young")}
			link := []row{r2(ts(60), "d-old", "d-young")}

			load(t, ctx, w, append(append([]row{}, older...), younger...))
			build(t, ctx, w, e.project(), "run1")
			g1 := readIdentifiers(t, ctx, w)
			pOld, pYoung := id(g1, "email", "old@mail.test"), id(g1, "email", "young@mail.test")
			if pOld == pYoung {
				t.Fatal("two people merged before any link")
			}

			// merge: the older profile ID survives
			load(t, ctx, w, append(append(append([]row{}, younger...), link...), older...))
			build(t, ctx, w, e.project(), "run2")
			g2 := readIdentifiers(t, ctx, w)
			if id(g2, "email", "young@mail.test") != pOld || id(g2, "device", "d-young") != pOld {
				t.Fatalf("merge: want everyone in the older profile %s, got %v", pOld, g2)
			}

			// split: the part with the oldest identifier keeps the ID
			load(t, ctx, w, append(append([]row{}, younger...), older...))
			build(t, ctx, w, e.project(), "run3")
			g3 := readIdentifiers(t, ctx, w)
			if id(g3, "email", "old@mail.test") != pOld {
				t.Fatalf("split: the part with the oldest identifier must keep %s, got %s", pOld, id(g3, "email", "old@mail.test"))
			}
			if p := id(g3, "email", "young@mail.test"); p == pOld || p == "" {
				t.Fatalf("split: the younger part needs its own ID, got %q", p)
			}

			// a profile keeps its ID while it keeps any identifier, even when its oldest one goes
			load(t, ctx, w, append(append([]row{}, younger...),
				r1(ts(70), "device", "d-old", "email", "new@mail.test")))
			build(t, ctx, w, e.project(), "run4")
			g4 := readIdentifiers(t, ctx, w)
			if id(g4, "email", "new@mail.test") != pOld || id(g4, "email", "old@mail.test") != "" {
				t.Fatalf("the profile holding d-old must keep %s: %v", pOld, g4)
			}
		})
	}
}

// TestInvalidValuesAudited checks that every value a normalizer rejects is
// written to the audit table (kind invalid, with the reason), that hostile
// whitespace and case still link, and the per-type counts `cdp run` prints.
func TestInvalidValuesAudited(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			w := e.open(t)
			rows := []row{
				r1(ts(1), "user_id", "u1", "email", "JÜRGEN@GMX.DE\u00a0", "phone", "000"),
				r1(ts(2), "user_id", "\u200bu2\t", "email", "\ufeffjürgen@gmx.de\n"),
				r1(ts(3), "user_id", " \u00a0 ", "email", "n/a", "card", "\u3000"),
				r1(ts(4), "user_id", "u4", "email", "a b@mail.test", "card", "LC1"),
				r1(ts(5), "user_id", "u5", "email", "test@shop.test", "phone", "000"),
			}
			load(t, ctx, w, rows)
			build(t, ctx, w, testProject(), "invalid")
			got := readIdentifiers(t, ctx, w)
			if p := got[oracle.Node{Type: "email", Value: "jürgen@gmx.de"}]; p == "" || p != got[oracle.Node{Type: "user_id", Value: "u1"}] {
				t.Fatalf("JÜRGEN@GMX.DE with an NBSP should normalize to jürgen@gmx.de and link u1: %v", got)
			}
			// u2 (with a zero-width space and a tab) shares the email with u1,
			// but user_id has limit 1: they stay apart
			if u2 := got[oracle.Node{Type: "user_id", Value: "u2"}]; u2 == "" || u2 == got[oracle.Node{Type: "user_id", Value: "u1"}] {
				t.Fatalf("u2 should be trimmed and kept apart from u1 (limit 1): %v", got)
			}
			audit, err := w.Query(ctx, "SELECT id_type_a, id_value_a, reason FROM "+
				w.Dialect().Table("cdp", "customer_identity_audit")+" WHERE kind = 'invalid'")
			if err != nil {
				t.Fatal(err)
			}
			var inv []string
			for audit.Next() {
				var typ, val, reason string
				if err := audit.Scan(&typ, &val, &reason); err != nil {
					t.Fatal(err)
				}
				inv = append(inv, fmt.Sprintf("%s:%q:%s", typ, val, reason))
			}
			audit.Close()
			sort.Strings(inv)
			want := []string{
				`card:"\u3000":empty after trimming`,
				`email:"a b@mail.test":not an email`,
				`email:"n/a":not an email`,
				`phone:"000":invalid number for FR`,
				`user_id:" \u00a0 ":empty after trimming`,
			}
			if strings.Join(inv, "\n") != strings.Join(want, "\n") {
				t.Fatalf("invalid audit rows:\n%s\nwant:\n%s", strings.Join(inv, "\n"), strings.Join(want, "\n"))
			}
			tb := layout.Tables{D: w.Dialect(), Schema: "cdp", Entity: "customer"}
			counts, err := runner.IDTypeCounts(ctx, w, tb, []string{"user_id", "email", "phone", "card", "device"})
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, c := range counts {
				lines = append(lines, fmt.Sprintf("%s kept=%d merged=%d excluded=%d invalid=%d", c.IDType, c.Kept, c.Merged, c.Excluded, c.Invalid))
			}
			wantCounts := []string{
				"user_id kept=4 merged=2 excluded=0 invalid=1",
				"email kept=1 merged=1 excluded=1 invalid=2",
				"phone kept=0 merged=0 excluded=0 invalid=1",
				"card kept=1 merged=1 excluded=0 invalid=1",
				"device kept=0 merged=0 excluded=0 invalid=0",
			}
			if strings.Join(lines, "\n") != strings.Join(wantCounts, "\n") {
				t.Fatalf("counts:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(wantCounts, "\n"))
			}
		})
	}
}
