package privacy

import (
	"context"
	"fmt"
	"time"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// Applied is what Apply prepared for a run.
type Applied struct {
	// Salt of the tombstones ("" when nobody was ever forgotten): source
	// views drop the rows carrying a tombstoned identifier (FilterSQL).
	Salt string
	// Tombstones is the number of tombstoned identifiers.
	Tombstones int64
	// Requests are the IDs of the requests this run applies; the run must
	// be full, and its Finish marks them applied (AppliedSQL).
	Requests []string
	// At is when Apply prepared them (the wall clock, not the run's as-of
	// date): their applied_at.
	At time.Time
}

// Apply prepares a complete run for the erasure requests not applied yet,
// before the run rebuilds any table. For each, it finds the profiles that
// hold the identifier in the previous run's `<e>_identifiers`, and:
//   - tombstones every identifier of those profiles, so the person is not
//     rebuilt from another of their identifiers;
//   - lists in cdp_erasure_targets every sync key those profiles had been
//     delivered with (cdp_sync_state), which the next sync runs erase: a
//     state key equal to the profile's key trait, or to any identifier of
//     the profile (a key delivered before the trait changed, e.g. an old
//     email an upsert sync still holds);
//   - deletes the person's numbers from the phone maps (raw phone values).
//
// Apply is idempotent: a run that fails applies the same requests again.
func Apply(ctx context.Context, w warehouse.Warehouse, t layout.Tables, p *models.Project, now time.Time) (Applied, error) {
	a := Applied{At: now}
	if err := Ensure(ctx, w, t); err != nil {
		return a, err
	}
	salt, err := readSalt(ctx, w, t)
	if err != nil || salt == "" {
		return a, err
	}
	a.Salt = salt
	d := t.D
	reqs, err := pendingRequests(ctx, w, t)
	if err != nil {
		return a, fmt.Errorf("read %s: %w", t.ErasureRequests(), err)
	}
	ids := t.Q(t.Identifiers())
	haveIDs := exists(ctx, w, ids)
	haveState := exists(ctx, w, t.Q(t.SyncState())) && exists(ctx, w, t.Q(t.Profiles()))
	at := d.TimestampLiteral(now)
	for _, r := range reqs {
		a.Requests = append(a.Requests, r.id)
		if !haveIDs {
			continue
		}
		person := fmt.Sprintf("SELECT DISTINCT profile_id FROM %s WHERE id_type = %s AND %s = %s",
			ids, d.QuoteString(r.idType), HashSQL(d, salt, "id_type", "id_value"), d.QuoteString(r.idHash))
		n, err := count(ctx, w, "SELECT COUNT(*) FROM ("+person+") f")
		if err != nil {
			return a, fmt.Errorf("erasure %s: find the profile: %w", r.id, err)
		}
		if n == 0 {
			continue
		}
		stmts := []string{fmt.Sprintf(`INSERT INTO %[1]s (id_type, id_hash, request_id, created_at)
SELECT DISTINCT i.id_type, %[2]s, %[3]s, %[4]s
FROM %[5]s i
WHERE i.profile_id IN (%[6]s)
  AND NOT EXISTS (SELECT 1 FROM %[1]s tb WHERE tb.id_type = i.id_type AND tb.id_hash = %[2]s)`,
			t.Q(t.Tombstones()), HashSQL(d, salt, "i.id_type", "i.id_value"), d.QuoteString(r.id), at, ids, person),
			fmt.Sprintf("UPDATE %s SET profiles = %d WHERE request_id = %s", t.Q(t.ErasureRequests()), n, d.QuoteString(r.id))}
		if haveState {
			for _, s := range p.Syncs {
				stmts = append(stmts, fmt.Sprintf(`INSERT INTO %[1]s (request_id, sync, destination, key, status, recorded_at)
SELECT DISTINCT %[2]s, st.sync, %[3]s, st.key, %[4]s, %[5]s
FROM %[6]s st
WHERE st.sync = %[9]s
  AND (st.key IN (SELECT %[8]s FROM %[7]s p WHERE p.profile_id IN (%[10]s))
    OR st.key IN (SELECT i.id_value FROM %[11]s i WHERE i.profile_id IN (%[10]s)))
  AND NOT EXISTS (SELECT 1 FROM %[1]s x WHERE x.request_id = %[2]s AND x.sync = st.sync AND x.key = st.key)`,
					t.Q(t.ErasureTargets()), d.QuoteString(r.id), d.QuoteString(s.Destination), d.QuoteString(TargetPending), at,
					t.Q(t.SyncState()), t.Q(t.Profiles()), d.CastText("p."+d.QuoteIdent(s.Key)), d.QuoteString(s.Name), person, ids))
			}
		}
		stmts = append(stmts, phoneMapDeletes(ctx, w, t, p, person)...)
		err = warehouse.InTx(ctx, w, func(exec warehouse.ExecFunc) error {
			for _, q := range stmts {
				if _, err := exec(ctx, q); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return a, fmt.Errorf("erasure %s: %w", r.id, err)
		}
	}
	if a.Tombstones, err = count(ctx, w, "SELECT COUNT(*) FROM "+t.Q(t.Tombstones())); err != nil {
		return a, err
	}
	return a, nil
}

// phoneMapDeletes deletes the person's numbers from every phone map that
// exists (they hold the raw values the numbers were parsed from).
func phoneMapDeletes(ctx context.Context, w warehouse.Warehouse, t layout.Tables, p *models.Project, person string) []string {
	var phoneTypes []string
	for _, it := range p.Identity.IDTypes {
		if it.Normalize == "phone" {
			phoneTypes = append(phoneTypes, t.D.QuoteString(it.Name))
		}
	}
	if len(phoneTypes) == 0 {
		return nil
	}
	var out []string
	for _, src := range p.Sources {
		m := t.Q(t.PhoneMap(src.Name, identity.PhoneVersion()))
		if !exists(ctx, w, m) {
			continue
		}
		in := ""
		for i, q := range phoneTypes {
			if i > 0 {
				in += ", "
			}
			in += q
		}
		out = append(out, fmt.Sprintf("DELETE FROM %s WHERE e164 IN (SELECT id_value FROM %s WHERE id_type IN (%s) AND profile_id IN (%s))",
			m, t.Q(t.Identifiers()), in, person))
	}
	return out
}

// Current is what a partial run needs: the tombstones to exclude, with no
// request applied (only complete runs apply them).
func Current(ctx context.Context, w warehouse.Warehouse, t layout.Tables) (Applied, error) {
	var a Applied
	if err := Ensure(ctx, w, t); err != nil {
		return a, err
	}
	salt, err := readSalt(ctx, w, t)
	if err != nil || salt == "" {
		return a, err
	}
	a.Salt = salt
	a.Tombstones, err = count(ctx, w, "SELECT COUNT(*) FROM "+t.Q(t.Tombstones()))
	return a, err
}

// request is what Apply needs of a pending request.
type request struct{ id, idType, idHash string }

func pendingRequests(ctx context.Context, w warehouse.Warehouse, t layout.Tables) ([]request, error) {
	rows, err := w.Query(ctx, "SELECT request_id, id_type, id_hash FROM "+t.Q(t.ErasureRequests())+
		" WHERE status = "+t.D.QuoteString(StatusRequested)+" ORDER BY requested_at, request_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []request
	for rows.Next() {
		var r request
		if err := rows.Scan(&r.id, &r.idType, &r.idHash); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AppliedSQL marks the requests a complete run applied (run in the run's
// Finish, after every table was rebuilt without the person).
func AppliedSQL(t layout.Tables, requests []string, now time.Time) string {
	d := t.D
	in := ""
	for i, r := range requests {
		if i > 0 {
			in += ", "
		}
		in += d.QuoteString(r)
	}
	return fmt.Sprintf("UPDATE %s SET status = %s, applied_at = %s WHERE request_id IN (%s)",
		t.Q(t.ErasureRequests()), d.QuoteString(StatusApplied), d.TimestampLiteral(now), in)
}

// FilterSQL is the condition that keeps a source view's row (alias) only
// when none of its normalized identifiers is tombstoned; cols pairs each
// id type with its column.
func FilterSQL(t layout.Tables, salt, alias string, types, cols []string) string {
	d := t.D
	var conds []string
	for i, col := range cols {
		conds = append(conds, fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s tb WHERE tb.id_type = %s AND tb.id_hash = %s)",
			t.Q(t.Tombstones()), d.QuoteString(types[i]), d.SHA256Hex(d.QuoteString(salt+types[i]+":")+" || "+alias+"."+d.QuoteIdent(col))))
	}
	out := ""
	for i, c := range conds {
		if i > 0 {
			out += "\n  AND "
		}
		out += c
	}
	return out
}

// FilterSalt is the salt source views filter with: "" while nothing is
// tombstoned (the views then have no erasure filter at all).
func (a Applied) FilterSalt() string {
	if a.Tombstones == 0 {
		return ""
	}
	return a.Salt
}
