package daemon

import (
	"context"
	"time"

	"github.com/cdpkit/cdp/serve/schedule"
	"github.com/cdpkit/cdp/sync/engine"
)

// SyncSpec is one scheduled sync.
type SyncSpec struct {
	Name     string
	Schedule *schedule.Schedule
	// DependsOnRun: the sync waits for a model run that started after its
	// last delivery, triggering one when none is in flight.
	DependsOnRun bool
	// Paused: "" when the sync runs, else why not ("sync paused",
	// "destination crm paused"); a paused sync's state is left alone.
	Paused string
}

// Config is what the scheduler runs; Apply swaps it on reload.
type Config struct {
	Syncs []SyncSpec
	// Models is the schedule of model runs; nil runs models only when a
	// sync needs them.
	Models        *schedule.Schedule
	MaxConcurrent int // syncs at once; <1 means 1
}

// LastRuns is what cdp_sync_runs says about a sync (zero times: never).
type LastRuns struct {
	Last        time.Time // start of the newest run
	LastSuccess time.Time // start of the newest successful run
}

// Jobs does the work the scheduler decides on.
type Jobs interface {
	// RunSync delivers one sync; engine.ErrLocked means another process
	// holds the sync's lock.
	RunSync(ctx context.Context, name, runID string) (*engine.Result, error)
	// RunModels builds identities, profiles and segments (`cdp run`).
	RunModels(ctx context.Context, runID string) error
	// LastRuns reads a sync's history.
	LastRuns(ctx context.Context, name string) (LastRuns, error)
}

// Sync statuses the scheduler adds to the engine's (success, partial,
// failed, aborted, baseline).
const (
	StatusSkippedRunning = "skipped_running" // still running from its previous fire time
	StatusSkippedLocked  = "skipped_locked"  // another process holds the warehouse lock
	StatusPaused         = "paused"          // sync or destination paused
	StatusModelsFailed   = "models_failed"   // the model run it waited for failed
	StatusCancelled      = "cancelled"       // shutdown before it started
)

// SyncOutcome is reported for every fire time of a sync, run or not.
type SyncOutcome struct {
	Sync     string
	RunID    string // "" when nothing ran
	Status   string
	Started  time.Time
	Finished time.Time
	Result   *engine.Result // nil when the engine did not run
	Err      error
	Interval time.Duration // the schedule's period, for stale checks
	Shutdown bool          // the run was interrupted by shutdown
}

// Succeeded reports whether the run delivered (fully or with some records
// rejected).
func (o SyncOutcome) Succeeded() bool {
	switch o.Status {
	case "success", "partial", "baseline":
		return true
	}
	return false
}

// ModelOutcome is reported after every model run.
type ModelOutcome struct {
	RunID    string
	Status   string // success | failed
	Reason   string // "schedule" or "sync <name>"
	Started  time.Time
	Finished time.Time
	Err      error
}

// Observer is told about outcomes (metrics, alerts). Calls may come from
// several goroutines at once.
type Observer interface {
	SyncDone(SyncOutcome)
	ModelsDone(ModelOutcome)
}
