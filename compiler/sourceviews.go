package compiler

import (
	"strconv"
	"strings"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/privacy"
)

// SourceViewSQL is the SELECT behind a source's view: every original column,
// the row timestamp as _cdp_ts, and each identifier normalized as _cdp_id_<i>,
// as written as _cdp_raw_<i> and, when rejected, the reason as _cdp_invalid_<i>.
// A phone identifier also has its region as _cdp_region_<i>, and its number
// and reason come from the source's PhoneMap (see phoneSteps), joined to the
// row outside the subquery that evaluates the user's expressions (so their
// column names never clash with the map's).
//
// With a tombstone salt, only the rows none of whose identifiers is
// tombstoned are in the view (privacy.FilterSQL): a forgotten person is
// not rebuilt from the source rows that still hold them.
func SourceViewSQL(p *models.Project, t layout.Tables, s *models.Source, salt string) string {
	q := sourceViewSQL(p, t, s)
	if salt == "" || len(s.Identifiers) == 0 {
		return q
	}
	types, cols := make([]string, len(s.Identifiers)), make([]string, len(s.Identifiers))
	for i, id := range s.Identifiers {
		types[i], cols[i] = id.Type, layout.SourceIdentColumn(i)
	}
	return "SELECT * FROM (\n" + q + "\n) AS r\nWHERE " + privacy.FilterSQL(t, salt, "r", types, cols)
}

func sourceViewSQL(p *models.Project, t layout.Tables, s *models.Source) string {
	d := t.D
	cols := []string{"src.*"}
	ts := d.Cast("NULL", models.TypeTimestamp)
	if s.Timestamp != "" {
		ts = d.Cast("src."+d.QuoteIdent(s.Timestamp), models.TypeTimestamp)
	}
	cols = append(cols, ts+" AS "+d.QuoteIdent(layout.SourceTSColumn))
	var outer, joins []string
	for i, id := range s.Identifiers {
		expr := identifierExpr(t, id)
		it := identifierType(p, id)
		raw := d.QuoteIdent(layout.SourceRawColumn(i))
		if it.Normalize != "phone" {
			cols = append(cols, identity.NormalizeSQL(d, it, expr)+" AS "+d.QuoteIdent(layout.SourceIdentColumn(i)),
				d.CastText(expr)+" AS "+raw,
				identity.InvalidSQL(d, it, expr)+" AS "+d.QuoteIdent(layout.SourceInvalidColumn(i)))
			continue
		}
		region := d.QuoteIdent(layout.SourceRegionColumn(i))
		cols = append(cols, d.CastText(expr)+" AS "+raw, phoneRegionSQL(t, it, id)+" AS "+region)
		pm := "pm_" + strconv.Itoa(i)
		outer = append(outer, pm+".e164 AS "+d.QuoteIdent(layout.SourceIdentColumn(i)),
			identity.PhoneInvalidSQL(d, "v."+raw, "v."+region, pm+".reason", pm+".raw")+" AS "+
				d.QuoteIdent(layout.SourceInvalidColumn(i)))
		joins = append(joins, "LEFT JOIN "+t.Q(t.PhoneMap(s.Name, identity.PhoneVersion()))+" AS "+pm+
			" ON "+pm+".raw = v."+raw+" AND "+pm+".region = v."+region)
	}
	inner := "SELECT\n  " + strings.Join(cols, ",\n  ") + "\nFROM " + sourceRelation(t, s) + " AS src"
	if len(joins) == 0 {
		return inner
	}
	return "SELECT\n  v.*,\n  " + strings.Join(outer, ",\n  ") + "\nFROM (\n" + inner + "\n) AS v\n" +
		strings.Join(joins, "\n")
}

// identifierExpr is the SQL of an identifier over the source row src.
func identifierExpr(t layout.Tables, id *models.SourceIdentifier) string {
	if id.Column != "" {
		return "src." + t.D.QuoteIdent(id.Column)
	}
	return "(" + id.Expr + ")"
}

// identifierType is the declared type of an identifier, or an empty one when
// it is unknown (validation reports it; the SQL stays well-formed).
func identifierType(p *models.Project, id *models.SourceIdentifier) *models.IDType {
	if it := p.IDType(id.Type); it != nil {
		return it
	}
	return &models.IDType{Name: id.Type}
}

// phoneRegionSQL is the region a phone identifier of the row src is parsed in.
func phoneRegionSQL(t layout.Tables, it *models.IDType, id *models.SourceIdentifier) string {
	country := ""
	if id.Country != "" {
		country = "src." + t.D.QuoteIdent(id.Country)
	}
	return identity.PhoneRegionSQL(t.D, it, country)
}

// sourceRelation is the relation a source reads: its table, or its SQL in
// brackets.
func sourceRelation(t layout.Tables, s *models.Source) string {
	if s.SQL != "" {
		// User SQL is inlined verbatim: re-indenting it would change newlines
		// inside its string literals.
		return "(\n" + strings.TrimRight(strings.TrimSpace(s.SQL), "; \t\n") + "\n)"
	}
	return t.D.Relation(s.Table)
}

// ForgottenRowsSQL selects the rows of a source that carry a tombstoned
// identifier (those its view drops), normalized exactly as the view
// normalizes them, phone numbers included: with a primary key, each such
// row's key as text in a column k, in order; without one, their number in
// a column n.
func ForgottenRowsSQL(p *models.Project, t layout.Tables, s *models.Source, salt string) string {
	d := t.D
	types, cols := make([]string, len(s.Identifiers)), make([]string, len(s.Identifiers))
	for i, id := range s.Identifiers {
		types[i], cols[i] = id.Type, layout.SourceIdentColumn(i)
	}
	from := "FROM (\n" + sourceViewSQL(p, t, s) + "\n) AS r\nWHERE NOT (" + privacy.FilterSQL(t, salt, "r", types, cols) + ")"
	if s.PrimaryKey == "" {
		return "SELECT COUNT(*) AS n\n" + from
	}
	k := d.CastText("r." + d.QuoteIdent(s.PrimaryKey))
	return "SELECT DISTINCT " + k + " AS k\n" + from + "\nORDER BY k"
}
