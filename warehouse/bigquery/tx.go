package bigquery

import (
	"context"
	"strings"

	"github.com/cdpkit/cdp/warehouse"
)

var _ warehouse.Transactor = (*Warehouse)(nil)

// InTx collects fn's statements and runs them when fn returns nil. Several
// DML statements (INSERT, UPDATE, DELETE, MERGE) run as one multi-statement
// transaction, a BEGIN TRANSACTION … COMMIT TRANSACTION script that BigQuery
// commits or rolls back as a whole. BigQuery refuses DDL on permanent tables
// inside a transaction, so a group holding DDL (the runner's DROP TABLE +
// CREATE TABLE AS replacements) runs statement by statement: each one is
// atomic, the group is not (docs/bigquery.md). The exec function given to fn
// returns -1 for every statement: their effects are only known at the end.
func (w *Warehouse) InTx(ctx context.Context, fn func(exec warehouse.ExecFunc) error) error {
	var stmts []string
	collect := func(_ context.Context, stmt string) (int64, error) {
		stmts = append(stmts, stmt)
		return -1, nil
	}
	if err := fn(collect); err != nil {
		return err
	}
	if len(stmts) > 1 && allDML(stmts) {
		_, err := w.Exec(ctx, TransactionScript(stmts))
		return err
	}
	for _, s := range stmts {
		if _, err := w.Exec(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// TransactionScript wraps DML statements in BEGIN TRANSACTION and COMMIT
// TRANSACTION; a failing statement rolls the whole script back.
func TransactionScript(stmts []string) string {
	return "BEGIN TRANSACTION;\n" + strings.Join(stmts, ";\n") + ";\nCOMMIT TRANSACTION"
}

// allDML reports whether every statement is an INSERT, UPDATE, DELETE or MERGE.
func allDML(stmts []string) bool {
	for _, s := range stmts {
		first, _, _ := strings.Cut(strings.TrimSpace(s), " ")
		if !isDML(strings.ToUpper(first)) {
			return false
		}
	}
	return true
}
