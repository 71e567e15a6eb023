package intercom_test

import (
	"maps"
	"testing"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destinationtest"
	icserver "github.com/cdpkit/cdp/sync/destinationtest/intercom"
)

// rounds are three audiences in a row: people added, changed (names and
// lifetime values, some cleared), and in mirror mode leaving and coming
// back.
func rounds(mode string) []map[string]map[string]any {
	r1 := people(0, 120, 1.5)
	r2 := maps.Clone(r1)
	maps.Copy(r2, people(40, 40, 2.25)) // changed
	maps.Copy(r2, people(120, 30, 1))   // added
	for i := 0; i < 10; i++ {           // cleared names, cleared ltv
		e := people(i, 1, 1)
		for k := range e {
			r2[k] = person(k, nil, float64(i))
			if i%2 == 0 {
				r2[k] = person(k, "Renamed", nil)
			}
		}
	}
	if mode == "mirror" {
		for k := range people(90, 25, 1) {
			delete(r2, k)
		}
	}
	r3 := maps.Clone(r2)
	maps.Copy(r3, people(0, 5, 3)) // names and ltv back
	maps.Copy(r3, people(150, 20, 1))
	if mode == "mirror" {
		maps.Copy(r3, people(90, 10, 1)) // back in the audience
		for k := range people(60, 15, 1) {
			delete(r3, k)
		}
	}
	return []map[string]map[string]any{r1, r2, r3}
}

func TestRounds(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			s := icserver.New(t)
			d := open(t, s, mode, nil)
			w := newWorld(mode)
			for i, want := range rounds(mode) {
				st := w.deliver(t, d, want, delivery.Options{})
				if st.Rejected != 0 || st.FailedRetryable != 0 {
					t.Fatalf("round %d: %+v", i+1, st)
				}
				checkAudience(t, s, mode, want)
			}
			if mode == "mirror" {
				// removals untag: every person ever delivered is still a contact
				if n := len(s.Contacts()); n != 170 {
					t.Errorf("%d contacts held, want 170 (removal must not delete)", n)
				}
			}
			if v := s.Violations(); len(v) > 0 {
				t.Errorf("violations: %v", v)
			}
		})
	}
}

// TestRoundsUnderFaults runs the rounds with every kind of fault; each
// round is delivered again until nothing is left (later runs retry
// rejected records), as the engine's next runs would.
func TestRoundsUnderFaults(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			s := icserver.New(t)
			s.SetFaults(destinationtest.Faults{Status429Every: 17, Status500Every: 13, TimeoutEvery: 97, DropEvery: 41,
				RejectRate: 0.05, RetryableRecordRate: 0.05, Seed: 3})
			d := open(t, s, mode, nil, "timeout", "200ms", "concurrency", "8")
			w := newWorld(mode)
			var throttled int64
			for i, want := range rounds(mode) {
				for run := 0; len(w.plan(want)) > 0; run++ {
					if run == 8 {
						t.Fatalf("round %d: %d records still differ after %d runs", i+1, len(w.plan(want)), run)
					}
					dst := w.deliver(t, d, want, delivery.Options{MaxAttempts: 4})
					t.Logf("round %d run %d: %+v", i+1, run, dst)
					throttled += dst.Throttled
				}
				checkAudience(t, s, mode, want)
			}
			st := s.Stats()
			if st.Throttled == 0 || st.Failed == 0 || st.TimedOut == 0 || st.Dropped == 0 || st.Rejected == 0 || st.Retried == 0 {
				t.Errorf("not every fault happened: %+v", st)
			}
			t.Logf("server %+v, delivery throttled %d", st, throttled)
		})
	}
}
