// Package daemon is the scheduler core of `cdp serve`: it fires model runs
// and syncs on their cron schedules, never runs a sync twice at once, bounds
// how many syncs run together, runs a missed sync once at start-up, makes a
// sync that depends on fresh models wait for (or trigger) one shared model
// run, skips paused syncs, and reports every outcome to Observers (metrics,
// alerts). It knows nothing of the warehouse: the work is behind Jobs, and
// time behind schedule.Clock, so all of it is unit-tested with fakes.
package daemon
