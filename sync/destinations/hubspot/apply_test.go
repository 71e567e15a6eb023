package hubspot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinationtest"
	hs "github.com/cdpkit/cdp/sync/destinationtest/hubspot"
)

func apply(t *testing.T, d destination.Destination, batch ...destination.Record) []destination.Result {
	t.Helper()
	res, err := d.Apply(context.Background(), batch)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(res) != len(batch) {
		t.Fatalf("%d results for %d records", len(res), len(batch))
	}
	return res
}

func batchError(t *testing.T, err error) *destination.BatchError {
	t.Helper()
	var be *destination.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("want *BatchError, got %T %v", err, err)
	}
	return be
}

func add(key string, fields map[string]any) destination.Record {
	return destination.Record{Op: destination.OpAdd, Key: key, Fields: fields, Hash: "h-" + key}
}

// TestWireShape checks the request HubSpot gets and the mapping of a
// multi-status answer given out of order: results by objectWriteTraceId or
// by email, errors by trace ID or by ids, and an input answered nothing
// about retried.
func TestWireShape(t *testing.T) {
	seen := time.Date(2026, 3, 1, 12, 30, 0, 0, time.FixedZone("CET", 3600))
	recs := []destination.Record{
		add("a@x.org", map[string]any{"email": "a@x.org", "firstname": "Ann", "ltv": 12.5, "vip": true, "seen": seen, "lastname": nil}),
		add("B@x.org", map[string]any{"email": "B@x.org", "ltv": int64(3)}),
		add("c@x.org", map[string]any{"email": "c@x.org"}),
		add("d@x.org", map[string]any{"email": "d@x.org"}),
		add("e@x.org", map[string]any{"email": "e@x.org"}),
	}
	var got struct {
		Inputs []map[string]any `json:"inputs"`
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/crm/v3/objects/contacts/batch/upsert" || r.Method != "POST" ||
			r.Header.Get("Authorization") != "Bearer tok-123" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s %v", r.Method, r.URL.Path, r.Header)
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Error(err)
		}
		w.WriteHeader(207)
		io.WriteString(w, `{"status":"COMPLETE","numErrors":2,"results":[
		  {"id":"202","properties":{"email":"b@x.org"}},
		  {"id":"101","properties":{"email":"a@x.org"},"objectWriteTraceId":"`+destination.RecordKey("vips", recs[0])+`"}],
		 "errors":[
		  {"status":"error","category":"VALIDATION_ERROR","message":"Property values were not valid","errors":[{"message":"x","code":"PROPERTY_DOESNT_EXIST"}],"context":{"ids":["C@x.org"]}},
		  {"status":"error","category":"LOCKED","message":"locked","context":{"objectWriteTraceId":["`+destination.RecordKey("vips", recs[3])+`"]}}]}`)
	}))
	defer ts.Close()
	d, err := destination.Open(context.Background(), "hubspot", destination.Config{Name: "crm", SyncName: "vips", Mode: "upsert",
		Settings: map[string]string{"access_token": "tok-123", "base_url": ts.URL}})
	if err != nil {
		t.Fatal(err)
	}
	res := apply(t, d, recs...)
	in := got.Inputs[0]
	props := in["properties"].(map[string]any)
	if in["idProperty"] != "email" || in["id"] != "a@x.org" || in["objectWriteTraceId"] != destination.RecordKey("vips", recs[0]) ||
		props["ltv"] != "12.5" || props["vip"] != "true" || props["seen"] != "2026-03-01T11:30:00.000Z" || props["lastname"] != "" {
		t.Errorf("input = %v", in)
	}
	if p := got.Inputs[1]["properties"].(map[string]any); p["ltv"] != "3" {
		t.Errorf("integer ltv = %v", p["ltv"])
	}
	switch {
	case res[0].Err != nil || res[0].RemoteID != "101":
		t.Errorf("a: %+v", res[0])
	case res[1].Err != nil || res[1].RemoteID != "202":
		t.Errorf("B (matched by lowercased email): %+v", res[1])
	case res[2].Err == nil || res[2].Retryable || !strings.Contains(res[2].Err.Error(), "VALIDATION_ERROR") || !strings.Contains(res[2].Err.Error(), "PROPERTY_DOESNT_EXIST"):
		t.Errorf("c: %+v", res[2])
	case res[3].Err == nil || !res[3].Retryable || !strings.Contains(res[3].Err.Error(), "LOCKED"):
		t.Errorf("d: %+v", res[3])
	case res[4].Err == nil || !res[4].Retryable:
		t.Errorf("e (unanswered): %+v", res[4])
	}
}

// TestTraceIDsStable resends a record: the same content carries the same
// objectWriteTraceId, a changed one another.
func TestTraceIDsStable(t *testing.T) {
	r := add("a@x.org", map[string]any{"email": "a@x.org"})
	again := r
	changed := r
	changed.Hash = "other"
	if destination.RecordKey("vips", r) != destination.RecordKey("vips", again) || destination.RecordKey("vips", r) == destination.RecordKey("vips", changed) {
		t.Error("RecordKey does not name the content")
	}
}

// TestRejectionsMapped sends a batch where HubSpot refuses some contacts
// and the destination others before sending.
func TestRejectionsMapped(t *testing.T) {
	srv := hs.New(t)
	d := open(t, srv, "upsert")
	res := apply(t, d,
		add("ok@example.org", map[string]any{"email": "ok@example.org", "firstname": "Ok", "ltv": int64(1)}),
		add("bad@example.org", map[string]any{"email": "bad@example.org", "ltv2": int64(1)}),
		add("not-an-email", map[string]any{"firstname": "X"}),
		add("nan@example.org", map[string]any{"email": "nan@example.org", "ltv": math.NaN()}),
		add("long@example.org", map[string]any{"email": "long@example.org", "firstname": strings.Repeat("x", 65537)}),
		add("OK@example.org", map[string]any{"email": "OK@example.org"}),
		destination.Record{Op: destination.OpRemove, Key: "gone@example.org"},
	)
	want := []struct {
		ok, retryable bool
		msg           string
	}{
		{ok: true},
		{msg: "PROPERTY_DOESNT_EXIST"},
		{msg: "INVALID_EMAIL"},
		{msg: "NaN"},
		{msg: "at most 65536"},
		{retryable: true, msg: "twice in one batch"},
		{msg: "does not remove"},
	}
	for i, w := range want {
		r := res[i]
		if w.ok != (r.Err == nil) || (r.Err != nil && (r.Retryable != w.retryable || !strings.Contains(r.Err.Error(), w.msg))) {
			t.Errorf("record %d: %+v, want %+v", i, r, w)
		}
	}
	if id, _ := srv.Contact("ok@example.org"); id == "" || res[0].RemoteID != id {
		t.Errorf("RemoteID %q, HubSpot's record ID %q", res[0].RemoteID, id)
	}
	calls := srv.Calls()
	if len(calls) != 1 || calls[0].Inputs != 3 {
		t.Errorf("calls %+v: want one upsert of the 3 sendable contacts", calls)
	}
}

// TestThrottles checks HubSpot's 429s: the rolling window's wait, a
// second for SECONDLY, a stop for DAILY, and delivery counting throttles.
func TestThrottles(t *testing.T) {
	srv := hs.New(t)
	d := open(t, srv, "upsert")
	r := add("a@example.org", map[string]any{"email": "a@example.org"})
	srv.SetFaults(destinationtest.Faults{Status429Every: 1})
	for policy, want := range map[string]time.Duration{hs.PolicyTenSecondly: 200 * time.Millisecond, hs.PolicySecondly: time.Second} {
		srv.SetPolicy(policy)
		_, err := d.Apply(context.Background(), []destination.Record{r})
		if be := batchError(t, err); !be.Retryable || !be.Throttled || be.Fatal || be.Status != 429 || be.RetryAfter != want {
			t.Errorf("%s: %+v", policy, be)
		}
	}
	srv.SetPolicy(hs.PolicyDaily)
	_, err := d.Apply(context.Background(), []destination.Record{r})
	if be := batchError(t, err); !be.Fatal || be.Retryable {
		t.Errorf("DAILY: %+v", be)
	}

	// Every second request throttled: a mirror batch sends two or three
	// (lookup, upsert, membership), so its retries must not resend what
	// HubSpot already confirmed, or the membership change would always be
	// the throttled one. Without record IDs handed back, removals are
	// looked up by email.
	srv.SetPolicy(hs.PolicyTenSecondly)
	srv.SetFaults(destinationtest.Faults{Status429Every: 2})
	h := newHarness(t, srv, "mirror")
	h.forget = true
	for n, aud := range rounds() {
		st, outs := h.run(aud)
		if st.Throttled == 0 || st.Confirmed != int64(len(outs)) || st.RetryAfterWaits == 0 {
			t.Errorf("round %d: stats %+v", n+1, st)
		}
		h.check(fmt.Sprintf("throttled round %d", n+1))
	}
}

// TestRefusedTokenIsFatal checks that a revoked or wrong token stops the run.
func TestRefusedTokenIsFatal(t *testing.T) {
	srv := hs.New(t)
	d := open(t, srv, "mirror")
	r := add("a@example.org", map[string]any{"email": "a@example.org"})
	srv.Revoke()
	_, err := d.Apply(context.Background(), []destination.Record{r})
	if !destination.IsFatal(err) || batchError(t, err).Status != 401 || !strings.Contains(err.Error(), "EXPIRED_AUTHENTICATION") {
		t.Errorf("revoked: %v", err)
	}
	srv.SetToken("pat-na1-new")
	_, err = d.Apply(context.Background(), []destination.Record{r})
	if !destination.IsFatal(err) {
		t.Errorf("rotated: %v", err)
	}
	if strings.Contains(err.Error(), hs.Token) {
		t.Errorf("the token leaks into the error: %v", err)
	}
}

// TestBatchSize delivers 230 contacts with batch_size 50: no request holds
// more; and batch_size above HubSpot's 100 is refused.
func TestBatchSize(t *testing.T) {
	srv := hs.New(t)
	h := newHarness(t, srv, "upsert")
	aud := map[string]map[string]any{}
	for i := range 230 {
		aud[email(i)] = person(i, "N", int64(i))
	}
	h.run(aud)
	n := 0
	for _, c := range srv.Calls() {
		if c.Inputs > 50 {
			t.Errorf("request of %d inputs", c.Inputs)
		}
		n++
	}
	if n != 5 || len(srv.Audience("upsert")) != 230 {
		t.Errorf("%d requests, %d contacts", n, len(srv.Audience("upsert")))
	}
	spec, _ := destination.Lookup("hubspot")
	if _, probs := spec.Parse(map[string]string{"access_token": "x", "batch_size": "101"}); len(probs) != 1 || !strings.Contains(probs[0].Message, "above the maximum 100") {
		t.Errorf("batch_size 101: %+v", probs)
	}
	if _, err := openErr(srv, "upsert", "batch_size", "101"); err == nil || !strings.Contains(err.Error(), "batch_size") {
		t.Errorf("open with batch_size 101: %v", err)
	}
	if _, err := openErr(srv, "upsert", "batch_size", "250"); err == nil {
		t.Error("batch_size 250 accepted")
	}
}

// TestNullClears sends a nil field (null_values: send): HubSpot clears the
// property.
func TestNullClears(t *testing.T) {
	srv := hs.New(t)
	d := open(t, srv, "upsert")
	apply(t, d, add("a@example.org", map[string]any{"email": "a@example.org", "firstname": "Ann", "ltv": int64(5)}))
	res := apply(t, d, destination.Record{Op: destination.OpChange, Key: "a@example.org",
		Fields: map[string]any{"email": nil, "firstname": "Ann", "ltv": nil}})
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	_, props := srv.Contact("a@example.org")
	if _, held := props["ltv"]; held || props["firstname"] != "Ann" || props["email"] != "a@example.org" {
		t.Errorf("props = %v", props)
	}
}

// TestMirrorRemovals removes contacts from the list by the record ID the
// engine hands back, looks the ID up only when it is unknown, and never
// deletes a contact.
func TestMirrorRemovals(t *testing.T) {
	srv := hs.New(t)
	d := open(t, srv, "mirror")
	var recs []destination.Record
	for _, k := range []string{"a@example.org", "b@example.org", "c@example.org"} {
		recs = append(recs, add(k, map[string]any{"email": k}))
	}
	res := apply(t, d, recs...)
	if len(srv.Members(hs.ListID)) != 3 {
		t.Fatalf("members %v", srv.Members(hs.ListID))
	}
	before := len(srv.Calls())
	rm := func(key, remote string) destination.Record {
		return destination.Record{Op: destination.OpRemove, Key: key, RemoteID: remote, Fields: map[string]any{"email": key}}
	}
	out := apply(t, d, rm("a@example.org", res[0].RemoteID))
	calls := srv.Calls()[before:]
	if out[0].Err != nil || len(calls) != 1 || calls[0].Method != "PUT" {
		t.Errorf("removal by known ID: %+v, calls %+v", out[0], calls)
	}
	before = len(srv.Calls())
	out = apply(t, d, rm("b@example.org", ""), rm("never@example.org", ""))
	calls = srv.Calls()[before:]
	if out[0].Err != nil || out[0].RemoteID != res[1].RemoteID || out[1].Err != nil || len(calls) != 2 ||
		calls[0].Path != "/crm/v3/objects/contacts/batch/read" || calls[1].Method != "PUT" {
		t.Errorf("removal by email: %+v, calls %+v", out, calls)
	}
	if m := srv.Members(hs.ListID); len(m) != 1 || m[0] != res[2].RemoteID {
		t.Errorf("members %v", m)
	}
	if len(srv.Audience("upsert")) != 3 {
		t.Errorf("contacts were deleted: %v", srv.Audience("upsert"))
	}
}

// TestMissingListStopsTheRun points mirror at a list that does not exist.
func TestMissingListStopsTheRun(t *testing.T) {
	srv := hs.New(t)
	d := open(t, srv, "mirror", "list_id", "424242")
	_, err := d.Apply(context.Background(), []destination.Record{add("a@example.org", map[string]any{"email": "a@example.org"})})
	if !destination.IsFatal(err) || !strings.Contains(err.Error(), "list_id 424242") {
		t.Errorf("err = %v", err)
	}
	if _, err := openErr(srv, "mirror", "list_id", ""); err == nil {
		t.Error("mirror opened without list_id")
	}
}

// TestCapabilities checks each mode's operations and the halved rate of
// mirror.
func TestCapabilities(t *testing.T) {
	srv := hs.New(t)
	for mode, want := range map[string]int{"upsert": 3, "update": 2, "mirror": 4} { // each with erase
		c := open(t, srv, mode).Capabilities()
		if len(c.Ops) != want || c.MaxBatch != 50 || c.Timeout != 2*time.Second || c.IdentifierOf != "email" {
			t.Errorf("%s: %+v", mode, c)
		}
		if rate := map[string]float64{"mirror": 50}[mode]; rate != 0 && c.RateLimit != rate {
			t.Errorf("%s: rate %v", mode, c.RateLimit)
		}
	}
	if _, err := openErr(srv, "insert"); err == nil {
		t.Error("insert accepted")
	}
	spec, _ := destination.Lookup("hubspot")
	v, _ := spec.Parse(map[string]string{"access_token": "x"})
	c := destination.HTTPCapabilities(v)
	if c.MaxBatch != 100 || c.RateLimit != 10 || v.URL("base_url").String() != "https://api.hubapi.com" || v.String("id_property") != "email" {
		t.Errorf("defaults %+v", c)
	}
}

// TestDeliveryStopsOnFatal is what the delivery sees of a revoked token:
// no record is confirmed.
func TestDeliveryStopsOnFatal(t *testing.T) {
	srv := hs.New(t)
	srv.Revoke()
	h := newHarness(t, srv, "upsert")
	st, outs := h.run(rounds()[0])
	if st.Confirmed != 0 || st.Requests != 1 || len(srv.Audience("upsert")) != 0 {
		t.Errorf("one request, then the delivery stops: stats %+v", st)
	}
	for _, o := range outs {
		if o.Err == nil || !strings.Contains(o.Err.Error(), "401") {
			t.Errorf("%s: %v", o.Record.Key, o.Err)
		}
	}
}
