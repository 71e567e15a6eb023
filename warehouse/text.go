package warehouse

// SpaceChars is the set of characters Dialect.TrimSpace strips from both ends
// of a value: every character with the Unicode White_Space property (tab,
// newline, vertical tab, form feed, carriage return, space, U+0085 NEL,
// U+00A0 NBSP, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F,
// U+3000) and the zero-width characters that paste in from web forms and
// spreadsheets (U+180E, U+200B–U+200D, U+2060, U+FEFF BOM). The identity
// normalizers use the same set in Go (strings.Trim) and in SQL.
const SpaceChars = "\t\n\v\f\r \u0085\u00a0\u1680" +
	"\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" +
	"\u2028\u2029\u202f\u205f\u3000" +
	"\u180e\u200b\u200c\u200d\u2060\ufeff"

// LowerExceptions are the two characters whose lower case differs between
// the simple Unicode mapping (Go's strings.ToLower, the reference) and the
// full, context-sensitive mapping some engines use (ICU): U+0130 'İ' lowers
// to a plain 'i' (not "i̇", i + U+0307) and U+03A3 'Σ' to 'σ' everywhere
// (no final 'ς'). Dialects whose LOWER uses the full mapping translate
// LowerFrom to LowerTo first.
const (
	LowerFrom = "\u0130\u03a3"
	LowerTo   = "i\u03c3"
)
