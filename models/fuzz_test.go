package models

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// FuzzLoad writes the input as a model file next to a valid cdp.yml and the
// base models, and loads the project: whatever the input, Load must not panic
// and must return well-formed, sorted diagnostics.
func FuzzLoad(f *testing.F) {
	seeds := []string{
		baseModels,
		"",
		"sources: [",
		"traits:\n  - { name: a, expr: \"b\" }\n  - { name: b, expr: \"a\" }\n",
		"segments:\n  - name: s\n    where: { all: [ { not: { segment: s } }, { event: x, count: { gte: 2 } } ] }\n    holdout: 10%\n",
		"x-a: &a [*a]\n",
		"x-a: &a { <<: *a }\n",
		"x-d: &d { table: t }\nsources:\n  - { <<: *d, name: z, identifiers: [{ column: c, type: email }] }\n",
		"syncs:\n  - { name: s, all_profiles: true, destination: hook, key: email, options: { a: [1, 2.5, null, { b: \"${X:-y}\" }] } }\n",
		"destinations:\n  - { name: d, type: t, rate_limit: 5/m, x: ${UNSET} }\n",
		"identity:\n  id_types:\n    - { name: phone, normalize: phone, exclude: ['(', '[a-z]+'], limit: 99999999999999999999 }\n",
		"segments:\n  - { name: s, where: { trait: ltv, between: [!!binary aGVsbG8=, 0x10] } }\n",
		"? [a]\n: b\n",
		"traits: { name: x }\n",
		"- a\n- b\n",
		"--- \n...\n---\nsources: []\n",
		"segments:\n  - { name: s, where: { trait: email, before: 9999999999999999999d } }\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	cdp := []byte(defaultCdpYML)
	base := []byte(baseModels)
	env := mapEnv(map[string]string{"X": "x"})
	f.Fuzz(func(t *testing.T, model string) {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "models"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{"cdp.yml": cdp, "models/base.yml": base, "models/fuzz.yml": []byte(model)} {
			if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		p, ds := LoadWithOptions(root, LoadOptions{Getenv: env})
		if p == nil {
			t.Fatal("nil project")
		}
		for _, d := range ds {
			if d.Message == "" || d.Pos.File == "" || (d.Severity != SeverityError && d.Severity != SeverityWarning) {
				t.Fatalf("malformed diagnostic %#v", d)
			}
		}
		if !sort.SliceIsSorted(ds, func(i, j int) bool {
			a, b := ds[i].Pos, ds[j].Pos
			if a.File != b.File {
				return a.File < b.File
			}
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Col < b.Col
		}) {
			t.Fatalf("diagnostics not sorted:\n%s", ds.Error())
		}
	})
}

// FuzzInterpolate checks that interpolation never panics and that strings
// without `${` come back unchanged.
func FuzzInterpolate(f *testing.F) {
	for _, s := range []string{"${A}", "${A:-${B:-c}}", "$${A}", "${", "${A:-", "x}${}", "${A:-}}", "$$$${{A}}"} {
		f.Add(s)
	}
	env := mapEnv(map[string]string{"A": "a", "E": ""})
	f.Fuzz(func(t *testing.T, s string) {
		r := interpolate(s, env)
		if !strings.Contains(s, "${") && (r.out != s || r.err != "" || len(r.missing) > 0) {
			t.Fatalf("%q changed to %q (err %q)", s, r.out, r.err)
		}
	})
}
