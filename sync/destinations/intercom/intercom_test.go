package intercom_test

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinationtest"
	icserver "github.com/cdpkit/cdp/sync/destinationtest/intercom"
)

func TestSpec(t *testing.T) {
	spec, err := destination.Lookup("intercom")
	if err != nil {
		t.Fatal(err)
	}
	v, probs := spec.Parse(map[string]string{"access_token": "x", "batch_size": "101"})
	if len(probs) != 1 || probs[0].Setting != "batch_size" || !strings.Contains(probs[0].Message, "above the maximum 100") {
		t.Errorf("batch_size over the maximum: %+v", probs)
	}
	if _, probs := spec.Parse(map[string]string{"access_token": "x", "api_version": "1.4", "role": "admin"}); len(probs) != 2 {
		t.Errorf("bad enum values: %+v", probs)
	}
	if _, probs := spec.Parse(map[string]string{}); len(probs) != 1 || !strings.Contains(probs[0].Message, "access_token") {
		t.Errorf("missing token: %+v", probs)
	}
	v, probs = spec.Parse(map[string]string{"access_token": "x"})
	if len(probs) != 0 || v.Int("batch_size") != 50 || v.String("api_version") != "2.11" || v.String("region") != "us" || v.Has("base_url") {
		t.Errorf("defaults: %+v", probs)
	}
	for _, tc := range []struct {
		name string
		si   destination.SyncInfo
		want string
	}{
		{"upsert", destination.SyncInfo{Mode: "upsert", KeyField: "email", Fields: fields}, ""},
		{"mirror without tag", destination.SyncInfo{Mode: "mirror", KeyField: "email", Fields: fields}, "tag_id"},
		{"key on phone", destination.SyncInfo{Mode: "upsert", KeyField: "phone", Fields: []string{"phone"}}, "found by `email` or `external_id`"},
		{"role mapped", destination.SyncInfo{Mode: "upsert", KeyField: "email", Fields: []string{"email", "role"}}, "`role` setting"},
		{"read-only", destination.SyncInfo{Mode: "upsert", KeyField: "email", Fields: []string{"email", "created_at"}}, "set by Intercom"},
		{"empty custom", destination.SyncInfo{Mode: "upsert", KeyField: "email", Fields: []string{"email", "custom_attributes."}}, "does not name"},
	} {
		var msgs []string
		for _, p := range spec.CheckSync(v, tc.si) {
			msgs = append(msgs, p.Message)
		}
		got := strings.Join(msgs, "; ")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: CheckSync = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCapabilities(t *testing.T) {
	s := icserver.New(t)
	up := open(t, s, "upsert", nil).Capabilities()
	mi := open(t, s, "mirror", nil).Capabilities()
	if len(up.Ops) != 2 || up.Supports(destination.OpRemove) || !mi.Supports(destination.OpRemove) {
		t.Errorf("ops: upsert %v, mirror %v", up.Ops, mi.Ops)
	}
	if up.MaxBatch != 50 || up.Concurrency != 1 || up.RateLimit != 0 || up.IdentifierOf != "email" || up.Timeout < 2*time.Second {
		t.Errorf("capabilities = %+v", up)
	}
}

func TestRecordsAndRemoteIDs(t *testing.T) {
	s := icserver.New(t)
	d := open(t, s, "upsert", nil)
	existing := s.AddContact("user", map[string]any{"email": "old@x.org", "name": "Old"}, nil)
	res := mustApply(t, d,
		rec(destination.OpAdd, "new@x.org", person("new@x.org", "New", 10.5)),
		rec(destination.OpAdd, "old@x.org", person("old@x.org", "Older", int64(3))),
		rec(destination.OpAdd, "nan@x.org", person("nan@x.org", "NaN", math.NaN())))
	if res[0].Err != nil || res[0].RemoteID == "" || res[1].Err != nil || res[1].RemoteID != existing {
		t.Fatalf("results %+v", res)
	}
	if res[2].Err == nil || res[2].Retryable || !strings.Contains(res[2].Err.Error(), "NaN") {
		t.Errorf("NaN record: %+v", res[2])
	}
	if c, _ := s.Find("old@x.org"); c.Attributes["name"] != "Older" || c.Custom["ltv"] != 3.0 || c.Role != "user" {
		t.Errorf("found contact not updated: %+v", c)
	}
	before := s.Stats().Requests
	ch := rec(destination.OpChange, "new@x.org", person("new@x.org", "Newer", 11.0))
	ch.RemoteID = res[0].RemoteID
	if r := mustApply(t, d, ch); r[0].Err != nil || r[0].RemoteID != ch.RemoteID {
		t.Errorf("change: %+v", r)
	}
	if n := s.Stats().Requests - before; n != 1 {
		t.Errorf("a change with a RemoteID took %d requests, want one PUT", n)
	}
	if len(s.Contacts()) != 2 {
		t.Errorf("contacts: %+v", s.Contacts())
	}
}

func TestNilClears(t *testing.T) {
	s := icserver.New(t)
	d := open(t, s, "upsert", []string{"email", "name", "custom_attributes.ltv", "signed_up_at"})
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := person("a@x.org", "Ann", 42.0)
	f["signed_up_at"] = at
	r := mustApply(t, d, rec(destination.OpAdd, "a@x.org", f))
	if c, _ := s.Find("a@x.org"); c.Attributes["signed_up_at"] != float64(at.Unix()) || c.Custom["ltv"] != 42.0 {
		t.Fatalf("stored %+v", c)
	}
	f = person("a@x.org", nil, nil)
	f["signed_up_at"], f["email"] = nil, nil
	ch := rec(destination.OpChange, "a@x.org", f)
	ch.RemoteID = r[0].RemoteID
	mustApply(t, d, ch)
	c, _ := s.Find("a@x.org")
	_, name := c.Attributes["name"]
	_, signed := c.Attributes["signed_up_at"]
	_, ltv := c.Custom["ltv"]
	if name || signed || ltv || c.Attributes["email"] != "a@x.org" {
		t.Errorf("nil fields must clear name, signed_up_at and ltv and keep the email: %+v", c)
	}
	if got := s.Audience("upsert"); len(got["a@x.org"]) != 1 {
		t.Errorf("audience %v", got)
	}
}

func TestRejectionsMapped(t *testing.T) {
	s := icserver.New(t)
	s.SetFaults(destinationtest.Faults{RejectRate: 0.3, RetryableRecordRate: 0.2, Seed: 5})
	d := open(t, s, "upsert", nil, "concurrency", "1")
	var batch []destination.Record
	for e, f := range people(0, 40, 1) {
		batch = append(batch, rec(destination.OpAdd, e, f))
	}
	res := mustApply(t, d, batch...)
	var ok, rejected, retry int
	for i, r := range res {
		_, held := s.Find(batch[i].Key)
		switch {
		case r.Err == nil:
			ok++
		case r.Retryable:
			retry++
			if !strings.Contains(r.Err.Error(), "503") {
				t.Errorf("transient: %v", r.Err)
			}
		default:
			rejected++
			if !strings.Contains(r.Err.Error(), "parameter_invalid: Contact data invalid (injected rejection)") {
				t.Errorf("rejection message: %v", r.Err)
			}
		}
		if held != (r.Err == nil) {
			t.Errorf("record %d: %v, held %v", i, r.Err, held)
		}
	}
	st := s.Stats()
	if rejected != st.Rejected || retry != st.Retried || ok == 0 || rejected == 0 || retry == 0 {
		t.Errorf("ok %d rejected %d retry %d; server %+v", ok, rejected, retry, st)
	}
}

func TestUnknownCustomAttributeRejected(t *testing.T) {
	s := icserver.New(t)
	d := open(t, s, "upsert", []string{"email", "plan"})
	r := mustApply(t, d, rec(destination.OpAdd, "a@x.org", map[string]any{"email": "a@x.org", "plan": "pro"}),
		rec(destination.OpAdd, "b@x.org", map[string]any{"email": "b@x.org"}))
	if r[0].Err == nil || r[0].Retryable || !strings.Contains(r[0].Err.Error(), "Custom attribute 'plan' does not exist") {
		t.Errorf("unknown custom attribute: %+v", r[0])
	}
	if r[1].Err != nil {
		t.Errorf("record without it: %v", r[1].Err)
	}
}

func TestThrottleCountedAndRetried(t *testing.T) {
	s := icserver.New(t)
	s.SetFaults(destinationtest.Faults{Status429Every: 3})
	d := open(t, s, "upsert", nil, "batch_size", "1", "concurrency", "1")
	want := people(0, 12, 1)
	st := newWorld("upsert").deliver(t, d, want, delivery.Options{MaxAttempts: 10})
	if st.Throttled == 0 || st.Confirmed != 12 {
		t.Errorf("stats %+v", st)
	}
	checkAudience(t, s, "upsert", want)

	s.SetFaults(destinationtest.Faults{Status429Every: 1, RetryAfter: 2 * time.Second})
	_, err := d.Apply(context.Background(), []destination.Record{rec(destination.OpAdd, "z@x.org", person("z@x.org", "Z", 1.0))})
	be := batchError(t, err)
	if !be.Retryable || !be.Throttled || be.Status != 429 || be.RetryAfter <= 0 || be.RetryAfter > 2*time.Second {
		t.Errorf("429: %+v", be)
	}
}

func TestRateLimitHeadersHonoured(t *testing.T) {
	s := icserver.New(t)
	s.SetRateLimit(10, time.Second)
	d := open(t, s, "upsert", nil, "concurrency", "1")
	var batch []destination.Record
	for e, f := range people(0, 8, 1) {
		batch = append(batch, rec(destination.OpAdd, e, f))
	}
	for i, r := range mustApply(t, d, batch...) {
		if r.Err != nil {
			t.Errorf("record %d: %v", i, r.Err)
		}
	}
	if st := s.Stats(); st.Throttled != 0 || st.Requests != 16 {
		t.Errorf("the connector must wait for X-RateLimit-Reset once Remaining is 0: %+v", st)
	}
}

func TestRevokedTokenIsFatal(t *testing.T) {
	s := icserver.New(t)
	d := open(t, s, "upsert", nil)
	s.Revoke()
	_, err := d.Apply(context.Background(), []destination.Record{rec(destination.OpAdd, "a@x.org", person("a@x.org", "A", 1.0))})
	if be := batchError(t, err); !be.Fatal || be.Status != 401 || !destination.IsFatal(err) {
		t.Errorf("revoked token: %+v", be)
	}
}

func TestBatchSizeAndConcurrency(t *testing.T) {
	s := icserver.New(t)
	d := open(t, s, "upsert", nil, "concurrency", "3")
	var batch []destination.Record
	for e, f := range people(0, 51, 1) {
		batch = append(batch, rec(destination.OpAdd, e, f))
	}
	if _, err := d.Apply(context.Background(), batch); err == nil || batchError(t, err).Retryable {
		t.Errorf("a batch over batch_size must be refused: %v", err)
	}
	var wg sync.WaitGroup
	for _, part := range [][]destination.Record{batch[:25], batch[25:50]} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mustApply(t, d, part...)
		}()
	}
	wg.Wait()
	if n := s.MaxInFlight(); n > 3 || n == 0 {
		t.Errorf("%d requests in flight, concurrency is 3", n)
	}
	if n := len(s.Contacts()); n != 50 {
		t.Errorf("%d contacts", n)
	}
}

func TestCreateConflictUpdatesExisting(t *testing.T) {
	s := icserver.New(t)
	s.SetSearchDelay(time.Hour)
	d := open(t, s, "upsert", nil)
	first := mustApply(t, d, rec(destination.OpAdd, "a@x.org", person("a@x.org", "A", 1.0)))
	// the state was lost (a crash before commit): the record is added again
	again := mustApply(t, d, rec(destination.OpAdd, "a@x.org", person("a@x.org", "A2", 2.0)))
	if again[0].Err != nil || again[0].RemoteID != first[0].RemoteID || len(s.Contacts()) != 1 {
		t.Errorf("409 must update the existing contact: %+v %+v, %d contacts", first, again, len(s.Contacts()))
	}
	if c, _ := s.Find("a@x.org"); c.Attributes["name"] != "A2" {
		t.Errorf("contact %+v", c)
	}
}

func TestStaleRemoteID(t *testing.T) {
	s := icserver.New(t)
	d := open(t, s, "upsert", nil)
	first := mustApply(t, d, rec(destination.OpAdd, "a@x.org", person("a@x.org", "A", 1.0)))
	s.DeleteContact(first[0].RemoteID)
	ch := rec(destination.OpChange, "a@x.org", person("a@x.org", "B", 2.0))
	ch.RemoteID = first[0].RemoteID
	r := mustApply(t, d, ch)
	if r[0].Err != nil || r[0].RemoteID == "" || r[0].RemoteID == first[0].RemoteID {
		t.Errorf("a 404 on the known ID must search and create again: %+v", r)
	}
}

func TestMirrorRemoval(t *testing.T) {
	s := icserver.New(t)
	d := open(t, s, "mirror", nil)
	r := mustApply(t, d, rec(destination.OpAdd, "a@x.org", person("a@x.org", "A", 1.0)),
		rec(destination.OpAdd, "b@x.org", person("b@x.org", "B", 2.0)))
	if len(s.Audience("mirror")) != 2 {
		t.Fatalf("tagged: %v", s.Audience("mirror"))
	}
	withID := rec(destination.OpRemove, "a@x.org", person("a@x.org", "A", 1.0))
	withID.RemoteID = r[0].RemoteID
	out := mustApply(t, d, withID, rec(destination.OpRemove, "b@x.org", nil), rec(destination.OpRemove, "nobody@x.org", nil))
	for i, o := range out {
		if o.Err != nil {
			t.Errorf("removal %d: %v", i, o.Err)
		}
	}
	if out[1].RemoteID != r[1].RemoteID || out[2].RemoteID != "" {
		t.Errorf("removal IDs: %+v", out)
	}
	if len(s.Audience("mirror")) != 0 || len(s.Contacts()) != 2 {
		t.Errorf("removal must untag and keep the contact: %v, %d contacts", s.Audience("mirror"), len(s.Contacts()))
	}
	up := open(t, s, "upsert", nil)
	if res := mustApply(t, up, rec(destination.OpRemove, "a@x.org", nil)); res[0].Err == nil || res[0].Retryable {
		t.Errorf("upsert removal: %+v", res)
	}
}

func TestExternalIDKey(t *testing.T) {
	s := icserver.New(t)
	d := open(t, s, "upsert", []string{"external_id", "email", "name"})
	r := mustApply(t, d, destination.Record{Op: destination.OpAdd, Key: "cust-1",
		Fields: map[string]any{"external_id": "cust-1", "email": "c@x.org", "name": "C"}})
	again := mustApply(t, d, destination.Record{Op: destination.OpAdd, Key: "cust-1",
		Fields: map[string]any{"external_id": "cust-1", "email": "c2@x.org", "name": "C2"}})
	if r[0].Err != nil || again[0].RemoteID != r[0].RemoteID || len(s.Contacts()) != 1 {
		t.Errorf("external_id lookup: %+v %+v", r, again)
	}
}

func TestCheckFields(t *testing.T) {
	s := icserver.New(t)
	s.AddAttribute("vip", "boolean")
	s.AddAttribute("old", "string")
	s.ArchiveAttribute("old")
	d := open(t, s, "upsert", nil).(destination.SchemaChecker)
	probs, err := d.CheckFields(context.Background(), []destination.FieldInfo{
		{Field: "email", Type: "string"}, {Field: "name", Type: "string"}, {Field: "custom_attributes.ltv", Type: "number"},
		{Field: "vip", Type: "boolean"}, {Field: "plan", Type: "string"}, {Field: "custom_attributes.vip", Type: "number"},
		{Field: "old", Type: "string"}, {Field: "signed_up_at", Type: "boolean"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range probs {
		got[p.Field] = p.Message
	}
	want := map[string]string{"plan": "does not exist", "custom_attributes.vip": "boolean attribute", "old": "archived", "signed_up_at": "takes"}
	if len(got) != len(want) {
		t.Errorf("problems %v", got)
	}
	for f, w := range want {
		if !strings.Contains(got[f], w) {
			t.Errorf("%s: %q, want %q", f, got[f], w)
		}
	}
}
