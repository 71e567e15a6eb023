package hubspot_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	_ "github.com/cdpkit/cdp/sync/destinations/hubspot"
	"github.com/cdpkit/cdp/sync/destinationtest"
	hs "github.com/cdpkit/cdp/sync/destinationtest/hubspot"
)

// syncFields are the mapped destination fields of the test syncs.
var syncFields = []string{"email", "firstname", "ltv"}

// open opens a hubspot destination at the server for mode; extra are
// setting name, value pairs that override the server's settings.
func open(t testing.TB, srv *hs.Server, mode string, extra ...string) destination.Destination {
	t.Helper()
	d, err := openErr(srv, mode, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func openErr(srv *hs.Server, mode string, extra ...string) (destination.Destination, error) {
	settings := srv.Settings(mode)
	for i := 0; i+1 < len(extra); i += 2 {
		settings[extra[i]] = extra[i+1]
	}
	return destination.Open(context.Background(), "hubspot", destination.Config{Name: "crm", Settings: settings,
		SyncName: "vips", RunID: "run-1", Mode: mode, Fields: syncFields, KeyField: "email"})
}

// remembering keeps the record IDs of confirmed results, keyed by record
// key: delivery.Outcome does not carry Result.RemoteID, so the test's state
// takes them here, as the engine's state would at commit.
type remembering struct {
	destination.Destination
	mu  sync.Mutex
	ids map[string]string
}

func (r *remembering) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	res, err := r.Destination.Apply(ctx, batch)
	if err == nil && len(res) == len(batch) {
		r.mu.Lock()
		for i, x := range res {
			if x.Err == nil && x.RemoteID != "" && batch[i].Op != destination.OpRemove {
				r.ids[batch[i].Key] = x.RemoteID
			}
		}
		r.mu.Unlock()
	}
	return res, err
}

func (r *remembering) remote(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[key]
}

// harness is a tiny engine: it diffs an audience against what was
// delivered, delivers the difference through delivery.Deliver, commits the
// confirmed outcomes and hands record IDs back on later changes and
// removals.
type harness struct {
	t         *testing.T
	srv       *hs.Server
	mode      string
	dest      *remembering
	delivered map[string]map[string]any
	opts      delivery.Options
	// forget hands back no record IDs, as an engine that stores none.
	forget bool
}

func newHarness(t *testing.T, srv *hs.Server, mode string, extra ...string) *harness {
	return &harness{t: t, srv: srv, mode: mode,
		dest:      &remembering{Destination: open(t, srv, mode, extra...), ids: map[string]string{}},
		delivered: map[string]map[string]any{},
		opts:      delivery.Options{BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}}
}

// diff returns the records the mode delivers to move from what was
// delivered to audience, in key order.
func (h *harness) diff(audience map[string]map[string]any) []destination.Record {
	var recs []destination.Record
	for _, k := range slices.Sorted(maps.Keys(audience)) {
		f := audience[k]
		prev, ok := h.delivered[k]
		switch {
		case !ok && h.mode != "update":
			recs = append(recs, h.record(destination.OpAdd, k, f))
		case ok && !reflect.DeepEqual(prev, f):
			recs = append(recs, h.record(destination.OpChange, k, f))
		}
	}
	if h.mode == "mirror" {
		for _, k := range slices.Sorted(maps.Keys(h.delivered)) {
			if _, ok := audience[k]; !ok {
				recs = append(recs, h.record(destination.OpRemove, k, h.delivered[k]))
			}
		}
	}
	return recs
}

func (h *harness) record(op destination.Op, key string, f map[string]any) destination.Record {
	r := destination.Record{Op: op, Key: key, Fields: maps.Clone(f), Hash: fmt.Sprint(f)}
	if op != destination.OpAdd && !h.forget {
		r.RemoteID = h.dest.remote(key)
	}
	return r
}

// run delivers one run's difference and commits what was confirmed.
func (h *harness) run(audience map[string]map[string]any) (delivery.Stats, []delivery.Outcome) {
	h.t.Helper()
	recs := h.diff(audience)
	i := 0
	next := func() (destination.Record, bool, error) {
		if i == len(recs) {
			return destination.Record{}, false, nil
		}
		i++
		return recs[i-1], true, nil
	}
	var outs []delivery.Outcome
	commit := func(_ context.Context, batch []delivery.Outcome) error {
		for _, o := range batch {
			outs = append(outs, o)
			if o.Err != nil {
				continue
			}
			if o.Record.Op == destination.OpRemove {
				delete(h.delivered, o.Record.Key)
			} else {
				h.delivered[o.Record.Key] = o.Record.Fields
			}
		}
		return nil
	}
	st, err := delivery.Deliver(context.Background(), h.dest, h.opts, next, commit)
	if err != nil && !destination.IsFatal(err) { // a fatal error stops the delivery, as it should
		h.t.Fatalf("deliver: %v", err)
	}
	return st, outs
}

// converge runs until nothing is left to deliver (at most runs times), as
// later runs retry what earlier ones could not deliver, and returns the
// summed stats and every failed outcome.
func (h *harness) converge(audience map[string]map[string]any, runs int) (delivery.Stats, []delivery.Outcome) {
	h.t.Helper()
	var sum delivery.Stats
	var failed []delivery.Outcome
	for range runs {
		if len(h.diff(audience)) == 0 {
			return sum, failed
		}
		st, outs := h.run(audience)
		sum.Throttled += st.Throttled
		sum.Requests += st.Requests
		sum.Rejected += st.Rejected
		sum.Confirmed += st.Confirmed
		for _, o := range outs {
			if o.Err != nil {
				failed = append(failed, o)
			}
		}
	}
	h.t.Fatalf("still %d records to deliver after %d runs", len(h.diff(audience)), runs)
	return sum, failed
}

// expected is what HubSpot should hold: every contact delivered and not
// removed, as Audience renders it.
func (h *harness) expected() map[string]map[string]string {
	out := map[string]map[string]string{}
	for k, f := range h.delivered {
		out[k] = render(f)
	}
	return out
}

// check compares the server's audience with the expected one.
func (h *harness) check(round string) {
	h.t.Helper()
	got, want := h.srv.Audience(h.mode), h.expected()
	if !reflect.DeepEqual(got, want) {
		for k := range want {
			if !reflect.DeepEqual(got[k], want[k]) {
				h.t.Errorf("%s: %s: HubSpot holds %v, want %v", round, k, got[k], want[k])
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				h.t.Errorf("%s: %s: HubSpot holds %v, want nothing", round, k, got[k])
			}
		}
	}
}

// render turns fields into Audience's form.
func render(f map[string]any) map[string]string {
	out := map[string]string{}
	if e, ok := f["email"].(string); ok {
		out["email"] = e
	}
	if n, ok := f["firstname"].(string); ok && n != "" {
		out["name"] = n
	}
	switch x := f["ltv"].(type) {
	case int64:
		out["ltv"] = destinationtest.FormatNumber(float64(x))
	case float64:
		out["ltv"] = destinationtest.FormatNumber(x)
	}
	return out
}

// person returns the fields of one test person.
func person(i int, name any, ltv any) map[string]any {
	return map[string]any{"email": email(i), "firstname": name, "ltv": ltv}
}

func email(i int) string { return fmt.Sprintf("p%03d@example.org", i) }

func ltvOf(i int) any {
	if i%2 == 0 {
		return int64(i * 10)
	}
	return float64(i) + 0.25
}

// rounds are three audiences: 120 people; then 20 leave, 30 change (10
// lose their ltv, 10 their name), 40 join; then 10 more leave, 5 come back
// under a new name, 10 change, 10 join.
func rounds() []map[string]map[string]any {
	r1 := map[string]map[string]any{}
	for i := range 120 {
		r1[email(i)] = person(i, "Name "+strconv.Itoa(i), ltvOf(i))
	}
	r2 := maps.Clone(r1)
	for i := range 20 {
		delete(r2, email(i))
	}
	for i := 20; i < 50; i++ {
		f := person(i, "Renamed "+strconv.Itoa(i), ltvOf(i))
		switch {
		case i < 30:
			f["ltv"] = nil
		case i < 40:
			f["firstname"] = nil
		}
		r2[email(i)] = f
	}
	for i := 120; i < 160; i++ {
		r2[email(i)] = person(i, "Name "+strconv.Itoa(i), ltvOf(i))
	}
	r3 := maps.Clone(r2)
	for i := 50; i < 60; i++ {
		delete(r3, email(i))
	}
	for i := range 5 {
		r3[email(i)] = person(i, "Back "+strconv.Itoa(i), ltvOf(i))
	}
	for i := 120; i < 130; i++ {
		r3[email(i)] = person(i, "Name "+strconv.Itoa(i), float64(i)+1000.5)
	}
	for i := 160; i < 170; i++ {
		r3[email(i)] = person(i, "Name "+strconv.Itoa(i), ltvOf(i))
	}
	return []map[string]map[string]any{r1, r2, r3}
}
