package compiler

import (
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/program"
	"github.com/cdpkit/cdp/warehouse"
)

// ProfilesSQL returns the statements that (re)build `<e>_profiles`: one row
// per distinct profile_id of the identifiers table (profiles without any
// trait value included), one column per trait in p.Traits order, and
// updated_at set to asOf.
//
// Semantics, per trait kind:
//   - pick latest/earliest: the value of the row with the greatest/smallest
//     _cdp_ts (rows without a timestamp come last), ties broken by the
//     smallest value in byte order; rows whose value is NULL are ignored.
//   - pick most_frequent: the value on the most rows; ties go to the value
//     seen most recently, then to the smallest in byte order.
//   - pick max/min: MAX/MIN of the value (the column's own ordering).
//   - pick any: the smallest value in byte order (deterministic).
//   - aggregate count/count_distinct/sum/avg/min/max over the rows passing
//     `where` and `within`; count and count_distinct are 0 for a profile
//     without rows, every other aggregate is NULL (a profile without orders
//     has no lifetime value rather than a zero one).
//   - several `from` entries: each source is computed on its own, and the
//     first non-NULL result in list order wins (source priority).
//   - expr: SQL over other traits, computed in layers so an expression may
//     use traits that are themselves expressions.
//   - identifier: the normalized value of one of the profile's identifiers
//     of the type (see identifierBody for the picks).
//
// `type` casts the final value with the dialect's Cast.
func ProfilesSQL(p *models.Project, t layout.Tables, asOf time.Time) []Step {
	t = newlineSafe(t)
	b := &profileBuilder{p: p, t: t, d: t.D, asOf: t.D.TimestampLiteral(asOf)}
	label := "build " + safeComment(t.Profiles())
	return []Step{program.Atomic(label, releaseNewlines(t.D.CreateTableAs(t.Q(t.Profiles()), b.query()))...)}
}

// Column names private to the compiled profile SQL.
const (
	colValue  = "_cdp_value"
	colRank   = "_cdp_rn"
	colRows   = "_cdp_n"
	colLastTS = "_cdp_last_ts"
)

// profileBuilder accumulates the CTEs of the profiles query.
type profileBuilder struct {
	p    *models.Project
	t    layout.Tables
	d    warehouse.Dialect
	asOf string // rendered as-of timestamp literal

	sources    mappedCTEs        // the sources traits read
	idNames    map[string]string // identifier type → its occurrences CTE (see idOccurrences)
	idCTEs     []string          // rendered occurrences CTEs in first-use order
	traitCTEs  []string          // rendered trait CTEs in p.Traits order
	traitNames []string          // their names (t1, t2_1…), to join them
}

// query renders the whole SELECT.
func (b *profileBuilder) query() string {
	q := b.d.QuoteIdent
	pid := q("profile_id")
	cols := []string{"p." + pid}
	for k, tr := range b.p.Traits {
		if !tr.IsExpr() {
			cols = append(cols, b.traitColumn(k+1, tr)+" AS "+q(tr.Name))
		}
	}
	only := ""
	if b.sources.only != "" {
		only = "\n  WHERE " + pid + " IN (SELECT " + pid + " FROM " + b.sources.only + ")"
	}
	base := "SELECT\n" + indentBlock(strings.Join(cols, ",\n")) + "\n" +
		"FROM (\n" +
		"  SELECT DISTINCT " + pid + "\n" +
		"  FROM " + b.t.Q(b.t.Identifiers()) + only + "\n" +
		") AS p"
	for _, name := range b.traitNames {
		base += "\nLEFT JOIN " + name + " ON " + name + "." + q(layout.ProfileIDColumn) + " = p." + pid
	}
	ctes := append(append(append([]string{}, b.sources.ctes...), b.idCTEs...), b.traitCTEs...)
	ctes = append(ctes, cteBlock("every profile with its source-based traits", "base", base))
	from := "base"
	for n, layer := range exprLayers(b.p.Traits) {
		name := "x" + strconv.Itoa(n+1)
		exprs := []string{"*"}
		for _, tr := range layer {
			e := userPredicate(models.RenderAsOf(tr.Expr, b.asOf))
			if tr.Type != "" {
				e = b.d.Cast(e, tr.Type)
			}
			exprs = append(exprs, e+" AS "+q(tr.Name))
		}
		body := "SELECT\n" + indentBlock(strings.Join(exprs, ",\n")) + "\nFROM " + from
		ctes = append(ctes, cteBlock("expression traits, layer "+strconv.Itoa(n+1), name, body))
		from = name
	}
	final := []string{pid}
	for _, tr := range b.p.Traits {
		final = append(final, q(tr.Name))
	}
	final = append(final, b.asOf+" AS "+q("updated_at"))
	return "WITH\n" + strings.Join(ctes, ",\n") + "\n" +
		"SELECT\n" + indentBlock(strings.Join(final, ",\n")) + "\n" +
		"FROM " + from
}

// traitColumn renders the CTEs of a source-based trait (the k-th trait) and
// returns the expression of its value in the base CTE.
func (b *profileBuilder) traitColumn(k int, tr *models.Trait) string {
	if tr.IsIdentifier() {
		name := "t" + strconv.Itoa(k)
		b.traitCTEs = append(b.traitCTEs, cteBlock(identifierComment(b.p, tr), name, b.identifierBody(tr)))
		b.traitNames = append(b.traitNames, name)
		return name + "." + b.d.QuoteIdent(colValue)
	}
	var values []string
	for j, ref := range tr.From {
		name := "t" + strconv.Itoa(k)
		comment := "trait " + tr.Name + ": " + traitKind(tr) + " of " + ref.Source
		if ref.Column != "" {
			comment += "." + ref.Column
		}
		if tr.Within != nil {
			comment += " within " + tr.Within.Text
		}
		if len(tr.From) > 1 {
			name += "_" + strconv.Itoa(j+1)
			comment += " (source priority " + strconv.Itoa(j+1) + ")"
		}
		body := b.traitBody(tr, ref, b.sources.name(b.p, b.t, projectSource(b.p, ref.Source)))
		b.traitCTEs = append(b.traitCTEs, cteBlock(comment, name, body))
		b.traitNames = append(b.traitNames, name)
		values = append(values, name+"."+b.d.QuoteIdent(colValue))
	}
	if tr.Aggregate == models.AggCount || tr.Aggregate == models.AggCountDistinct {
		values = append(values, "0")
	}
	v := b.d.CastText("NULL") // no source (rejected by validation): a typed NULL column
	switch {
	case len(values) == 1:
		v = values[0]
	case len(values) > 1:
		v = "COALESCE(" + strings.Join(values, ", ") + ")"
	}
	if tr.Type != "" {
		v = b.d.Cast(v, tr.Type)
	}
	return v
}

// traitKind names the pick or aggregate of a source-based trait.
func traitKind(tr *models.Trait) string {
	if tr.Aggregate != "" {
		return tr.Aggregate
	}
	if tr.Pick == "" {
		return models.PickLatest
	}
	return tr.Pick
}

// projectSource returns the named source, or an identifier-less stand-in
// (whose mapped rows are empty) when the model does not declare it.
func projectSource(p *models.Project, name string) *models.Source {
	if s := p.Source(name); s != nil {
		return s
	}
	return &models.Source{Name: name}
}

// traitBody renders the SELECT of one (trait, source) pair: at most one row
// per profile, with the value in colValue.
func (b *profileBuilder) traitBody(tr *models.Trait, ref models.ColumnRef, src string) string {
	d, q := b.d, b.d.QuoteIdent
	ts := q(layout.SourceTSColumn)
	value := "NULL"
	if ref.Column != "" {
		value = q(ref.Column)
	}
	var filters []string
	if tr.Aggregate == "" {
		filters = append(filters, value+" IS NOT NULL")
	}
	if tr.Within != nil {
		// the window ends at the run's as-of time: replays ignore later rows
		filters = append(filters, ts+" >= "+d.SubtractHours(b.asOf, tr.Within.Hours()), ts+" <= "+b.asOf)
	}
	if strings.TrimSpace(tr.Where) != "" {
		filters = append(filters, userPredicate(models.RenderAsOf(tr.Where, b.asOf)))
	}
	if tr.Aggregate != "" {
		return b.grouped(b.aggregate(tr, ref, value), src, filters)
	}
	byteOrder := d.ByteOrder(d.CastText(value))
	switch tr.Pick {
	case models.PickMax:
		return b.grouped("MAX("+value+")", src, filters)
	case models.PickMin:
		return b.grouped("MIN("+value+")", src, filters)
	case models.PickAny:
		return b.firstRow(value, src, filters, byteOrder)
	case models.PickEarliest:
		return b.firstRow(value, src, filters, "("+ts+" IS NULL), "+ts+" ASC", byteOrder)
	case models.PickMostFrequent:
		return b.mostFrequent(value, src, filters)
	default: // latest
		return b.firstRow(value, src, filters, "("+ts+" IS NULL), "+ts+" DESC", byteOrder)
	}
}

// aggregate renders the aggregate function of an aggregate trait.
func (b *profileBuilder) aggregate(tr *models.Trait, ref models.ColumnRef, value string) string {
	switch tr.Aggregate {
	case models.AggCount:
		if ref.Column == "" {
			return "COUNT(*)"
		}
		return "COUNT(" + value + ")"
	case models.AggCountDistinct:
		if ref.Column != "" {
			return "COUNT(DISTINCT " + value + ")"
		}
		if pk := projectSource(b.p, ref.Source).PrimaryKey; pk != "" {
			return "COUNT(DISTINCT " + b.d.QuoteIdent(pk) + ")"
		}
		return "COUNT(*)"
	case models.AggSum:
		return "SUM(" + value + ")"
	case models.AggAvg:
		return "AVG(" + value + ")"
	case models.AggMin:
		return "MIN(" + value + ")"
	case models.AggMax:
		return "MAX(" + value + ")"
	}
	return "MAX(NULL)" // unknown aggregate, rejected by validation: no value
}

// grouped is one aggregate value per profile.
func (b *profileBuilder) grouped(agg, src string, filters []string) string {
	q := b.d.QuoteIdent
	pid := q(layout.ProfileIDColumn)
	return "SELECT " + pid + ", " + agg + " AS " + q(colValue) + "\n" +
		"FROM " + src + whereClause(filters) + "\n" +
		"GROUP BY " + pid
}

// firstRow keeps, per profile, the value of the first row in the given order.
func (b *profileBuilder) firstRow(value, src string, filters []string, order ...string) string {
	q := b.d.QuoteIdent
	pid := q(layout.ProfileIDColumn)
	inner := "SELECT\n" +
		"  " + pid + ",\n" +
		"  " + value + " AS " + q(colValue) + ",\n" +
		"  ROW_NUMBER() OVER (\n" +
		"    PARTITION BY " + pid + "\n" +
		"    ORDER BY " + strings.Join(order, ", ") + "\n" +
		"  ) AS " + q(colRank) + "\n" +
		"FROM " + src + whereClause(filters)
	return b.keepFirst(inner)
}

// mostFrequent keeps, per profile, the value found on the most rows; ties go
// to the most recently seen value, then to the smallest in byte order.
func (b *profileBuilder) mostFrequent(value, src string, filters []string) string {
	d, q := b.d, b.d.QuoteIdent
	pid, v := q(layout.ProfileIDColumn), q(colValue)
	counts := "SELECT " + pid + ", " + value + " AS " + v + ", COUNT(*) AS " + q(colRows) +
		", MAX(" + q(layout.SourceTSColumn) + ") AS " + q(colLastTS) + "\n" +
		"FROM " + src + whereClause(filters) + "\n" +
		"GROUP BY " + pid + ", " + value
	inner := "SELECT\n" +
		"  " + pid + ",\n" +
		"  " + v + ",\n" +
		"  ROW_NUMBER() OVER (\n" +
		"    PARTITION BY " + pid + "\n" +
		"    ORDER BY " + q(colRows) + " DESC, (" + q(colLastTS) + " IS NULL), " + q(colLastTS) + " DESC, " + d.ByteOrder(d.CastText(v)) + "\n" +
		"  ) AS " + q(colRank) + "\n" +
		"FROM (\n" + indentBlock(counts) + "\n) AS g"
	return b.keepFirst(inner)
}

// keepFirst wraps a query numbering rows per profile and keeps the first.
func (b *profileBuilder) keepFirst(inner string) string {
	q := b.d.QuoteIdent
	return "SELECT " + q(layout.ProfileIDColumn) + ", " + q(colValue) + "\n" +
		"FROM (\n" + indentBlock(inner) + "\n) AS r\n" +
		"WHERE " + q(colRank) + " = 1"
}

// whereClause renders filters as a WHERE clause on a new line (empty when
// there is none), one further condition per line.
func whereClause(filters []string) string {
	if len(filters) == 0 {
		return ""
	}
	return "\nWHERE " + strings.Join(filters, "\n  AND ")
}

// cteBlock renders `-- comment` then `name AS (body)` with body indented.
func cteBlock(comment, name, body string) string {
	return "-- " + safeComment(comment) + "\n" + name + " AS (\n" + indentBlock(body) + "\n)"
}

// exprLayers groups the expression traits in layers: a trait comes one layer
// after the latest expression trait it references (references are found by
// exprRefs). Within a layer traits keep their p.Traits order. Traits caught
// in a reference cycle (rejected by validation) go to a last layer.
func exprLayers(traits []*models.Trait) [][]*models.Trait {
	names := map[string]bool{}
	for _, tr := range traits {
		if tr.IsExpr() {
			names[tr.Name] = true
		}
	}
	layer := map[string]int{}
	var pending []*models.Trait
	for _, tr := range traits {
		if tr.IsExpr() {
			pending = append(pending, tr)
		}
	}
	depth := 0
	for len(pending) > 0 {
		var rest []*models.Trait
		for _, tr := range pending {
			l, ready := 1, true
			for _, ref := range exprRefs(tr.Expr) {
				if ref == tr.Name || !names[ref] {
					continue
				}
				dl, ok := layer[ref]
				if !ok {
					ready = false
					break
				}
				l = max(l, dl+1)
			}
			if ready {
				layer[tr.Name] = l
				depth = max(depth, l)
			} else {
				rest = append(rest, tr)
			}
		}
		if len(rest) == len(pending) { // a cycle: nothing more resolves
			for _, tr := range rest {
				layer[tr.Name] = depth + 1
			}
			depth++
			break
		}
		pending = rest
	}
	out := make([][]*models.Trait, depth)
	for _, tr := range traits {
		if tr.IsExpr() {
			out[layer[tr.Name]-1] = append(out[layer[tr.Name]-1], tr)
		}
	}
	return out
}

// exprRefs returns the word tokens of a SQL expression in order: runs of
// letters, digits and underscores, plus the content of double-quoted
// identifiers. String literals and line comments are skipped.
func exprRefs(expr string) []string {
	var out []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(expr) {
				if expr[j] == c {
					if j+1 < len(expr) && expr[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			if c == '"' {
				out = append(out, strings.ReplaceAll(expr[i+1:min(j, len(expr))], `""`, `"`))
			}
			i = j + 1
		case c == '-' && i+1 < len(expr) && expr[i+1] == '-':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case isWordByte(c):
			j := i
			for j < len(expr) && isWordByte(expr[j]) {
				j++
			}
			out = append(out, expr[i:j])
			i = j
		default:
			i++
		}
	}
	return out
}

// isWordByte reports whether c can be part of an unquoted SQL identifier.
func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
