package models

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// FuzzLoad writes the input as a model file next to a valid cdp.yml and the
// base models, and loads the project; then it loads the project again with the
// input appended to cdp.yml instead (reaching `serve:` and `alerts:`). Whatever
// the input, Load must not panic and must return well-formed, sorted diagnostics.
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
		"serve:\n  address: \":${X}\"\n  max_concurrent: 3\n  grace_period: 1m\n  timezone: Europe/Paris\n  models_schedule: \"CRON_TZ=Asia/Tokyo @every 2h\"\n" +
			"alerts:\n  - { name: a, type: webhook, url: \"https://x\", secret: s, on: [failure, stale], rejection_share: 5%, stale_after: 2.5 }\n" +
			"  - { name: b, type: slack, url: \"http://y\" }\n",
		"serve: { models_schedule: \"TZ=UTC\", timezone: \"../../etc/passwd\" }\nalerts: [{ on: [stale, stale] }, x]\n",
		"syncs:\n  - { name: s, all_profiles: true, destination: hook, key: email, paused: true, depends_on_run: false, schedule: \"CRON_TZ= \" }\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	base := []byte(baseModels)
	env := mapEnv(map[string]string{"X": "x"})
	f.Fuzz(func(t *testing.T, model string) {
		checkFuzzLoad(t, env, []byte(defaultCdpYML), base, []byte(model))
		checkFuzzLoad(t, env, []byte(defaultCdpYML+model), base, nil)
	})
}

// checkFuzzLoad loads a project made of cdp, the base models and, unless nil,
// a fuzz model file, and checks the diagnostics are well-formed and sorted.
func checkFuzzLoad(t *testing.T, env func(string) (string, bool), cdp, base, model []byte) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"cdp.yml": cdp, "models/base.yml": base}
	if model != nil {
		files["models/fuzz.yml"] = model
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, ds := LoadWithOptions(root, LoadOptions{Getenv: env})
	if p == nil || p.Serve == nil {
		t.Fatal("nil project or serve settings")
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
