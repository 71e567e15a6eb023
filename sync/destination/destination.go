// Package destination defines what every sync destination implements: its
// declared capabilities and Apply, which delivers one batch and reports a
// result per record, index-aligned with the batch. Destination packages
// register a factory from init().
package destination

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Op is what to do with one record at the destination.
type Op string

// Operations.
const (
	OpAdd    Op = "add"    // the record is new to the audience
	OpChange Op = "change" // the record's fields changed
	OpRemove Op = "remove" // the record left the audience (mirror mode)
	// OpUnsubscribe: the person withdrew a consent the sync requires; the
	// destination sends its unsubscribe or suppression primitive instead of
	// a plain removal (sync `on_withdrawal: unsubscribe`). Fields are the
	// last delivered fields.
	OpUnsubscribe Op = "unsubscribe"
	// OpErase: the person asked to be forgotten (`cdp forget`); the
	// destination sends its permanent-deletion primitive and reports the
	// vendor's request or job ID as Result.Receipt. Fields are the last
	// delivered fields.
	OpErase Op = "erase"
)

// Record is one record to deliver.
type Record struct {
	Op  Op
	Key string // value of the sync's key trait, as text
	// Fields maps destination field names to values (nil, string, int64,
	// float64, bool, time.Time). For OpRemove they are the last delivered fields.
	Fields map[string]any
	// RemoteID is the ID the destination assigned to the record when it was
	// last confirmed (Result.RemoteID), handed back for changes and removals;
	// "" when none is known.
	RemoteID string
	// Hash fingerprints the record's fields as the engine stores them; with
	// Key and Op it names the record's content (see IdempotencyKey).
	Hash string
}

// Result is the outcome of one record of a batch. A nil Err means the
// destination confirmed the record.
type Result struct {
	Err error
	// Retryable marks a failure worth retrying (at the next attempt or run);
	// false means the destination rejected the record itself.
	Retryable bool
	// Permanent marks a rejection the destination will repeat for as long as
	// the record stays as it is (a GDPR-forgotten user): the engine records
	// it and does not send the record again until its fields change.
	Permanent bool
	// RemoteID is the destination's own ID of a confirmed record (a HubSpot
	// record ID, a Salesforce Id, a Klaviyo profile ID); the engine stores it
	// with the record's state and hands it back as Record.RemoteID.
	RemoteID string
	// Receipt is the vendor's proof of a confirmed OpErase (or
	// OpUnsubscribe): its request, job or deletion ID, or a description of
	// the answer when the vendor returns none (e.g. "HTTP 204"). The engine
	// records it in the erasure ledger.
	Receipt string
}

// Capabilities declares what a destination can do.
type Capabilities struct {
	Ops          []Op          // operations it supports
	MaxBatch     int           // records per Apply call
	RateLimit    float64       // requests per second it allows (0 = no limit known)
	Concurrency  int           // Apply calls in flight at once (0 = 1)
	IdentifierOf string        // what the key identifies there (e.g. "email"), for docs and plans
	Timeout      time.Duration // per Apply call (0 = 30s)
}

// Supports reports whether op is among the declared operations.
func (c Capabilities) Supports(op Op) bool {
	for _, o := range c.Ops {
		if o == op {
			return true
		}
	}
	return false
}

// Destination delivers records.
type Destination interface {
	// Capabilities declares operations, batch size and limits.
	Capabilities() Capabilities
	// Apply delivers one batch (len ≤ MaxBatch). It returns one Result per
	// record, index-aligned with batch, or an error when the whole batch
	// failed (use *BatchError to say whether and when to retry).
	Apply(ctx context.Context, batch []Record) ([]Result, error)
	// Close releases connections; called once per sync run.
	Close() error
}

// BatchError is a whole-batch failure.
type BatchError struct {
	Err        error
	Retryable  bool
	RetryAfter time.Duration // from a Retry-After header, 0 when none
	Status     int           // HTTP status when there is one
	// Throttled marks the vendor's rate-limit signal (a 429, HubSpot's
	// policyName, Salesforce's REQUEST_LIMIT_EXCEEDED), counted as throttling.
	Throttled bool
	// Fatal stops the whole run at once (a revoked token, missing scopes):
	// nothing more is sent, and the batch's records stay to be retried by the
	// next run once the cause is fixed.
	Fatal bool
}

// IsFatal reports whether err stops the whole run.
func IsFatal(err error) bool {
	var be *BatchError
	return errors.As(err, &be) && be.Fatal
}

// Error implements error.
func (e *BatchError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *BatchError) Unwrap() error { return e.Err }

// IsRetryable reports whether a batch error may be retried; errors that are
// not *BatchError (network failures, timeouts) are retryable.
func IsRetryable(err error) bool {
	var be *BatchError
	if errors.As(err, &be) {
		return be.Retryable
	}
	return err != nil
}

// Config is what a factory gets: the destination's settings from YAML (after
// ${ENV} interpolation) parsed against its Spec, the sync's options, and the
// project root for paths.
type Config struct {
	Name string
	// Settings are the raw settings; Values the same parsed by the spec.
	Settings    map[string]string
	Values      Values
	Options     map[string]any
	ProjectRoot string
	SyncName    string
	RunID       string
	// Mode is the sync's mode (upsert, mirror, insert, update).
	Mode string
	// Fields lists the destination field names of the sync, in mapping order.
	Fields []string
	// Key names the destination field that holds the record key, when the
	// key is also a mapped field ("" otherwise).
	KeyField string
	// Hashes maps each destination field the sync hashes to its hashing
	// profile (see SyncInfo.Hashes).
	Hashes map[string]string
	// Logger gets request and response logs at debug level (nil: none).
	Logger *slog.Logger
}

// Factory opens a destination for one sync run.
type Factory func(ctx context.Context, cfg Config) (Destination, error)

var (
	mu    sync.RWMutex
	specs = map[string]*Spec{}
)

// Register makes a destination type available; call it from init(). It
// panics on a second registration of a type or a spec without New.
func Register(s *Spec) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := specs[s.Type]; dup || s.New == nil || s.Type == "" {
		panic("destination: bad or duplicate registration of " + s.Type)
	}
	specs[s.Type] = s
}

// Lookup returns the spec of a type.
func Lookup(typ string) (*Spec, error) {
	mu.RLock()
	defer mu.RUnlock()
	s, ok := specs[typ]
	if !ok {
		return nil, fmt.Errorf("unknown destination type %q (known: %v)", typ, typesLocked())
	}
	return s, nil
}

// Open parses raw settings against the type's spec and opens the
// destination; a bad setting is an error naming it.
func Open(ctx context.Context, typ string, cfg Config) (Destination, error) {
	s, err := Lookup(typ)
	if err != nil {
		return nil, err
	}
	v, probs := s.Parse(cfg.Settings)
	if len(probs) == 0 && s.CheckSettings != nil {
		probs = s.CheckSettings(v)
	}
	for _, p := range probs {
		if !p.Warning {
			if p.Hint != "" {
				return nil, fmt.Errorf("destination %s: %s (%s)", cfg.Name, p.Message, p.Hint)
			}
			return nil, fmt.Errorf("destination %s: %s", cfg.Name, p.Message)
		}
	}
	cfg.Values = v
	return s.New(ctx, cfg)
}

// Types lists registered destination types.
func Types() []string {
	mu.RLock()
	defer mu.RUnlock()
	return typesLocked()
}

func typesLocked() []string {
	out := make([]string, 0, len(specs))
	for k := range specs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
