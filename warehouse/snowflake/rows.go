package snowflake

import (
	"database/sql"
	"strconv"

	"github.com/cdpkit/cdp/warehouse"
)

// Rows is the result of Warehouse.Query. It is *sql.Rows with two
// Snowflake-specific repairs: column names that Snowflake reports in upper
// case because they were folded (PROFILE_ID) come back in lower case
// (profile_id) as shared code wrote them, see UnfoldName; and NUMBER values
// the driver hands over as text (precision ≥ 19) scan into *any as int64 or
// float64, like the other warehouses.
type Rows struct {
	rows  *sql.Rows
	cols  []string
	fixed []bool // column i is a NUMBER (FIXED)
}

var _ warehouse.Rows = (*Rows)(nil)

func newRows(r *sql.Rows) (*Rows, error) {
	names, err := r.Columns()
	if err != nil {
		_ = r.Close()
		return nil, err
	}
	types, err := r.ColumnTypes()
	if err != nil {
		_ = r.Close()
		return nil, err
	}
	out := &Rows{rows: r, cols: make([]string, len(names)), fixed: make([]bool, len(names))}
	for i, n := range names {
		out.cols[i] = UnfoldName(n)
	}
	for i, t := range types {
		out.fixed[i] = t.DatabaseTypeName() == "FIXED"
	}
	return out, nil
}

// Columns returns the column names in select order (see UnfoldName).
func (r *Rows) Columns() ([]string, error) { return append([]string(nil), r.cols...), nil }

// Next advances to the next row.
func (r *Rows) Next() bool { return r.rows.Next() }

// Err reports the error that ended iteration, if any.
func (r *Rows) Err() error { return r.rows.Err() }

// Close releases the result set.
func (r *Rows) Close() error { return r.rows.Close() }

// Scan copies the current row into dest like (*sql.Rows).Scan, and turns
// NUMBER text scanned into *any into int64 or float64.
func (r *Rows) Scan(dest ...any) error {
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	for i, d := range dest {
		p, ok := d.(*any)
		if !ok || i >= len(r.fixed) || !r.fixed[i] {
			continue
		}
		*p = fixedValue(*p)
	}
	return nil
}

// fixedValue converts a NUMBER delivered as text to int64 (or float64 when
// it has a fraction or does not fit); other values pass through.
func fixedValue(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return v
}
