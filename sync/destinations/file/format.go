package file

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// format renders records for one file format.
type format interface {
	ext() string
	// columns settles the field columns of a file holding size bytes.
	columns(path string, size int64, fields []string, batch []destination.Record) ([]string, error)
	header(columns []string) []byte
	record(r destination.Record, columns []string) ([]byte, error)
}

// jsonl writes one JSON object per line.
type jsonl struct{}

func (jsonl) ext() string { return "jsonl" }

func (jsonl) columns(string, int64, []string, []destination.Record) ([]string, error) {
	return nil, nil
}

func (jsonl) header([]string) []byte { return nil }

// line is one jsonl record.
type line struct {
	Op     destination.Op `json:"op"`
	Key    string         `json:"key"`
	Fields map[string]any `json:"fields"`
}

// tombstone is the jsonl line of an erasure: the key and the marker, no
// fields.
type tombstone struct {
	Op        destination.Op `json:"op"`
	Key       string         `json:"key"`
	Tombstone bool           `json:"tombstone"`
}

func (jsonl) record(r destination.Record, _ []string) ([]byte, error) {
	if err := destination.CheckOp(r.Op); err != nil {
		return nil, err
	}
	if r.Op == destination.OpErase {
		b, err := json.Marshal(tombstone{Op: r.Op, Key: r.Key, Tombstone: true})
		return append(b, '\n'), err
	}
	fields, err := destination.JSONFields(r.Fields)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(line{Op: r.Op, Key: r.Key, Fields: fields})
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// csvFormat writes a header and one row per record.
type csvFormat struct{}

func (csvFormat) ext() string { return "csv" }

// columns are the sync's fields, or the sorted field names of the first
// batch; a file that already has a header keeps it when it matches.
func (csvFormat) columns(path string, size int64, fields []string, batch []destination.Record) ([]string, error) {
	want := fields
	if len(want) == 0 {
		seen := map[string]bool{}
		for _, r := range batch {
			for k := range r.Fields {
				if !seen[k] {
					seen[k] = true
					want = append(want, k)
				}
			}
		}
		sort.Strings(want)
	}
	if size == 0 {
		return want, nil
	}
	have, err := readHeader(path)
	if err != nil {
		return nil, err
	}
	if len(have) < 2 || have[0] != "op" || have[1] != "key" || (len(fields) > 0 && !slices.Equal(have[2:], fields)) {
		return nil, fmt.Errorf("%s exists with header %q, want %q", path, have, append([]string{"op", "key"}, want...))
	}
	return have[2:], nil
}

func readHeader(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rec, err := csv.NewReader(bufio.NewReader(f)).Read()
	if err != nil {
		return nil, fmt.Errorf("reading the header of %s: %v", path, err)
	}
	return rec, nil
}

func (csvFormat) header(columns []string) []byte {
	return csvLine(append([]string{"op", "key"}, columns...))
}

func (csvFormat) record(r destination.Record, columns []string) ([]byte, error) {
	if err := destination.CheckOp(r.Op); err != nil {
		return nil, err
	}
	if r.Op == destination.OpErase { // a tombstone: op and key, every field cell empty
		return csvLine(append([]string{string(r.Op), r.Key}, make([]string, len(columns))...)), nil
	}
	for k := range r.Fields {
		if !slices.Contains(columns, k) {
			return nil, fmt.Errorf("field %q is not a column of the file (%q)", k, columns)
		}
	}
	row := make([]string, 0, 2+len(columns))
	row = append(row, string(r.Op), r.Key)
	for _, c := range columns {
		s, err := Format(r.Fields[c])
		if err != nil {
			return nil, fmt.Errorf("field %q: %v", c, err)
		}
		row = append(row, s)
	}
	return csvLine(row), nil
}

func csvLine(row []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(row)
	w.Flush()
	return b.Bytes()
}

// Format renders a field value as csv text: nil as "", times RFC 3339 in UTC
// (fractional seconds when present), integers in decimal, floats in
// shortest form (an exponent only from 1e21 or below 1e-6, as in JSON),
// booleans true/false. NaN and infinities are errors.
func Format(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return formatFloat(x)
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	case []byte:
		return string(x), nil
	}
	return fmt.Sprint(v), nil
}

func formatFloat(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", errors.New("NaN and infinities have no csv form")
	}
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.FormatFloat(f, 'e', -1, 64), nil
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}
