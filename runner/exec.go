package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cdpkit/cdp/program"
	"github.com/cdpkit/cdp/warehouse"
)

// LoopStat records how many rounds one loop ran (summed when it runs inside
// another loop).
type LoopStat struct {
	Label  string
	Rounds int
	Runs   int // times the loop was entered
}

// Executor runs compiled programs against a warehouse.
type Executor struct {
	W warehouse.Warehouse
	// Trace, when set, is called after every statement.
	Trace func(label, sql string, took time.Duration)
}

// Exec runs steps in order and returns per-loop statistics in first-seen order.
func (e *Executor) Exec(ctx context.Context, steps []program.Step) ([]LoopStat, error) {
	var stats []LoopStat
	idx := map[string]int{}
	if err := e.run(ctx, steps, &stats, idx); err != nil {
		return stats, err
	}
	return stats, nil
}

func (e *Executor) run(ctx context.Context, steps []program.Step, stats *[]LoopStat, idx map[string]int) error {
	for _, st := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case st.Stmt != nil:
			start := time.Now()
			if _, err := e.W.Exec(ctx, st.Stmt.SQL); err != nil {
				return &StatementError{Label: st.Stmt.Label, SQL: st.Stmt.SQL, Err: err}
			}
			if e.Trace != nil {
				e.Trace(st.Stmt.Label, st.Stmt.SQL, time.Since(start))
			}
		case st.Loop != nil:
			if err := e.loop(ctx, st.Loop, stats, idx); err != nil {
				return err
			}
		case st.Tx != nil:
			start := time.Now()
			var failed string
			err := warehouse.InTx(ctx, e.W, func(exec warehouse.ExecFunc) error {
				for _, q := range st.Tx.SQL {
					if _, err := exec(ctx, q); err != nil {
						failed = q
						return err
					}
				}
				return nil
			})
			if err != nil {
				return &StatementError{Label: st.Tx.Label, SQL: failed, Err: err}
			}
			if e.Trace != nil {
				e.Trace(st.Tx.Label, strings.Join(st.Tx.SQL, ";\n"), time.Since(start))
			}
		}
	}
	return nil
}

func (e *Executor) loop(ctx context.Context, l *program.Loop, stats *[]LoopStat, idx map[string]int) error {
	i, ok := idx[l.Label]
	if !ok {
		i = len(*stats)
		idx[l.Label] = i
		*stats = append(*stats, LoopStat{Label: l.Label})
	}
	(*stats)[i].Runs++
	for round := 0; ; round++ {
		n, err := Count(ctx, e.W, l.Until)
		if err != nil {
			return &StatementError{Label: l.Label + " (loop condition)", SQL: l.Until, Err: err}
		}
		if n == 0 {
			return nil
		}
		if l.MaxRounds > 0 && round >= l.MaxRounds {
			return fmt.Errorf("%s: still not converged after %d rounds (%d rows left); the input may be pathological — report it with `cdp compile` output", l.Label, l.MaxRounds, n)
		}
		(*stats)[i].Rounds++
		if err := e.run(ctx, l.Body, stats, idx); err != nil {
			return err
		}
	}
}

// Count runs a query returning one integer.
func Count(ctx context.Context, w warehouse.Warehouse, query string) (int64, error) {
	rows, err := w.Query(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n *int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if n == nil {
		return 0, nil
	}
	return *n, nil
}

// StatementError wraps a warehouse error with the statement that failed.
type StatementError struct {
	Label string
	SQL   string
	Err   error
}

// Error implements error.
func (e *StatementError) Error() string {
	if e.Label != "" {
		return fmt.Sprintf("%s: %v", e.Label, e.Err)
	}
	return e.Err.Error()
}

// Unwrap returns the warehouse error.
func (e *StatementError) Unwrap() error { return e.Err }
