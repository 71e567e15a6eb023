package runner_test

import (
	"context"
	"testing"

	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/program"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T) map[string]warehouse.Warehouse {
	ctx := context.Background()
	d, err := duckdb.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	p, err := postgres.Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return map[string]warehouse.Warehouse{"duckdb": d, "postgres": p}
}

// A transaction step that fails half-way leaves nothing behind: a segment is
// never left emptied, a table never dropped without its replacement.
func TestAtomicStepRollsBackOnFailure(t *testing.T) {
	for name, w := range open(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ex := &runner.Executor{W: w}
			if _, err := ex.Exec(ctx, []program.Step{
				program.S("setup", "CREATE TABLE kept (a INTEGER)"),
				program.S("setup", "INSERT INTO kept VALUES (1), (2)"),
			}); err != nil {
				t.Fatal(err)
			}
			_, err := ex.Exec(ctx, []program.Step{program.Atomic("replace",
				"DELETE FROM kept",
				"DROP TABLE kept",
				"INSERT INTO no_such_table VALUES (1)")})
			if err == nil {
				t.Fatal("the failing statement must fail the step")
			}
			n, err := runner.Count(ctx, w, "SELECT COUNT(*) FROM kept")
			if err != nil || n != 2 {
				t.Fatalf("after a failed atomic step the table must be intact: %d rows, %v", n, err)
			}
		})
	}
}

// Loops run while their condition counts rows, and report their rounds.
func TestLoopRunsUntilConditionIsZero(t *testing.T) {
	for name, w := range open(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ex := &runner.Executor{W: w}
			stats, err := ex.Exec(ctx, []program.Step{
				program.S("", "CREATE TABLE todo (a INTEGER)"),
				program.S("", "INSERT INTO todo VALUES (1), (2), (3)"),
				{Loop: &program.Loop{Label: "drain", Until: "SELECT COUNT(*) FROM todo", MaxRounds: 10,
					Body: []program.Step{program.S("", "DELETE FROM todo WHERE a = (SELECT MIN(a) FROM todo)")}}},
			})
			if err != nil || len(stats) != 1 || stats[0].Rounds != 3 {
				t.Fatalf("want 3 rounds, got %+v %v", stats, err)
			}
			_, err = ex.Exec(ctx, []program.Step{
				program.S("", "INSERT INTO todo VALUES (1)"),
				{Loop: &program.Loop{Label: "stuck", Until: "SELECT COUNT(*) FROM todo", MaxRounds: 2,
					Body: []program.Step{program.S("", "UPDATE todo SET a = a + 1")}}},
			})
			if err == nil {
				t.Fatal("a loop that never converges must fail after MaxRounds")
			}
		})
	}
}
