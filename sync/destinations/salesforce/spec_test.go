package salesforce_test

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	sftest "github.com/cdpkit/cdp/sync/destinationtest/salesforce"
)

func spec(t *testing.T) *destination.Spec {
	t.Helper()
	s, err := destination.Lookup("salesforce")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// problems parses settings and runs CheckSync, returning every message.
func problems(t *testing.T, settings map[string]string, sync destination.SyncInfo) []string {
	t.Helper()
	sp := spec(t)
	v, probs := sp.Parse(settings)
	if sync.Mode == "" {
		sync.Mode = "upsert"
	}
	if len(probs) == 0 {
		probs = sp.CheckSettings(v)
	}
	probs = append(probs, sp.CheckSync(v, sync)...)
	var out []string
	for _, p := range probs {
		out = append(out, p.Message+" ("+p.Hint+")")
	}
	return out
}

func TestSpecRejectsBadSettings(t *testing.T) {
	base := map[string]string{"client_id": "x", "client_secret": "s", "refresh_token": "r", "external_id_field": "External_Email__c"}
	cases := []struct {
		name     string
		settings map[string]string
		want     string
	}{
		{"fine", base, ""},
		{"batch over the bulk max", with(base, "bulk", "true", "batch_size", "10001"), "above the maximum 10000"},
		{"batch over 200 without bulk", with(base, "batch_size", "201"), "above the 200 records"},
		{"no external id field", with(base, "external_id_field", ""), "needs `external_id_field`"},
		{"no credentials", with(base, "client_secret", "", "refresh_token", ""), "no credentials"},
		{"both flows", with(base, "username", "u", "private_key", "k"), "not both"},
		{"half a flow", with(base, "refresh_token", ""), "needs both client_secret and refresh_token"},
		{"bad version", with(base, "api_version", "61"), "vNN.0"},
		{"bad object", with(base, "sobject", "Con tact"), "not a Salesforce API name"},
		{"unknown setting", with(base, "sobjet", "Lead"), "did you mean"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := problems(t, c.settings, destination.SyncInfo{})
			if c.want == "" {
				if len(got) > 0 {
					t.Errorf("problems %v", got)
				}
				return
			}
			if !strings.Contains(strings.Join(got, "\n"), c.want) {
				t.Errorf("problems %v, want one containing %q", got, c.want)
			}
		})
	}
	if got := problems(t, with(base, "bulk", "true", "batch_size", "10000"), destination.SyncInfo{}); len(got) > 0 {
		t.Errorf("bulk with 10000: %v", got)
	}
}

func TestCheckSyncExternalIDMapping(t *testing.T) {
	base := map[string]string{"client_id": "x", "client_secret": "s", "refresh_token": "r", "external_id_field": "External_Email__c"}
	got := problems(t, base, destination.SyncInfo{Fields: []string{"External_Email__c", "LastName"}, KeyField: "Email"})
	if !strings.Contains(strings.Join(got, "\n"), "receives the sync key") {
		t.Errorf("problems %v", got)
	}
	if got := problems(t, base, destination.SyncInfo{Fields: []string{"External_Email__c"}, KeyField: "External_Email__c"}); len(got) > 0 {
		t.Errorf("the key mapped to the External ID field is fine: %v", got)
	}
}

func TestOpenRefusesOversizeBatchWithoutBulk(t *testing.T) {
	_, err := destination.Open(context.Background(), "salesforce", destination.Config{Name: "crm", Mode: "upsert",
		Settings: map[string]string{"client_id": "x", "client_secret": "s", "refresh_token": "r", "external_id_field": "E__c", "batch_size": "500"}})
	if err == nil || !strings.Contains(err.Error(), "bulk: true") {
		t.Errorf("%v", err)
	}
}

func TestCapabilities(t *testing.T) {
	s := server(t)
	c := open(t, s.Settings("upsert"), "upsert").Capabilities()
	if c.MaxBatch != 50 || c.Supports(destination.OpRemove) || c.Timeout != 2*time.Second || c.RateLimit != 50 {
		t.Errorf("upsert: %+v", c)
	}
	c = open(t, with(s.BulkSettings("mirror", 100), "batch_size", ""), "mirror").Capabilities()
	if c.MaxBatch != 10000 || !c.Supports(destination.OpRemove) || c.Timeout != 10*time.Second {
		t.Errorf("bulk mirror: %+v", c)
	}
	a := open(t, s.BulkSettings("mirror", 100), "mirror").(destination.AsyncDestination)
	if every, timeout := a.JobTiming(); every != 20*time.Millisecond || timeout != 10*time.Second {
		t.Errorf("timing %v %v", every, timeout)
	}
}

func TestCheckFields(t *testing.T) {
	s := server(t)
	d := open(t, s.Settings("upsert"), "upsert").(destination.SchemaChecker)
	probs, err := d.CheckFields(t.Context(), []destination.FieldInfo{
		{Field: "Email", Type: "string"}, {Field: "LastName", Type: "string"}, {Field: "LTV__c", Type: "number"}})
	if err != nil || len(probs) != 0 {
		t.Fatalf("%v %v", probs, err)
	}
	probs, err = d.CheckFields(t.Context(), []destination.FieldInfo{
		{Field: "Emial", Type: "string"}, {Field: "Name", Type: "string"}, {Field: "LTV__c", Type: "boolean"}, {Field: "email", Type: "string"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range probs {
		got[p.Field] = p.Message
	}
	want := map[string]string{
		"Emial":    "Contact has no field Emial (did you mean Email?)",
		"Name":     "Contact.Name is read-only",
		"LTV__c":   "Contact.LTV__c is a double field, which does not take a boolean trait",
		"email":    "the field's API name is spelt Email",
		"LastName": "Contact.LastName is required to create a record and no trait is mapped to it",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems\n got %v\nwant %v", got, want)
	}
	bad := open(t, with(s.Settings("upsert"), "external_id_field", "Email"), "upsert").(destination.SchemaChecker)
	probs, _ = bad.CheckFields(t.Context(), []destination.FieldInfo{{Field: "LastName", Type: "string"}})
	if len(probs) != 1 || !strings.Contains(probs[0].Message, "not marked External ID") {
		t.Errorf("%v", probs)
	}
	lead := open(t, with(s.Settings("upsert"), "sobject", "Lead"), "upsert").(destination.SchemaChecker)
	if _, err := lead.CheckFields(t.Context(), nil); err == nil || !strings.Contains(err.Error(), "no object Lead") {
		t.Errorf("%v", err)
	}
}

func TestAsyncPollResumesInAnotherRun(t *testing.T) {
	s := server(t)
	s.SetPollsToComplete(2)
	settings := s.BulkSettings("mirror", 100)
	first := open(t, settings, "mirror").(destination.AsyncDestination)
	res := mustApply(t, first, people(0, 3))
	batch := append(people(3, 6), destination.Record{Op: destination.OpRemove, Key: email(0), RemoteID: res[0].RemoteID},
		destination.Record{Op: destination.OpRemove, Key: email(1)})
	id, err := first.Submit(t.Context(), batch)
	if err != nil || !strings.HasPrefix(id, "sfbulk:") {
		t.Fatalf("%q %v", id, err)
	}
	// The run crashes; the next one polls the same jobs with a new destination.
	second := open(t, settings, "mirror").(destination.AsyncDestination)
	var out []destination.Result
	polls := 0
	for done := false; !done; polls++ {
		var err error
		if out, done, err = second.Poll(t.Context(), id, batch); err != nil || polls > 10 {
			t.Fatalf("poll %d: %v", polls, err)
		}
	}
	if polls < 2 || len(out) != len(batch) {
		t.Fatalf("%d polls, %d results", polls, len(out))
	}
	for i, r := range out {
		if r.Err != nil {
			t.Errorf("record %d: %v", i, r.Err)
		}
	}
	if got := s.Audience("mirror"); len(got) != 4 || got[email(0)] != nil || got[email(1)] != nil {
		t.Errorf("audience %v", got)
	}
	if _, _, err := second.Poll(t.Context(), "elsewhere:1", batch); err == nil || destination.IsRetryable(err) {
		t.Errorf("a foreign job id: %v", err)
	}
}

func TestBulkJobFailedByUnknownField(t *testing.T) {
	s := server(t)
	d := open(t, s.BulkSettings("upsert", 100), "upsert")
	res := mustApply(t, d, []destination.Record{{Op: destination.OpAdd, Key: email(1), Fields: map[string]any{"LastName": "A", "Score__c": 3.0}}})
	if res[0].Err == nil || res[0].Retryable || !strings.Contains(res[0].Err.Error(), "Field name not found : Score__c") {
		t.Errorf("%+v", res[0])
	}
}

func TestUnknownFieldRejectsTheBatch(t *testing.T) {
	s := server(t)
	d := open(t, s.Settings("upsert"), "upsert")
	_, err := d.Apply(t.Context(), []destination.Record{{Op: destination.OpAdd, Key: email(1), Fields: map[string]any{"LastName": "A", "Score__c": 3.0}}})
	if be := batchError(t, err); be.Retryable || be.Fatal || !strings.Contains(be.Error(), "INVALID_FIELD") {
		t.Errorf("%+v", be)
	}
}

func TestUnencodableRecordIsRejectedAlone(t *testing.T) {
	s := server(t)
	for _, settings := range []map[string]string{s.Settings("upsert"), s.BulkSettings("upsert", 100)} {
		d := open(t, settings, "upsert")
		res := mustApply(t, d, []destination.Record{
			record(destination.OpAdd, 1, person{name: "A", ltv: 1.0}),
			{Op: destination.OpAdd, Key: email(2), Fields: map[string]any{"LastName": "B", "LTV__c": math.Inf(1)}},
		})
		if res[0].Err != nil || res[1].Err == nil || res[1].Retryable {
			t.Errorf("%+v", res)
		}
	}
	if n := len(s.Audience("upsert")); n != 1 {
		t.Errorf("audience %d", n)
	}
	_ = sftest.SObject
}
