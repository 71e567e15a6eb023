package salesforce_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinationtest"
)

func people(from, to int) []destination.Record {
	var recs []destination.Record
	for i := from; i < to; i++ {
		recs = append(recs, record(destination.OpAdd, i, person{name: fmt.Sprintf("L%d", i), ltv: float64(i)}))
	}
	return recs
}

func TestRecordErrorsAreMapped(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		t.Run(fmt.Sprintf("bulk=%v", bulk), func(t *testing.T) {
			s := server(t)
			settings := s.Settings("upsert")
			if bulk {
				settings = s.BulkSettings("upsert", 100)
			}
			d := open(t, with(settings, "batch_size", "100"), "upsert")
			s.SetFaults(destinationtest.Faults{RejectRate: 0.2, RetryableRecordRate: 0.15, Seed: 3})
			batch := people(0, 50)
			batch = append(batch, destination.Record{Op: destination.OpAdd, Key: email(50), Fields: map[string]any{"Email": "not-an-email", "LastName": "X"}})
			res := mustApply(t, d, batch)
			var rejected, retry int
			for i, r := range res {
				held := s.Contact(batch[i].Key) != nil
				if held != (r.Err == nil) {
					t.Errorf("record %d: err %v, held by Salesforce %v", i, r.Err, held)
				}
				switch {
				case r.Err == nil:
					if r.RemoteID == "" || r.RemoteID != s.Contact(batch[i].Key)["Id"] {
						t.Errorf("record %d: RemoteID %q", i, r.RemoteID)
					}
				case r.Retryable:
					retry++
					if !strings.Contains(r.Err.Error(), "UNABLE_TO_LOCK_ROW") {
						t.Errorf("record %d: %v", i, r.Err)
					}
				default:
					rejected++
				}
			}
			st := s.Stats()
			if rejected == 0 || retry == 0 || retry != st.Retried || rejected < st.Rejected {
				t.Errorf("rejected %d retry %d; server %+v", rejected, retry, st)
			}
			if last := res[50]; last.Err == nil || last.Retryable || !strings.Contains(last.Err.Error(), "INVALID_EMAIL_ADDRESS") {
				t.Errorf("bad email: %+v", last)
			}
		})
	}
}

func TestRequiredFieldMissingIsRejected(t *testing.T) {
	s := server(t)
	d := open(t, s.Settings("upsert"), "upsert")
	res := mustApply(t, d, []destination.Record{{Op: destination.OpAdd, Key: email(1), Fields: map[string]any{"Email": email(1)}}})
	if res[0].Err == nil || res[0].Retryable || !strings.Contains(res[0].Err.Error(), "REQUIRED_FIELD_MISSING") {
		t.Errorf("%+v", res[0])
	}
}

func TestThrottleIsRetriedAndCounted(t *testing.T) {
	s := server(t)
	d := open(t, s.Settings("upsert"), "upsert")
	s.SetFaults(destinationtest.Faults{Status429Every: 3})
	_, err := d.Apply(t.Context(), people(0, 1))
	_, err2 := d.Apply(t.Context(), people(1, 2))
	_, err3 := d.Apply(t.Context(), people(2, 3))
	if err != nil || err2 != nil {
		t.Fatalf("%v %v", err, err2)
	}
	be := batchError(t, err3)
	if !be.Retryable || !be.Throttled || be.Fatal || be.Status != http.StatusTooManyRequests ||
		!strings.Contains(be.Error(), "REQUEST_LIMIT_EXCEEDED") || !strings.Contains(be.Error(), "403") {
		t.Errorf("throttle: %+v", be)
	}
	s.SetFaults(destinationtest.Faults{Status429Every: 2})
	before := s.Stats().Throttled
	stats, _ := deliver(t, d, newState(), people(0, 150))
	if stats.Confirmed != 150 || stats.Throttled == 0 || stats.Throttled != int64(s.Stats().Throttled-before) {
		t.Errorf("stats %+v, server %+v", stats, s.Stats())
	}
}

func TestDailyLimitIsFatal(t *testing.T) {
	s := server(t)
	d := open(t, s.Settings("upsert"), "upsert")
	mustApply(t, d, people(0, 1))
	s.SetDailyLimit(1)
	_, err := d.Apply(t.Context(), people(1, 2))
	if be := batchError(t, err); !be.Fatal || !be.Throttled {
		t.Errorf("daily limit: %+v", be)
	}
}

func TestExpiredSessionIsRenewed(t *testing.T) {
	s := server(t)
	d := open(t, s.Settings("upsert"), "upsert")
	mustApply(t, d, people(0, 1))
	s.ExpireSessions()
	if r := mustApply(t, d, people(1, 2)); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	if n := s.TokensIssued(); n != 2 {
		t.Errorf("%d tokens issued, want 2", n)
	}
}

func TestRevokedTokenIsFatal(t *testing.T) {
	for _, jwt := range []bool{false, true} {
		t.Run(fmt.Sprintf("jwt=%v", jwt), func(t *testing.T) {
			s := server(t)
			settings := s.Settings("upsert")
			if jwt {
				settings = s.JWTSettings("upsert")
			}
			d := open(t, settings, "upsert")
			mustApply(t, d, people(0, 1))
			s.Revoke()
			_, err := d.Apply(t.Context(), people(1, 2))
			if !destination.IsFatal(err) || !strings.Contains(err.Error(), "invalid_grant") {
				t.Errorf("revoked: %v", err)
			}
		})
	}
}

func TestJWTFlowAndInstanceURL(t *testing.T) {
	s := server(t)
	// Without base_url the API base is the token's instance_url.
	d := open(t, with(s.JWTSettings("upsert"), "base_url", ""), "upsert")
	if r := mustApply(t, d, people(0, 3)); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	if s.TokensIssued() != 1 || len(s.Audience("upsert")) != 3 {
		t.Errorf("tokens %d audience %v", s.TokensIssued(), s.Audience("upsert"))
	}
	// base_url, when set, wins over instance_url.
	d2 := open(t, with(s.Settings("upsert"), "base_url", "http://127.0.0.1:1"), "upsert")
	if _, err := d2.Apply(t.Context(), people(3, 4)); err == nil || !destination.IsRetryable(err) || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("base_url must win: %v", err)
	}
}

func TestBadCredentialsAreFatal(t *testing.T) {
	s := server(t)
	d := open(t, with(s.Settings("upsert"), "client_secret", "wrong"), "upsert")
	_, err := d.Apply(t.Context(), people(0, 1))
	if !destination.IsFatal(err) || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("%v", err)
	}
}

func TestFailureAfterAWriteKeepsWhatWasConfirmed(t *testing.T) {
	s := server(t)
	d := open(t, s.Settings("mirror"), "mirror")
	ids := mustApply(t, d, people(0, 2))
	s.SetFaults(destinationtest.Faults{Status429Every: 2}) // the upsert passes, the delete is throttled
	batch := append(people(2, 4), destination.Record{Op: destination.OpRemove, Key: email(0), RemoteID: ids[0].RemoteID})
	res := mustApply(t, d, batch)
	if res[0].Err != nil || res[1].Err != nil || res[0].RemoteID == "" {
		t.Errorf("upserts: %+v", res[:2])
	}
	if res[2].Err == nil || !res[2].Retryable || !strings.Contains(res[2].Err.Error(), "REQUEST_LIMIT_EXCEEDED") {
		t.Errorf("removal: %+v", res[2])
	}
}

func TestWholeRequestFaultsAreRetried(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		t.Run(fmt.Sprintf("bulk=%v", bulk), func(t *testing.T) {
			s := server(t)
			settings := with(s.Settings("mirror"), "timeout", "200ms", "batch_size", "20", "rate_limit", "200/s")
			faults := destinationtest.Faults{Status429Every: 5, Status500Every: 7, TimeoutEvery: 9, DropEvery: 11,
				RejectRate: 0.05, RetryableRecordRate: 0.1, Seed: 9}
			n, removed := 120, 30
			if bulk {
				// A bulk batch takes five requests or more: fewer faults, or none gets through.
				settings = with(s.BulkSettings("mirror", 30), "timeout", "200ms", "rate_limit", "200/s")
				faults.Status429Every, faults.Status500Every, faults.TimeoutEvery, faults.DropEvery = 7, 11, 23, 13
				n, removed = 60, 15
			}
			d := open(t, settings, "mirror")
			st := newState()
			s.SetFaults(faults)
			recs := people(0, n)
			// Runs repeat until every record is in: rejected ones go again next run.
			for run := 0; run < 6 && len(recs) > 0; run++ {
				_, outs := deliver(t, d, st, recs)
				var again []destination.Record
				for _, r := range recs {
					if o, ok := outs[r.Key]; !ok || o.Err != nil {
						again = append(again, r)
					}
				}
				recs = again
			}
			if len(recs) > 0 || len(s.Audience("mirror")) != n {
				t.Fatalf("%d records still failing; audience %d", len(recs), len(s.Audience("mirror")))
			}
			var rm []destination.Record
			for i := range removed {
				rm = append(rm, destination.Record{Op: destination.OpRemove, Key: email(i)})
			}
			for run := 0; run < 6 && len(rm) > 0; run++ {
				_, outs := deliver(t, d, st, rm)
				var again []destination.Record
				for _, r := range rm {
					if o := outs[r.Key]; o.Err != nil {
						again = append(again, r)
					}
				}
				rm = again
			}
			if got := len(s.Audience("mirror")); got != n-removed || len(rm) > 0 {
				t.Fatalf("after removals audience %d, failing %d", got, len(rm))
			}
			if st := s.Stats(); st.Throttled == 0 || st.Failed == 0 || st.Dropped == 0 || st.TimedOut == 0 {
				t.Errorf("faults not exercised: %+v", st)
			}
		})
	}
}
