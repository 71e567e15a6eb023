package engine_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/warehouse"
)

// consentSetup creates the raw tables of testdata/consent (see its
// project.yml for who is who), in the dialect's types.
func consentSetup(d warehouse.Dialect) []string {
	text, b, ts := d.TypeName(models.TypeString), d.TypeName(models.TypeBoolean), d.TypeName(models.TypeTimestamp)
	return []string{
		d.CreateSchema("cdp"),
		`CREATE TABLE cdp.raw_crm (email ` + text + `, email_opt_in ` + b + `, updated_at ` + ts + `)`,
		`INSERT INTO cdp.raw_crm (email, email_opt_in, updated_at) VALUES
		('a@x.io', TRUE, ` + at(d, 1) + `),
		('b@x.io', FALSE, ` + at(d, 1) + `),
		('c@x.io', NULL, ` + at(d, 1) + `),
		('d@x.io', TRUE, ` + at(d, 1) + `),
		('E@x.io ', FALSE, ` + at(d, 1) + `)`,
		`CREATE TABLE cdp.raw_consent_events (email ` + text + `, purpose ` + text + `, status ` + text + `, occurred_at ` + ts + `)`,
		`INSERT INTO cdp.raw_consent_events (email, purpose, status, occurred_at) VALUES
		('e@x.io', 'email_marketing', ' Granted', ` + at(d, 2) + `),
		('b@x.io', 'analytics', 'denied', ` + at(d, 2) + `),
		('c@x.io', 'email_marketing', 'maybe', ` + at(d, 2) + `),
		('c@x.io', 'email_marketing', 'granted', ` + at(d, 13) + `)`,
	}
}

// at is the first of a month of 2026 (13: January 2027) as a literal.
func at(d warehouse.Dialect, month int) string {
	return d.TimestampLiteral(time.Date(2026, time.Month(month), 1, 0, 0, 0, 0, time.UTC))
}

// loadConsent loads testdata/consent with the URLs of the webhook
// receivers of its plain sync (plain) and its unsubscribing one (unsub).
func loadConsent(t *testing.T, plain, unsub *destinationtest.Server) *models.Project {
	t.Helper()
	env := map[string]string{"HOOK_URL": plain.URL(), "HOOK_SECRET": plain.Secret, "HOOK2_URL": unsub.URL(), "HOOK2_SECRET": unsub.Secret}
	p, diags := models.LoadWithOptions("testdata/consent", models.LoadOptions{
		Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if diags.HasErrors() {
		t.Fatalf("test project does not load cleanly:\n%v", diags.Error())
	}
	return p
}

// buildModels runs the whole DAG as `cdp run` does (full).
func buildModels(t *testing.T, w warehouse.Warehouse, p *models.Project, asOf time.Time, runID string) {
	t.Helper()
	g, err := compiler.Compile(p, w.Dialect(), compiler.Options{Schema: "cdp", AsOf: asOf, RunID: runID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Run(context.Background(), w, g, g.Nodes, runID, nil); err != nil {
		t.Fatalf("run: %v", err)
	}
}

func execSQL(t *testing.T, w warehouse.Warehouse, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := w.Exec(context.Background(), s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
}

// textRows returns a query's rows, cells as text ("NULL" for nil).
func textRows(t *testing.T, w warehouse.Warehouse, q string) []string {
	t.Helper()
	rs, err := w.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			switch x := warehouse.Plain(v).(type) {
			case nil:
				cells[i] = "NULL"
			case time.Time:
				cells[i] = x.UTC().Format("2006-01-02")
			default:
				cells[i] = fmt.Sprint(x)
			}
		}
		out = append(out, strings.Join(cells, "|"))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func keysOf(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestConsentMovesMembersOutAndIn builds testdata/consent, then runs its
// two syncs (mirror, requires_consent, each to its own webhook receiver)
// while a's consent goes granted → denied → granted across runs: the plain
// sync removes a and adds a back; the one with `on_withdrawal: unsubscribe`
// delivers a's withdrawal as exactly one unsubscribe (no removal: the
// receiver keeps a, unsubscribed), drops a's state row, and adds a back
// after the new grant. b and c (no consent) and d (suppressed) are never
// sent, and the plan counts them.
func TestConsentMovesMembersOutAndIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engineEnv) {
		srv, usrv := newServer(t, destinationtest.Faults{}), newServer(t, destinationtest.Faults{})
		p := loadConsent(t, srv, usrv)
		execSQL(t, e.W, consentSetup(e.W.Dialect())...)
		asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		buildModels(t, e.W, p, asOf, "m1")

		// the consent table: state, when and by which source, allowed
		got := textRows(t, e.W, `SELECT i.id_value, c.purpose, c.state, c.decided_at, c.source, c.allowed
			FROM cdp.customer_consent AS c JOIN cdp.customer_identifiers AS i ON i.profile_id = c.profile_id`)
		want := []string{
			"a@x.io|analytics|unknown|NULL|NULL|true",
			"a@x.io|email_marketing|granted|2026-01-01|crm|true",
			"b@x.io|analytics|denied|2026-02-01|consent_events|false",
			"b@x.io|email_marketing|denied|2026-01-01|crm|false",
			// the 2027 statement is after the run's as-of: not read
			"c@x.io|analytics|unknown|NULL|NULL|true",
			"c@x.io|email_marketing|unknown|NULL|NULL|false",
			"d@x.io|analytics|unknown|NULL|NULL|true",
			"d@x.io|email_marketing|granted|2026-01-01|crm|true",
			"e@x.io|analytics|unknown|NULL|NULL|true",
			"e@x.io|email_marketing|granted|2026-02-01|consent_events|true",
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("customer_consent:\n got  %q\n want %q", got, want)
		}
		if got := textRows(t, e.W, "SELECT purpose, raw_value, reason FROM cdp.customer_consent_rejected"); !reflect.DeepEqual(got,
			[]string{"email_marketing|maybe|neither granted nor denied"}) {
			t.Fatalf("customer_consent_rejected: %q", got)
		}
		if got := textRows(t, e.W, "SELECT id_value, raw_value, reason FROM cdp.customer_suppress_legal_dnc"); !reflect.DeepEqual(got,
			[]string{"NULL|not an email|not an email", "d@x.io| D@X.IO |NULL"}) {
			t.Fatalf("suppression list table: %q", got)
		}

		eng := &engine.Engine{W: e.W, Project: p, Tables: tables(e.W)}
		s, unsub := p.Syncs[0], p.Syncs[1]
		if unsub.OnWithdrawal != models.WithdrawalUnsubscribe {
			t.Fatalf("sync %s: on_withdrawal %q", unsub.Name, unsub.OnWithdrawal)
		}
		// runUnsub runs the unsubscribing sync (runSync runs the plain one)
		runUnsub := func(label string) *engine.Result {
			t.Helper()
			res, err := eng.Run(context.Background(), unsub, engine.RunOptions{RunID: "unsub-" + label, Delivery: fastDelivery})
			if err != nil || res.Failed != 0 {
				t.Fatalf("%s: sync %s: %+v %v", label, unsub.Name, res, err)
			}
			return res
		}
		// opsOf lists the receiver's operations on a key, in order
		opsOf := func(r *destinationtest.Server, key string) []string {
			var out []string
			for _, op := range r.Ops() {
				if op.Key == key {
					out = append(out, op.Op)
				}
			}
			return out
		}
		plan, err := eng.Plan(context.Background(), s, engine.PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c := plan.Counts; c.Add != 2 || c.NoConsent != 2 || c.Suppressed != 1 || c.Skipped != 3 {
			t.Fatalf("plan counts: %+v (want 2 adds, 2 without consent, 1 suppressed)", c)
		}
		runSync(t, eng, engine.RunOptions{})
		if got := keysOf(srv.State()); !reflect.DeepEqual(got, []string{"a@x.io", "e@x.io"}) {
			t.Fatalf("run 1 delivered %v", got)
		}
		if res := runUnsub("run 1"); res.Added != 2 {
			t.Fatalf("run 1 of %s: %+v", unsub.Name, res)
		}
		if got := keysOf(usrv.State()); !reflect.DeepEqual(got, []string{"a@x.io", "e@x.io"}) {
			t.Fatalf("run 1 of %s delivered %v", unsub.Name, got)
		}

		// a withdraws: a leaves the mirror sync
		execSQL(t, e.W, `INSERT INTO cdp.raw_consent_events (email, purpose, status, occurred_at) VALUES ('A@x.io', 'email_marketing', 'opt-out', `+at(e.W.Dialect(), 3)+`)`)
		buildModels(t, e.W, p, asOf, "m2")
		// with `on_withdrawal: unsubscribe`, the same withdrawal plans an
		// unsubscribe instead of the removal
		plan, err = eng.Plan(context.Background(), unsub, engine.PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c := plan.Counts; c.Unsubscribe != 1 || c.Remove != 0 || len(plan.Samples) != 1 ||
			plan.Samples[0].Op != "unsubscribe" || plan.Samples[0].Key != "a@x.io" {
			t.Fatalf("plan with on_withdrawal unsubscribe: %+v", plan)
		}
		res := runSync(t, eng, engine.RunOptions{})
		if got := keysOf(srv.State()); !reflect.DeepEqual(got, []string{"e@x.io"}) || res.Removed != 1 || res.Unsubscribed != 0 {
			t.Fatalf("run 2 (a withdrew): destination %v, result %+v", got, res)
		}
		// … and delivers it: one unsubscribe, the receiver keeps a
		res = runUnsub("run 2")
		if res.Unsubscribed != 1 || res.Removed != 1 || res.Added+res.Changed != 0 {
			t.Fatalf("run 2 of %s (a withdrew): %+v (want 1 unsubscribe, counted as removed)", unsub.Name, res)
		}
		if got := opsOf(usrv, "a@x.io"); !reflect.DeepEqual(got, []string{"add", "unsubscribe"}) || !usrv.Unsubscribed("a@x.io") {
			t.Fatalf("run 2 of %s: a's operations at the receiver %v (want add, then one unsubscribe)", unsub.Name, got)
		}
		if got := keysOf(usrv.State()); !reflect.DeepEqual(got, []string{"a@x.io", "e@x.io"}) {
			t.Fatalf("run 2 of %s: the receiver holds %v (an unsubscribe keeps the record)", unsub.Name, got)
		}
		if got := textRows(t, e.W, "SELECT key FROM cdp.cdp_sync_state WHERE sync = '"+unsub.Name+"'"); !reflect.DeepEqual(got, []string{"e@x.io"}) {
			t.Fatalf("run 2 of %s: state keys %v (a's row must be gone)", unsub.Name, got)
		}

		// a grants again in the CRM, later: a is back
		execSQL(t, e.W, `INSERT INTO cdp.raw_crm (email, email_opt_in, updated_at) VALUES ('a@x.io', TRUE, `+at(e.W.Dialect(), 4)+`)`)
		buildModels(t, e.W, p, asOf, "m3")
		res = runSync(t, eng, engine.RunOptions{})
		if got := keysOf(srv.State()); !reflect.DeepEqual(got, []string{"a@x.io", "e@x.io"}) || res.Added != 1 {
			t.Fatalf("run 3 (a granted again): destination %v, result %+v", got, res)
		}
		if res = runUnsub("run 3"); res.Added != 1 || res.Changed+res.Removed != 0 {
			t.Fatalf("run 3 of %s (a granted again): %+v", unsub.Name, res)
		}
		if got := opsOf(usrv, "a@x.io"); !reflect.DeepEqual(got, []string{"add", "unsubscribe", "add"}) {
			t.Fatalf("run 3 of %s: a's operations at the receiver %v (want add, unsubscribe, add)", unsub.Name, got)
		}
		if got := textRows(t, e.W, "SELECT key FROM cdp.cdp_sync_state WHERE sync = '"+unsub.Name+"'"); !reflect.DeepEqual(got, []string{"a@x.io", "e@x.io"}) {
			t.Fatalf("run 3 of %s: state keys %v", unsub.Name, got)
		}
		for _, r := range []*destinationtest.Server{srv, usrv} {
			for _, op := range r.Ops() {
				if op.Key == "b@x.io" || op.Key == "c@x.io" || op.Key == "d@x.io" {
					t.Fatalf("%s was sent (%s) without consent or while suppressed", op.Key, op.Op)
				}
			}
		}
	})
}
