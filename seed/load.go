package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// loadFile streams one checked file into table (qualified and quoted).
func loadFile(ctx context.Context, w warehouse.Warehouse, table string, p plan, opts Options) (int64, error) {
	r, err := openCSV(p.path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if _, err := r.header(); err != nil {
		return 0, err
	}
	next := rowSource(r, p.cols)
	if bl, ok := w.(warehouse.BulkLoader); ok {
		n, err := bl.LoadRows(ctx, table, p.cols, next)
		if err != nil {
			return 0, fmt.Errorf("seed %s: %w", p.path, err)
		}
		return n, nil
	}
	n, err := insertRows(ctx, w, table, p.cols, next, opts.BatchSize)
	if err != nil {
		return n, fmt.Errorf("seed %s: %w", p.path, err)
	}
	return n, nil
}

// rowSource converts the records of r into typed rows, then returns io.EOF.
func rowSource(r *reader, cols []warehouse.Column) func() ([]any, error) {
	return func() ([]any, error) {
		rec, err := r.read()
		if err != nil {
			return nil, err
		}
		row := make([]any, len(rec))
		for i, cell := range rec {
			v, ok := convert(cell, cols[i].Type)
			if !ok {
				return nil, r.errorf(i, "value %q is not a %s (the file changed while loading?)", cell, cols[i].Type)
			}
			row[i] = v
		}
		return row, nil
	}
}

// insertRows recreates table and fills it with batched INSERT statements.
// Unlike a BulkLoader it is not atomic: a failure leaves the rows so far.
func insertRows(ctx context.Context, w warehouse.Warehouse, table string, cols []warehouse.Column, next func() ([]any, error), batch int) (int64, error) {
	d := w.Dialect()
	if batch <= 0 {
		batch = 500
	}
	defs := make([]string, len(cols))
	names := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = d.QuoteIdent(c.Name) + " " + d.TypeName(c.Type)
		names[i] = d.QuoteIdent(c.Name)
	}
	for _, s := range []string{d.DropTable(table), "CREATE TABLE " + table + " (" + strings.Join(defs, ", ") + ")"} {
		if _, err := w.Exec(ctx, s); err != nil {
			return 0, err
		}
	}
	prefix := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") VALUES "
	var n int64
	var tuples []string
	flush := func() error {
		if len(tuples) == 0 {
			return nil
		}
		_, err := w.Exec(ctx, prefix+strings.Join(tuples, ", "))
		tuples = tuples[:0]
		return err
	}
	for {
		row, err := next()
		if errors.Is(err, io.EOF) {
			return n, flush()
		}
		if err != nil {
			return n, err
		}
		lits := make([]string, len(row))
		for i, v := range row {
			lits[i] = literal(d, v, cols[i].Type)
		}
		tuples = append(tuples, "("+strings.Join(lits, ", ")+")")
		n++
		if len(tuples) == batch {
			if err := flush(); err != nil {
				return n - int64(batch), err
			}
		}
	}
}

// literal renders a typed value through the dialect. Numbers go through a
// cast from text so the engine parses them exactly as strconv printed them.
func literal(d warehouse.Dialect, v any, cdpType string) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return d.Cast(strconv.FormatInt(x, 10), models.TypeInteger)
	case float64:
		return d.Cast(d.QuoteString(strconv.FormatFloat(x, 'g', -1, 64)), models.TypeNumber)
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case time.Time:
		if cdpType == models.TypeDate {
			return d.Cast(d.QuoteString(x.Format("2006-01-02")), models.TypeDate)
		}
		return d.TimestampLiteral(x)
	case string:
		return d.QuoteString(x)
	}
	return d.QuoteString(fmt.Sprint(v))
}
