package bigquery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// maxInsertBytes bounds the text of one INSERT … VALUES statement, well
// under BigQuery's 1 MB limit on query text.
const maxInsertBytes = 400 << 10

// LoadRows loads every row from next into table (a qualified, quoted name as
// returned by Dialect.Table) with cols. Rows go to a staging table first, in
// INSERT … VALUES statements of at most 400 kB; only when every row is in
// does the staging table replace table (DROP TABLE + CREATE TABLE AS), so an
// error on the way leaves the previous table untouched.
func (w *Warehouse) LoadRows(ctx context.Context, table string, cols []warehouse.Column, next func() ([]any, error)) (int64, error) {
	n, err := w.loadRows(ctx, table, cols, next)
	if err != nil {
		return 0, fmt.Errorf("bigquery: load %s: %w", table, err)
	}
	return n, nil
}

func (w *Warehouse) loadRows(ctx context.Context, table string, cols []warehouse.Column, next func() ([]any, error)) (int64, error) {
	if len(cols) == 0 {
		return 0, errors.New("no columns")
	}
	d := Dialect{}
	defs := make([]string, len(cols))
	names := make([]string, len(cols))
	for i, c := range cols {
		if !knownType(c.Type) {
			return 0, fmt.Errorf("column %s: unknown type %q", c.Name, c.Type)
		}
		defs[i] = d.QuoteIdent(c.Name) + " " + d.TypeName(c.Type)
		names[i] = d.QuoteIdent(c.Name)
	}
	stage := stagingName(table)
	if _, err := w.Exec(ctx, "CREATE TABLE "+stage+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return 0, err
	}
	defer w.Exec(context.WithoutCancel(ctx), d.DropTable(stage))
	head := "INSERT INTO " + stage + " (" + strings.Join(names, ", ") + ") VALUES "
	var b strings.Builder
	var n int64
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		_, err := w.Exec(ctx, head+b.String())
		b.Reset()
		return err
	}
	for {
		vals, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		n++
		tuple, err := rowLiteral(n, vals, cols)
		if err != nil {
			return 0, err
		}
		if b.Len() > 0 && b.Len()+len(tuple) > maxInsertBytes {
			if err := flush(); err != nil {
				return 0, err
			}
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	if err := flush(); err != nil {
		return 0, err
	}
	stmts := d.CreateTableAs(table, "SELECT * FROM "+stage)
	for _, s := range stmts {
		if _, err := w.Exec(ctx, s); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// stagingName is a unique table beside table: `ds`.`t` becomes
// `ds`.`_cdp_load_<hex>`.
func stagingName(table string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := Dialect{}.QuoteIdent("_cdp_load_" + hex.EncodeToString(b))
	if i := strings.LastIndex(table, "`.`"); i >= 0 {
		return table[:i+2] + name
	}
	return name
}

// rowLiteral renders row number n as a ( … ) tuple of literals.
func rowLiteral(n int64, vals []any, cols []warehouse.Column) (string, error) {
	if len(vals) != len(cols) {
		return "", fmt.Errorf("row %d has %d values for %d columns", n, len(vals), len(cols))
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		cv, err := warehouse.CheckValue(v, cols[i].Type)
		if err != nil {
			return "", fmt.Errorf("row %d, column %s: %w", n, cols[i].Name, err)
		}
		parts[i] = literal(cv, cols[i].Type)
	}
	return "(" + strings.Join(parts, ", ") + ")", nil
}

// literal renders a checked value of a CDP type.
func literal(v any, cdpType string) string {
	d := Dialect{}
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return floatLiteral(x)
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case time.Time:
		if cdpType == models.TypeDate {
			return "DATE '" + x.Format("2006-01-02") + "'"
		}
		return d.TimestampLiteral(x)
	case string:
		return d.QuoteString(x)
	}
	return d.QuoteString(fmt.Sprint(v))
}

// floatLiteral renders a FLOAT64 exactly: shortest round-trip digits, and
// IEEE_DIVIDE(±1|0, 0) for the special values (the emulator cannot cast
// 'inf' to FLOAT64).
func floatLiteral(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "IEEE_DIVIDE(1, 0)"
	case math.IsInf(f, -1):
		return "IEEE_DIVIDE(-1, 0)"
	case math.IsNaN(f):
		return "IEEE_DIVIDE(0, 0)"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

func knownType(t string) bool {
	switch t {
	case models.TypeString, models.TypeInteger, models.TypeNumber,
		models.TypeBoolean, models.TypeTimestamp, models.TypeDate:
		return true
	}
	return false
}
