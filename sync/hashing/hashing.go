package hashing

import (
	"sort"
)

// Dialect is the part of warehouse.Dialect that profiles compile through.
type Dialect interface {
	QuoteString(s string) string
	CastText(expr string) string
	RegexpMatch(expr, pattern string) string
	RegexpReplaceAll(expr, pattern, repl string) string
	SHA256Hex(expr string) string
}

// Profile is one normalization profile: the same rules as Go and as SQL.
type Profile struct {
	// Name is what a sync's `hash:` names.
	Name string
	// Rule describes the normalization in one line (for docs and hints).
	Rule string
	// normalize is the Go reference of the normalization; ok is false when
	// the value normalizes to nothing (the hash is then NULL).
	normalize func(s string) (norm string, ok bool)
	// sql compiles the normalization of a text expression; it is NULL where
	// normalize reports !ok.
	sql func(d Dialect, text string) string
}

// Normalize returns the normalized text of s, and false when s normalizes to
// nothing.
func (p *Profile) Normalize(s string) (string, bool) { return p.normalize(s) }

// Reference is the Go reference of the profile: the lowercase hex SHA-256 of
// the normalized s, and false where the warehouse gives NULL.
func (p *Profile) Reference(s string) (string, bool) {
	n, ok := p.normalize(s)
	if !ok {
		return "", false
	}
	return SHA256Hex(n), true
}

// SQL compiles the profile over expr (any type; it is cast to text first):
// the lowercase hex SHA-256 of the normalized value, or NULL.
func (p *Profile) SQL(d Dialect, expr string) string {
	return d.SHA256Hex(p.sql(d, d.CastText(expr)))
}

var registry = map[string]*Profile{}

func register(p *Profile) { registry[p.Name] = p }

// Lookup returns the profile with the given name, or nil.
func Lookup(name string) *Profile { return registry[name] }

// Names lists the profile names in order.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
