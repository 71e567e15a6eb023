package compiler_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// idTraitsProject is the identifier traits test project.
var idTraitsProject = filepath.Join("testdata", "idtraits")

// loadIDTraits loads the identifier traits test project.
func loadIDTraits(t *testing.T) *models.Project {
	t.Helper()
	p, diags := models.LoadWithOptions(idTraitsProject, models.LoadOptions{
		Getenv: func(string) (string, bool) { return "", false },
	})
	if len(diags) > 0 {
		t.Fatalf("test project does not load cleanly:\n%v", diags.Error())
	}
	return p
}

// compileIDTraits compiles the identifier traits project for a dialect, full
// (mode "") or incremental (".incremental", watermarks an hour before asOf).
func compileIDTraits(t *testing.T, p *models.Project, dialect, mode string, asOf time.Time) *compiler.Graph {
	t.Helper()
	d, err := warehouse.DialectFor(dialect)
	if err != nil {
		t.Fatal(err)
	}
	o := compiler.Options{Schema: "cdp", AsOf: asOf, RunID: "compile"}
	if mode != "" {
		marks := map[string]time.Time{}
		for _, s := range p.Sources {
			marks[s.Name] = asOf.Add(-time.Hour)
		}
		o.Mode = compiler.Mode{Incremental: true, Watermarks: &identity.Watermarks{Source: marks, PrevAsOf: asOf.Add(-24 * time.Hour)}}
	}
	g, err := compiler.Compile(p, d, o)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestGoldenIDTraits compares the profiles and segment SQL of the identifier
// traits project, on every dialect and mode, with
// testdata/golden/idtraits.<dialect>[.incremental].sql.
func TestGoldenIDTraits(t *testing.T) {
	p := loadIDTraits(t)
	for _, dialect := range goldenDialects {
		for _, mode := range goldenModes {
			t.Run(dialect+mode, func(t *testing.T) {
				g := compileIDTraits(t, p, dialect, mode, retailAsOf)
				nodes := []*compiler.Node{g.Node("profiles.customer"), g.Node("segment.x_io")}
				for _, n := range nodes {
					if n == nil {
						t.Fatalf("missing node; have %v", g.Nodes)
					}
				}
				compareGolden(t, filepath.Join("testdata", "golden", "idtraits."+dialect+mode+".sql"), compiler.Render(nodes))
			})
		}
	}
}
