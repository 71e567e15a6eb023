package engine_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/privacy"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/sync/synctest"
	"github.com/cdpkit/cdp/warehouse"
)

// eraseSetup creates the raw tables of testdata/erase.
func eraseSetup(d warehouse.Dialect) []string {
	text, num, ts := d.TypeName(models.TypeString), d.TypeName(models.TypeNumber), d.TypeName(models.TypeTimestamp)
	return []string{
		d.CreateSchema("cdp"),
		`CREATE TABLE cdp.raw_crm (customer_id ` + text + `, email ` + text + `, first_name ` + text + `, updated_at ` + ts + `)`,
		`INSERT INTO cdp.raw_crm (customer_id, email, first_name, updated_at) VALUES
		('cust-001', 'camille.moreau@orange.fr', 'Camille', ` + at(d, 1) + `),
		('cust-001', ' Camille.Moreau@Orange.fr', 'Camille', ` + at(d, 2) + `),
		('cust-002', 'bob@x.io', 'Bob', ` + at(d, 1) + `),
		('cust-003', 'dana@x.io', 'Dana', ` + at(d, 1) + `)`,
		`CREATE TABLE cdp.raw_orders (customer_id ` + text + `, amount ` + num + `, ordered_at ` + ts + `)`,
		`INSERT INTO cdp.raw_orders (customer_id, amount, ordered_at) VALUES
		('cust-001', 10, ` + at(d, 1) + `), ('cust-001', 20, ` + at(d, 2) + `),
		('cust-002', 5, ` + at(d, 1) + `), ('cust-003', 7, ` + at(d, 1) + `)`,
	}
}

// buildAsRun runs the DAG as `cdp run` does: erasure requests applied
// first, the mode decided on the warehouse (full or incremental).
func buildAsRun(t *testing.T, w warehouse.Warehouse, p *models.Project, asOf time.Time, runID string) compiler.Mode {
	t.Helper()
	ctx := context.Background()
	tb := tables(w)
	er, err := privacy.Apply(ctx, w, tb, p, asOf)
	if err != nil {
		t.Fatal(err)
	}
	mode, err := runner.DecideMode(ctx, w, tb, runner.ModeRequest{Fingerprint: compiler.Fingerprint(p), AsOf: asOf, Erasures: er})
	if err != nil {
		t.Fatal(err)
	}
	g, err := compiler.Compile(p, w.Dialect(), compiler.Options{Schema: "cdp", AsOf: asOf, RunID: runID, Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Run(ctx, w, g, g.Nodes, runID, nil); err != nil {
		t.Fatalf("run %s: %v", runID, err)
	}
	return mode
}

// eraseEnv is the environment testdata/erase reads: the newsletter's
// receiver (HOOK_URL, HOOK_SECRET) and the CRM's (HOOK2_URL, HOOK2_SECRET).
func eraseEnv(news, crm *destinationtest.Server) map[string]string {
	return map[string]string{"HOOK_URL": news.URL(), "HOOK2_URL": crm.URL(), "HOOK_SECRET": news.Secret, "HOOK2_SECRET": crm.Secret}
}

// loadErase loads testdata/erase with env (see eraseEnv).
func loadErase(t testing.TB, env map[string]string) *models.Project {
	t.Helper()
	p, diags := models.LoadWithOptions("testdata/erase", models.LoadOptions{
		Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if diags.HasErrors() {
		t.Fatalf("test project:\n%v", diags.Error())
	}
	return p
}

// syncedErase loads testdata/erase for the two receivers, creates its raw
// tables on w, builds it (run m1, as of asOf) and runs each of its syncs
// once: both receivers hold the three customers.
func syncedErase(t *testing.T, w warehouse.Warehouse, news, crm *destinationtest.Server, asOf time.Time) (*models.Project, *engine.Engine) {
	t.Helper()
	p := loadErase(t, eraseEnv(news, crm))
	execSQL(t, w, eraseSetup(w.Dialect())...)
	buildAsRun(t, w, p, asOf, "m1")
	eng := &engine.Engine{W: w, Project: p, Tables: tables(w)}
	for _, s := range p.Syncs {
		if _, err := eng.Run(context.Background(), s, engine.RunOptions{RunID: "s1-" + s.Name, Delivery: fastDelivery}); err != nil {
			t.Fatal(err)
		}
	}
	if len(news.State()) != 3 || len(crm.State()) != 3 {
		t.Fatalf("first syncs: %v / %v", keysOf(news.State()), keysOf(crm.State()))
	}
	return p, eng
}

// personCells lists the cells of every CDP table (not the raw sources)
// that hold one of the needles.
func personCells(t *testing.T, w warehouse.Warehouse, needles ...string) []string {
	t.Helper()
	names := textRows(t, w, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'cdp' AND table_type = 'BASE TABLE'")
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, "raw_") {
			continue
		}
		for _, row := range textRows(t, w, "SELECT * FROM cdp."+w.Dialect().QuoteIdent(n)) {
			for _, nd := range needles {
				if strings.Contains(strings.ToLower(row), nd) {
					out = append(out, n+": "+row)
				}
			}
		}
	}
	return out
}

// eraseOthers reads the identifiers and segments of everyone but Camille
// (cust-001), who must not move when she is forgotten.
const eraseOthers = "SELECT i.id_value, i.profile_id, s.segment FROM cdp.customer_identifiers i LEFT JOIN cdp.customer_segments s ON s.profile_id = i.profile_id WHERE i.id_value NOT LIKE '%camille%' AND i.id_value <> 'cust-001'"

// TestForgetErasesEverywhere forgets Camille after two syncs delivered
// her: the next run removes her from every CDP table and tombstones both
// her identifiers (salted hashes only); the syncs erase her at both
// webhooks, the first one through a failed attempt that the next run
// retries; Bob's and Dana's profile IDs and memberships do not move; and
// new source rows with her email rebuild nobody, incrementally or in full.
func TestForgetErasesEverywhere(t *testing.T) {
	synctest.ForEach(t, []synctest.Engine{synctest.DuckDB, synctest.Postgres}, func(t *testing.T, e engineEnv) {
		ctx := context.Background()
		news, crm := newServer(t, destinationtest.Faults{}), newServer(t, destinationtest.Faults{})
		asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		p, eng := syncedErase(t, e.W, news, crm, asOf)
		before := textRows(t, e.W, eraseOthers)

		// cdp forget, by an email written differently from the sources
		r, err := privacy.Forget(ctx, e.W, eng.Tables, p, "email:CAMILLE.moreau@orange.fr ", "DSR 2026-114", asOf)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := privacy.Forget(ctx, e.W, eng.Tables, p, "email:camille.moreau@orange.fr", "", asOf); err != nil || !again.Existing || again.ID != r.ID {
			t.Fatalf("a second forget of the same person: %+v, %v (want the existing request)", again, err)
		}
		if mode := buildAsRun(t, e.W, p, asOf, "m2"); mode.Incremental {
			t.Fatalf("the run that applies an erasure must be full: %+v", mode)
		}
		if got := textRows(t, e.W, "SELECT id_type FROM cdp.cdp_tombstones"); !reflect.DeepEqual(got, []string{"customer_id", "email"}) {
			t.Fatalf("tombstones: %v (want both of Camille's identifiers)", got)
		}
		if got := textRows(t, e.W, "SELECT sync, status FROM cdp.cdp_erasure_targets"); !reflect.DeepEqual(got,
			[]string{"crm_upsert|pending", "newsletter|pending"}) {
			t.Fatalf("erasure targets: %v", got)
		}
		if after := textRows(t, e.W, eraseOthers); !reflect.DeepEqual(after, before) {
			t.Fatalf("the others changed:\n before %v\n after  %v", before, after)
		}
		if got := textRows(t, e.W, "SELECT email, ltv FROM cdp.customer_profiles"); !reflect.DeepEqual(got, []string{"bob@x.io|5", "dana@x.io|7"}) {
			t.Fatalf("profiles after the erasure: %v", got)
		}

		// the plan erases her, in mirror and in upsert mode
		for _, s := range p.Syncs {
			plan, err := eng.Plan(ctx, s, engine.PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if c := plan.Counts; c.Erase != 1 || c.Remove != 0 || c.Add != 0 || len(plan.Samples) != 1 || plan.Samples[0].Op != "erase" {
				t.Fatalf("plan %s: %+v", s.Name, plan)
			}
		}

		// the newsletter webhook is down: the erasure stays pending, retried
		news.SetFaults(destinationtest.Faults{StatusEvery: 1, Status: 503})
		res, _ := eng.Run(ctx, p.Syncs[0], engine.RunOptions{RunID: "s2-down", Delivery: fastDelivery})
		if res == nil || res.Erased != 0 {
			t.Fatalf("run against a down webhook: %+v", res)
		}
		if got := textRows(t, e.W, "SELECT status FROM cdp.cdp_erasure_targets WHERE sync = 'newsletter' AND error IS NOT NULL AND key IS NOT NULL"); !reflect.DeepEqual(got, []string{"pending"}) {
			t.Fatalf("a failed erasure must stay pending with its error: %v", got)
		}
		if n := len(textRows(t, e.W, "SELECT key FROM cdp.cdp_sync_state WHERE sync = 'newsletter' AND key LIKE 'camille%'")); n != 1 {
			t.Fatalf("the state row of an unconfirmed erasure must stay (got %d)", n)
		}
		news.SetFaults(destinationtest.Faults{})
		for _, s := range p.Syncs {
			res, err := eng.Run(ctx, s, engine.RunOptions{RunID: "s3-" + s.Name, Delivery: fastDelivery})
			if err != nil || res.Erased != 1 {
				t.Fatalf("sync %s: %+v %v", s.Name, res, err)
			}
		}
		for _, srv := range []*destinationtest.Server{news, crm} {
			if got := srv.Erased(); !reflect.DeepEqual(got, []string{"camille.moreau@orange.fr"}) {
				t.Fatalf("erased at the receiver: %v", got)
			}
		}
		st, err := privacy.Status(ctx, e.W, eng.Tables)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 1 || st[0].State != "complete" || len(st[0].Targets) != 2 || st[0].Reason != "DSR 2026-114" {
			t.Fatalf("ledger: %+v", st)
		}
		for _, g := range st[0].Targets {
			if g.Status != privacy.TargetErased || g.Receipt == "" || g.ConfirmedAt == nil {
				t.Fatalf("target %+v: want erased with a receipt", g)
			}
		}
		if got := personCells(t, e.W, "camille", "cust-001"); len(got) > 0 {
			t.Fatalf("the forgotten person is still in CDP tables:\n%s", strings.Join(got, "\n"))
		}

		// new rows with her email arrive: nobody is rebuilt from them
		d := e.W.Dialect()
		execSQL(t, e.W, `INSERT INTO cdp.raw_crm (customer_id, email, first_name, updated_at) VALUES ('cust-009', 'camille.moreau@orange.fr', 'Camille', `+at(d, 4)+`)`,
			`INSERT INTO cdp.raw_orders (customer_id, amount, ordered_at) VALUES ('cust-009', 99, `+at(d, 4)+`), ('cust-001', 1, `+at(d, 4)+`)`)
		asOf2 := asOf.Add(24 * time.Hour)
		if mode := buildAsRun(t, e.W, p, asOf2, "m3"); !mode.Incremental {
			t.Fatalf("the run after the erasure should be incremental: %+v", mode)
		}
		// (cust-009's orders alone do not say who it is: that profile has
		// no email and no name, since the CRM row tying it to her is dropped)
		if got := personCells(t, e.W, "camille", "cust-001"); len(got) > 0 {
			t.Fatalf("an incremental run rebuilt the forgotten person:\n%s", strings.Join(got, "\n"))
		}
		anon := "SELECT p.email, p.first_name, p.ltv FROM cdp.customer_profiles p JOIN cdp.customer_identifiers i ON i.profile_id = p.profile_id WHERE i.id_value = 'cust-009'"
		if got := textRows(t, e.W, anon); !reflect.DeepEqual(got, []string{"NULL|NULL|99"}) {
			t.Fatalf("cust-009 after an incremental run: %v", got)
		}
		er, err := privacy.Current(ctx, e.W, eng.Tables)
		if err != nil {
			t.Fatal(err)
		}
		full, err := compiler.Compile(p, d, compiler.Options{Schema: "cdp", AsOf: asOf2, RunID: "m4", Mode: compiler.Mode{Erasures: er}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := runner.Run(ctx, e.W, full, full.Nodes, "m4", nil); err != nil {
			t.Fatal(err)
		}
		if got := personCells(t, e.W, "camille", "cust-001"); len(got) > 0 {
			t.Fatalf("a full run rebuilt the forgotten person:\n%s", strings.Join(got, "\n"))
		}
		if got := textRows(t, e.W, anon); !reflect.DeepEqual(got, []string{"NULL|NULL|99"}) {
			t.Fatalf("cust-009 after a full run: %v", got)
		}
		if after := textRows(t, e.W, eraseOthers+" AND i.id_value <> 'cust-009'"); !reflect.DeepEqual(after, before) {
			t.Fatalf("the others changed:\n before %v\n after  %v", before, after)
		}
		for _, s := range p.Syncs {
			res, err := eng.Run(ctx, s, engine.RunOptions{RunID: "s4-" + s.Name, Delivery: fastDelivery})
			if err != nil || res.Added+res.Changed+res.Removed+res.Erased != 0 {
				t.Fatalf("sync %s after the erasure: %+v %v", s.Name, res, err)
			}
		}
	})
}
