package customerio

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// entry is one person identify of a v2 batch.
type entry struct {
	Type        string            `json:"type"`
	Identifiers map[string]string `json:"identifiers"`
	Action      string            `json:"action"`
	Attributes  map[string]any    `json:"attributes,omitempty"`
}

// encode renders an add or change as a batch entry, or says why the record
// cannot be sent: an empty or too long key, a value JSON cannot carry, or
// data beyond the Track API's customer limits.
func (d *Destination) encode(r destination.Record) (json.RawMessage, error) {
	if err := d.checkKey(r.Key); err != nil {
		return nil, err
	}
	attrs, err := d.attributes(r.Fields)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(entry{Type: "person", Identifiers: map[string]string{d.identifier: r.Key},
		Action: "identify", Attributes: attrs})
	if err != nil {
		return nil, err
	}
	if len(b) > MaxEntryBytes {
		return nil, fmt.Errorf("the record's entry is %d bytes, over the Track API's %d-byte limit per batch entry", len(b), MaxEntryBytes)
	}
	return b, nil
}

// checkKey refuses a key Customer.io cannot identify a person by.
func (d *Destination) checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("empty key: Customer.io needs an %s to identify the person", d.identifier)
	case len(key) > MaxIDBytes:
		return fmt.Errorf("key of %d bytes, longer than the %d bytes a Customer.io identifier may have", len(key), MaxIDBytes)
	}
	return nil
}

// attributes maps the record's fields (but the key's) to attribute values:
// nil is JSON null (the attribute is removed), times are Unix seconds.
func (d *Destination) attributes(fields map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	names := make([]string, 0, len(fields))
	for k := range fields {
		if d.keyField != "" && k == d.keyField {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) > MaxAttributes {
		return nil, fmt.Errorf("%d attributes, more than the %d one Customer.io update may set", len(names), MaxAttributes)
	}
	for _, k := range names {
		if len(k) > MaxNameBytes {
			return nil, fmt.Errorf("attribute name %.20q… is longer than %d bytes", k, MaxNameBytes)
		}
		v, err := attributeValue(k, fields[k])
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// attributeValue converts one field value.
func attributeValue(name string, v any) (any, error) {
	switch x := v.(type) {
	case time.Time:
		return x.Unix(), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("field %q is %v, which JSON cannot carry", name, x)
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("field %q is %v, which JSON cannot carry", name, x)
		}
	case string:
		if len(x) > MaxValueBytes {
			return nil, fmt.Errorf("field %q holds %d bytes, more than the %d a Customer.io attribute value may have", name, len(x), MaxValueBytes)
		}
	case nil, bool, int, int32, int64:
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("field %q: %v", name, err)
		}
		if len(b) > MaxValueBytes {
			return nil, fmt.Errorf("field %q holds %d bytes of JSON, more than the %d a Customer.io attribute value may have", name, len(b), MaxValueBytes)
		}
	}
	return v, nil
}

// chunks splits encoded entries into request bodies within MaxBatchBytes:
// each chunk lists positions in entries.
func chunks(entries []json.RawMessage) [][]int {
	const overhead = len(`{"batch":[]}`)
	var out [][]int
	var cur []int
	size := overhead
	for i, e := range entries {
		add := len(e)
		if len(cur) > 0 {
			add++ // the comma
		}
		if len(cur) > 0 && size+add > MaxBatchBytes {
			out = append(out, cur)
			cur, size, add = nil, overhead, len(e)
		}
		cur = append(cur, i)
		size += add
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// body renders the request body of one chunk.
func body(entries []json.RawMessage, chunk []int) []byte {
	n := len(`{"batch":[]}`) + len(chunk)
	for _, i := range chunk {
		n += len(entries[i])
	}
	b := make([]byte, 0, n)
	b = append(b, `{"batch":[`...)
	for j, i := range chunk {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, entries[i]...)
	}
	return append(b, "]}"...)
}
