package lookup

import (
	"context"
	"fmt"
	"sort"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// ExportFormat names the layout of Export documents.
const ExportFormat = "cdp-profile-export/1"

// Export is everything the CDP holds about one person, for a data-subject
// access request (GDPR article 15): each section holds the rows of one
// table as they are, every column included, sorted so that two exports of
// the same data are byte for byte equal.
type Export struct {
	Format  string  `json:"format"`
	Profile Subject `json:"profile"`
	// Identifiers are the profile's rows of `<e>_identifiers`.
	Identifiers []Row `json:"identifiers"`
	// Traits is the profile's row of `<e>_profiles` (nil when the last run
	// built none for it).
	Traits Row `json:"traits"`
	// Segments are the profile's rows of `<e>_segments`.
	Segments []Row `json:"segments"`
	// Consent and ConsentRejected are the profile's rows of `<e>_consent`
	// and `<e>_consent_rejected` ([] without `consent:`).
	Consent         []Row `json:"consent"`
	ConsentRejected []Row `json:"consent_rejected"`
	// Suppressions are the profile's rows of `<e>_suppressed`.
	Suppressions []Row `json:"suppressions"`
	// Sources hold, per source, the source rows that carry one of the
	// profile's identifiers.
	Sources []SourceExport `json:"sources"`
	// Syncs hold, per sync, what the sync engine recorded of the
	// profile's key.
	Syncs []SyncExport `json:"syncs"`
}

// Subject says whose export it is: the data subject's profile.
type Subject struct {
	ID      string `json:"profile_id"`
	Entity  string `json:"entity"`
	Project string `json:"project"`
}

// SourceExport is the rows of one source behind the profile: every row of
// its table (or SQL) whose identifiers, normalized as identity resolution
// normalizes them, hold one of the profile's identifier values. Rows have
// the source's own columns, not the view's `_cdp_` ones.
type SourceExport struct {
	Source string `json:"source"`
	// Table is the source's table (nil for a source defined by SQL).
	Table *string `json:"table"`
	Rows  []Row   `json:"rows"`
}

// SyncExport is what one sync recorded of the profile.
type SyncExport struct {
	Sync        string `json:"sync"`
	Destination string `json:"destination"`
	// Key is the profile's key for the sync, as the engine compares it
	// (text); nil when the key trait is NULL (never synced).
	Key *string `json:"key"`
	// State is the key's row of cdp_sync_state: the fields and hash last
	// delivered and when (nil: not delivered).
	State Row `json:"state"`
	// Pending are the key's rows of cdp_sync_pending (submitted to an
	// asynchronous destination, not confirmed yet).
	Pending []Row `json:"pending"`
	// Rejections are the key's rows of cdp_sync_rejections.
	Rejections []Row `json:"rejections"`
	// Erasures are the key's rows of cdp_erasure_targets.
	Erasures []Row `json:"erasures"`
}

// ExportProfile reads everything about one profile ID; ErrNotFound when
// no identifier has it.
func ExportProfile(ctx context.Context, w warehouse.Warehouse, p *models.Project, t layout.Tables, profileID string) (*Export, error) {
	pid := t.D.QuoteString(profileID)
	x := &Export{Format: ExportFormat, Profile: Subject{ID: profileID, Entity: p.Entity, Project: p.Name},
		Segments: []Row{}, Consent: []Row{}, ConsentRejected: []Row{}, Suppressions: []Row{},
		Sources: []SourceExport{}, Syncs: []SyncExport{}}
	var err error
	byProfile := func(table string) string {
		return "SELECT * FROM " + t.Q(table) + " WHERE profile_id = " + pid
	}
	if x.Identifiers, err = readRows(ctx, w, byProfile(t.Identifiers()), nil); err != nil {
		return nil, fmt.Errorf("read %s: %w", t.Identifiers(), err)
	}
	if len(x.Identifiers) == 0 {
		return nil, fmt.Errorf("profile %s: %w", profileID, ErrNotFound)
	}
	sortRows(x.Identifiers, "id_type", "id_value")
	traits, err := readRows(ctx, w, byProfile(t.Profiles()), nil)
	if err != nil {
		return nil, fmt.Errorf("read %s (has `cdp run` built it?): %w", t.Profiles(), err)
	}
	if len(traits) > 0 {
		x.Traits = traits[0]
	}
	for _, o := range []struct {
		want  bool
		table string
		into  *[]Row
		keys  []string
	}{
		{true, t.Segments(), &x.Segments, []string{"segment"}},
		{p.Consent != nil, t.Consent(), &x.Consent, []string{"purpose"}},
		{p.Consent != nil, t.ConsentRejected(), &x.ConsentRejected, []string{"purpose", "decided_at", "source", "source_key"}},
		{len(p.Suppressions) > 0, t.Suppressed(), &x.Suppressions, []string{"list", "id_type"}},
	} {
		if !o.want || !exists(ctx, w, t.Q(o.table)) {
			continue
		}
		if *o.into, err = readRows(ctx, w, byProfile(o.table), nil); err != nil {
			return nil, fmt.Errorf("read %s: %w", o.table, err)
		}
		sortRows(*o.into, o.keys...)
	}
	if x.Sources, err = exportSources(ctx, w, p, t, pid); err != nil {
		return nil, err
	}
	if x.Syncs, err = exportSyncs(ctx, w, p, t, pid); err != nil {
		return nil, err
	}
	return x, nil
}

// exportSources reads, for every source by name, the rows of its view that
// carry one of the profile's identifiers (compiler.SourceRowsCarrying).
func exportSources(ctx context.Context, w warehouse.Warehouse, p *models.Project, t layout.Tables, pid string) ([]SourceExport, error) {
	ids := "(SELECT id_type, id_value FROM " + t.Q(t.Identifiers()) + " WHERE profile_id = " + pid + ") AS person"
	out := []SourceExport{}
	for _, s := range p.Sources {
		viewCols := map[string]bool{layout.SourceTSColumn: true}
		for i := range s.Identifiers {
			for _, c := range []string{layout.SourceIdentColumn(i), layout.SourceRawColumn(i), layout.SourceInvalidColumn(i), layout.SourceRegionColumn(i)} {
				viewCols[c] = true
			}
		}
		rows, err := readRows(ctx, w, compiler.SourceRowsCarrying(t, s, ids), func(c string) bool { return viewCols[c] })
		if err != nil {
			return nil, fmt.Errorf("source %s: read %s (has `cdp run` built it?): %w", s.Name, t.SourceView(s.Name), err)
		}
		var keys []string
		for _, k := range []string{s.PrimaryKey, s.Timestamp} {
			if k != "" {
				keys = append(keys, k)
			}
		}
		sortRows(rows, keys...)
		e := SourceExport{Source: s.Name, Rows: rows}
		if s.SQL == "" {
			table := s.Table
			e.Table = &table
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out, nil
}

// exportSyncs reads, for every sync by name, the profile's key (the key
// trait as text, as the engine diffs it) and what the engine's tables hold
// of that key.
func exportSyncs(ctx context.Context, w warehouse.Warehouse, p *models.Project, t layout.Tables, pid string) ([]SyncExport, error) {
	d := t.D
	have := map[string]bool{}
	for _, table := range []string{t.SyncState(), t.SyncPending(), t.SyncRejections(), t.ErasureTargets()} {
		have[table] = exists(ctx, w, t.Q(table))
	}
	out := []SyncExport{}
	for _, s := range p.Syncs {
		e := SyncExport{Sync: s.Name, Destination: s.Destination, Pending: []Row{}, Rejections: []Row{}, Erasures: []Row{}}
		keys, err := readRows(ctx, w, "SELECT "+d.CastText("p."+d.QuoteIdent(s.Key))+" AS k FROM "+t.Q(t.Profiles())+
			" AS p WHERE p.profile_id = "+pid, nil)
		if err != nil {
			return nil, fmt.Errorf("sync %s: read the key %s: %w", s.Name, s.Key, err)
		}
		if len(keys) > 0 {
			if k, ok := keys[0]["k"].(string); ok {
				e.Key = &k
			}
		}
		if e.Key != nil {
			byKey := " WHERE sync = " + d.QuoteString(s.Name) + " AND key = " + d.QuoteString(*e.Key)
			for _, o := range []struct {
				table string
				into  *[]Row
				keys  []string
			}{
				{t.SyncPending(), &e.Pending, []string{"submitted_at", "job_id", "seq"}},
				{t.SyncRejections(), &e.Rejections, []string{"rejected_at", "run_id", "operation"}},
				{t.ErasureTargets(), &e.Erasures, []string{"recorded_at", "request_id"}},
			} {
				if !have[o.table] {
					continue
				}
				if *o.into, err = readRows(ctx, w, "SELECT * FROM "+t.Q(o.table)+byKey, nil); err != nil {
					return nil, fmt.Errorf("sync %s: read %s: %w", s.Name, o.table, err)
				}
				sortRows(*o.into, o.keys...)
			}
			decodeJSONColumn(e.Pending, "fields")
			if have[t.SyncState()] {
				state, err := readRows(ctx, w, "SELECT * FROM "+t.Q(t.SyncState())+byKey, nil)
				if err != nil {
					return nil, fmt.Errorf("sync %s: read %s: %w", s.Name, t.SyncState(), err)
				}
				decodeJSONColumn(state, "fields")
				if len(state) > 0 {
					e.State = state[0]
				}
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Sync < out[j].Sync })
	return out, nil
}
