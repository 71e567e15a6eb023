package models

import (
	"gopkg.in/yaml.v3"
)

var (
	projectKeys = []string{"name", "entity", "model_paths", "seed_paths", "target", "targets", "serve", "alerts", "incremental"}
	targetKeys  = []string{"type", "schema"}
	targetTypes = []string{"duckdb", "postgres", "snowflake", "bigquery"}
)

// Defaults of cdp.yml.
const (
	DefaultEntity    = "customer"
	DefaultSchema    = "cdp"
	DefaultModelPath = "models"
	DefaultSeedPath  = "seeds"
)

// modelPath is one entry of model_paths with its position.
type modelPath struct {
	path     string
	pos      Pos
	explicit bool
}

// setDefaults sets the project settings cdp.yml may override.
func (l *loader) setDefaults() {
	p := l.p
	p.Entity, p.ModelPaths, p.SeedPaths = DefaultEntity, []string{DefaultModelPath}, []string{DefaultSeedPath}
	l.mpaths = []modelPath{{path: DefaultModelPath, pos: Pos{File: ProjectFile}}}
}

// parseProjectFile fills the project settings from cdp.yml.
func (l *loader) parseProjectFile(root *yaml.Node) {
	p := l.p
	at := Pos{File: ProjectFile, Line: 1, Col: 1}
	if root == nil {
		l.errorf(at, "start with `name: my_project` and a `targets:` map", "cdp.yml is empty")
		return
	}
	m := l.topLevel(root, "cdp.yml", projectKeys)
	if m == nil {
		return
	}
	at = l.pos(m.node)
	if n := m.get("name"); n != nil {
		if s, ok := l.text(n, "`name`"); ok && l.checkName("project", s, l.pos(n)) {
			p.Name = s
		}
	} else {
		l.errorf(at, "add `name: my_project`", "cdp.yml needs a `name`")
	}
	if n := m.get("entity"); n != nil {
		if s, ok := l.text(n, "`entity`"); ok && l.checkName("entity", s, l.pos(n)) {
			p.Entity = s
		}
	}
	if n := m.get("model_paths"); n != nil {
		l.mpaths = l.pathList(n, "`model_paths`")
		p.ModelPaths = make([]string, len(l.mpaths))
		for i, mp := range l.mpaths {
			p.ModelPaths[i] = mp.path
		}
	}
	if n := m.get("seed_paths"); n != nil {
		seeds := l.pathList(n, "`seed_paths`")
		p.SeedPaths = make([]string, len(seeds))
		for i, sp := range seeds {
			p.SeedPaths[i] = sp.path
		}
	}
	l.parseTargets(m, at)
	if n := m.get("serve"); n != nil {
		l.parseServe(n)
	}
	l.eachItem(m.get("alerts"), "`alerts`", l.parseAlert)
	if n := m.get("incremental"); n != nil && !isNull(n) {
		l.parseIncremental(n)
	}
}

// incrementalKeys are the keys of cdp.yml's `incremental:` block.
var incrementalKeys = []string{"overlap"}

// parseIncremental decodes cdp.yml's `incremental:` block.
func (l *loader) parseIncremental(n *yaml.Node) {
	m, ok := l.mapping(n, "`incremental`", incrementalKeys, false)
	if !ok {
		return
	}
	if v := m.get("overlap"); v != nil && !isNull(v) {
		if d := l.overlap(v, "`incremental.overlap`"); d != nil {
			l.p.Overlap = *d
		}
	}
}

// pathList decodes a list of folder paths.
func (l *loader) pathList(n *yaml.Node, what string) []modelPath {
	if deref(n).Kind != yaml.SequenceNode {
		l.errorf(l.pos(n), "write a list, e.g. `[models]`", "%s must be a list, got %s", what, describe(n))
		return nil
	}
	items, _ := l.list(n, what)
	var out []modelPath
	for _, item := range items {
		s, ok := l.text(item, what+" entries")
		if !ok {
			continue
		}
		if s == "" {
			l.errorf(l.pos(item), "", "empty path in %s", what)
			continue
		}
		out = append(out, modelPath{path: s, pos: l.pos(item), explicit: true})
	}
	return out
}

// parseTargets fills Targets, TargetOrder and DefaultTarget. Unset ${VAR} in
// targets other than the selected one are not errors (they keep their text):
// a developer on DuckDB need not set the production warehouse's password.
func (l *loader) parseTargets(m *mapNode, at Pos) {
	p := l.p
	fileTarget, fileTargetPos := "", Pos{}
	if n := m.get("target"); n != nil {
		fileTarget, _ = l.text(n, "`target`")
		fileTargetPos = l.pos(n)
	}
	tn := m.get("targets")
	if tn == nil || isNull(tn) {
		l.errorf(at, "add `targets: { local: { type: duckdb, path: .cdp/dev.duckdb } }`", "cdp.yml declares no targets")
		return
	}
	tm, ok := l.mapping(tn, "`targets`", nil, true)
	if !ok {
		return
	}
	for _, e := range tm.extra {
		p.TargetOrder = append(p.TargetOrder, e.key)
	}
	selected, via := l.opts.Target, "--target"
	if selected == "" {
		selected, via = "", "CDP_TARGET"
		if v, ok := l.opts.Getenv("CDP_TARGET"); ok {
			selected = v
		}
	}
	if selected == "" {
		selected, via = fileTarget, ""
	}
	if selected == "" && len(p.TargetOrder) > 0 {
		selected = p.TargetOrder[0]
	}
	p.DefaultTarget = selected
	for _, e := range tm.extra {
		l.lenient = e.key != selected
		if t := l.parseTarget(e); t != nil {
			p.Targets[t.Name] = t
		}
	}
	l.lenient = false
	if len(tm.extra) == 0 {
		l.errorf(l.pos(tm.node), "declare at least one target", "`targets` is empty")
	}
	if fileTarget != "" && p.Targets[fileTarget] == nil {
		l.errorf(fileTargetPos, didYouMean(fileTarget, p.TargetOrder), "target `%s` is not declared in `targets`", fileTarget)
	}
	if via != "" && selected != "" && p.Targets[selected] == nil {
		l.errorf(l.pos(tm.node), didYouMean(selected, p.TargetOrder), "target `%s` selected by %s is not declared in `targets`", selected, via)
	}
}

// targetSettings are the settings each target type's driver reads (besides
// type and schema); any other is a warning, as for destinations.
var targetSettings = map[string][]string{
	"duckdb":    {"path"},
	"postgres":  {"dsn"},
	"snowflake": {"account", "user", "database", "warehouse", "role", "password", "private_key_path"},
	"bigquery":  {"project", "dataset", "location", "credentials_file", "endpoint"},
}

// parseTarget decodes one entry of targets.
func (l *loader) parseTarget(e *entry) *Target {
	t := &Target{Name: e.key, Schema: DefaultSchema, Settings: map[string]string{}, Pos: l.pos(e.k)}
	l.checkName("target", e.key, t.Pos)
	what := "target `" + e.key + "`"
	m, ok := l.mapping(e.v, what, targetKeys, true)
	if !ok {
		return t
	}
	if n := m.get("type"); n != nil {
		if s, ok := l.text(n, "`type`"); ok {
			t.Type = s
			l.checkEnum(n, s, "target type", targetTypes)
		}
	} else {
		l.errorf(l.pos(m.node), "one of duckdb, postgres, snowflake, bigquery", "%s needs a `type`", what)
	}
	schemaSet := false
	if n := m.get("schema"); n != nil {
		if s, ok := l.text(n, "`schema`"); ok {
			if s == "" {
				l.errorf(l.pos(n), "remove it to use the default `cdp`", "`schema` is empty")
			} else {
				t.Schema, schemaSet = s, true
			}
		}
	}
	for _, x := range m.extra {
		if isNull(x.v) {
			t.Settings[x.key] = ""
			continue
		}
		if x.v.Kind != yaml.ScalarNode {
			l.errorf(l.pos(x.v), "target settings are single values", "setting `%s` of %s must be a single value, got %s", x.key, what, describe(x.v))
			continue
		}
		s, _ := l.text(x.v, "`"+x.key+"`")
		t.Settings[x.key] = s
		if known, ok := targetSettings[t.Type]; ok && !contains(known, x.key) {
			hint := t.Type + " accepts " + joinTicks(known)
			if c := didYouMean(x.key, known); c != "" {
				hint = c + " " + hint
			}
			l.warnf(l.pos(x.k), hint, "unknown setting `%s` for a %s target", x.key, t.Type)
		}
	}
	if ds, ok := t.Settings["dataset"]; ok && t.Type == "bigquery" && ds != "" {
		switch {
		case !schemaSet:
			t.Schema = ds
		case ds != t.Schema:
			l.errorf(l.pos(m.get("schema")), "on BigQuery `dataset` and `schema` are the same thing; keep one", "%s sets `schema: %s` and `dataset: %s`", what, t.Schema, ds)
		}
	}
	return t
}

// checkEnum reports a value outside allowed, suggesting the closest one.
func (l *loader) checkEnum(n *yaml.Node, s, what string, allowed []string) bool {
	if contains(allowed, s) {
		return true
	}
	hint := didYouMean(s, allowed)
	if hint == "" {
		hint = "one of " + joinTicks(allowed)
	}
	l.errorf(l.pos(n), hint, "unknown %s `%s`", what, s)
	return false
}

func joinTicks(list []string) string {
	out := ""
	for i, s := range list {
		if i > 0 {
			out += ", "
		}
		out += "`" + s + "`"
	}
	return out
}
