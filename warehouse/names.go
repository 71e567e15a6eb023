package warehouse

import (
	"fmt"
	"strings"
)

// SplitDottedName splits a user-written relation such as raw."my.table" on
// the dots outside double quotes. Quoted parts lose their quotes (with ""
// undoubled) and keep their case; unquoted parts go through fold (the
// engine's folding of unquoted names), or stay as written when fold is nil.
// It reports an unterminated quote, still returning the parts it read.
func SplitDottedName(name string, fold func(string) string) ([]string, error) {
	var parts []string
	var cur strings.Builder
	inQuote, quoted := false, false
	flush := func() {
		p := cur.String()
		if fold != nil && !quoted {
			p = fold(p)
		}
		parts = append(parts, p)
		cur.Reset()
		quoted = false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '"' && inQuote && i+1 < len(name) && name[i+1] == '"':
			cur.WriteByte('"')
			i++
		case c == '"':
			inQuote = !inQuote
			quoted = true
		case c == '.' && !inQuote:
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	if inQuote {
		return parts, fmt.Errorf("unterminated quoted identifier in %s", name)
	}
	return parts, nil
}

// NoRows ends a FROM-less SELECT of literals so that it returns no row on
// every warehouse (BigQuery refuses a WHERE without a FROM): the typed,
// empty relation of a query with nothing to read.
const NoRows = " FROM (SELECT 1 AS one) AS no_rows WHERE 1 = 0"
