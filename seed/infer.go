package seed

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// reader streams the records of one CSV file and positions its errors.
type reader struct {
	path string
	f    *os.File
	r    *csv.Reader
}

func openCSV(path string) (*reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	r.ReuseRecord = true
	return &reader{path: path, f: f, r: r}, nil
}

// Close closes the file.
func (r *reader) Close() error { return r.f.Close() }

// read returns the next record, io.EOF at the end, or a positioned error.
func (r *reader) read() ([]string, error) {
	rec, err := r.r.Read()
	if err == nil || errors.Is(err, io.EOF) {
		return rec, err
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = fmt.Sprintf("row has %d fields but the header has %d; quote cells that contain commas", len(rec), r.r.FieldsPerRecord)
		}
		return nil, fmt.Errorf("%s:%d:%d: error: %s", r.path, pe.Line, pe.Column, msg)
	}
	return nil, fmt.Errorf("%s: error: %w", r.path, err)
}

// errorf positions a message at field i of the current record.
func (r *reader) errorf(i int, format string, args ...any) error {
	line, col := r.r.FieldPos(i)
	return fmt.Errorf("%s:%d:%d: error: %s", r.path, line, col, fmt.Sprintf(format, args...))
}

// header reads and checks the header row: names are trimmed, non-empty and
// unique ignoring case (DuckDB matches column names case-insensitively).
func (r *reader) header() ([]string, error) {
	rec, err := r.read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s:1:1: error: empty file; a seed needs a header row with column names", r.path)
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, len(rec))
	seen := map[string]int{}
	for i, h := range rec {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.TrimSpace(h)
		if err := checkText(h); err != "" {
			return nil, r.errorf(i, "column name %s", err)
		}
		if h == "" {
			return nil, r.errorf(i, "column %d has an empty name; every header cell must name its column", i+1)
		}
		if j, dup := seen[strings.ToLower(h)]; dup {
			return nil, r.errorf(i, "duplicate column name %q (same as column %d, ignoring case)", h, j+1)
		}
		seen[strings.ToLower(h)] = i
		names[i] = h
	}
	return names, nil
}

// checkText reports why s cannot be stored as text in every warehouse.
func checkText(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "contains a NUL byte"
	}
	return ""
}

// InferColumns reads the CSV file at path once and returns its columns with
// the CDP type of each (see the package documentation for the rules).
func InferColumns(path string) ([]warehouse.Column, error) {
	r, err := openCSV(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	names, err := r.header()
	if err != nil {
		return nil, err
	}
	votes := make([]vote, len(names))
	for i := range votes {
		votes[i] = allTypes
	}
	// per column: non-empty cells, cells that are no date / no timestamp,
	// and the first of those (positioned)
	seen := make([]int, len(names))
	var stray [2][]int
	var first [2][]error
	for k := range stray {
		stray[k], first[k] = make([]int, len(names)), make([]error, len(names))
	}
	for {
		rec, err := r.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		for i, cell := range rec {
			if cell == "" {
				continue
			}
			if msg := checkText(cell); msg != "" {
				return nil, r.errorf(i, "value %s", msg)
			}
			votes[i] = votes[i].and(cell)
			seen[i]++
			for k, parse := range []func(string) (time.Time, bool){parseDate, parseTimestamp} {
				if _, ok := parse(cell); !ok {
					if stray[k][i]++; first[k][i] == nil {
						first[k][i] = r.errorf(i, "column `%s` holds %ss, but %q is not one", names[i],
							[]string{"date", "timestamp"}[k], cell)
					}
				}
			}
		}
	}
	cols := make([]warehouse.Column, len(names))
	for i, n := range names {
		cols[i] = warehouse.Column{Name: n, Type: votes[i].result()}
		if cols[i].Type != models.TypeString {
			continue
		}
		for k, layout := range []string{"2006-01-02", "2006-01-02 15:04:05 (or RFC 3339)"} {
			if bad := stray[k][i]; bad > 0 && seen[i] >= minStrayEvidence && bad*20 <= seen[i] {
				// one bad value would turn the whole column into text and
				// fail a run later, far from here
				return nil, fmt.Errorf("%w (%d of %d values; hint: write it as %s, or leave the cell empty for NULL)",
					first[k][i], bad, seen[i], layout)
			}
		}
	}
	return cols, nil
}

// minStrayEvidence is how many values a column needs before a few (at most
// 5%) that are no date or timestamp are taken as mistakes rather than text.
const minStrayEvidence = 20

// vote is the set of CDP types every non-empty cell so far parses as, plus
// whether any cell was seen.
type vote uint8

const (
	canInteger vote = 1 << iota
	canNumber
	canBoolean
	canDate
	canTimestamp
	sawValue
	allTypes = canInteger | canNumber | canBoolean | canDate | canTimestamp
)

// and narrows v by one non-empty cell.
func (v vote) and(cell string) vote {
	v |= sawValue
	if v&canInteger != 0 {
		if _, ok := parseInteger(cell); !ok {
			v &^= canInteger
		}
	}
	if v&canNumber != 0 {
		if _, ok := parseNumber(cell); !ok {
			v &^= canNumber
		}
	}
	if v&canBoolean != 0 && cell != "true" && cell != "false" {
		v &^= canBoolean
	}
	if v&canDate != 0 {
		if _, ok := parseDate(cell); !ok {
			v &^= canDate
		}
	}
	if v&canTimestamp != 0 {
		if _, ok := parseTimestamp(cell); !ok {
			v &^= canTimestamp
		}
	}
	return v
}

// result picks the narrowest type left, or string.
func (v vote) result() string {
	switch {
	case v&sawValue == 0:
		return models.TypeString
	case v&canInteger != 0:
		return models.TypeInteger
	case v&canNumber != 0:
		return models.TypeNumber
	case v&canBoolean != 0:
		return models.TypeBoolean
	case v&canDate != 0:
		return models.TypeDate
	case v&canTimestamp != 0:
		return models.TypeTimestamp
	}
	return models.TypeString
}

// digits reports whether s is a non-empty run of ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// intPart strips an optional minus sign and checks the digits have no
// leading zero (other than a lone 0).
func intPart(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return digits(s) && (s == "0" || s[0] != '0')
}

func parseInteger(s string) (int64, bool) {
	if !intPart(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// parseNumber accepts -?int(.digits)?([eE][+-]?digits)? with a finite value;
// integers too large for int64 are refused so that long identifiers stay
// exact strings.
func parseNumber(s string) (float64, bool) {
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	whole, frac, hasFrac := strings.Cut(mant, ".")
	if !intPart(whole) || (hasFrac && !digits(frac)) {
		return 0, false
	}
	if hasExp && !digits(strings.TrimLeft(exp, "+-")) || strings.Count(exp, "-")+strings.Count(exp, "+") > 1 {
		return 0, false
	}
	if !hasFrac && !hasExp {
		if _, ok := parseInteger(s); !ok {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func parseDate(s string) (time.Time, bool) {
	if len(s) != len("2006-01-02") {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", s)
	return t, err == nil
}

// timestampLayouts are tried in order; the zone-less ones read as UTC.
var timestampLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

func parseTimestamp(s string) (time.Time, bool) {
	if len(s) < len("2006-01-02 15:04:05") || s[10] != ' ' && s[10] != 'T' {
		return time.Time{}, false
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// convert turns a cell into the Go value of its column's type; "" is NULL.
func convert(cell, cdpType string) (any, bool) {
	if cell == "" {
		return nil, true
	}
	switch cdpType {
	case models.TypeInteger:
		return ok(parseInteger(cell))
	case models.TypeNumber:
		return ok(parseNumber(cell))
	case models.TypeBoolean:
		return cell == "true", cell == "true" || cell == "false"
	case models.TypeDate:
		return ok(parseDate(cell))
	case models.TypeTimestamp:
		return ok(parseTimestamp(cell))
	}
	return cell, true
}

func ok[T any](v T, good bool) (any, bool) { return v, good }
