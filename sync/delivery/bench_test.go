package delivery

import (
	"context"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
)

// instantDest confirms everything at once.
type instantDest struct{}

func (instantDest) Capabilities() destination.Capabilities {
	return destination.Capabilities{MaxBatch: 500, Concurrency: 4}
}
func (instantDest) Apply(_ context.Context, b []destination.Record) ([]destination.Result, error) {
	return make([]destination.Result, len(b)), nil
}
func (instantDest) Close() error { return nil }

// BenchmarkDeliver delivers 1e5 records to an instant destination.
func BenchmarkDeliver(b *testing.B) {
	const n = 100_000
	b.ReportAllocs()
	for range b.N {
		i := 0
		next := func() (destination.Record, bool, error) {
			if i == n {
				return destination.Record{}, false, nil
			}
			i++
			return destination.Record{Op: destination.OpAdd, Key: "k"}, true, nil
		}
		st, err := Deliver(context.Background(), instantDest{}, Options{}, next,
			func(context.Context, []Outcome) error { return nil })
		if err != nil || st.Confirmed != n {
			b.Fatalf("err=%v stats=%+v", err, st)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
