package bigquery

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/api/iterator"

	"github.com/cdpkit/cdp/warehouse"
)

// Rows is the result of Warehouse.Query. Scan follows database/sql: it
// converts between Go types the same way, fills sql.Scanner destinations,
// refuses NULL for non-pointer, non-Scanner destinations, and stores the
// natural Go value in *any: int64, float64 (also for NUMERIC), bool, string,
// []byte, time.Time (TIMESTAMP in UTC; DATE at midnight UTC) or nil.
type Rows struct {
	it      *bigquery.RowIterator
	peeked  bool
	hasNext bool
	cur     []bigquery.Value
	err     error
}

// peek reads the first row so that the schema is known and errors surface
// in Query.
func (r *Rows) peek() error {
	r.peeked = true
	r.advance()
	return r.err
}

func (r *Rows) advance() {
	r.cur = nil
	err := r.it.Next(&r.cur)
	switch {
	case errors.Is(err, iterator.Done):
		r.hasNext = false
	case err != nil:
		r.hasNext, r.err = false, err
	default:
		r.hasNext = true
	}
}

// Columns returns the column names in select order.
func (r *Rows) Columns() ([]string, error) {
	out := make([]string, len(r.it.Schema))
	for i, f := range r.it.Schema {
		out[i] = f.Name
	}
	return out, nil
}

// Next advances to the next row.
func (r *Rows) Next() bool {
	if r.peeked {
		r.peeked = false
	} else if r.hasNext {
		r.advance()
	}
	return r.hasNext
}

// Scan copies the current row into dest, one destination per column.
func (r *Rows) Scan(dest ...any) error {
	if len(dest) != len(r.cur) {
		return fmt.Errorf("bigquery: expected %d destination arguments in Scan, not %d", len(r.cur), len(dest))
	}
	for i, d := range dest {
		if err := warehouse.Assign(d, plain(r.cur[i])); err != nil {
			return fmt.Errorf("bigquery: Scan column %d (%s): %w", i, r.it.Schema[i].Name, err)
		}
	}
	return nil
}

// Err returns the error that ended iteration, if any.
func (r *Rows) Err() error { return r.err }

// Close releases the rows; it is safe to call twice.
func (r *Rows) Close() error { return nil }

// plain converts a client value to a database/sql style value.
func plain(v bigquery.Value) any {
	switch x := v.(type) {
	case civil.Date:
		return time.Date(x.Year, x.Month, x.Day, 0, 0, 0, 0, time.UTC)
	case civil.DateTime:
		return time.Date(x.Date.Year, x.Date.Month, x.Date.Day, x.Time.Hour, x.Time.Minute, x.Time.Second, x.Time.Nanosecond, time.UTC)
	case time.Time:
		return x.UTC()
	case *big.Rat:
		f, _ := x.Float64()
		return f
	}
	return v
}
