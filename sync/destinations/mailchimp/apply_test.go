package mailchimp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinations/mailchimp"
	"github.com/cdpkit/cdp/sync/destinationtest"
	mcserver "github.com/cdpkit/cdp/sync/destinationtest/mailchimp"
)

func adds(n int, from int) []destination.Record {
	out := make([]destination.Record, n)
	for i := range out {
		out[i] = destination.Record{Op: destination.OpAdd, Key: email(from + i), Fields: person(from+i, "N", int64(i))}
	}
	return out
}

func apply(t *testing.T, d destination.Destination, batch []destination.Record) []destination.Result {
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

func TestRejectionsMapped(t *testing.T) {
	s := mcserver.New(t, mcserver.Options{Faults: destinationtest.Faults{RejectRate: 0.2, RetryableRecordRate: 0.1, Seed: 11}})
	d := open(t, s, "upsert")
	batch := adds(50, 0)
	res := apply(t, d, batch)
	var rejected int
	for i, r := range res {
		_, held := s.Member(batch[i].Key)
		if held != (r.Err == nil) {
			t.Errorf("record %d: %v, but held by Mailchimp: %v", i, r.Err, held)
		}
		if r.Err != nil {
			rejected++
			if r.Retryable || !strings.Contains(r.Err.Error(), batch[i].Key) || !strings.Contains(r.Err.Error(), "ERROR_GENERIC") {
				t.Errorf("record %d: Mailchimp's per-member errors are rejections naming the member: %+v", i, r)
			}
		} else if r.RemoteID != mailchimp.SubscriberHash(batch[i].Key) {
			t.Errorf("record %d: RemoteID %q", i, r.RemoteID)
		}
	}
	if st := s.Stats(); rejected != st.Rejected+st.Retried || st.Rejected == 0 || st.Retried == 0 {
		t.Errorf("%d rejected, server %+v", rejected, st)
	}
	s.SetFaults(destinationtest.Faults{})
	bad := adds(4, 100)
	bad[0].Fields = map[string]any{"email_address": email(100), "NOPE": "x"} // not a merge tag of the audience
	bad[1].Fields = map[string]any{"email_address": email(101), "LTV": "lots"}
	bad[2].Fields = map[string]any{"email_address": email(102), "LTV": 1.0 / zero()} // JSON cannot carry it
	res = apply(t, d, bad)
	for i, want := range []string{"field NOPE: Merge field NOPE does not exist", "field LTV: Please enter a number", "cannot carry"} {
		if res[i].Err == nil || res[i].Retryable || !strings.Contains(res[i].Err.Error(), want) {
			t.Errorf("record %d: %v, want %q", i, res[i].Err, want)
		}
	}
	if res[3].Err != nil {
		t.Errorf("record 3: %v", res[3].Err)
	}
}

func zero() float64 { return 0 }

func TestThrottleRetriedAndCounted(t *testing.T) {
	s := mcserver.New(t, mcserver.Options{Faults: destinationtest.Faults{Status429Every: 3}})
	h := newHarness(t, open(t, s, "upsert"), "upsert")
	want := map[string]map[string]any{}
	for i := 0; i < 300; i++ {
		want[email(i)] = person(i, "N", int64(i))
	}
	st := h.round(want, fast(delivery.Options{}))
	if st.Throttled == 0 || st.Throttled != int64(s.Stats().Throttled) || st.Confirmed != 300 {
		t.Errorf("stats %+v, server %+v", st, s.Stats())
	}
	if len(s.Audience("upsert")) != 300 {
		t.Errorf("audience of %d", len(s.Audience("upsert")))
	}
}

func TestConnectionLimitRespected(t *testing.T) {
	// Ten Apply calls at once, each archiving 50 members: never an 11th connection.
	s := mcserver.New(t, mcserver.Options{Latency: 2 * time.Millisecond})
	d := open(t, s, "mirror", "concurrency", "10")
	h := newHarness(t, d, "mirror")
	want := map[string]map[string]any{}
	for i := 0; i < 500; i++ {
		want[email(i)] = person(i, "N", int64(i))
	}
	h.round(want, fast(delivery.Options{}))
	st := h.round(map[string]map[string]any{}, fast(delivery.Options{}))
	if st.Confirmed != 500 || s.Stats().Throttled != 0 || s.MaxInFlight() > mcserver.MaxConnections || s.MaxInFlight() < 5 {
		t.Errorf("stats %+v, server %+v, max in flight %d", st, s.Stats(), s.MaxInFlight())
	}
	// A smaller limit (another app holding connections) is Mailchimp's 429, retried.
	s2 := mcserver.New(t, mcserver.Options{MaxConnections: 2, Latency: 5 * time.Millisecond})
	h2 := newHarness(t, open(t, s2, "upsert", "concurrency", "8", "batch_size", "10"), "upsert")
	// eight requests compete for two connections: a batch may be throttled
	// many times in a row on a busy machine, so it gets more attempts
	o := fast(delivery.Options{})
	o.MaxBackoff, o.MaxAttempts = 50*time.Millisecond, 60
	st = h2.round(want, o)
	if st.Confirmed != 500 || st.Throttled == 0 || s2.MaxInFlight() > 2 {
		t.Errorf("stats %+v, server %+v", st, s2.Stats())
	}
}

func TestRevokedKeyIsFatal(t *testing.T) {
	s := mcserver.New(t)
	d := open(t, s, "mirror")
	apply(t, d, adds(3, 0))
	s.RevokeKey()
	for _, batch := range [][]destination.Record{adds(2, 10), {{Op: destination.OpRemove, Key: email(0)}}} {
		_, err := d.Apply(context.Background(), batch)
		if be := batchError(t, err); !be.Fatal || be.Status != 401 || !destination.IsFatal(err) {
			t.Errorf("revoked key: %+v", be)
		}
	}
	if s.Stats().Writes != 1 {
		t.Errorf("writes after the key was revoked: %+v", s.Stats())
	}
}

func TestBatchSizeRespected(t *testing.T) {
	s := mcserver.New(t)
	d := open(t, s, "upsert")
	if c := d.Capabilities(); c.MaxBatch != 50 || c.Concurrency != 4 || c.Timeout != 2*time.Second || c.Supports(destination.OpRemove) {
		t.Errorf("capabilities %+v", c)
	}
	_, err := d.Apply(context.Background(), adds(51, 0))
	if be := batchError(t, err); be.Retryable || s.Stats().Requests != 0 {
		t.Errorf("oversized batch: %+v, requests %d", be, s.Stats().Requests)
	}
	h := newHarness(t, d, "upsert")
	want := map[string]map[string]any{}
	for i := 0; i < 300; i++ {
		want[email(i)] = person(i, "N", int64(i))
	}
	if st := h.round(want, delivery.Options{}); st.Requests != 6 || s.Stats().Writes != 6 || st.Confirmed != 300 {
		t.Errorf("stats %+v, server %+v", st, s.Stats())
	}
	// The server refuses more than 500 members whatever the client says.
	big := open(t, s, "upsert", "batch_size", "500")
	apply(t, big, adds(500, 1000))
	spec, _ := destination.Lookup(mailchimp.Type)
	if _, probs := spec.Parse(map[string]string{"api_key": "k-us1", "list_id": "l", "batch_size": "501"}); len(probs) != 1 ||
		probs[0].Setting != "batch_size" || !strings.Contains(probs[0].Message, "above the maximum 500") {
		t.Errorf("batch_size 501: %+v", probs)
	}
	if _, probs := spec.Parse(map[string]string{"api_key": "k-us1", "list_id": "l", "concurrency": "11"}); len(probs) != 1 {
		t.Errorf("concurrency 11: %+v", probs)
	}
}

func TestNullClearsMergeFields(t *testing.T) {
	s := mcserver.New(t)
	d := open(t, s, "upsert", "tags", "cdp, vip")
	apply(t, d, []destination.Record{{Op: destination.OpAdd, Key: "Ann@Example.com",
		Fields: map[string]any{"email_address": "Ann@Example.com", "FNAME": "Ann", "LTV": 12.5}}})
	res := apply(t, d, []destination.Record{{Op: destination.OpChange, Key: "Ann@Example.com", RemoteID: mailchimp.SubscriberHash("ann@example.com"),
		Fields: map[string]any{"email_address": "Ann@Example.com", "FNAME": nil, "LTV": nil}}})
	m, _ := s.Member("ann@example.com")
	if res[0].Err != nil || len(m.MergeFields) != 0 || m.Status != "subscribed" || strings.Join(m.Tags, ",") != "cdp,vip" {
		t.Errorf("member %+v, result %+v", m, res[0])
	}
	if got := s.Audience("upsert")["Ann@Example.com"]; len(got) != 1 || got["email"] != "Ann@Example.com" {
		t.Errorf("audience %v", got)
	}
	// Absent fields (null_values: skip) keep their values.
	apply(t, d, []destination.Record{{Op: destination.OpChange, Key: "Ann@Example.com", Fields: map[string]any{"email_address": "Ann@Example.com", "LTV": int64(3)}}})
	apply(t, d, []destination.Record{{Op: destination.OpChange, Key: "Ann@Example.com", Fields: map[string]any{"FNAME": "Annie"}}})
	if m, _ := s.Member("ann@example.com"); m.MergeFields["LTV"] != 3.0 || m.MergeFields["FNAME"] != "Annie" {
		t.Errorf("member %+v", m)
	}
}

func TestUpsertKeepsStatusMirrorResubscribes(t *testing.T) {
	s := mcserver.New(t)
	mirror := open(t, s, "mirror", "removal", "unsubscribe")
	upsert := open(t, s, "upsert", "new_status", "pending")
	apply(t, mirror, adds(2, 0))
	apply(t, mirror, []destination.Record{{Op: destination.OpRemove, Key: email(0)}})
	apply(t, upsert, append(adds(1, 0), adds(1, 5)...))
	if a, _ := s.Member(email(0)); a.Status != "unsubscribed" {
		t.Errorf("upsert changed an unsubscribed member's status: %+v", a)
	}
	if b, _ := s.Member(email(5)); b.Status != "pending" {
		t.Errorf("new member in upsert mode: %+v", b)
	}
	apply(t, mirror, adds(1, 0))
	if a, _ := s.Member(email(0)); a.Status != "subscribed" {
		t.Errorf("mirror add: %+v", a)
	}
}

func TestArchiveFailures(t *testing.T) {
	s := mcserver.New(t)
	d := open(t, s, "mirror")
	apply(t, d, adds(6, 0))
	removes := func(from, n int) []destination.Record {
		var out []destination.Record
		for i := from; i < from+n; i++ {
			out = append(out, destination.Record{Op: destination.OpRemove, Key: strings.ToUpper(email(i)), RemoteID: mailchimp.SubscriberHash(email(i))})
		}
		return out
	}
	// Only removals, and the first request is throttled: the whole batch waits.
	s.SetFaults(destinationtest.Faults{Status429Every: 1, RetryAfter: time.Second})
	_, err := d.Apply(context.Background(), removes(0, 3))
	if be := batchError(t, err); !be.Retryable || be.Status != 429 || be.RetryAfter != time.Second {
		t.Errorf("throttled first archive: %+v", be)
	}
	// A later failure is that record's: retryable, the others done.
	s.SetFaults(destinationtest.Faults{Status500Every: 3})
	res := apply(t, d, removes(0, 4))
	var failed int
	for i, r := range res {
		m, _ := s.Member(email(i))
		if (r.Err == nil) != (m.Status == mcserver.StatusArchived) || (r.Err != nil && !r.Retryable) {
			t.Errorf("record %d: %+v, member %+v", i, r, m)
		}
		if r.Err != nil {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d failed archive requests, want 1", failed)
	}
	// Archiving again is done (404), whatever the case of the key.
	s.SetFaults(destinationtest.Faults{})
	for i, r := range apply(t, d, append(removes(0, 6), destination.Record{Op: destination.OpRemove, Key: "never@example.com"})) {
		if r.Err != nil {
			t.Errorf("record %d: %v", i, r.Err)
		}
	}
	if len(s.Audience("mirror")) != 0 {
		t.Errorf("audience %v", s.Audience("mirror"))
	}
}

func TestDuplicateAddressInBatch(t *testing.T) {
	s := mcserver.New(t)
	d := open(t, s, "upsert")
	res := apply(t, d, []destination.Record{
		{Op: destination.OpAdd, Key: "a@example.com", Fields: map[string]any{"FNAME": "A"}},
		{Op: destination.OpAdd, Key: "A@EXAMPLE.COM", Fields: map[string]any{"FNAME": "B"}},
		{Op: destination.OpAdd, Key: " ", Fields: map[string]any{}},
		{Op: "upsert", Key: "c@example.com"},
	})
	if res[0].Err != nil || res[1].Err == nil || !res[1].Retryable || res[2].Err == nil || res[2].Retryable || res[3].Err == nil {
		t.Errorf("results %+v", res)
	}
}

func TestListNotFoundIsFatal(t *testing.T) {
	s := mcserver.New(t, mcserver.Options{AllowViolations: true})
	d := open(t, s, "upsert", "list_id", "nope")
	_, err := d.Apply(context.Background(), adds(1, 0))
	if be := batchError(t, err); !be.Fatal || !strings.Contains(be.Error(), `list_id "nope"`) {
		t.Errorf("unknown list: %v", err)
	}
}

func TestBare403IsThrottle(t *testing.T) {
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusForbidden) // Mailchimp under exceptional load: no JSON body
			return
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"type":"https://mailchimp.com/developer/marketing/docs/errors/","title":"User Disabled","status":403,"detail":"This account has been disabled.","instance":"x"}`)
	}))
	defer ts.Close()
	d, err := destination.Open(context.Background(), mailchimp.Type, destination.Config{Name: "mc", Mode: "upsert",
		Settings: map[string]string{"api_key": "0123456789abcdef0123456789abcdef-us21", "list_id": "l1", "base_url": ts.URL}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Apply(context.Background(), adds(1, 0))
	if be := batchError(t, err); !be.Retryable || !be.Throttled || be.Fatal {
		t.Errorf("bare 403: %+v", be)
	}
	_, err = d.Apply(context.Background(), adds(1, 0))
	if be := batchError(t, err); be.Retryable || !be.Fatal || !strings.Contains(be.Error(), "disabled") {
		t.Errorf("403 problem: %+v", be)
	}
}

func TestBadAnswers(t *testing.T) {
	for name, c := range map[string]struct {
		status    int
		body      string
		retryable bool
	}{
		"not json":    {200, "<html>", true},
		"missing":     {200, `{"new_members":[],"updated_members":[],"errors":[]}`, true},
		"bad request": {400, `{"type":"x","title":"Invalid Resource","status":400,"detail":"bad","instance":"i"}`, false},
		"503":         {503, `{"title":"Service Unavailable","status":503}`, true},
	} {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			}))
			defer ts.Close()
			d, err := destination.Open(context.Background(), mailchimp.Type, destination.Config{Name: "mc", Mode: "upsert",
				Settings: map[string]string{"api_key": "k-us5", "list_id": "l1", "base_url": ts.URL}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := d.Apply(context.Background(), adds(1, 0))
			if name == "missing" {
				if err != nil || res[0].Err == nil || !res[0].Retryable {
					t.Errorf("member missing from the answer: %+v %v", res, err)
				}
				return
			}
			if be := batchError(t, err); be.Retryable != c.retryable {
				t.Errorf("%+v", be)
			}
		})
	}
}

func TestCheckFields(t *testing.T) {
	s := mcserver.New(t)
	for i := 0; i < 1200; i++ { // more than a page
		s.AddMergeField(mcserver.MergeField{Tag: fmt.Sprintf("X%d", i), Name: "x", Type: "text"})
	}
	s.AddMergeField(mcserver.MergeField{Tag: "CITY", Name: "City", Type: "text", Required: true})
	d := open(t, s, "upsert")
	probs, err := d.(destination.SchemaChecker).CheckFields(context.Background(), []destination.FieldInfo{
		{Field: "email_address", Type: "string"}, {Field: "FNAME", Type: "string"}, {Field: "LTV", Type: "boolean"},
		{Field: "lname", Type: "string"}, {Field: "X1100", Type: "integer"}, {Field: "PHONE", Type: "json"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"LTV": "is a number, the trait is boolean", "lname": "did you mean LNAME?",
		"PHONE": "json trait cannot fill it", "CITY": "requires the merge field CITY"}
	if len(probs) != len(want) {
		t.Errorf("problems %+v", probs)
	}
	for _, p := range probs {
		if !strings.Contains(p.Message, want[p.Field]) {
			t.Errorf("%s: %s, want %q", p.Field, p.Message, want[p.Field])
		}
	}
	s.RevokeKey()
	if _, err := d.(destination.SchemaChecker).CheckFields(context.Background(), nil); !destination.IsFatal(err) {
		t.Errorf("revoked key: %v", err)
	}
}
