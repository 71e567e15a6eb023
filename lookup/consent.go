package lookup

import (
	"context"
	"fmt"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// Consent is the profile's state for one consent purpose, as the last run
// decided it in `<e>_consent`.
type Consent struct {
	Purpose string `json:"purpose"`
	// State is granted, denied or unknown (no statement).
	State string `json:"state"`
	// DecidedAt is the time of the deciding statement (nil when unknown,
	// or when the source row had no timestamp).
	DecidedAt *time.Time `json:"decided_at"`
	// Source is the source of the deciding statement (nil when unknown).
	Source *string `json:"source"`
	// Allowed says whether syncs requiring this purpose may deliver the
	// profile: granted, or unknown with `default: granted`.
	Allowed bool `json:"allowed"`
}

// readConsent fills the profile's consent rows, by purpose, when the
// project declares `consent:` and a run has built `<e>_consent`.
func readConsent(ctx context.Context, w warehouse.Warehouse, p *models.Project, t layout.Tables, pid string, v *View) error {
	if p.Consent == nil || !exists(ctx, w, t.Q(t.Consent())) {
		return nil
	}
	rows, err := w.Query(ctx, fmt.Sprintf("SELECT purpose, state, decided_at, source, allowed FROM %s WHERE profile_id = %s ORDER BY %s",
		t.Q(t.Consent()), pid, t.D.ByteOrder("purpose")))
	if err != nil {
		return fmt.Errorf("read %s: %w", t.Consent(), err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Consent
		if err := rows.Scan(&c.Purpose, &c.State, &c.DecidedAt, &c.Source, &c.Allowed); err != nil {
			return err
		}
		if c.DecidedAt != nil {
			at := c.DecidedAt.UTC()
			c.DecidedAt = &at
		}
		v.Consent = append(v.Consent, c)
	}
	return rows.Err()
}

// exists reports whether a zero-row probe of a relation succeeds: tables a
// run or a sync creates on first use may not be there yet.
func exists(ctx context.Context, w warehouse.Warehouse, relation string) bool {
	rows, err := w.Query(ctx, "SELECT 1 FROM "+relation+" WHERE 1 = 0")
	if err != nil {
		return false
	}
	for rows.Next() {
	}
	err = rows.Err()
	rows.Close()
	return err == nil
}
