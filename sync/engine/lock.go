package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/warehouse"
)

// ErrLocked is returned when another run holds the sync's lease.
var ErrLocked = errors.New("another run of this sync is in progress")

// lease is a held lock row of cdp_sync_locks.
type lease struct {
	w      warehouse.Warehouse
	t      layout.Tables
	sync   string
	holder string
	ttl    time.Duration
	now    func() time.Time

	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	lost error
	// expires is when, by this process's clock, the lease runs out after
	// the last claim or renewal that succeeded (counted from when that
	// statement was sent)
	expires time.Time
}

// holderName identifies this process and run in the lock row.
func holderName(runID string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), runID)
}

// acquire takes the sync's lease by compare-and-set: the row is claimed only
// when free or expired. It polls until wait has passed.
func acquire(ctx context.Context, w warehouse.Warehouse, t layout.Tables, sync, runID string,
	ttl, wait time.Duration, now func() time.Time) (*lease, error) {
	l := &lease{w: w, t: t, sync: sync, holder: holderName(runID), ttl: ttl, now: now}
	// make sure the row exists; a concurrent insert of the same row fails on
	// the primary key, which is fine: the row is there either way. Where keys
	// are not enforced (BigQuery, Snowflake) the row may exist twice: the
	// claim below then also checks that no copy has a live holder.
	_, _ = w.Exec(ctx, lockRowSQL(t, sync))
	deadline := now().Add(wait)
	for {
		ts, sent := now().UTC(), time.Now()
		n, err := w.Exec(ctx, lockClaimSQL(t, sync, l.holder, runID, ts, ttl))
		// n > 1 when concurrent first runs inserted the row twice; -1 when
		// the warehouse cannot count (the BigQuery emulator): then read the
		// row back
		if err == nil && (n > 0 || n < 0 && l.holds(ctx)) {
			l.expires = sent.Add(ttl)
			l.stop, l.done = make(chan struct{}), make(chan struct{})
			go l.heartbeat()
			return l, nil
		}
		if err != nil && !isConflict(err) {
			return nil, fmt.Errorf("lock sync %s: %w", sync, err)
		}
		if !now().Before(deadline) {
			holder, until := l.current(ctx)
			return nil, fmt.Errorf("sync %s: %w (held by %s until %s); wait for it, or pass --wait 10m to queue behind it",
				sync, ErrLocked, holder, until)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pollInterval(wait)):
		}
	}
}

// isConflict recognizes a write-write conflict of a concurrent claimant
// (DuckDB reports one instead of blocking).
func isConflict(err error) bool {
	return err != nil && (containsFold(err.Error(), "conflict") || containsFold(err.Error(), "serializ"))
}

func pollInterval(wait time.Duration) time.Duration {
	p := wait / 20
	if p < 50*time.Millisecond {
		p = 50 * time.Millisecond
	}
	if p > 2*time.Second {
		p = 2 * time.Second
	}
	return p
}

// current describes who holds the lease (best effort, for messages).
func (l *lease) current(ctx context.Context) (holder, until string) {
	rows, err := l.w.Query(ctx, lockHolderSQL(l.t, l.sync))
	if err != nil {
		return "?", "?"
	}
	defer rows.Close()
	var h *string
	var e *time.Time
	if rows.Next() && rows.Scan(&h, &e) == nil && h != nil && e != nil {
		return *h, e.UTC().Format(time.RFC3339)
	}
	return "?", "?"
}

// heartbeat extends the lease every third of its TTL while the run lasts.
func (l *lease) heartbeat() {
	defer close(l.done)
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
			if err := l.renew(); err != nil {
				l.mu.Lock()
				l.lost = err
				l.mu.Unlock()
				return
			}
		}
	}
}

// renew extends the lease by its TTL. It may take until the lease expires
// (a warehouse that queues jobs, such as BigQuery's DML queue, can be slow
// to run it); past that moment another run may hold the row, so the renewal
// gives up and the lease counts as lost.
func (l *lease) renew() error {
	ctx, cancel := context.WithDeadline(context.Background(), l.expires)
	defer cancel()
	sent := time.Now()
	n, err := l.w.Exec(ctx, lockRenewSQL(l.t, l.sync, l.holder, l.now().UTC().Add(l.ttl)))
	if err != nil {
		return fmt.Errorf("renew lock: %w", err)
	}
	if n == 0 || n < 0 && !l.holds(ctx) {
		return fmt.Errorf("lost the lock of sync %s: another run took it over after it expired", l.sync)
	}
	l.expires = sent.Add(l.ttl)
	return nil
}

// holds reads back whether the lock row names this run as holder, for
// warehouses that do not report affected rows. DML on one table is
// serialized, so the read sees the winner of any concurrent claim.
func (l *lease) holds(ctx context.Context) bool {
	rows, err := l.w.Query(ctx, fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE sync = %s AND holder = %s",
		l.t.Q(l.t.SyncLocks()), l.t.D.QuoteString(l.sync), l.t.D.QuoteString(l.holder)))
	if err != nil {
		return false
	}
	defer rows.Close()
	var n int64
	return rows.Next() && rows.Scan(&n) == nil && n > 0
}

// Lost reports whether the lease was lost (and why).
func (l *lease) Lost() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// release stops the heartbeat and frees the row (only if still ours).
func (l *lease) release() error {
	close(l.stop)
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := l.w.Exec(ctx, lockReleaseSQL(l.t, l.sync, l.holder))
	return err
}

// lockRowSQL inserts a sync's free lock row unless it exists. It is a
// MERGE, not INSERT … WHERE NOT EXISTS: warehouses that do not enforce
// primary keys (Snowflake) serialize MERGEs on a table, so two first runs
// starting together cannot both insert the row.
func lockRowSQL(t layout.Tables, sync string) string {
	table := t.Q(t.SyncLocks())
	return fmt.Sprintf(
		"INSERT INTO %s (sync, holder, run_id, acquired_at, expires_at) SELECT %s, NULL, NULL, NULL, NULL FROM (SELECT 1 AS one) o WHERE NOT EXISTS (SELECT 1 FROM %s WHERE sync = %s)",
		table, t.D.QuoteString(sync), table, t.D.QuoteString(sync))
}

// lockClaimSQL claims the lock row when free or expired (compare-and-set),
// and only when no copy of the row has a live holder.
func lockClaimSQL(t layout.Tables, sync, holder, runID string, ts time.Time, ttl time.Duration) string {
	d := t.D
	table := t.Q(t.SyncLocks())
	return fmt.Sprintf(
		"UPDATE %s SET holder = %s, run_id = %s, acquired_at = %s, expires_at = %s WHERE sync = %s AND (holder IS NULL OR expires_at < %s)"+
			" AND NOT EXISTS (SELECT 1 FROM %s AS live WHERE live.sync = %s AND live.holder IS NOT NULL AND live.expires_at >= %s)",
		table, d.QuoteString(holder), d.QuoteString(runID), d.TimestampLiteral(ts), d.TimestampLiteral(ts.Add(ttl)),
		d.QuoteString(sync), d.TimestampLiteral(ts), table, d.QuoteString(sync), d.TimestampLiteral(ts))
}

// lockHolderSQL reads who holds a sync's lock and until when.
func lockHolderSQL(t layout.Tables, sync string) string {
	return fmt.Sprintf("SELECT holder, expires_at FROM %s WHERE sync = %s", t.Q(t.SyncLocks()), t.D.QuoteString(sync))
}

// lockRenewSQL extends a held lock until the given time.
func lockRenewSQL(t layout.Tables, sync, holder string, until time.Time) string {
	d := t.D
	return fmt.Sprintf("UPDATE %s SET expires_at = %s WHERE sync = %s AND holder = %s",
		t.Q(t.SyncLocks()), d.TimestampLiteral(until), d.QuoteString(sync), d.QuoteString(holder))
}

// lockReleaseSQL frees a sync's lock row if holder still holds it.
func lockReleaseSQL(t layout.Tables, sync, holder string) string {
	d := t.D
	return fmt.Sprintf("UPDATE %s SET holder = NULL, expires_at = NULL WHERE sync = %s AND holder = %s",
		t.Q(t.SyncLocks()), d.QuoteString(sync), d.QuoteString(holder))
}
