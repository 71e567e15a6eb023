// Package alert sends `cdp serve` alerts — a failed run, a run rejecting too
// many records, a sync without success for too long — to Slack incoming
// webhooks or to signed webhooks (Standard Webhooks headers). Alerts are
// deduplicated: one per (channel, sync, kind) until the sync recovers, which
// sends one "recovered" message. Secrets and URLs are never logged.
package alert
