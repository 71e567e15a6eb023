package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destinationtest/hubspot"
)

// TestDestinationsCommand lists every registered type and describes one
// from its spec, as text and JSON, without a project.
func TestDestinationsCommand(t *testing.T) {
	r := mustCDP(t, 0, "--project", t.TempDir(), "destinations")
	for _, typ := range []string{"hubspot", "salesforce", "braze", "klaviyo", "mailchimp", "iterable", "customerio", "intercom", "webhook", "file", "postgres_table", "google_data_manager", "meta_custom_audience"} {
		if !strings.Contains(r.stdout, "\n"+typ+" ") && !strings.HasPrefix(r.stdout, typ+" ") {
			t.Errorf("%s is not listed:\n%s", typ, r.stdout)
		}
	}
	r = mustCDP(t, 0, "destinations", "hubspot")
	for _, want := range []string{"settings:", "access_token", "batch_size", "int 1–100", "modes:", "mirror  remove", "recordIdsToRemove", "limits:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("describe hubspot lacks %q:\n%s", want, r.stdout)
		}
	}
	r = mustCDP(t, 0, "--json", "destinations", "klaviyo")
	var d struct {
		Type     string
		Settings []struct{ Name string }
		Modes    []string
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || d.Type != "klaviyo" || len(d.Settings) == 0 || len(d.Modes) != 2 {
		t.Errorf("--json: %v %+v", err, d)
	}
	r = mustCDP(t, 2, "destinations", "hubspott")
	if !strings.Contains(r.stderr, `did you mean "hubspot"?`) {
		t.Errorf("unknown type: %q", r.stderr)
	}
}

// TestSyncCheck asks a HubSpot contract server whether the example's
// vips_to_hubspot fields exist, then with a misspelt one.
func TestSyncCheck(t *testing.T) {
	dir := newProject(t)
	srv := hubspot.New(t)
	t.Setenv("HUBSPOT_URL", srv.URL())
	t.Setenv("HUBSPOT_TOKEN", srv.Token())
	t.Setenv("HUBSPOT_VIP_LIST", srv.ListID())
	t.Setenv("HUBSPOT_PAUSED", "false")
	r := mustCDP(t, 0, "--project", dir, "sync", "check", "vips_to_hubspot", "vip_to_crm")
	if r.stdout != "sync vips_to_hubspot: every mapped field exists at the destination\n"+
		"sync vip_to_crm: the destination type has no schema endpoint; nothing to check\n" {
		t.Errorf("check: %q", r.stdout)
	}
	edit(t, dir, "models/syncs.yml", "lastname: last_name", "lastnme: last_name")
	r = mustCDP(t, 1, "--project", dir, "sync", "check", "vips_to_hubspot")
	if !strings.Contains(r.stdout, "field lastnme:") || !strings.Contains(r.stdout, "lastname") {
		t.Errorf("a misspelt property: %q", r.stdout)
	}
	if n := len(srv.Audience("upsert")); n != 0 {
		t.Errorf("check sent %d contacts", n)
	}
}
