package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/privacy"
	"github.com/cdpkit/cdp/warehouse"
)

// column is a name and CDP type for DDL.
type column struct{ name, typ string }

func createTable(d warehouse.Dialect, table string, cols []column, primaryKey ...string) string {
	parts := make([]string, 0, len(cols)+1)
	for _, c := range cols {
		parts = append(parts, d.QuoteIdent(c.name)+" "+d.TypeName(c.typ))
	}
	if len(primaryKey) > 0 {
		q := make([]string, len(primaryKey))
		for i, k := range primaryKey {
			q[i] = d.QuoteIdent(k)
		}
		parts = append(parts, d.PrimaryKey(q))
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", table, strings.Join(parts, ", "))
}

// stateDDL creates every table of the sync engine when missing.
func stateDDL(t layout.Tables) []string {
	d := t.D
	s, ts, n := models.TypeString, models.TypeTimestamp, models.TypeInteger
	return []string{
		d.CreateSchema(t.Schema),
		createTable(d, t.Q(t.SyncState()), []column{
			{"sync", s}, {"key", s}, {"fields_hash", s}, {"fields", models.TypeJSON}, {"delivered_at", ts}, {"remote_id", s},
		}, "sync", "key"),
		createTable(d, t.Q(t.SyncPending()), []column{
			{"sync", s}, {"job_id", s}, {"seq", n}, {"key", s}, {"operation", s}, {"fields_hash", s}, {"fields", s},
			{"remote_id", s}, {"run_id", s}, {"submitted_at", ts},
		}),
		createTable(d, t.Q(t.SyncRuns()), []column{
			{"run_id", s}, {"sync", s}, {"started_at", ts}, {"finished_at", ts}, {"status", s},
			{"added", n}, {"changed", n}, {"removed", n}, {"failed", n}, {"skipped", n}, {"error", s},
			{"mode", s}, {"destination", s}, {"requests", n}, {"retries", n}, {"throttled", n}, {"match_report", s},
		}),
		createTable(d, t.Q(t.SyncRejections()), []column{
			{"run_id", s}, {"sync", s}, {"key", s}, {"operation", s}, {"error", s},
			{"retryable", models.TypeBoolean}, {"rejected_at", ts},
		}),
		createTable(d, t.Q(t.SyncLocks()), []column{
			{"sync", s}, {"holder", s}, {"run_id", s}, {"acquired_at", ts}, {"expires_at", ts},
		}, "sync"),
	}
}

// ensureState creates the engine's tables, and adds the columns that
// later versions brought to a state table created before them.
func ensureState(ctx context.Context, w warehouse.Warehouse, t layout.Tables) error {
	for _, q := range stateDDL(t) {
		if _, err := w.Exec(ctx, q); err != nil {
			return fmt.Errorf("create sync state tables: %w", err)
		}
	}
	if err := privacy.Ensure(ctx, w, t); err != nil {
		return err
	}
	for _, c := range addedColumns(t) {
		if err := addColumn(ctx, w, t.D, c.table, c.name, c.typ); err != nil {
			return err
		}
	}
	return nil
}

// addedColumn is a column a later version added to a state table.
type addedColumn struct{ table, name, typ string }

// addedColumns lists them, oldest first: state tables created before
// them get them on the next run (plain ALTER TABLE … ADD COLUMN, which
// every dialect takes; NULL in existing rows).
func addedColumns(t layout.Tables) []addedColumn {
	return []addedColumn{
		{t.Q(t.SyncState()), "remote_id", models.TypeString},
		{t.Q(t.SyncRuns()), "match_report", models.TypeString},
	}
}

// addColumn adds a column unless a probe finds it.
func addColumn(ctx context.Context, w warehouse.Warehouse, d warehouse.Dialect, table, name, typ string) error {
	probe := fmt.Sprintf("SELECT %s FROM %s WHERE 1 = 0", d.QuoteIdent(name), table)
	if rows, err := w.Query(ctx, probe); err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
		if err == nil {
			return nil
		}
	}
	if _, err := w.Exec(ctx, addColumnSQL(d, table, name, typ)); err != nil {
		return fmt.Errorf("add %s to %s: %w", name, table, err)
	}
	return nil
}

// addColumnSQL adds one nullable column.
func addColumnSQL(d warehouse.Dialect, table, name, typ string) string {
	return fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", table, d.QuoteIdent(name), d.TypeName(typ))
}
