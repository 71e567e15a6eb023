package models

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Severity tells whether a diagnostic blocks the project ("error") or is advice ("warning").
type Severity string

// Diagnostic severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic is one problem found while loading a project, with the position of the
// offending YAML value and a hint saying how to fix it.
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	Message  string
	Hint     string // how to fix it; may be empty
}

// MarshalJSON renders the diagnostic as a flat object
// {"file","line","col","severity","message","hint"} for --json output.
func (d Diagnostic) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		File     string   `json:"file"`
		Line     int      `json:"line"`
		Col      int      `json:"col"`
		Severity Severity `json:"severity"`
		Message  string   `json:"message"`
		Hint     string   `json:"hint,omitempty"`
	}{d.Pos.File, d.Pos.Line, d.Pos.Col, d.Severity, d.Message, d.Hint})
}

// String renders the diagnostic as `file:line:col: severity: message (hint: …)`.
// Whole-file problems (Line 0) render as `file: severity: message`.
func (d Diagnostic) String() string {
	var b strings.Builder
	if s := d.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	b.WriteString(string(d.Severity))
	b.WriteString(": ")
	b.WriteString(d.Message)
	if d.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(d.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// String renders the position as `file:line:col`, `file` when the line is unknown,
// or "" for the zero Pos.
func (p Pos) String() string {
	switch {
	case p.File == "" && p.Line == 0:
		return ""
	case p.Line == 0:
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Diagnostics is every problem found in a project, sorted by file, line and column.
// It implements error so a whole load can be returned as one; use Err to get a nil
// error when there are only warnings.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic has severity error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Errors returns the diagnostics of severity error.
func (ds Diagnostics) Errors() Diagnostics { return ds.filter(SeverityError) }

// Warnings returns the diagnostics of severity warning.
func (ds Diagnostics) Warnings() Diagnostics { return ds.filter(SeverityWarning) }

func (ds Diagnostics) filter(sev Severity) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == sev {
			out = append(out, d)
		}
	}
	return out
}

// Error renders every diagnostic, one per line.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Err returns the diagnostics as an error when at least one is an error, else nil.
func (ds Diagnostics) Err() error {
	if ds.HasErrors() {
		return ds
	}
	return nil
}

// Sort orders the diagnostics by file, line and column; diagnostics at the same
// position keep their relative order.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// dedupe drops repeated diagnostics (same position, severity and message), which
// happen when a YAML alias makes the loader visit the same node twice. ds must be sorted.
func (ds Diagnostics) dedupe() Diagnostics {
	seen := make(map[Diagnostic]bool, len(ds))
	out := ds[:0]
	for _, d := range ds {
		if seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	return out
}
