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
	_ "github.com/cdpkit/cdp/warehouse/bigquery"
	_ "github.com/cdpkit/cdp/warehouse/duckdb"
	_ "github.com/cdpkit/cdp/warehouse/postgres"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGoldenRetail compiles the retail example for every dialect and
// compares the SQL byte for byte with testdata/golden/retail.<dialect>.sql.
func TestGoldenRetail(t *testing.T) {
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
	asOf := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, dialect := range []string{"duckdb", "postgres", "bigquery"} {
		t.Run(dialect, func(t *testing.T) {
			d, err := warehouse.DialectFor(dialect)
			if err != nil {
				t.Fatal(err)
			}
			g, err := compiler.Compile(p, d, compiler.Options{Schema: "cdp", AsOf: asOf, RunID: "compile"})
			if err != nil {
				t.Fatal(err)
			}
			got := compiler.Render(g.Nodes)
			again, _ := compiler.Compile(p, d, compiler.Options{Schema: "cdp", AsOf: asOf, RunID: "compile"})
			if compiler.Render(again.Nodes) != got {
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
