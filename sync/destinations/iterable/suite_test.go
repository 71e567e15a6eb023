package iterable_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destinationtest"
	srv "github.com/cdpkit/cdp/sync/destinationtest/iterable"
)

// TestConvergesUnderFaults runs every fault kind of the guarantee suite at
// once over three rounds and checks that a few runs converge to the wanted
// audience (rejected records are resent by the next run).
func TestConvergesUnderFaults(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			start := time.Now()
			s := srv.New(t)
			s.SetBulkRate(0) // pacing is tested elsewhere; this is about faults
			d := open(t, s, mode, "timeout", "150ms", "rate_limit", "1000/s")
			s.SetFaults(destinationtest.Faults{Status429Every: 5, Status500Every: 7, TimeoutEvery: 11, DropEvery: 13,
				RejectRate: 0.05, RetryableRecordRate: 0.05, Seed: 3})
			e := newEngine(t, mode)
			for n, want := range rounds(mode == "mirror") {
				runs := 0
				for ; runs < 10; runs++ {
					if _, err := e.run(d, delivery.Options{BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}, e.diff(want)); err != nil {
						t.Fatalf("round %d: %v", n+1, err)
					}
					if len(e.diff(want)) == 0 {
						break
					}
				}
				if got, exp := s.Audience(mode), audience(want); !reflect.DeepEqual(got, exp) {
					t.Fatalf("round %d after %d runs: audience differs:\n%s", n+1, runs+1, diffAudience(got, exp))
				}
				t.Logf("round %d converged in %d runs", n+1, runs+1)
			}
			t.Logf("%+v in %v", s.Stats(), time.Since(start))
			if len(s.Violations()) > 0 {
				t.Errorf("violations %v", s.Violations())
			}
		})
	}
}
