package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// LoadRows drops and recreates table (a qualified, quoted name as returned by
// Dialect.Table) with cols, then streams every row from next with COPY …
// FROM STDIN in binary format. Everything happens in one transaction: on any
// error the previous table, if there was one, is left untouched.
func (w *Warehouse) LoadRows(ctx context.Context, table string, cols []warehouse.Column, next func() ([]any, error)) (int64, error) {
	n, err := w.loadRows(ctx, table, cols, next)
	if err != nil {
		return 0, fmt.Errorf("postgres: load %s: %w", table, err)
	}
	return n, nil
}

func (w *Warehouse) loadRows(ctx context.Context, table string, cols []warehouse.Column, next func() ([]any, error)) (int64, error) {
	if len(cols) == 0 {
		return 0, errors.New("no columns")
	}
	ident, err := warehouse.SplitDottedName(table, foldASCII)
	if err != nil {
		return 0, err
	}
	d := Dialect{}
	defs := make([]string, len(cols))
	names := make([]string, len(cols))
	for i, c := range cols {
		if !knownType(c.Type) {
			return 0, fmt.Errorf("column %s: unknown type %q", c.Name, c.Type)
		}
		defs[i] = d.QuoteIdent(c.Name) + " " + d.TypeName(c.Type)
		names[i] = c.Name
	}
	c, err := w.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer w.release(c)
	tx, err := c.Begin(ctx)
	if err != nil {
		return 0, err
	}
	n, err := copyInTx(ctx, tx, table, ident, defs, names, cols, next)
	if err != nil {
		return 0, errors.Join(err, tx.Rollback(context.WithoutCancel(ctx)))
	}
	return n, tx.Commit(ctx)
}

func copyInTx(ctx context.Context, tx pgx.Tx, table string, ident, defs, names []string, cols []warehouse.Column, next func() ([]any, error)) (int64, error) {
	if _, err := tx.Exec(ctx, Dialect{}.DropTable(table)+" CASCADE"); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE "+table+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return 0, err
	}
	var row int64
	var srcErr error // pgx flattens the source's error into text; keep it
	src := pgx.CopyFromFunc(func() ([]any, error) {
		vals, err := next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			srcErr = err
			return nil, err
		}
		row++
		if len(vals) != len(cols) {
			srcErr = fmt.Errorf("row %d has %d values for %d columns", row, len(vals), len(cols))
			return nil, srcErr
		}
		out := make([]any, len(vals))
		for i, v := range vals {
			cv, err := warehouse.CheckValue(v, cols[i].Type)
			if err != nil {
				srcErr = fmt.Errorf("row %d, column %s: %w", row, cols[i].Name, err)
				return nil, srcErr
			}
			out[i] = cv
		}
		return out, nil
	})
	n, err := tx.CopyFrom(ctx, pgx.Identifier(ident), names, src)
	if err != nil && srcErr != nil {
		return n, srcErr
	}
	return n, err
}

func knownType(t string) bool {
	switch t {
	case models.TypeString, models.TypeInteger, models.TypeNumber,
		models.TypeBoolean, models.TypeTimestamp, models.TypeDate:
		return true
	}
	return false
}
