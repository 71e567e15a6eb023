package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// LoadRows drops and recreates table (a qualified, quoted name as returned by
// Dialect.Table) with cols, then appends every row from next through DuckDB's
// appender. Everything happens in one transaction: on any error the previous
// table, if there was one, is left untouched.
func (w *Warehouse) LoadRows(ctx context.Context, table string, cols []warehouse.Column, next func() ([]any, error)) (int64, error) {
	if len(cols) == 0 {
		return 0, fmt.Errorf("duckdb: load %s: no columns", table)
	}
	types, err := typeInfos(cols)
	if err != nil {
		return 0, fmt.Errorf("duckdb: load %s: %w", table, err)
	}
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return 0, err
	}
	n, err := loadInTx(ctx, conn, table, cols, types, next)
	if err != nil {
		_, rbErr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		if rbErr != nil {
			// Never hand a connection stuck in a transaction back to the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		return 0, errors.Join(fmt.Errorf("duckdb: load %s: %w", table, err), rbErr)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, fmt.Errorf("duckdb: load %s: commit: %w", table, err)
	}
	return n, nil
}

func loadInTx(ctx context.Context, conn *sql.Conn, table string, cols []warehouse.Column, types []duckdb.TypeInfo, next func() ([]any, error)) (int64, error) {
	d := Dialect{}
	defs := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = d.QuoteIdent(c.Name) + " " + d.TypeName(c.Type)
	}
	if _, err := conn.ExecContext(ctx, d.DropTable(table)); err != nil {
		return 0, err
	}
	if _, err := conn.ExecContext(ctx, "CREATE TABLE "+table+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return 0, err
	}
	var n int64
	err := conn.Raw(func(dc any) error {
		drv, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		app, err := duckdb.NewQueryAppender(drv, "INSERT INTO "+table+" SELECT * FROM appended_data", "", types, nil)
		if err != nil {
			return err
		}
		n, err = appendAll(ctx, app, cols, next)
		return errors.Join(err, app.CloseWithCancel(ctx))
	})
	return n, err
}

func appendAll(ctx context.Context, app *duckdb.Appender, cols []warehouse.Column, next func() ([]any, error)) (int64, error) {
	var n int64
	vals := make([]driver.Value, len(cols))
	for {
		row, err := next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if len(row) != len(cols) {
			return n, fmt.Errorf("row %d has %d values for %d columns", n+1, len(row), len(cols))
		}
		for i, v := range row {
			cv, err := warehouse.CheckValue(v, cols[i].Type)
			if err != nil {
				return n, fmt.Errorf("row %d, column %s: %w", n+1, cols[i].Name, err)
			}
			vals[i] = cv
		}
		if err := app.AppendRow(vals...); err != nil {
			return n, fmt.Errorf("row %d: %w", n+1, err)
		}
		n++
		if n%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
	}
}

func typeInfos(cols []warehouse.Column) ([]duckdb.TypeInfo, error) {
	out := make([]duckdb.TypeInfo, len(cols))
	for i, c := range cols {
		t := duckdb.TYPE_VARCHAR
		switch c.Type {
		case models.TypeString:
		case models.TypeInteger:
			t = duckdb.TYPE_BIGINT
		case models.TypeNumber:
			t = duckdb.TYPE_DOUBLE
		case models.TypeBoolean:
			t = duckdb.TYPE_BOOLEAN
		case models.TypeTimestamp:
			t = duckdb.TYPE_TIMESTAMP
		case models.TypeDate:
			t = duckdb.TYPE_DATE
		default:
			return nil, fmt.Errorf("column %s: unknown type %q", c.Name, c.Type)
		}
		info, err := duckdb.NewTypeInfo(t)
		if err != nil {
			return nil, err
		}
		out[i] = info
	}
	return out, nil
}
