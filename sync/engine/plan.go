package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/hashing"
	"github.com/cdpkit/cdp/warehouse"
)

// Engine runs the syncs of one project against one warehouse.
type Engine struct {
	W       warehouse.Warehouse
	Project *models.Project
	Tables  layout.Tables
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger gets the destinations' request logs at debug level (nil: none).
	Logger *slog.Logger
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// Counts are the sizes of a plan.
type Counts struct {
	Add    int64 `json:"add"`
	Change int64 `json:"change"`
	Remove int64 `json:"remove"`
	// Unsubscribe: delivered members who withdrew a required consent, sent
	// the destination's unsubscribe (`on_withdrawal: unsubscribe`).
	Unsubscribe int64 `json:"unsubscribe"`
	// Erase: delivered keys of forgotten people (`cdp forget`), sent the
	// destination's erase primitive (in every mode; not counted against
	// max_removals).
	Erase int64 `json:"erase"`
	// Skipped: members never delivered (holdout, suppressed, no consent,
	// null key, duplicate key) and diff rows the mode does not deliver (e.g.
	// removals in upsert mode).
	Skipped int64 `json:"skipped"`
	Holdout int64 `json:"holdout"`
	// Suppressed: members on a suppression list (`suppress:`).
	Suppressed int64 `json:"suppressed"`
	// NoConsent: members without every purpose of requires_consent granted.
	NoConsent      int64 `json:"no_consent"`
	NullKey        int64 `json:"null_key"`
	DuplicateKey   int64 `json:"duplicate_key"`
	NotInMode      int64 `json:"not_in_mode"`
	Delivered      int64 `json:"delivered"` // records in cdp_sync_state before the run
	MaxRemovals    int64 `json:"max_removals"`
	RemovalBlocked bool  `json:"removal_blocked"`
}

// Total is the number of records the plan delivers.
func (c Counts) Total() int64 { return c.Add + c.Change + c.Remove + c.Unsubscribe + c.Erase }

// Sample is one planned record.
type Sample struct {
	Op     destination.Op `json:"op"`
	Key    string         `json:"key"`
	Fields map[string]any `json:"fields"`
}

// Plan is what a sync run would do.
type Plan struct {
	Sync        string   `json:"sync"`
	Mode        string   `json:"mode"`
	Destination string   `json:"destination"`
	Counts      Counts   `json:"counts"`
	Samples     []Sample `json:"samples"`
}

// prepare builds the diff table and counts it; the table is left for the
// caller, which has created the state tables (ensureState).
func (e *Engine) prepare(ctx context.Context, s *models.Sync, table string, full bool) (Counts, error) {
	var c Counts
	t, d := e.Tables, e.Tables.D

	for _, f := range s.Fields {
		if f.Hash != "" && hashing.Lookup(f.Hash) == nil {
			return c, fmt.Errorf("sync %s: field %s: unknown hash profile %q", s.Name, f.Field, f.Hash)
		}
	}
	for _, q := range warehouse.CreateScratchTableAs(d, t.Q(table), diffSQL(t, e.Project, s, full)) {
		if _, err := e.W.Exec(ctx, q); err != nil {
			return c, fmt.Errorf("sync %s: diff: %w", s.Name, err)
		}
	}
	rows, err := e.W.Query(ctx, countsSQL(t, table))
	if err != nil {
		return c, err
	}
	var add, change, remove, unsub, erase int64
	if rows.Next() {
		err = rows.Scan(&add, &change, &remove, &unsub, &erase)
	}
	rows.Close()
	if err != nil {
		return c, err
	}
	in := map[destination.Op]bool{}
	for _, op := range opsOf(s) {
		in[op] = true
	}
	for op, n := range map[destination.Op]int64{destination.OpAdd: add, destination.OpChange: change, destination.OpRemove: remove, destination.OpUnsubscribe: unsub, destination.OpErase: erase} {
		if !in[op] {
			c.NotInMode += n
			continue
		}
		switch op {
		case destination.OpAdd:
			c.Add = n
		case destination.OpChange:
			c.Change = n
		case destination.OpRemove:
			c.Remove = n
		case destination.OpUnsubscribe:
			c.Unsubscribe = n
		case destination.OpErase:
			c.Erase = n
		}
	}
	rows, err = e.W.Query(ctx, skippedSQL(t, e.Project, s))
	if err != nil {
		return c, err
	}
	if rows.Next() {
		err = rows.Scan(&c.Holdout, &c.Suppressed, &c.NoConsent, &c.NullKey, &c.DuplicateKey)
	}
	rows.Close()
	if err != nil {
		return c, err
	}
	c.Skipped = c.Holdout + c.Suppressed + c.NoConsent + c.NullKey + c.DuplicateKey + c.NotInMode
	if c.Delivered, err = runner.Count(ctx, e.W, deliveredSQL(t, s.Name)); err != nil {
		return c, err
	}
	if c.MaxRemovals, err = removalLimit(s.MaxRemovals, c.Delivered); err != nil {
		return c, err
	}
	// an unsubscribe ends a delivery like a removal: a consent source that
	// suddenly reads denied for everyone trips the same guard
	c.RemovalBlocked = c.MaxRemovals >= 0 && c.Remove+c.Unsubscribe > c.MaxRemovals
	return c, nil
}

// PlanOptions tune Plan.
type PlanOptions struct {
	Full    bool
	Samples int // per operation (default 3)
}

// Plan computes what a run would deliver without sending or committing.
func (e *Engine) Plan(ctx context.Context, s *models.Sync, o PlanOptions) (*Plan, error) {
	if o.Samples == 0 {
		o.Samples = 3
	}
	if err := ensureState(ctx, e.W, e.Tables); err != nil {
		return nil, err
	}
	table := e.Tables.SyncDiff(s.Name) + "_plan"
	defer e.W.Exec(context.WithoutCancel(ctx), e.Tables.D.DropTable(e.Tables.Q(table)))
	c, err := e.prepare(ctx, s, table, o.Full)
	if err != nil {
		return nil, err
	}
	p := &Plan{Sync: s.Name, Mode: s.Mode, Destination: s.Destination, Counts: c, Samples: []Sample{}}
	perOp := map[destination.Op]int{}
	err = e.stream(ctx, s, table, opsOf(s), func(r destination.Record, _ string) (bool, error) {
		if perOp[r.Op] < o.Samples {
			perOp[r.Op]++
			p.Samples = append(p.Samples, Sample{Op: r.Op, Key: r.Key, Fields: r.Fields})
		}
		return len(p.Samples) < o.Samples*len(opsOf(s)), nil
	})
	return p, err
}

// countsSQL counts the diff table's rows per operation.
func countsSQL(t layout.Tables, table string) string {
	return fmt.Sprintf(
		"SELECT COUNT(CASE WHEN op = 'add' THEN 1 END), COUNT(CASE WHEN op = 'change' THEN 1 END), COUNT(CASE WHEN op = 'remove' THEN 1 END), "+
			"COUNT(CASE WHEN op = 'unsubscribe' THEN 1 END), COUNT(CASE WHEN op = 'erase' THEN 1 END) FROM %s",
		t.Q(table))
}

// deliveredSQL counts the keys a sync has delivered.
func deliveredSQL(t layout.Tables, sync string) string {
	return fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE sync = %s AND fields_hash <> %s", t.Q(t.SyncState()),
		t.D.QuoteString(sync), t.D.QuoteString(unconfirmed))
}
