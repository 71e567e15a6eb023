package models

import (
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	traitKeys  = []string{"name", "from", "identifier", "sources", "pick", "aggregate", "where", "within", "expr", "type"}
	picks      = []string{PickLatest, PickEarliest, PickMostFrequent, PickMax, PickMin, PickAny}
	aggregates = []string{AggCount, AggCountDistinct, AggSum, AggAvg, AggMin, AggMax}
	traitTypes = []string{TypeString, TypeInteger, TypeNumber, TypeBoolean, TypeTimestamp, TypeDate}
)

// ReservedColumns are the columns every profiles table has; no trait may take their names.
var ReservedColumns = []string{"profile_id", "updated_at"}

// fromRef is one `source.column` reference of a trait with its position.
type fromRef struct {
	ColumnRef
	pos Pos
}

// parseTrait decodes one item of `traits`.
func (l *loader) parseTrait(n *yaml.Node) {
	m, ok := l.mapping(n, itemWhat("trait", n), traitKeys, false)
	if !ok {
		return
	}
	t := &Trait{Pos: l.pos(m.node)}
	name, namePos := l.name(m, "trait")
	t.Name = name
	unique := l.declare("trait", name, namePos)
	if contains(ReservedColumns, name) {
		l.errorf(namePos, "profiles already have this column; choose another name", "trait name `%s` is reserved", name)
	}
	if len(l.exclusive(m, "from", "expr", "identifier")) == 0 {
		l.errorf(t.Pos, "set `from: source.column`, `expr: <SQL over other traits>` or `identifier: <id type>`",
			"%s needs `from` or `expr`", m.what)
	}
	if m.has("identifier") && !m.has("from") && !m.has("expr") {
		l.parseIdentifierTrait(m, t)
		if unique {
			l.p.Traits = append(l.p.Traits, t)
			l.traits[name] = t
		}
		return
	}
	if m.has("sources") {
		l.errorf(l.valuePos(m, "sources"), "list several columns in `from: [a.col, b.col]`, or use `identifier: <id type>`",
			"`sources` only applies to identifier traits")
	}
	l.exclusive(m, "pick", "aggregate")
	t.Pick = l.columnPick(m)
	t.Aggregate = l.optEnum(m, "aggregate", "aggregate", aggregates, "")
	t.Where = l.optSQL(m, "where", true)
	if n := m.get("within"); n != nil {
		t.Within = l.duration(n, "`within`")
	}
	t.Type = l.optEnum(m, "type", "trait type", traitTypes, "")
	if m.has("expr") {
		t.Expr = l.optSQL(m, "expr", true)
		for _, key := range m.present("pick", "aggregate", "where", "within") {
			l.errorf(l.valuePos(m, key), "expr traits compute from other traits; remove it", "`%s` does not apply to expr traits", key)
		}
		if unique && t.Expr != "" {
			at := l.valuePos(m, "expr")
			l.later = append(l.later, func() { l.traitExprEdges(t, at) })
		}
	} else if n := m.get("from"); n != nil {
		refs, isList := l.parseFrom(n)
		l.checkFrom(m, t, refs, isList)
	}
	if unique {
		l.p.Traits = append(l.p.Traits, t)
		l.traits[name] = t
	}
}

// parseFrom decodes `from`: `source.column`, `source`, or a list of `source.column`.
func (l *loader) parseFrom(n *yaml.Node) ([]fromRef, bool) {
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if r, ok := l.parseRef(n); ok {
			return []fromRef{r}, false
		}
		return nil, false
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			l.errorf(l.pos(n), "list at least one `source.column`", "`from` is empty")
		}
		var refs []fromRef
		for _, item := range n.Content {
			if r, ok := l.parseRef(item); ok {
				refs = append(refs, r)
			}
		}
		return refs, true
	}
	l.errorf(l.pos(n), "write `source.column` or a list of them", "`from` must be `source.column` or a list, got %s", describe(n))
	return nil, false
}

// parseRef decodes one `source.column` or `source`.
func (l *loader) parseRef(n *yaml.Node) (fromRef, bool) {
	s, ok := l.text(n, "`from`")
	if !ok {
		return fromRef{}, false
	}
	src, col, dotted := strings.Cut(s, ".")
	r := fromRef{ColumnRef{Source: src, Column: col}, l.pos(deref(n))}
	if !nameRe.MatchString(src) || (dotted && strings.TrimSpace(col) == "") || strings.ContainsAny(col, " \t\n") {
		l.errorf(r.pos, "write `source.column`, e.g. `crm_contacts.email`", "bad reference `%s` in `from`", s)
		return r, false
	}
	return r, true
}

// checkFrom applies the rules tying from, pick, aggregate, where and within, and
// defers the checks that need every source.
func (l *loader) checkFrom(m *mapNode, t *Trait, refs []fromRef, isList bool) {
	if isList && t.Aggregate != "" {
		l.errorf(l.valuePos(m, "from"), "aggregate one source per trait, or use `pick`",
			"a list of sources in `from` is only allowed with `pick`")
	}
	hasColumn := false
	for _, r := range refs {
		t.From = append(t.From, r.ColumnRef)
		if r.Column != "" {
			hasColumn = true
			continue
		}
		if t.Aggregate != AggCount || isList {
			l.errorf(r.pos, "write `"+r.Source+".<column>`; only `aggregate: count` may count the rows of a whole source",
				"`from: %s` needs a column", r.Source)
		}
	}
	for _, key := range m.present("where", "within") {
		if t.Aggregate == "" {
			l.errorf(l.valuePos(m, key), "add `aggregate: …`, or filter rows in the source's `sql`",
				"`%s` only applies to aggregate traits", key)
		}
	}
	if !m.has("pick") && !m.has("aggregate") && hasColumn {
		t.Pick = PickLatest
	}
	pickPos := l.valuePos(m, "from")
	if m.has("pick") {
		pickPos = l.valuePos(m, "pick")
	}
	withinPos := l.valuePos(m, "within")
	l.later = append(l.later, func() {
		for _, r := range refs {
			s := l.sourceRef(r.Source, r.pos)
			if s == nil || s.Timestamp != "" {
				continue
			}
			if t.Pick == PickLatest || t.Pick == PickEarliest {
				l.errorf(pickPos, "add `timestamp:` to source `"+s.Name+"`, or use `pick: most_frequent|max|min|any`",
					"pick `%s` needs source `%s` to declare a `timestamp`", t.Pick, s.Name)
			}
			if t.Within != nil {
				l.errorf(withinPos, "add `timestamp:` to source `"+s.Name+"`",
					"`within` needs source `%s` to declare a `timestamp`", s.Name)
			}
		}
	})
}

// traitExprEdges records which traits an expr trait reads.
func (l *loader) traitExprEdges(t *Trait, at Pos) {
	for _, name := range exprIdents(t.Expr) {
		if l.traits[name] != nil {
			l.traitEdges[t.Name] = append(l.traitEdges[t.Name], edge{to: name, pos: at})
		}
	}
}

// exprIdents returns the lowercased identifier tokens of a SQL expression, in
// order of first appearance, skipping single-quoted string literals.
func exprIdents(expr string) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '\'':
			end := strings.IndexByte(expr[i+1:], '\'')
			if end < 0 {
				return out
			}
			i += end + 2
		case isIdentStart(c):
			j := i + 1
			for j < len(expr) && isIdentPart(expr[j]) {
				j++
			}
			if w := strings.ToLower(expr[i:j]); !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
			i = j
		case isIdentPart(c):
			for i < len(expr) && isIdentPart(expr[i]) {
				i++
			}
		default:
			i++
		}
	}
	return out
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }
