// Package serve holds the pieces of `cdp serve`, the scheduler daemon:
// schedule (cron parsing, clocks, missed-run logic), daemon (the scheduler
// core: overlap guard, concurrency bound, model-run dependencies, paused
// syncs, reload, shutdown), metrics (the Prometheus registry) and alert
// (deduplicated Slack and signed-webhook alerts). cmd/cdp wires them to the
// warehouse and the sync engine.
package serve
