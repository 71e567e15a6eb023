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

// Consent statement values, compared after trimming and lower-casing (a
// boolean column reads as true/false on every dialect). Anything else is a
// value the CDP cannot read: it decides nothing and is kept in
// <e>_consent_rejected with its source row.
var (
	grantedWords = []string{"true", "t", "yes", "y", "1", "granted", "grant", "opt_in", "opt-in", "opted_in", "optin", "subscribed", "on", "allow", "allowed", "accepted"}
	deniedWords  = []string{"false", "f", "no", "n", "0", "denied", "deny", "opt_out", "opt-out", "opted_out", "optout", "unsubscribed", "off", "revoked", "withdrawn", "declined", "rejected"}
)

// consentNode is the node that builds <e>_consent (one row per profile and
// purpose) and <e>_suppressed (the profiles of the suppression lists); nil
// when the models declare neither consent nor suppression. A suppression
// file that cannot be read is an error.
func consentNode(p *models.Project, t layout.Tables, asOf time.Time, deps []string) (*Node, error) {
	if p.Consent == nil && len(p.Suppressions) == 0 {
		return nil, nil
	}
	n := &Node{ID: "consent." + p.Entity, Kind: "consent", Deps: deps}
	if p.Consent != nil {
		n.Pos, n.Output = p.Consent.Pos, t.Consent()
		n.Steps = append(n.Steps, consentSteps(p, t, asOf)...)
	}
	if len(p.Suppressions) > 0 {
		if n.Output == "" {
			n.Pos, n.Output = p.Suppressions[0].Pos, t.Suppressed()
		}
		files, err := suppressFileSteps(p, t)
		if err != nil {
			return nil, err
		}
		n.Steps = append(n.Steps, files...)
		n.Steps = append(n.Steps, program.Atomic("build "+safeComment(t.Suppressed()),
			t.D.CreateTableAs(t.Q(t.Suppressed()), suppressedSQL(p, t))...))
	}
	return n, nil
}

// consentSteps build <e>_consent_rejected and <e>_consent from every
// purpose's statements.
func consentSteps(p *models.Project, t layout.Tables, asOf time.Time) []Step {
	d := t.D
	stmts := consentStatementsSQL(p, t, asOf)
	work := t.Q(t.ConsentWork())
	var steps []Step
	steps = append(steps, Stmts("consent statements of every purpose", d.CreateTableAs(work, stmts)...)...)
	steps = append(steps, program.Atomic("build "+safeComment(t.ConsentRejected()),
		d.CreateTableAs(t.Q(t.ConsentRejected()), consentRejectedSQL(t))...))
	steps = append(steps, program.Atomic("build "+safeComment(t.Consent()),
		d.CreateTableAs(t.Q(t.Consent()), consentSQL(p, t))...))
	steps = append(steps, S("drop the consent statements", d.DropTable(work)))
	return steps
}

// consentStatementsSQL selects every statement of every purpose: the
// profile of the row, the purpose, the state it reads as (NULL when
// unreadable), the value as written, when (the row's timestamp) and where
// it was stated, and the priority of its `from` entry. Rows stated after
// the run's as-of time are not read (a replay sees consent as it was).
func consentStatementsSQL(p *models.Project, t layout.Tables, asOf time.Time) string {
	d := t.D
	q := d.QuoteIdent
	var ctes mappedCTEs
	var parts []string
	at := d.TimestampLiteral(asOf)
	for _, u := range p.Consent.Purposes {
		for prio, f := range u.From {
			s := p.Source(f.Source)
			if s == nil {
				continue
			}
			cte := ctes.name(p, t, s)
			col := cte + "." + q(f.Column)
			val := d.Lower(d.TrimSpace(d.CastText(col)))
			key := d.CastText("NULL")
			if s.PrimaryKey != "" {
				key = d.CastText(cte + "." + q(s.PrimaryKey))
			}
			ts := cte + "." + q(layout.SourceTSColumn)
			where := col + " IS NOT NULL AND (" + ts + " IS NULL OR " + ts + " <= " + at + ")"
			if f.PurposeColumn != "" {
				where += " AND " + d.TrimSpace(d.CastText(cte+"."+q(f.PurposeColumn))) + " = " + d.QuoteString(f.PurposeValue)
			}
			parts = append(parts, "SELECT "+cte+"."+q(layout.ProfileIDColumn)+" AS profile_id, "+
				d.QuoteString(u.Name)+" AS purpose, "+
				"CASE WHEN "+val+" IN ("+quoteAll(t, grantedWords)+") THEN "+d.QuoteString(models.ConsentGranted)+
				" WHEN "+val+" IN ("+quoteAll(t, deniedWords)+") THEN "+d.QuoteString(models.ConsentDenied)+
				" END AS state, "+
				d.CastText(col)+" AS raw_value, "+ts+" AS decided_at, "+
				d.QuoteString(s.Name)+" AS source, "+key+" AS source_key, "+
				strconv.Itoa(prio)+" AS priority\n"+
				"FROM "+cte+"\nWHERE "+where)
		}
	}
	if len(parts) == 0 {
		// every purpose reads unknown sources (reported by validate)
		parts = append(parts, "SELECT "+d.CastText("NULL")+" AS profile_id, "+d.CastText("NULL")+" AS purpose, "+
			d.CastText("NULL")+" AS state, "+d.CastText("NULL")+" AS raw_value, "+d.Cast("NULL", models.TypeTimestamp)+" AS decided_at, "+
			d.CastText("NULL")+" AS source, "+d.CastText("NULL")+" AS source_key, 0 AS priority"+warehouse.NoRows)
	}
	with := ""
	if len(ctes.ctes) > 0 {
		with = "WITH " + strings.Join(ctes.ctes, ",\n") + "\n"
	}
	return with + strings.Join(parts, "\nUNION ALL\n")
}

// consentRejectedSQL keeps the statements whose value reads as neither
// granted nor denied, so none is dropped without a trace.
func consentRejectedSQL(t layout.Tables) string {
	return "SELECT profile_id, purpose, source, source_key, raw_value, decided_at,\n" +
		"  " + t.D.QuoteString("neither granted nor denied") + " AS reason\n" +
		"FROM " + t.Q(t.ConsentWork()) + "\nWHERE state IS NULL"
}

// consentSQL decides every profile's state per purpose: the latest readable
// statement (rows without a timestamp last), ties going to the earlier
// `from` entry, then to denied, then to the smallest source key; unknown
// when there is none. allowed applies the purpose's default to unknown.
func consentSQL(p *models.Project, t layout.Tables) string {
	d := t.D
	var purposes []string
	for _, u := range p.Consent.Purposes {
		purposes = append(purposes, "SELECT "+d.QuoteString(u.Name)+" AS purpose, "+d.QuoteString(u.Default)+" AS default_state")
	}
	return "WITH ranked AS (\n" +
		"SELECT st.profile_id, st.purpose, st.state, st.decided_at, st.source,\n" +
		"  ROW_NUMBER() OVER (PARTITION BY st.profile_id, st.purpose ORDER BY CASE WHEN st.decided_at IS NULL THEN 1 ELSE 0 END, st.decided_at DESC, st.priority, " +
		"CASE WHEN st.state = " + d.QuoteString(models.ConsentDenied) + " THEN 0 ELSE 1 END, " + d.ByteOrder("st.source_key") + ") AS rn\n" +
		"FROM " + t.Q(t.ConsentWork()) + " AS st\nWHERE st.state IS NOT NULL\n" +
		"), purposes AS (\n" + strings.Join(purposes, "\nUNION ALL\n") + "\n" +
		"), profiles AS (\nSELECT DISTINCT profile_id FROM " + t.Q(t.Identifiers()) + "\n)\n" +
		"SELECT pr.profile_id, u.purpose, COALESCE(r.state, " + d.QuoteString(models.ConsentUnknown) + ") AS state, " +
		"r.decided_at, r.source,\n" +
		"  CASE WHEN COALESCE(r.state, u.default_state) = " + d.QuoteString(models.ConsentGranted) + " THEN TRUE ELSE FALSE END AS allowed\n" +
		"FROM profiles AS pr CROSS JOIN purposes AS u\n" +
		"LEFT JOIN ranked AS r ON r.profile_id = pr.profile_id AND r.purpose = u.purpose AND r.rn = 1"
}

// quoteAll quotes literals into a comma-separated list.
func quoteAll(t layout.Tables, vals []string) string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = t.D.QuoteString(v)
	}
	return strings.Join(out, ", ")
}
