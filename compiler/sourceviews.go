package compiler

import (
	"strings"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
)

// SourceViewSQL is the SELECT behind a source's view: every original column,
// the row timestamp as _cdp_ts, and each identifier normalized as _cdp_id_<i>,
// as written as _cdp_raw_<i> and, when rejected, the reason as _cdp_invalid_<i>.
func SourceViewSQL(p *models.Project, t layout.Tables, s *models.Source) string {
	d := t.D
	cols := []string{"src.*"}
	ts := d.Cast("NULL", models.TypeTimestamp)
	if s.Timestamp != "" {
		ts = d.Cast("src."+d.QuoteIdent(s.Timestamp), models.TypeTimestamp)
	}
	cols = append(cols, ts+" AS "+d.QuoteIdent(layout.SourceTSColumn))
	for i, id := range s.Identifiers {
		expr := "(" + id.Expr + ")"
		if id.Column != "" {
			expr = "src." + d.QuoteIdent(id.Column)
		}
		it := p.IDType(id.Type)
		if it == nil { // validation reports it; keep the SQL well-formed
			it = &models.IDType{Name: id.Type}
		}
		cols = append(cols, identity.NormalizeSQL(d, it, expr)+" AS "+d.QuoteIdent(layout.SourceIdentColumn(i)),
			d.CastText(expr)+" AS "+d.QuoteIdent(layout.SourceRawColumn(i)),
			identity.InvalidSQL(d, it, expr)+" AS "+d.QuoteIdent(layout.SourceInvalidColumn(i)))
	}
	from := d.Relation(s.Table)
	if s.SQL != "" {
		// User SQL is inlined verbatim: re-indenting it would change newlines
		// inside its string literals.
		from = "(\n" + strings.TrimRight(strings.TrimSpace(s.SQL), "; \t\n") + "\n)"
	}
	return "SELECT\n  " + strings.Join(cols, ",\n  ") + "\nFROM " + from + " AS src"
}
