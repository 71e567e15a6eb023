package salesforce_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	_ "github.com/cdpkit/cdp/sync/destinations/salesforce"
	sftest "github.com/cdpkit/cdp/sync/destinationtest/salesforce"
)

var syncFields = []string{"Email", "LastName", "LTV__c"}

// open opens a salesforce destination through the registry (settings are
// parsed and checked against the spec).
func open(t *testing.T, settings map[string]string, mode string) destination.Destination {
	t.Helper()
	d, err := destination.Open(context.Background(), "salesforce", destination.Config{
		Name: "crm", Settings: settings, Mode: mode, Fields: syncFields, KeyField: "Email", SyncName: "vip_to_salesforce",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// with returns settings with some values replaced ("" deletes).
func with(m map[string]string, kv ...string) map[string]string {
	out := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// state is a tiny stand-in for the engine's sync state: the RemoteID of
// each confirmed record, handed back with changes and removals.
type state struct {
	mu     sync.Mutex
	remote map[string]string
}

func newState() *state { return &state{remote: map[string]string{}} }

// remember wraps a destination so that the RemoteIDs of confirmed records
// reach the state (delivery.Outcome does not carry them).
type remember struct {
	destination.Destination
	st *state
}

func (r remember) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	res, err := r.Destination.Apply(ctx, batch)
	if err == nil && len(res) == len(batch) {
		r.st.mu.Lock()
		for i, x := range res {
			switch {
			case x.Err != nil:
			case batch[i].Op == destination.OpRemove:
				delete(r.st.remote, batch[i].Key)
			case x.RemoteID != "":
				r.st.remote[batch[i].Key] = x.RemoteID
			}
		}
		r.st.mu.Unlock()
	}
	return res, err
}

// deliver sends recs through delivery.Deliver with fast backoff, the
// state's RemoteIDs filled in, and returns the stats and the outcomes.
func deliver(t *testing.T, d destination.Destination, st *state, recs []destination.Record) (delivery.Stats, map[string]delivery.Outcome) {
	t.Helper()
	st.mu.Lock()
	for i := range recs {
		recs[i].RemoteID = st.remote[recs[i].Key]
	}
	st.mu.Unlock()
	n := 0
	next := func() (destination.Record, bool, error) {
		if n >= len(recs) {
			return destination.Record{}, false, nil
		}
		n++
		return recs[n-1], true, nil
	}
	outs := map[string]delivery.Outcome{}
	commit := func(_ context.Context, batch []delivery.Outcome) error {
		for _, o := range batch {
			outs[o.Record.Key] = o
		}
		return nil
	}
	stats, err := delivery.Deliver(context.Background(), remember{d, st},
		delivery.Options{BaseBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxAttempts: 8}, next, commit)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	return stats, outs
}

// person is one audience member of the test model.
type person struct {
	name string
	ltv  any // float64, int64 or nil
}

func email(i int) string { return fmt.Sprintf("p%03d@example.org", i) }

// record is the destination record of a person.
func record(op destination.Op, i int, p person) destination.Record {
	return destination.Record{Op: op, Key: email(i), Hash: fmt.Sprint(p),
		Fields: map[string]any{"Email": email(i), "LastName": p.name, "LTV__c": p.ltv}}
}

// audience is what Salesforce should hold for the model.
func audience(m map[int]person) map[string]map[string]string {
	out := map[string]map[string]string{}
	for i, p := range m {
		a := map[string]string{"email": email(i), "name": p.name}
		switch v := p.ltv.(type) {
		case float64:
			a["ltv"] = fmt.Sprint(v)
		case int64:
			a["ltv"] = fmt.Sprint(v)
		}
		out[email(i)] = a
	}
	return out
}

// batchError asserts err is a *BatchError.
func batchError(t *testing.T, err error) *destination.BatchError {
	t.Helper()
	var be *destination.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("want a *BatchError, got %T %v", err, err)
	}
	return be
}

func mustApply(t *testing.T, d destination.Destination, batch []destination.Record) []destination.Result {
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

// server starts a contract server for t.
func server(t *testing.T) *sftest.Server { return sftest.New(t) }
