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

// Tx is a group of statements that commit together (BEGIN … COMMIT where the
// warehouse has transactions), so readers and crashes never see half of it.
type Tx struct {
	Label string
	SQL   []string
}

// Step is a statement, a loop or a transaction.
type Step struct {
	Stmt *Statement
	Loop *Loop
	Tx   *Tx
}

// Atomic wraps statements in one transaction step.
func Atomic(label string, sqls ...string) Step { return Step{Tx: &Tx{Label: label, SQL: sqls}} }

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

// Statements lists a step's statements: one for a statement, each of a
// transaction's, none for a loop (see Flatten for loops).
func (s Step) Statements() []Statement {
	switch {
	case s.Stmt != nil:
		return []Statement{*s.Stmt}
	case s.Tx != nil:
		out := make([]Statement, len(s.Tx.SQL))
		for i, q := range s.Tx.SQL {
			out[i] = Statement{Label: s.Tx.Label, SQL: q}
		}
		return out
	}
	return nil
}

// Flatten lists every statement of steps in order, loop bodies once each.
func Flatten(steps []Step) []Statement {
	var out []Statement
	for _, s := range steps {
		if s.Loop != nil {
			out = append(out, Flatten(s.Loop.Body)...)
			continue
		}
		out = append(out, s.Statements()...)
	}
	return out
}
