package compiler

import (
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/program"
)

// Statement is one SQL statement of a node (see program.Statement).
type Statement = program.Statement

// Loop repeats a body while a count query is above zero (see program.Loop).
type Loop = program.Loop

// Step is a statement or a loop (see program.Step).
type Step = program.Step

// S wraps SQL as a statement step.
func S(label, sql string) Step { return program.S(label, sql) }

// Stmts wraps several SQL statements under one label.
func Stmts(label string, sqls ...string) []Step { return program.Stmts(label, sqls...) }

// Node is one vertex of the compiled DAG with its SQL program.
type Node struct {
	ID    string   // kind.name, e.g. source.crm_contacts, identity.customer
	Kind  string   // source | identity | profiles | segment
	Deps  []string // node IDs that must run first
	Pos   models.Pos
	Steps []Step
	// Output is the relation the node builds (for row counts), unqualified.
	Output string
}
