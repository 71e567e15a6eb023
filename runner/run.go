package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// NodeResult is the outcome of one node of a run.
type NodeResult struct {
	ID      string     `json:"node"`
	Status  string     `json:"status"` // ok | error
	Seconds float64    `json:"seconds"`
	Rows    int64      `json:"rows"` // rows in the node's output (-1 unknown)
	Loops   []LoopStat `json:"loops,omitempty"`
	Error   string     `json:"error,omitempty"`
}

// Result is the outcome of a whole `cdp run`.
type Result struct {
	RunID  string `json:"run_id"`
	Status string `json:"status"`
	Mode   string `json:"mode"`        // full | incremental
	Reason string `json:"mode_reason"` // why that mode

	Started  time.Time    `json:"started_at"`
	Finished time.Time    `json:"finished_at"`
	Nodes    []NodeResult `json:"nodes"`
	Error    string       `json:"error,omitempty"`
}

// Run executes the selected nodes in order, recording the run in cdp_runs.
// progress (optional) is called after each node.
func Run(ctx context.Context, w warehouse.Warehouse, g *compiler.Graph, nodes []*compiler.Node, runID string,
	progress func(i, total int, r NodeResult)) (*Result, error) {
	t := g.Tables
	d := w.Dialect()
	res := &Result{RunID: runID, Status: "running", Started: time.Now().UTC(), Mode: g.Mode.Name(), Reason: g.Mode.Reason}
	if _, err := w.Exec(ctx, d.CreateSchema(t.Schema)); err != nil {
		return nil, fmt.Errorf("create schema %s: %w", t.Schema, err)
	}
	if _, err := w.Exec(ctx, RunsDDL(t)); err != nil {
		return nil, fmt.Errorf("create %s: %w", t.Runs(), err)
	}
	if _, err := w.Exec(ctx, fmt.Sprintf("INSERT INTO %s (run_id, started_at, status) VALUES (%s, %s, %s)",
		t.Q(t.Runs()), d.QuoteString(runID), d.TimestampLiteral(res.Started), d.QuoteString("running"))); err != nil {
		return nil, fmt.Errorf("record run: %w", err)
	}
	ex := &Executor{W: w}
	var runErr error
	if _, err := ex.Exec(ctx, g.Prepare); err != nil {
		runErr = fmt.Errorf("prepare: %w", err)
		nodes = nil
	}
	for i, n := range nodes {
		start := time.Now()
		nr := NodeResult{ID: n.ID, Status: "ok", Rows: -1}
		loops, err := ex.Exec(warehouse.WithJobLabel(ctx, n.ID), n.Steps)
		nr.Loops = loops
		if err == nil && n.Output != "" {
			q := "SELECT COUNT(*) FROM " + t.Q(n.Output)
			if n.Kind == "segment" {
				q += " WHERE segment = " + d.QuoteString(strings.TrimPrefix(n.ID, "segment."))
			}
			nr.Rows, err = Count(ctx, w, q)
		}
		nr.Seconds = time.Since(start).Seconds()
		if err != nil {
			nr.Status, nr.Error = "error", err.Error()
			runErr = fmt.Errorf("%s: %w", n.ID, err)
		}
		res.Nodes = append(res.Nodes, nr)
		if progress != nil {
			progress(i+1, len(nodes), nr)
		}
		if runErr != nil {
			break
		}
	}
	if runErr == nil && len(nodes) == len(g.Nodes) {
		// Only a complete run records watermarks: the next run may then build incrementally.
		if _, err := ex.Exec(ctx, g.Finish); err != nil {
			runErr = fmt.Errorf("record watermarks: %w", err)
		}
	}
	res.Finished = time.Now().UTC()
	res.Status = "success"
	switch {
	case runErr != nil && ctx.Err() != nil:
		// a signal (SIGINT, SIGTERM) or a reader that went away stopped it
		res.Status, res.Error = "cancelled", runErr.Error()
	case runErr != nil:
		res.Status, res.Error = "error", runErr.Error()
	}
	nodesJSON, _ := json.Marshal(res.Nodes)
	errSQL := "NULL"
	if res.Error != "" {
		errSQL = d.QuoteString(res.Error)
	}
	// A fresh context: the run's own may be cancelled, the history must still be written.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := w.Exec(fctx, fmt.Sprintf("UPDATE %s SET finished_at = %s, status = %s, nodes = %s, error = %s WHERE run_id = %s",
		t.Q(t.Runs()), d.TimestampLiteral(res.Finished), d.QuoteString(res.Status), d.QuoteString(string(nodesJSON)),
		errSQL, d.QuoteString(runID))); err != nil && runErr == nil {
		runErr = fmt.Errorf("record run result: %w", err)
	}
	return res, runErr
}

// RunsDDL creates cdp_runs when missing.
func RunsDDL(t layout.Tables) string {
	d := t.D
	col := func(n, ty string) string { return d.QuoteIdent(n) + " " + d.TypeName(ty) }
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s, %s, %s, %s, %s, %s)", t.Q(t.Runs()),
		col("run_id", models.TypeString), col("started_at", models.TypeTimestamp), col("finished_at", models.TypeTimestamp),
		col("status", models.TypeString), col("nodes", models.TypeString), col("error", models.TypeString))
}

// NewRunID returns a sortable, unique run ID such as r20261123T101500Z-3f9a1c.
func NewRunID(now time.Time, rnd uint32) string {
	return fmt.Sprintf("r%s-%06x", now.UTC().Format("20060102T150405Z"), rnd&0xffffff)
}

// SegmentSize is the membership count of one segment.
type SegmentSize struct {
	Segment string `json:"segment"`
	Members int64  `json:"members"`
	Holdout int64  `json:"in_holdout"`
}

// SegmentSizes counts members per segment.
func SegmentSizes(ctx context.Context, w warehouse.Warehouse, t layout.Tables) ([]SegmentSize, error) {
	rows, err := w.Query(ctx, fmt.Sprintf(
		"SELECT segment, COUNT(*), COUNT(CASE WHEN in_holdout THEN 1 END) FROM %s GROUP BY segment ORDER BY segment",
		t.Q(t.Segments())))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SegmentSize
	for rows.Next() {
		var s SegmentSize
		if err := rows.Scan(&s.Segment, &s.Members, &s.Holdout); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// IDTypeCount is what a run did with the values of one identifier type.
type IDTypeCount struct {
	IDType   string `json:"id_type"`
	Kept     int64  `json:"kept"`     // distinct normalized values in the identifiers table
	Merged   int64  `json:"merged"`   // kept values whose profile holds other identifiers
	Excluded int64  `json:"excluded"` // distinct values matching an exclude pattern
	Invalid  int64  `json:"invalid"`  // distinct values a normalizer rejected
}

// IDTypeCounts counts, per identifier type in types' order, the values kept,
// merged, excluded and invalid, from the identifiers and audit tables.
func IDTypeCounts(ctx context.Context, w warehouse.Warehouse, t layout.Tables, types []string) ([]IDTypeCount, error) {
	q := t.D.QuoteString
	ids, audit := t.Q(t.Identifiers()), t.Q(t.Audit())
	rows, err := w.Query(ctx, fmt.Sprintf(`SELECT id_type, SUM(kept), SUM(merged), SUM(excluded), SUM(invalid) FROM (
  SELECT i.id_type, 1 AS kept, CASE WHEN n.n > 1 THEN 1 ELSE 0 END AS merged, 0 AS excluded, 0 AS invalid
  FROM %[1]s i JOIN (SELECT profile_id, COUNT(*) AS n FROM %[1]s GROUP BY profile_id) n ON n.profile_id = i.profile_id
  UNION ALL
  SELECT id_type_a, 0, 0, CASE WHEN kind = %[3]s THEN 1 ELSE 0 END, CASE WHEN kind = %[4]s THEN 1 ELSE 0 END
  FROM %[2]s WHERE kind IN (%[3]s, %[4]s)
) c GROUP BY id_type`, ids, audit, q("excluded"), q("invalid")))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := map[string]IDTypeCount{}
	for rows.Next() {
		var c IDTypeCount
		if err := rows.Scan(&c.IDType, &c.Kept, &c.Merged, &c.Excluded, &c.Invalid); err != nil {
			return nil, err
		}
		got[c.IDType] = c
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]IDTypeCount, 0, len(types))
	for _, typ := range types {
		c := got[typ]
		c.IDType = typ
		out = append(out, c)
	}
	return out, nil
}
