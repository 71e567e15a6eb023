package intercom_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	_ "github.com/cdpkit/cdp/sync/destinations/intercom"
	"github.com/cdpkit/cdp/sync/destinationtest"
	icserver "github.com/cdpkit/cdp/sync/destinationtest/intercom"
)

// fields are the suite's mapped fields.
var fields = []string{"email", "name", "custom_attributes.ltv"}

// open opens an intercom destination at the server for a mode, with
// settings overridden by edit (key, value pairs) and the given fields
// (default: email, name, custom_attributes.ltv).
func open(t *testing.T, s *icserver.Server, mode string, fs []string, edit ...string) destination.Destination {
	t.Helper()
	settings := s.Settings(mode)
	for i := 0; i+1 < len(edit); i += 2 {
		settings[edit[i]] = edit[i+1]
	}
	if fs == nil {
		fs = fields
	}
	key := "email"
	if slices.Contains(fs, "external_id") {
		key = "external_id"
	}
	d, err := destination.Open(context.Background(), "intercom", destination.Config{Name: "crm", Settings: settings,
		SyncName: "vip_to_intercom", RunID: "run-1", Mode: mode, Fields: fs, KeyField: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// person is a record's fields: email, name and ltv (nil clears).
func person(email string, name, ltv any) map[string]any {
	return map[string]any{"email": email, "name": name, "custom_attributes.ltv": ltv}
}

func rec(op destination.Op, email string, f map[string]any) destination.Record {
	return destination.Record{Op: op, Key: email, Fields: f}
}

func mustApply(t *testing.T, d destination.Destination, batch ...destination.Record) []destination.Result {
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
		t.Fatalf("want a *BatchError, got %T %v", err, err)
	}
	return be
}

// recorder keeps the RemoteID of every confirmed record, since
// delivery.Outcome does not carry Result.RemoteID.
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
			if res[i].Err == nil && i < len(batch) {
				r.ids[batch[i].Key] = res[i].RemoteID
			}
		}
		r.mu.Unlock()
	}
	return res, err
}

func (r *recorder) id(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[key]
}

// world is a tiny engine state: the fields last confirmed per key and the
// RemoteIDs handed back.
type world struct {
	mode   string
	fields map[string]map[string]any
	remote map[string]string
}

func newWorld(mode string) *world {
	return &world{mode: mode, fields: map[string]map[string]any{}, remote: map[string]string{}}
}

// plan lists the records that bring the confirmed state to want: adds,
// changes (with their RemoteID) and, in mirror mode, removals.
func (w *world) plan(want map[string]map[string]any) []destination.Record {
	var out []destination.Record
	for _, k := range slices.Sorted(maps.Keys(want)) {
		old, ok := w.fields[k]
		switch {
		case !ok:
			out = append(out, rec(destination.OpAdd, k, want[k]))
		case !reflect.DeepEqual(old, want[k]):
			r := rec(destination.OpChange, k, want[k])
			r.RemoteID = w.remote[k]
			out = append(out, r)
		}
	}
	if w.mode == "mirror" {
		for _, k := range slices.Sorted(maps.Keys(w.fields)) {
			if _, ok := want[k]; !ok {
				r := rec(destination.OpRemove, k, w.fields[k])
				r.RemoteID = w.remote[k]
				out = append(out, r)
			}
		}
	}
	return out
}

// deliver runs one delivery of the plan and commits confirmed outcomes.
func (w *world) deliver(t *testing.T, d destination.Destination, want map[string]map[string]any, opts delivery.Options) delivery.Stats {
	t.Helper()
	recs := w.plan(want)
	rd := &recorder{Destination: d, ids: map[string]string{}}
	i := 0
	next := func() (destination.Record, bool, error) {
		if i >= len(recs) {
			return destination.Record{}, false, nil
		}
		i++
		return recs[i-1], true, nil
	}
	opts.BaseBackoff, opts.MaxBackoff = time.Millisecond, 10*time.Millisecond
	st, err := delivery.Deliver(context.Background(), rd, opts, next, func(_ context.Context, outs []delivery.Outcome) error {
		for _, o := range outs {
			if o.Err != nil {
				continue
			}
			k := o.Record.Key
			if o.Record.Op == destination.OpRemove {
				delete(w.fields, k)
				delete(w.remote, k)
				continue
			}
			w.fields[k] = o.Record.Fields
			if id := rd.id(k); id != "" {
				w.remote[k] = id
			} else {
				t.Errorf("record %s confirmed without a RemoteID", k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Deliver: %v (stats %+v)", err, st)
	}
	return st
}

// audience is what Audience should report for the wanted records.
func audience(want map[string]map[string]any) map[string]map[string]string {
	out := map[string]map[string]string{}
	for k, f := range want {
		r := map[string]string{"email": k}
		if n, _ := f["name"].(string); n != "" {
			r["name"] = n
		}
		if v, ok := f["custom_attributes.ltv"].(float64); ok {
			r["ltv"] = destinationtest.FormatNumber(v)
		}
		out[k] = r
	}
	return out
}

// people returns n people u<from>…, their ltv scaled by gen so rounds
// differ.
func people(from, n int, gen float64) map[string]map[string]any {
	out := map[string]map[string]any{}
	for i := from; i < from+n; i++ {
		e := fmt.Sprintf("u%03d@example.org", i)
		out[e] = person(e, fmt.Sprintf("Person %d", i), float64(i)*gen)
	}
	return out
}

func checkAudience(t *testing.T, s *icserver.Server, mode string, want map[string]map[string]any) {
	t.Helper()
	got, exp := s.Audience(mode), audience(want)
	if !reflect.DeepEqual(got, exp) {
		var diff []string
		for k, v := range exp {
			if !reflect.DeepEqual(got[k], v) {
				diff = append(diff, fmt.Sprintf("%s: got %v want %v", k, got[k], v))
			}
		}
		for k := range got {
			if _, ok := exp[k]; !ok {
				diff = append(diff, fmt.Sprintf("%s: held but not wanted", k))
			}
		}
		slices.Sort(diff)
		t.Fatalf("audience differs (%d held, %d wanted): %v", len(got), len(exp), diff[:min(len(diff), 8)])
	}
}
