package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metaca "github.com/cdpkit/cdp/sync/destinationtest/metacustomaudience"
)

// TestSyncHistoryShowsTheMatchReport: a sync to a Meta custom audience
// prints what Meta reported after the run, and `sync history` shows it,
// as text and JSON.
func TestSyncHistoryShowsTheMatchReport(t *testing.T) {
	dir := syncTemplate(t)
	srv := metaca.New(t)
	st := srv.Settings("mirror")
	yml := fmt.Sprintf(`destinations:
  - name: meta_ads
    type: meta_custom_audience
    base_url: %s
    access_token: %s
    app_secret: %s
    audience_id: "%s"
    batch_size: 50
syncs:
  - name: vips_to_meta
    segment: vip_customers
    destination: meta_ads
    mode: mirror
    key: profile_id
    fields:
      EMAIL: { trait: email, hash: meta_email }
      FN: { trait: first_name, hash: meta_name }
`, st["base_url"], st["access_token"], st["app_secret"], st["audience_id"])
	if err := os.WriteFile(filepath.Join(dir, "models", "ads.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustCDP(t, 0, "--project", dir, "sync", "run", "vips_to_meta")
	res := parseRun(t, r.stdout)["vips_to_meta"]
	want := fmt.Sprintf("received %d", res.added)
	if res.added == 0 || srv.Members() != int(res.added) || !strings.Contains(r.stdout, "the platform reports: "+want) {
		t.Fatalf("run: %+v, %d members\n%s", res, srv.Members(), r.stdout)
	}
	r = mustCDP(t, 0, "--project", dir, "sync", "history", "vips_to_meta")
	if !strings.Contains(r.stdout, "\n    match: "+want+"\n") {
		t.Fatalf("history must show the match report:\n%s", r.stdout)
	}
	r = mustCDP(t, 0, "--project", dir, "--json", "sync", "history", "vips_to_meta")
	var doc struct {
		Runs []struct {
			Match *struct {
				Received int64 `json:"received"`
			} `json:"match"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Runs) != 1 || doc.Runs[0].Match == nil || doc.Runs[0].Match.Received != res.added {
		t.Fatalf("history --json: %v\n%s", err, r.stdout)
	}
}
