package models

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// identifierPicks are the picks of identifier traits; the first is the default.
var identifierPicks = []string{PickMostFrequent, PickMostRecent, PickSourcePriority}

// columnPick decodes the `pick` of a `from` trait: one of picks. The picks
// of identifier traits get a hint pointing at `identifier:`.
func (l *loader) columnPick(m *mapNode) string {
	n := m.get("pick")
	if n == nil {
		return ""
	}
	s, ok := l.text(n, "`pick`")
	if !ok {
		return ""
	}
	if !contains(picks, s) && contains(identifierPicks, s) {
		l.errorf(l.pos(n), "use `pick: latest` for a column, or `identifier: <id type>` to pick among the profile's identifiers",
			"pick `%s` only applies to identifier traits", s)
		return ""
	}
	if !l.checkEnum(n, s, "pick", picks) {
		return ""
	}
	return s
}

// parseIdentifierTrait decodes the keys of an identifier trait (`identifier:`
// set, no `from` or `expr`) and defers the checks that need every source and
// id type.
func (l *loader) parseIdentifierTrait(m *mapNode, t *Trait) {
	t.Identifier = l.optText(m, "identifier")
	idAt := l.valuePos(m, "identifier")
	for _, key := range m.present("aggregate", "where", "within") {
		l.errorf(l.valuePos(m, key), "an identifier trait picks one of the profile's identifiers; remove it, or use `from: source.column`",
			"`%s` does not apply to identifier traits", key)
	}
	t.Pick = PickMostFrequent
	if n := m.get("pick"); n != nil {
		if s, ok := l.text(n, "`pick`"); ok {
			switch {
			case contains(identifierPicks, s):
				t.Pick = s
			case s == PickLatest:
				l.errorf(l.pos(n), "did you mean `most_recent`?", "pick `%s` does not apply to identifier traits", s)
			case contains(picks, s):
				l.errorf(l.pos(n), "one of "+joinTicks(identifierPicks), "pick `%s` does not apply to identifier traits", s)
			default:
				l.checkEnum(n, s, "pick", identifierPicks)
			}
		}
	}
	if n := m.get("type"); n != nil {
		if s, ok := l.text(n, "`type`"); ok && s != TypeString {
			l.errorf(l.pos(n), "remove `type`: an identifier trait holds the normalized value as text",
				"identifier traits are of type `string`, not `%s`", s)
		}
		t.Type = ""
	}
	var srcAt []Pos
	if n := m.get("sources"); n != nil {
		t.Sources, srcAt = l.sourceList(n)
	}
	pickAt := l.valuePos(m, "pick")
	l.later = append(l.later, func() { l.checkIdentifierTrait(t, idAt, pickAt, srcAt) })
}

// sourceList decodes `sources: [a, b]`: distinct source names, in order.
func (l *loader) sourceList(n *yaml.Node) ([]string, []Pos) {
	items, ok := l.list(n, "`sources`")
	if !ok {
		return nil, nil
	}
	if len(items) == 0 {
		l.errorf(l.pos(n), "list at least one source, or remove `sources` to read every source that maps the id type", "`sources` is empty")
	}
	var names []string
	var at []Pos
	for _, item := range items {
		s, ok := l.text(item, "a source in `sources`")
		if !ok {
			continue
		}
		if contains(names, s) {
			l.errorf(l.pos(item), "list each source once", "source `%s` is listed twice in `sources`", s)
			continue
		}
		names = append(names, s)
		at = append(at, l.pos(deref(item)))
	}
	return names, at
}

// checkIdentifierTrait checks, once every file is read, that the id type is
// declared, that the sources read exist and map it, and that most_recent
// has a timestamp to go by.
func (l *loader) checkIdentifierTrait(t *Trait, idAt, pickAt Pos, srcAt []Pos) {
	if t.Identifier == "" {
		return
	}
	if _, ok := l.declared[kindIDType][t.Identifier]; !ok {
		l.unknown(kindIDType, t.Identifier, idAt)
		return
	}
	var read []*Source
	for i, name := range t.Sources {
		s := l.sourceRef(name, srcAt[i])
		if s == nil {
			continue
		}
		if !s.MapsIDType(t.Identifier) {
			l.errorf(srcAt[i], mappingHint(l.p, t.Identifier), "source `%s` maps no `%s` identifier", name, t.Identifier)
			continue
		}
		read = append(read, s)
	}
	if len(t.Sources) == 0 {
		read = l.p.IdentifierSources(t)
		if len(read) == 0 {
			l.errorf(idAt, "add `- { column: …, type: "+t.Identifier+" }` under a source's `identifiers`",
				"no source maps an identifier of type `%s`", t.Identifier)
			return
		}
	}
	if t.Pick != PickMostRecent || len(read) == 0 {
		return
	}
	var names []string
	for _, s := range read {
		if s.Timestamp != "" {
			return
		}
		names = append(names, "`"+s.Name+"`")
	}
	l.errorf(pickAt, "add `timestamp:` to source "+strings.Join(names, " or ")+", or use `pick: most_frequent`",
		"pick `most_recent` needs a source with a `timestamp` among those the trait reads")
}

// mappingHint names the sources that map an id type, for a hint.
func mappingHint(p *Project, idType string) string {
	var names []string
	for _, s := range p.Sources {
		if s.MapsIDType(idType) {
			names = append(names, s.Name)
		}
	}
	if len(names) == 0 {
		return "no source maps one: add `- { column: …, type: " + idType + " }` under a source's `identifiers`"
	}
	return "sources that map one: " + joinTicks(names)
}
