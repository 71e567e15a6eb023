package compiler

import (
	"strconv"
	"strings"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// Column names private to the compiled identifier traits.
const (
	colSource = "_cdp_source"
)

// idOccurrences renders, once per identifier type, the CTE of every
// normalized identifier of that type on the source rows, with its profile
// (the identifiers table's, so excluded and invalid values never appear)
// and its row's time and source; it returns the CTE's name.
//
// A row counts once per distinct value: a second column of the same type
// holding the first one's value adds nothing.
func (b *profileBuilder) idOccurrences(idType string) string {
	if name, ok := b.idNames[idType]; ok {
		return name
	}
	if b.idNames == nil {
		b.idNames = map[string]string{}
	}
	d, q := b.d, b.d.QuoteIdent
	name := "o" + strconv.Itoa(len(b.idCTEs)+1)
	b.idNames[idType] = name
	var parts []string
	for _, s := range b.p.Sources {
		var earlier []string // this row's previous columns of the type
		for i, id := range s.Identifiers {
			if id.Type != idType {
				continue
			}
			col := "v." + q(layout.SourceIdentColumn(i))
			conds := []string{col + " IS NOT NULL"}
			for _, e := range earlier {
				conds = append(conds, "("+e+" IS NULL OR "+col+" <> "+e+")")
			}
			if b.sources.onlyIDs != "" {
				conds = append(conds, col+" IN (SELECT "+q("id_value")+" FROM "+b.sources.onlyIDs+
					" WHERE "+q("id_type")+" = "+d.QuoteString(idType)+")")
			}
			earlier = append(earlier, col)
			parts = append(parts, "SELECT "+col+" AS "+q(colValue)+", v."+q(layout.SourceTSColumn)+" AS "+q(layout.SourceTSColumn)+
				", "+d.QuoteString(s.Name)+" AS "+q(colSource)+"\n"+
				"FROM "+b.t.Q(b.t.SourceView(s.Name))+" AS v"+whereClause(conds))
		}
	}
	if len(parts) == 0 { // no source maps the type (rejected by validation): no row
		parts = append(parts, "SELECT "+d.CastText("NULL")+" AS "+q(colValue)+", "+d.Cast("NULL", models.TypeTimestamp)+
			" AS "+q(layout.SourceTSColumn)+", "+d.CastText("NULL")+" AS "+q(colSource)+warehouse.NoRows)
	}
	body := "SELECT i." + q("profile_id") + " AS " + q(layout.ProfileIDColumn) + ", o." + q(colValue) +
		", o." + q(layout.SourceTSColumn) + ", o." + q(colSource) + "\n" +
		"FROM (\n" + indentBlock(strings.Join(parts, "\nUNION ALL\n")) + "\n) AS o\n" +
		"JOIN " + b.t.Q(b.t.Identifiers()) + " AS i\n" +
		"  ON i." + q("id_type") + " = " + d.QuoteString(idType) + " AND i." + q("id_value") + " = o." + q(colValue)
	b.idCTEs = append(b.idCTEs, cteBlock("normalized "+idType+" identifiers of the source rows, with their profile", name, body))
	return name
}

// identifierBody renders the SELECT of an identifier trait: per profile, the
// value its pick chooses among the rows of the sources it reads, in
// colValue. Every pick ends on the value's byte order, so the result is the
// same on every engine:
//   - most_frequent: most rows, then latest row time, then smallest value;
//   - most_recent: latest row time (values never seen with a time last),
//     then most rows, then smallest value;
//   - source_priority: values of the first source (in the trait's order)
//     that has one, among them as most_recent.
func (b *profileBuilder) identifierBody(tr *models.Trait) string {
	d, q := b.d, b.d.QuoteIdent
	pid, v, src := q(layout.ProfileIDColumn), q(colValue), q(colSource)
	occ := b.idOccurrences(tr.Identifier)
	var filters []string
	sources := b.p.IdentifierSources(tr)
	if len(tr.Sources) > 0 {
		var names []string
		for _, s := range sources {
			names = append(names, d.QuoteString(s.Name))
		}
		if len(names) == 0 {
			names = append(names, d.CastText("NULL"))
		}
		filters = append(filters, src+" IN ("+strings.Join(names, ", ")+")")
	}
	group := pid + ", " + v
	if tr.Pick == models.PickSourcePriority {
		group += ", " + src
	}
	counts := "SELECT " + group + ", COUNT(*) AS " + q(colRows) + ", MAX(" + q(layout.SourceTSColumn) + ") AS " + q(colLastTS) + "\n" +
		"FROM " + occ + whereClause(filters) + "\n" +
		"GROUP BY " + group
	recent := "(" + q(colLastTS) + " IS NULL), " + q(colLastTS) + " DESC"
	var order string
	switch tr.Pick {
	case models.PickMostRecent:
		order = recent + ", " + q(colRows) + " DESC"
	case models.PickSourcePriority:
		order = sourceRank(b, src, sources) + ", " + recent + ", " + q(colRows) + " DESC"
	default: // most_frequent
		order = q(colRows) + " DESC, " + recent
	}
	inner := "SELECT\n" +
		"  " + pid + ",\n" +
		"  " + v + ",\n" +
		"  ROW_NUMBER() OVER (\n" +
		"    PARTITION BY " + pid + "\n" +
		"    ORDER BY " + order + ", " + d.ByteOrder(v) + "\n" +
		"  ) AS " + q(colRank) + "\n" +
		"FROM (\n" + indentBlock(counts) + "\n) AS g"
	return b.keepFirst(inner)
}

// sourceRank maps the source column to its position in sources (1 = first).
func sourceRank(b *profileBuilder, col string, sources []*models.Source) string {
	if len(sources) < 2 {
		return "1"
	}
	var sb strings.Builder
	sb.WriteString("CASE " + col)
	for i, s := range sources {
		sb.WriteString(" WHEN " + b.d.QuoteString(s.Name) + " THEN " + strconv.Itoa(i+1))
	}
	sb.WriteString(" END")
	return sb.String()
}

// identifierComment describes an identifier trait's CTE.
func identifierComment(p *models.Project, tr *models.Trait) string {
	var names []string
	for _, s := range p.IdentifierSources(tr) {
		names = append(names, s.Name)
	}
	return "trait " + tr.Name + ": " + tr.Pick + " identifier " + tr.Identifier + " of " + strings.Join(names, ", ")
}

// identifierDirtyRows selects the profiles whose identifier traits a run may
// change: the profile of every identifier of an identifier trait's type on
// the source rows passing cond (SQL over the view's row, alias v).
func identifierDirtyRows(p *models.Project, t layout.Tables, cond func(*models.Source) string) []string {
	d, q := t.D, t.D.QuoteIdent
	types := map[string]bool{}
	for _, tr := range p.Traits {
		if tr.IsIdentifier() {
			types[tr.Identifier] = true
		}
	}
	var parts []string
	for _, s := range p.Sources {
		for i, id := range s.Identifiers {
			if !types[id.Type] {
				continue
			}
			parts = append(parts, "SELECT i."+q("profile_id")+" FROM "+t.Q(t.SourceView(s.Name))+" AS v\n"+
				"JOIN "+t.Q(t.Identifiers())+" AS i ON i."+q("id_type")+" = "+d.QuoteString(id.Type)+
				" AND i."+q("id_value")+" = v."+q(layout.SourceIdentColumn(i))+"\n"+
				"WHERE "+cond(s))
		}
	}
	return parts
}
