package mailchimp_test

import (
	"context"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinations/mailchimp"
	"github.com/cdpkit/cdp/sync/destinationtest"
	mcserver "github.com/cdpkit/cdp/sync/destinationtest/mailchimp"
)

func TestPrivacyOpsDeclared(t *testing.T) {
	spec, _ := destination.Lookup(mailchimp.Type)
	for _, mode := range []string{"upsert", "mirror"} {
		d := open(t, mcserver.New(t), mode)
		for _, op := range []destination.Op{destination.OpUnsubscribe, destination.OpErase} {
			if !d.Capabilities().Supports(op) || !spec.Supports(op) {
				t.Errorf("%s: %s not declared", mode, op)
			}
		}
	}
}

func TestEraseDeletesPermanently(t *testing.T) {
	s := mcserver.New(t)
	d := open(t, s, "upsert")
	added := apply(t, d, adds(3, 0))
	res := apply(t, d, []destination.Record{
		{Op: destination.OpErase, Key: email(0), RemoteID: added[0].RemoteID},
		{Op: destination.OpErase, Key: email(1)},
		{Op: destination.OpErase, Key: "nobody@example.org"},
		{Op: destination.OpChange, Key: email(2), Fields: person(2, "M", int64(5))},
	})
	for i := 0; i < 2; i++ {
		if res[i].Err != nil || res[i].Receipt != "delete-permanent HTTP 204" {
			t.Errorf("erase %d: %+v", i, res[i])
		}
		if _, held := s.Member(email(i)); held || !s.Deleted(email(i)) {
			t.Errorf("member %s still held", email(i))
		}
	}
	if res[2].Err != nil || res[2].Receipt != mailchimp.NotFound {
		t.Errorf("erase of a non-member: %+v, want %q", res[2], mailchimp.NotFound)
	}
	if res[3].Err != nil || res[3].Receipt != "" {
		t.Errorf("the change beside the erasures: %+v", res[3])
	}
	// Mailchimp refuses to re-import a permanently deleted address.
	if r := apply(t, d, adds(1, 0))[0]; r.Err == nil {
		t.Error("a permanently deleted address was imported again")
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestUnsubscribeSetsStatus(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			s := mcserver.New(t)
			d := open(t, s, mode)
			apply(t, d, adds(2, 0))
			res := apply(t, d, []destination.Record{{Op: destination.OpUnsubscribe, Key: email(1)}})
			if res[0].Err != nil || res[0].Receipt == "" {
				t.Fatalf("unsubscribe: %+v", res[0])
			}
			if m, held := s.Member(email(1)); !held || m.Status != "unsubscribed" {
				t.Errorf("member %+v (held %v), want unsubscribed", m, held)
			}
			if m, _ := s.Member(email(0)); m.Status != "subscribed" {
				t.Errorf("the other member is %s", m.Status)
			}
		})
	}
}

func TestPrivacyOpsRetryable(t *testing.T) {
	for _, op := range []destination.Op{destination.OpErase, destination.OpUnsubscribe} {
		for _, f := range []destinationtest.Faults{{Status429Every: 1}, {Status500Every: 1}} {
			s := mcserver.New(t)
			d := open(t, s, "upsert")
			apply(t, d, adds(1, 0))
			s.SetFaults(f)
			_, err := d.Apply(context.Background(), []destination.Record{{Op: op, Key: email(0)}})
			if err == nil || !destination.IsRetryable(err) || destination.IsFatal(err) {
				t.Errorf("%s with %+v: %v, want a retryable batch error", op, f, err)
			}
			if m, held := s.Member(email(0)); !held || m.Status != "subscribed" {
				t.Errorf("%s with %+v: the faulted request was applied (%+v)", op, f, m)
			}
		}
	}
}
