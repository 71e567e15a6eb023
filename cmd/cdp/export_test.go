package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

// exportProject is a small shop: contacts (a table) and orders (SQL), two
// consent purposes, a do-not-contact file, a segment and two webhook syncs.
//
// Ana has two emails and a phone number across three contacts rows (one
// spelled " Ana.Lima@Shop.Test ", one holding only her number written
// another way) and a user_id in two orders (one without an email). Bob has
// one email and one user_id, in one contact and one refunded order, and is
// on the do-not-contact list. Carl only ordered.
var exportProject = map[string]string{
	"cdp.yml": `name: shop
entity: customer
model_paths: [models]
seed_paths: [seeds]
target: local
targets:
  local: { type: duckdb, path: .cdp/shop.duckdb, schema: cdp }
  pg:    { type: postgres, dsn: "${CDP_POSTGRES_DSN}", schema: cdp }
`,
	"models/shop.yml": `identity:
  id_types:
    - { name: user_id, limit: 1 }
    - { name: email, normalize: email }
    - { name: phone, normalize: phone, default_country: FR }
sources:
  - name: contacts
    table: cdp.seed_contacts
    primary_key: contact_id
    timestamp: updated_at
    identifiers:
      - { column: email, type: email }
      - { column: phone, type: phone }
  - name: orders
    sql: select order_id, customer_id, email, CAST(amount AS NUMERIC(10, 2)) AS amount, status, ordered_at from cdp.seed_orders
    primary_key: order_id
    timestamp: ordered_at
    identifiers:
      - { column: customer_id, type: user_id }
      - { column: email, type: email }
traits:
  - { name: email, from: [contacts.email, orders.email], pick: latest }
  - { name: first_name, from: contacts.first_name, pick: latest }
  - { name: lifetime_value, from: orders.amount, aggregate: sum, where: "status = 'paid'" }
  - { name: orders_count, from: orders, aggregate: count, where: "status = 'paid'" }
  - { name: last_order_at, from: orders.ordered_at, aggregate: max }
segments:
  - name: buyers
    where: { all: [{ trait: orders_count, gte: 1 }] }
consent:
  purposes:
    - name: email_marketing
      from: [{ source: contacts, column: email_opt_in }]
    - name: sms_marketing
      default: granted
      from: [{ source: contacts, column: sms_opt_in }]
suppress:
  - { name: dnc, file: suppress/dnc.csv, identifiers: [{ column: email, type: email }] }
destinations:
  - { name: crm, type: webhook, url: "${CRM_HOOK_URL}", secret: "${CRM_HOOK_SECRET}" }
syncs:
  - name: buyers_to_crm
    segment: buyers
    destination: crm
    mode: mirror
    key: email
    fields: { email: email, first_name: first_name, lifetime_value: lifetime_value }
  - name: everyone_to_crm
    all_profiles: true
    destination: crm
    key: profile_id
    fields: { profile_id: profile_id, orders: orders_count }
`,
	"seeds/contacts.csv": `contact_id,email,phone,first_name,email_opt_in,sms_opt_in,updated_at
1," Ana.Lima@Shop.Test ",06 12 34 56 78,Ana,true,yes,2026-01-10T09:00:00Z
2,ana.work@shop.test,+33612345678,Ana,false,maybe,2026-03-05T12:30:00Z
3,bob@shop.test,,Bob,,,2026-02-01T08:00:00Z
4,,+33 6 12 34 56 78,Ana,,,2026-04-01T16:20:00Z
`,
	"seeds/orders.csv": `order_id,customer_id,email,amount,status,ordered_at
A1,u1,ana.lima@shop.test,10.50,paid,2026-01-15T10:00:00Z
A2,u1,,20.25,paid,2026-02-20T18:45:30Z
B1,u2,bob@shop.test,5.00,refunded,2026-02-02T09:00:00Z
C1,u3,carl@shop.test,99.99,paid,2026-03-01T00:00:00Z
`,
	"suppress/dnc.csv": "email\nBOB@shop.test\n",
}

// exportEngine runs the CLI on one target and reads its warehouse directly.
type exportEngine struct {
	target string
	open   func(ctx context.Context) (warehouse.Warehouse, error)
}

// TestProfileExport: the export contains exactly what the tables hold, on
// DuckDB and PostgreSQL.
func TestProfileExport(t *testing.T) {
	t.Run("duckdb", func(t *testing.T) {
		dir := writeExportProject(t)
		checkExport(t, dir, exportEngine{target: "local", open: func(ctx context.Context) (warehouse.Warehouse, error) {
			return duckdb.Open(ctx, filepath.Join(dir, ".cdp", "shop.duckdb"))
		}})
	})
	t.Run("postgres", func(t *testing.T) {
		dir := writeExportProject(t)
		dsn := pgtest.DSN(t)
		t.Setenv("CDP_POSTGRES_DSN", dsn)
		checkExport(t, dir, exportEngine{target: "pg", open: func(ctx context.Context) (warehouse.Warehouse, error) {
			return postgres.Open(ctx, dsn)
		}})
	})
}

func writeExportProject(t *testing.T) string {
	t.Helper()
	cleanEnv(t)
	dir := filepath.Join(t.TempDir(), "shop")
	for name, body := range exportProject {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func checkExport(t *testing.T, dir string, e exportEngine) {
	srv := destinationtest.New(t, destinationtest.Options{})
	t.Setenv("CRM_HOOK_URL", srv.URL()+"/hooks/crm")
	t.Setenv("CRM_HOOK_SECRET", srv.Secret)
	cli := func(want int, args ...string) result {
		t.Helper()
		return mustCDP(t, want, append([]string{"--project", dir, "--target", e.target}, args...)...)
	}
	cli(0, "seed")
	cli(0, "run", "--as-of", "2026-05-01")
	cli(0, "sync", "run", "buyers_to_crm")
	srv.SetFaults(destinationtest.Faults{RejectRate: 1})
	cli(1, "sync", "run", "everyone_to_crm") // every record rejected: cdp_sync_rejections
	srv.SetFaults(destinationtest.Faults{})
	// Carl is forgotten: the next run drops him, the next sync erases him.
	cli(0, "forget", "email:carl@shop.test")
	cli(0, "run", "--as-of", "2026-05-01")
	cli(0, "sync", "run", "buyers_to_crm")

	ana := e.one(t, "SELECT profile_id, email FROM cdp.customer_identifiers i JOIN cdp.customer_profiles p USING (profile_id) WHERE i.id_value = 'ana.work@shop.test'")
	// A receipt of an earlier erasure of Ana's key, as the ledger would hold
	// had a forgotten person shared it: the export must list it.
	e.exec(t, fmt.Sprintf("INSERT INTO cdp.cdp_erasure_targets (request_id, sync, destination, key, status, receipt, error, recorded_at, confirmed_at) "+
		"VALUES ('e-test', 'buyers_to_crm', 'crm', '%s', 'erased', 'rcpt-1', NULL, TIMESTAMP '2026-04-02 10:00:00', TIMESTAMP '2026-04-02 10:00:05')", ana["email"]))

	out := filepath.Join(t.TempDir(), "ana.json")
	r := cli(0, "profile", "email: ANA.Lima@shop.test", "--export", "--out", out)
	if !strings.Contains(r.stdout, "exported profile "+ana["profile_id"].(string)+" to "+out) {
		t.Errorf("--out: %q", r.stdout)
	}
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", out, st.Mode().Perm())
	}
	stdout := cli(0, "profile", "phone:06.12.34.56.78", "--export").stdout
	if stdout != string(file) {
		t.Errorf("two exports of Ana differ:\n%s\n---\n%s", file, stdout)
	}
	x := compareExport(t, e, stdout, map[string]int{"identifiers": 4, "segments": 1, "consent": 2, "consent_rejected": 1, "suppressions": 0,
		"source contacts": 3, "source orders": 2, "state buyers_to_crm": 1, "rejections everyone_to_crm": 1, "erasures buyers_to_crm": 1})
	if c := x["consent"].([]any); c[0].(map[string]any)["state"] != "denied" || c[1].(map[string]any)["state"] != "granted" {
		t.Errorf("Ana's consent: %v", c)
	}
	bob := cli(0, "profile", "email:bob@shop.test", "--export").stdout
	compareExport(t, e, bob, map[string]int{"identifiers": 2, "segments": 0, "consent": 2, "consent_rejected": 0, "suppressions": 1,
		"source contacts": 1, "source orders": 1, "state buyers_to_crm": 0, "rejections everyone_to_crm": 0, "erasures buyers_to_crm": 0})

	// The text view shows the consent block.
	text := cli(0, "profile", "email:ana.lima@shop.test").stdout
	for _, want := range []string{"\nconsent (2):\n", "  email_marketing        denied   not allowed decided 2026-03-05 12:30 in contacts\n",
		"  sms_marketing          granted  allowed     decided 2026-01-10 09:00 in contacts\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("profile text has no %q:\n%s", want, text)
		}
	}
	// Nobody, and Carl since he was forgotten: exit 1, saying so.
	for _, who := range []string{"email:nobody@nowhere.test", "email:carl@shop.test", "user_id:u3"} {
		r := cli(1, "profile", who, "--export")
		if r.stdout != "" || !strings.Contains(r.stderr, "no profile matches") {
			t.Errorf("export of %s: stdout %q, stderr %q", who, r.stdout, r.stderr)
		}
	}
	cli(2, "profile", "email:bob@shop.test", "--out", out) // --out needs --export
	checkForgetReport(t, e, cli)
}

// checkForgetReport forgets Ana too, then checks `cdp forget --report`:
// the rows of both forgotten people, found as the source views normalize
// identifiers (contact 4 holds only her phone number, written another
// way; order A2 only her user_id), named by primary key, and a DELETE
// that removes exactly those rows of the contacts table.
func checkForgetReport(t *testing.T, e exportEngine, cli func(int, ...string) result) {
	t.Helper()
	cli(0, "forget", "phone:+33 6 12 34 56 78")
	cli(0, "run", "--as-of", "2026-05-01")
	var rep []struct {
		Source, Table string
		PrimaryKey    string `json:"primary_key"`
		Rows          int64
		Keys          []string
		DeleteSQL     string `json:"delete_sql"`
		Note          string
	}
	if err := json.Unmarshal([]byte(cli(0, "--json", "forget", "--report").stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep) != 2 || rep[0].Source != "contacts" || rep[0].Table != "cdp.seed_contacts" || rep[0].Rows != 3 ||
		!reflect.DeepEqual(rep[0].Keys, []string{"1", "2", "4"}) || rep[0].PrimaryKey != "contact_id" || rep[0].DeleteSQL == "" ||
		rep[1].Source != "orders" || rep[1].Table != "" || !reflect.DeepEqual(rep[1].Keys, []string{"A1", "A2", "C1"}) ||
		rep[1].DeleteSQL != "" || !strings.Contains(rep[1].Note, "SQL") {
		t.Fatalf("forget --report: %+v", rep)
	}
	text := cli(0, "forget", "--report").stdout
	for _, want := range []string{"\ncontacts (cdp.seed_contacts): 3 row(s)\n  DELETE FROM ", "\norders (SQL source): 3 row(s), order_id A1, A2, C1\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("forget --report has no %q:\n%s", want, text)
		}
	}
	before := e.rows(t, "SELECT contact_id FROM cdp.seed_contacts", "contact_id")
	e.exec(t, rep[0].DeleteSQL)
	if after := e.rows(t, "SELECT contact_id FROM cdp.seed_contacts", "contact_id"); len(after) != len(before)-3 || fmt.Sprint(after) != "[map[contact_id:3]]" {
		t.Errorf("contacts after the report's DELETE: %v (before %v)", after, before)
	}
	rep = nil
	if err := json.Unmarshal([]byte(cli(0, "--json", "forget", "--report").stdout), &rep); err != nil || len(rep) != 1 || rep[0].Source != "orders" {
		t.Errorf("forget --report after the DELETE: %+v %v (want the orders only)", rep, err)
	}
}

// compareExport checks every section of an export document against
// SELECTs of the tables, and the number of rows of the named sections.
func compareExport(t *testing.T, e exportEngine, doc string, counts map[string]int) map[string]any {
	t.Helper()
	var x map[string]any
	if err := json.Unmarshal([]byte(doc), &x); err != nil {
		t.Fatalf("export: %v\n%s", err, doc)
	}
	var keys []string
	for k := range x {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if want := "consent consent_rejected format identifiers profile segments sources suppressions syncs traits"; strings.Join(keys, " ") != want {
		t.Fatalf("export sections: %v, want %s", keys, want)
	}
	profile := x["profile"].(map[string]any)
	id := profile["profile_id"].(string)
	if x["format"] != "cdp-profile-export/1" || profile["entity"] != "customer" || profile["project"] != "shop" {
		t.Errorf("export header: %v %v", x["format"], profile)
	}
	got := map[string]int{}
	same := func(section string, exported any, query string, by ...string) {
		t.Helper()
		want := e.rows(t, query, by...)
		list, _ := exported.([]any)
		if exported == nil {
			list = []any{}
		}
		got[section] = len(list)
		if !reflect.DeepEqual(list, want) {
			t.Errorf("%s of %s:\nexport %v\ntables %v", section, id, list, want)
		}
	}
	where := " WHERE profile_id = '" + id + "'"
	same("identifiers", x["identifiers"], "SELECT * FROM cdp.customer_identifiers"+where, "id_type", "id_value")
	same("segments", x["segments"], "SELECT * FROM cdp.customer_segments"+where, "segment")
	same("consent", x["consent"], "SELECT * FROM cdp.customer_consent"+where, "purpose")
	same("consent_rejected", x["consent_rejected"], "SELECT * FROM cdp.customer_consent_rejected"+where, "purpose")
	same("suppressions", x["suppressions"], "SELECT * FROM cdp.customer_suppressed"+where, "list")
	if traits := e.rows(t, "SELECT * FROM cdp.customer_profiles"+where); len(traits) != 1 || !reflect.DeepEqual(x["traits"], traits[0]) {
		t.Errorf("traits of %s:\nexport %v\ntables %v", id, x["traits"], traits)
	}

	// Source rows: those whose identifiers are the person's, as written in
	// the seeds (the contacts table; the orders source's own SQL).
	ids := e.rows(t, "SELECT id_type, id_value FROM cdp.customer_identifiers"+where)
	var emails, users []string
	for _, r := range ids {
		r := r.(map[string]any)
		switch r["id_type"] {
		case "email":
			emails = append(emails, r["id_value"].(string))
		case "user_id":
			users = append(users, r["id_value"].(string))
		}
	}
	contacts := map[string][]string{"ana.lima@shop.test": {"1", "2", "4"}, "bob@shop.test": {"3"}}
	var contactIDs []string
	for _, m := range emails {
		contactIDs = append(contactIDs, contacts[m]...)
	}
	sources := x["sources"].([]any)
	if len(sources) != 2 || sources[0].(map[string]any)["source"] != "contacts" || sources[0].(map[string]any)["table"] != "cdp.seed_contacts" ||
		sources[1].(map[string]any)["source"] != "orders" || sources[1].(map[string]any)["table"] != nil {
		t.Fatalf("sources: %v", sources)
	}
	same("source contacts", sources[0].(map[string]any)["rows"], "SELECT * FROM cdp.seed_contacts WHERE contact_id IN ("+strings.Join(contactIDs, ", ")+")", "contact_id")
	same("source orders", sources[1].(map[string]any)["rows"], "SELECT * FROM (select order_id, customer_id, email, CAST(amount AS NUMERIC(10, 2)) AS amount, status, ordered_at from cdp.seed_orders) o"+
		" WHERE customer_id IN ('"+strings.Join(users, "', '")+"') OR email IN ('"+strings.Join(emails, "', '")+"')", "order_id")

	// Deliveries: per sync, the rows of the engine's tables for the key.
	syncs := x["syncs"].([]any)
	if len(syncs) != 2 {
		t.Fatalf("syncs: %v", syncs)
	}
	for i, name := range []string{"buyers_to_crm", "everyone_to_crm"} {
		s := syncs[i].(map[string]any)
		keyCol := map[string]string{"buyers_to_crm": "email", "everyone_to_crm": "profile_id"}[name]
		key := e.one(t, "SELECT CAST("+keyCol+" AS VARCHAR) AS k FROM cdp.customer_profiles"+where)["k"]
		if s["sync"] != name || s["destination"] != "crm" || s["key"] != key {
			t.Fatalf("sync %d: %v, want %s keyed %v", i, s, name, key)
		}
		byKey := fmt.Sprintf(" WHERE sync = '%s' AND key = '%s'", name, key)
		state := e.rows(t, "SELECT * FROM cdp.cdp_sync_state"+byKey)
		for _, r := range state {
			r := r.(map[string]any)
			if f, ok := r["fields"].(string); ok { // JSON as text
				var doc any
				if err := json.Unmarshal([]byte(f), &doc); err != nil {
					t.Fatal(err)
				}
				r["fields"] = doc
			}
		}
		got["state "+name] = len(state)
		if (len(state) == 0 && s["state"] != nil) || (len(state) == 1 && !reflect.DeepEqual(s["state"], state[0])) {
			t.Errorf("%s state of %s:\nexport %v\ntables %v", name, id, s["state"], state)
		}
		same("pending "+name, s["pending"], "SELECT * FROM cdp.cdp_sync_pending"+byKey)
		same("rejections "+name, s["rejections"], "SELECT * FROM cdp.cdp_sync_rejections"+byKey, "rejected_at", "run_id")
		same("erasures "+name, s["erasures"], "SELECT * FROM cdp.cdp_erasure_targets"+byKey, "recorded_at", "request_id")
	}
	for k, n := range counts {
		if got[k] != n {
			t.Errorf("%s of %s: %d rows, want %d", k, id, got[k], n)
		}
	}
	return x
}

// rows runs a query and returns its rows as JSON decodes them (numbers as
// float64, timestamps as RFC 3339 UTC text), sorted by the given columns.
func (e exportEngine) rows(t *testing.T, query string, by ...string) []any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := e.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rows, err := w.Query(ctx, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := []any{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r := map[string]any{}
		for i, c := range cols {
			r[c] = asJSON(vals[i])
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		for _, k := range by {
			a, b := fmt.Sprint(out[i].(map[string]any)[k]), fmt.Sprint(out[j].(map[string]any)[k])
			if a != b {
				return a < b
			}
		}
		return false
	})
	return out
}

// one is the single row of a query.
func (e exportEngine) one(t *testing.T, query string) map[string]any {
	t.Helper()
	rows := e.rows(t, query)
	if len(rows) != 1 {
		t.Fatalf("%s: %d rows, want 1", query, len(rows))
	}
	return rows[0].(map[string]any)
}

func (e exportEngine) exec(t *testing.T, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := e.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Exec(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// asJSON is a scanned value as encoding/json decodes its JSON form.
func asJSON(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case interface{ Float64() float64 }: // DuckDB DECIMAL
		return x.Float64()
	}
	return v
}
