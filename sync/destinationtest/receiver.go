package destinationtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

// Options configures a Receiver.
type Options struct {
	// Secret is the Standard Webhooks signing secret: "whsec_<base64>" or raw
	// bytes. New generates one when empty; Serve then checks no signature.
	Secret string
	// MaxBatch is the most records a request may carry (default 1000).
	MaxBatch int
	// Tolerance is how far webhook-timestamp may be from the receiver's
	// clock (default 5 minutes).
	Tolerance time.Duration
	// Faults is the initial fault schedule.
	Faults Faults
	// OnBatch, when set, is called after each batch is applied and before it
	// is confirmed, with the number of batches applied so far. It runs on the
	// request's goroutine, one call at a time.
	OnBatch func(n int)
	// AllowViolations records contract violations (see Violations) without
	// failing the test; for tests that send bad requests on purpose.
	AllowViolations bool
	// Log, when set, gets one line per request: applied batches, faults and
	// violations.
	Log io.Writer
}

// Receiver is an http.Handler that enforces the webhook contract, applies
// accepted batches to an in-memory state and injects faults. It is safe for
// concurrent use. GET /state answers the state as JSON, GET /stats the
// counters; every POST is a delivery.
type Receiver struct {
	opts   Options
	key    []byte // HMAC key; nil: signatures are not checked
	report func(format string, args ...any)
	closed chan struct{}
	once   sync.Once
	hookMu sync.Mutex // serialises OnBatch

	mu         sync.Mutex
	faults     Faults
	faultN     int
	rng        *rand.Rand
	gate       chan struct{} // non-nil while paused; closed by Resume
	state      map[string]map[string]any
	ops        []LoggedOp
	batches    []Batch
	seen       map[string][32]byte // webhook-id → body digest
	applied    map[string]bool     // webhook-ids applied
	erased     []string            // keys erased, in order
	unsubbed   map[string]bool     // keys unsubscribed
	stats      Stats
	violations []string
}

// LoggedOp is one applied record operation.
type LoggedOp struct {
	Batch     int            // 1-based number of the applied batch
	WebhookID string         // the batch's webhook-id
	Op        string         // add, change, remove, unsubscribe or erase
	Key       string         // the record's key
	Fields    map[string]any // as decoded from JSON: numbers are float64
}

// Batch describes one applied batch.
type Batch struct {
	N         int    // 1-based number among applied batches
	Request   int    // 1-based number among all requests
	WebhookID string // the webhook-id header (and "batch" member)
	Sync      string // the "sync" member
	RunID     string // the "run_id" member
	Records   int    // records in the request
	Add       int    // applied adds
	Change    int    // applied changes
	Remove    int    // applied removes
	Erase     int    // applied erasures (of a key held)
	Unsub     int    // applied unsubscribes
	NotFound  int    // erasures answered "not_found"
	Rejected  int    // records answered "rejected"
	Retry     int    // records answered "retry"
	Duplicate bool   // the webhook-id had been applied before
}

// Stats counts requests by outcome.
type Stats struct {
	Requests   int // every POST received
	Invalid    int // answered 400 for a contract violation
	Batches    int // applied batches
	Records    int // applied record operations
	Rejected   int // records answered "rejected"
	Retried    int // records answered "retry"
	Throttled  int // answered 429
	Failed     int // answered 500 or Faults.Status
	TimedOut   int // held until the client gave up
	Dropped    int // connection closed without a response
	Duplicates int // applied batches whose webhook-id was applied before
	// AddExisting, ChangeMissing and RemoveMissing count operations that did
	// not match the state: an add of a present key, a change or a remove of an
	// absent one.
	AddExisting, ChangeMissing, RemoveMissing int
	// Erased counts erasures of a key held; EraseMissing those of an
	// absent key, answered "not_found".
	Erased, EraseMissing int
}

// NewReceiver returns a Receiver that reports violations to Options.Log
// (or standard error). Most callers want New or Serve.
func NewReceiver(opts Options) (*Receiver, error) {
	w := opts.Log
	if w == nil {
		w = os.Stderr
	}
	return newReceiver(opts, func(format string, args ...any) {
		fmt.Fprintf(w, "destinationtest: "+format+"\n", args...)
	})
}

func newReceiver(opts Options, report func(string, ...any)) (*Receiver, error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1000
	}
	if opts.Tolerance <= 0 {
		opts.Tolerance = 5 * time.Minute
	}
	r := &Receiver{
		opts:     opts,
		report:   report,
		closed:   make(chan struct{}),
		state:    map[string]map[string]any{},
		seen:     map[string][32]byte{},
		applied:  map[string]bool{},
		unsubbed: map[string]bool{},
	}
	if opts.Secret != "" {
		k, err := decodeKey(opts.Secret)
		if err != nil {
			return nil, err
		}
		r.key = k
	}
	r.SetFaults(opts.Faults)
	return r, nil
}

// SetFaults replaces the fault schedule and restarts its counting and the
// record-fault generator.
func (r *Receiver) SetFaults(f Faults) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = f
	r.faultN = 0
	r.rng = rand.New(rand.NewPCG(f.seed(), 0x9e3779b97f4a7c15))
}

// Pause holds every request that arrives (or is waiting) until Resume; a
// held request whose client disconnects is not applied.
func (r *Receiver) Pause() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gate == nil {
		r.gate = make(chan struct{})
	}
}

// Resume releases the requests held by Pause.
func (r *Receiver) Resume() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gate != nil {
		close(r.gate)
		r.gate = nil
	}
}

// Close releases held and hanging requests; later requests get 503.
func (r *Receiver) Close() { r.once.Do(func() { close(r.closed) }) }

// State returns a copy of the records held: key → last fields.
func (r *Receiver) State() map[string]map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]map[string]any, len(r.state))
	for k, f := range r.state {
		out[k] = maps.Clone(f)
	}
	return out
}

// Ops returns a copy of the log of applied record operations, in order.
func (r *Receiver) Ops() []LoggedOp {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]LoggedOp, len(r.ops))
	for i, o := range r.ops {
		o.Fields = maps.Clone(o.Fields)
		out[i] = o
	}
	return out
}

// Erased returns the keys erased (op erase of a key held), in order.
func (r *Receiver) Erased() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.erased...)
}

// Unsubscribed reports whether a key was unsubscribed (op unsubscribe);
// its record stays held.
func (r *Receiver) Unsubscribed(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.unsubbed[key]
}

// BatchLog returns a copy of the log of applied batches, in order.
func (r *Receiver) BatchLog() []Batch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Batch(nil), r.batches...)
}

// Batches returns how many batches were applied.
func (r *Receiver) Batches() int { return r.Stats().Batches }

// Requests returns how many POSTs were received.
func (r *Receiver) Requests() int { return r.Stats().Requests }

// Throttled returns how many requests were answered 429.
func (r *Receiver) Throttled() int { return r.Stats().Throttled }

// Stats returns the counters.
func (r *Receiver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Violations returns the contract violations seen, in order.
func (r *Receiver) Violations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.violations...)
}

// ServeHTTP implements http.Handler.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, h *http.Request) {
	switch {
	case h.Method == http.MethodGet && h.URL.Path == "/state":
		writeJSON(w, r.State())
		return
	case h.Method == http.MethodGet && h.URL.Path == "/stats":
		writeJSON(w, r.Stats())
		return
	}
	r.mu.Lock()
	r.stats.Requests++
	n := r.stats.Requests
	gate := r.gate
	r.mu.Unlock()
	if h.Method != http.MethodPost {
		r.violation(w, n, fmt.Errorf("method %s, want POST", h.Method))
		return
	}
	// The body is read first: only then does the server notice a client
	// that gives up while the request is held.
	req, err := r.validate(h)
	var gone errClientGone
	if errors.As(err, &gone) {
		return
	}
	if err != nil {
		r.violation(w, n, err)
		return
	}
	if gate != nil && !r.wait(h, gate) {
		return
	}
	select {
	case <-r.closed:
		http.Error(w, "receiver closed", http.StatusServiceUnavailable)
		return
	default:
	}
	r.deliver(w, h, n, req)
}

// wait blocks until gate opens; false when the client or receiver went away.
func (r *Receiver) wait(h *http.Request, gate chan struct{}) bool {
	select {
	case <-gate:
		return h.Context().Err() == nil
	case <-h.Context().Done():
		return false
	case <-r.closed:
		return false
	}
}

func (r *Receiver) violation(w http.ResponseWriter, n int, err error) {
	r.mu.Lock()
	r.stats.Invalid++
	r.violations = append(r.violations, err.Error())
	r.mu.Unlock()
	msg := fmt.Sprintf("request %d violates the webhook contract: %v", n, err)
	if !r.opts.AllowViolations {
		r.report("%s", msg)
	}
	r.logf("%s", msg)
	http.Error(w, err.Error(), http.StatusBadRequest)
}

func (r *Receiver) logf(format string, args ...any) {
	if r.opts.Log != nil {
		fmt.Fprintf(r.opts.Log, format+"\n", args...)
	}
}

// deliver applies the schedule's fault or the batch.
func (r *Receiver) deliver(w http.ResponseWriter, h *http.Request, n int, req *request) {
	r.mu.Lock()
	if d, ok := r.seen[req.id]; ok && d != req.digest {
		r.mu.Unlock()
		r.violation(w, n, fmt.Errorf("webhook-id %s was sent before with a different body", req.id))
		return
	}
	r.seen[req.id] = req.digest
	r.faultN++
	f := r.faults
	kind := f.pick(r.faultN)
	switch kind {
	case faultDrop:
		r.stats.Dropped++
	case faultTimeout:
		r.stats.TimedOut++
	case fault429:
		r.stats.Throttled++
	case fault500, faultStatus:
		r.stats.Failed++
	}
	r.mu.Unlock()
	if kind != faultNone {
		r.logf("request %d: fault %s (batch %s not applied)", n, faultNames[kind], req.id)
	}
	switch kind {
	case faultDrop:
		drop(w)
	case faultTimeout:
		select {
		case <-h.Context().Done():
		case <-r.closed:
			http.Error(w, "receiver closed", http.StatusServiceUnavailable)
		}
	case fault429:
		if ra := f.retryAfter(); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		http.Error(w, "slow down", http.StatusTooManyRequests)
	case fault500:
		http.Error(w, "injected failure", http.StatusInternalServerError)
	case faultStatus:
		w.WriteHeader(f.status(kind))
		io.WriteString(w, f.Body)
	default:
		r.apply(w, n, req)
	}
}

// drop closes the connection without writing a response.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// result is one entry of the response's results.
type result struct {
	Index  int    `json:"index"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// apply applies the records that draw no record fault, then confirms.
func (r *Receiver) apply(w http.ResponseWriter, n int, req *request) {
	r.mu.Lock()
	b := Batch{Request: n, WebhookID: req.id, Sync: req.sync, RunID: req.runID, Records: len(req.records)}
	if r.applied[req.id] {
		b.Duplicate = true
		r.stats.Duplicates++
	}
	r.applied[req.id] = true
	b.N = len(r.batches) + 1
	withResults := r.faults.recordFaults()
	results := make([]result, 0, len(req.records))
	for i, rec := range req.records {
		res := result{Index: i, Status: "ok"}
		if withResults {
			x := r.rng.Float64()
			switch {
			case x < r.faults.RejectRate:
				res.Status, res.Error = "rejected", "injected rejection"
				b.Rejected++
			case x < r.faults.RejectRate+r.faults.RetryableRecordRate:
				res.Status, res.Error = "retry", "injected transient failure"
				b.Retry++
			}
		}
		if res.Status == "ok" && rec.op == "erase" {
			if _, held := r.state[rec.key]; !held {
				res.Status = "not_found"
				b.NotFound++
				r.stats.EraseMissing++
			}
		}
		results = append(results, res)
		if res.Status == "ok" {
			r.applyRecord(&b, rec)
		}
	}
	r.batches = append(r.batches, b)
	r.stats.Batches++
	r.stats.Rejected += b.Rejected
	r.stats.Retried += b.Retry
	keys := len(r.state)
	r.mu.Unlock()

	r.logf("batch %d %s sync=%s run=%s records=%d add=%d change=%d remove=%d erase=%d unsubscribe=%d rejected=%d retry=%d keys=%d",
		b.N, b.WebhookID, b.Sync, b.RunID, b.Records, b.Add, b.Change, b.Remove, b.Erase, b.Unsub, b.Rejected, b.Retry, keys)
	if r.opts.OnBatch != nil {
		r.hookMu.Lock()
		r.opts.OnBatch(b.N)
		r.hookMu.Unlock()
	}
	if !withResults && b.NotFound == 0 {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, map[string]any{"results": results})
}

// applyRecord changes the state; r.mu is held.
func (r *Receiver) applyRecord(b *Batch, rec record) {
	_, present := r.state[rec.key]
	switch rec.op {
	case "add", "change":
		if rec.op == "add" {
			b.Add++
			if present {
				r.stats.AddExisting++
			}
		} else {
			b.Change++
			if !present {
				r.stats.ChangeMissing++
			}
		}
		r.state[rec.key] = rec.fields
	case "remove":
		b.Remove++
		if !present {
			r.stats.RemoveMissing++
		}
		delete(r.state, rec.key)
	case "erase":
		b.Erase++
		r.stats.Erased++
		delete(r.state, rec.key)
		delete(r.unsubbed, rec.key)
		r.erased = append(r.erased, rec.key)
	case "unsubscribe":
		b.Unsub++
		r.unsubbed[rec.key] = true
	}
	r.stats.Records++
	r.ops = append(r.ops, LoggedOp{Batch: b.N, WebhookID: b.WebhookID, Op: rec.op, Key: rec.key, Fields: rec.fields})
}

// Keys returns the keys held, sorted.
func (r *Receiver) Keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.state))
	for k := range r.state {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
