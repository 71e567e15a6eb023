package klaviyo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	_ "github.com/cdpkit/cdp/sync/destinations/klaviyo"
	"github.com/cdpkit/cdp/sync/destinationtest"
	kserver "github.com/cdpkit/cdp/sync/destinationtest/klaviyo"
)

var fields = []string{"email", "first_name", "properties.ltv"}

// open opens a klaviyo destination against s for mode, settings overridden
// by extra (name, value pairs).
func open(t *testing.T, s *kserver.Server, mode string, extra ...string) destination.Destination {
	t.Helper()
	raw := s.Settings(mode)
	for i := 0; i+1 < len(extra); i += 2 {
		raw[extra[i]] = extra[i+1]
	}
	spec, err := destination.Lookup("klaviyo")
	if err != nil {
		t.Fatal(err)
	}
	v, probs := spec.Parse(raw)
	for _, p := range probs {
		t.Fatalf("settings: %s", p.Message)
	}
	d, err := spec.New(context.Background(), destination.Config{Name: "kl", Values: v, Settings: raw, Mode: mode,
		SyncName: "vip_to_klaviyo", Fields: fields, KeyField: "email"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// person is one audience member as the warehouse holds it; nil clears.
type person struct {
	name any
	ltv  any
}

func (p person) fields(email string) map[string]any {
	return map[string]any{"email": email, "first_name": p.name, "properties.ltv": p.ltv}
}

// state is the tiny engine state of the tests: what was confirmed, with
// the remote IDs the destination returned.
type state struct {
	mu     sync.Mutex
	held   map[string]person // confirmed, in the audience
	remote map[string]string // key → profile ID
	ever   map[string]person // every confirmed upsert (upsert mode's audience)
}

func newState() *state {
	return &state{held: map[string]person{}, remote: map[string]string{}, ever: map[string]person{}}
}

// capture remembers the RemoteID of every confirmed record (delivery's
// outcomes do not carry it).
type capture struct {
	destination.Destination
	mu  sync.Mutex
	ids map[string]string
}

func (c *capture) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	res, err := c.Destination.Apply(ctx, batch)
	if err == nil {
		c.mu.Lock()
		for i, r := range res {
			if r.Err == nil && i < len(batch) {
				c.ids[batch[i].Key] = r.RemoteID
			}
		}
		c.mu.Unlock()
	}
	return res, err
}

// change is one record operation of a round.
type change struct {
	op    destination.Op
	email string
	p     person
}

// deliver sends a round through delivery.Deliver and commits confirmed
// outcomes to st; it returns the stats and the failed outcomes.
func deliver(t *testing.T, d destination.Destination, st *state, round []change, opts delivery.Options) (delivery.Stats, []delivery.Outcome) {
	t.Helper()
	c := &capture{Destination: d, ids: map[string]string{}}
	want := map[string]person{}
	i := 0
	next := func() (destination.Record, bool, error) {
		if i >= len(round) {
			return destination.Record{}, false, nil
		}
		ch := round[i]
		i++
		st.mu.Lock()
		defer st.mu.Unlock()
		r := destination.Record{Op: ch.op, Key: ch.email, RemoteID: st.remote[ch.email], Hash: fmt.Sprint(ch.p)}
		if ch.op == destination.OpRemove {
			r.Fields = st.held[ch.email].fields(ch.email)
		} else {
			r.Fields = ch.p.fields(ch.email)
			want[ch.email] = ch.p
		}
		return r, true, nil
	}
	var failed []delivery.Outcome
	commit := func(_ context.Context, outs []delivery.Outcome) error {
		st.mu.Lock()
		defer st.mu.Unlock()
		for _, o := range outs {
			k := o.Record.Key
			if o.Err != nil {
				failed = append(failed, o)
				continue
			}
			if o.Record.Op == destination.OpRemove {
				delete(st.held, k)
				continue
			}
			c.mu.Lock()
			if id := c.ids[k]; id != "" {
				st.remote[k] = id
			}
			c.mu.Unlock()
			st.held[k], st.ever[k] = want[k], want[k]
		}
		return nil
	}
	stats, err := delivery.Deliver(context.Background(), c, opts, next, commit)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	return stats, failed
}

// expected renders what the vendor should hold for mode.
func (st *state) expected(mode string) map[string]map[string]string {
	st.mu.Lock()
	defer st.mu.Unlock()
	src := st.held
	if mode == "upsert" {
		src = st.ever
	}
	out := map[string]map[string]string{}
	for k, p := range src {
		rec := map[string]string{"email": k}
		if s, ok := p.name.(string); ok {
			rec["name"] = s
		}
		switch v := p.ltv.(type) {
		case float64:
			rec["ltv"] = destinationtest.FormatNumber(v)
		case int64:
			rec["ltv"] = destinationtest.FormatNumber(float64(v))
		}
		out[k] = rec
	}
	return out
}

func email(i int) string { return fmt.Sprintf("user%03d@example.org", i) }

// diff describes the differences of two audiences ("" when equal).
func diff(got, want map[string]map[string]string) string {
	var out string
	n := 0
	for k, w := range want {
		if g := got[k]; fmt.Sprint(g) != fmt.Sprint(w) {
			if n++; n <= 5 {
				out += fmt.Sprintf("\n  %s: got %v, want %v", k, g, w)
			}
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			if n++; n <= 5 {
				out += fmt.Sprintf("\n  %s: unexpected %v", k, g)
			}
		}
	}
	if n > 5 {
		out += fmt.Sprintf("\n  … %d differences", n)
	}
	return out
}
