package mailchimp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

func TestBaseURLFromKey(t *testing.T) {
	for _, c := range []struct {
		settings map[string]string
		mode     string
		base     string
		err      string
	}{
		{map[string]string{"api_key": "0123456789abcdef0123456789abcdef-us21", "list_id": "l"}, "upsert", "https://us21.api.mailchimp.com", ""},
		{map[string]string{"api_key": "k-us21", "list_id": "l", "base_url": "http://127.0.0.1:9/x"}, "upsert", "http://127.0.0.1:9/x", ""},
		{map[string]string{"access_token": "t", "list_id": "l", "base_url": "https://us3.api.mailchimp.com"}, "mirror", "https://us3.api.mailchimp.com", ""},
		{map[string]string{"api_key": "nodatacenter", "list_id": "l"}, "upsert", "", "no data-center suffix"},
		{map[string]string{"access_token": "t", "list_id": "l"}, "upsert", "", "needs `base_url`"},
		{map[string]string{"api_key": "k-us1", "access_token": "t", "list_id": "l"}, "upsert", "", "not both"},
		{map[string]string{"list_id": "l"}, "upsert", "", "needs `api_key`"},
		{map[string]string{"api_key": "k-us1", "list_id": "a/b"}, "upsert", "", "bad list_id"},
		{map[string]string{"api_key": "k-us1"}, "upsert", "", "needs `list_id`"},
	} {
		d, err := destination.Open(context.Background(), Type, destination.Config{Name: "mc", Settings: c.settings, Mode: c.mode})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "0123456789abcdef") {
				t.Errorf("%v: err %v, want %q", c.settings, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", c.settings, err)
			continue
		}
		md := d.(*Destination)
		if got := md.client.BaseURL.String(); got != c.base {
			t.Errorf("%v: base %s, want %s", c.settings, got, c.base)
		}
		caps := md.Capabilities()
		if caps.MaxBatch != MaxBatch || caps.Concurrency != 4 || caps.RateLimit != 0 || caps.IdentifierOf != "email" {
			t.Errorf("defaults: %+v", caps)
		}
		if c.mode == "mirror" && (!caps.Supports(destination.OpRemove) || caps.Timeout != DefaultTimeout*maxApplyRounds) {
			t.Errorf("mirror capabilities: %+v", caps)
		}
	}
}

func TestCheckSync(t *testing.T) {
	spec, _ := destination.Lookup(Type)
	if !spec.SupportsMode("mirror") || spec.SupportsMode("insert") || len(spec.References) == 0 || spec.Doc == "" {
		t.Errorf("spec %+v", spec)
	}
	v, probs := spec.Parse(map[string]string{"api_key": "k-us1", "list_id": "l", "new_status": "pending"})
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	got := spec.CheckSync(v, destination.SyncInfo{Mode: "mirror", Key: "user_id", KeyField: "user_id",
		Fields: []string{"user_id", "email_address", "fname", "LTV"}})
	want := []string{"Mailchimp identifies members by email", "mapped from a trait other than the key", "new_status must be subscribed",
		"is sent as the merge tag `user_id`", "is sent as the merge tag `fname`"}
	if len(got) != len(want) {
		t.Fatalf("problems %+v", got)
	}
	for i, p := range got {
		if !strings.Contains(p.Message, want[i]) || p.Warning != (i >= 3) {
			t.Errorf("problem %d: %+v, want %q", i, p, want[i])
		}
	}
	v, _ = spec.Parse(map[string]string{"api_key": "k-us1", "list_id": "l"})
	if p := spec.CheckSync(v, destination.SyncInfo{Mode: "mirror", Key: "email", KeyField: "email_address",
		Fields: []string{"email_address", "FNAME", "LTV"}}); len(p) != 0 {
		t.Errorf("good sync: %+v", p)
	}
	v, _ = spec.Parse(map[string]string{"list_id": "l"})
	if p := spec.CheckSync(v, destination.SyncInfo{Mode: "upsert"}); len(p) != 1 || !strings.Contains(p[0].Message, "api_key") {
		t.Errorf("no credentials: %+v", p)
	}
}

func TestMergeValues(t *testing.T) {
	d := &Destination{mode: "upsert", newStatus: "subscribed"}
	m, err := d.member("a@example.com", map[string]any{"email_address": "a@example.com", "FNAME": "A", "LTV": int64(3), "VIP": true,
		"SINCE": time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), "SEEN": time.Date(2024, 5, 1, 14, 0, 0, 0, time.FixedZone("CEST", 7200)),
		"GONE": nil, "ADDR": map[string]any{"addr1": "1 Main St"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"FNAME": "A", "LTV": int64(3), "VIP": "true", "SINCE": "2024-05-01", "SEEN": "2024-05-01T12:00:00Z", "GONE": ""}
	for k, v := range want {
		if m.MergeFields[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m.MergeFields[k], v)
		}
	}
	if _, ok := m.MergeFields["email_address"]; ok || m.StatusIfNew != "subscribed" || m.Status != "" || m.MergeFields["ADDR"] == nil {
		t.Errorf("member %+v", m)
	}
	if SubscriberHash("Urist.McVankab@Freddiesjokes.com") != "62eeb292278cc15f5817cb78f7790b08" {
		t.Errorf("subscriber hash %s", SubscriberHash("Urist.McVankab@Freddiesjokes.com"))
	}
}
