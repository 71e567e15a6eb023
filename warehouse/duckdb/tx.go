package duckdb

import (
	"context"
	"errors"

	"github.com/cdpkit/cdp/warehouse"
)

var _ warehouse.Transactor = (*Warehouse)(nil)

// InTx runs fn's statements in one DuckDB transaction.
func (w *Warehouse) InTx(ctx context.Context, fn func(exec warehouse.ExecFunc) error) error {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	exec := func(ctx context.Context, stmt string) (int64, error) { return execOn(ctx, tx, stmt) }
	if err := fn(exec); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}
