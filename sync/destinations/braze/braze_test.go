package braze

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinationtest"
	brazeapi "github.com/cdpkit/cdp/sync/destinationtest/braze"
)

var fields = []string{"email", "first_name", "ltv"}

// open opens a destination at the server for mode, with overrides.
func open(t *testing.T, s *brazeapi.Server, mode string, over map[string]string) *Destination {
	t.Helper()
	settings := s.Settings(mode)
	maps.Copy(settings, over)
	for k, v := range settings {
		if v == "" {
			delete(settings, k)
		}
	}
	d, err := destination.Open(context.Background(), Type, destination.Config{Name: "braze", Settings: settings,
		Mode: mode, Fields: fields, KeyField: "email", SyncName: "people"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d.(*Destination)
}

// sim is a tiny sync state: the fields last confirmed per key.
type sim struct {
	t    *testing.T
	d    destination.Destination
	mode string
	held map[string]map[string]any
}

func newSim(t *testing.T, d destination.Destination, mode string) *sim {
	return &sim{t: t, d: d, mode: mode, held: map[string]map[string]any{}}
}

// records diffs want against the state: adds, changes and (mirror) removes.
func (s *sim) records(want map[string]map[string]any) []destination.Record {
	var out []destination.Record
	for _, k := range slices.Sorted(maps.Keys(want)) {
		old, ok := s.held[k]
		switch {
		case !ok:
			out = append(out, destination.Record{Op: destination.OpAdd, Key: k, Fields: want[k]})
		case !reflect.DeepEqual(old, want[k]):
			out = append(out, destination.Record{Op: destination.OpChange, Key: k, Fields: want[k]})
		}
	}
	if s.mode == "mirror" {
		for _, k := range slices.Sorted(maps.Keys(s.held)) {
			if _, ok := want[k]; !ok {
				out = append(out, destination.Record{Op: destination.OpRemove, Key: k, Fields: s.held[k]})
			}
		}
	}
	return out
}

// run delivers want's differences and commits the confirmed records.
func (s *sim) run(want map[string]map[string]any) delivery.Stats {
	s.t.Helper()
	recs := s.records(want)
	i := 0
	next := func() (destination.Record, bool, error) {
		if i == len(recs) {
			return destination.Record{}, false, nil
		}
		i++
		return recs[i-1], true, nil
	}
	commit := func(_ context.Context, outs []delivery.Outcome) error {
		for _, o := range outs {
			if o.Err != nil {
				continue
			}
			if o.Record.Op == destination.OpRemove {
				delete(s.held, o.Record.Key)
			} else {
				s.held[o.Record.Key] = o.Record.Fields
			}
		}
		return nil
	}
	st, err := delivery.Deliver(context.Background(), s.d, delivery.Options{BaseBackoff: time.Millisecond,
		MaxBackoff: 5 * time.Millisecond}, next, commit)
	if err != nil {
		s.t.Fatalf("Deliver: %v", err)
	}
	return st
}

// expected renders the state as Audience reports it; upsert keeps every
// profile ever written (everyone), mirror only the held members.
func expected(held map[string]map[string]any) map[string]map[string]string {
	out := map[string]map[string]string{}
	for k, f := range held {
		rec := map[string]string{"email": k}
		if v, ok := f["first_name"].(string); ok {
			rec["name"] = v
		}
		switch v := f["ltv"].(type) {
		case int64:
			rec["ltv"] = destinationtest.FormatNumber(float64(v))
		case float64:
			rec["ltv"] = destinationtest.FormatNumber(v)
		}
		out[k] = rec
	}
	return out
}

// people returns n people for a round: names and values change with the
// round, some fields cleared (nil).
func people(from, to, round int) map[string]map[string]any {
	out := map[string]map[string]any{}
	for i := from; i < to; i++ {
		email := fmt.Sprintf("p%03d@example.org", i)
		f := map[string]any{"email": email, "first_name": fmt.Sprintf("Person %d", i), "ltv": int64(10 * i)}
		if i%3 == 0 {
			f["first_name"] = fmt.Sprintf("Person %d r%d", i, round)
			f["ltv"] = float64(i) + float64(round)/4
		}
		if round > 1 && i%7 == 0 {
			f["first_name"] = nil
		}
		if round > 2 && i%5 == 0 {
			f["ltv"] = nil
		}
		out[email] = f
	}
	return out
}

func TestThreeRoundsPerMode(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			s := brazeapi.New(t)
			sm := newSim(t, open(t, s, mode, nil), mode)
			everyone := map[string]map[string]any{}
			rounds := []map[string]map[string]any{people(0, 120, 1), people(20, 150, 2), people(0, 40, 3)}
			maps.Copy(rounds[2], people(100, 180, 3))
			for r, want := range rounds {
				st := sm.run(want)
				if st.Rejected+st.FailedRetryable != 0 {
					t.Fatalf("round %d: %+v", r+1, st)
				}
				maps.Copy(everyone, want)
				exp := expected(sm.held)
				if mode == "upsert" {
					exp = expected(everyone)
				}
				if got := s.Audience(mode); !reflect.DeepEqual(got, exp) {
					t.Fatalf("round %d: audience differs:\n%s", r+1, diff(got, exp))
				}
			}
			if mode == "mirror" {
				// Removed people keep their profiles: only the membership goes.
				if got, want := len(s.Audience("upsert")), 180; got != want {
					t.Errorf("%d profiles after mirror rounds, want %d (none deleted)", got, want)
				}
			}
		})
	}
}

func diff(got, want map[string]map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if !reflect.DeepEqual(got[k], want[k]) {
			fmt.Fprintf(&b, "  %s: got %v, want %v\n", k, got[k], want[k])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			fmt.Fprintf(&b, "  %s: unexpected %v\n", k, got[k])
		}
	}
	return b.String()
}

func TestRejectionsMappedAndRetriedByLaterRuns(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			s := brazeapi.New(t)
			d := open(t, s, mode, nil)
			s.SetFaults(destinationtest.Faults{RejectRate: 0.2, RetryableRecordRate: 0.1, Seed: 3})
			batch := newSim(t, d, mode).records(people(0, 50, 1))
			res, err := d.Apply(context.Background(), batch)
			if err != nil {
				t.Fatal(err)
			}
			bad := 0
			for _, r := range res {
				if r.Err != nil {
					bad++
					if r.Retryable || !strings.Contains(r.Err.Error(), "injected") {
						t.Errorf("result %+v, want a rejection with Braze's message", r)
					}
				}
			}
			st := s.Stats()
			if bad == 0 || bad != st.Rejected+st.Retried {
				t.Errorf("%d rejected results, server drew %d", bad, st.Rejected+st.Retried)
			}
			if mode == "mirror" {
				if got := len(s.Audience(mode)); got != 50-bad {
					t.Errorf("%d members, want only the %d accepted", got, 50-bad)
				}
			}
			// Later runs resend the rejected records until they pass.
			sm := newSim(t, d, mode)
			want := people(0, 50, 1)
			for run := 0; run < 10 && len(sm.held) < len(want); run++ {
				sm.run(want)
			}
			if got := s.Audience(mode); !reflect.DeepEqual(got, expected(want)) {
				t.Errorf("not converged:\n%s", diff(got, expected(want)))
			}
		})
	}
}

func TestAllInvalid400MapsPerRecord(t *testing.T) {
	s := brazeapi.New(t)
	d := open(t, s, "upsert", nil)
	s.SetFaults(destinationtest.Faults{RejectRate: 1, Seed: 1})
	res, err := d.Apply(context.Background(), newSim(t, d, "upsert").records(people(0, 5, 1)))
	if err != nil {
		t.Fatalf("a 400 naming every object should map per record, got %v", err)
	}
	for i, r := range res {
		if r.Err == nil || r.Retryable {
			t.Errorf("record %d: %+v, want rejected", i, r)
		}
	}
}

func TestThrottleRetriedAndCounted(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			s := brazeapi.New(t)
			s.SetFaults(destinationtest.Faults{Status429Every: 3})
			sm := newSim(t, open(t, s, mode, nil), mode)
			want := people(0, 150, 1)
			st := sm.run(want)
			if st.Throttled == 0 || int(st.Throttled) != s.Stats().Throttled {
				t.Errorf("delivery counted %d throttles, server sent %d", st.Throttled, s.Stats().Throttled)
			}
			if got := s.Audience(mode); !reflect.DeepEqual(got, expected(want)) {
				t.Errorf("audience after throttling:\n%s", diff(got, expected(want)))
			}
		})
	}
}

func TestRateLimitWindowHonoured(t *testing.T) {
	s := brazeapi.New(t)
	s.SetEndpointLimit(brazeapi.TrackPath, 2, time.Second)
	sm := newSim(t, open(t, s, "upsert", map[string]string{"batch_size": "25", "concurrency": "1"}), "upsert")
	start := time.Now()
	st := sm.run(people(0, 100, 1)) // 4 requests: the third waits for the reset
	if st.Throttled == 0 || st.Confirmed != 100 {
		t.Errorf("stats %+v", st)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v: the reset time was not honoured", el)
	}
}

func TestFatalCredentials(t *testing.T) {
	s := brazeapi.New(t)
	d := open(t, s, "mirror", nil)
	s.SetAPIKey("rotated")
	_, err := d.Apply(context.Background(), newSim(t, d, "mirror").records(people(0, 3, 1)))
	var be *destination.BatchError
	if !errors.As(err, &be) || !be.Fatal || be.Status != 401 {
		t.Fatalf("revoked key: %v, want a fatal 401", err)
	}
	// sync/delivery does not stop on Fatal yet (the engine's run is to);
	// the destination's part is the fatal BatchError above.
}

func TestWrongBaseURLIsFatal(t *testing.T) {
	s := brazeapi.Serve
	srv, err := s("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	d := open(t, srv, "upsert", map[string]string{"base_url": srv.URL() + "/v1"})
	_, err = d.Apply(context.Background(), newSim(t, d, "upsert").records(people(0, 1, 1)))
	if !destination.IsFatal(err) {
		t.Errorf("404: %v, want fatal", err)
	}
}

func TestUnknownGroupRejectsBatch(t *testing.T) {
	s := brazeapi.New(t)
	d := open(t, s, "mirror", map[string]string{"subscription_group_id": "not-a-group"})
	_, err := d.Apply(context.Background(), newSim(t, d, "mirror").records(people(0, 2, 1)))
	var be *destination.BatchError
	if !errors.As(err, &be) || be.Retryable || be.Fatal || be.Status != 400 {
		t.Errorf("unknown group: %v, want a non-retryable 400", err)
	}
}

func TestNullClearsAttributes(t *testing.T) {
	s := brazeapi.New(t)
	d := open(t, s, "upsert", nil)
	sm := newSim(t, d, "upsert")
	sm.run(map[string]map[string]any{"a@b.org": {"email": "a@b.org", "first_name": "Ann", "ltv": 12.5}})
	sm.run(map[string]map[string]any{"a@b.org": {"email": "a@b.org", "first_name": nil, "ltv": nil}})
	if p := s.Profile("a@b.org"); len(p) != 1 || p["email"] != "a@b.org" {
		t.Errorf("profile after clearing = %v, want only the email", p)
	}
}

func TestBatchSplitByPayload(t *testing.T) {
	s := brazeapi.New(t)
	s.SetMaxPayload(3000)
	d := open(t, s, "mirror", map[string]string{"batch_size": "75"})
	d.maxPayload = 3000
	batch := newSim(t, d, "mirror").records(people(0, 75, 1))
	batch = append(batch, destination.Record{Op: destination.OpAdd, Key: "big@example.org",
		Fields: map[string]any{"email": "big@example.org", "first_name": strings.Repeat("x", 3000)}})
	if _, err := d.Apply(context.Background(), batch); err == nil {
		t.Fatal("76 records accepted with batch_size 75")
	}
	batch[74] = batch[75]
	res, err := d.Apply(context.Background(), batch[:75])
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if (r.Err != nil) != (i == 74) {
			t.Errorf("record %d: %v", i, r.Err)
		}
	}
	tracks, subs, objects := 0, 0, 0
	for _, rq := range s.Writes() {
		switch rq.Path {
		case brazeapi.TrackPath:
			tracks++
			objects += rq.Objects
			if rq.Bytes > 3000 || rq.Objects > MaxAttributes {
				t.Errorf("track request of %d bytes, %d objects", rq.Bytes, rq.Objects)
			}
		case brazeapi.SubscriptionPath:
			subs++
		}
	}
	if tracks < 2 || objects != 74 || subs != 2 {
		t.Errorf("%d track requests with %d objects and %d subscription requests, want several with 74 and 2 (50 users per request)",
			tracks, objects, subs)
	}
	if got := len(s.Audience("mirror")); got != 74 {
		t.Errorf("%d members, want 74", got)
	}
}

func TestExternalIDIdentifier(t *testing.T) {
	s := brazeapi.New(t)
	d := open(t, s, "mirror", map[string]string{"identifier": "external_id"})
	recs := []destination.Record{
		{Op: destination.OpAdd, Key: "u-1", Fields: map[string]any{"email": "one@example.org", "first_name": "One"}},
		{Op: destination.OpAdd, Key: "u-2", Fields: map[string]any{"email": "two@example.org", "ltv": int64(7)}},
	}
	if _, err := d.Apply(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{"one@example.org": {"email": "one@example.org", "name": "One"},
		"two@example.org": {"email": "two@example.org", "ltv": "7"}}
	if got := s.Audience("mirror"); !reflect.DeepEqual(got, want) {
		t.Errorf("audience = %v, want %v", got, want)
	}
	if _, err := d.Apply(context.Background(), []destination.Record{{Op: destination.OpRemove, Key: "u-1", Fields: recs[0].Fields}}); err != nil {
		t.Fatal(err)
	}
	if got := s.Audience("mirror"); len(got) != 1 || s.Subscription("one@example.org", s.Group()) != "unsubscribed" {
		t.Errorf("after removing u-1: %v", got)
	}
}

func TestLocalRejections(t *testing.T) {
	s := brazeapi.New(t)
	d := open(t, s, "upsert", nil)
	res, err := d.Apply(context.Background(), []destination.Record{
		{Op: destination.OpAdd, Key: "", Fields: map[string]any{"first_name": "x"}},
		{Op: destination.OpRemove, Key: "a@b.org"},
		{Op: destination.OpAdd, Key: "c@d.org", Fields: map[string]any{"braze_id": "x"}},
		{Op: destination.OpAdd, Key: "e@f.org", Fields: map[string]any{"ltv": 1.5}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if (r.Err == nil) != (i == 3) || r.Retryable {
			t.Errorf("record %d: %+v", i, r)
		}
	}
}

func TestSpecParsing(t *testing.T) {
	spec, err := destination.Lookup(Type)
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]string{"api_key": "k", "base_url": ExampleBaseURL}
	if v, probs := spec.Parse(ok); len(probs) != 0 || v.Int("batch_size") != MaxAttributes || v.String("identifier") != IdentifierEmail {
		t.Errorf("minimal settings: %v, batch_size %d", probs, v.Int("batch_size"))
	}
	for name, tc := range map[string]struct {
		raw  map[string]string
		want string
	}{
		"batch over 75":    {map[string]string{"api_key": "k", "base_url": ExampleBaseURL, "batch_size": "76"}, "above the maximum 75"},
		"no base_url":      {map[string]string{"api_key": "k"}, "needs `base_url`"},
		"no api_key":       {map[string]string{"base_url": ExampleBaseURL}, "needs `api_key`"},
		"bad identifier":   {map[string]string{"api_key": "k", "base_url": ExampleBaseURL, "identifier": "phone"}, "not one of"},
		"unknown settings": {map[string]string{"api_key": "k", "base_url": ExampleBaseURL, "subscription_group": "g"}, "unknown setting"},
	} {
		_, probs := spec.Parse(tc.raw)
		if len(probs) != 1 || !strings.Contains(probs[0].Message, tc.want) {
			t.Errorf("%s: problems %v, want one containing %q", name, probs, tc.want)
		}
	}
	v, _ := spec.Parse(ok)
	for name, tc := range map[string]struct {
		si      destination.SyncInfo
		want    string
		warning bool
	}{
		"mirror without group": {destination.SyncInfo{Name: "s", Mode: "mirror", Fields: fields, KeyField: "email"}, "no `subscription_group_id`", false},
		"reserved field":       {destination.SyncInfo{Name: "s", Mode: "upsert", Fields: []string{"braze_id"}}, "identifier or flag", false},
		"email not the key":    {destination.SyncInfo{Name: "s", Mode: "upsert", Fields: fields, KeyField: "user_id"}, "maps field `email`", false},
	} {
		probs := spec.CheckSync(v, tc.si)
		if len(probs) != 1 || !strings.Contains(probs[0].Message, tc.want) || probs[0].Warning != tc.warning {
			t.Errorf("%s: problems %v, want one containing %q", name, probs, tc.want)
		}
	}
	withGroup, _ := spec.Parse(map[string]string{"api_key": "k", "base_url": ExampleBaseURL, "subscription_group_id": "g"})
	if probs := spec.CheckSync(withGroup, destination.SyncInfo{Name: "s", Mode: "upsert", Fields: fields, KeyField: "email"}); len(probs) != 0 {
		t.Errorf("upsert with a group (used by unsubscribes): %v, want none", probs)
	}
	if probs := spec.CheckSync(withGroup, destination.SyncInfo{Name: "s", Mode: "mirror", Fields: fields, KeyField: "email"}); len(probs) != 0 {
		t.Errorf("valid mirror: %v", probs)
	}
	if _, err := New(context.Background(), destination.Config{Name: "b", Values: v, Mode: "insert"}); err == nil {
		t.Error("insert mode accepted")
	}
}

func TestConvergesUnderFaults(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			s := brazeapi.New(t)
			// 429s are left to TestThrottleRetriedAndCounted: each waits for
			// the next whole second of X-RateLimit-Reset.
			s.SetFaults(destinationtest.Faults{Status500Every: 5, TimeoutEvery: 11, DropEvery: 7,
				RejectRate: 0.05, RetryableRecordRate: 0.05, Seed: 9})
			sm := newSim(t, open(t, s, mode, map[string]string{"timeout": "200ms"}), mode)
			everyone := map[string]map[string]any{}
			for round, want := range []map[string]map[string]any{people(0, 200, 1), people(50, 220, 2)} {
				maps.Copy(everyone, want)
				exp := expected(want)
				if mode == "upsert" {
					exp = expected(everyone)
				}
				for run := 0; run < 8 && !reflect.DeepEqual(s.Audience(mode), exp); run++ {
					sm.run(want)
				}
				if got := s.Audience(mode); !reflect.DeepEqual(got, exp) {
					t.Fatalf("round %d not converged:\n%s", round+1, diff(got, exp))
				}
			}
			if st := s.Stats(); st.Failed == 0 || st.TimedOut == 0 || st.Dropped == 0 || st.Rejected == 0 {
				t.Errorf("not every fault was exercised: %+v", st)
			}
		})
	}
}
