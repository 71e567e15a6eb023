// Package schedule owns time for `cdp serve`: the Clock interface (real or
// fake, so schedule logic is tested without sleeping) and cron schedules
// (robfig/cron: five fields or descriptors such as @hourly and @every 2s,
// with a CRON_TZ= prefix or a default time zone), plus the missed-run and
// interval arithmetic built on them.
package schedule
