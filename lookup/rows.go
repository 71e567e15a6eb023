package lookup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/cdpkit/cdp/warehouse"
)

// Row is one row of a table or view, column name → value: nil, string,
// int64, float64, bool, time.Time in UTC (RFC 3339 in JSON), or a decoded
// JSON document (the sync tables' `fields`).
type Row map[string]any

// readRows runs a query and returns its rows with every value made plain
// (jsonValue), without the columns drop reports (nil: keep all).
func readRows(ctx context.Context, w warehouse.Warehouse, q string, drop func(col string) bool) ([]Row, error) {
	rows, err := w.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := []Row{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := Row{}
		for i, c := range cols {
			if drop == nil || !drop(c) {
				r[c] = jsonValue(vals[i])
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// jsonValue makes a scanned value plain (warehouse.Plain), keeps
// timestamps in UTC, and turns what JSON cannot hold (NaN, ±Inf, driver
// types without a plain counterpart) into text.
func jsonValue(v any) any {
	switch x := warehouse.Plain(v).(type) {
	case nil, string, int64, bool:
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprint(x)
		}
		return x
	case time.Time:
		return x.UTC()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	default:
		return fmt.Sprint(x)
	}
}

// decodeJSONColumn replaces a text column holding a JSON document by the
// document (numbers kept as written); other values stay as they are.
func decodeJSONColumn(rows []Row, col string) {
	for _, r := range rows {
		s, ok := r[col].(string)
		if !ok {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err == nil && !dec.More() {
			r[col] = doc
		}
	}
}

// sortRows orders rows by the given columns (see compareValues), then by
// their whole JSON encoding, so the order never depends on the warehouse.
func sortRows(rows []Row, keys ...string) {
	enc := make(map[int]string, len(rows))
	idx := make([]int, len(rows))
	for i, r := range rows {
		b, _ := json.Marshal(r)
		enc[i], idx[i] = string(b), i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ra, rb := rows[idx[a]], rows[idx[b]]
		for _, k := range keys {
			if c := compareValues(ra[k], rb[k]); c != 0 {
				return c < 0
			}
		}
		return enc[idx[a]] < enc[idx[b]]
	})
	sorted := make([]Row, len(rows))
	for i, j := range idx {
		sorted[i] = rows[j]
	}
	copy(rows, sorted)
}

// compareValues orders plain values: NULL first, then booleans (false
// first), numbers, timestamps and text (byte order); values of other
// types compare by their JSON encoding.
func compareValues(a, b any) int {
	ka, kb := kind(a), kind(b)
	if ka != kb {
		return ka - kb
	}
	switch x := a.(type) {
	case nil:
		return 0
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case time.Time:
		return x.Compare(b.(time.Time))
	case string:
		return strings.Compare(x, b.(string))
	}
	if fa, ok := number(a); ok {
		fb, _ := number(b)
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Compare(ja, jb)
}

// kind is the rank of a value's type in compareValues.
func kind(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case bool:
		return 1
	case int64, float64, json.Number:
		return 2
	case time.Time:
		return 3
	case string:
		return 4
	}
	return 5
}

// number is a numeric value as a float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
