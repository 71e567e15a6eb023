package compiler

import (
	"strings"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/identity/phone"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/program"
	"github.com/cdpkit/cdp/warehouse"
)

// usesPhone reports whether some identifier type normalizes phone numbers.
func usesPhone(p *models.Project) bool {
	if p.Identity == nil {
		return false
	}
	for _, t := range p.Identity.IDTypes {
		if t.Normalize == "phone" {
			return true
		}
	}
	return false
}

// phoneRegions is the qualified metadata table of the phone normalizer.
func phoneRegions(t layout.Tables) string { return t.Q(phone.RegionsTable(identity.PhoneVersion())) }

// PrepareSteps create what every node may read before any runs: the table of
// libphonenumber's metadata when the project normalizes phone numbers
// (idempotent: it is written once per metadata version).
func PrepareSteps(p *models.Project, t layout.Tables) []Step {
	if !usesPhone(p) {
		return nil
	}
	return Stmts("libphonenumber's metadata, once per version", warehouse.Script(t.D, phone.Setup(t.D, phoneRegions(t)))...)
}

// phoneSteps keep a source's PhoneMap complete: the map table is created
// when missing, then every (value, region) pair of the source's phone
// identifiers that the map does not hold yet goes through the phone
// normalizer once (a loop of at most one round, skipped when no pair is new).
func phoneSteps(p *models.Project, t layout.Tables, s *models.Source) []Step {
	d := t.D
	var pairs []string
	for _, id := range s.Identifiers {
		it := identifierType(p, id)
		if it.Normalize != "phone" {
			continue
		}
		pairs = append(pairs, "SELECT "+d.CastText(identifierExpr(t, id))+" AS raw, "+phoneRegionSQL(t, it, id)+
			" AS region FROM "+sourceRelation(t, s)+" AS src")
	}
	if len(pairs) == 0 {
		return nil
	}
	m := t.Q(t.PhoneMap(s.Name, identity.PhoneVersion()))
	text := d.TypeName(models.TypeString)
	create := "CREATE TABLE IF NOT EXISTS " + m + " (raw " + text + ", region " + text + ", e164 " + text +
		", reason " + text + ")"
	fresh := "SELECT DISTINCT raw, region FROM (\n" + strings.Join(pairs, "\nUNION ALL\n") + "\n) AS pairs\n" +
		"WHERE raw IS NOT NULL AND " + d.TrimSpace("raw") + " <> ''\n" +
		"  AND NOT EXISTS (SELECT 1 FROM " + m + " AS known WHERE known.raw = pairs.raw AND known.region = pairs.region)"
	pl := phone.Build(d, phoneRegions(t), "(\n"+fresh+"\n) AS fresh", func(stage string) string {
		return t.Q(t.PhoneWork(stage))
	})
	body := Stmts("normalize the new phone numbers (libphonenumber's parse, in SQL)", pl.Setup...)
	body = append(body, S("store them in the phone map",
		"INSERT INTO "+m+" (raw, region, e164, reason)\nSELECT raw, region, e164, reason FROM (\n"+pl.Select+"\n) AS normalized"))
	body = append(body, Stmts("drop the scratch tables", pl.Cleanup...)...)
	return []Step{
		S("the phone map of the source: one row per (value, region)", create),
		{Loop: &Loop{Label: "phone numbers of " + s.Name + " not in the map", Until: program.CountRows("(\n" + fresh + "\n) AS n"),
			MaxRounds: 1, Body: body}},
	}
}
