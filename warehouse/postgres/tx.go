package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/cdpkit/cdp/warehouse"
)

var _ warehouse.Transactor = (*Warehouse)(nil)

// InTx runs fn's statements in one transaction on one connection.
func (w *Warehouse) InTx(ctx context.Context, fn func(exec warehouse.ExecFunc) error) error {
	return w.WithConn(ctx, func(c *pgx.Conn) error {
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		exec := func(ctx context.Context, stmt string) (int64, error) {
			if err := checkStmt(stmt); err != nil {
				return -1, err
			}
			tag, err := tx.Exec(ctx, stmt)
			if err != nil {
				return -1, err
			}
			return rowCount(tag), nil
		}
		if err := fn(exec); err != nil {
			return errors.Join(err, tx.Rollback(context.WithoutCancel(ctx)))
		}
		return tx.Commit(ctx)
	})
}
