package engine

import (
	"context"
	"fmt"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/privacy"
	"github.com/cdpkit/cdp/sync/destination"
)

// Erasures: a key listed in cdp_erasure_targets (privacy.Apply, for a
// forgotten person) is an erase in the diff, in every mode, and never an
// add. The destination receives its erase primitive, or a removal when it
// has none (the ledger then says "removed"); once confirmed, the state
// row, the key's rejections and the ledger's copy of the key are deleted
// and the ledger keeps the vendor's receipt.

// erasedCTE is the WITH entry listing the sync's pending erasure keys.
func erasedCTE(t layout.Tables, s *models.Sync) string {
	return fmt.Sprintf(`, erased AS (
  SELECT DISTINCT key AS k FROM %s WHERE sync = %s AND status = %s
)`, t.Q(t.ErasureTargets()), t.D.QuoteString(s.Name), t.D.QuoteString(privacy.TargetPending))
}

// eraseAs is the operation the sync's destination receives for an
// erasure: OpErase, else OpRemove, else "" (neither: the ledger says
// "manual").
func (e *Engine) eraseAs(s *models.Sync) destination.Op {
	cfg, err := e.destination(s)
	if err != nil {
		return destination.OpErase
	}
	spec, err := destination.Lookup(cfg.Type)
	if err != nil {
		return destination.OpErase
	}
	switch {
	case spec.Supports(destination.OpErase):
		return destination.OpErase
	case spec.Supports(destination.OpRemove):
		return destination.OpRemove
	}
	return ""
}

// deliverable maps a diff record to what the destination receives.
func (e *Engine) deliverable(s *models.Sync, as destination.Op, r destination.Record) destination.Record {
	if r.Op == destination.OpErase && as != "" {
		r.Op = as
	}
	return r
}

// erasingKeys reads the sync's pending erasure keys (few: one per
// forgotten person the sync had delivered).
func (e *Engine) erasingKeys(ctx context.Context, s *models.Sync) (map[string]bool, error) {
	t := e.Tables
	rows, err := e.W.Query(ctx, fmt.Sprintf("SELECT DISTINCT key FROM %s WHERE sync = %s AND status = %s AND key IS NOT NULL",
		t.Q(t.ErasureTargets()), t.D.QuoteString(s.Name), t.D.QuoteString(privacy.TargetPending)))
	if err != nil {
		return nil, fmt.Errorf("sync %s: read the erasure targets: %w", s.Name, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out[k] = true
	}
	return out, rows.Err()
}

// markManual closes the pending erasures of a sync whose destination can
// neither erase nor remove: the ledger says so, and the state rows (the
// CDP's copy of the person) are deleted.
func (e *Engine) markManual(ctx context.Context, s *models.Sync) error {
	t, d := e.Tables, e.Tables.D
	sync := d.QuoteString(s.Name)
	pending := fmt.Sprintf("SELECT key FROM %s WHERE sync = %s AND status = %s", t.Q(t.ErasureTargets()), sync,
		d.QuoteString(privacy.TargetPending))
	_, err := e.W.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE sync = %s AND key IN (%s)", t.Q(t.SyncState()), sync, pending))
	if err == nil {
		_, err = e.W.Exec(ctx, fmt.Sprintf("UPDATE %s SET status = %s, error = %s, key = NULL, confirmed_at = %s WHERE sync = %s AND status = %s",
			t.Q(t.ErasureTargets()), d.QuoteString(privacy.TargetManual),
			d.QuoteString("destination "+s.Destination+" has no erase or remove operation: delete the person there by hand"),
			d.TimestampLiteral(e.now()), sync, d.QuoteString(privacy.TargetPending)))
	}
	if err != nil {
		return fmt.Errorf("sync %s: close the erasures: %w", s.Name, err)
	}
	return nil
}

// erasureSQL records the outcome of an erasure of key (a quoted literal) in
// the ledger: confirmed (status erased or removed, with the receipt; the
// key and its rejections are deleted), refused for good, or failed to be
// retried (the error only).
func erasureSQL(e *Engine, sync, key string, o outcome) []string {
	t, d := e.Tables, e.Tables.D
	targets, now := t.Q(t.ErasureTargets()), d.TimestampLiteral(e.now())
	where := fmt.Sprintf(" WHERE sync = %s AND key = %s AND status = %s", sync, key, d.QuoteString(privacy.TargetPending))
	switch {
	case o.err == "":
		status := privacy.TargetErased
		if o.op == destination.OpRemove {
			status = privacy.TargetRemoved
		}
		receipt := o.receipt
		if receipt == "" {
			receipt = "confirmed"
		}
		return []string{
			fmt.Sprintf("UPDATE %s SET status = %s, receipt = %s, error = NULL, confirmed_at = %s, key = NULL%s",
				targets, d.QuoteString(status), d.QuoteString(receipt), now, where),
			fmt.Sprintf("DELETE FROM %s WHERE sync = %s AND key = %s", t.Q(t.SyncRejections()), sync, key),
		}
	case o.permanent:
		return []string{fmt.Sprintf("UPDATE %s SET status = %s, error = %s, confirmed_at = %s%s",
			targets, d.QuoteString(privacy.TargetRefused), d.QuoteString(truncate(o.err, 2000)), now, where)}
	}
	return []string{fmt.Sprintf("UPDATE %s SET error = %s%s", targets, d.QuoteString(truncate(o.err, 2000)), where)}
}

// outcome is what erasureSQL needs of a delivery outcome.
type outcome struct {
	op        destination.Op
	receipt   string
	err       string
	permanent bool
}
