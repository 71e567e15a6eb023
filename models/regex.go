package models

import (
	"fmt"
	"strings"
)

// portableRegex reports the first construct of an RE2 pattern that does not
// mean the same on every engine's regex dialect (RE2 on DuckDB and
// BigQuery, PostgreSQL's ARE, Snowflake's POSIX ERE), with the portable
// spelling, or "" when the pattern is portable. pattern already compiles as
// RE2.
func portableRegex(pattern string) (construct, hint string) {
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			e := pattern[i+1]
			i++
			switch e {
			case 'A':
				return `\A`, "write `^` (start of text)"
			case 'z':
				return `\z`, "write `$` (end of text)"
			case 'b', 'B':
				return `\` + string(e), "PostgreSQL reads `\\b` as a backspace; match the separators, e.g. `(^|[^a-z])word([^a-z]|$)`"
			case 'p', 'P':
				return `\` + string(e), "Unicode classes are RE2-only; list the characters, e.g. `[a-zA-Zà-ÿ]`"
			case 'Q', 'E':
				return `\` + string(e), "escape each special character with `\\` instead"
			case 'C':
				return `\C`, "write `.`"
			case 'x':
				if i+1 < len(pattern) && pattern[i+1] == '{' {
					return `\x{…}`, "write the character itself"
				}
			}
		case c == '(' && strings.HasPrefix(pattern[i:], "(?P<"), c == '(' && strings.HasPrefix(pattern[i:], "(?<"):
			return "(?P<name>…)", "named groups are RE2-only; write `(…)`"
		case c == '(' && strings.HasPrefix(pattern[i:], "(?") && !strings.HasPrefix(pattern[i:], "(?:") && i > 0:
			return fmt.Sprintf("%.4s", pattern[i:]), "flags are portable only at the very start of the pattern, e.g. `(?i)^test@`"
		}
	}
	return "", ""
}
