package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestYAMLErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{name: "syntax error", files: map[string]string{"models/t.yml": "sources:\n  - name: a\n   table: x\n"},
			want: []want{{"models/t.yml:2:1: error", "invalid YAML: did not find expected '-' indicator", "indentation"}}},
		{name: "tab indentation", files: map[string]string{"models/t.yml": "sources:\n\t- name: a\n"},
			want: []want{{"models/t.yml:2:1: error", "invalid YAML: found character that cannot start any token", ""}}},
		{name: "unterminated flow", files: map[string]string{"models/t.yml": "sources: [ { name: a\n"},
			want: []want{{"models/t.yml:2:1: error", "invalid YAML: did not find expected ',' or '}'", ""}}},
		{name: "duplicate key", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    table: raw.a
    table: raw.b
    identifiers: [{ column: email, type: email }]
`}, want: []want{{"models/t.yml:4:5: error", "duplicate key `table` in source `s1` (first at line 3)", ""}}},
		{name: "several documents", files: map[string]string{"models/t.yml": "traits: []\n---\ntraits: []\n"},
			want: []want{{"models/t.yml:2:1: error", "a project file holds a single YAML document", ""}}},
		{name: "unknown top-level key", files: map[string]string{"models/t.yml": "source:\n  - name: a\n"},
			want: []want{{"models/t.yml:1:1: error", "unknown key `source` in model file", "did you mean `sources`?"}}},
		{name: "model file is a list", files: map[string]string{"models/t.yml": "- sources: []\n"},
			want: []want{{"models/t.yml:1:1: error", "a model file must be a map, got a list", "sources"}}},
		{name: "anchor containing itself", files: map[string]string{"models/t.yml": "x-a: &a [ *a ]\n"},
			want: []want{{"models/t.yml:1:11: error", "alias `*a` refers to a value that contains it", ""}}},
		{name: "merge key containing itself", files: map[string]string{"models/t.yml": "x-a: &a { <<: *a }\n"},
			want: []want{{"models/t.yml:1:15: error", "alias `*a` refers to a value that contains it", ""}}},
		{name: "unknown anchor", files: map[string]string{"models/t.yml": "traits: [ *nope ]\n"},
			want: []want{{"models/t.yml: error", "invalid YAML: unknown anchor 'nope' referenced", ""}}},
		{name: "billion laughs", files: map[string]string{"models/t.yml": billionLaughs()},
			want: []want{{"models/t.yml:1:1: error", "aliases expand to too many values", ""}}},
		{name: "deep nesting", files: map[string]string{"models/t.yml": "x-deep: " + strings.Repeat("[", 300) + strings.Repeat("]", 300) + "\n"},
			want: []want{{"models/t.yml:1:264: error", "document is nested too deeply", ""}}},
		{name: "custom tag", files: map[string]string{"models/t.yml": `segments:
  - { name: s1, where: { trait: ltv, gt: !money 5 } }
`}, want: []want{{"models/t.yml:2:42: error", "`gt`: unsupported YAML tag `!money`", ""}}},
		{name: "non-string key", files: map[string]string{"models/t.yml": "? [a]\n: b\n"},
			want: []want{{"models/t.yml:1:3: error", "keys in model file must be strings, got a list", ""}}},
		{name: "deeply nested conditions", files: map[string]string{"models/t.yml": "segments:\n  - name: deep\n    where: " +
			strings.Repeat("{ not: ", 40) + "{ segment: base_seg }" + strings.Repeat(" }", 40) + "\n"},
			want: []want{{"models/t.yml:3:243: error", "conditions are nested too deeply", ""}}},
	})
}

// billionLaughs is the classic alias bomb: 10 levels of 10 aliases each.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("x-a0: &a0 [lol]\n")
	for i := 1; i <= 10; i++ {
		prev := "*a" + string(rune('0'+i-1))
		if i == 10 {
			prev = "*a9"
		}
		name := "a" + string(rune('0'+i))
		if i == 10 {
			name = "ten"
		}
		b.WriteString("x-" + name + ": &" + name + " [" + strings.Repeat(prev+",", 9) + prev + "]\n")
	}
	return b.String()
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	p, ds := load(t, map[string]string{"models/base.yml": baseModels, "models/t.yml": `x-source: &src
  table: raw.default
  timestamp: ts
  identifiers: &ids
    - { column: email, type: email }
sources:
  - <<: *src
    name: a
  - <<: *src
    name: b
    table: raw.b
  - name: c
    sql: select 1
    identifiers: *ids
`})
	if ds.HasErrors() {
		t.Fatal(ds.Error())
	}
	a, b, c := p.Source("a"), p.Source("b"), p.Source("c")
	if a.Table != "raw.default" || a.Timestamp != "ts" || len(a.Identifiers) != 1 {
		t.Errorf("a: %+v", a)
	}
	if b.Table != "raw.b" {
		t.Errorf("explicit keys win over merged ones: %+v", b)
	}
	if len(c.Identifiers) != 1 || c.Identifiers[0].Type != "email" {
		t.Errorf("c: %+v", c)
	}
}

func TestFileDiscovery(t *testing.T) {
	root := writeProject(t, map[string]string{
		"cdp.yml":              "name: t\nmodel_paths: [models, extra/one.yaml, models/sub]\ntargets: { local: { type: duckdb } }\n",
		"models/b.yml":         "traits: [{ name: b, expr: '1' }]\n",
		"models/a.yaml":        "traits: [{ name: a, expr: '1' }]\n",
		"models/sub/c.yml":     "traits: [{ name: c, expr: '1' }]\n",
		"models/.hidden/x.yml": "traits: [{ name: hidden, expr: '1' }]\n",
		"models/notes.txt":     "traits: [",
		"models/empty.yml":     "# nothing yet\n",
		"extra/one.yaml":       "traits: [{ name: one, expr: '1' }]\n",
	})
	p, ds := LoadWithOptions(root, LoadOptions{Getenv: mapEnv(nil)})
	if len(ds) != 0 {
		t.Fatal(ds.Error())
	}
	var names []string
	for _, tr := range p.Traits {
		names = append(names, tr.Name+"@"+tr.Pos.File)
	}
	want := "one@extra/one.yaml a@models/a.yaml b@models/b.yml c@models/sub/c.yml"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestFileTooLarge(t *testing.T) {
	root := writeProject(t, map[string]string{"models/base.yml": baseModels})
	big := make([]byte, MaxFileSize+1)
	for i := range big {
		big[i] = '#'
	}
	if err := os.WriteFile(filepath.Join(root, "models", "big.yml"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	_, ds := LoadWithOptions(root, LoadOptions{Getenv: mapEnv(nil)})
	if len(ds) != 1 || !hasDiag(ds, "models/big.yml: error", "file is too large") {
		t.Fatalf("got:\n%s", ds.Error())
	}
}
