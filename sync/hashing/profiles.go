package hashing

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// asciiSpace is the whitespace every profile trims: space, tab, newline,
// carriage return, form feed and vertical tab (ASCII only, so every engine
// agrees).
const asciiSpace = " \t\n\r\f\v"

// punctuation is the ASCII punctuation meta_name removes; punctClass is
// the same set as a regexp class (`]` first and `-` last so both are literal
// everywhere, the backslash escaped).
const (
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	punctClass  = "[]!\"#$%&'()*+,./:;<=>?@[\\\\^_`{|}~-]"
)

// SHA256Hex is the lowercase hex SHA-256 of the UTF-8 bytes of s.
func SHA256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func init() {
	register(&Profile{Name: "sha256", Rule: "the value as text, unchanged",
		normalize: func(s string) (string, bool) { return s, true },
		sql:       func(_ Dialect, e string) string { return e }})
	register(&Profile{Name: "google_email", Rule: "all whitespace removed, lower-cased; for gmail.com and googlemail.com the local part loses its dots and any +suffix",
		normalize: googleEmail, sql: googleEmailSQL})
	register(&Profile{Name: "google_phone", Rule: "E.164: the digits only, leading zeros dropped, after a +",
		normalize: func(s string) (string, bool) { return nonEmpty("+", phoneDigits(s)) },
		sql: func(d Dialect, e string) string {
			return "(" + d.QuoteString("+") + " || " + nullIfEmpty(d, phoneDigitsSQL(d, e)) + ")"
		}})
	register(&Profile{Name: "google_name", Rule: "trimmed, lower-cased",
		normalize: func(s string) (string, bool) { return nonEmpty("", toLower(trim(s))) },
		sql:       func(d Dialect, e string) string { return nullIfEmpty(d, lower(d, trimSQL(d, e))) }})
	register(&Profile{Name: "meta_email", Rule: "trimmed, lower-cased",
		normalize: func(s string) (string, bool) { return nonEmpty("", toLower(trim(s))) },
		sql:       func(d Dialect, e string) string { return nullIfEmpty(d, lower(d, trimSQL(d, e))) }})
	register(&Profile{Name: "meta_phone", Rule: "the digits only, leading zeros dropped, no +",
		normalize: func(s string) (string, bool) { return nonEmpty("", phoneDigits(s)) },
		sql:       func(d Dialect, e string) string { return nullIfEmpty(d, phoneDigitsSQL(d, e)) }})
	register(&Profile{Name: "meta_name", Rule: "lower-cased, ASCII punctuation removed, trimmed",
		normalize: func(s string) (string, bool) {
			return nonEmpty("", trim(strings.Map(dropPunct, toLower(s))))
		},
		sql: func(d Dialect, e string) string {
			return nullIfEmpty(d, trimSQL(d, d.RegexpReplaceAll(lower(d, e), punctClass, "")))
		}})
	register(&Profile{Name: "meta_country", Rule: "trimmed, lower-cased, and only a two-letter ISO 3166-1 alpha-2 code (else NULL)",
		normalize: metaCountry,
		sql: func(d Dialect, e string) string {
			c := lower(d, trimSQL(d, e))
			return "CASE WHEN " + d.RegexpMatch(c, "^[a-z][a-z]$") + " THEN " + c + " END"
		}})
}

// trim removes leading and trailing ASCII whitespace.
func trim(s string) string { return strings.Trim(s, asciiSpace) }

// trimSQL is trim in SQL.
func trimSQL(d Dialect, e string) string {
	ws := "[" + asciiSpace + "]+"
	return d.RegexpReplaceAll(e, "^"+ws+"|"+ws+"$", "")
}

// lower is LOWER(e), the same function on every supported engine, which
// maps each character to its Unicode lower case. Unicode's two full-mapping
// special cases are then spelled one way: PostgreSQL with ICU writes a
// word-final Σ as ς and İ as i + U+0307 (combining dot above), DuckDB,
// BigQuery and strings.ToLower write σ and i; lower writes every ς as σ and
// every i + U+0307 as i, and so does toLower.
func lower(d Dialect, e string) string {
	e = "LOWER(" + e + ")"
	for _, r := range lowerFixes {
		e = "REPLACE(" + e + ", " + d.QuoteString(r[0]) + ", " + d.QuoteString(r[1]) + ")"
	}
	return e
}

// lowerFixes are the replacements after LOWER, in order.
var lowerFixes = [][2]string{{"ς", "σ"}, {"i\u0307", "i"}}

// toLower is the Go reference of lower.
func toLower(s string) string {
	s = strings.ToLower(s)
	for _, r := range lowerFixes {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}

// nullIfEmpty turns an empty normalized value into NULL.
func nullIfEmpty(d Dialect, e string) string { return "NULLIF(" + e + ", " + d.QuoteString("") + ")" }

// nonEmpty prefixes s, or reports false when s is empty.
func nonEmpty(prefix, s string) (string, bool) {
	if s == "" {
		return "", false
	}
	return prefix + s, true
}

// phoneDigits keeps the ASCII digits of s and drops leading zeros (an
// international 00 prefix or a trunk 0).
func phoneDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return strings.TrimLeft(b.String(), "0")
}

// phoneDigitsSQL is phoneDigits in SQL.
func phoneDigitsSQL(d Dialect, e string) string {
	return d.RegexpReplaceAll(d.RegexpReplaceAll(e, "[^0-9]", ""), "^0+", "")
}

// dropPunct is the strings.Map function that removes ASCII punctuation.
func dropPunct(r rune) rune {
	if r < 0x80 && strings.ContainsRune(punctuation, r) {
		return -1
	}
	return r
}

// googleEmail removes all ASCII whitespace, lower-cases, and for a single
// @ with a non-empty local part at gmail.com or googlemail.com drops the
// local part's +suffix and dots.
func googleEmail(s string) (string, bool) {
	e := toLower(strings.Map(func(r rune) rune {
		if strings.ContainsRune(asciiSpace, r) {
			return -1
		}
		return r
	}, s))
	if local, domain, ok := strings.Cut(e, "@"); ok && local != "" && (domain == "gmail.com" || domain == "googlemail.com") {
		local, _, _ = strings.Cut(local, "+")
		e = strings.ReplaceAll(local, ".", "") + "@" + domain
	}
	return nonEmpty("", e)
}

// googleEmailSQL is googleEmail in SQL.
func googleEmailSQL(d Dialect, text string) string {
	e := lower(d, d.RegexpReplaceAll(text, "["+asciiSpace+"]+", ""))
	local := d.RegexpReplaceAll(d.RegexpReplaceAll(d.RegexpReplaceAll(e, "@[^@]*$", ""), `\+[^@]*$`, ""), `\.`, "")
	domain := d.RegexpReplaceAll(e, "^[^@]*@", "@")
	return nullIfEmpty(d, "CASE WHEN "+d.RegexpMatch(e, `^[^@]+@(gmail|googlemail)\.com$`)+
		" THEN "+local+" || "+domain+" ELSE "+e+" END")
}

// metaCountry trims and lower-cases s and keeps it only when it is two
// ASCII letters.
func metaCountry(s string) (string, bool) {
	c := toLower(trim(s))
	if len(c) == 2 && c[0] >= 'a' && c[0] <= 'z' && c[1] >= 'a' && c[1] <= 'z' {
		return c, true
	}
	return "", false
}
