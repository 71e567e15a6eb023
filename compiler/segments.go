package compiler

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/program"
	"github.com/cdpkit/cdp/warehouse"
)

// SegmentSQL returns the statements that refresh the rows of one segment in
// `<e>_segments`: create the table when missing, compute the new membership
// from `<e>_profiles` into a scratch table `<e>__seg_<name>`, then replace
// the segment's rows with it and drop the scratch table. A member keeps the
// entered_at of its previous row for the segment; a new member enters at
// asOf. in_holdout is HashFraction(profile_id || ':<segment>') < holdout, so
// the control group is stable across runs (always FALSE without holdout).
//
// Condition semantics (every condition is TRUE or FALSE, never NULL, so
// `not` is a plain complement):
//   - all / any / not: AND / OR / NOT; an empty all is TRUE, an empty any FALSE.
//   - trait eq gt gte lt lte in between contains starts_with ends_with within
//     before after: FALSE when the trait is NULL. `eq: null` means IS NULL.
//   - trait ne / not_in: TRUE when the trait is NULL or differs from every
//     value (a NULL in a not_in list removes NULL traits; `ne: null` means
//     IS NOT NULL).
//   - is_set: true → IS NOT NULL, false → IS NULL.
//   - within: trait >= asOf minus the duration; before/after: strictly
//     before/after a timestamp (RFC 3339 or a date) or asOf minus a duration.
//   - event: the profile's count of rows of the event source whose event
//     column equals the event name (within the window, passing `where`),
//     compared with the count operator (default gte 1; eq 0 = did not).
//   - segment: the profile is a member (holdout included) of that segment,
//     which must have been refreshed first.
//
// Conditions the validator rejects (unknown operator, malformed value)
// compile to FALSE.
func SegmentSQL(p *models.Project, t layout.Tables, seg *models.Segment, asOf time.Time) []Step {
	d, q := t.D, t.D.QuoteIdent
	table := t.Q(t.Segments())
	scratch := t.Q(t.Entity + "__seg_" + seg.Name)
	name := d.QuoteString(seg.Name)
	label := safeComment("segment " + seg.Name)
	cols := q("segment") + ", " + q("profile_id") + ", " + q("in_holdout") + ", " + q("entered_at")

	var steps []Step
	steps = append(steps, S(label+": create "+safeComment(t.Segments())+" if missing", SegmentsDDL(d, table)))
	held := newlineSafe(t)
	members := warehouse.CreateScratchTableAs(held.D, held.Q(held.Entity+"__seg_"+seg.Name), segmentQuery(p, held, seg, asOf))
	steps = append(steps, Stmts(label+": compute members", releaseNewlines(members)...)...)
	steps = append(steps,
		program.Atomic(label+": replace rows",
			"DELETE FROM "+table+" WHERE "+q("segment")+" = "+name,
			"INSERT INTO "+table+" ("+cols+")\n"+
				"SELECT "+name+", "+q("profile_id")+", "+q("in_holdout")+", "+q("entered_at")+"\n"+
				"FROM "+scratch),
		S(label+": drop scratch table", d.DropTable(scratch)))
	return steps
}

// SegmentsDDL creates the segments table (quoted, qualified name) if it does
// not exist.
func SegmentsDDL(d warehouse.Dialect, table string) string {
	q := d.QuoteIdent
	return "CREATE TABLE IF NOT EXISTS " + table + " (\n" +
		"  " + q("segment") + " " + d.TypeName(models.TypeString) + ",\n" +
		"  " + q("profile_id") + " " + d.TypeName(models.TypeString) + ",\n" +
		"  " + q("in_holdout") + " " + d.TypeName(models.TypeBoolean) + ",\n" +
		"  " + q("entered_at") + " " + d.TypeName(models.TypeTimestamp) + "\n" +
		")"
}

// segmentBuilder renders one segment's membership query.
type segmentBuilder struct {
	p    *models.Project
	t    layout.Tables
	d    warehouse.Dialect
	asOf string // rendered as-of timestamp literal

	sources    mappedCTEs // the event sources conditions read
	eventCTEs  []string   // rendered event-count CTEs in tree order
	eventNames []string   // their names (ev1, ev2…)
}

// segmentQuery renders the SELECT of the new rows of seg (profile_id,
// in_holdout, entered_at).
func segmentQuery(p *models.Project, t layout.Tables, seg *models.Segment, asOf time.Time) string {
	d, q := t.D, t.D.QuoteIdent
	b := &segmentBuilder{p: p, t: t, d: d, asOf: d.TimestampLiteral(asOf)}
	pid := q("profile_id")
	cond := b.cond(seg.Where)

	members := "SELECT p." + pid + "\n" +
		"FROM " + t.Q(t.Profiles()) + " AS p"
	for _, ev := range b.eventNames {
		members += "\nLEFT JOIN " + ev + " ON " + ev + "." + q(layout.ProfileIDColumn) + " = p." + pid
	}
	members += "\nWHERE " + cond
	prev := "SELECT " + pid + ", " + q("entered_at") + "\n" +
		"FROM " + t.Q(t.Segments()) + "\n" +
		"WHERE " + q("segment") + " = " + d.QuoteString(seg.Name)

	ctes := append(append([]string{}, b.sources.ctes...), b.eventCTEs...)
	ctes = append(ctes,
		cteBlock("profiles matching segment "+seg.Name, "members", members),
		cteBlock("current members and when they entered", "prev", prev))
	return "WITH\n" + strings.Join(ctes, ",\n") + "\n" +
		"SELECT\n" +
		"  m." + pid + ",\n" +
		"  " + holdoutSQL(d, "m."+pid, seg) + " AS " + q("in_holdout") + ",\n" +
		"  COALESCE(prev." + q("entered_at") + ", " + b.asOf + ") AS " + q("entered_at") + "\n" +
		"FROM members AS m\n" +
		"LEFT JOIN prev ON prev." + pid + " = m." + pid
}

// holdoutSQL is the in_holdout expression of a member.
func holdoutSQL(d warehouse.Dialect, profileID string, seg *models.Segment) string {
	if !(seg.Holdout > 0) {
		return "FALSE"
	}
	return d.HashFraction(profileID+" || "+d.QuoteString(":"+seg.Name)) + " < " + strconv.FormatFloat(seg.Holdout, 'g', -1, 64)
}

// cond renders a condition tree as a boolean expression over the profile p
// and the event CTEs, never NULL.
func (b *segmentBuilder) cond(c *models.Condition) string {
	if c == nil {
		return "TRUE"
	}
	switch c.Kind {
	case models.CondAll, models.CondAny:
		op, empty := "AND", "TRUE"
		if c.Kind == models.CondAny {
			op, empty = "OR", "FALSE"
		}
		if len(c.Children) == 0 {
			return empty
		}
		parts := make([]string, len(c.Children))
		for i, ch := range c.Children {
			parts[i] = b.cond(ch)
		}
		if len(parts) == 1 {
			return parts[0]
		}
		return "(\n" + indentBlock(strings.Join(parts, "\n"+op+" ")) + "\n)"
	case models.CondNot:
		if len(c.Children) != 1 {
			return "FALSE"
		}
		return "NOT " + parenthesize(b.cond(c.Children[0]))
	case models.CondTrait:
		return traitCond(b.d, b.asOf, "p."+b.d.QuoteIdent(c.Trait), c.Op, c.Value)
	case models.CondEvent:
		return b.eventCond(c)
	case models.CondSegment:
		q := b.d.QuoteIdent
		return "p." + q("profile_id") + " IN (SELECT " + q("profile_id") + " FROM " + b.t.Q(b.t.Segments()) +
			" WHERE " + q("segment") + " = " + b.d.QuoteString(c.Segment) + ")"
	}
	return "FALSE"
}

// parenthesize wraps an expression unless it already is one parenthesized group.
func parenthesize(e string) string {
	if strings.HasPrefix(e, "(\n") && strings.HasSuffix(e, "\n)") {
		return e
	}
	return "(" + e + ")"
}

// eventCond renders an event condition: an event-count CTE joined to the
// profiles, compared with the count operator.
func (b *segmentBuilder) eventCond(c *models.Condition) string {
	d, q := b.d, b.d.QuoteIdent
	src := eventSource(b.p, c.EventSource)
	if src == nil {
		return "FALSE"
	}
	name := "ev" + strconv.Itoa(len(b.eventNames)+1)
	filters := []string{q(src.Event) + " = " + d.QuoteString(c.Event)}
	comment := "event " + c.Event + " in " + src.Name
	if c.EventWithin != nil {
		filters = append(filters, q(layout.SourceTSColumn)+" >= "+d.SubtractHours(b.asOf, c.EventWithin.Hours()),
			q(layout.SourceTSColumn)+" <= "+b.asOf)
		comment += " within " + c.EventWithin.Text
	}
	if strings.TrimSpace(c.EventWhere) != "" {
		filters = append(filters, userPredicate(models.RenderAsOf(c.EventWhere, b.asOf)))
	}
	pid := q(layout.ProfileIDColumn)
	body := "SELECT " + pid + ", COUNT(*) AS " + q(colRows) + "\n" +
		"FROM " + b.sources.name(b.p, b.t, src) + whereClause(filters) + "\n" +
		"GROUP BY " + pid
	b.eventCTEs = append(b.eventCTEs, cteBlock(comment, name, body))
	b.eventNames = append(b.eventNames, name)

	op, n := "gte", int64(1)
	if c.Count != nil {
		op, n = c.Count.Op, c.Count.Value
	}
	sqlOp, ok := comparisonOps[op]
	if !ok {
		return "FALSE"
	}
	return "COALESCE(" + name + "." + q(colRows) + ", 0) " + sqlOp + " " + strconv.FormatInt(n, 10)
}

// eventSource returns the named source, or the only event stream when name
// is empty (nil when there is none or it is ambiguous).
func eventSource(p *models.Project, name string) *models.Source {
	if name != "" {
		if s := p.Source(name); s != nil && s.IsEventStream() {
			return s
		}
		return nil
	}
	var found *models.Source
	for _, s := range p.Sources {
		if s.IsEventStream() {
			if found != nil {
				return nil
			}
			found = s
		}
	}
	return found
}

// comparisonOps maps comparison operators to SQL.
var comparisonOps = map[string]string{"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

// traitCond renders a trait condition on column col (never NULL).
func traitCond(d warehouse.Dialect, asOf, col, op string, v any) string {
	isNull, notNull := col+" IS NULL", col+" IS NOT NULL"
	guard := func(e string) string { return "(" + notNull + " AND " + e + ")" }
	switch op {
	case "eq", "gt", "gte", "lt", "lte":
		if v == nil {
			if op == "eq" {
				return isNull
			}
			return "FALSE"
		}
		return guard(col + " " + comparisonOps[op] + " " + sqlLiteral(d, v))
	case "ne":
		if v == nil {
			return notNull
		}
		return "(" + isNull + " OR " + col + " <> " + sqlLiteral(d, v) + ")"
	case "in", "not_in":
		return inCond(d, col, op == "not_in", v)
	case "contains", "starts_with", "ends_with":
		s, ok := v.(string)
		if !ok {
			if v == nil {
				return "FALSE"
			}
			s = fmt.Sprint(v)
		}
		text, lit := d.CastText(col), s // the dialect quotes the literal
		switch op {
		case "contains":
			return guard(d.Contains(text, lit))
		case "starts_with":
			return guard(d.StartsWith(text, lit))
		}
		return guard(d.EndsWith(text, lit))
	case "between":
		vs, ok := v.([]any)
		if !ok || len(vs) != 2 || vs[0] == nil || vs[1] == nil {
			return "FALSE"
		}
		return guard(col + " BETWEEN " + sqlLiteral(d, vs[0]) + " AND " + sqlLiteral(d, vs[1]))
	case "is_set":
		if set, ok := v.(bool); ok && !set {
			return isNull
		}
		return notNull
	case "within":
		if dur := durationValue(v); dur != nil {
			return guard(col + " >= " + d.SubtractHours(asOf, dur.Hours()) + " AND " + col + " <= " + asOf)
		}
	case "before", "after":
		if lit, ok := timeLiteral(d, asOf, v); ok {
			cmp := " < "
			if op == "after" {
				cmp = " > "
			}
			return guard(col + cmp + lit)
		}
	}
	return "FALSE"
}

// inCond renders in / not_in over a list (a scalar is a one-element list).
// A NULL in the list matches NULL traits.
func inCond(d warehouse.Dialect, col string, negate bool, v any) string {
	vs, ok := v.([]any)
	if !ok {
		vs = []any{v}
	}
	var lits []string
	hasNull := false
	for _, x := range vs {
		if x == nil {
			hasNull = true
			continue
		}
		lits = append(lits, sqlLiteral(d, x))
	}
	list := "(" + strings.Join(lits, ", ") + ")"
	switch {
	case !negate && len(lits) == 0 && hasNull:
		return col + " IS NULL"
	case !negate && len(lits) == 0:
		return "FALSE"
	case !negate && hasNull:
		return "(" + col + " IS NULL OR " + col + " IN " + list + ")"
	case !negate:
		return "(" + col + " IS NOT NULL AND " + col + " IN " + list + ")"
	case len(lits) == 0 && hasNull:
		return col + " IS NOT NULL"
	case len(lits) == 0:
		return "TRUE"
	case hasNull:
		return "(" + col + " IS NOT NULL AND " + col + " NOT IN " + list + ")"
	default:
		return "(" + col + " IS NULL OR " + col + " NOT IN " + list + ")"
	}
}

// sqlLiteral renders a YAML scalar as a SQL literal: strings quoted by the
// dialect, integers and finite floats as numbers, booleans as TRUE/FALSE,
// nil (and non-finite floats) as NULL. Anything else is quoted as text.
func sqlLiteral(d warehouse.Dialect, v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return d.QuoteString(x)
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "NULL"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return d.TimestampLiteral(x.UTC())
	}
	return d.QuoteString(fmt.Sprint(v))
}

// durationValue returns v as a duration (pointer or value), or nil.
func durationValue(v any) *models.Duration {
	switch x := v.(type) {
	case *models.Duration:
		return x
	case models.Duration:
		return &x
	}
	return nil
}

// timeLayouts are the accepted spellings of before/after timestamps.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

// timeLiteral renders the bound of before/after: a timestamp string, a
// time.Time, or a duration before asOf. Unparseable strings stay quoted text.
func timeLiteral(d warehouse.Dialect, asOf string, v any) (string, bool) {
	if dur := durationValue(v); dur != nil {
		return d.SubtractHours(asOf, dur.Hours()), true
	}
	switch x := v.(type) {
	case time.Time:
		return d.TimestampLiteral(x.UTC()), true
	case string:
		for _, layout := range timeLayouts {
			if tm, err := time.Parse(layout, x); err == nil {
				return d.TimestampLiteral(tm.UTC()), true
			}
		}
		return d.QuoteString(x), true
	}
	return "", false
}
