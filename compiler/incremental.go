package compiler

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/privacy"
	"github.com/cdpkit/cdp/program"
	"github.com/cdpkit/cdp/warehouse"
)

// Mode says how a run builds the models: full (every row) or incremental
// (the rows after each source's watermark, merged into the stored state).
type Mode struct {
	Incremental bool   `json:"incremental"`
	Reason      string `json:"reason,omitempty"` // why this mode, for `cdp run` output
	// Watermarks of an incremental run, compiled as literals (nil: the SQL
	// reads them from `<e>_watermarks`).
	Watermarks *identity.Watermarks `json:"-"`
	// Erasures are the tombstones source views exclude and the erasure
	// requests the run applies (privacy.Apply); the zero value compiles no
	// erasure filter.
	Erasures privacy.Applied `json:"-"`
}

// Name is "incremental" or "full".
func (m Mode) Name() string {
	if m.Incremental {
		return "incremental"
	}
	return "full"
}

// Fingerprint digests the model configuration an incremental run depends
// on: identifier types (normalizers, exclusions, limits, priority), sources
// (relation, timestamp, identifier mappings) and traits. When it changes,
// the stored state no longer matches the model and the next run is full.
// Positions, segments, syncs and overlaps do not count.
func Fingerprint(p *models.Project) string {
	type idType struct {
		Name, Normalize, Country string
		Exclude                  []string
		Limit                    int
		Gmail                    bool `json:",omitempty"`
	}
	type ident struct {
		Column, Expr, Type string
		Country            string `json:",omitempty"`
	}
	type source struct {
		Name, Table, SQL, PK, TS, Event string
		IDs                             []ident
	}
	type trait struct {
		Name, Pick, Agg, Where, Within, Expr, Type string
		From                                       []models.ColumnRef
		Identifier                                 string   `json:",omitempty"`
		Sources                                    []string `json:",omitempty"`
	}
	var v struct {
		Entity string
		// Phone is libphonenumber's metadata version when phone numbers
		// are normalized: new metadata may change numbers
		Phone   string `json:",omitempty"`
		MaxIDs  int
		Types   []idType
		Sources []source
		Traits  []trait
	}
	v.Entity = p.Entity
	if usesPhone(p) {
		v.Phone = identity.PhoneVersion()
	}
	if p.Identity != nil {
		v.MaxIDs = p.Identity.MaxProfileIdentifiers
		for _, t := range p.Identity.IDTypes {
			v.Types = append(v.Types, idType{t.Name, t.Normalize, t.DefaultCountry, t.Exclude, t.Limit, t.GmailCanonical})
		}
	}
	for _, s := range p.Sources {
		src := source{Name: s.Name, Table: s.Table, SQL: s.SQL, PK: s.PrimaryKey, TS: s.Timestamp, Event: s.Event}
		for _, id := range s.Identifiers {
			src.IDs = append(src.IDs, ident{id.Column, id.Expr, id.Type, id.Country})
		}
		v.Sources = append(v.Sources, src)
	}
	for _, t := range p.Traits {
		tr := trait{Name: t.Name, Pick: t.Pick, Agg: t.Aggregate, Where: t.Where, Expr: t.Expr, Type: t.Type, From: t.From,
			Identifier: t.Identifier, Sources: t.Sources}
		if t.Within != nil {
			tr.Within = strconv.Itoa(t.Within.Hours()) + "h"
		}
		v.Traits = append(v.Traits, tr)
	}
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// finishSteps record the run's state after every node succeeded: per source
// the new watermark (the latest row time read), with the run's as-of,
// fingerprint and ID, in `<e>_watermarks`.
func finishSteps(p *models.Project, t layout.Tables, o Options) []Step {
	d, q := t.D, t.D.QuoteIdent
	wm := t.Q(t.Watermarks())
	next := t.Q(t.Entity + "__wm_next")
	ts := q(layout.SourceTSColumn)
	var parts []string
	for _, s := range p.Sources {
		mark := d.Cast("NULL", models.TypeTimestamp)
		if s.Timestamp != "" {
			view := t.Q(t.SourceView(s.Name))
			mark = "(SELECT MAX(v." + ts + ") FROM " + view + " AS v)"
			if f := identity.BatchFilter(p, t, s, "v."+ts, o.Mode.Watermarks); o.Mode.Incremental && f != "" {
				old := "(SELECT w." + q("watermark") + " FROM " + wm + " AS w WHERE w." + q("source") + " = " + d.QuoteString(s.Name) + ")"
				if o.Mode.Watermarks != nil {
					old = d.TimestampLiteral(o.Mode.Watermarks.Source[s.Name])
				}
				mark = "(SELECT COALESCE(MAX(v." + ts + "), " + old + ") FROM " + view + " AS v WHERE " + f + ")"
			}
		}
		parts = append(parts, "SELECT "+d.QuoteString(s.Name)+" AS "+q("source")+", "+mark+" AS "+q("watermark"))
	}
	if len(parts) == 0 {
		parts = append(parts, "SELECT "+d.CastText("NULL")+" AS "+q("source")+", "+
			d.Cast("NULL", models.TypeTimestamp)+" AS "+q("watermark")+warehouse.NoRows)
	}
	cols := q("source") + ", " + q("watermark") + ", " + q("as_of") + ", " + q("fingerprint") + ", " + q("run_id")
	var steps []Step
	steps = append(steps, S("state: watermarks table", identity.WatermarksDDL(d, wm)))
	steps = append(steps, Stmts("state: the latest row time read from each source",
		d.CreateTableAs(next, strings.Join(parts, "\nUNION ALL\n"))...)...)
	steps = append(steps, program.Atomic("state: record the watermarks of this run",
		"DELETE FROM "+wm+" WHERE TRUE", // BigQuery requires a WHERE clause
		"INSERT INTO "+wm+" ("+cols+")\nSELECT "+q("source")+", "+q("watermark")+", "+d.TimestampLiteral(o.AsOf)+", "+
			d.QuoteString(Fingerprint(p))+", "+d.QuoteString(o.RunID)+" FROM "+next))
	steps = append(steps, S("drop scratch table", d.DropTable(next)))
	if len(o.Mode.Erasures.Requests) > 0 {
		steps = append(steps, S("privacy: the erasure requests this run applied", privacy.AppliedSQL(t, o.Mode.Erasures.Requests, o.Mode.Erasures.At)))
	}
	return steps
}

// ProfilesIncrementalSQL returns the statements that bring `<e>_profiles`
// up to date after an incremental identity build: it recomputes, with the
// same SQL as ProfilesSQL, only the profiles that may have changed, and
// deletes the profiles that vanished. A profile may have changed when
//   - its identifiers changed (`<e>__changed_profiles`, old and new IDs),
//   - a source a trait reads has a row of it read by this run,
//   - a row read by this run carries an identifier of theirs whose type an
//     identifier trait picks from, or
//   - a windowed trait's source has a row of it that entered or left the
//     window between the previous run's as-of and this one's.
func ProfilesIncrementalSQL(p *models.Project, t layout.Tables, asOf time.Time, wm *identity.Watermarks) []Step {
	t = newlineSafe(t)
	d, q := t.D, t.D.QuoteIdent
	pid := q("profile_id")
	dirty := t.Q(t.Entity + "__prof_dirty")
	parts := []string{"SELECT " + pid + " FROM " + t.Q(t.ChangedProfiles())}
	for _, s := range traitSources(p) {
		if f := identity.BatchFilter(p, t, s, "v."+q(layout.SourceTSColumn), wm); f != "" {
			parts = append(parts, dirtyRows(p, t, s, f))
		} else {
			parts = append(parts, dirtyRows(p, t, s, "TRUE"))
		}
	}
	for _, w := range windows(p) {
		parts = append(parts, dirtyRows(p, t, w.source, crossing(t, w.hours, asOf, wm)))
	}
	if usesAsOf(p) {
		// a trait that reads {{ as_of }} may change for every profile when
		// the as-of time moves: all of them are recomputed then
		parts = append(parts, "SELECT "+pid+" FROM "+t.Q(t.Profiles())+" WHERE "+asOfMoved(t, asOf, wm))
	}
	parts = append(parts, identifierDirtyRows(p, t, func(s *models.Source) string {
		if f := identity.BatchFilter(p, t, s, "v."+q(layout.SourceTSColumn), wm); f != "" {
			return f
		}
		return "TRUE"
	})...)
	b := &profileBuilder{p: p, t: t, d: d, asOf: d.TimestampLiteral(asOf)}
	dirtyIDs := t.Q(t.Entity + "__prof_dirty_ids")
	b.sources.only, b.sources.onlyIDs = dirty, dirtyIDs
	cols := []string{pid}
	for _, tr := range p.Traits {
		cols = append(cols, q(tr.Name))
	}
	cols = append(cols, q("updated_at"))
	label := "update " + safeComment(t.Profiles())
	var steps []Step
	steps = append(steps, Stmts(label+": profiles that may have changed",
		// UNION ALL under DISTINCT: BigQuery has no bare UNION, Snowflake no UNION DISTINCT
		releaseNewlines(d.CreateTableAs(dirty, "SELECT DISTINCT "+pid+" FROM (\n"+strings.Join(parts, "\nUNION ALL\n")+"\n) AS u"))...)...)
	steps = append(steps, Stmts(label+": their identifiers", releaseNewlines(d.CreateTableAs(dirtyIDs,
		"SELECT "+q("id_type")+", "+q("id_value")+" FROM "+t.Q(t.Identifiers())+
			" WHERE "+pid+" IN (SELECT "+pid+" FROM "+dirty+")"))...)...)
	steps = append(steps, program.Atomic(label+": replace their rows", releaseNewlines([]string{
		"DELETE FROM " + t.Q(t.Profiles()) + " WHERE " + pid + " IN (SELECT " + pid + " FROM " + dirty + ")",
		"INSERT INTO " + t.Q(t.Profiles()) + " (" + strings.Join(cols, ", ") + ")\n" + b.query(),
	})...))
	steps = append(steps, S(label+": drop scratch tables", d.DropTable(dirty)), S(label+": drop scratch tables", d.DropTable(dirtyIDs)),
		S(label+": drop scratch tables", d.DropTable(t.Q(t.ChangedProfiles()))))
	return steps
}

// dirtyRows selects the profile of every mapped row of s passing cond.
func dirtyRows(p *models.Project, t layout.Tables, s *models.Source, cond string) string {
	q := t.D.QuoteIdent
	return "SELECT " + q(layout.ProfileIDColumn) + " AS " + q("profile_id") + " FROM (\n" +
		indentBlock(mappedSource(p, t, s, []string{cond}, "")) + "\n) AS r"
}

// crossing is true for a row whose time entered or left a window of the
// given hours between the previous run's as-of and asOf.
func crossing(t layout.Tables, hours int, asOf time.Time, wm *identity.Watermarks) string {
	d, q := t.D, t.D.QuoteIdent
	ts := "v." + q(layout.SourceTSColumn)
	prev := prevAsOf(t, wm)
	in := func(at string) string {
		return "(" + ts + " >= " + d.SubtractHours(at, hours) + " AND " + ts + " <= " + at + ")"
	}
	return "COALESCE(" + in(prev) + " <> " + in(d.TimestampLiteral(asOf)) + ", FALSE)"
}

// usesAsOf reports whether a trait's expr or where reads {{ as_of }}.
func usesAsOf(p *models.Project) bool {
	for _, tr := range p.Traits {
		if models.UsesAsOf(tr.Expr) || models.UsesAsOf(tr.Where) {
			return true
		}
	}
	return false
}

// asOfMoved is true when this run's as-of differs from the previous run's.
func asOfMoved(t layout.Tables, asOf time.Time, wm *identity.Watermarks) string {
	return "COALESCE(" + prevAsOf(t, wm) + " <> " + t.D.TimestampLiteral(asOf) + ", TRUE)"
}

// prevAsOf is the previous run's as-of: the one the watermarks were read
// with, or the latest recorded when they are not known at compile time.
func prevAsOf(t layout.Tables, wm *identity.Watermarks) string {
	if wm != nil {
		return t.D.TimestampLiteral(wm.PrevAsOf)
	}
	return "(SELECT MAX(w." + t.D.QuoteIdent("as_of") + ") FROM " + t.Q(t.Watermarks()) + " AS w)"
}

// traitSources lists the sources that source-based traits read, in project order.
func traitSources(p *models.Project) []*models.Source {
	used := map[string]bool{}
	for _, tr := range p.Traits {
		for _, ref := range tr.From {
			used[ref.Source] = true
		}
	}
	var out []*models.Source
	for _, s := range p.Sources {
		if used[s.Name] {
			out = append(out, s)
		}
	}
	return out
}

// window is one (source, window length) pair of the windowed traits.
type window struct {
	source *models.Source
	hours  int
}

// windows lists the distinct (source, hours) pairs of windowed traits,
// sorted by source order then hours.
func windows(p *models.Project) []window {
	seen := map[string]map[int]bool{}
	for _, tr := range p.Traits {
		if tr.Within == nil {
			continue
		}
		for _, ref := range tr.From {
			if seen[ref.Source] == nil {
				seen[ref.Source] = map[int]bool{}
			}
			seen[ref.Source][tr.Within.Hours()] = true
		}
	}
	var out []window
	for _, s := range p.Sources {
		var hs []int
		for h := range seen[s.Name] {
			hs = append(hs, h)
		}
		sort.Ints(hs)
		for _, h := range hs {
			out = append(out, window{s, h})
		}
	}
	return out
}
