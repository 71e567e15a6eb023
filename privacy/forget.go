package privacy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// Request is one row of cdp_erasure_requests.
type Request struct {
	ID          string    `json:"request_id"`
	IDType      string    `json:"id_type"`
	Reason      string    `json:"reason"`
	RequestedAt time.Time `json:"requested_at"`
	Status      string    `json:"status"`
	// Profiles is the number of profiles the run found for the identifier
	// (nil until a run applied the request).
	Profiles  *int64     `json:"profiles,omitempty"`
	AppliedAt *time.Time `json:"applied_at,omitempty"`
	// Existing: Forget found this request already recorded, not applied yet.
	Existing bool `json:"existing,omitempty"`
}

// ParseRef splits "id_type:value" and normalizes the value like the
// warehouse normalizes source identifiers of that type.
func ParseRef(p *models.Project, ref string) (idType, value string, err error) {
	typ, raw, ok := strings.Cut(ref, ":")
	var names []string
	if p.Identity != nil {
		for _, it := range p.Identity.IDTypes {
			names = append(names, it.Name)
		}
	}
	if !ok || typ == "" || strings.TrimSpace(raw) == "" {
		return "", "", fmt.Errorf("%q is not id_type:value (e.g. email:camille.moreau@orange.fr; id types: %s)", ref, strings.Join(names, ", "))
	}
	it := p.IDType(typ)
	if it == nil {
		hint := ""
		if c := models.Closest(typ, names); c != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", c)
		}
		return "", "", fmt.Errorf("unknown id type %q%s; the identity declares: %s", typ, hint, strings.Join(names, ", "))
	}
	v, ok := identity.NormalizeGoIn(it, raw, "")
	if !ok {
		why := identity.InvalidGoIn(it, raw, "")
		if why == "" {
			why = "rejected by the normalizer"
		}
		return "", "", fmt.Errorf("%s %q is not a valid identifier: %s", typ, raw, why)
	}
	return typ, v, nil
}

// Forget records an erasure request for the identifier ref (id_type:value):
// the request and the identifier's tombstone, both holding only the salted
// hash. A request for the same identifier that no run applied yet is
// returned as it is (Existing).
func Forget(ctx context.Context, w warehouse.Warehouse, t layout.Tables, p *models.Project, ref, reason string, now time.Time) (*Request, error) {
	typ, value, err := ParseRef(p, ref)
	if err != nil {
		return nil, err
	}
	if err := Ensure(ctx, w, t); err != nil {
		return nil, err
	}
	salt, err := ensureSalt(ctx, w, t, now)
	if err != nil {
		return nil, err
	}
	d := t.D
	h := Hash(salt, typ, value)
	reqs, err := readRequests(ctx, w, t, fmt.Sprintf("id_type = %s AND id_hash = %s AND status = %s",
		d.QuoteString(typ), d.QuoteString(h), d.QuoteString(StatusRequested)))
	if err != nil {
		return nil, err
	}
	if len(reqs) > 0 {
		reqs[0].Existing = true
		return &reqs[0], nil
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	r := &Request{ID: "e" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b), IDType: typ,
		Reason: reason, RequestedAt: now.UTC(), Status: StatusRequested}
	at := d.TimestampLiteral(r.RequestedAt)
	err = warehouse.InTx(ctx, w, func(exec warehouse.ExecFunc) error {
		if _, err := exec(ctx, fmt.Sprintf("INSERT INTO %s (request_id, id_type, id_hash, reason, requested_at, status) VALUES (%s, %s, %s, %s, %s, %s)",
			t.Q(t.ErasureRequests()), d.QuoteString(r.ID), d.QuoteString(typ), d.QuoteString(h), d.QuoteString(reason), at,
			d.QuoteString(StatusRequested))); err != nil {
			return err
		}
		_, err := exec(ctx, fmt.Sprintf("INSERT INTO %s (id_type, id_hash, request_id, created_at) VALUES (%s, %s, %s, %s)",
			t.Q(t.Tombstones()), d.QuoteString(typ), d.QuoteString(h), d.QuoteString(r.ID), at))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("record the erasure request: %w", err)
	}
	return r, nil
}

// readRequests reads the requests matching a condition, oldest first.
func readRequests(ctx context.Context, w warehouse.Warehouse, t layout.Tables, where string) ([]Request, error) {
	rows, err := w.Query(ctx, "SELECT request_id, id_type, reason, requested_at, status, profiles, applied_at FROM "+
		t.Q(t.ErasureRequests())+" WHERE "+where+" ORDER BY requested_at, request_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		var r Request
		var reason *string
		var applied *time.Time
		if err := rows.Scan(&r.ID, &r.IDType, &reason, &r.RequestedAt, &r.Status, &r.Profiles, &applied); err != nil {
			return nil, err
		}
		if reason != nil {
			r.Reason = *reason
		}
		r.RequestedAt = r.RequestedAt.UTC()
		if applied != nil {
			a := applied.UTC()
			r.AppliedAt = &a
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
