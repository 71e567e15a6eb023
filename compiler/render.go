package compiler

import (
	"fmt"
	"strings"

	"github.com/cdpkit/cdp/program"
)

// Render prints nodes as readable SQL: each node preceded by a comment naming
// it and its source file:line, each statement by its label, loops as
// commented `repeat while` blocks whose body is plain SQL.
func Render(nodes []*Node) string {
	var sb strings.Builder
	for i, n := range nodes {
		if i > 0 {
			sb.WriteString("\n")
		}
		fmt.Fprintf(&sb, "-- node: %s", n.ID)
		if n.Pos.File != "" {
			fmt.Fprintf(&sb, " (%s:%d)", n.Pos.File, n.Pos.Line)
		}
		sb.WriteString("\n")
		renderSteps(&sb, n.Steps, "")
	}
	return sb.String()
}

func renderSteps(sb *strings.Builder, steps []program.Step, depth string) {
	last := ""
	for _, st := range steps {
		switch {
		case st.Stmt != nil:
			if st.Stmt.Label != "" && st.Stmt.Label != last {
				fmt.Fprintf(sb, "%s-- %s\n", depth, st.Stmt.Label)
			}
			last = st.Stmt.Label
			sb.WriteString(st.Stmt.SQL)
			sb.WriteString(";\n")
		case st.Tx != nil:
			last = ""
			if st.Tx.Label != "" {
				fmt.Fprintf(sb, "%s-- %s (atomic)\n", depth, st.Tx.Label)
			}
			sb.WriteString("BEGIN;\n")
			for _, q := range st.Tx.SQL {
				sb.WriteString(q)
				sb.WriteString(";\n")
			}
			sb.WriteString("COMMIT;\n")
		case st.Loop != nil:
			last = ""
			fmt.Fprintf(sb, "%s-- repeat: %s\n", depth, st.Loop.Label)
			fmt.Fprintf(sb, "%s--   while (%s) > 0, at most %d rounds\n", depth, st.Loop.Until, st.Loop.MaxRounds)
			renderSteps(sb, st.Loop.Body, depth+"--   ")
			fmt.Fprintf(sb, "%s-- end repeat\n", depth)
		}
	}
}

// RenderFinish prints the steps that record a complete run's state (see
// Graph.Finish), after a comment saying when they run.
func RenderFinish(steps []program.Step) string {
	var sb strings.Builder
	sb.WriteString("-- after every node of a complete run succeeded: record the watermarks\n")
	renderSteps(&sb, steps, "")
	return sb.String()
}

// renderLimit is the longest Prepare statement RenderPrepare prints whole.
const renderLimit = 2000

// RenderPrepare prints the steps every run begins with (see Graph.Prepare),
// after a comment saying when they run. Statements of literal library data
// (libphonenumber's metadata rows) are shortened to their first line.
func RenderPrepare(steps []program.Step) string {
	if len(steps) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("-- before the first node of every run (idempotent)\n")
	last := ""
	for _, st := range program.Flatten(steps) {
		if st.Label != "" && st.Label != last {
			fmt.Fprintf(&sb, "-- %s\n", st.Label)
		}
		last = st.Label
		if len(st.SQL) <= renderLimit {
			sb.WriteString(st.SQL + ";\n")
			continue
		}
		first, _, _ := strings.Cut(st.SQL, "\n")
		fmt.Fprintf(&sb, "%s\n-- … %d more bytes of literal rows\n", first, len(st.SQL)-len(first))
	}
	return sb.String()
}
