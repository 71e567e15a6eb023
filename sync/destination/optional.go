package destination

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// AsyncDestination is a destination whose writes are asynchronous jobs
// (Klaviyo bulk import, Salesforce Bulk API 2.0, Google Data Manager). The
// engine submits a batch, records the job as pending in its state (so a
// crashed run resumes polling the same job instead of resending), polls it
// until done, and only then commits its records. Apply is not called for
// such a destination; it may simply Submit and Poll.
type AsyncDestination interface {
	Destination
	// Submit starts a job for the batch and returns its ID. A returned error
	// is a whole-batch failure (see BatchError).
	Submit(ctx context.Context, batch []Record) (jobID string, err error)
	// Poll asks for a job's outcome. done false means it is still running;
	// when done, results are index-aligned with batch (the records that were
	// submitted, in order). An error is a failure to ask, retried later.
	Poll(ctx context.Context, jobID string, batch []Record) (results []Result, done bool, err error)
	// JobTiming says how often to poll and how long a job may take before
	// its records are given up and retried by a later run.
	JobTiming() (pollEvery, timeout time.Duration)
}

// FieldInfo is one mapped field as the sync declares it.
type FieldInfo struct {
	Field string // destination field name
	Type  string // CDP type of the trait: string, integer, number, boolean, timestamp, json
}

// FieldProblem is a mapped field the destination does not accept.
type FieldProblem struct {
	Field   string
	Message string
}

// SchemaChecker is a destination that can check the sync's mapped fields
// against the vendor's schema (HubSpot properties, Salesforce describe)
// before anything is sent: `cdp sync check`.
type SchemaChecker interface {
	CheckFields(ctx context.Context, fields []FieldInfo) ([]FieldProblem, error)
}

// IdempotencyKey names a batch by its content: the sync and each record's
// key, operation and field hash, in order. A batch resent after a crash or
// a retry carries the same key, so a receiver can deduplicate it; it does
// not depend on the run.
func IdempotencyKey(sync string, batch []Record) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s", len(sync), sync)
	for _, r := range batch {
		fmt.Fprintf(h, "|%d:%s%d:%s%d:%s", len(r.Op), r.Op, len(r.Key), r.Key, len(r.Hash), r.Hash)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// RecordKey names one record's content like IdempotencyKey (for vendors that
// take a trace ID per object, such as HubSpot's objectWriteTraceId).
func RecordKey(sync string, r Record) string {
	return IdempotencyKey(sync, []Record{r})
}

// MatchReport is what an ad platform says of the people a run sent it: how
// many rows it received and found invalid, and how many it matched to its
// users — as a count, or as the range it reports instead (Google's
// upload match rate range). Zero values are unknown.
type MatchReport struct {
	Received int64 `json:"received,omitempty"` // rows (members) the platform received
	Invalid  int64 `json:"invalid,omitempty"`  // rows it reported invalid
	Matched  int64 `json:"matched,omitempty"`  // rows it matched, when it gives a count
	// Range is the match rate range it reports, e.g. "20-30%".
	Range string `json:"range,omitempty"`
}

// IsZero reports whether nothing is known.
func (m MatchReport) IsZero() bool { return m == MatchReport{} }

// String renders the report for `cdp sync history`, e.g. "received 1200,
// invalid 3 (0.3%), match rate 20-30%".
func (m MatchReport) String() string {
	var parts []string
	if m.Received > 0 {
		parts = append(parts, fmt.Sprintf("received %d", m.Received))
	}
	if m.Invalid > 0 {
		s := fmt.Sprintf("invalid %d", m.Invalid)
		if m.Received > 0 {
			s += fmt.Sprintf(" (%.1f%%)", 100*float64(m.Invalid)/float64(m.Received))
		}
		parts = append(parts, s)
	}
	if m.Matched > 0 {
		s := fmt.Sprintf("matched %d", m.Matched)
		if m.Received > 0 {
			s += fmt.Sprintf(" (%.1f%%)", 100*float64(m.Matched)/float64(m.Received))
		}
		parts = append(parts, s)
	}
	if m.Range != "" {
		parts = append(parts, "match rate "+m.Range)
	}
	return strings.Join(parts, ", ")
}

// MatchReporter is a destination that reports a match rate (ad platforms).
// The engine asks once the run's delivery ended, before Close, and keeps
// the report with the run (cdp_sync_runs.match_report, `cdp sync history`).
// ok false means the platform said nothing this run.
type MatchReporter interface {
	MatchReport() (r MatchReport, ok bool)
}
