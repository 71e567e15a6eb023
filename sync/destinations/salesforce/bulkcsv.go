package salesforce

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// NullCSV is what a Bulk API CSV cell holds to set a field to null; an
// empty cell leaves the field as it is.
const NullCSV = "#N/A"

// bulkPlan is how a batch is split into Bulk API jobs. It depends on the
// batch only, so Poll rebuilds it from the batch the engine hands back.
type bulkPlan struct {
	header   []string // upsert CSV columns: the external ID field, then the fields
	rows     [][]string
	upserts  []int          // batch index of each upsert row
	removals []int          // batch indexes of removals
	rejected map[int]error  // records that cannot be encoded
	keys     map[string]int // external ID value → batch index, for results
	lower    map[string]int // the same, case-folded (External IDs match case-insensitively)
	idOf     map[string]int // Salesforce Id → batch index of a removal (filled by Poll)
}

// plan splits a batch: upserts as CSV rows (columns in mapping order),
// removals, and records rejected before anything is sent.
func (d *Destination) plan(batch []destination.Record) *bulkPlan {
	p := &bulkPlan{rejected: map[int]error{}, keys: map[string]int{}, lower: map[string]int{}, idOf: map[string]int{}}
	var ups []int
	for i, r := range batch {
		switch {
		case d.caps.Supports(r.Op) && !deletes(r.Op):
			ups = append(ups, i)
		case d.caps.Supports(r.Op):
			p.removals = append(p.removals, i)
		default:
			p.rejected[i] = d.errorf("operation %q is not sent in this mode", r.Op)
		}
	}
	p.header = d.columns(batch, ups)
	for _, i := range ups {
		row, err := csvRow(p.header, batch[i])
		if err != nil {
			p.rejected[i] = d.errorf("record %q: %v", batch[i].Key, err)
			continue
		}
		p.rows, p.upserts = append(p.rows, row), append(p.upserts, i)
		p.keys[batch[i].Key] = i
		p.lower[strings.ToLower(batch[i].Key)] = i
	}
	return p
}

// columns lists the upsert CSV header: the external ID field, then every
// field of the records, in the sync's mapping order (others sorted after).
func (d *Destination) columns(batch []destination.Record, ups []int) []string {
	seen := map[string]bool{d.extField: true}
	var extra []string
	for _, i := range ups {
		for k := range batch[i].Fields {
			if !seen[k] {
				seen[k] = true
				extra = append(extra, k)
			}
		}
	}
	rank := func(f string) int {
		if n := slices.Index(d.fields, f); n >= 0 {
			return n
		}
		return len(d.fields)
	}
	sort.Slice(extra, func(a, b int) bool {
		ra, rb := rank(extra[a]), rank(extra[b])
		if ra != rb {
			return ra < rb
		}
		return extra[a] < extra[b]
	})
	return append([]string{d.extField}, extra...)
}

// csvRow renders a record under header: the key in the first column; a
// field the record lacks stays empty (unchanged), a null one is #N/A.
func csvRow(header []string, r destination.Record) ([]string, error) {
	row := make([]string, len(header))
	row[0] = r.Key
	for j, col := range header[1:] {
		v, ok := r.Fields[col]
		if !ok {
			continue
		}
		s, err := csvValue(v)
		if err != nil {
			return nil, fmt.Errorf("field %q: %v", col, err)
		}
		row[j+1] = s
	}
	return row, nil
}

// csvValue renders one value the way Bulk API 2.0 reads it.
func csvValue(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return NullCSV, nil
	case string:
		if x == "" {
			return NullCSV, nil // Salesforce stores an empty text as null
		}
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("%v cannot be written", x)
		}
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z"), nil
	}
	return fmt.Sprint(v), nil
}

// encodeCSV writes rows under header with LF line endings.
func encodeCSV(header []string, rows [][]string) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(header); err != nil {
		return nil, err
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// resultRows reads a results CSV into maps of column → value.
func resultRows(body []byte) ([]map[string]string, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, nil
	}
	header := all[0]
	out := make([]map[string]string, 0, len(all)-1)
	for _, rec := range all[1:] {
		m := make(map[string]string, len(header))
		for j, h := range header {
			if j < len(rec) {
				m[h] = rec[j]
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// bulkError splits a sf__Error cell, "CODE:message:fields --", into its
// status code and text.
func bulkError(s string) (code, msg string) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "--"))
	code, rest, ok := strings.Cut(s, ":")
	if !ok || strings.ToUpper(code) != code || strings.ContainsAny(code, " ") {
		return "", s
	}
	return code, strings.TrimSuffix(rest, ":")
}
