package models

import (
	"strings"
	"testing"
)

func TestProjectFileErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{name: "missing name", files: map[string]string{"cdp.yml": "targets: { local: { type: duckdb } }\n"},
			want: []want{{"cdp.yml:1:1: error", "cdp.yml needs a `name`", "name: my_project"}}},
		{name: "bad project name", files: map[string]string{"cdp.yml": "name: Retail-Shop\ntargets: { local: { type: duckdb } }\n"},
			want: []want{{"cdp.yml:1:7: error", "bad project name `Retail-Shop`", "retail_shop"}}},
		{name: "unknown key", files: map[string]string{"cdp.yml": "name: t\nmodle_paths: [models]\ntargets: { local: { type: duckdb } }\n"},
			want: []want{{"cdp.yml:2:1: error", "unknown key `modle_paths` in cdp.yml", "did you mean `model_paths`?"}}},
		{name: "model_paths not a list", files: map[string]string{"cdp.yml": "name: t\nmodel_paths: models\ntargets: { local: { type: duckdb } }\n"},
			want: []want{{"cdp.yml:2:14: error", "`model_paths` must be a list, got a string", "[models]"}}},
		{name: "model path missing", files: map[string]string{"cdp.yml": "name: t\nmodel_paths: [models, nope]\ntargets: { local: { type: duckdb } }\n"},
			want: []want{{"cdp.yml:2:23: error", "model path `nope` does not exist", ""}}},
		{name: "bad target type", files: map[string]string{"cdp.yml": "name: t\ntargets:\n  local: { type: duckdbb }\n"},
			want: []want{{"cdp.yml:3:18: error", "unknown target type `duckdbb`", "did you mean `duckdb`?"}}},
		{name: "unknown target settings", files: map[string]string{"cdp.yml": "name: t\ntargets:\n  local: { type: duckdb, pth: x.duckdb }\n  bq: { type: bigquery, project: p, locaton: EU }\n"},
			want: []want{{"cdp.yml:3:26: warning", "unknown setting `pth` for a duckdb target", "did you mean `path`?"},
				{"cdp.yml:4:37: warning", "unknown setting `locaton` for a bigquery target", "did you mean `location`?"}}},
		{name: "target type missing", files: map[string]string{"cdp.yml": "name: t\ntargets:\n  local: { path: x }\n"},
			want: []want{{"cdp.yml:3:10: error", "target `local` needs a `type`", "duckdb"}}},
		{name: "default target undeclared", files: map[string]string{"cdp.yml": "name: t\ntarget: lcoal\ntargets:\n  local: { type: duckdb }\n"},
			want: []want{{"cdp.yml:2:9: error", "target `lcoal` is not declared", "did you mean `local`?"}}},
		{name: "no targets", files: map[string]string{"cdp.yml": "name: t\n"},
			want: []want{{"cdp.yml:1:1: error", "cdp.yml declares no targets", "targets:"}}},
		{name: "targets is a list", files: map[string]string{"cdp.yml": "name: t\ntargets:\n  - local\n"},
			want: []want{{"cdp.yml:3:3: error", "`targets` must be a map, got a list", ""}}},
		{name: "bad target name", files: map[string]string{"cdp.yml": "name: t\ntargets:\n  Local: { type: duckdb }\n"},
			want: []want{{"cdp.yml:3:3: error", "bad target name `Local`", ""}}},
		{name: "target setting not scalar", files: map[string]string{"cdp.yml": "name: t\ntargets:\n  local: { type: duckdb, path: [a] }\n"},
			want: []want{{"cdp.yml:3:32: error", "setting `path` of target `local` must be a single value, got a list", ""}}},
		{name: "bigquery schema and dataset differ", files: map[string]string{"cdp.yml": "name: t\ntargets:\n  bq: { type: bigquery, schema: a, dataset: b }\n"},
			want: []want{{"cdp.yml:3:33: error", "sets `schema: a` and `dataset: b`", "keep one"}}},
		{name: "unset variable in selected target", files: map[string]string{"cdp.yml": "name: t\ntargets:\n  local: { type: duckdb, path: \"${DB_PATH}\" }\n"},
			want: []want{{"cdp.yml:3:32: error", "environment variable `DB_PATH` is not set", "${DB_PATH:-…}"}}},
		{name: "empty cdp.yml", files: map[string]string{"cdp.yml": ""},
			want: []want{{"cdp.yml:1:1: error", "cdp.yml is empty", ""}}},
		{name: "cdp.yml is a list", files: map[string]string{"cdp.yml": "- name: t\n"},
			want: []want{{"cdp.yml:1:1: error", "cdp.yml must be a map, got a list", ""}}},
		{name: "broken cdp.yml still checks models", files: map[string]string{
			"cdp.yml": "name: t\ntargets: {\n", "models/t.yml": "traits: [{ name: x, from: nope.a }]\n"},
			want: []want{
				{"cdp.yml:3:1: error", "invalid YAML", ""},
				{"models/t.yml:1:27: error", "unknown source `nope`", ""},
			}},
		{name: "bad entity", files: map[string]string{"cdp.yml": "name: t\nentity: 1customer\ntargets: { local: { type: duckdb } }\n"},
			want: []want{{"cdp.yml:2:9: error", "bad entity name `1customer`", ""}}},
	})
}

func TestMissingProjectFile(t *testing.T) {
	p, ds := Load(t.TempDir())
	if p == nil {
		t.Fatal("nil project")
	}
	if len(ds) != 1 || !hasDiag(ds, "cdp.yml: error", "cannot read cdp.yml") || ds[0].Hint == "" {
		t.Fatalf("got:\n%s", ds.Error())
	}
}

func TestProjectDefaults(t *testing.T) {
	p, ds := load(t, map[string]string{"cdp.yml": "name: t\ntargets:\n  b: { type: postgres, dsn: x }\n  a: { type: duckdb, schema: other }\n"})
	if ds.HasErrors() {
		t.Fatal(ds.Error())
	}
	if p.Entity != "customer" || len(p.ModelPaths) != 1 || p.ModelPaths[0] != "models" || len(p.SeedPaths) != 1 || p.SeedPaths[0] != "seeds" {
		t.Errorf("defaults: %+v", p)
	}
	if p.DefaultTarget != "b" || p.TargetOrder[0] != "b" || p.TargetOrder[1] != "a" {
		t.Errorf("target order: %v default %q", p.TargetOrder, p.DefaultTarget)
	}
	if p.Targets["b"].Schema != "cdp" || p.Targets["a"].Schema != "other" || p.Targets["b"].Settings["dsn"] != "x" {
		t.Errorf("targets: %+v %+v", p.Targets["a"], p.Targets["b"])
	}
	if p.Target("") != p.Targets["b"] || p.Target("a") != p.Targets["a"] || p.Target("zz") != nil {
		t.Error("Project.Target")
	}
}

func TestTargetSelection(t *testing.T) {
	cdp := "name: t\ntarget: local\ntargets:\n  local: { type: duckdb }\n  prod: { type: postgres, dsn: \"${PROD_DSN}\" }\n"
	root := writeProject(t, map[string]string{"cdp.yml": cdp})
	for _, tc := range []struct {
		name, flag string
		env        map[string]string
		target     string
		err        string
	}{
		{name: "file default, prod dsn unset is fine", target: "local"},
		{name: "flag selects prod, dsn unset", flag: "prod", target: "prod", err: "cdp.yml:5:32: error: environment variable `PROD_DSN` is not set"},
		{name: "flag selects prod, dsn set", flag: "prod", env: map[string]string{"PROD_DSN": "postgres://"}, target: "prod"},
		{name: "CDP_TARGET selects prod", env: map[string]string{"CDP_TARGET": "prod", "PROD_DSN": "x"}, target: "prod"},
		{name: "flag wins over CDP_TARGET", flag: "local", env: map[string]string{"CDP_TARGET": "prod"}, target: "local"},
		{name: "flag names unknown target", flag: "prd", target: "prd", err: "cdp.yml:4:3: error: target `prd` selected by --target is not declared in `targets` (hint: did you mean `prod`?)"},
		{name: "CDP_TARGET names unknown target", env: map[string]string{"CDP_TARGET": "nope"}, target: "nope", err: "target `nope` selected by CDP_TARGET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ds := LoadWithOptions(root, LoadOptions{Target: tc.flag, Getenv: mapEnv(tc.env)})
			if p.DefaultTarget != tc.target {
				t.Errorf("DefaultTarget = %q, want %q", p.DefaultTarget, tc.target)
			}
			errs := ds.Errors()
			switch {
			case tc.err == "" && len(errs) > 0:
				t.Errorf("unexpected errors:\n%s", errs.Error())
			case tc.err != "" && (len(errs) != 1 || !strings.Contains(errs[0].String(), tc.err)):
				t.Errorf("want %q, got:\n%s", tc.err, errs.Error())
			}
			if tc.flag == "" && tc.env == nil && p.Targets["prod"].Settings["dsn"] != "${PROD_DSN}" {
				t.Errorf("unselected target keeps its text, got %q", p.Targets["prod"].Settings["dsn"])
			}
		})
	}
}
