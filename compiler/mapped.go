package compiler

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// MappedSource returns a SELECT (without a trailing semicolon) over the
// source's view that adds layout.ProfileIDColumn to every row: the profile of
// the row's strongest identifier found in the identifiers table. Identifiers
// are tried by their type's priority (IDType.Rank ascending, then their index
// in the source); rows whose identifiers resolve to no profile are left out.
// Profiles and segments read sources through it.
func MappedSource(p *models.Project, t layout.Tables, s *models.Source) string {
	return mappedSource(p, t, s, nil, "")
}

// mappedSource is MappedSource keeping only the rows that pass every row
// condition (SQL over the view's row, alias v) and, when profileIn names a
// relation, whose profile is one of its profile_id values.
func mappedSource(p *models.Project, t layout.Tables, s *models.Source, rowConds []string, profileIn string) string {
	d := t.D
	extra := ""
	for _, c := range rowConds {
		extra += "\n  AND " + c
	}
	view := t.Q(t.SourceView(s.Name))
	if len(s.Identifiers) == 0 {
		// No identifier, no profile: keep the columns, return no row.
		return "SELECT v.*, " + d.CastText("NULL") + " AS " + d.QuoteIdent(layout.ProfileIDColumn) + "\n" +
			"FROM " + view + " AS v\n" +
			"WHERE 1 = 0" + extra
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
	if profileIn != "" {
		extra += "\n  AND " + profile + " IN (SELECT " + pid + " FROM " + profileIn + ")"
	}
	return "SELECT v.*, " + profile + " AS " + d.QuoteIdent(layout.ProfileIDColumn) + "\n" +
		"FROM " + view + " AS v\n" +
		strings.Join(joins, "\n") + "\n" +
		"WHERE " + profile + " IS NOT NULL" + extra
}

// mappedCTEs renders each source's MappedSource once, as a CTE named s1,
// s2… in first-use order, for queries reading several times from a source.
type mappedCTEs struct {
	names map[string]string // source name → CTE name
	ctes  []string          // rendered CTEs in first-use order
	// only, when set, names a relation of profile_id values: the CTEs keep
	// only the rows of those profiles.
	only string
	// onlyIDs names the relation of those profiles' (id_type, id_value): a
	// row of theirs carries one of them, so rows without any are skipped
	// before the join to the identifiers table.
	onlyIDs string
}

// SourceRowsCarrying returns a SELECT of every column of the source's
// view (the source's own columns and the `_cdp_` ones) for the rows that
// carry one of the identifiers of ids, a relation of (id_type, id_value)
// such as "(SELECT id_type, id_value FROM … WHERE profile_id = …) AS x":
// a row's identifiers are compared as the view normalizes them, exactly
// as identity resolution reads them.
func SourceRowsCarrying(t layout.Tables, s *models.Source, ids string) string {
	return "SELECT v.*\nFROM " + t.Q(t.SourceView(s.Name)) + " AS v\nWHERE " + carriesOneOf(t, s, ids)
}

// carriesOneOf is the condition that a row of s (alias v) carries one of
// the identifiers of ids (a relation of id_type, id_value).
func carriesOneOf(t layout.Tables, s *models.Source, ids string) string {
	d := t.D
	if len(s.Identifiers) == 0 {
		return "FALSE"
	}
	var ors []string
	for i, id := range s.Identifiers {
		ors = append(ors, "v."+d.QuoteIdent(layout.SourceIdentColumn(i))+" IN (SELECT "+d.QuoteIdent("id_value")+
			" FROM "+ids+" WHERE "+d.QuoteIdent("id_type")+" = "+d.QuoteString(id.Type)+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// name returns the CTE name of s, rendering its CTE on first use.
func (m *mappedCTEs) name(p *models.Project, t layout.Tables, s *models.Source) string {
	if cte, ok := m.names[s.Name]; ok {
		return cte
	}
	if m.names == nil {
		m.names = map[string]string{}
	}
	cte := "s" + strconv.Itoa(len(m.ctes)+1)
	m.names[s.Name] = cte
	m.ctes = append(m.ctes, cteBlock("rows of source "+s.Name+" with their profile", cte, mappedSource(p, t, s, m.rowConds(t, s), m.only)))
	return cte
}

// rowConds are the row conditions of a mapped CTE.
func (m *mappedCTEs) rowConds(t layout.Tables, s *models.Source) []string {
	if m.onlyIDs == "" {
		return nil
	}
	return []string{carriesOneOf(t, s, m.onlyIDs)}
}

// identifierPriority returns the indexes of s.Identifiers, strongest first:
// by the rank of their identifier type (unknown types last), then by index.
func identifierPriority(p *models.Project, s *models.Source) []int {
	rank := func(i int) int {
		if it := p.IDType(s.Identifiers[i].Type); it != nil {
			return it.Rank
		}
		return math.MaxInt
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
// parentheses, its newlines held (see heldNewline) so that indenting never
// alters a string literal inside it; a line comment inside it cannot swallow
// the closing parenthesis.
func userPredicate(sql string) string {
	sql = holdNewlines(strings.TrimSpace(sql))
	if strings.Contains(sql, "--") {
		return "(" + sql + "\n)"
	}
	return "(" + sql + ")"
}

// heldNewline stands for a newline inside quoted names, literals and user SQL
// while a statement is assembled, so indentBlock (which indents after every
// newline) cannot change what they mean. No dialect emits a NUL byte: query
// text cannot hold one.
const heldNewline = "\x00"

// holdNewlines hides the newlines of s from indentBlock.
func holdNewlines(s string) string { return strings.ReplaceAll(s, "\n", heldNewline) }

// releaseNewlines restores the newlines held in finished statements.
func releaseNewlines(sqls []string) []string {
	return mapSQL(sqls, func(s string) string { return strings.ReplaceAll(s, heldNewline, "\n") })
}

// mapSQL applies f to every statement.
func mapSQL(sqls []string, f func(string) string) []string {
	out := make([]string, len(sqls))
	for i, s := range sqls {
		out[i] = f(s)
	}
	return out
}

// newlineSafe returns t with a dialect whose every rendering holds its
// newlines (see heldNewline); statements built with it go through
// releaseNewlines before they leave the package.
func newlineSafe(t layout.Tables) layout.Tables {
	t.D = heldDialect{t.D}
	return t
}

// heldDialect wraps a dialect, holding the newlines of everything it renders.
type heldDialect struct{ d warehouse.Dialect }

var _ warehouse.Dialect = heldDialect{}

func (h heldDialect) Name() string                  { return h.d.Name() }
func (h heldDialect) QuoteIdent(name string) string { return holdNewlines(h.d.QuoteIdent(name)) }
func (h heldDialect) QuoteString(s string) string   { return holdNewlines(h.d.QuoteString(s)) }
func (h heldDialect) Table(schema, table string) string {
	return holdNewlines(h.d.Table(schema, table))
}
func (h heldDialect) Relation(name string) string      { return holdNewlines(h.d.Relation(name)) }
func (h heldDialect) TypeName(cdpType string) string   { return holdNewlines(h.d.TypeName(cdpType)) }
func (h heldDialect) CastText(expr string) string      { return holdNewlines(h.d.CastText(expr)) }
func (h heldDialect) Cast(expr, cdpType string) string { return holdNewlines(h.d.Cast(expr, cdpType)) }
func (h heldDialect) TimestampLiteral(t time.Time) string {
	return holdNewlines(h.d.TimestampLiteral(t))
}
func (h heldDialect) SubtractHours(tsExpr string, hours int) string {
	return holdNewlines(h.d.SubtractHours(tsExpr, hours))
}
func (h heldDialect) RegexpMatch(expr, pattern string) string {
	return holdNewlines(h.d.RegexpMatch(expr, pattern))
}
func (h heldDialect) RegexpReplaceAll(expr, pattern, repl string) string {
	return holdNewlines(h.d.RegexpReplaceAll(expr, pattern, repl))
}
func (h heldDialect) RegexpMatchExpr(expr, patternExpr string) string {
	return holdNewlines(h.d.RegexpMatchExpr(expr, patternExpr))
}
func (h heldDialect) RegexpReplaceExpr(expr, patternExpr, replExpr string) string {
	return holdNewlines(h.d.RegexpReplaceExpr(expr, patternExpr, replExpr))
}
func (h heldDialect) MD5Hex(expr string) string        { return holdNewlines(h.d.MD5Hex(expr)) }
func (h heldDialect) SHA256Hex(expr string) string     { return holdNewlines(h.d.SHA256Hex(expr)) }
func (h heldDialect) HashFraction(expr string) string  { return holdNewlines(h.d.HashFraction(expr)) }
func (h heldDialect) ByteOrder(expr string) string     { return holdNewlines(h.d.ByteOrder(expr)) }
func (h heldDialect) Contains(expr, lit string) string { return holdNewlines(h.d.Contains(expr, lit)) }
func (h heldDialect) StartsWith(expr, lit string) string {
	return holdNewlines(h.d.StartsWith(expr, lit))
}
func (h heldDialect) EndsWith(expr, lit string) string { return holdNewlines(h.d.EndsWith(expr, lit)) }
func (h heldDialect) CreateSchema(schema string) string {
	return holdNewlines(h.d.CreateSchema(schema))
}
func (h heldDialect) CreateTableAs(table, query string) []string {
	return mapSQL(h.d.CreateTableAs(table, query), holdNewlines)
}

// CreateScratchTableAs forwards to the wrapped dialect's scratch tables
// (warehouse.CreateScratchTableAs), holding newlines like CreateTableAs.
func (h heldDialect) CreateScratchTableAs(table, query string) []string {
	return mapSQL(warehouse.CreateScratchTableAs(h.d, table, query), holdNewlines)
}
func (h heldDialect) CreateView(view, query string) []string {
	return mapSQL(h.d.CreateView(view, query), holdNewlines)
}
func (h heldDialect) DropTable(table string) string { return holdNewlines(h.d.DropTable(table)) }

// indentBlock indents every line of s by two spaces (see heldNewline).
func indentBlock(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

func (h heldDialect) UpdateFrom(target, column, value, source, cond string) string {
	return holdNewlines(h.d.UpdateFrom(target, column, value, source, cond))
}

func (h heldDialect) PrimaryKey(quotedCols []string) string { return h.d.PrimaryKey(quotedCols) }
func (h heldDialect) Trim(expr string) string               { return holdNewlines(h.d.Trim(expr)) }
func (h heldDialect) TrimSpace(expr string) string          { return holdNewlines(h.d.TrimSpace(expr)) }
func (h heldDialect) Lower(expr string) string              { return holdNewlines(h.d.Lower(expr)) }
