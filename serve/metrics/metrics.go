package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cdpkit/cdp/serve/daemon"
)

// Metrics is the registry and its collectors.
type Metrics struct {
	Registry    *prometheus.Registry
	runs        *prometheus.CounterVec
	records     *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
	retries     *prometheus.CounterVec
	throttled   *prometheus.CounterVec
	modelRuns   *prometheus.CounterVec
}

// New registers every metric in a fresh registry (plus Go and process
// collectors).
func New() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdp_sync_runs_total",
		Help: "Sync fire times by outcome: success, partial, failed, aborted, baseline, skipped_running, skipped_locked, paused, models_failed, cancelled."},
		[]string{"sync", "status"})
	m.records = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdp_sync_records_total",
		Help: "Records delivered (added, changed, removed) or failed."}, []string{"sync", "op"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cdp_sync_duration_seconds",
		Help: "Duration of sync runs that reached the engine.", Buckets: prometheus.ExponentialBuckets(0.1, 2, 14)}, []string{"sync"})
	m.lastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cdp_sync_last_success_timestamp_seconds",
		Help: "Unix time of the last successful (or partial) run's end."}, []string{"sync"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdp_destination_retries_total",
		Help: "Record re-sends to a destination."}, []string{"destination"})
	m.throttled = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdp_destination_throttled_total",
		Help: "HTTP 429 responses from a destination."}, []string{"destination"})
	m.modelRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdp_model_runs_total",
		Help: "Model runs (cdp run) by status."}, []string{"status"})
	m.Registry.MustRegister(m.runs, m.records, m.duration, m.lastSuccess, m.retries, m.throttled, m.modelRuns,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// SyncDone implements daemon.Observer.
func (m *Metrics) SyncDone(o daemon.SyncOutcome) {
	m.runs.WithLabelValues(o.Sync, o.Status).Inc()
	r := o.Result
	if r == nil {
		return
	}
	m.records.WithLabelValues(o.Sync, "added").Add(float64(r.Added))
	m.records.WithLabelValues(o.Sync, "changed").Add(float64(r.Changed))
	m.records.WithLabelValues(o.Sync, "removed").Add(float64(r.Removed))
	m.records.WithLabelValues(o.Sync, "failed").Add(float64(r.Failed))
	m.duration.WithLabelValues(o.Sync).Observe(o.Finished.Sub(o.Started).Seconds())
	if r.Destination != "" {
		m.retries.WithLabelValues(r.Destination).Add(float64(r.Stats.Retries))
		m.throttled.WithLabelValues(r.Destination).Add(float64(r.Stats.Throttled))
	}
	if o.Succeeded() {
		m.lastSuccess.WithLabelValues(o.Sync).Set(float64(o.Finished.UnixMilli()) / 1000)
	}
}

// ModelsDone implements daemon.Observer.
func (m *Metrics) ModelsDone(o daemon.ModelOutcome) { m.modelRuns.WithLabelValues(o.Status).Inc() }
