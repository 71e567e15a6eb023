package privacy

import (
	"context"
	"time"

	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/warehouse"
)

// Target is one sync that had delivered a forgotten person.
type Target struct {
	Sync        string     `json:"sync"`
	Destination string     `json:"destination"`
	Status      string     `json:"status"` // pending | erased | removed | refused | manual
	Receipt     string     `json:"receipt,omitempty"`
	Error       string     `json:"error,omitempty"`
	RecordedAt  time.Time  `json:"recorded_at"`
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
}

// RequestStatus is a request with its targets and overall state.
type RequestStatus struct {
	Request
	// State is "requested" (no run applied it yet), "erasing" (a
	// destination has not confirmed yet), "complete", or "attention" (a
	// destination refused, or cannot erase: see the targets).
	State   string   `json:"state"`
	Targets []Target `json:"targets"`
}

// Status reads the whole ledger, oldest request first.
func Status(ctx context.Context, w warehouse.Warehouse, t layout.Tables) ([]RequestStatus, error) {
	if err := Ensure(ctx, w, t); err != nil {
		return nil, err
	}
	reqs, err := readRequests(ctx, w, t, "TRUE")
	if err != nil {
		return nil, err
	}
	rows, err := w.Query(ctx, "SELECT request_id, sync, destination, status, receipt, error, recorded_at, confirmed_at FROM "+
		t.Q(t.ErasureTargets())+" ORDER BY request_id, sync")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byReq := map[string][]Target{}
	for rows.Next() {
		var id string
		var g Target
		var dest, receipt, msg *string
		if err := rows.Scan(&id, &g.Sync, &dest, &g.Status, &receipt, &msg, &g.RecordedAt, &g.ConfirmedAt); err != nil {
			return nil, err
		}
		g.Destination, g.Receipt, g.Error = deref(dest), deref(receipt), deref(msg)
		g.RecordedAt = g.RecordedAt.UTC()
		if g.ConfirmedAt != nil {
			c := g.ConfirmedAt.UTC()
			g.ConfirmedAt = &c
		}
		byReq[id] = append(byReq[id], g)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]RequestStatus, len(reqs))
	for i, r := range reqs {
		rs := RequestStatus{Request: r, Targets: byReq[r.ID], State: "complete"}
		if rs.Targets == nil {
			rs.Targets = []Target{}
		}
		if r.Status == StatusRequested {
			rs.State = StatusRequested
		}
		for _, g := range rs.Targets {
			switch {
			case g.Status == TargetPending:
				rs.State = "erasing"
			case (g.Status == TargetRefused || g.Status == TargetManual) && rs.State == "complete":
				rs.State = "attention"
			}
		}
		out[i] = rs
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
