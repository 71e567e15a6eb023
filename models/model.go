package models

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var modelKeys = []string{"sources", "identity", "traits", "segments", "consent", "suppress", "destinations", "syncs"}

// parseModelFile decodes the sections of one model file. Cross-file references
// are checked later, once every file has been read.
func (l *loader) parseModelFile(root *yaml.Node) {
	if root == nil || isNull(root) {
		return
	}
	if !l.expect(root, yaml.MappingNode, "a model file", "a model file is a map with keys "+joinTicks(modelKeys)) {
		return
	}
	m := l.topLevel(root, "model file", modelKeys)
	l.eachItem(m.get("sources"), "`sources`", l.parseSource)
	if n := m.get("identity"); n != nil {
		l.parseIdentity(n)
	}
	l.eachItem(m.get("traits"), "`traits`", l.parseTrait)
	l.eachItem(m.get("segments"), "`segments`", l.parseSegment)
	if n := m.get("consent"); n != nil && !isNull(n) {
		l.parseConsent(n)
	}
	l.eachItem(m.get("suppress"), "`suppress`", l.parseSuppression)
	l.eachItem(m.get("destinations"), "`destinations`", l.parseDestination)
	l.eachItem(m.get("syncs"), "`syncs`", l.parseSync)
}

// topLevel decodes the root map of a file. Keys starting with `x-` are ignored,
// so they can hold YAML anchors reused below (`x-defaults: &defaults …`).
func (l *loader) topLevel(root *yaml.Node, what string, known []string) *mapNode {
	m, ok := l.mapping(root, what, known, true)
	if !ok {
		return nil
	}
	for _, e := range m.extra {
		if !strings.HasPrefix(e.key, "x-") {
			l.errorf(l.pos(e.k), unknownHint(e.key, known), "unknown key `%s` in %s", e.key, what)
		}
	}
	return m
}

// eachItem calls parse on every item of the list n; an empty value is an empty list.
func (l *loader) eachItem(n *yaml.Node, what string, parse func(*yaml.Node)) {
	if n == nil || isNull(n) {
		return
	}
	if deref(n).Kind == yaml.MappingNode {
		l.errorf(l.pos(n), "write each item as `- name: …`", "%s must be a list, got a map", what)
		return
	}
	items, ok := l.list(n, what)
	if !ok {
		return
	}
	for _, item := range items {
		parse(item)
	}
}

// itemWhat names a list item for messages, e.g. "source `crm`", peeking at its
// name before the map is checked.
func itemWhat(kind string, n *yaml.Node) string {
	n = deref(n)
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := deref(n.Content[i]), deref(n.Content[i+1])
			if k.Kind == yaml.ScalarNode && k.Value == "name" && v.Kind == yaml.ScalarNode && nameRe.MatchString(v.Value) {
				return kind + " `" + v.Value + "`"
			}
		}
	}
	return kind
}

// name decodes the required `name` of an item and checks its spelling.
func (l *loader) name(m *mapNode, kind string) (string, Pos) {
	n := m.get("name")
	if n == nil {
		l.errorf(l.pos(m.node), "add `name: …`", "%s needs a `name`", kind)
		return "", l.pos(m.node)
	}
	s, ok := l.text(n, "`name`")
	if !ok || !l.checkName(kind, s, l.pos(n)) {
		return "", l.pos(n)
	}
	return s, l.pos(n)
}

// optText decodes an optional non-empty string; "" when absent or invalid.
func (l *loader) optText(m *mapNode, key string) string {
	n := m.get(key)
	if n == nil {
		return ""
	}
	s, ok := l.text(n, "`"+key+"`")
	if ok && s == "" {
		l.errorf(l.pos(n), "remove it or give it a value", "`%s` is empty in %s", key, m.what)
	}
	return s
}

// optEnum decodes an optional string that must be one of allowed; def when absent.
func (l *loader) optEnum(m *mapNode, key, what string, allowed []string, def string) string {
	n := m.get(key)
	if n == nil {
		return def
	}
	s, ok := l.text(n, "`"+key+"`")
	if !ok || !l.checkEnum(n, s, what, allowed) {
		return def
	}
	return s
}

// valuePos is the position of key's value, or of the map when key is absent.
func (l *loader) valuePos(m *mapNode, key string) Pos {
	if n := m.get(key); n != nil {
		return l.pos(n)
	}
	return l.pos(m.node)
}

// exclusive reports when more than one of keys is set, at the second one; it
// returns the keys that are set.
func (l *loader) exclusive(m *mapNode, keys ...string) []string {
	set := m.present(keys...)
	if len(set) > 1 {
		l.errorf(l.pos(m.vals[set[1]].k), "keep only one of them",
			"%s sets both `%s` and `%s`", m.what, set[0], set[1])
	}
	return set
}

var durationRe = regexp.MustCompile(`^([1-9][0-9]*)([hdw])$`)

// maxDurationHours bounds windows (about 114 years) so hour arithmetic cannot overflow.
const maxDurationHours = 1_000_000

// parseDuration parses 90d, 12h, 2w; ok is false for anything else.
func parseDuration(s string) (*Duration, bool) {
	m := durationRe.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n > maxDurationHours {
		return nil, false
	}
	d := &Duration{N: n, Unit: m[2][0], Text: s}
	if d.Hours() > maxDurationHours {
		return nil, false
	}
	return d, true
}

// overlap decodes an incremental overlap: a duration such as 6h or 2d, or
// zero (`0`, `0h`, `0d`, `0w`).
func (l *loader) overlap(n *yaml.Node, what string) *Duration {
	s, ok := l.text(n, what)
	if !ok {
		return nil
	}
	switch s {
	case "0", "0h", "0d", "0w":
		return &Duration{Unit: 'h', Text: s}
	}
	d, ok := parseDuration(s)
	if !ok {
		l.errorf(l.pos(n), "a whole number of hours, days or weeks, e.g. `6h`, `2d`, `1w`, or `0` (at most 1000000 hours)",
			"bad overlap `%s` for %s", s, what)
	}
	return d
}

// duration decodes a window such as 30d.
func (l *loader) duration(n *yaml.Node, what string) *Duration {
	s, ok := l.text(n, what)
	if !ok {
		return nil
	}
	d, ok := parseDuration(s)
	if !ok {
		l.errorf(l.pos(n), "a whole number of hours, days or weeks, e.g. `12h`, `30d`, `2w` (at most 1000000 hours)",
			"bad duration `%s` for %s", s, what)
	}
	return d
}
