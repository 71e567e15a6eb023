package compiler

import (
	"sort"
	"strconv"
	"strings"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
)

// MappedSource returns a SELECT (without a trailing semicolon) over the
// source's view that adds layout.ProfileIDColumn to every row: the profile of
// the row's strongest identifier found in the identifiers table. Identifiers
// are tried by their type's priority (IDType.Rank ascending, then their index
// in the source); rows whose identifiers resolve to no profile are left out.
// Profiles and segments read sources through it.
func MappedSource(p *models.Project, t layout.Tables, s *models.Source) string {
	d := t.D
	view := t.Q(t.SourceView(s.Name))
	if len(s.Identifiers) == 0 {
		// No identifier, no profile: keep the columns, return no row.
		return "SELECT v.*, " + d.CastText("NULL") + " AS " + d.QuoteIdent(layout.ProfileIDColumn) + "\n" +
			"FROM " + view + " AS v\n" +
			"WHERE 1 = 0"
	}
	ids := t.Q(t.Identifiers())
	pid := d.QuoteIdent("profile_id")
	var joins, picks []string
	for _, i := range identifierPriority(p, s) {
		alias := "i" + strconv.Itoa(i)
		picks = append(picks, alias+"."+pid)
		joins = append(joins, "LEFT JOIN "+ids+" AS "+alias+"\n"+
			"  ON "+alias+"."+d.QuoteIdent("id_type")+" = "+d.QuoteString(s.Identifiers[i].Type)+
			" AND "+alias+"."+d.QuoteIdent("id_value")+" = v."+d.QuoteIdent(layout.SourceIdentColumn(i)))
	}
	profile := "COALESCE(" + strings.Join(picks, ", ") + ")"
	if len(picks) == 1 {
		profile = picks[0]
	}
	return "SELECT v.*, " + profile + " AS " + d.QuoteIdent(layout.ProfileIDColumn) + "\n" +
		"FROM " + view + " AS v\n" +
		strings.Join(joins, "\n") + "\n" +
		"WHERE " + profile + " IS NOT NULL"
}

// identifierPriority returns the indexes of s.Identifiers, strongest first:
// by the rank of their identifier type (unknown types last), then by index.
func identifierPriority(p *models.Project, s *models.Source) []int {
	rank := func(i int) int {
		if it := p.IDType(s.Identifiers[i].Type); it != nil {
			return it.Rank
		}
		return int(^uint(0) >> 1)
	}
	order := make([]int, len(s.Identifiers))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rank(order[a]) < rank(order[b]) })
	return order
}

// safeComment makes text safe inside a `--` comment or a statement label:
// anything but letters, digits and a few punctuation marks becomes '?', so a
// hostile name can never end the comment and start SQL.
func safeComment(text string) string {
	b := []byte(text)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte(" _.,:=<>()[]%+-/#@", c) >= 0:
		default:
			b[i] = '?'
		}
	}
	return string(b)
}

// userPredicate wraps user-written SQL (a `where` or an `expr`) in
// parentheses; a line comment inside it cannot swallow the closing one.
func userPredicate(sql string) string {
	sql = strings.TrimSpace(sql)
	if strings.Contains(sql, "--") {
		return "(" + sql + "\n)"
	}
	return "(" + sql + ")"
}
