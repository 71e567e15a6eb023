package postgres

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cdpkit/cdp/warehouse"
)

// Rows is the result of Warehouse.Query. Scan follows database/sql: it
// converts between Go types the same way (*string from a bigint, *int64 from
// text digits, …), fills sql.Scanner destinations, refuses NULL for non-pointer,
// non-Scanner destinations, and stores the natural Go value in *any (int64,
// float64, bool, string, []byte, time.Time or nil; other PostgreSQL types as
// their text form). Close returns the connection to the pool.
type Rows struct {
	rows    pgx.Rows
	release func()
	once    sync.Once

	peeked  bool // rows.Next was called by peek and not yet reported
	hasNext bool
	vals    []any
}

// peek advances to the first row so that server errors surface in Query.
func (r *Rows) peek() error {
	r.hasNext = r.rows.Next()
	r.peeked = true
	if !r.hasNext {
		if err := r.rows.Err(); err != nil {
			return errors.Join(err, r.Close())
		}
	}
	return nil
}

// Columns returns the column names in select order.
func (r *Rows) Columns() ([]string, error) {
	fds := r.rows.FieldDescriptions()
	out := make([]string, len(fds))
	for i, fd := range fds {
		out[i] = fd.Name
	}
	return out, nil
}

// Next advances to the next row; it closes the rows after the last one.
func (r *Rows) Next() bool {
	r.vals = nil
	if r.peeked {
		r.peeked = false
	} else {
		r.hasNext = r.rows.Next()
	}
	if !r.hasNext {
		r.rows.Close()
		r.done()
	}
	return r.hasNext
}

// Scan copies the current row into dest, one destination per column.
func (r *Rows) Scan(dest ...any) error {
	if r.vals == nil {
		vals, err := r.values()
		if err != nil {
			return err
		}
		r.vals = vals
	}
	if len(dest) != len(r.vals) {
		return fmt.Errorf("postgres: expected %d destination arguments in Scan, not %d", len(r.vals), len(dest))
	}
	names, _ := r.Columns()
	for i, d := range dest {
		if err := warehouse.Assign(d, r.vals[i]); err != nil {
			return fmt.Errorf("postgres: Scan column %d (%s): %w", i, names[i], err)
		}
	}
	return nil
}

// values decodes the current row into database/sql style values.
func (r *Rows) values() ([]any, error) {
	decoded, err := r.rows.Values()
	if err != nil {
		return nil, err
	}
	raw := r.rows.RawValues()
	fds := r.rows.FieldDescriptions()
	out := make([]any, len(decoded))
	for i, v := range decoded {
		if v == nil {
			continue
		}
		switch fds[i].DataTypeOID {
		case pgtype.Int8OID, pgtype.Int4OID, pgtype.Int2OID,
			pgtype.Float8OID, pgtype.Float4OID, pgtype.BoolOID, pgtype.ByteaOID,
			pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID,
			pgtype.TimestampOID, pgtype.TimestamptzOID, pgtype.DateOID:
			out[i] = normalize(v)
		case pgtype.NumericOID:
			// numeric reaches Go as a float64, like DuckDB's DECIMAL through warehouse.Plain
			if f, err := strconv.ParseFloat(string(raw[i]), 64); err == nil {
				out[i] = f
			} else {
				out[i] = string(raw[i])
			}
		default:
			out[i] = string(raw[i])
		}
	}
	return out, nil
}

// normalize widens integers and floats to int64 and float64 and turns
// infinite dates into their text form.
func normalize(v any) any {
	switch x := v.(type) {
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case pgtype.InfinityModifier:
		return x.String()
	}
	return v
}

// Err returns the error that ended iteration, if any.
func (r *Rows) Err() error { return r.rows.Err() }

// Close releases the rows and their connection; it is safe to call twice.
func (r *Rows) Close() error {
	r.rows.Close()
	r.done()
	return nil
}

func (r *Rows) done() { r.once.Do(r.release) }
