package compiler_test

import (
	"strconv"
	"testing"

	"github.com/cdpkit/cdp/internal/sqlcheck"
	"github.com/cdpkit/cdp/program"
	"github.com/cdpkit/cdp/warehouse"
)

// TestRetailParses compiles the retail example for every registered dialect
// that has parsers in sqlcheck.Parsers (Snowflake; BigQuery once its package
// is imported here) and parses every statement on its own: plain
// statements, each statement of a transaction, loop bodies and loop
// conditions, in full and incremental mode, with the steps that record a
// complete run's state.
func TestRetailParses(t *testing.T) {
	p := loadRetail(t)
	var checker *sqlcheck.Checker
	for _, dialect := range warehouse.Types() {
		if len(sqlcheck.Parsers[dialect]) == 0 {
			continue
		}
		t.Run(dialect, func(t *testing.T) {
			if checker == nil {
				checker = sqlcheck.ForTest(t)
			}
			var stmts []sqlcheck.Statement
			for _, mode := range goldenModes {
				g := compileRetail(t, p, dialect, mode)
				for _, n := range g.Nodes {
					stmts = append(stmts, statementsOf(n.ID+mode, n.Steps)...)
				}
				stmts = append(stmts, statementsOf("finish"+mode, g.Finish)...)
			}
			if len(stmts) < 100 {
				t.Fatalf("only %d statements compiled; the walk misses some", len(stmts))
			}
			sqlcheck.Require(t, checker, dialect, stmts)
		})
	}
}

// statementsOf lists every SQL text of steps, named node#path: label.
func statementsOf(prefix string, steps []program.Step) []sqlcheck.Statement {
	var out []sqlcheck.Statement
	for i, st := range steps {
		at := prefix + "#" + strconv.Itoa(i+1)
		switch {
		case st.Stmt != nil:
			out = append(out, sqlcheck.Statement{Name: at + " " + st.Stmt.Label, SQL: st.Stmt.SQL})
		case st.Tx != nil:
			for j, q := range st.Tx.SQL {
				out = append(out, sqlcheck.Statement{Name: at + "." + strconv.Itoa(j+1) + " " + st.Tx.Label, SQL: q})
			}
		case st.Loop != nil:
			out = append(out, sqlcheck.Statement{Name: at + " while " + st.Loop.Label, SQL: st.Loop.Until})
			out = append(out, statementsOf(at, st.Loop.Body)...)
		}
	}
	return out
}

// TestIDTraitsParses parses, like TestRetailParses, the profiles and segment
// statements of the identifier traits project (testdata/idtraits).
func TestIDTraitsParses(t *testing.T) {
	p := loadIDTraits(t)
	var checker *sqlcheck.Checker
	for _, dialect := range warehouse.Types() {
		if len(sqlcheck.Parsers[dialect]) == 0 {
			continue
		}
		t.Run(dialect, func(t *testing.T) {
			if checker == nil {
				checker = sqlcheck.ForTest(t)
			}
			var stmts []sqlcheck.Statement
			for _, mode := range goldenModes {
				g := compileIDTraits(t, p, dialect, mode, retailAsOf)
				for _, id := range []string{"profiles.customer", "segment.x_io"} {
					stmts = append(stmts, statementsOf(id+mode, g.Node(id).Steps)...)
				}
			}
			sqlcheck.Require(t, checker, dialect, stmts)
		})
	}
}
