package models

import (
	"regexp"
	"strings"
)

// placeholderRe matches a {{ … }} placeholder in user SQL.
var placeholderRe = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// AsOfPlaceholder is the placeholder user SQL writes for the run's as-of
// time (--as-of, or the start of the run): `{{ as_of }}`.
const AsOfPlaceholder = "as_of"

// UsesAsOf reports whether user SQL refers to {{ as_of }}.
func UsesAsOf(sql string) bool {
	for _, m := range placeholderRe.FindAllStringSubmatch(sql, -1) {
		if m[1] == AsOfPlaceholder {
			return true
		}
	}
	return false
}

// RenderAsOf replaces every {{ as_of }} in user SQL with lit, the dialect's
// timestamp literal of the run's as-of time.
func RenderAsOf(sql, lit string) string {
	if !strings.Contains(sql, "{{") {
		return sql
	}
	return placeholderRe.ReplaceAllStringFunc(sql, func(m string) string {
		if placeholderRe.FindStringSubmatch(m)[1] == AsOfPlaceholder {
			return lit
		}
		return m
	})
}

// optSQL decodes an optional user SQL fragment and checks its placeholders:
// {{ as_of }} where asOf allows it, nothing else.
func (l *loader) optSQL(m *mapNode, key string, asOf bool) string {
	s := l.optText(m, key)
	for _, p := range placeholderRe.FindAllStringSubmatch(s, -1) {
		switch {
		case p[1] != AsOfPlaceholder:
			l.errorf(l.valuePos(m, key), "the only placeholder is `{{ as_of }}`, the run's as-of time",
				"unknown placeholder `%s` in `%s`", p[0], key)
		case !asOf:
			l.errorf(l.valuePos(m, key), "use it in a trait's `expr` or `where`, or a segment's event `where`: a source's rows must not change with the run's time",
				"`{{ as_of }}` is not allowed in a source's `%s`", key)
		}
	}
	return s
}
