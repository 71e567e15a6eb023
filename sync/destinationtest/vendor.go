package destinationtest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Vendor is a local contract server of one vendor's API, driven by the
// destination guarantee suite (sync/guarantee). Each lives in
// sync/destinationtest/<vendor>, enforces what the vendor documents
// (paths, methods, auth, body shape, batch and payload limits, its own
// rate-limit signal, per-record errors in its shape, async jobs that take
// several polls) and keeps an in-memory store of the vendor's objects.
type Vendor interface {
	// Type is the destination type the server stands for.
	Type() string
	// Settings are the destination settings that point a destination of
	// Type at this server for a sync in mode (base_url, credentials, list
	// or group IDs, batch_size…). Every value is a plain string as YAML
	// would give it.
	Settings(mode string) map[string]string
	// Fields names the destination fields the suite maps its three traits
	// to: the email (also the sync key), the first name and the lifetime
	// value (a number).
	Fields() Mapping
	// Audience returns what the vendor holds as the sync's audience, keyed
	// by email, each record as {"email", "name", "ltv"} → the text the
	// vendor holds (numbers in Go's shortest 'f' form, FormatNumber), a
	// cleared or absent field omitted. For a mode that mirrors into a list
	// or subscription group it is the list's members; otherwise every
	// object the vendor holds.
	Audience(mode string) map[string]map[string]string
	// SetFaults replaces the fault schedule; the counts restart.
	SetFaults(Faults)
	// Stats counts requests by outcome.
	Stats() VendorStats
	// Violations lists the contract violations seen (each also reported
	// through the test's Errorf).
	Violations() []string
	// OnWrite sets a hook called after each write request is applied and
	// before it is answered, with the number of writes so far (the crash
	// test kills the client there).
	OnWrite(func(n int))
	// URL is the server's base URL.
	URL() string
}

// Mapping names destination fields. Extra maps more destination fields to
// the suite's traits (email, first_name, ltv), for a vendor that requires a
// field the suite's audience may leave empty (Salesforce's LastName).
//
// An ad platform holds only hashes: Hash maps a destination field to the
// hashing profile (sync/hashing) the sync applies to it, and a trait the
// platform has no place for has an empty field name (not mapped). Its
// Audience is then keyed by the hashed email and holds, for "email" and
// "name", the hashes it received; the suite hashes its model the same way.
type Mapping struct {
	Email, Name, LTV string
	Extra            map[string]string
	Hash             map[string]string
}

// VendorStats counts a vendor server's requests by outcome.
type VendorStats struct {
	Requests  int // every request received
	Writes    int // write requests applied
	Invalid   int // contract violations
	Throttled int // answered with the vendor's rate-limit signal
	Failed    int // answered 5xx (or Faults.Status)
	TimedOut  int // held until the client gave up
	Dropped   int // connection closed without an answer
	Rejected  int // records answered with a per-record error
	Retried   int // records answered with a transient per-record error
}

// FormatNumber renders a number the way Audience reports it.
func FormatNumber(f float64) string { return fmt.Sprintf("%v", f) }

// Kit is what every vendor server shares: the fault schedule (counted over
// valid requests), the seeded record-fault draws, a rate limit enforced
// with the vendor's own signal, counters, violations and the write hook.
// Embed it in a vendor server; it is safe for concurrent use.
type Kit struct {
	t      testing.TB
	mu     sync.Mutex
	faults Faults
	faultN int
	rng    *rand.Rand
	stats  VendorStats
	viol   []string
	hook   func(int)
	hookMu sync.Mutex

	// rate limit: at most Limit requests per Window
	limit  int
	window time.Duration
	times  []time.Time
}

// NewKit returns a kit reporting violations to t.
func NewKit(t testing.TB) *Kit {
	k := &Kit{t: t}
	k.SetFaults(Faults{})
	return k
}

// SetFaults replaces the schedule and restarts its counts.
func (k *Kit) SetFaults(f Faults) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.faults, k.faultN = f, 0
	k.rng = rand.New(rand.NewPCG(f.seed(), 0x5eed))
}

// SetRateLimit makes the server throttle beyond n requests per window (the
// vendor's documented limit, or a smaller one for tests); 0 disables it.
func (k *Kit) SetRateLimit(n int, window time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.limit, k.window, k.times = n, window, nil
}

// Faults returns the current schedule.
func (k *Kit) Faults() Faults {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.faults
}

// Stats returns the counters.
func (k *Kit) Stats() VendorStats {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.stats
}

// Count changes the counters under the kit's lock.
func (k *Kit) Count(f func(s *VendorStats)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f(&k.stats)
}

// Violations lists the contract violations seen.
func (k *Kit) Violations() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.viol...)
}

// Violation records a contract violation, reports it to the test and
// answers 400 with body (the vendor's error shape).
func (k *Kit) Violation(w http.ResponseWriter, body string, format string, args ...any) {
	k.Report(format, args...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(body))
}

// Report records a contract violation and reports it to the test without
// answering: for a server that answers in the vendor's own status and shape.
func (k *Kit) Report(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	k.mu.Lock()
	k.viol = append(k.viol, msg)
	k.stats.Invalid++
	k.mu.Unlock()
	if k.t != nil {
		k.t.Errorf("contract violation: %s", msg)
	}
}

// Request counts a request; call it first in every handler.
func (k *Kit) Request() { k.Count(func(s *VendorStats) { s.Requests++ }) }

// FaultKind is the whole-request fault picked for one request.
type FaultKind int

// Whole-request faults.
const (
	NoFault FaultKind = iota
	FaultDrop
	FaultTimeout
	Fault429
	Fault500
	FaultStatus
)

// Fault decides the whole-request fault of a valid request (rate limit
// first, then the schedule) and, unless it is NoFault, answers it: a drop
// closes the connection, a timeout holds the request until the client gives
// up, Fault500 and FaultStatus answer that status, and a throttle calls
// throttle to write the vendor's own rate-limit answer. It reports whether
// the request was answered (the handler must then return without applying
// anything).
func (k *Kit) Fault(w http.ResponseWriter, r *http.Request, throttle func(w http.ResponseWriter, retryAfter string)) bool {
	k.mu.Lock()
	kind := NoFault
	if k.limit > 0 {
		now := time.Now()
		kept := k.times[:0]
		for _, t := range k.times {
			if now.Sub(t) < k.window {
				kept = append(kept, t)
			}
		}
		k.times = kept
		if len(k.times) >= k.limit {
			kind = Fault429
		} else {
			k.times = append(k.times, now)
		}
	}
	f := k.faults
	if kind == NoFault {
		k.faultN++
		kind = FaultKind(f.pick(k.faultN))
	}
	switch kind {
	case Fault429:
		k.stats.Throttled++
	case Fault500, FaultStatus:
		k.stats.Failed++
	case FaultTimeout:
		k.stats.TimedOut++
	case FaultDrop:
		k.stats.Dropped++
	}
	k.mu.Unlock()
	switch kind {
	case NoFault:
		return false
	case FaultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	case FaultTimeout:
		<-r.Context().Done()
		return true
	case Fault429:
		throttle(w, f.retryAfter())
		return true
	case Fault500:
		http.Error(w, `{"message":"internal error (injected)"}`, http.StatusInternalServerError)
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status(fault(kind)))
	_, _ = w.Write([]byte(f.Body))
	return true
}

// RecordFault draws the fault of one record of a batch that got through:
// reject (a permanent per-record error) or retry (a transient one).
func (k *Kit) RecordFault() (reject, retry bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f := k.faults
	if !f.recordFaults() {
		return false, false
	}
	x := k.rng.Float64()
	switch {
	case x < f.RejectRate:
		k.stats.Rejected++
		return true, false
	case x < f.RejectRate+f.RetryableRecordRate:
		k.stats.Retried++
		return false, true
	}
	return false, false
}

// OnWrite sets the write hook.
func (k *Kit) OnWrite(h func(int)) {
	k.hookMu.Lock()
	defer k.hookMu.Unlock()
	k.hook = h
}

// Wrote counts an applied write and calls the hook, one call at a time.
func (k *Kit) Wrote() {
	k.mu.Lock()
	k.stats.Writes++
	n := k.stats.Writes
	k.mu.Unlock()
	k.hookMu.Lock()
	defer k.hookMu.Unlock()
	if k.hook != nil {
		k.hook(n)
	}
}
