package hubspot_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/examples/retail"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/destination"
	hs "github.com/cdpkit/cdp/sync/destinationtest/hubspot"
)

// exampleYAML is the configuration the documentation shows; it must work
// as written.
const exampleYAML = `destinations:
  - name: hubspot
    type: hubspot
    access_token: "${HUBSPOT_TOKEN}"
    base_url: "${HUBSPOT_URL:-https://api.hubapi.com}"
    list_id: "${HUBSPOT_VIP_LIST}"
syncs:
  - name: vips_to_hubspot
    segment: vip_customers
    destination: hubspot
    mode: mirror            # contacts upserted, list membership = the audience
    key: email
    fields: { email: email, firstname: first_name, lastname: last_name }
`

// loadExample loads the retail example with exampleYAML as its syncs.
func loadExample(t *testing.T, env map[string]string) (*models.Project, models.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, retail.Files); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "syncs.yml"), []byte(exampleYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	p, diags := models.LoadWithOptions(dir, models.LoadOptions{Getenv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	return p, append(diags, destination.Check(p)...)
}

func errorsOf(ds models.Diagnostics) []string {
	var out []string
	for _, d := range ds {
		if d.Severity == models.SeverityError {
			out = append(out, d.Message)
		}
	}
	return out
}

func TestExampleYAMLWorksAsWritten(t *testing.T) {
	srv := hs.New(t)
	p, diags := loadExample(t, map[string]string{"HUBSPOT_TOKEN": hs.Token, "HUBSPOT_URL": srv.URL(), "HUBSPOT_VIP_LIST": hs.ListID})
	if errs := errorsOf(diags); len(errs) > 0 {
		t.Fatalf("errors: %q", errs)
	}
	var dest *models.Destination
	for _, d := range p.Destinations {
		if d.Name == "hubspot" {
			dest = d
		}
	}
	if dest == nil {
		t.Fatal("no destination hubspot")
	}
	d, err := destination.Open(context.Background(), dest.Type, destination.Config{Name: dest.Name, Settings: dest.Settings,
		SyncName: "vips_to_hubspot", Mode: "mirror", Fields: []string{"email", "firstname", "lastname"}, KeyField: "email"})
	if err != nil {
		t.Fatal(err)
	}
	res := apply(t, d, add("vip@example.org", map[string]any{"email": "vip@example.org", "firstname": "Vi", "lastname": "P"}))
	if res[0].Err != nil || len(srv.Members(hs.ListID)) != 1 {
		t.Errorf("result %+v, members %v", res[0], srv.Members(hs.ListID))
	}

	_, diags = loadExample(t, map[string]string{"HUBSPOT_TOKEN": hs.Token, "HUBSPOT_VIP_LIST": ""})
	if errs := errorsOf(diags); len(errs) != 1 || !strings.Contains(errs[0], "mode mirror needs `list_id`") {
		t.Errorf("without a list: %q", errs)
	}
}

func TestCheckSync(t *testing.T) {
	spec, err := destination.Lookup("hubspot")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		settings map[string]string
		sync     destination.SyncInfo
		want     string // "" for no problem
		warning  bool
	}{
		{map[string]string{"list_id": "12"}, destination.SyncInfo{Mode: "mirror", Key: "email", KeyField: "email"}, "", false},
		{map[string]string{}, destination.SyncInfo{Mode: "upsert", Key: "email", KeyField: "email"}, "", false},
		{map[string]string{}, destination.SyncInfo{Mode: "mirror", Key: "email", KeyField: "email"}, "mode mirror needs `list_id`", false},
		{map[string]string{"list_id": "vips"}, destination.SyncInfo{Mode: "mirror"}, "not a HubSpot list ID", false},
		{map[string]string{"list_id": "12"}, destination.SyncInfo{Mode: "upsert"}, "only used by mode mirror", true},
		{map[string]string{}, destination.SyncInfo{Mode: "upsert", Key: "email", KeyField: "work_email"}, "matched on id_property `email`", false},
		{map[string]string{"id_property": "hs_object_id"}, destination.SyncInfo{Mode: "upsert"}, "works only with mode update", false},
	} {
		c.settings["access_token"] = "x"
		v, probs := spec.Parse(c.settings)
		if len(probs) > 0 {
			t.Fatalf("parse %v: %+v", c.settings, probs)
		}
		got := spec.CheckSync(v, c.sync)
		switch {
		case c.want == "" && len(got) > 0:
			t.Errorf("%v %+v: %+v", c.settings, c.sync, got)
		case c.want != "" && (len(got) != 1 || !strings.Contains(got[0].Message, c.want) || got[0].Warning != c.warning):
			t.Errorf("%v %+v: %+v, want %q", c.settings, c.sync, got, c.want)
		}
	}
	if !spec.SupportsMode("mirror") || spec.SupportsMode("insert") {
		t.Errorf("modes %v", spec.Modes)
	}
	if _, probs := spec.Parse(map[string]string{}); len(probs) != 1 || !strings.Contains(probs[0].Message, "needs `access_token`") {
		t.Errorf("no token: %+v", probs)
	}
}

func TestCheckFields(t *testing.T) {
	srv := hs.New(t)
	d := open(t, srv, "mirror").(destination.SchemaChecker)
	probs, err := d.CheckFields(context.Background(), []destination.FieldInfo{
		{Field: "email", Type: "string"}, {Field: "firstname", Type: "string"}, {Field: "ltv", Type: "number"},
		{Field: "signup_date", Type: "timestamp"}, {Field: "phone", Type: "integer"},
		{Field: "ltvv", Type: "number"}, {Field: "hs_object_id", Type: "integer"}, {Field: "vip", Type: "string"}, {Field: "ltv", Type: "string"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"`ltvv` does not exist in HubSpot (did you mean `ltv`?)", "`hs_object_id` is read-only", "`vip` is of HubSpot type bool; a string trait", "`ltv` is of HubSpot type number; a string trait"}
	if len(probs) != len(want) {
		t.Fatalf("problems %+v", probs)
	}
	for i, w := range want {
		if !strings.Contains(probs[i].Message, w) {
			t.Errorf("problem %d: %q, want %q", i, probs[i].Message, w)
		}
	}
	dyn := srv.AddList("dynamic vips", "DYNAMIC")
	d = open(t, srv, "mirror", "list_id", dyn, "id_property", "firstname").(destination.SchemaChecker)
	probs, err = d.CheckFields(context.Background(), nil)
	if err != nil || len(probs) != 2 || !strings.Contains(probs[0].Message, "id_property `firstname` is not a unique") || !strings.Contains(probs[1].Message, "DYNAMIC list") {
		t.Errorf("%+v %v", probs, err)
	}
	d = open(t, srv, "mirror", "list_id", "424242").(destination.SchemaChecker)
	if probs, err = d.CheckFields(context.Background(), nil); err != nil || len(probs) != 1 || !strings.Contains(probs[0].Message, "no list 424242") {
		t.Errorf("%+v %v", probs, err)
	}
}
