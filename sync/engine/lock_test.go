package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
)

// slowRenewals is a real DuckDB warehouse whose lease renewals take delay
// before they run, as on a warehouse that queues them behind other jobs.
type slowRenewals struct {
	warehouse.Warehouse
	delay time.Duration
}

func (s slowRenewals) Exec(ctx context.Context, stmt string) (int64, error) {
	if strings.Contains(stmt, "SET expires_at = ") && !strings.Contains(stmt, "holder = NULL") {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return s.Warehouse.Exec(ctx, stmt)
}

// TestLeaseRenewalMayTakeUntilExpiry holds a lease through renewals slower
// than the heartbeat interval (a third of the TTL) but faster than the TTL,
// which must keep it, and through renewals slower than the TTL, which must
// lose it (another run may have claimed the row by then).
func TestLeaseRenewalMayTakeUntilExpiry(t *testing.T) {
	const ttl = 600 * time.Millisecond
	for _, c := range []struct {
		name  string
		delay time.Duration
		lost  bool
	}{
		{"slower than the heartbeat", ttl * 2 / 5, false},
		{"slower than the lease", 2 * ttl, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			dw, err := duckdb.Open(ctx, ":memory:")
			if err != nil {
				t.Fatal(err)
			}
			defer dw.Close()
			w := slowRenewals{Warehouse: dw, delay: c.delay}
			tb := layout.Tables{D: w.Dialect(), Schema: "cdp", Entity: "customer"}
			if err := ensureState(ctx, w, tb); err != nil {
				t.Fatal(err)
			}
			l, err := acquire(ctx, w, tb, "s", "run1", ttl, 0, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * ttl)
			lost := l.Lost()
			if err := l.release(); err != nil {
				t.Fatal(err)
			}
			if c.lost && lost == nil {
				t.Fatal("a renewal that outlived the lease should lose it")
			}
			if !c.lost && lost != nil {
				t.Fatalf("renewals that finish before the lease expires should keep it: %v", lost)
			}
		})
	}
}
