// Package metrics owns the Prometheus registry of `cdp serve`: it observes
// sync and model outcomes (a daemon.Observer) and serves /metrics.
package metrics
