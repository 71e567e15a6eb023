package iterable_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinations/iterable"
	"github.com/cdpkit/cdp/sync/destinationtest"
	srv "github.com/cdpkit/cdp/sync/destinationtest/iterable"
)

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

func TestPerRecordFailures(t *testing.T) {
	s := srv.New(t)
	d := open(t, s, "mirror")
	s.Forget("r001@example.org")
	batch := recs(destination.OpAdd, 0, 3)
	batch = append(batch, destination.Record{Op: destination.OpAdd, Key: "not-an-email", Fields: person("not-an-email", "X", int64(1))})
	e := newEngine(t, "mirror")
	st, err := e.run(d, fast, batch)
	if err != nil {
		t.Fatal(err)
	}
	if st.Confirmed != 2 || st.Rejected != 2 {
		t.Errorf("confirmed %d rejected %d, want 2 and 2", st.Confirmed, st.Rejected)
	}
	forgot := e.byKey["r001@example.org"]
	if forgot.Err == nil || forgot.Retryable || forgot.Attempts != 1 || !strings.Contains(forgot.Err.Error(), "GDPR-forgotten") {
		t.Errorf("forgotten user: %+v (want a rejection sent once, naming GDPR)", forgot)
	}
	if bad := e.byKey["not-an-email"]; bad.Err == nil || bad.Retryable || !strings.Contains(bad.Err.Error(), "malformed") {
		t.Errorf("malformed email: %+v", bad)
	}
	if got := s.Members(s.ListID); fmt.Sprint(got) != "[r000@example.org r002@example.org]" {
		t.Errorf("members %v: a rejected profile was subscribed", got)
	}
	// a removal of a user Iterable does not know holds
	res := apply(t, d, []destination.Record{{Op: destination.OpRemove, Key: "nobody@example.org"}})
	if res[0].Err != nil {
		t.Errorf("unsubscribe of an unknown user: %v", res[0].Err)
	}
}

func TestRecordFaults(t *testing.T) {
	s := srv.New(t)
	s.SetBulkRate(0)
	d := open(t, s, "mirror", "rate_limit", "1000/s")
	s.SetFaults(destinationtest.Faults{RejectRate: 0.1, RetryableRecordRate: 0.1, Seed: 7})
	e := newEngine(t, "mirror")
	want := rounds(true)[0]
	for run := 1; run <= 8; run++ {
		if _, err := e.run(d, fast, e.diff(want)); err != nil {
			t.Fatal(err)
		}
		if len(e.state) == len(want) {
			break
		}
	}
	if len(e.state) != len(want) {
		t.Fatalf("after 8 runs %d of %d confirmed", len(e.state), len(want))
	}
	st := s.Stats()
	if st.Rejected == 0 || st.Retried == 0 {
		t.Errorf("no record faults drawn: %+v", st)
	}
	s.SetFaults(destinationtest.Faults{})
	if got, exp := s.Audience("mirror"), audience(want); fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Errorf("audience after retries:\n%s", diffAudience(got, exp))
	}
}

func TestThrottleRetriedAndCounted(t *testing.T) {
	s := srv.New(t)
	s.SetBulkRate(0)
	d := open(t, s, "upsert", "rate_limit", "1000/s", "batch_size", "10")
	s.SetFaults(destinationtest.Faults{Status429Every: 3})
	e := newEngine(t, "upsert")
	st, err := e.run(d, fast, recs(destination.OpAdd, 0, 100))
	if err != nil {
		t.Fatal(err)
	}
	if st.Confirmed != 100 || st.Throttled == 0 || st.Throttled != int64(s.Stats().Throttled) {
		t.Errorf("confirmed %d, throttled %d (server %d)", st.Confirmed, st.Throttled, s.Stats().Throttled)
	}
	// the documented 5 requests/second: a client going faster is throttled
	s.SetFaults(destinationtest.Faults{})
	s.SetBulkRate(srv.BulkRate)
	fastClient := open(t, s, "upsert", "rate_limit", "1000/s", "batch_size", "5")
	patient := delivery.Options{BaseBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, MaxAttempts: 50}
	st, err = e.run(fastClient, patient, recs(destination.OpAdd, 100, 30))
	if err != nil {
		t.Fatal(err)
	}
	if st.Confirmed != 30 || st.Throttled == 0 {
		t.Errorf("beyond 5/s: confirmed %d, throttled %d", st.Confirmed, st.Throttled)
	}
	be := applyErr(t, fastClient, s)
	if !be.Throttled || !be.Retryable || be.Status != 429 {
		t.Errorf("429 classified as %+v", be)
	}
}

// applyErr sends bulkUpdates until one is throttled and returns its error.
func applyErr(t *testing.T, d destination.Destination, s *srv.Server) *destination.BatchError {
	t.Helper()
	for i := 0; i < 20; i++ {
		if _, err := d.Apply(context.Background(), recs(destination.OpChange, 100+i, 1)); err != nil {
			return batchError(t, err)
		}
	}
	t.Fatal("never throttled")
	return nil
}

func TestRevokedKeyIsFatal(t *testing.T) {
	s := srv.New(t)
	d := open(t, s, "upsert")
	s.RevokeKey()
	_, err := d.Apply(context.Background(), recs(destination.OpAdd, 0, 2))
	if be := batchError(t, err); !be.Fatal || be.Status != 401 {
		t.Errorf("revoked key: %+v", be)
	}
	st, err := newEngine(t, "upsert").run(d, fast, recs(destination.OpAdd, 0, 20))
	if !destination.IsFatal(err) || st.Requests != 1 || st.Confirmed != 0 {
		t.Errorf("delivery went on after a fatal error: %+v %v", st, err)
	}
	d2 := open(t, srv.New(t), "mirror", "list_id", "9999")
	_, err = d2.Apply(context.Background(), recs(destination.OpAdd, 0, 1))
	if be := batchError(t, err); !be.Fatal || !strings.Contains(be.Error(), "list_id") {
		t.Errorf("unknown list: %+v", be)
	}
}

func TestBatchAndPayloadLimits(t *testing.T) {
	s := srv.New(t)
	s.SetBulkRate(0)
	d := open(t, s, "upsert", "batch_size", "20")
	if _, err := d.Apply(context.Background(), recs(destination.OpAdd, 0, 21)); err == nil {
		t.Errorf("a batch over batch_size was sent")
	}
	// 20 users of ~300 KB each: 6 MB, sent as two bodies under 4 MB
	batch := recs(destination.OpAdd, 0, 20)
	for i := range batch {
		batch[i].Fields["bio"] = strings.Repeat(string(rune('a'+i)), 300<<10)
	}
	huge := destination.Record{Op: destination.OpAdd, Key: "huge@example.org",
		Fields: map[string]any{"bio": strings.Repeat("z", iterable.MaxBody)}}
	res := apply(t, d, append(batch[:19:19], huge))
	for i, r := range res[:19] {
		if r.Err != nil {
			t.Errorf("record %d: %v", i, r.Err)
		}
	}
	if res[19].Err == nil || !strings.Contains(res[19].Err.Error(), "4 MB") {
		t.Errorf("a user above 4 MB: %v", res[19].Err)
	}
	var bodies []int
	for _, c := range s.Calls() {
		if c.Path == "/api/users/bulkUpdate" {
			bodies = append(bodies, c.Bytes)
			if c.Bytes > srv.MaxBody {
				t.Errorf("a body of %d bytes", c.Bytes)
			}
		}
	}
	if len(bodies) != 2 {
		t.Errorf("bulkUpdate bodies %v, want 2", bodies)
	}
	if len(s.Audience("upsert")) != 19 {
		t.Errorf("%d users held, want 19", len(s.Audience("upsert")))
	}
}

func TestValuesAndClearing(t *testing.T) {
	s := srv.New(t)
	d := open(t, s, "upsert")
	seen := time.Date(2026, 3, 1, 12, 30, 0, 0, time.FixedZone("CET", 3600))
	apply(t, d, []destination.Record{{Op: destination.OpAdd, Key: "a@example.org", Fields: map[string]any{
		"email": "a@example.org", "firstName": "Ann", "ltv": 120.0, "orders": int64(3), "vip": true, "seen": seen}}})
	u := s.User("a@example.org")
	if u["seen"] != "2026-03-01 11:30:00 +00:00" || u["ltv"] != 120.0 || u["vip"] != true || u["email"] != nil {
		t.Errorf("held %v", u)
	}
	for f, want := range map[string]string{"ltv": "double", "orders": "long", "vip": "boolean", "seen": "date", "firstName": "string"} {
		if got := s.FieldType(f); got != want {
			t.Errorf("field %s typed %s, want %s", f, got, want)
		}
	}
	// null_values: send clears; skip (the field absent) keeps
	apply(t, d, []destination.Record{{Op: destination.OpChange, Key: "a@example.org", Fields: map[string]any{
		"email": "a@example.org", "firstName": nil, "ltv": 99.5}}})
	u = s.User("a@example.org")
	if _, ok := u["firstName"]; ok || u["ltv"] != 99.5 || u["orders"] != 3.0 {
		t.Errorf("after clearing firstName: %v", u)
	}
	// a value the field's type refuses: that record is rejected, the others written
	res := apply(t, d, []destination.Record{
		{Op: destination.OpChange, Key: "a@example.org", Fields: map[string]any{"orders": 2.5}},
		{Op: destination.OpAdd, Key: "b@example.org", Fields: map[string]any{"orders": int64(4), "firstName": "Bo"}},
	})
	if res[0].Err == nil || res[0].Retryable || !strings.Contains(res[0].Err.Error(), "`orders` is long") {
		t.Errorf("type mismatch: %v", res[0].Err)
	}
	if res[1].Err != nil || s.User("b@example.org")["orders"] != 4.0 {
		t.Errorf("the other record: %v %v", res[1].Err, s.User("b@example.org"))
	}
	// NaN cannot be sent
	if r := apply(t, d, []destination.Record{{Op: destination.OpAdd, Key: "c@example.org", Fields: map[string]any{"ltv": nan()}}}); r[0].Err == nil {
		t.Errorf("NaN accepted")
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestRetryResumesAfterSecondRequest(t *testing.T) {
	s := srv.New(t)
	s.SetBulkRate(0)
	d := open(t, s, "mirror", "rate_limit", "1000/s")
	apply(t, d, recs(destination.OpAdd, 0, 5))
	before := len(s.Calls())
	s.SetFaults(destinationtest.Faults{Status500Every: 2})
	batch := append(recs(destination.OpChange, 0, 3), recs(destination.OpRemove, 3, 2)...)
	st, err := newEngine(t, "mirror").run(d, fast, batch)
	if err != nil || st.Confirmed != 5 {
		t.Fatalf("confirmed %d: %v", st.Confirmed, err)
	}
	var paths []string
	for _, c := range s.Calls()[before:] {
		paths = append(paths, strings.TrimPrefix(c.Path, "/api/"))
	}
	want := "[users/bulkUpdate lists/subscribe lists/subscribe lists/unsubscribe lists/unsubscribe]"
	if fmt.Sprint(paths) != want {
		t.Errorf("requests %v, want %s (a retry resends only the failed step)", paths, want)
	}
	if got := s.Members(s.ListID); fmt.Sprint(got) != "[r000@example.org r001@example.org r002@example.org]" {
		t.Errorf("members %v", got)
	}
}

func TestCheckFields(t *testing.T) {
	s := srv.New(t)
	d := open(t, s, "upsert")
	apply(t, d, []destination.Record{{Op: destination.OpAdd, Key: "a@example.org", Fields: map[string]any{"ltv": int64(5), "firstName": "A"}}})
	sc := d.(destination.SchemaChecker)
	probs, err := sc.CheckFields(context.Background(), []destination.FieldInfo{
		{Field: "email", Type: "string"}, {Field: "firstName", Type: "string"}, {Field: "ltv", Type: "number"}, {Field: "fresh", Type: "boolean"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 1 || probs[0].Field != "ltv" || !strings.Contains(probs[0].Message, "long") {
		t.Errorf("problems %v", probs)
	}
}

func TestUserIDIdentifier(t *testing.T) {
	s := srv.New(t)
	d := open(t, s, "mirror", "identifier", "userId")
	res := apply(t, d, []destination.Record{{Op: destination.OpAdd, Key: "cust-1",
		Fields: map[string]any{"userId": "cust-1", "email": "one@example.org", "firstName": "One"}}})
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if got := s.Audience("mirror"); got["one@example.org"]["name"] != "One" {
		t.Errorf("audience %v", got)
	}
	if res := apply(t, d, []destination.Record{{Op: destination.OpRemove, Key: "cust-1"}}); res[0].Err != nil || len(s.Audience("mirror")) != 0 {
		t.Errorf("remove by userId: %v %v", res[0].Err, s.Audience("mirror"))
	}
}
