package bigquery

import "strings"

// token is one lexical unit of a query at some parenthesis depth.
type token struct {
	text   string // a word, an unquoted name, a literal or punctuation
	depth  int
	ident  bool // a bare word or a backtick-quoted name, not a literal
	quoted bool // backtick-quoted
}

// outputsColumn reports whether the first top-level SELECT of query lists an
// output column named col (case-insensitively, as BigQuery compares column
// names): `… AS col`, a bare col or a qualified x.col. A star or anything it
// cannot read gives false, so a table is clustered only when it surely has
// the column.
func outputsColumn(query, col string) bool {
	toks := lex(query)
	i := 0
	for i < len(toks) && !(toks[i].depth == 0 && keyword(toks[i], "SELECT")) {
		i++
	}
	if i == len(toks) {
		return false
	}
	i++
	if i < len(toks) && (keyword(toks[i], "DISTINCT") || keyword(toks[i], "ALL")) {
		i++
	}
	var item []token
	for ; i <= len(toks); i++ {
		end := i == len(toks) || (toks[i].depth == 0 && (toks[i].text == "," || keyword(toks[i], "FROM")))
		if !end {
			item = append(item, toks[i])
			continue
		}
		if name, ok := itemName(item); ok && strings.EqualFold(name, col) {
			return true
		}
		if i < len(toks) && toks[i].text != "," {
			return false
		}
		item = item[:0]
	}
	return false
}

// itemName is the output name of one select-list item.
func itemName(item []token) (string, bool) {
	n := len(item)
	if n == 0 || !item[n-1].ident {
		return "", false
	}
	if n == 1 || (n >= 2 && keyword(item[n-2], "AS")) || (n >= 3 && item[n-2].text == ".") {
		return item[n-1].text, true
	}
	return "", false
}

// keyword reports whether t is the bare word kw.
func keyword(t token, kw string) bool { return t.ident && !t.quoted && strings.EqualFold(t.text, kw) }

// lex splits query into identifiers, literals and punctuation, skipping
// comments, and records the parenthesis depth of each token.
func lex(q string) []token {
	var out []token
	depth := 0
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\n' || c == '\t' || c == '\r':
			i++
		case strings.HasPrefix(q[i:], "--") || c == '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case strings.HasPrefix(q[i:], "/*"):
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case c == '\'' || c == '"' || c == '`':
			j := quotedEnd(q, i)
			text := q[i+1 : max(i+1, j-1)]
			out = append(out, token{text: unescape(text), depth: depth, ident: c == '`', quoted: c == '`'})
			i = j
		case c == '(':
			out = append(out, token{text: "(", depth: depth})
			depth++
			i++
		case c == ')':
			depth--
			out = append(out, token{text: ")", depth: depth})
			i++
		case isWord(c):
			j := i
			for j < len(q) && isWord(q[j]) {
				j++
			}
			if j < len(q) && (q[j] == '\'' || q[j] == '"') && j-i <= 2 {
				// a prefixed literal such as r'…' or b"…"
				k := quotedEnd(q, j)
				out = append(out, token{text: q[j:k], depth: depth})
				i = k
				continue
			}
			out = append(out, token{text: q[i:j], depth: depth, ident: !isDigit(c)})
			i = j
		default:
			out = append(out, token{text: string(c), depth: depth})
			i++
		}
	}
	return out
}

// quotedEnd returns the index just past the quoted token starting at i,
// honouring backslash escapes and doubled quotes.
func quotedEnd(q string, i int) int {
	quote := q[i]
	for j := i + 1; j < len(q); j++ {
		switch q[j] {
		case '\\':
			j++
		case quote:
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

// unescape removes backslash escapes and undoubles quotes well enough to
// compare a quoted name with a plain one.
func unescape(s string) string {
	if !strings.ContainsAny(s, "\\`\"") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isWord(c byte) bool {
	return c == '_' || isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
