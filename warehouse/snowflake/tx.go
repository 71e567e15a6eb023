package snowflake

import (
	"context"
	"errors"

	"github.com/cdpkit/cdp/warehouse"
)

var _ warehouse.Transactor = (*Warehouse)(nil)

// InTx runs fn's statements between BEGIN and COMMIT on one session, and
// ROLLBACK when fn fails. Snowflake commits an open transaction before any
// DDL statement (CREATE, DROP, ALTER) and runs the DDL on its own, so only
// DML (INSERT, UPDATE, DELETE, MERGE) is atomic as a group; see
// docs/snowflake.md.
func (w *Warehouse) InTx(ctx context.Context, fn func(exec warehouse.ExecFunc) error) error {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return err
	}
	exec := func(ctx context.Context, stmt string) (int64, error) { return execOn(ctx, conn, stmt) }
	if err := fn(exec); err != nil {
		_, rbErr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return errors.Join(err, rbErr)
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}
