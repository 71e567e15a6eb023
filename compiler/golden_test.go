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
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
	_ "github.com/cdpkit/cdp/warehouse/duckdb"
	_ "github.com/cdpkit/cdp/warehouse/postgres"
	_ "github.com/cdpkit/cdp/warehouse/snowflake"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenDialects are the dialects with a golden file of the retail example.
var goldenDialects = []string{"duckdb", "postgres", "snowflake"}

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

// compileRetail compiles the retail example for a registered dialect.
func compileRetail(t *testing.T, p *models.Project, dialect string) *compiler.Graph {
	t.Helper()
	d, err := warehouse.DialectFor(dialect)
	if err != nil {
		t.Fatal(err)
	}
	g, err := compiler.Compile(p, d, compiler.Options{Schema: "cdp", AsOf: retailAsOf, RunID: "compile"})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGoldenRetail compiles the retail example for every dialect and
// compares the SQL byte for byte with testdata/golden/retail.<dialect>.sql.
func TestGoldenRetail(t *testing.T) {
	p := loadRetail(t)
	for _, dialect := range goldenDialects {
		t.Run(dialect, func(t *testing.T) {
			got := compiler.Render(compileRetail(t, p, dialect).Nodes)
			if compiler.Render(compileRetail(t, p, dialect).Nodes) != got {
				t.Fatal("compiling twice gave different SQL")
			}
			path := filepath.Join("testdata", "golden", "retail."+dialect+".sql")
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
		})
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
