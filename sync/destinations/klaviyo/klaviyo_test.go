package klaviyo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinationtest"
	kserver "github.com/cdpkit/cdp/sync/destinationtest/klaviyo"
)

// rounds returns three rounds of changes over 150 people: all added; then
// changes (some clearing the name or ltv), additions and, in mirror mode,
// removals; then more changes, removals and people coming back.
func rounds(mode string) [][]change {
	var r1, r2, r3 []change
	for i := range 150 {
		r1 = append(r1, change{destination.OpAdd, email(i), person{fmt.Sprintf("Ann%d", i), float64(i) * 1.5}})
	}
	for i := range 40 {
		p := person{fmt.Sprintf("Bob%d", i), int64(1000 + i)}
		switch i % 4 {
		case 1:
			p.name = nil
		case 2:
			p.ltv = nil
		}
		r2 = append(r2, change{destination.OpChange, email(i), p})
	}
	for i := 150; i < 180; i++ {
		r2 = append(r2, change{destination.OpAdd, email(i), person{"New", 7.25}})
	}
	for i := 40; i < 60; i++ {
		r3 = append(r3, change{destination.OpChange, email(i), person{nil, nil}})
	}
	r3 = append(r3, change{destination.OpChange, email(1), person{"Back", 2.0}})
	if mode == "mirror" {
		for i := 100; i < 130; i++ {
			r2 = append(r2, change{op: destination.OpRemove, email: email(i)})
		}
		for i := 100; i < 110; i++ {
			r3 = append(r3, change{destination.OpAdd, email(i), person{"Again", 1.0}})
		}
		for i := 130; i < 150; i++ {
			r3 = append(r3, change{op: destination.OpRemove, email: email(i)})
		}
	}
	return [][]change{r1, r2, r3}
}

func TestModesOverThreeRounds(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := kserver.New(t)
			st := newState()
			for n, round := range rounds(mode) {
				d := open(t, s, mode)
				stats, failed := deliver(t, d, st, round, delivery.Options{})
				if len(failed) > 0 || stats.Confirmed != int64(len(round)) {
					t.Fatalf("round %d: %+v, failed %v", n+1, stats, failed[0].Err)
				}
				if dd := diff(s.Audience(mode), st.expected(mode)); dd != "" {
					t.Fatalf("round %d: audience differs:%s", n+1, dd)
				}
			}
			for k, id := range st.remote {
				if id == "" || s.ProfileID(k) != id {
					t.Fatalf("RemoteID of %s = %q, server has %q", k, id, s.ProfileID(k))
				}
			}
			for _, j := range s.Jobs() {
				if j.Polls < kserver.DefaultPollsToComplete || j.Status != "complete" {
					t.Errorf("job %+v was not polled to completion", j)
				}
			}
			if st := s.Stats(); st.Invalid != 0 || st.Throttled != 0 {
				t.Errorf("server stats %+v", st)
			}
		})
	}
}

func TestNullFieldsClearTheProfile(t *testing.T) {
	s := kserver.New(t)
	d := open(t, s, "upsert")
	st := newState()
	deliver(t, d, st, []change{{destination.OpAdd, "a@x.org", person{"Ann", 12.5}}, {destination.OpAdd, "b@x.org", person{"Bo", 3.0}}}, delivery.Options{})
	before := s.Stats().Writes
	deliver(t, d, st, []change{{destination.OpChange, "a@x.org", person{nil, nil}}, {destination.OpChange, "b@x.org", person{"Bo", 4.0}}}, delivery.Options{})
	got := s.Audience("upsert")
	if len(got["a@x.org"]) != 1 || got["b@x.org"]["ltv"] != "4" {
		t.Fatalf("audience %v", got)
	}
	// One import job and one Update Profile (only a@ has nulls).
	if w := s.Stats().Writes - before; w != 2 {
		t.Errorf("%d writes, want a job and one PATCH", w)
	}
}

func TestImportErrorsRejectTheirRecords(t *testing.T) {
	t.Parallel()
	s := kserver.New(t)
	s.SetFaults(destinationtest.Faults{RejectRate: 0.2, Seed: 3})
	d := open(t, s, "mirror")
	st := newState()
	var round []change
	for i := range 120 {
		round = append(round, change{destination.OpAdd, email(i), person{"A", 1.0}})
	}
	round = append(round, change{destination.OpAdd, "not an email", person{"B", 2.0}})
	stats, failed := deliver(t, d, st, round, delivery.Options{})
	injected := s.Stats().Rejected
	if injected == 0 || stats.Rejected != int64(injected)+1 || len(failed) != injected+1 {
		t.Fatalf("rejected %d (%d failed), server injected %d", stats.Rejected, len(failed), injected)
	}
	aud := s.Audience("mirror")
	for _, o := range failed {
		if o.Retryable || !strings.Contains(o.Err.Error(), "Klaviyo import error invalid") {
			t.Errorf("%s: %v (retryable %v)", o.Record.Key, o.Err, o.Retryable)
		}
		if _, held := aud[o.Record.Key]; held {
			t.Errorf("rejected %s is in the list", o.Record.Key)
		}
	}
	if dd := diff(aud, st.expected("mirror")); dd != "" {
		t.Errorf("audience:%s", dd)
	}
	// A later run retries the rejected records and they get through.
	s.SetFaults(destinationtest.Faults{})
	var again []change
	for _, o := range failed {
		if o.Record.Key != "not an email" {
			again = append(again, change{destination.OpAdd, o.Record.Key, person{"A", 1.0}})
		}
	}
	if _, f := deliver(t, d, st, again, delivery.Options{}); len(f) != 0 {
		t.Fatalf("rerun failed %d", len(f))
	}
	if len(s.Audience("mirror")) != 120 {
		t.Errorf("members %d", len(s.Audience("mirror")))
	}
}

func TestThrottleIsRetriedAndCounted(t *testing.T) {
	t.Parallel()
	s := kserver.New(t)
	// Two submissions a second: concurrent jobs run into Klaviyo's burst window.
	s.SetLimit(kserver.EndpointBulkImport, kserver.Limit{Burst: 2})
	d := open(t, s, "upsert", "batch_size", "10", "concurrency", "4")
	st := newState()
	var round []change
	for i := range 60 {
		round = append(round, change{destination.OpAdd, email(i), person{"T", 1.0}})
	}
	stats, failed := deliver(t, d, st, round, delivery.Options{BaseBackoff: 10 * time.Millisecond})
	if len(failed) != 0 || stats.Confirmed != 60 {
		t.Fatalf("%+v, %d failed", stats, len(failed))
	}
	if stats.Throttled == 0 || stats.RetryAfterWaits == 0 || s.Stats().Throttled == 0 {
		t.Errorf("throttling not seen: delivery %+v, server %+v", stats, s.Stats())
	}
	if dd := diff(s.Audience("upsert"), st.expected("upsert")); dd != "" {
		t.Errorf("audience:%s", dd)
	}
}

func TestFaultsConverge(t *testing.T) {
	t.Parallel()
	s := kserver.New(t)
	s.SetFaults(destinationtest.Faults{Status429Every: 5, Status500Every: 7, DropEvery: 11, TimeoutEvery: 13, RejectRate: 0.05, Seed: 9})
	d := open(t, s, "mirror", "timeout", "300ms")
	st := newState()
	var round []change
	for i := range 200 {
		round = append(round, change{destination.OpAdd, email(i), person{"F", float64(i)}})
	}
	opts := delivery.Options{BaseBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxAttempts: 8}
	for run := 0; len(round) > 0 && run < 6; run++ {
		_, failed := deliver(t, d, st, round, opts)
		round = round[:0]
		for _, o := range failed {
			i := 0
			fmt.Sscanf(o.Record.Key, "user%03d@example.org", &i)
			round = append(round, change{destination.OpAdd, o.Record.Key, person{"F", float64(i)}})
		}
	}
	if len(round) > 0 {
		t.Fatalf("%d records still failing", len(round))
	}
	if dd := diff(s.Audience("mirror"), st.expected("mirror")); dd != "" {
		t.Errorf("audience:%s", dd)
	}
	if vs := s.Stats(); vs.Throttled == 0 || vs.Failed == 0 || vs.Dropped == 0 || vs.TimedOut == 0 {
		t.Errorf("faults not exercised: %+v", vs)
	}
}

func TestRevokedKeyIsFatal(t *testing.T) {
	s := kserver.New(t)
	d := open(t, s, "upsert")
	s.Revoke()
	_, err := d.Apply(context.Background(), []destination.Record{{Op: destination.OpAdd, Key: "a@x.org", Fields: map[string]any{"first_name": "A"}}})
	var be *destination.BatchError
	if !errors.As(err, &be) || !be.Fatal || be.Status != 401 {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "credentials were refused") || strings.Contains(err.Error(), s.Key()) {
		t.Errorf("message %q", err)
	}
}

func TestPayloadOver5MBIsSplitIntoJobs(t *testing.T) {
	t.Parallel()
	s := kserver.New(t)
	d := open(t, s, "upsert", "batch_size", "100", "timeout", "30s")
	blob := strings.Repeat("x", 90<<10)
	var batch []destination.Record
	for i := range 60 {
		batch = append(batch, destination.Record{Op: destination.OpAdd, Key: email(i),
			Fields: map[string]any{"first_name": "Big", "properties.blob": blob}})
	}
	batch = append(batch, destination.Record{Op: destination.OpAdd, Key: "huge@x.org",
		Fields: map[string]any{"properties.blob": blob + blob}})
	res, err := d.Apply(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res[:60] {
		if r.Err != nil || r.RemoteID == "" {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	if r := res[60]; r.Err == nil || r.Retryable || !strings.Contains(r.Err.Error(), "at most 102400") {
		t.Errorf("oversize profile: %+v", r)
	}
	jobs := s.Jobs()
	if len(jobs) != 2 || jobs[0].Profiles+jobs[1].Profiles != 60 {
		t.Fatalf("jobs %+v", jobs)
	}
	for _, j := range jobs {
		if j.Bytes > 5<<20 {
			t.Errorf("job of %d bytes", j.Bytes)
		}
	}
	if len(s.Audience("upsert")) != 60 {
		t.Errorf("held %d", len(s.Audience("upsert")))
	}
}

func TestBatchSizeBoundedByKlaviyo(t *testing.T) {
	spec, _ := destination.Lookup("klaviyo")
	_, probs := spec.Parse(map[string]string{"api_key": "pk_x", "batch_size": "10001"})
	if len(probs) != 1 || probs[0].Setting != "batch_size" || !strings.Contains(probs[0].Message, "above the maximum 10000") {
		t.Errorf("problems %+v", probs)
	}
	s := kserver.New(t)
	d := open(t, s, "upsert", "batch_size", "2")
	if d.Capabilities().MaxBatch != 2 {
		t.Errorf("caps %+v", d.Capabilities())
	}
	_, err := d.Apply(context.Background(), make([]destination.Record, 3))
	if err == nil || destination.IsRetryable(err) {
		t.Errorf("oversize batch: %v", err)
	}
}

func TestRemovalWithoutRemoteIDFindsTheProfile(t *testing.T) {
	s := kserver.New(t)
	d := open(t, s, "mirror")
	st := newState()
	deliver(t, d, st, []change{{destination.OpAdd, "a@x.org", person{"A", 1.0}}, {destination.OpAdd, "b@x.org", person{"B", 1.0}}}, delivery.Options{})
	res, err := d.Apply(context.Background(), []destination.Record{
		{Op: destination.OpRemove, Key: "A@x.org"},    // no RemoteID: found by email
		{Op: destination.OpRemove, Key: "gone@x.org"}, // unknown: nothing to remove
	})
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("%v %+v", err, res)
	}
	if m := s.Audience("mirror"); len(m) != 1 || m["b@x.org"] == nil {
		t.Errorf("members %v", m)
	}
	if len(s.Audience("upsert")) != 2 {
		t.Error("a profile was deleted")
	}
}

func TestPollingResumesInAnotherProcess(t *testing.T) {
	s := kserver.New(t)
	s.SetPollsToComplete(2)
	batch := []destination.Record{
		{Op: destination.OpAdd, Key: "a@x.org", Fields: map[string]any{"first_name": "A"}},
		{Op: destination.OpAdd, Key: "", Fields: map[string]any{"first_name": "nobody"}},
	}
	first := open(t, s, "upsert").(destination.AsyncDestination)
	id, err := first.Submit(context.Background(), batch)
	if err != nil || id == "" || strings.Contains(id, ",") {
		t.Fatalf("submit: %q %v", id, err)
	}
	// The process dies; a new one polls the job it recorded.
	next := open(t, s, "upsert").(destination.AsyncDestination)
	if every, timeout := next.JobTiming(); every != 20*time.Millisecond || timeout != time.Minute {
		t.Errorf("timing %v %v", every, timeout)
	}
	res, done, err := next.Poll(context.Background(), id, batch)
	if err != nil || done {
		t.Fatalf("first poll: done %v, %v", done, err)
	}
	res, done, err = next.Poll(context.Background(), id, batch)
	if err != nil || !done {
		t.Fatalf("second poll: done %v, %v", done, err)
	}
	if res[0].Err != nil || res[0].RemoteID != s.ProfileID("a@x.org") || res[1].Err == nil {
		t.Errorf("results %+v", res)
	}
	if _, _, err := next.Poll(context.Background(), id+",01OTHER", batch); err == nil {
		t.Error("a job ID naming more jobs than the batch makes must fail")
	}
}

func TestCheckSync(t *testing.T) {
	spec, _ := destination.Lookup("klaviyo")
	v, _ := spec.Parse(map[string]string{"api_key": "pk_x"})
	probs := spec.CheckSync(v, destination.SyncInfo{Mode: "mirror", KeyField: "external_id",
		Fields: []string{"external_id", "first_name", "ltv", "location.city", "location.planet", "properties.ltv"}})
	var msgs []string
	for _, p := range probs {
		msgs = append(msgs, p.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"mirror mode needs `list_id`", "map it to `email`", "`properties.ltv`", "location has no `planet`"} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
	if len(probs) != 4 {
		t.Errorf("%d problems:\n%s", len(probs), all)
	}
	bad, _ := spec.Parse(map[string]string{"api_key": "pk_x", "revision": "2023-02-22"})
	if p := spec.CheckSync(bad, destination.SyncInfo{Mode: "upsert"}); len(p) != 1 || p[0].Setting != "revision" {
		t.Errorf("revision: %+v", p)
	}
	if !spec.SupportsMode("mirror") || spec.SupportsMode("insert") {
		t.Errorf("modes %v", spec.Modes)
	}
}
