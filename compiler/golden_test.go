package compiler_test

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/examples/retail"
	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
	_ "github.com/cdpkit/cdp/warehouse/bigquery"
	_ "github.com/cdpkit/cdp/warehouse/duckdb"
	_ "github.com/cdpkit/cdp/warehouse/postgres"
	_ "github.com/cdpkit/cdp/warehouse/snowflake"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenDialects are the dialects with golden files of the retail example.
var goldenDialects = []string{"bigquery", "duckdb", "postgres", "snowflake"}

// adapt rewrites the example's own SQL expressions for dialects they were
// not written for, as a user of that warehouse would (the CDP's SQL is
// unchanged).
var adapt = map[string]func(*models.Project) int{"bigquery": retail.AdaptForBigQuery}

// goldenModes are the two programs `cdp run` compiles: full, and incremental
// (suffix ".incremental") with the state's watermarks as literals.
var goldenModes = []string{"", ".incremental"}

// loadRetail loads the retail example without reading the environment.
func loadRetail(t *testing.T) *models.Project {
	t.Helper()
	p, diags := models.LoadWithOptions(filepath.Join("..", "examples", "retail"), models.LoadOptions{
		Getenv: func(k string) (string, bool) {
			if k == "CDP_POSTGRES_DSN" {
				return "postgres://golden", true
			}
			return "", false
		},
	})
	if diags.HasErrors() {
		t.Fatalf("example does not load:\n%v", diags.Error())
	}
	return p
}

// retailAsOf is the as-of time of the golden files.
var retailAsOf = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// compileRetail compiles the retail example for a registered dialect, in
// full mode (suffix "") or incremental mode (suffix ".incremental") as `cdp
// run` compiles it: every source's watermark an hour before the as-of.
func compileRetail(t *testing.T, p *models.Project, dialect, mode string) *compiler.Graph {
	t.Helper()
	d, err := warehouse.DialectFor(dialect)
	if err != nil {
		t.Fatal(err)
	}
	if f := adapt[dialect]; f != nil {
		p = loadRetail(t) // a copy of its own to rewrite
		f(p)
	}
	o := compiler.Options{Schema: "cdp", AsOf: retailAsOf, RunID: "compile"}
	if mode != "" {
		marks := map[string]time.Time{}
		for _, s := range p.Sources {
			marks[s.Name] = retailAsOf.Add(-time.Hour)
		}
		o.Mode = compiler.Mode{Incremental: true, Watermarks: &identity.Watermarks{Source: marks, PrevAsOf: retailAsOf.Add(-24 * time.Hour)}}
	}
	g, err := compiler.Compile(p, d, o)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGoldenRetail compiles the retail example for every dialect and mode
// and compares the SQL byte for byte with
// testdata/golden/retail.<dialect>[.incremental].sql.
func TestGoldenRetail(t *testing.T) {
	p := loadRetail(t)
	for _, dialect := range goldenDialects {
		for _, mode := range goldenModes {
			t.Run(dialect+mode, func(t *testing.T) {
				render := func(g *compiler.Graph) string {
					return compiler.RenderPrepare(g.Prepare) + compiler.Render(g.Nodes) + "\n" + compiler.RenderFinish(g.Finish)
				}
				got := render(compileRetail(t, p, dialect, mode))
				if render(compileRetail(t, p, dialect, mode)) != got {
					t.Fatal("compiling twice gave different SQL")
				}
				compareGolden(t, filepath.Join("testdata", "golden", "retail."+dialect+mode+".sql"), got)
			})
		}
	}
}

// compareGolden compares got with the golden file at path, or rewrites it
// with -update.
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./compiler -run Golden -update` to create it)", err)
	}
	if string(want) != got {
		t.Fatalf("compiled SQL differs from %s; if the change is intended, run `make golden` and review the diff.\n%s",
			path, firstDiff(string(want), got))
	}
}

// firstDiff shows the first differing line.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n  golden: " + x + "\n  now:    " + y
		}
	}
	return ""
}
