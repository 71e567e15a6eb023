package braze

import (
	"context"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinationtest"
	brazeapi "github.com/cdpkit/cdp/sync/destinationtest/braze"
)

// seed writes people to the server and returns the destination.
func seed(t *testing.T, s *brazeapi.Server, mode string, over map[string]string, n int) *Destination {
	t.Helper()
	d := open(t, s, mode, over)
	sm := newSim(t, d, mode)
	if st := sm.run(people(0, n, 1)); st.Confirmed != int64(n) {
		t.Fatalf("seeding: %+v", st)
	}
	return d
}

func TestPrivacyOpsDeclared(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		d := open(t, brazeapi.New(t), mode, nil)
		for _, op := range []destination.Op{destination.OpUnsubscribe, destination.OpErase} {
			if !d.Capabilities().Supports(op) || !Spec().Supports(op) {
				t.Errorf("%s: %s not declared", mode, op)
			}
		}
	}
}

func TestEraseDeletesWithReceipt(t *testing.T) {
	for _, identifier := range []string{IdentifierEmail, IdentifierExternalID} {
		t.Run(identifier, func(t *testing.T) {
			s := brazeapi.New(t)
			d := seed(t, s, "upsert", map[string]string{"identifier": identifier}, 3)
			key := "p001@example.org"
			res, err := d.Apply(context.Background(), []destination.Record{
				{Op: destination.OpErase, Key: key, Fields: people(1, 2, 1)[key]},
				{Op: destination.OpErase, Key: "nobody@example.org"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Err != nil || !strings.Contains(res[0].Receipt, "deleted 1") {
				t.Errorf("erase: %+v, want a receipt with Braze's count", res[0])
			}
			if res[1].Err != nil || res[1].Receipt != NotFound {
				t.Errorf("erase of an unknown person: %+v, want %q", res[1], NotFound)
			}
			if identifier == IdentifierEmail && s.Profile(key) != nil {
				t.Errorf("profile %s still at Braze", key)
			}
			if s.Deleted() != 1 {
				t.Errorf("%d profiles deleted, want 1", s.Deleted())
			}
			if v := s.Violations(); len(v) > 0 {
				t.Errorf("violations: %v", v)
			}
		})
	}
}

func TestUnsubscribeWithoutGroupSetsEmailSubscribe(t *testing.T) {
	s := brazeapi.New(t)
	d := seed(t, s, "upsert", nil, 2)
	res, err := d.Apply(context.Background(), []destination.Record{
		{Op: destination.OpUnsubscribe, Key: "p000@example.org"},
		{Op: destination.OpUnsubscribe, Key: "stranger@example.org"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.Receipt == "" {
			t.Errorf("record %d: %+v, want confirmed with a receipt", i, r)
		}
	}
	if got := s.EmailSubscribe("p000@example.org"); got != "unsubscribed" {
		t.Errorf("email_subscribe = %q, want unsubscribed", got)
	}
	if s.Profile("stranger@example.org") != nil {
		t.Error("an unsubscribe created a profile")
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestUnsubscribeFromGroup(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			s := brazeapi.New(t)
			d := seed(t, s, mode, map[string]string{"subscription_group_id": s.Group()}, 2)
			res, err := d.Apply(context.Background(), []destination.Record{{Op: destination.OpUnsubscribe, Key: "p001@example.org"}})
			if err != nil || res[0].Err != nil || !strings.Contains(res[0].Receipt, s.Group()) {
				t.Fatalf("unsubscribe: %v %+v", err, res)
			}
			if got := s.Subscription("p001@example.org", s.Group()); got != "unsubscribed" {
				t.Errorf("group state %q, want unsubscribed", got)
			}
			if s.Profile("p001@example.org") == nil {
				t.Error("an unsubscribe deleted the profile")
			}
		})
	}
}

func TestPrivacyOpsRetryable(t *testing.T) {
	for _, op := range []destination.Op{destination.OpErase, destination.OpUnsubscribe} {
		for _, f := range []destinationtest.Faults{{Status429Every: 1}, {Status500Every: 1}} {
			s := brazeapi.New(t)
			d := seed(t, s, "upsert", nil, 1)
			s.SetFaults(f)
			_, err := d.Apply(context.Background(), []destination.Record{{Op: op, Key: "p000@example.org"}})
			if err == nil || !destination.IsRetryable(err) || destination.IsFatal(err) {
				t.Errorf("%s with %+v: %v, want a retryable batch error", op, f, err)
			}
			if op == destination.OpErase && s.Profile("p000@example.org") == nil {
				t.Errorf("%s with %+v: the faulted request was applied", op, f)
			}
		}
	}
}
