package models

import (
	"regexp"

	"github.com/nyaruka/phonenumbers"
	"gopkg.in/yaml.v3"
)

var (
	sourceKeys     = []string{"name", "table", "sql", "primary_key", "timestamp", "event", "overlap", "identifiers"}
	identifierKeys = []string{"column", "expr", "type", "country"}
	identityKeys   = []string{"id_types", "max_profile_identifiers"}
	idTypeKeys     = []string{"name", "normalize", "default_country", "exclude", "limit", "gmail_canonical"}
	normalizers    = []string{"email", "phone", "lowercase", "trim", "none"}
	countryRe      = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Identity defaults.
const (
	DefaultNormalize             = "trim"
	DefaultCountry               = "US"
	DefaultMaxProfileIdentifiers = 1000
)

// parseSource decodes one item of `sources`.
func (l *loader) parseSource(n *yaml.Node) {
	m, ok := l.mapping(n, itemWhat("source", n), sourceKeys, false)
	if !ok {
		return
	}
	s := &Source{Pos: l.pos(m.node)}
	name, namePos := l.name(m, "source")
	s.Name = name
	switch len(l.exclusive(m, "table", "sql")) {
	case 0:
		l.errorf(s.Pos, "set `table: schema.relation` or `sql: select …`", "%s needs `table` or `sql`", m.what)
	}
	s.Table = l.optText(m, "table")
	s.SQL = l.optSQL(m, "sql", false)
	s.PrimaryKey = l.optText(m, "primary_key")
	s.Timestamp = l.optText(m, "timestamp")
	s.Event = l.optText(m, "event")
	if n := m.get("overlap"); n != nil && !isNull(n) {
		s.Overlap = l.overlap(n, "`overlap` of "+m.what)
		if s.Overlap != nil && s.Timestamp == "" {
			l.warnf(l.pos(n), "set `timestamp:` too, or remove `overlap`",
				"%s has an `overlap` but no `timestamp`: incremental runs re-read all its rows anyway", m.what)
		}
	}
	if n := m.get("identifiers"); n != nil && !isNull(n) {
		if items, ok := l.list(n, "`identifiers`"); ok {
			for _, item := range items {
				if id := l.parseIdentifier(item); id != nil {
					s.Identifiers = append(s.Identifiers, id)
				}
			}
		}
	} else {
		l.warnf(s.Pos, "add `identifiers: [{ column: email, type: email }]`",
			"%s has no identifiers: its rows cannot be attached to profiles", m.what)
	}
	if l.declare("source", name, namePos) {
		l.p.Sources = append(l.p.Sources, s)
		l.sources[name] = s
	}
}

// parseIdentifier decodes one identifier of a source.
func (l *loader) parseIdentifier(n *yaml.Node) *SourceIdentifier {
	m, ok := l.mapping(n, "identifier", identifierKeys, false)
	if !ok {
		return nil
	}
	id := &SourceIdentifier{Pos: l.pos(m.node)}
	if len(l.exclusive(m, "column", "expr")) == 0 {
		l.errorf(id.Pos, "set `column: …` or `expr: …`", "identifier needs `column` or `expr`")
	}
	id.Column = l.optText(m, "column")
	id.Expr = l.optSQL(m, "expr", false)
	id.Country = l.optText(m, "country")
	countryAt := id.Pos
	if n := m.get("country"); n != nil {
		countryAt = l.pos(n)
	}
	tn := m.get("type")
	if tn == nil {
		l.errorf(id.Pos, "add `type: <id type>` naming one of identity.id_types", "identifier needs a `type`")
		return id
	}
	typ, ok := l.text(tn, "`type`")
	if !ok {
		return id
	}
	id.Type = typ
	at := l.pos(tn)
	l.later = append(l.later, func() {
		l.checkIDTypeRef(typ, at)
		if t := l.p.IDType(typ); id.Country != "" && t != nil && t.Normalize != "phone" {
			l.warnf(countryAt, "remove it, or set `normalize: phone` on id type `"+typ+"`",
				"`country` is only used by phone identifiers; `%s` is normalized with `%s`", typ, t.Normalize)
		}
	})
	return id
}

// checkIDTypeRef checks that an identifier's type is declared in identity.id_types.
func (l *loader) checkIDTypeRef(typ string, at Pos) {
	l.idTypeUsed[typ] = true
	if _, ok := l.declared[kindIDType][typ]; !ok {
		l.unknown(kindIDType, typ, at)
	}
}

// parseIdentity decodes the identity block; a project has at most one.
func (l *loader) parseIdentity(n *yaml.Node) {
	at := l.pos(deref(n))
	first := l.identity
	if first != nil {
		l.errorf(at, "merge the two blocks", "only one `identity` block per project (first at %s)", *first)
	}
	m, ok := l.mapping(n, "`identity`", identityKeys, false)
	if !ok {
		return
	}
	id := &Identity{MaxProfileIdentifiers: DefaultMaxProfileIdentifiers, Pos: at}
	if first == nil {
		l.identity = &at
		l.p.Identity = id
	}
	if tn := m.get("id_types"); tn == nil || isNull(tn) {
		l.errorf(at, "list them strongest first, e.g. `id_types: [{ name: user_id }, { name: email }]`", "`identity` needs `id_types`")
	} else if items, ok := l.list(tn, "`id_types`"); ok {
		seen := map[string]Pos{}
		for _, item := range items {
			t := l.parseIDType(item)
			if t == nil || t.Name == "" {
				continue
			}
			if prev, dup := seen[t.Name]; dup {
				l.errorf(t.Pos, "remove one of them", "duplicate id type `%s` (first declared at %s)", t.Name, prev)
				continue
			}
			seen[t.Name] = t.Pos
			if first == nil {
				l.declare(kindIDType, t.Name, t.Pos)
			}
			t.Rank = len(id.IDTypes)
			id.IDTypes = append(id.IDTypes, t)
		}
		if len(items) == 0 {
			l.errorf(l.pos(tn), "declare at least one id type", "`id_types` is empty")
		}
	}
	if n := m.get("max_profile_identifiers"); n != nil {
		if v, ok := l.integer(n, "`max_profile_identifiers`"); ok {
			if v < 1 || v > 1<<31 {
				l.errorf(l.pos(n), "a positive integer, e.g. 1000", "`max_profile_identifiers` must be at least 1, got %d", v)
			} else {
				id.MaxProfileIdentifiers = int(v)
			}
		}
	}
}

// parseIDType decodes one item of id_types.
func (l *loader) parseIDType(n *yaml.Node) *IDType {
	m, ok := l.mapping(n, itemWhat("id type", n), idTypeKeys, false)
	if !ok {
		return nil
	}
	t := &IDType{Pos: l.pos(m.node)}
	t.Name, _ = l.name(m, "id type")
	t.Normalize = l.optEnum(m, "normalize", "normalizer", normalizers, "")
	badNormalize := m.has("normalize") && t.Normalize == ""
	if t.Normalize == "" {
		t.Normalize = DefaultNormalize
	}
	if n := m.get("default_country"); n != nil {
		if s, ok := l.text(n, "`default_country`"); ok {
			switch {
			case !countryRe.MatchString(s):
				l.errorf(l.pos(n), "an ISO 3166 alpha-2 code in capitals, e.g. `FR`", "bad `default_country` `%s`", s)
			case !phonenumbers.GetSupportedRegions()[s]:
				l.errorf(l.pos(n), "an ISO 3166 alpha-2 region libphonenumber knows, e.g. `GB` (not `UK`)",
					"libphonenumber has no phone numbering plan for `default_country` `%s`", s)
			default:
				t.DefaultCountry = s
			}
			if t.Normalize != "phone" && !badNormalize {
				l.warnf(l.pos(n), "remove it, or set `normalize: phone`", "`default_country` is only used with `normalize: phone`")
			}
		}
	} else if t.Normalize == "phone" {
		t.DefaultCountry = DefaultCountry
		l.warnf(t.Pos, "set `default_country: FR` (the country of numbers written without +prefix)",
			"%s has no `default_country`; assuming %s", m.what, DefaultCountry)
	}
	if n := m.get("gmail_canonical"); n != nil {
		if v, ok := l.boolean(n, "`gmail_canonical`"); ok {
			if v && t.Normalize != "email" && !badNormalize {
				l.errorf(l.pos(n), "remove it, or set `normalize: email`",
					"`gmail_canonical` needs `normalize: email`, %s has `normalize: %s`", m.what, t.Normalize)
			} else {
				t.GmailCanonical = v
			}
		}
	}
	if n := m.get("exclude"); n != nil && !isNull(n) {
		t.Exclude = l.patterns(n)
	}
	if n := m.get("limit"); n != nil {
		if v, ok := l.integer(n, "`limit`"); ok {
			if v < 1 || v > 1<<31 {
				l.errorf(l.pos(n), "remove `limit` for no limit", "`limit` must be at least 1, got %d", v)
			} else {
				t.Limit = int(v)
			}
		}
	}
	return t
}

// patterns decodes exclude: a list of Go (RE2) regular expressions.
func (l *loader) patterns(n *yaml.Node) []string {
	if deref(n).Kind == yaml.ScalarNode {
		l.errorf(l.pos(n), "write a list: `exclude: ['@example\\.com$']`", "`exclude` must be a list, got %s", describe(n))
		return nil
	}
	items, ok := l.list(n, "`exclude`")
	if !ok {
		return nil
	}
	var out []string
	for _, item := range items {
		s, ok := l.text(item, "`exclude` patterns")
		if !ok {
			continue
		}
		if _, err := regexp.Compile(s); err != nil {
			l.errorf(l.pos(item), "patterns use Go RE2 syntax; escape dots as `\\.`", "bad exclude pattern `%s`: %v", s, err)
			continue
		}
		if c, hint := portableRegex(s); c != "" {
			l.errorf(l.pos(item), hint, "exclude pattern `%s` uses `%s`, which does not mean the same on every engine", s, c)
			continue
		}
		out = append(out, s)
	}
	return out
}
