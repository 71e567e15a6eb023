package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// ErrResultCount marks an Apply call that returned a result slice whose
// length differs from its batch. Deliver treats it as a retryable
// whole-batch error, so no record is confirmed from a misaligned answer.
var ErrResultCount = errors.New("destination returned a wrong number of results")

// statusTooManyRequests is HTTP 429.
const statusTooManyRequests = 429

// Deliver sends the records produced by next to dest and calls commit with
// the outcomes of each finished batch.
//
// Records are read in batches of MaxBatch (streaming: see the package doc
// for the memory bound), applied with at most Concurrency calls in flight
// under the RateLimit token bucket. A whole-batch error that is retryable
// (destination.IsRetryable: 429, 5xx, timeouts, connection errors) retries
// the batch after exponential backoff with full jitter, or after its
// RetryAfter, during which no Apply call starts at all; a non-retryable
// one rejects every record of the batch. Per-record retryable results are
// re-batched and re-sent alone until MaxAttempts, then reported with
// Retryable set; other per-record errors are rejections.
//
// commit gets each batch once, in its original record order, as soon as all
// its records are final; calls are never concurrent, and its context is not
// cancelled with ctx. A commit error stops delivery: nothing new starts, the
// calls in flight finish uncommitted, and Deliver returns the error.
//
// When ctx is cancelled Deliver stops reading and starting attempts, waits
// for the Apply calls in flight (their context has AttemptTimeout but is
// not cancelled with ctx), commits what is final — for a batch still
// waiting on retries, only its final records — and returns ctx's error
// wrapped. Records never resolved are not committed; the next run resends
// them. An error from next stops reading; what was read is still delivered
// and committed, then Deliver returns the error.
//
// Deliver returns only once every goroutine it started has ended, so next
// and commit are never called after it returns. It does not Close dest.
// next may block; it should honour ctx itself.
func Deliver(ctx context.Context, dest destination.Destination, opts Options,
	next func() (destination.Record, bool, error),
	commit func(ctx context.Context, batch []Outcome) error) (Stats, error) {
	if dest == nil || next == nil || commit == nil {
		return Stats{}, errors.New("delivery: Deliver needs a destination, next and commit")
	}
	cfg := resolve(opts, dest.Capabilities())
	c := newCoordinator(ctx, dest, cfg, next, commit)
	return c.run()
}

// item is one record being delivered.
type item struct {
	rec             destination.Record
	origin          *origin
	attempts        int
	err             error     // last failure; the outcome's once final
	readyAt         time.Time // when queued for retry
	retrying        bool      // counted in retryHeld
	final           bool
	failedRetryably bool   // final, and Err is a retryable failure
	remoteID        string // the destination's ID of the confirmed record
	receipt         string // the vendor's proof of a confirmed erase or unsubscribe
	permanent       bool   // final, and the rejection is for good
}

// origin is a batch as read from next: the unit of commit.
type origin struct {
	id        int64
	items     []item
	remaining int // items not final
}

// outcomes lists the final outcomes in record order.
func (o *origin) outcomes() []Outcome {
	out := make([]Outcome, 0, len(o.items))
	for i := range o.items {
		if it := &o.items[i]; it.final {
			out = append(out, Outcome{Record: it.rec, Err: it.err, Retryable: it.failedRetryably, Attempts: it.attempts,
				RemoteID: it.remoteID, Receipt: it.receipt, Permanent: it.permanent})
		}
	}
	return out
}

// all lists the origin's items for its first attempt.
func (o *origin) all() []*item {
	out := make([]*item, len(o.items))
	for i := range o.items {
		out[i] = &o.items[i]
	}
	return out
}

// formed is a batch read by the reader goroutine.
type formed struct {
	items []item // with only rec set
	eof   bool
	err   error
}

// completion is an Apply call's answer.
type completion struct {
	items []*item
	res   []destination.Result
	err   error
}

// committed is a commit call's answer.
type committed struct {
	o    *origin
	outs []Outcome
	err  error
}

// coordinator owns all delivery state; only run's goroutine touches it.
// Reading, Apply calls and commits happen on other goroutines that report
// back over channels.
type coordinator struct {
	ctx    context.Context
	dest   destination.Destination
	cfg    settings
	next   func() (destination.Record, bool, error)
	commit func(context.Context, []Outcome) error

	start       time.Time
	bucket      bucket
	pausedUntil time.Time
	timerAt     time.Time
	timerC      <-chan time.Time

	// reading
	want       chan struct{}
	formed     chan formed
	readerBusy bool
	inputDone  bool
	nextErr    error

	// records
	nextID    int64
	origins   map[int64]*origin // read and not yet queued for commit
	pending   *origin           // read, not yet sent
	retryQ    []*item
	held      int // records read and not yet committed or dropped
	retryHeld int // items waiting for, or in, a retry

	// Apply calls
	done     chan completion
	inflight int

	// commits
	commitQ    []*origin
	committing bool
	commitDone chan committed
	commitErr  error

	stopping bool
	stopErr  error
	flushed  bool

	wg    sync.WaitGroup // every goroutine started
	stats Stats
}

func newCoordinator(ctx context.Context, dest destination.Destination, cfg settings,
	next func() (destination.Record, bool, error), commit func(context.Context, []Outcome) error) *coordinator {
	now := cfg.clock.Now()
	return &coordinator{
		ctx: ctx, dest: dest, cfg: cfg, next: next, commit: commit,
		start:      now,
		bucket:     newBucket(cfg.rate, cfg.burst, now),
		want:       make(chan struct{}, 1),
		formed:     make(chan formed, 1),
		origins:    map[int64]*origin{},
		done:       make(chan completion, cfg.concurrency),
		commitDone: make(chan committed, 1),
		stats:      Stats{MaxBatch: cfg.maxBatch, Concurrency: cfg.concurrency, RateLimit: cfg.rate},
	}
}

// run is the event loop.
func (c *coordinator) run() (Stats, error) {
	c.wg.Add(1)
	go c.read()
	ctxDone := c.ctx.Done()
	for {
		if ctxDone != nil && c.ctx.Err() != nil {
			ctxDone = nil
			c.stop(fmt.Errorf("delivery stopped: %w", c.ctx.Err()))
		}
		wake := c.step()
		if c.finished() {
			break
		}
		select {
		case f := <-c.formed:
			c.onFormed(f)
		case d := <-c.done:
			c.onDone(d)
		case r := <-c.commitDone:
			c.onCommitted(r)
		case <-ctxDone:
		case <-c.timer(wake):
			c.timerAt, c.timerC = time.Time{}, nil
		}
	}
	close(c.want)
	c.wg.Wait()
	c.stats.Duration = c.cfg.clock.Now().Sub(c.start)
	return c.stats, c.err()
}

// err is the error Deliver returns.
func (c *coordinator) err() error {
	var errs []error
	if c.commitErr != nil {
		errs = append(errs, c.commitErr)
	}
	if c.stopErr != nil && c.stopErr != c.commitErr {
		errs = append(errs, c.stopErr)
	}
	if c.nextErr != nil {
		errs = append(errs, fmt.Errorf("delivery: reading records: %w", c.nextErr))
	}
	return errors.Join(errs...)
}

// stop makes the loop start nothing new.
func (c *coordinator) stop(err error) {
	if !c.stopping {
		c.stopping, c.stopErr = true, err
	}
}

// step starts whatever may start now and returns when the loop should wake
// up by itself (zero: only on an event).
func (c *coordinator) step() (wake time.Time) {
	if c.stopping {
		c.flush()
	} else {
		wake = c.dispatch()
		c.request()
	}
	c.startCommit()
	return wake
}

// finished reports whether nothing is left to do or wait for.
func (c *coordinator) finished() bool {
	if c.inflight > 0 || c.readerBusy || c.committing {
		return false
	}
	if c.commitErr != nil {
		return true
	}
	if c.stopping {
		return c.flushed && len(c.commitQ) == 0
	}
	return c.inputDone && c.pending == nil && len(c.origins) == 0 && len(c.commitQ) == 0
}

// timer returns a channel that fires at wake (nil: never), reusing the
// current timer when the wake-up time did not change.
func (c *coordinator) timer(wake time.Time) <-chan time.Time {
	if wake.IsZero() {
		return nil
	}
	if !wake.Equal(c.timerAt) || c.timerC == nil {
		c.timerAt = wake
		c.timerC = c.cfg.clock.After(max(wake.Sub(c.cfg.clock.Now()), 0))
	}
	return c.timerC
}

// read is the reader goroutine: for each request on want it reads up to
// MaxBatch records and sends them on formed.
func (c *coordinator) read() {
	defer c.wg.Done()
	for range c.want {
		f := formed{items: make([]item, 0, c.cfg.maxBatch)}
		for len(f.items) < c.cfg.maxBatch && c.ctx.Err() == nil {
			r, ok, err := c.next()
			if err != nil {
				f.err = err
				break
			}
			if !ok {
				f.eof = true
				break
			}
			f.items = append(f.items, item{rec: r})
		}
		c.formed <- f
		if f.eof || f.err != nil {
			return
		}
	}
}

// request asks the reader for another batch when the memory bound allows.
func (c *coordinator) request() {
	if c.inputDone || c.readerBusy || c.pending != nil {
		return
	}
	mb, n := c.cfg.maxBatch, c.cfg.concurrency
	if c.held-c.retryHeld+mb > (n+1)*mb || c.retryHeld >= n*mb {
		return
	}
	c.readerBusy = true
	c.want <- struct{}{}
}

// onFormed takes a batch from the reader.
func (c *coordinator) onFormed(f formed) {
	c.readerBusy = false
	n := len(f.items)
	c.stats.Records += int64(n)
	if f.eof || f.err != nil {
		c.inputDone, c.nextErr = true, f.err
	}
	if n == 0 || c.stopping {
		return // never attempted, never committed
	}
	o := &origin{id: c.nextID, items: f.items, remaining: n}
	c.nextID++
	for i := range o.items {
		o.items[i].origin = o
	}
	c.origins[o.id] = o
	c.pending = o
	c.held += n
	c.stats.Batches++
}

// dispatch starts Apply calls while a slot, a token and work are
// available: ready retries first, then the batch read last.
func (c *coordinator) dispatch() (wake time.Time) {
	for c.inflight < c.cfg.concurrency {
		now := c.cfg.clock.Now()
		if now.Before(c.pausedUntil) {
			return c.pausedUntil
		}
		retry, earliest := c.readyRetries(now)
		if !retry && c.pending == nil {
			return earliest
		}
		if d := c.bucket.delay(now); d > 0 {
			return now.Add(d)
		}
		c.bucket.take(now)
		if retry {
			c.launch(c.takeRetries(now))
		} else {
			c.launch(c.pending.all())
			c.pending = nil
		}
	}
	return time.Time{}
}

// readyRetries reports whether a queued retry is due, and otherwise when
// the first one will be (zero when none is queued).
func (c *coordinator) readyRetries(now time.Time) (bool, time.Time) {
	var earliest time.Time
	for _, it := range c.retryQ {
		if !it.readyAt.After(now) {
			return true, time.Time{}
		}
		if earliest.IsZero() || it.readyAt.Before(earliest) {
			earliest = it.readyAt
		}
	}
	return false, earliest
}

// takeRetries removes up to MaxBatch due retries from the queue, in queue
// order.
func (c *coordinator) takeRetries(now time.Time) []*item {
	var batch []*item
	kept := c.retryQ[:0]
	for _, it := range c.retryQ {
		if len(batch) < c.cfg.maxBatch && !it.readyAt.After(now) {
			batch = append(batch, it)
		} else {
			kept = append(kept, it)
		}
	}
	clear(c.retryQ[len(kept):])
	c.retryQ = kept
	return batch
}

// launch starts one Apply call on its own goroutine.
func (c *coordinator) launch(items []*item) {
	recs := make([]destination.Record, len(items))
	for i, it := range items {
		it.attempts++
		if it.attempts > 1 {
			c.stats.Retries++
		}
		recs[i] = it.rec
	}
	c.stats.Requests++
	c.inflight++
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		actx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), c.cfg.timeout)
		res, err := c.dest.Apply(actx, recs)
		cancel()
		c.done <- completion{items: items, res: res, err: err}
	}()
}

// onDone handles an Apply call's answer.
func (c *coordinator) onDone(d completion) {
	c.inflight--
	now := c.cfg.clock.Now()
	if d.err == nil && len(d.res) != len(d.items) {
		d.err = &destination.BatchError{Retryable: true,
			Err: fmt.Errorf("%w: %d results for a batch of %d records (Apply must return one result per record, index-aligned)",
				ErrResultCount, len(d.res), len(d.items))}
	}
	if d.err != nil {
		c.batchFailed(d.items, d.err, now)
		return
	}
	var retry []*item
	for i, it := range d.items {
		r := d.res[i]
		switch {
		case r.Err == nil:
			it.remoteID = r.RemoteID
			it.receipt = r.Receipt
			c.finalize(it, nil, false)
		case r.Retryable && it.attempts < c.cfg.maxAttempts:
			it.err = r.Err
			retry = append(retry, it)
		case r.Permanent:
			it.permanent = true
			c.finalize(it, r.Err, false)
		default:
			c.finalize(it, r.Err, r.Retryable)
		}
	}
	if len(retry) > 0 {
		c.requeue(retry, now.Add(c.cfg.backoff(maxAttempts(retry))))
	}
}

// batchFailed handles a whole-batch error. A fatal one (a refused token)
// stops the run: the batch's records are final as retryable failures, so
// the next run sends them again once the cause is fixed.
func (c *coordinator) batchFailed(items []*item, err error, now time.Time) {
	retryable := destination.IsRetryable(err)
	var be *destination.BatchError
	var after time.Duration
	if errors.As(err, &be) {
		if be.Status == statusTooManyRequests || be.Throttled {
			c.stats.Throttled++
		}
		if be.Fatal {
			for _, it := range items {
				c.finalize(it, err, true)
			}
			c.stop(fmt.Errorf("delivery stopped: %w", err))
			return
		}
		if retryable {
			after = be.RetryAfter
		}
	}
	if after > 0 {
		c.stats.RetryAfterWaits++
		if until := now.Add(after); until.After(c.pausedUntil) {
			c.pausedUntil = until
		}
	}
	var retry []*item
	for _, it := range items {
		if retryable && it.attempts < c.cfg.maxAttempts {
			it.err = err
			retry = append(retry, it)
		} else {
			c.finalize(it, err, retryable)
		}
	}
	if len(retry) == 0 {
		return
	}
	wait := after
	if wait <= 0 {
		wait = c.cfg.backoff(maxAttempts(retry))
	}
	c.requeue(retry, now.Add(wait))
}

func maxAttempts(items []*item) int {
	n := 0
	for _, it := range items {
		n = max(n, it.attempts)
	}
	return n
}

// requeue puts items on the retry queue, due at readyAt.
func (c *coordinator) requeue(items []*item, readyAt time.Time) {
	for _, it := range items {
		it.readyAt = readyAt
		if !it.retrying {
			it.retrying = true
			c.retryHeld++
		}
		c.retryQ = append(c.retryQ, it)
	}
}

// finalize fixes an item's outcome and queues its batch for commit once
// every record of it is final.
func (c *coordinator) finalize(it *item, err error, retryable bool) {
	it.final = true
	it.err, it.failedRetryably = err, err != nil && retryable
	if it.retrying {
		it.retrying = false
		c.retryHeld--
	}
	o := it.origin
	if o.remaining--; o.remaining == 0 {
		delete(c.origins, o.id)
		c.commitQ = append(c.commitQ, o)
	}
}

// flush, once nothing is in flight after a stop, queues the final records
// of batches still waiting on retries and drops what was never attempted.
func (c *coordinator) flush() {
	if c.flushed || c.inflight > 0 || c.readerBusy || c.commitErr != nil {
		return
	}
	c.flushed = true
	if c.pending != nil {
		delete(c.origins, c.pending.id)
		c.held -= len(c.pending.items)
		c.pending = nil
	}
	for id := int64(0); id < c.nextID && len(c.origins) > 0; id++ {
		o, ok := c.origins[id]
		if !ok {
			continue
		}
		delete(c.origins, id)
		if len(o.items) > o.remaining {
			c.commitQ = append(c.commitQ, o)
		} else {
			c.held -= len(o.items)
		}
	}
	c.retryQ, c.retryHeld = nil, 0
}

// startCommit hands the next finished batch to commit unless one is
// being committed.
func (c *coordinator) startCommit() {
	if c.committing || c.commitErr != nil || len(c.commitQ) == 0 {
		return
	}
	o := c.commitQ[0]
	c.commitQ[0] = nil
	c.commitQ = c.commitQ[1:]
	outs := o.outcomes()
	c.committing = true
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		err := c.commit(context.WithoutCancel(c.ctx), outs)
		c.commitDone <- committed{o: o, outs: outs, err: err}
	}()
}

// onCommitted handles a commit's answer.
func (c *coordinator) onCommitted(r committed) {
	c.committing = false
	if r.err != nil {
		c.commitErr = fmt.Errorf("delivery: commit: %w", r.err)
		c.stop(c.commitErr)
		c.commitQ = nil
		return
	}
	c.held -= len(r.o.items)
	for _, out := range r.outs {
		switch {
		case out.Err == nil:
			c.stats.Confirmed++
		case out.Retryable:
			c.stats.FailedRetryable++
		default:
			c.stats.Rejected++
		}
	}
	if c.cfg.progress != nil {
		st := c.stats
		st.Duration = c.cfg.clock.Now().Sub(c.start)
		c.cfg.progress(st)
	}
}
