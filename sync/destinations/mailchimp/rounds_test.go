package mailchimp_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinations/mailchimp"
	"github.com/cdpkit/cdp/sync/destinationtest"
	mcserver "github.com/cdpkit/cdp/sync/destinationtest/mailchimp"
)

// open opens a mailchimp destination for a sync mapping email_address,
// FNAME and LTV, with settings over the server's.
func open(t *testing.T, s *mcserver.Server, mode string, extra ...string) destination.Destination {
	t.Helper()
	settings := s.Settings(mode)
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			delete(settings, extra[i])
		} else {
			settings[extra[i]] = extra[i+1]
		}
	}
	d, err := destination.Open(context.Background(), mailchimp.Type, destination.Config{Name: "mc", Settings: settings,
		Mode: mode, SyncName: "vip_to_mailchimp", RunID: "run-1", Fields: []string{"email_address", "FNAME", "LTV"}, KeyField: "email_address"})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// recorder remembers the RemoteIDs Apply confirms, as the engine's state
// would.
type recorder struct {
	destination.Destination
	mu  sync.Mutex
	ids map[string]string
}

func (r *recorder) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	res, err := r.Destination.Apply(ctx, batch)
	if err == nil {
		r.mu.Lock()
		for i := range res {
			if res[i].Err == nil {
				r.ids[batch[i].Key] = res[i].RemoteID
			}
		}
		r.mu.Unlock()
	}
	return res, err
}

// held is what the tiny state remembers of a confirmed record.
type held struct {
	fields   map[string]any
	remoteID string
}

// harness delivers rounds of a desired audience the way the engine does:
// adds, changes (with the RemoteID) and, in mirror mode, removals.
type harness struct {
	t    *testing.T
	mode string
	dest *recorder
	held map[string]held
}

func newHarness(t *testing.T, d destination.Destination, mode string) *harness {
	return &harness{t: t, mode: mode, dest: &recorder{Destination: d, ids: map[string]string{}}, held: map[string]held{}}
}

// records diffs the desired audience against the state.
func (h *harness) records(want map[string]map[string]any) []destination.Record {
	var out []destination.Record
	for _, k := range sortedKeys(want) {
		old, ok := h.held[k]
		switch {
		case !ok:
			out = append(out, destination.Record{Op: destination.OpAdd, Key: k, Fields: want[k], Hash: fmt.Sprint(want[k])})
		case !reflect.DeepEqual(old.fields, want[k]):
			out = append(out, destination.Record{Op: destination.OpChange, Key: k, Fields: want[k], RemoteID: old.remoteID, Hash: fmt.Sprint(want[k])})
		}
	}
	if h.mode == "mirror" {
		for _, k := range sortedKeys(h.held) {
			if _, ok := want[k]; !ok {
				out = append(out, destination.Record{Op: destination.OpRemove, Key: k, Fields: h.held[k].fields, RemoteID: h.held[k].remoteID})
			}
		}
	}
	return out
}

// round delivers one round and returns the delivery's stats.
func (h *harness) round(want map[string]map[string]any, opts delivery.Options) delivery.Stats {
	h.t.Helper()
	recs := h.records(want)
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
				delete(h.held, o.Record.Key)
				continue
			}
			h.dest.mu.Lock()
			id := h.dest.ids[o.Record.Key]
			h.dest.mu.Unlock()
			h.held[o.Record.Key] = held{fields: o.Record.Fields, remoteID: id}
		}
		return nil
	}
	st, err := delivery.Deliver(context.Background(), h.dest, opts, next, commit)
	if err != nil {
		h.t.Fatalf("deliver: %v", err)
	}
	return st
}

// audience is what the vendor should hold for the state.
func (h *harness) audience() map[string]map[string]string {
	out := map[string]map[string]string{}
	for k, r := range h.held {
		rec := map[string]string{"email": k}
		if v, ok := r.fields["FNAME"].(string); ok && v != "" {
			rec["name"] = v
		}
		switch v := r.fields["LTV"].(type) {
		case float64:
			rec["ltv"] = destinationtest.FormatNumber(v)
		case int64:
			rec["ltv"] = destinationtest.FormatNumber(float64(v))
		}
		out[k] = rec
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func email(i int) string { return fmt.Sprintf("p%04d@example.com", i) }

func person(i int, name any, ltv any) map[string]any {
	return map[string]any{"email_address": email(i), "FNAME": name, "LTV": ltv}
}

// rounds are three desired audiences: the second changes names, clears
// values, drops 20 people and adds 20; the third brings some back, changes
// values and drops others.
func rounds() []map[string]map[string]any {
	r1, r2, r3 := map[string]map[string]any{}, map[string]map[string]any{}, map[string]map[string]any{}
	for i := 0; i < 100; i++ {
		r1[email(i)] = person(i, fmt.Sprintf("Name %d", i), int64(10*i))
	}
	for i := 0; i < 120; i++ {
		switch {
		case i < 30:
			r2[email(i)] = person(i, fmt.Sprintf("Renamed %d", i), int64(10*i))
		case i < 40:
			r2[email(i)] = person(i, nil, nil) // null_values: send clears them
		case i < 80 || i >= 100:
			r2[email(i)] = person(i, fmt.Sprintf("Name %d", i), float64(i)+0.5)
		}
	}
	for k, v := range r2 {
		r3[k] = v
	}
	for i := 0; i < 10; i++ {
		delete(r3, email(i))
	}
	for i := 80; i < 90; i++ {
		r3[email(i)] = person(i, "Back", int64(i))
	}
	for i := 100; i < 110; i++ {
		r3[email(i)] = person(i, fmt.Sprintf("Name %d", i), int64(1000+i))
	}
	return []map[string]map[string]any{r1, r2, r3}
}

func fast(o delivery.Options) delivery.Options {
	o.BaseBackoff, o.MaxBackoff, o.MaxAttempts = time.Millisecond, 5*time.Millisecond, 30
	return o
}

func TestRoundsThroughDelivery(t *testing.T) {
	for _, c := range []struct {
		name, mode string
		extra      []string
	}{
		{"upsert", "upsert", nil},
		{"mirror archive", "mirror", nil},
		{"mirror unsubscribe", "mirror", []string{"removal", "unsubscribe"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := mcserver.New(t, mcserver.Options{Faults: destinationtest.Faults{Status429Every: 5, Status500Every: 7, DropEvery: 23}})
			h := newHarness(t, open(t, s, c.mode, append([]string{"batch_size", "10"}, c.extra...)...), c.mode)
			var throttled int64
			for n, want := range rounds() {
				st := h.round(want, fast(delivery.Options{}))
				throttled += st.Throttled
				if st.Rejected != 0 || st.FailedRetryable != 0 {
					t.Fatalf("round %d: %+v", n+1, st)
				}
				if c.mode == "mirror" && !reflect.DeepEqual(sortedKeys(h.held), sortedKeys(want)) {
					t.Fatalf("round %d: state holds %d records, want %d", n+1, len(h.held), len(want))
				}
				if got, exp := s.Audience(c.mode), h.audience(); !reflect.DeepEqual(got, exp) {
					t.Fatalf("round %d: audience differs:\n got %v\nwant %v", n+1, diff(got, exp), diff(exp, got))
				}
				for k, r := range h.held {
					if r.remoteID != mailchimp.SubscriberHash(k) {
						t.Fatalf("round %d: %s has RemoteID %q", n+1, k, r.remoteID)
					}
				}
			}
			st := s.Stats()
			if throttled == 0 || st.Throttled == 0 || st.Failed == 0 || st.Dropped == 0 || st.Invalid != 0 {
				t.Errorf("delivery throttled %d; server %+v", throttled, st)
			}
			if s.MaxInFlight() > mcserver.MaxConnections {
				t.Errorf("%d requests at once", s.MaxInFlight())
			}
			if c.mode == "mirror" {
				checkRemoved(t, s, c.extra != nil)
			}
		})
	}
}

// checkRemoved checks what became of the members mirror mode removed.
func checkRemoved(t *testing.T, s *mcserver.Server, unsubscribe bool) {
	t.Helper()
	want := mcserver.StatusArchived
	if unsubscribe {
		want = "unsubscribed"
	}
	for _, i := range []int{0, 9, 90, 99} {
		if m, ok := s.Member(email(i)); !ok || m.Status != want {
			t.Errorf("removed %s: %+v, want status %s", email(i), m, want)
		}
	}
	if m, _ := s.Member(email(85)); m.Status != "subscribed" || m.MergeFields["FNAME"] != "Back" {
		t.Errorf("re-added member: %+v", m)
	}
}

// diff lists the entries of a that b lacks or holds otherwise.
func diff(a, b map[string]map[string]string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for k, v := range a {
		if !reflect.DeepEqual(b[k], v) {
			out[k] = v
		}
	}
	return out
}

// TestEveryFaultConverges runs the suite's faults against both modes: each
// round is rerun (as later sync runs would) until the state holds the
// desired audience, and the vendor then holds exactly that.
func TestEveryFaultConverges(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			s := mcserver.New(t, mcserver.Options{Faults: destinationtest.Faults{Status429Every: 5, Status500Every: 7, TimeoutEvery: 17,
				DropEvery: 11, RejectRate: 0.05, RetryableRecordRate: 0.05, Seed: 5}})
			h := newHarness(t, open(t, s, mode, "timeout", "300ms", "batch_size", "25"), mode)
			for n, want := range rounds() {
				for run := 1; len(h.records(want)) > 0; run++ {
					if run > 10 {
						t.Fatalf("round %d: %d records still differ after 10 runs", n+1, len(h.records(want)))
					}
					h.round(want, fast(delivery.Options{MaxAttempts: 3}))
				}
				if got, exp := s.Audience(mode), h.audience(); !reflect.DeepEqual(got, exp) {
					t.Fatalf("round %d: audience differs:\n got %v\nwant %v", n+1, diff(got, exp), diff(exp, got))
				}
			}
			if st := s.Stats(); st.Rejected == 0 || st.Retried == 0 || st.TimedOut == 0 || st.Invalid != 0 {
				t.Errorf("server %+v", st)
			}
		})
	}
}
