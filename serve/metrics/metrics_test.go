package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/serve/daemon"
	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/engine"
)

func TestMetricsExposition(t *testing.T) {
	m := New()
	at := time.Unix(1700000000, 0)
	m.SyncDone(daemon.SyncOutcome{Sync: "vip", Status: "success", Started: at, Finished: at.Add(2 * time.Second),
		Result: &engine.Result{Status: "success", Destination: "crm", Added: 3, Changed: 1, Stats: delivery.Stats{Retries: 2, Throttled: 1}}})
	m.SyncDone(daemon.SyncOutcome{Sync: "vip", Status: daemon.StatusPaused})
	m.ModelsDone(daemon.ModelOutcome{Status: "success"})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`cdp_sync_runs_total{status="success",sync="vip"} 1`,
		`cdp_sync_runs_total{status="paused",sync="vip"} 1`,
		`cdp_sync_records_total{op="added",sync="vip"} 3`,
		`cdp_sync_records_total{op="changed",sync="vip"} 1`,
		`cdp_sync_duration_seconds_count{sync="vip"} 1`,
		`cdp_sync_last_success_timestamp_seconds{sync="vip"} 1.700000002e+09`,
		`cdp_destination_retries_total{destination="crm"} 2`,
		`cdp_destination_throttled_total{destination="crm"} 1`,
		`cdp_model_runs_total{status="success"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("missing %s", want)
		}
	}
}
