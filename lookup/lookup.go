// Package lookup reads what the CDP holds about one person from the tables
// a run and the syncs built: the 360° view of `cdp profile` (identifiers,
// traits, segment memberships, consent, delivery status) and the complete
// export of `cdp profile --export` (GDPR article 15, right of access).
package lookup

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// Identifier is one identifier of a profile.
type Identifier struct {
	Type        string     `json:"id_type"`
	Value       string     `json:"id_value"`
	FirstSeenAt *time.Time `json:"first_seen_at"`
	LastSeenAt  *time.Time `json:"last_seen_at"`
	SourceCount int64      `json:"source_count"`
}

// Trait is one trait value.
type Trait struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// Membership is one segment the profile belongs to.
type Membership struct {
	Segment   string     `json:"segment"`
	InHoldout bool       `json:"in_holdout"`
	EnteredAt *time.Time `json:"entered_at"`
}

// SyncStatus is where one sync stands for the profile.
type SyncStatus struct {
	Sync        string     `json:"sync"`
	Key         *string    `json:"key"` // the key trait's value; nil: never synced (null key)
	Delivered   bool       `json:"delivered"`
	DeliveredAt *time.Time `json:"delivered_at"`
	// LastError is the latest rejection of this key, if any.
	LastError *string `json:"last_error"`
}

// View is the 360° view of one profile.
type View struct {
	ProfileID   string       `json:"profile_id"`
	Identifiers []Identifier `json:"identifiers"`
	Traits      []Trait      `json:"traits"`
	Segments    []Membership `json:"segments"`
	// Consent has one row per consent purpose ([] when the project
	// declares no `consent:`).
	Consent []Consent    `json:"consent"`
	Syncs   []SyncStatus `json:"syncs"`
}

// ErrNotFound is returned when no profile matches.
var ErrNotFound = fmt.Errorf("no profile matches")

// Resolve parses `type:value` or `profile:<id>` and returns the profile ID.
func Resolve(ctx context.Context, w warehouse.Warehouse, p *models.Project, t layout.Tables, key string) (string, error) {
	typ, val, ok := strings.Cut(key, ":")
	if !ok || val == "" {
		return "", fmt.Errorf("lookup %q: use TYPE:VALUE (e.g. email:ana@example.org) or profile:ID", key)
	}
	d := t.D
	if typ == "profile" {
		return val, nil
	}
	it := p.IDType(typ)
	if it == nil {
		var names []string
		for _, x := range p.Identity.IDTypes {
			names = append(names, x.Name)
		}
		return "", fmt.Errorf("lookup %q: unknown identifier type %q (known: profile, %s)", key, typ, strings.Join(names, ", "))
	}
	norm, ok := identity.NormalizeGo(it, val)
	if !ok {
		return "", fmt.Errorf("lookup %q: %q is not a valid %s after normalization (%s)", key, val, typ, it.Normalize)
	}
	for _, pat := range it.Exclude {
		if re, err := regexp.Compile(pat); err == nil && re.MatchString(norm) {
			return "", fmt.Errorf("lookup %q: %s is excluded by the pattern %s, so it links no profile", key, norm, pat)
		}
	}
	rows, err := w.Query(ctx, fmt.Sprintf("SELECT profile_id FROM %s WHERE id_type = %s AND id_value = %s",
		t.Q(t.Identifiers()), d.QuoteString(typ), d.QuoteString(norm)))
	if err != nil {
		return "", err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return "", err
		}
		return "", fmt.Errorf("lookup %q (normalized %s): %w", key, norm, ErrNotFound)
	}
	var id string
	if err := rows.Scan(&id); err != nil {
		return "", err
	}
	return id, rows.Close()
}

// Profile reads the full view of one profile ID.
func Profile(ctx context.Context, w warehouse.Warehouse, p *models.Project, t layout.Tables, profileID string) (*View, error) {
	d := t.D
	v := &View{ProfileID: profileID, Identifiers: []Identifier{}, Traits: []Trait{}, Segments: []Membership{}, Consent: []Consent{}, Syncs: []SyncStatus{}}
	pid := d.QuoteString(profileID)
	rows, err := w.Query(ctx, fmt.Sprintf(
		"SELECT id_type, id_value, first_seen_at, last_seen_at, source_count FROM %s WHERE profile_id = %s ORDER BY %s, %s",
		t.Q(t.Identifiers()), pid, d.ByteOrder("id_type"), d.ByteOrder("id_value")))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var x Identifier
		if err := rows.Scan(&x.Type, &x.Value, &x.FirstSeenAt, &x.LastSeenAt, &x.SourceCount); err != nil {
			rows.Close()
			return nil, err
		}
		v.Identifiers = append(v.Identifiers, x)
	}
	rows.Close()
	if len(v.Identifiers) == 0 {
		return nil, fmt.Errorf("profile %s: %w", profileID, ErrNotFound)
	}
	if err := readTraits(ctx, w, p, t, pid, v); err != nil {
		return nil, err
	}
	if rows, err = w.Query(ctx, fmt.Sprintf("SELECT segment, in_holdout, entered_at FROM %s WHERE profile_id = %s ORDER BY segment",
		t.Q(t.Segments()), pid)); err == nil { // else: segments not built yet
		for rows.Next() {
			var m Membership
			if err := rows.Scan(&m.Segment, &m.InHoldout, &m.EnteredAt); err != nil {
				rows.Close()
				return nil, err
			}
			v.Segments = append(v.Segments, m)
		}
		rows.Close()
	}
	if err := readConsent(ctx, w, p, t, pid, v); err != nil {
		return nil, err
	}
	return v, readSyncs(ctx, w, p, t, v)
}

// readSyncs fills the delivery status of every sync for the profile's key.
func readSyncs(ctx context.Context, w warehouse.Warehouse, p *models.Project, t layout.Tables, v *View) error {
	d := t.D
	for _, s := range p.Syncs {
		st := SyncStatus{Sync: s.Name}
		key := v.traitText(s.Key)
		if s.Key == "profile_id" {
			key = &v.ProfileID
		}
		st.Key = key
		if key != nil {
			rows, err := w.Query(ctx, fmt.Sprintf("SELECT delivered_at FROM %s WHERE sync = %s AND key = %s",
				t.Q(t.SyncState()), d.QuoteString(s.Name), d.QuoteString(*key)))
			if err != nil {
				break // no sync has run yet
			}
			if rows.Next() {
				st.Delivered = true
				_ = rows.Scan(&st.DeliveredAt)
			}
			rows.Close()
			rows, err = w.Query(ctx, fmt.Sprintf("SELECT error FROM %s WHERE sync = %s AND key = %s ORDER BY rejected_at DESC LIMIT 1",
				t.Q(t.SyncRejections()), d.QuoteString(s.Name), d.QuoteString(*key)))
			if err == nil {
				if rows.Next() {
					_ = rows.Scan(&st.LastError)
				}
				rows.Close()
			}
		}
		v.Syncs = append(v.Syncs, st)
	}
	return nil
}

// traitText is a trait's value as the sync engine keys it (text), or nil.
func (v *View) traitText(name string) *string {
	for _, t := range v.Traits {
		if t.Name == name && t.Value != nil {
			s := fmt.Sprint(t.Value)
			return &s
		}
	}
	return nil
}

func readTraits(ctx context.Context, w warehouse.Warehouse, p *models.Project, t layout.Tables, pid string, v *View) error {
	d := t.D
	cols := make([]string, len(p.Traits))
	for i, tr := range p.Traits {
		cols[i] = d.QuoteIdent(tr.Name)
	}
	if len(cols) == 0 {
		return nil
	}
	rows, err := w.Query(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE profile_id = %s",
		strings.Join(cols, ", "), t.Q(t.Profiles()), pid))
	if err != nil {
		return fmt.Errorf("read traits (has `cdp run` built %s?): %w", t.Profiles(), err)
	}
	defer rows.Close()
	if !rows.Next() {
		return rows.Err()
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return err
	}
	for i, tr := range p.Traits {
		v.Traits = append(v.Traits, Trait{Name: tr.Name, Value: warehouse.Plain(vals[i])})
	}
	return rows.Err()
}
