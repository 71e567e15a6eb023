package engine

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/warehouse"
)

// stream reads the diff rows of ops in key order and calls fn with each
// record and its fields hash, until fn returns false.
func (e *Engine) stream(ctx context.Context, s *models.Sync, table string, ops []destination.Op,
	fn func(r destination.Record, hash string) (bool, error)) error {
	rows, err := e.W.Query(ctx, streamSQL(e.Tables, s, e.Tables.Q(table), ops))
	if err != nil {
		return fmt.Errorf("sync %s: read diff: %w", s.Name, err)
	}
	defer rows.Close()
	n := streamFixed + len(s.Fields)
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		r, hash, err := toRecord(s, vals)
		if err != nil {
			return err
		}
		more, err := fn(r, hash)
		if err != nil || !more {
			return err
		}
	}
	return rows.Err()
}

// streamFixed is the number of diff columns before the fields.
const streamFixed = 5

// toRecord converts one diff row (op, key, hash, prev_fields, remote_id,
// f_0…) to a record.
func toRecord(s *models.Sync, vals []any) (destination.Record, string, error) {
	hash := str(vals[2])
	r := destination.Record{Op: destination.Op(str(vals[0])), Key: str(vals[1]), Fields: map[string]any{},
		RemoteID: str(vals[4]), Hash: hash}
	if removesState(r.Op) {
		if prev := str(vals[3]); prev != "" {
			if err := json.Unmarshal([]byte(prev), &r.Fields); err != nil {
				return r, "", fmt.Errorf("sync %s: state of key %q holds bad JSON: %w", s.Name, r.Key, err)
			}
		}
		return r, hash, nil
	}
	for i, f := range s.Fields {
		r.Fields[f.Field] = warehouse.Plain(vals[streamFixed+i])
	}
	return r, hash, nil
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// payload applies null_values: skip drops NULL fields from what is sent.
func payload(s *models.Sync, r destination.Record) destination.Record {
	if s.NullValues != "skip" || removesState(r.Op) {
		return r
	}
	out := destination.Record{Op: r.Op, Key: r.Key, Fields: make(map[string]any, len(r.Fields)), RemoteID: r.RemoteID, Hash: r.Hash}
	for k, v := range r.Fields {
		if v != nil {
			out.Fields[k] = v
		}
	}
	return out
}
