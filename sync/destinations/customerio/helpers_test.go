package customerio_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	_ "github.com/cdpkit/cdp/sync/destinations/customerio"
	"github.com/cdpkit/cdp/sync/destinationtest"
	cioserver "github.com/cdpkit/cdp/sync/destinationtest/customerio"
)

// fields are the destination fields the tests map, in order; email is the key.
var fields = []string{"email", "first_name", "ltv"}

// open opens a destination of the server for mode, with extra settings
// (name, value pairs) on top of the server's.
func open(t *testing.T, s *cioserver.Server, mode string, extra ...string) destination.Destination {
	t.Helper()
	settings := s.Settings(mode)
	for i := 0; i+1 < len(extra); i += 2 {
		settings[extra[i]] = extra[i+1]
	}
	return openWith(t, settings, mode)
}

func openWith(t *testing.T, settings map[string]string, mode string) destination.Destination {
	t.Helper()
	spec, err := destination.Lookup("customerio")
	if err != nil {
		t.Fatal(err)
	}
	v, probs := spec.Parse(settings)
	for _, p := range probs {
		if !p.Warning {
			t.Fatalf("settings: %s", p.Message)
		}
	}
	d, err := spec.New(context.Background(), destination.Config{Name: "cio", Settings: settings, Values: v,
		Mode: mode, Fields: fields, KeyField: "email", SyncName: "vip_people"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// person builds a record's fields.
func person(email string, name any, ltv any) map[string]any {
	return map[string]any{"email": email, "first_name": name, "ltv": ltv}
}

// held is what the tiny state remembers of a confirmed record.
type held struct {
	fields map[string]any
	remote string
}

// state is the engine's memory of what was delivered, keyed by key.
type state map[string]held

// round delivers the difference between desired and st (adds, changes,
// and in mirror mode removes) through delivery.Deliver, and commits the
// confirmed outcomes into st.
func round(t *testing.T, d destination.Destination, mode string, desired map[string]map[string]any, st state, opts delivery.Options) (delivery.Stats, []delivery.Outcome) {
	t.Helper()
	stats, outs, err := roundCtx(context.Background(), d, mode, desired, st, opts)
	if err != nil && !destination.IsFatal(err) {
		t.Fatalf("deliver: %v", err)
	}
	return stats, outs
}

// roundCtx is round under ctx, returning Deliver's error.
func roundCtx(ctx context.Context, d destination.Destination, mode string, desired map[string]map[string]any, st state, opts delivery.Options) (delivery.Stats, []delivery.Outcome, error) {
	var recs []destination.Record
	for _, k := range sortedKeys(desired) {
		f := desired[k]
		h, ok := st[k]
		switch {
		case !ok:
			recs = append(recs, destination.Record{Op: destination.OpAdd, Key: k, Fields: f, Hash: hashOf(f)})
		case !reflect.DeepEqual(h.fields, f):
			recs = append(recs, destination.Record{Op: destination.OpChange, Key: k, Fields: f, RemoteID: h.remote, Hash: hashOf(f)})
		}
	}
	if mode == "mirror" {
		for _, k := range sortedKeys(st) {
			if _, ok := desired[k]; !ok {
				recs = append(recs, destination.Record{Op: destination.OpRemove, Key: k, Fields: st[k].fields, RemoteID: st[k].remote})
			}
		}
	}
	i := 0
	next := func() (destination.Record, bool, error) {
		if i >= len(recs) {
			return destination.Record{}, false, nil
		}
		i++
		return recs[i-1], true, nil
	}
	var mu sync.Mutex
	var outs []delivery.Outcome
	commit := func(_ context.Context, batch []delivery.Outcome) error {
		mu.Lock()
		defer mu.Unlock()
		for _, o := range batch {
			outs = append(outs, o)
			if o.Err != nil {
				continue
			}
			if o.Record.Op == destination.OpRemove {
				delete(st, o.Record.Key)
			} else {
				st[o.Record.Key] = held{fields: maps.Clone(o.Record.Fields), remote: o.Record.RemoteID}
			}
		}
		return nil
	}
	if opts.BaseBackoff == 0 {
		opts.BaseBackoff, opts.MaxBackoff = time.Millisecond, 5*time.Millisecond
	}
	stats, err := delivery.Deliver(ctx, d, opts, next, commit)
	return stats, outs, err
}

func hashOf(f map[string]any) string { return fmt.Sprint(f) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// audienceOf is the audience the vendor should hold for the state: every
// confirmed record, name and ltv as text, cleared fields omitted.
func audienceOf(st state) map[string]map[string]string {
	out := map[string]map[string]string{}
	for k, h := range st {
		rec := map[string]string{"email": k}
		if n, ok := h.fields["first_name"].(string); ok && n != "" {
			rec["name"] = n
		}
		switch v := h.fields["ltv"].(type) {
		case float64:
			rec["ltv"] = destinationtest.FormatNumber(v)
		case int64:
			rec["ltv"] = destinationtest.FormatNumber(float64(v))
		}
		out[k] = rec
	}
	return out
}

// people generates n desired records p000@x.org… with names and values.
func people(from, n int) map[string]map[string]any {
	out := map[string]map[string]any{}
	for i := from; i < from+n; i++ {
		k := fmt.Sprintf("p%03d@example.org", i)
		var ltv any = float64(i) * 1.25
		if i%3 == 0 {
			ltv = int64(i * 10)
		}
		out[k] = person(k, fmt.Sprintf("Name %d", i), ltv)
	}
	return out
}

func batchError(t *testing.T, err error) *destination.BatchError {
	t.Helper()
	var be *destination.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("want *BatchError, got %T %v", err, err)
	}
	return be
}
