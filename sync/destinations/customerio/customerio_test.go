package customerio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinations/customerio"
	"github.com/cdpkit/cdp/sync/destinationtest"
	cioserver "github.com/cdpkit/cdp/sync/destinationtest/customerio"
)

// TestThreeRounds delivers three rounds of changing records in each mode
// and compares what Customer.io holds with what was confirmed.
func TestThreeRounds(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			s := cioserver.New(t)
			d := open(t, s, mode)
			st := state{}
			check := func(r int, stats delivery.Stats) {
				t.Helper()
				if stats.Rejected != 0 || stats.FailedRetryable != 0 {
					t.Fatalf("round %d: %+v", r, stats)
				}
				if got, want := s.Audience(mode), audienceOf(st); !reflect.DeepEqual(got, want) {
					t.Fatalf("round %d: audience differs:\n got %v\nwant %v", r, got, want)
				}
			}
			// round 1: 120 new people
			desired := people(0, 120)
			stats, _ := round(t, d, mode, desired, st, delivery.Options{})
			check(1, stats)
			if stats.Requests < 3 {
				t.Errorf("batch_size 50 must split 120 records: %+v", stats)
			}
			// round 2: 30 changes, 10 names cleared, 20 new, 25 leave (mirror)
			for i := 0; i < 30; i++ {
				desired[fmt.Sprintf("p%03d@example.org", i)]["ltv"] = float64(1000 + i)
			}
			for i := 30; i < 40; i++ {
				desired[fmt.Sprintf("p%03d@example.org", i)]["first_name"] = nil
			}
			maps.Copy(desired, people(120, 20))
			if mode == "mirror" {
				for i := 40; i < 65; i++ {
					delete(desired, fmt.Sprintf("p%03d@example.org", i))
				}
			}
			stats, _ = round(t, d, mode, desired, st, delivery.Options{})
			check(2, stats)
			// round 3: 5 come back, ltv cleared for 5, names changed for 5
			maps.Copy(desired, people(40, 5))
			for i := 65; i < 70; i++ {
				desired[fmt.Sprintf("p%03d@example.org", i)]["ltv"] = nil
			}
			for i := 70; i < 75; i++ {
				desired[fmt.Sprintf("p%03d@example.org", i)]["first_name"] = fmt.Sprintf("Renamed %d", i)
			}
			stats, _ = round(t, d, mode, desired, st, delivery.Options{})
			check(3, stats)
			if mode == "mirror" {
				if n := len(s.People()); n != 140 {
					t.Errorf("%d people held, want 140: removal from the segment must keep the person", n)
				}
				if p, ok := s.Person("p050@example.org"); !ok || p.Attributes["first_name"] != "Name 50" {
					t.Errorf("a removed person keeps their attributes: %+v", p)
				}
			}
			if v := s.Violations(); len(v) != 0 {
				t.Errorf("violations: %v", v)
			}
		})
	}
}

func TestRejectionsMapped(t *testing.T) {
	s := cioserver.New(t)
	s.SetFaults(destinationtest.Faults{RejectRate: 0.3, Seed: 11})
	d := open(t, s, "upsert", "batch_size", "100")
	var batch []destination.Record
	for _, k := range sortedKeys(people(0, 100)) {
		batch = append(batch, destination.Record{Op: destination.OpAdd, Key: k, Fields: person(k, "N", int64(1))})
	}
	res, err := d.Apply(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	rejected := 0
	for i, r := range res {
		_, held := s.Person(batch[i].Key)
		if held != (r.Err == nil) {
			t.Errorf("record %d: err %v, held %v", i, r.Err, held)
		}
		if r.Err != nil {
			rejected++
			if r.Retryable || !strings.Contains(r.Err.Error(), "refused by Customer.io: invalid (identifiers)") {
				t.Errorf("record %d: %+v", i, r)
			}
		}
	}
	if rejected == 0 || rejected != s.Stats().Rejected {
		t.Errorf("%d rejected, server says %d", rejected, s.Stats().Rejected)
	}
}

func TestRejectedRecordsSucceedLater(t *testing.T) {
	s := cioserver.New(t)
	s.SetFaults(destinationtest.Faults{RejectRate: 0.2, RetryableRecordRate: 0.1, Seed: 5})
	d := open(t, s, "mirror")
	st := state{}
	desired := people(0, 150)
	for r := 1; r <= 12 && len(st) < len(desired); r++ {
		round(t, d, "mirror", desired, st, delivery.Options{})
	}
	if got, want := s.Audience("mirror"), audienceOf(st); len(st) != 150 || !reflect.DeepEqual(got, want) {
		t.Errorf("after reruns: %d confirmed, audience %d people", len(st), len(got))
	}
}

func TestThrottleRetriedAndCounted(t *testing.T) {
	s := cioserver.New(t)
	s.SetFaults(destinationtest.Faults{Status429Every: 3, Status500Every: 5})
	d := open(t, s, "mirror")
	st := state{}
	// almost half the requests fail and concurrent batches draw them in any
	// order, so a batch gets more attempts than the default five
	stats, _ := round(t, d, "mirror", people(0, 300), st, delivery.Options{MaxAttempts: 30})
	if stats.Throttled == 0 || stats.Confirmed != 300 || s.Stats().Throttled == 0 {
		t.Errorf("stats %+v, server %+v", stats, s.Stats())
	}
	if !reflect.DeepEqual(s.Audience("mirror"), audienceOf(st)) {
		t.Error("audience differs after throttling")
	}
}

func TestThrottleRetryAfter(t *testing.T) {
	s := cioserver.New(t)
	s.SetFaults(destinationtest.Faults{Status429Every: 1, RetryAfter: 3 * time.Second})
	d := open(t, s, "upsert")
	_, err := d.Apply(context.Background(), []destination.Record{{Op: destination.OpAdd, Key: "a@x.org", Fields: person("a@x.org", "A", 1.0)}})
	be := batchError(t, err)
	if !be.Retryable || !be.Throttled || be.Status != 429 || be.RetryAfter != 3*time.Second {
		t.Errorf("429: %+v", be)
	}
}

func TestRevokedKeyIsFatal(t *testing.T) {
	s := cioserver.New(t)
	d := open(t, s, "upsert")
	s.Revoke()
	_, err := d.Apply(context.Background(), []destination.Record{{Op: destination.OpAdd, Key: "a@x.org", Fields: person("a@x.org", "A", 1.0)}})
	if be := batchError(t, err); !be.Fatal || be.Status != 401 || strings.Contains(be.Error(), s.APIKey) {
		t.Errorf("401: %+v", be)
	}
	st := state{}
	stats, _ := round(t, d, "upsert", people(0, 120), st, delivery.Options{})
	if stats.Retries != 0 || stats.Confirmed != 0 || len(st) != 0 {
		t.Errorf("a fatal error is not retried: %+v", stats)
	}
}

func TestBatchSizeRespected(t *testing.T) {
	s := cioserver.New(t)
	d := open(t, s, "mirror")
	round(t, d, "mirror", people(0, 300), state{}, delivery.Options{Concurrency: 3})
	log := s.BatchLog()
	n := 0
	for _, b := range log {
		if b.Entries > 50 {
			t.Errorf("batch of %d entries with batch_size 50", b.Entries)
		}
		n += b.Entries
	}
	if n != 300 || len(log) < 6 {
		t.Errorf("%d entries in %d requests", n, len(log))
	}
	for _, c := range s.SegmentLog() {
		if c.IDs > 50 || c.IDType != "email" || c.Segment != s.SegmentID {
			t.Errorf("segment call %+v", c)
		}
	}
}

func TestPayloadLimits(t *testing.T) {
	s := cioserver.New(t)
	spec, _ := destination.Lookup("customerio")
	settings := s.Settings("upsert")
	settings["batch_size"] = "200"
	v, _ := spec.Parse(settings)
	long := strings.Repeat("v", 900)
	many := []string{"email"}
	for i := range 10 {
		many = append(many, fmt.Sprintf("note_%d", i))
	}
	d, err := spec.New(context.Background(), destination.Config{Name: "cio", Settings: settings, Values: v, Mode: "upsert", Fields: many, KeyField: "email"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var batch []destination.Record
	for i := range 200 {
		k := fmt.Sprintf("big%03d@x.org", i)
		f := map[string]any{"email": k}
		for _, n := range many[1:] {
			f[n] = long
		}
		batch = append(batch, destination.Record{Op: destination.OpAdd, Key: k, Fields: f})
	}
	huge := map[string]any{"email": "huge@x.org"}
	for i := range 40 {
		huge[fmt.Sprintf("n%d", i)] = long
	}
	batch = append(batch[:198],
		destination.Record{Op: destination.OpAdd, Key: "huge@x.org", Fields: huge},
		destination.Record{Op: destination.OpAdd, Key: "long@x.org", Fields: map[string]any{"email": "long@x.org", "bio": long + long}})
	res, err := d.Apply(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res[:198] {
		if r.Err != nil {
			t.Errorf("record %d: %v", i, r.Err)
		}
	}
	if res[198].Err == nil || !strings.Contains(res[198].Err.Error(), "32000-byte") {
		t.Errorf("an entry over 32 kB must be rejected unsent: %+v", res[198])
	}
	if res[199].Err == nil || !strings.Contains(res[199].Err.Error(), "1000") {
		t.Errorf("a value over 1000 bytes must be rejected unsent: %+v", res[199])
	}
	log := s.BatchLog()
	total := 0
	for _, b := range log {
		if b.Bytes > customerio.MaxBatchBytes {
			t.Errorf("request of %d bytes", b.Bytes)
		}
		total += b.Entries
	}
	if len(log) < 4 || total != 198 {
		t.Errorf("%d requests carrying %d entries; ~1.8 MB must be split at 500 kB", len(log), total)
	}
}

func TestNullClearsAttribute(t *testing.T) {
	s := cioserver.New(t)
	d := open(t, s, "upsert")
	seen := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	apply := func(f map[string]any) {
		t.Helper()
		res, err := d.Apply(context.Background(), []destination.Record{{Op: destination.OpChange, Key: "a@x.org", Fields: f}})
		if err != nil || res[0].Err != nil {
			t.Fatalf("apply: %v %+v", err, res)
		}
	}
	apply(map[string]any{"email": "a@x.org", "first_name": "Ann", "ltv": 2.5, "seen": seen, "vip": true})
	p, _ := s.Person("a@x.org")
	if p.Attributes["seen"] != json.Number(fmt.Sprint(seen.Unix())) || p.Attributes["vip"] != true || p.Attributes["email"] != nil {
		t.Errorf("attributes %v: times are Unix seconds, the key is not an attribute", p.Attributes)
	}
	apply(map[string]any{"email": "a@x.org", "first_name": nil, "ltv": 2.5, "seen": nil, "vip": true})
	p, _ = s.Person("a@x.org")
	if _, ok := p.Attributes["first_name"]; ok || len(p.Attributes) != 2 {
		t.Errorf("attributes %v: nil must clear first_name and seen", p.Attributes)
	}
	if aud := s.Audience("upsert"); !reflect.DeepEqual(aud["a@x.org"], map[string]string{"email": "a@x.org", "ltv": "2.5"}) {
		t.Errorf("audience %v", aud)
	}
}

func TestIdentifierID(t *testing.T) {
	s := cioserver.New(t)
	settings := s.Settings("mirror")
	settings["identifier"] = "id"
	spec, _ := destination.Lookup("customerio")
	v, _ := spec.Parse(settings)
	d, err := spec.New(context.Background(), destination.Config{Name: "cio", Settings: settings, Values: v, Mode: "mirror",
		Fields: []string{"user_id", "email", "first_name"}, KeyField: "user_id"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res, err := d.Apply(context.Background(), []destination.Record{
		{Op: destination.OpAdd, Key: "u-1", Fields: map[string]any{"user_id": "u-1", "email": "one@x.org", "first_name": "One"}},
		{Op: destination.OpAdd, Key: "u-2", Fields: map[string]any{"user_id": "u-2", "email": "two@x.org", "first_name": "Two"}},
	})
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("%v %+v", err, res)
	}
	if _, err := d.Apply(context.Background(), []destination.Record{{Op: destination.OpRemove, Key: "u-1"}}); err != nil {
		t.Fatal(err)
	}
	p, _ := s.Person("one@x.org")
	if p.ID != "u-1" || p.Attributes["user_id"] != nil {
		t.Errorf("person %+v", p)
	}
	if m := s.Members(s.SegmentID); len(m) != 1 || m[0] != "two@x.org" {
		t.Errorf("members %v", m)
	}
	for _, c := range s.SegmentLog() {
		if c.IDType != "id" {
			t.Errorf("segment call %+v", c)
		}
	}
}

func TestUnexpectedAnswers(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		body      string
		header    string
		retryable bool
		fatal     bool
	}{
		{"207 index outside", 207, `{"errors":[{"batch_index":5,"reason":"invalid"}]}`, "", true, false},
		{"207 no errors", 207, `{}`, "", true, false},
		{"200 not json", 200, `<html>`, "", true, false},
		{"redirect", 307, ``, "https://track-eu.customer.io/api/v2/batch", false, true},
		{"400", 400, `{"errors":[{"reason":"invalid","field":"batch","message":"bad"}]}`, "", false, false},
		{"503", 503, `oops`, "", true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.header != "" {
					w.Header().Set("Location", c.header)
				}
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
			}))
			defer ts.Close()
			d := openWith(t, map[string]string{"site_id": "s", "api_key": "k", "base_url": ts.URL}, "upsert")
			_, err := d.Apply(context.Background(), []destination.Record{{Op: destination.OpAdd, Key: "a@x.org", Fields: person("a@x.org", "A", 1.0)}})
			be := batchError(t, err)
			if be.Retryable != c.retryable || be.Fatal != c.fatal {
				t.Errorf("%+v", be)
			}
		})
	}
}

func TestLocalRejections(t *testing.T) {
	s := cioserver.New(t)
	d := open(t, s, "upsert")
	res, err := d.Apply(context.Background(), []destination.Record{
		{Op: destination.OpAdd, Key: "", Fields: person("", "A", 1.0)},
		{Op: destination.OpAdd, Key: "nan@x.org", Fields: person("nan@x.org", "A", nan())},
		{Op: destination.OpRemove, Key: "rm@x.org"},
		{Op: destination.OpAdd, Key: "ok@x.org", Fields: person("ok@x.org", "Ok", 1.0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res[:3] {
		if r.Err == nil || r.Retryable {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	if res[3].Err != nil || len(s.People()) != 1 || s.BatchLog()[0].Entries != 1 {
		t.Errorf("only the valid record is sent: %+v %v", res[3], s.BatchLog())
	}
}

func nan() float64 {
	var z float64
	return z / z
}

// TestStopAndRerun stops a delivery after the server applied a few writes
// (as a crash would, leaving applied requests unconfirmed) and reruns it.
func TestStopAndRerun(t *testing.T) {
	s := cioserver.New(t)
	d := open(t, s, "mirror")
	ctx, cancel := context.WithCancel(context.Background())
	s.OnWrite(func(n int) {
		if n == 3 {
			cancel()
		}
	})
	st := state{}
	desired := people(0, 300)
	if _, _, err := roundCtx(ctx, d, "mirror", desired, st, delivery.Options{Concurrency: 2}); err == nil {
		t.Fatal("the stopped delivery returned no error")
	}
	if len(st) == len(desired) {
		t.Fatalf("the delivery was not stopped early: %d confirmed", len(st))
	}
	s.OnWrite(nil)
	for i := 40; i < 60; i++ {
		delete(desired, fmt.Sprintf("p%03d@example.org", i))
	}
	round(t, d, "mirror", desired, st, delivery.Options{})
	if got, want := s.Audience("mirror"), audienceOf(st); len(st) != 280 || !reflect.DeepEqual(got, want) {
		t.Errorf("after the rerun: %d confirmed, audience of %d", len(st), len(got))
	}
}
