package all_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/destination"
)

// TestValidateGolden loads each project of testdata/validate/*.txtar (its
// files, plus a minimal cdp.yml and models when the archive has none) and
// compares every diagnostic of the loader and of destination.Check with
// the archive's `stderr` file, as `cdp validate` prints them. -update
// rewrites the expectations.
func TestValidateGolden(t *testing.T) {
	cases, _ := filepath.Glob(filepath.Join("testdata", "validate", "*.txtar"))
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, path := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			files := map[string][]byte{"cdp.yml": []byte(baseProject), "models/base.yml": []byte(baseModels)}
			stderr := -1
			for i, f := range ar.Files {
				if f.Name == "stderr" {
					stderr = i
					continue
				}
				files[f.Name] = f.Data
			}
			for name, data := range files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			env := map[string]string{"HUBSPOT_TOKEN": "pat-na1-x", "EMPTY": ""}
			p, diags := models.LoadWithOptions(dir, models.LoadOptions{Getenv: func(k string) (string, bool) {
				v, ok := env[k]
				return v, ok
			}})
			diags = append(diags, destination.Check(p)...)
			diags.Sort()
			var b strings.Builder
			for _, d := range diags {
				b.WriteString(d.String() + "\n")
			}
			got := b.String()
			if *update {
				if stderr < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "stderr"})
					stderr = len(ar.Files) - 1
				}
				ar.Files[stderr].Data = []byte(got)
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if stderr < 0 {
				t.Fatalf("%s has no stderr file: run with -update", path)
			}
			if want := string(ar.Files[stderr].Data); got != want {
				t.Errorf("diagnostics differ\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}

const baseProject = `name: t
entity: customer
model_paths: [models]
target: local
targets:
  local: { type: duckdb, path: t.duckdb }
`

const baseModels = `sources:
  - name: crm
    table: raw.crm
    primary_key: id
    timestamp: updated_at
    identifiers:
      - { column: email, type: email }
identity:
  id_types:
    - { name: email, normalize: email }
traits:
  - { name: email, from: crm.email }
  - { name: first_name, from: crm.first_name }
segments:
  - name: vips
    where: { trait: first_name, is_set: true }
`
