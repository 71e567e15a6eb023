package iterable_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinations/iterable"
	"github.com/cdpkit/cdp/sync/destinationtest"
	srv "github.com/cdpkit/cdp/sync/destinationtest/iterable"
)

var fields = []string{"email", "firstName", "ltv"}

// open opens a destination at s for a sync in mode; extra settings are
// name, value pairs.
func open(t *testing.T, s *srv.Server, mode string, extra ...string) destination.Destination {
	t.Helper()
	settings := s.Settings(mode)
	for i := 0; i+1 < len(extra); i += 2 {
		settings[extra[i]] = extra[i+1]
	}
	spec, err := destination.Lookup(iterable.Type)
	if err != nil {
		t.Fatal(err)
	}
	v, probs := spec.Parse(settings)
	for _, p := range probs {
		if !p.Warning {
			t.Fatalf("settings: %s", p.Message)
		}
	}
	d, err := spec.New(context.Background(), destination.Config{Name: "crm", Settings: settings, Values: v,
		SyncName: "vip_to_iterable", RunID: "run-1", Mode: mode, Fields: fields, KeyField: "email"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// fast are delivery options with short backoffs.
var fast = delivery.Options{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

// held is what the in-test engine state remembers of a confirmed record.
type held struct {
	fields   map[string]any
	remoteID string
}

// engine is a tiny sync engine: it diffs a wanted audience against its
// state, delivers the records and commits the outcomes.
type engine struct {
	t      *testing.T
	mode   string
	mu     sync.Mutex
	state  map[string]held
	byKey  map[string]delivery.Outcome // outcomes of the last run
	hashes int
}

func newEngine(t *testing.T, mode string) *engine {
	return &engine{t: t, mode: mode, state: map[string]held{}}
}

// diff returns the records that make the destination hold want.
func (e *engine) diff(want map[string]map[string]any) []destination.Record {
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range e.state {
		if _, ok := want[k]; !ok && e.mode == "mirror" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []destination.Record
	for _, k := range keys {
		f, in := want[k]
		h, had := e.state[k]
		e.hashes++
		hash := fmt.Sprintf("h%d", e.hashes)
		switch {
		case in && !had:
			out = append(out, destination.Record{Op: destination.OpAdd, Key: k, Fields: f, Hash: hash})
		case in && !reflect.DeepEqual(f, h.fields):
			out = append(out, destination.Record{Op: destination.OpChange, Key: k, Fields: f, RemoteID: h.remoteID, Hash: hash})
		case !in:
			out = append(out, destination.Record{Op: destination.OpRemove, Key: k, Fields: h.fields, RemoteID: h.remoteID, Hash: hash})
		}
	}
	return out
}

// run delivers recs and commits what was confirmed.
func (e *engine) run(d destination.Destination, opts delivery.Options, recs []destination.Record) (delivery.Stats, error) {
	i := 0
	e.byKey = map[string]delivery.Outcome{}
	next := func() (destination.Record, bool, error) {
		if i >= len(recs) {
			return destination.Record{}, false, nil
		}
		i++
		return recs[i-1], true, nil
	}
	commit := func(_ context.Context, outs []delivery.Outcome) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, o := range outs {
			e.byKey[o.Record.Key] = o
			if o.Err != nil {
				continue
			}
			if o.Record.Op == destination.OpRemove {
				delete(e.state, o.Record.Key)
			} else {
				e.state[o.Record.Key] = held{fields: o.Record.Fields, remoteID: e.state[o.Record.Key].remoteID}
			}
		}
		return nil
	}
	return delivery.Deliver(context.Background(), d, opts, next, commit)
}

// person builds the fields of one audience member.
func person(email string, name any, ltv any) map[string]any {
	return map[string]any{"email": email, "firstName": name, "ltv": ltv}
}

// audience renders wanted fields the way Vendor.Audience reports them.
func audience(want map[string]map[string]any) map[string]map[string]string {
	out := map[string]map[string]string{}
	for k, f := range want {
		rec := map[string]string{"email": k}
		if n, ok := f["firstName"].(string); ok {
			rec["name"] = n
		}
		switch x := f["ltv"].(type) {
		case float64:
			rec["ltv"] = destinationtest.FormatNumber(x)
		case int64:
			rec["ltv"] = destinationtest.FormatNumber(float64(x))
		}
		out[k] = rec
	}
	return out
}

// rounds are three audiences: 120 people; changes, leavers and joiners; more
// changes, cleared names and returning leavers.
func rounds(mirror bool) []map[string]map[string]any {
	r1 := map[string]map[string]any{}
	for i := 0; i < 120; i++ {
		e := fmt.Sprintf("u%03d@example.org", i)
		r1[e] = person(e, fmt.Sprintf("User %d", i), float64(i)*10.5)
	}
	r2 := map[string]map[string]any{}
	for k, f := range r1 {
		r2[k] = f
	}
	for i := 0; i < 40; i++ {
		e := fmt.Sprintf("u%03d@example.org", i)
		r2[e] = person(e, fmt.Sprintf("Renamed %d", i), float64(i)+0.25)
	}
	if mirror {
		for i := 100; i < 120; i++ {
			delete(r2, fmt.Sprintf("u%03d@example.org", i))
		}
	}
	for i := 120; i < 150; i++ {
		e := fmt.Sprintf("u%03d@example.org", i)
		r2[e] = person(e, fmt.Sprintf("New %d", i), float64(i))
	}
	r3 := map[string]map[string]any{}
	for k, f := range r2 {
		r3[k] = f
	}
	for i := 20; i < 60; i++ {
		e := fmt.Sprintf("u%03d@example.org", i)
		r3[e] = person(e, nil, float64(1000+i))
	}
	if mirror {
		for i := 0; i < 10; i++ {
			delete(r3, fmt.Sprintf("u%03d@example.org", i))
		}
		for i := 100; i < 110; i++ {
			e := fmt.Sprintf("u%03d@example.org", i)
			r3[e] = person(e, "Back", 1.0)
		}
	}
	return []map[string]map[string]any{r1, r2, r3}
}

func TestModesThreeRounds(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			s := srv.New(t)
			d := open(t, s, mode)
			e := newEngine(t, mode)
			for n, want := range rounds(mode == "mirror") {
				recs := e.diff(want)
				st, err := e.run(d, fast, recs)
				if err != nil {
					t.Fatalf("round %d: %v", n+1, err)
				}
				if st.Confirmed != int64(len(recs)) || st.Throttled != 0 {
					t.Errorf("round %d: %d of %d confirmed, %d throttled", n+1, st.Confirmed, len(recs), st.Throttled)
				}
				if got, exp := s.Audience(mode), audience(want); !reflect.DeepEqual(got, exp) {
					t.Errorf("round %d: audience differs:\n%s", n+1, diffAudience(got, exp))
				}
			}
			if len(s.Violations()) > 0 {
				t.Errorf("violations: %v", s.Violations())
			}
			for _, c := range s.Calls() {
				if c.Users > 50 {
					t.Errorf("%s carried %d users, batch_size is 50", c.Path, c.Users)
				}
			}
			if mode == "mirror" && len(s.Audience("upsert")) != 150 {
				t.Errorf("mirror deleted users: %d held, want 150 (removes only unsubscribe)", len(s.Audience("upsert")))
			}
		})
	}
}

// diffAudience describes the keys that differ.
func diffAudience(got, want map[string]map[string]string) string {
	var b strings.Builder
	n := 0
	for k, w := range want {
		if g := got[k]; !reflect.DeepEqual(g, w) && n < 5 {
			fmt.Fprintf(&b, "  %s: got %v want %v\n", k, g, w)
			n++
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && n < 10 {
			fmt.Fprintf(&b, "  %s: unexpected %v\n", k, g)
			n++
		}
	}
	fmt.Fprintf(&b, "  (%d held, %d wanted)", len(got), len(want))
	return b.String()
}

func batchError(t *testing.T, err error) *destination.BatchError {
	t.Helper()
	var be *destination.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("want *BatchError, got %T %v", err, err)
	}
	return be
}

func recs(op destination.Op, from, n int) []destination.Record {
	var out []destination.Record
	for i := from; i < from+n; i++ {
		e := fmt.Sprintf("r%03d@example.org", i)
		out = append(out, destination.Record{Op: op, Key: e, Fields: person(e, "R", int64(i)), Hash: fmt.Sprint(op, i)})
	}
	return out
}

func TestSpec(t *testing.T) {
	spec, _ := destination.Lookup(iterable.Type)
	v, probs := spec.Parse(map[string]string{"api_key": "k", "batch_size": "1001"})
	if len(probs) != 1 || probs[0].Setting != "batch_size" {
		t.Errorf("batch_size 1001: problems %v", probs)
	}
	v, probs = spec.Parse(map[string]string{"api_key": "k"})
	if len(probs) != 0 || v.String("base_url") != iterable.DefaultBaseURL || v.Int("batch_size") != 1000 || v.Rate("rate_limit") != 5 || v.String("identifier") != "email" {
		t.Errorf("defaults: %v %s %d %v", probs, v.String("base_url"), v.Int("batch_size"), v.Rate("rate_limit"))
	}
	if _, probs := spec.Parse(map[string]string{"api_key": "k", "base_url": iterable.EUBaseURL}); len(probs) != 0 {
		t.Errorf("EU base_url: %v", probs)
	}
	if _, probs := spec.Parse(map[string]string{}); len(probs) != 1 || !strings.Contains(probs[0].Message, "api_key") {
		t.Errorf("no api_key: %v", probs)
	}
	if !spec.SupportsMode("upsert") || !spec.SupportsMode("mirror") || spec.SupportsMode("insert") {
		t.Errorf("modes %v", spec.Modes)
	}
	check := func(v destination.Values, si destination.SyncInfo) []string {
		var out []string
		for _, p := range spec.CheckSync(v, si) {
			out = append(out, p.Message)
		}
		return out
	}
	if got := check(v, destination.SyncInfo{Mode: "mirror", KeyField: "email", Fields: fields}); len(got) != 1 || !strings.Contains(got[0], "list_id") {
		t.Errorf("mirror without list_id: %v", got)
	}
	withList, _ := spec.Parse(map[string]string{"api_key": "k", "list_id": "42"})
	if got := check(withList, destination.SyncInfo{Mode: "mirror", KeyField: "email", Fields: fields}); len(got) != 0 {
		t.Errorf("mirror with list_id: %v", got)
	}
	if got := check(v, destination.SyncInfo{Mode: "upsert", KeyField: "firstName", Fields: []string{"firstName", "emailListIds"}}); len(got) != 2 {
		t.Errorf("key not email and a reserved field: %v", got)
	}
	if _, err := spec.New(context.Background(), destination.Config{Values: v, Mode: "mirror"}); err == nil {
		t.Errorf("mirror without list_id opened")
	}
}
