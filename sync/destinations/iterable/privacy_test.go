package iterable_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinationtest"
	srv "github.com/cdpkit/cdp/sync/destinationtest/iterable"
)

// privacyOpen opens a destination with the server's message channel as
// unsubscribe_channel_id and writes three users.
func privacyOpen(t *testing.T, s *srv.Server, mode string) destination.Destination {
	t.Helper()
	d := open(t, s, mode, "unsubscribe_channel_id", strconv.FormatInt(s.ChannelID, 10))
	for i, r := range apply(t, d, recs(destination.OpAdd, 0, 3)) {
		if r.Err != nil {
			t.Fatalf("seeding %d: %v", i, r.Err)
		}
	}
	return d
}

func TestPrivacyOpsDeclared(t *testing.T) {
	s := srv.New(t)
	spec, _ := destination.Lookup("iterable")
	d := privacyOpen(t, s, "upsert")
	for _, op := range []destination.Op{destination.OpUnsubscribe, destination.OpErase} {
		if !d.Capabilities().Supports(op) || !spec.Supports(op) {
			t.Errorf("%s not declared", op)
		}
	}
	if open(t, s, "upsert").Capabilities().Supports(destination.OpUnsubscribe) {
		t.Error("unsubscribe declared without unsubscribe_channel_id")
	}
}

func TestEraseForgetsWithReceipt(t *testing.T) {
	s := srv.New(t)
	d := privacyOpen(t, s, "mirror")
	batch := recs(destination.OpErase, 0, 1)
	batch = append(batch, destination.Record{Op: destination.OpErase, Key: "never-seen@example.org"})
	res := apply(t, d, batch)
	for i, r := range res {
		if r.Err != nil || !strings.Contains(r.Receipt, "Success") {
			t.Errorf("erase %d: %+v, want confirmed with Iterable's code", i, r)
		}
	}
	if s.User("r000@example.org") != nil || !s.Forgotten("r000@example.org") || !s.Forgotten("never-seen@example.org") {
		t.Error("the users are not forgotten")
	}
	for _, m := range s.Members(s.ListID) {
		if m == "r000@example.org" {
			t.Error("a forgotten user is still a list member")
		}
	}
	// Iterable refuses a forgotten user from then on.
	if r := apply(t, d, recs(destination.OpChange, 0, 1))[0]; r.Err == nil {
		t.Error("a forgotten user was written again")
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestUnsubscribeLeavesChannel(t *testing.T) {
	s := srv.New(t)
	d := privacyOpen(t, s, "upsert")
	res := apply(t, d, recs(destination.OpUnsubscribe, 1, 1))
	if res[0].Err != nil || !strings.Contains(res[0].Receipt, "Success") {
		t.Fatalf("unsubscribe: %+v", res[0])
	}
	if !s.Unsubscribed("r001@example.org", s.ChannelID) || s.Unsubscribed("r000@example.org", s.ChannelID) {
		t.Error("channel subscriptions wrong after unsubscribing r001")
	}
	if s.User("r001@example.org") == nil {
		t.Error("unsubscribing deleted the user")
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestPrivacyOpsRetryable(t *testing.T) {
	for _, op := range []destination.Op{destination.OpErase, destination.OpUnsubscribe} {
		for _, f := range []destinationtest.Faults{{Status429Every: 1}, {Status500Every: 1}} {
			s := srv.New(t)
			d := privacyOpen(t, s, "upsert")
			s.SetFaults(f)
			_, err := d.Apply(context.Background(), recs(op, 0, 1))
			if err == nil || !destination.IsRetryable(err) || destination.IsFatal(err) {
				t.Errorf("%s with %+v: %v, want a retryable batch error", op, f, err)
			}
			if s.Forgotten("r000@example.org") || s.Unsubscribed("r000@example.org", s.ChannelID) {
				t.Errorf("%s with %+v: the faulted request was applied", op, f)
			}
		}
	}
}
