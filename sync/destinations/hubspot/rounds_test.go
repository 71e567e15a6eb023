package hubspot_test

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destinationtest"
	hs "github.com/cdpkit/cdp/sync/destinationtest/hubspot"
)

// TestRoundsPerMode delivers three rounds of changing audiences in each
// mode and compares what HubSpot holds after each.
func TestRoundsPerMode(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror"} {
		t.Run(mode, func(t *testing.T) {
			srv := hs.New(t)
			h := newHarness(t, srv, mode)
			for n, aud := range rounds() {
				st, outs := h.run(aud)
				for _, o := range outs {
					if o.Err != nil {
						t.Errorf("round %d: %s %s: %v", n+1, o.Record.Op, o.Record.Key, o.Err)
					}
				}
				if st.Confirmed != int64(len(outs)) || st.Throttled != 0 {
					t.Errorf("round %d: stats %+v", n+1, st)
				}
				h.check(fmt.Sprintf("round %d", n+1))
			}
			if mode == "mirror" {
				// Removed people stay contacts; only their list membership went.
				if id, props := srv.Contact(email(55)); id == "" || props["firstname"] != "Name 55" {
					t.Errorf("a removed contact was deleted: %q %v", id, props)
				}
				if len(srv.Audience("upsert")) != 170 {
					t.Errorf("HubSpot holds %d contacts, want all 170 ever delivered", len(srv.Audience("upsert")))
				}
			}
			if v := srv.Violations(); len(v) > 0 {
				t.Errorf("violations: %q", v)
			}
		})
	}
}

// TestUpdateRounds updates contacts that exist and never creates one.
func TestUpdateRounds(t *testing.T) {
	srv := hs.New(t)
	h := newHarness(t, srv, "update")
	seed := rounds()[0]
	for k, f := range seed {
		srv.Put(map[string]string{"email": k, "firstname": f["firstname"].(string), "ltv": fmt.Sprint(f["ltv"])})
		h.delivered[k] = f
	}
	ghost := "ghost@example.org" // delivered once, since deleted in HubSpot
	h.delivered[ghost] = person(999, "Ghost", int64(1))
	h.delivered[ghost]["email"] = ghost
	for n, aud := range rounds()[1:] {
		aud = maps.Clone(aud)
		aud[ghost] = map[string]any{"email": ghost, "firstname": "Ghost " + strconv.Itoa(n), "ltv": int64(2)}
		_, outs := h.run(aud)
		for _, o := range outs {
			switch {
			case o.Record.Key == ghost:
				if o.Err == nil || o.Retryable || !strings.Contains(o.Err.Error(), "OBJECT_NOT_FOUND") || !strings.Contains(o.Err.Error(), "never creates") {
					t.Errorf("round %d: update of a missing contact: %v (retryable %v)", n+2, o.Err, o.Retryable)
				}
			case o.Err != nil:
				t.Errorf("round %d: %s %s: %v", n+2, o.Record.Op, o.Record.Key, o.Err)
			}
		}
		delete(h.delivered, ghost)
		h.check(fmt.Sprintf("round %d", n+2))
		h.delivered[ghost] = aud[ghost]
	}
	if id, _ := srv.Contact(ghost); id != "" {
		t.Errorf("update created %s", ghost)
	}
	if id, _ := srv.Contact(email(130)); id != "" {
		t.Errorf("update created a contact that joined the audience")
	}
}

// TestRoundsUnderFaults delivers the mirror rounds while HubSpot throttles,
// fails, hangs, drops connections and refuses or locks contacts; later
// runs retry what earlier ones could not deliver, until HubSpot holds the
// audience.
func TestRoundsUnderFaults(t *testing.T) {
	srv := hs.New(t)
	srv.SetFaults(destinationtest.Faults{Status429Every: 8, Status500Every: 7, DropEvery: 11, TimeoutEvery: 19,
		RejectRate: 0.1, RetryableRecordRate: 0.1, Seed: 3})
	h := newHarness(t, srv, "mirror", "timeout", "200ms")
	var throttled, rejected int64
	for n, aud := range rounds() {
		st, failed := h.converge(aud, 12)
		throttled += st.Throttled
		for _, o := range failed {
			if !o.Retryable && strings.Contains(o.Err.Error(), "VALIDATION_ERROR") {
				rejected++
			}
		}
		h.check(fmt.Sprintf("round %d", n+1))
	}
	vs := srv.Stats()
	t.Logf("server %+v throttled %d rejected %d", vs, throttled, rejected)
	if throttled == 0 || vs.Throttled == 0 || rejected == 0 || vs.Retried == 0 || vs.Dropped == 0 || vs.TimedOut == 0 || vs.Failed == 0 {
		t.Errorf("faults not exercised: throttled %d, rejected %d, server %+v", throttled, rejected, vs)
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}
