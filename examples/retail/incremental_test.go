package retail_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/seed"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

// day2Seeds copies the seeds into a temporary folder and appends the rows of
// changes/day2, as `make demo` does.
func day2Seeds(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, _ := filepath.Glob(filepath.Join("seeds", "*.csv"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if more, err := os.ReadFile(filepath.Join("changes", "day2", filepath.Base(f))); err == nil {
			lines := strings.SplitN(string(more), "\n", 2)
			if !strings.HasSuffix(string(b), "\n") {
				b = append(b, '\n')
			}
			b = append(b, lines[1]...)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runAs runs every node like `cdp run [--full-refresh]` and returns the mode.
func runAs(t *testing.T, w warehouse.Warehouse, p *models.Project, runID string, at time.Time, fullRefresh bool) string {
	t.Helper()
	ctx := context.Background()
	tb := layout.Tables{D: w.Dialect(), Schema: "cdp", Entity: p.Entity}
	mode, err := runner.DecideMode(ctx, w, tb, runner.ModeRequest{Fingerprint: compiler.Fingerprint(p), AsOf: at, FullRefresh: fullRefresh})
	if err != nil {
		t.Fatal(err)
	}
	g, err := compiler.Compile(p, w.Dialect(), compiler.Options{Schema: "cdp", AsOf: at, RunID: runID, Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Run(ctx, w, g, g.Nodes, runID, nil); err != nil {
		t.Fatalf("%s run %s: %v", mode.Name(), runID, err)
	}
	return mode.Name()
}

var updatedAt = regexp.MustCompile(` updated_at=\S+`)

// TestRetailIncrementalEqualsFull replays the example's history (day 1,
// day 2's late rows, then six weeks later without new data) incrementally
// and with --full-refresh, and compares every output table.
func TestRetailIncrementalEqualsFull(t *testing.T) {
	p := loadProject(t)
	ctx := context.Background()
	opens := map[string]func() warehouse.Warehouse{
		"duckdb": func() warehouse.Warehouse {
			w, err := duckdb.Open(ctx, ":memory:")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			return w
		},
		"postgres": func() warehouse.Warehouse {
			w, err := postgres.Open(ctx, pgtest.DSN(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			return w
		},
	}
	day2 := day2Seeds(t)
	for _, engine := range []string{"duckdb", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			inc, full := opens[engine](), opens[engine]()
			steps := []struct {
				seeds string
				at    time.Time
				want  string
			}{
				{"seeds", asOf, "full"},
				{day2, asOf, "incremental"},
				{day2, asOf.Add(45 * 24 * time.Hour), "incremental"},
			}
			for i, st := range steps {
				for _, w := range []warehouse.Warehouse{inc, full} {
					if _, err := seed.Load(ctx, w, "cdp", []string{st.seeds}, seed.Options{}); err != nil {
						t.Fatal(err)
					}
				}
				runID := "r" + string(rune('1'+i))
				if got := runAs(t, inc, p, runID, st.at, false); got != st.want {
					t.Fatalf("step %d ran %s, want %s", i, got, st.want)
				}
				runAs(t, full, p, runID, st.at, true)
				tb := layout.Tables{D: inc.Dialect(), Schema: "cdp", Entity: p.Entity}
				for _, q := range []string{
					"SELECT id_type, id_value, profile_id, first_seen_at, last_seen_at, source_count FROM " + tb.Q(tb.Identifiers()),
					"SELECT * FROM " + tb.Q(tb.Profiles()),
					"SELECT segment, profile_id, in_holdout, entered_at FROM " + tb.Q(tb.Segments()),
					"SELECT kind, id_type_a, id_value_a, id_type_b, id_value_b, reason FROM " + tb.Q(tb.Audit()),
				} {
					a, b := snapshot(t, inc, q), snapshot(t, full, q)
					sa := updatedAt.ReplaceAllString(strings.Join(a, "\n"), "")
					sb := updatedAt.ReplaceAllString(strings.Join(b, "\n"), "")
					if sa != sb {
						t.Fatalf("step %d: %s differs between incremental and full:\n%s", i, q, firstDiff(sa, sb))
					}
				}
			}
		})
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return "incremental: " + la[i] + "\nfull:        " + lb[i]
		}
	}
	return "row counts differ: " + string(rune('0'+len(la)%10)) + " vs " + string(rune('0'+len(lb)%10))
}
