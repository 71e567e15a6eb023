package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/warehouse"
)

// pending is what the committer needs of a record in flight.
type pending struct {
	hash     string
	fields   string // JSON of every mapped field, NULLs included
	remoteID string // the destination's ID known before the run
}

// committer writes confirmed records to cdp_sync_state and failures to
// cdp_sync_rejections, one transaction per batch, together with the run's
// counts so far (a killed run's history shows what it committed).
type committer struct {
	e     *Engine
	s     *models.Sync
	runID string
	// async: the destination's records may be in cdp_sync_pending, which
	// each commit clears for its keys.
	async bool

	// eraseAs is what the destination receives for an erasure (Engine.eraseAs),
	// and erasing the sync's pending erasure keys, whose outcomes go to the
	// erasure ledger.
	eraseAs destination.Op
	erasing map[string]bool

	mu       sync.Mutex
	inFlight map[string]pending
}

// remember keeps a record's hash and full fields until its batch commits.
func (c *committer) remember(r destination.Record, hash string) {
	b, _ := json.Marshal(r.Fields)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inFlight == nil {
		c.inFlight = map[string]pending{}
	}
	c.inFlight[r.Key] = pending{hash: hash, fields: string(b), remoteID: r.RemoteID}
}

// commit records one finished batch atomically.
func (c *committer) commit(ctx context.Context, outs []delivery.Outcome, res *Result) error {
	t, d := c.e.Tables, c.e.Tables.D
	now := d.TimestampLiteral(c.e.now())
	sync := d.QuoteString(c.s.Name)
	var del, rej, stale, keys []string
	var ins [][]string
	var added, changed, removed, unsubscribed, erased, failed, refused int64
	var ledger []string
	c.mu.Lock()
	for _, o := range outs {
		key := d.QuoteString(o.Record.Key)
		keys = append(keys, key)
		if c.erasing[o.Record.Key] && (o.Record.Op == destination.OpErase || o.Record.Op == destination.OpRemove) {
			oc := outcome{op: o.Record.Op, receipt: o.Receipt, permanent: o.Permanent}
			if o.Err != nil {
				oc.err = o.Err.Error()
			} else {
				erased++
			}
			ledger = append(ledger, erasureSQL(c.e, sync, key, oc)...)
		}
		p := c.inFlight[o.Record.Key]
		delete(c.inFlight, o.Record.Key)
		if o.Err != nil && o.Permanent {
			// refused for good while it stays as it is: recorded as handled
			// (the state holds its hash), so it is not sent again until its
			// fields change; a refused removal drops the state row
			failed++
			refused++
			rej = append(rej, rejectionRow(d, c.runID, sync, key, string(o.Record.Op), o.Err.Error(), false, now))
			del = append(del, key)
			if !removesState(o.Record.Op) {
				ins = append(ins, stateRow(d, sync, key, p.hash, p.fields, now, p.remoteID))
			}
			continue
		}
		if o.Err != nil {
			failed++
			rej = append(rej, rejectionRow(d, c.runID, sync, key, string(o.Record.Op), o.Err.Error(), o.Retryable, now))
			switch {
			case o.Record.Op == destination.OpChange:
				// the state keeps the last delivered fields, but its hash no
				// longer matches anything, so the next run sends the record
				// again even when its fields did not change (a --full run)
				stale = append(stale, key)
			case o.Record.Op == destination.OpAdd && c.s.Mode == "mirror":
				// an add that failed may still have reached the destination:
				// its batch failed without an answer (a timeout, a 5xx, a
				// job step), or an earlier attempt of the batch went
				// unanswered but was applied (a resubmitted bulk job whose
				// first copy ran) before the answer that refused it. The
				// record is tracked as unconfirmed, so the next run sends it
				// as an add again if it is still in the audience, and
				// removes it if it left
				del = append(del, key)
				ins = append(ins, stateRow(d, sync, key, unconfirmed, p.fields, now, p.remoteID))
			}
			continue
		}
		// only this run (holding the lock) writes this sync's state
		switch o.Record.Op {
		case destination.OpRemove, destination.OpUnsubscribe, destination.OpErase:
			// counted as removed in cdp_sync_runs (Result.Unsubscribed
			// tells unsubscribes apart)
			removed++
			if o.Record.Op == destination.OpUnsubscribe {
				unsubscribed++
			}
			del = append(del, key)
			continue
		case destination.OpAdd:
			// an add has no state row, or an unconfirmed one (an earlier
			// unanswered add), which this row replaces
			added++
			del = append(del, key)
		default:
			changed++
			del = append(del, key)
		}
		remote := o.RemoteID
		if remote == "" {
			remote = p.remoteID
		}
		ins = append(ins, stateRow(d, sync, key, p.hash, p.fields, now, remote))
	}
	c.mu.Unlock()
	stmts := append(commitSQL(t, sync, del, ins, rej), ledger...)
	for _, chunk := range chunks(stale, 500) {
		stmts = append(stmts, fmt.Sprintf("UPDATE %s SET fields_hash = '' WHERE sync = %s AND key IN (%s)",
			t.Q(t.SyncState()), sync, strings.Join(chunk, ", ")))
	}
	if c.async {
		for _, chunk := range chunks(keys, 500) {
			stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE sync = %s AND key IN (%s)",
				t.Q(t.SyncPending()), sync, strings.Join(chunk, ", ")))
		}
	}
	stmts = append(stmts, progressSQL(t, c.runID, sync, res.Added+added, res.Changed+changed, res.Removed+removed, res.Failed+failed))
	err := warehouse.InTx(ctx, c.e.W, func(exec warehouse.ExecFunc) error {
		for _, q := range stmts {
			if _, err := exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sync %s: commit batch: %w", c.s.Name, err)
	}
	res.Added += added
	res.Changed += changed
	res.Removed += removed
	res.Failed += failed
	res.Refused += refused
	res.Unsubscribed += unsubscribed
	res.Erased += erased
	return nil
}

// progressSQL writes a run's counts so far to its cdp_sync_runs row; sync
// is a quoted literal.
func progressSQL(t layout.Tables, runID, sync string, added, changed, removed, failed int64) string {
	return fmt.Sprintf("UPDATE %s SET added = %d, changed = %d, removed = %d, failed = %d WHERE run_id = %s AND sync = %s",
		t.Q(t.SyncRuns()), added, changed, removed, failed, t.D.QuoteString(runID), sync)
}

// stateCols are the columns of a state row, in stateRow's order.
var stateCols = []string{"sync", "key", "fields_hash", "fields", "delivered_at", "remote_id"}

// stateRow renders the values of one cdp_sync_state row, fields as JSON text
// (see commitSQL); sync, key and now are SQL.
func stateRow(d warehouse.Dialect, sync, key, hash, fields, now, remoteID string) []string {
	remote := "NULL"
	if remoteID != "" {
		remote = d.QuoteString(remoteID)
	}
	return []string{sync, key, d.QuoteString(hash), d.QuoteString(fields), now, remote}
}

// rejectionRow renders one cdp_sync_rejections tuple; sync, key and now are SQL.
func rejectionRow(d warehouse.Dialect, runID, sync, key, op, msg string, retryable bool, now string) string {
	return fmt.Sprintf("(%s, %s, %s, %s, %s, %s, %s)", d.QuoteString(runID), sync, key,
		d.QuoteString(op), d.QuoteString(truncate(msg, 2000)), boolLit(retryable), now)
}

// commitSQL deletes the state rows of keys (quoted literals) in del of the
// sync (a quoted literal), inserts the state rows ins (stateRow) and the
// rejection rows rej (rejectionRow), in chunks of 500.
func commitSQL(t layout.Tables, sync string, del []string, ins [][]string, rej []string) []string {
	var out []string
	for _, chunk := range chunks(del, 500) {
		out = append(out, fmt.Sprintf("DELETE FROM %s WHERE sync = %s AND key IN (%s)",
			t.Q(t.SyncState()), sync, strings.Join(chunk, ", ")))
	}
	for _, chunk := range chunks(ins, 500) {
		// the JSON text is parsed outside the literal rows: Snowflake refuses
		// PARSE_JSON (its Cast to JSON) inside a VALUES list
		out = append(out, fmt.Sprintf("INSERT INTO %s (sync, key, fields_hash, fields, delivered_at, remote_id)\n"+
			"SELECT v.sync, v.key, v.fields_hash, %s, v.delivered_at, %s\nFROM %s",
			t.Q(t.SyncState()), t.D.Cast("v.fields", models.TypeJSON), t.D.CastText("v.remote_id"),
			warehouse.LiteralRows(t.D, "v", stateCols, chunk)))
	}
	for _, chunk := range chunks(rej, 500) {
		out = append(out, fmt.Sprintf("INSERT INTO %s (run_id, sync, key, operation, error, retryable, rejected_at) VALUES %s",
			t.Q(t.SyncRejections()), strings.Join(chunk, ", ")))
	}
	return out
}

func chunks[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > 0 {
		k := min(n, len(s))
		out = append(out, s[:k])
		s = s[k:]
	}
	return out
}

func boolLit(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
