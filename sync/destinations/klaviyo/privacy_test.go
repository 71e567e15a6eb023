package klaviyo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinationtest"
	kserver "github.com/cdpkit/cdp/sync/destinationtest/klaviyo"
)

// seed imports people 0..n-1 and returns their profile IDs by email.
func seed(t *testing.T, d destination.Destination, n int) map[string]string {
	t.Helper()
	var batch []destination.Record
	for i := 0; i < n; i++ {
		batch = append(batch, destination.Record{Op: destination.OpAdd, Key: email(i),
			Fields: person{name: "P", ltv: int64(i)}.fields(email(i))})
	}
	res, err := d.Apply(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for i, r := range res {
		if r.Err != nil || r.RemoteID == "" {
			t.Fatalf("seeding %d: %+v", i, r)
		}
		ids[email(i)] = r.RemoteID
	}
	return ids
}

func TestPrivacyOpsDeclared(t *testing.T) {
	spec, _ := destination.Lookup("klaviyo")
	for _, mode := range []string{"upsert", "mirror"} {
		d := open(t, kserver.New(t), mode)
		for _, op := range []destination.Op{destination.OpUnsubscribe, destination.OpErase} {
			if !d.Capabilities().Supports(op) || !spec.Supports(op) {
				t.Errorf("%s: %s not declared", mode, op)
			}
		}
	}
}

func TestEraseDeletesProfilesWithReceipt(t *testing.T) {
	s := kserver.New(t)
	d := open(t, s, "mirror")
	ids := seed(t, d, 3)
	res, err := d.Apply(context.Background(), []destination.Record{
		{Op: destination.OpErase, Key: email(0), RemoteID: ids[email(0)]}, // by profile ID
		{Op: destination.OpErase, Key: email(1)},                          // by email
		{Op: destination.OpChange, Key: email(2), Fields: person{name: "Q", ltv: int64(2)}.fields(email(2))},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if res[i].Err != nil || !strings.HasPrefix(res[i].Receipt, "data-privacy-deletion-job") {
			t.Errorf("erase %d: %+v, want a deletion job receipt", i, res[i])
		}
		if s.ProfileID(email(i)) != "" || !s.Erased(email(i)) {
			t.Errorf("profile %s still at Klaviyo", email(i))
		}
	}
	if res[2].Err != nil || res[2].Receipt != "" || s.ProfileID(email(2)) == "" {
		t.Errorf("the change beside the erasures: %+v", res[2])
	}
	if got := len(s.Audience("mirror")); got != 1 {
		t.Errorf("%d list members after erasing two of three", got)
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestUnsubscribeSetsConsent(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			s := kserver.New(t)
			d := open(t, s, mode)
			seed(t, d, 2)
			res, err := d.Apply(context.Background(), []destination.Record{{Op: destination.OpUnsubscribe, Key: email(1)}})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Err != nil || !strings.HasPrefix(res[0].Receipt, "profile-subscription-bulk-delete-job") {
				t.Errorf("unsubscribe: %+v, want a receipt", res[0])
			}
			if got := s.Consent(email(1)); got != kserver.ConsentUnsubscribed {
				t.Errorf("consent %q, want %s", got, kserver.ConsentUnsubscribed)
			}
			if s.ProfileID(email(1)) == "" {
				t.Error("unsubscribing deleted the profile")
			}
			if _, member := s.Audience(mode)[email(1)]; mode == "mirror" && member {
				t.Error("an unsubscribed profile is still in the list")
			}
			if v := s.Violations(); len(v) > 0 {
				t.Errorf("violations: %v", v)
			}
		})
	}
}

func TestPrivacyOpsRetryable(t *testing.T) {
	for _, op := range []destination.Op{destination.OpErase, destination.OpUnsubscribe} {
		for _, f := range []destinationtest.Faults{{Status429Every: 1, RetryAfter: 1}, {Status500Every: 1}} {
			s := kserver.New(t)
			d := open(t, s, "upsert")
			seed(t, d, 1)
			s.SetFaults(f)
			_, err := d.Apply(context.Background(), []destination.Record{{Op: op, Key: email(0)}})
			if err == nil || !destination.IsRetryable(err) || destination.IsFatal(err) {
				t.Errorf("%s with %+v: %v, want a retryable batch error", op, f, err)
			}
			if s.ProfileID(email(0)) == "" || s.Consent(email(0)) != "" {
				t.Errorf("%s with %+v: the faulted request was applied", op, f)
			}
		}
	}
}

func TestDeletionRateLimitRespected(t *testing.T) {
	s := kserver.New(t)
	d := open(t, s, "upsert")
	seed(t, d, 4)
	var batch []destination.Record
	for i := 0; i < 4; i++ {
		batch = append(batch, destination.Record{Op: destination.OpErase, Key: email(i)})
	}
	res, err := d.Apply(context.Background(), batch)
	if err != nil {
		t.Fatalf("four erasures (over the 3/s burst): %v", err)
	}
	for i, r := range res {
		if r.Err != nil || s.ProfileID(email(i)) != "" {
			t.Errorf("erase %d: %+v", i, r)
		}
	}
	if st := s.Stats(); st.Throttled != 0 {
		t.Errorf("%d throttled: the deletions were not spaced", st.Throttled)
	}
}
