package all_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	_ "github.com/cdpkit/cdp/sync/destinations/all"
)

var update = flag.Bool("update", false, "rewrite docs/destinations/*.md from the specs")

// TestDocsAreGenerated fails when a reference page in docs/destinations
// differs from what its spec renders, or a page has no destination type.
func TestDocsAreGenerated(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "docs", "destinations")
	want := map[string]bool{}
	for _, typ := range destination.Types() {
		spec, _ := destination.Lookup(typ)
		path := filepath.Join(dir, typ+".md")
		want[typ+".md"] = true
		page := spec.Markdown()
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != page {
			t.Errorf("%s is stale or missing: run `make golden` (go test ./sync/destinations/all -update)", path)
		}
	}
	index := indexPage()
	if *update {
		if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(index), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if got, err := os.ReadFile(filepath.Join(dir, "README.md")); err != nil || string(got) != index {
		t.Errorf("%s is stale or missing: run `make golden`", filepath.Join(dir, "README.md"))
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !want[e.Name()] && e.Name() != "README.md" {
			t.Errorf("%s documents no registered destination type", filepath.Join(dir, e.Name()))
		}
	}
}

// indexPage lists every destination type with its modes and summary.
func indexPage() string {
	var b strings.Builder
	b.WriteString("# Destinations\n\n<!-- generated from the destinations' specs by `make golden`; do not edit -->\n\n")
	b.WriteString("Each page lists a type's settings (kind, default, description), what each sync mode sends, the vendor's limits and the vendor documentation the connector follows. `cdp destinations TYPE` prints the same.\n\n")
	b.WriteString("| type | modes | what it does |\n|---|---|---|\n")
	for _, typ := range destination.Types() {
		s, _ := destination.Lookup(typ)
		b.WriteString("| [`" + typ + "`](" + typ + ".md) | " + strings.Join(s.Modes, ", ") + " | " + s.Summary + " |\n")
	}
	return b.String()
}

// TestSpecsAreComplete checks what every spec must declare.
func TestSpecsAreComplete(t *testing.T) {
	for _, typ := range destination.Types() {
		s, _ := destination.Lookup(typ)
		if s.Summary == "" || len(s.Modes) == 0 || len(s.Settings) == 0 {
			t.Errorf("%s: summary, modes and settings are required", typ)
		}
		for _, m := range s.Modes {
			if m != "upsert" && m != "mirror" && m != "insert" && m != "update" {
				t.Errorf("%s: unknown mode %q", typ, m)
			}
		}
		for _, st := range s.Settings {
			if st.Doc == "" {
				t.Errorf("%s: setting %s has no doc", typ, st.Name)
			}
			if st.Default != "" {
				if _, probs := s.Parse(map[string]string{st.Name: st.Default}); hasSetting(probs, st.Name) {
					t.Errorf("%s: the default of %s does not parse: %+v", typ, st.Name, probs)
				}
			}
		}
	}
}

func hasSetting(probs []destination.Problem, name string) bool {
	for _, p := range probs {
		if p.Setting == name {
			return true
		}
	}
	return false
}
