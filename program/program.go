package program

// Statement is one SQL statement of a node.
type Statement struct {
	Label string // short description printed as a comment by `cdp compile`
	SQL   string
}

// Loop repeats Body while the Until query returns a count above 0 (checked
// before each round, so an empty input runs no round); it fails after
// MaxRounds rounds.
type Loop struct {
	Label     string
	Body      []Step
	Until     string
	MaxRounds int
}

// Step is either a statement or a loop.
type Step struct {
	Stmt *Statement
	Loop *Loop
}

// S wraps SQL as a statement step.
func S(label, sql string) Step { return Step{Stmt: &Statement{Label: label, SQL: sql}} }

// Stmts wraps several SQL statements under one label.
func Stmts(label string, sqls ...string) []Step {
	out := make([]Step, 0, len(sqls))
	for _, q := range sqls {
		out = append(out, S(label, q))
	}
	return out
}

// CountRows builds a loop condition counting the rows of a relation.
func CountRows(rel string) string { return "SELECT COUNT(*) FROM " + rel }
