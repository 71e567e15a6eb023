package main

import (
	"context"
	"fmt"
	"io"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/program"
	"github.com/cdpkit/cdp/warehouse"
)

// printEstimates dry-runs every statement of the nodes (a loop's body once)
// and prints the bytes each node would process. A statement that reads a
// table an earlier statement of the run creates cannot be dry-run before
// that table exists; it is counted as unknown.
func printEstimates(ctx context.Context, out io.Writer, w warehouse.Warehouse, targetName string, nodes []*compiler.Node) error {
	est, ok := w.(warehouse.Estimator)
	if !ok {
		return fmt.Errorf("target %s (%s) cannot estimate cost: --estimate needs a bigquery target (a dry run reports the bytes each statement would process)",
			targetName, w.Dialect().Name())
	}
	var total int64
	fmt.Fprintf(out, "%-40s %16s  %s\n", "node", "bytes processed", "statements (estimated/total)")
	for _, n := range nodes {
		var bytes int64
		var done, all int
		for _, q := range statements(n.Steps) {
			all++
			e, err := est.EstimateStatement(warehouse.WithJobLabel(ctx, n.ID), q)
			if err != nil {
				continue
			}
			done++
			bytes += e.Bytes
		}
		total += bytes
		fmt.Fprintf(out, "%-40s %16d  %d/%d\n", n.ID, bytes, done, all)
	}
	fmt.Fprintf(out, "%-40s %16d\n", "total (known statements)", total)
	return nil
}

// statements flattens steps: plain statements, loop conditions and bodies
// (once), and transaction groups.
func statements(steps []program.Step) []string {
	var out []string
	for _, s := range steps {
		switch {
		case s.Stmt != nil:
			out = append(out, s.Stmt.SQL)
		case s.Loop != nil:
			out = append(out, s.Loop.Until)
			out = append(out, statements(s.Loop.Body)...)
		case s.Tx != nil:
			out = append(out, s.Tx.SQL...)
		}
	}
	return out
}
