package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// savedPlanFile is the part of a `sync plan --out` file the tests read.
type savedPlanFile struct {
	Format  int    `json:"format"`
	Project string `json:"project"`
	Created string `json:"created_at"`
	Syncs   []struct {
		Sync        string `json:"sync"`
		Fingerprint string `json:"fingerprint"`
		Definition  struct {
			Mode            string `json:"mode"`
			DestinationType string `json:"destination_type"`
		} `json:"definition"`
		State struct {
			Runs   int64  `json:"runs"`
			Digest string `json:"digest"`
		} `json:"state"`
		Records []struct {
			Op         string         `json:"op"`
			Key        string         `json:"key"`
			Fields     map[string]any `json:"fields"`
			FieldsHash string         `json:"fields_hash"`
		} `json:"records"`
	} `json:"syncs"`
}

func readPlanFile(t *testing.T, path string) savedPlanFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p savedPlanFile
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// TestSyncPlanOutAndApply drives `cdp sync plan --out` and `cdp sync run
// --plan` on a copy of the example, against the webhook contract server.
func TestSyncPlanOutAndApply(t *testing.T) {
	tmpl := syncTemplate(t)
	dir := copyProject(t, tmpl)
	srv := crmServer(t)
	audience := vipAudience(t, dir)
	plan := filepath.Join(t.TempDir(), "plan.json")

	// plan --out: prints the plan as usual and saves every record
	r := mustCDP(t, 0, "--project", dir, "sync", "plan", "--out", plan, "vip_to_crm")
	if p := parsePlans(t, r.stdout)["vip_to_crm"]; p.add != int64(len(audience)) || len(p.samples) != 3 {
		t.Errorf("plan --out prints the plan: %+v\n%s", p, r.stdout)
	}
	if !strings.Contains(r.stderr, "saved the plan to "+plan) {
		t.Errorf("plan --out must say where the plan went (on stderr): %q", r.stderr)
	}
	if st, err := os.Stat(plan); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the plan file holds customer data and must be private: %v %v", st.Mode(), err)
	}
	f := readPlanFile(t, plan)
	if f.Format != 1 || f.Project != "retail" || f.Created == "" || len(f.Syncs) != 1 {
		t.Fatalf("plan file: %+v", f)
	}
	ps := f.Syncs[0]
	if ps.Sync != "vip_to_crm" || ps.Definition.Mode != "mirror" || ps.Definition.DestinationType != "webhook" ||
		!strings.HasPrefix(ps.Fingerprint, "sha256:") || ps.State.Digest == "" || len(ps.Records) != len(audience) {
		t.Fatalf("plan file sync: %+v (%d records, audience %d)", ps, len(ps.Records), len(audience))
	}
	for _, rec := range ps.Records {
		if _, ok := audience[rec.Key]; !ok || rec.Op != "add" || rec.FieldsHash == "" || rec.Fields["email"] != rec.Key {
			t.Fatalf("plan record %+v is not an add of an audience member", rec)
		}
	}

	// the warehouse changes after the plan: the apply still sends the plan
	keys := make([]string, 0, len(audience))
	for k := range audience {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	duckExec(t, dir, "UPDATE cdp.customer_profiles SET first_name = 'Changed' WHERE email = '"+keys[0]+"'")
	r = mustCDP(t, 0, "--project", dir, "sync", "run", "--plan", plan)
	if got := parseRun(t, r.stdout)["vip_to_crm"]; got.status != "success" || got.added != int64(len(audience)) {
		t.Errorf("run --plan: %+v\n%s", got, r.stdout)
	}
	checkHolds(t, srv, audience) // the first names as planned, not 'Changed'
	// what the apply committed is what it sent: the next plan has exactly the edit
	r = mustCDP(t, 0, "--project", dir, "sync", "plan", "vip_to_crm")
	if p := parsePlans(t, r.stdout)["vip_to_crm"]; p.add != 0 || p.change != 1 || p.remove != 0 {
		t.Errorf("after the apply only the edited member changed: %+v\n%s", p, r.stdout)
	}

	// a second apply of the same file is refused: the state moved
	requests := srv.Requests()
	r = mustCDP(t, exitConflict, "--project", dir, "sync", "run", "--plan", plan)
	if !strings.Contains(r.stderr, "vip_to_crm") || !strings.Contains(r.stderr, "state moved since the plan") ||
		!strings.Contains(r.stderr, "sync plan --out") || srv.Requests() != requests {
		t.Errorf("second apply: stderr %q, %d requests after %d", r.stderr, srv.Requests(), requests)
	}

	// a run between plan and apply makes the apply refuse
	mustCDP(t, 0, "--project", dir, "sync", "plan", "--out", plan, "vip_to_crm")
	mustCDP(t, 0, "--project", dir, "sync", "run", "vip_to_crm")
	requests = srv.Requests()
	r = mustCDP(t, exitConflict, "--project", dir, "sync", "run", "--plan", plan, "vip_to_crm")
	if !strings.Contains(r.stderr, "state moved") || srv.Requests() != requests {
		t.Errorf("apply after a run: %q", r.stderr)
	}

	// several syncs in one file: each is applied
	mustCDP(t, 0, "--project", dir, "sync", "plan", "--out", plan, "vip_to_crm", "customers_export")
	if f := readPlanFile(t, plan); len(f.Syncs) != 2 {
		t.Fatalf("two syncs planned, the file holds %d", len(f.Syncs))
	}
	r = mustCDP(t, 0, "--project", dir, "sync", "run", "--plan", plan)
	res := parseRun(t, r.stdout)
	if res["vip_to_crm"].status != "success" || res["customers_export"].status != "success" || res["customers_export"].added == 0 {
		t.Errorf("run --plan with two syncs: %+v\n%s", res, r.stdout)
	}

	// a changed sync definition is refused
	mustCDP(t, 0, "--project", dir, "sync", "plan", "--out", plan, "vip_to_crm")
	edit(t, dir, "models/syncs.yml", "      country: country\n    schedule: \"*/30 * * * *\"", "    schedule: \"*/30 * * * *\"")
	r = mustCDP(t, exitConflict, "--project", dir, "sync", "run", "--plan", plan)
	if !strings.Contains(r.stderr, "definition changed") || !strings.Contains(r.stderr, "fields") {
		t.Errorf("apply after a definition change: %q", r.stderr)
	}

	// --json names the saved file
	r = mustCDP(t, 0, "--project", dir, "--json", "sync", "plan", "--out", plan, "vip_to_crm")
	var doc struct {
		SavedTo string `json:"saved_to"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.SavedTo != plan {
		t.Errorf("plan --json --out: %v %q", err, r.stdout)
	}

	// usage errors: nothing runs
	mustCDP(t, exitUsage, "--project", dir, "sync", "run", "--plan", plan, "--full")
	mustCDP(t, exitUsage, "--project", dir, "sync", "run", "--plan", plan, "customers_export")
	mustCDP(t, exitUsage, "--project", dir, "sync", "run", "--plan", filepath.Join(t.TempDir(), "missing.json"))
	b, _ := os.ReadFile(plan)
	other := filepath.Join(t.TempDir(), "other.json")
	os.WriteFile(other, []byte(strings.Replace(string(b), `"project": "retail"`, `"project": "shop"`, 1)), 0o600)
	r = mustCDP(t, exitUsage, "--project", dir, "sync", "run", "--plan", other)
	if !strings.Contains(r.stderr, `plan of project "shop"`) {
		t.Errorf("another project's plan: %q", r.stderr)
	}
}
