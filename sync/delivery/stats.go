package delivery

import (
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// Outcome is the final result of one record in this run. Err nil means the
// destination confirmed the record; otherwise Retryable tells a rejection
// by the destination (false) from a retryable failure that exhausted its
// attempts or a whole-batch error (true). Attempts counts the Apply calls
// that carried the record.
type Outcome struct {
	Record    destination.Record // as read from next
	Err       error              // nil: confirmed
	Retryable bool               // Err is a retryable failure, not a rejection
	Attempts  int                // Apply calls that carried the record
	// RemoteID is the destination's ID of a confirmed record, when it gave one.
	RemoteID string
	// Receipt is the vendor's proof of a confirmed erase or unsubscribe
	// (destination.Result.Receipt).
	Receipt string
	// Permanent: the destination refuses the record for as long as it stays
	// as it is (destination.Result.Permanent).
	Permanent bool
}

// Stats describe a delivery. Outcome counters (Confirmed, Rejected,
// FailedRetryable) count committed outcomes only; Records minus their sum
// is what was read but not committed (stopped runs resend it next time).
type Stats struct {
	// Records read from next.
	Records int64 `json:"records"`
	// Batches formed from those records (each is committed once).
	Batches int64 `json:"batches"`
	// Requests is the number of Apply calls, retries included.
	Requests int64 `json:"requests"`
	// Confirmed records, committed.
	Confirmed int64 `json:"confirmed"`
	// Rejected records (the destination refused them, or a non-retryable
	// whole-batch error), committed.
	Rejected int64 `json:"rejected"`
	// FailedRetryable records still failing retryably after MaxAttempts,
	// committed.
	FailedRetryable int64 `json:"failed_retryable"`
	// Retries counts record re-sends: a record sent three times counts two.
	Retries int64 `json:"retries"`
	// Throttled counts responses with HTTP status 429.
	Throttled int64 `json:"throttled"`
	// RetryAfterWaits counts Retry-After pauses of all workers.
	RetryAfterWaits int64 `json:"retry_after_waits"`
	// Duration of the delivery so far.
	Duration time.Duration `json:"duration_ns"`

	// MaxBatch, Concurrency and RateLimit are the effective settings
	// (RateLimit 0 = unlimited).
	MaxBatch    int     `json:"max_batch"`
	Concurrency int     `json:"concurrency"`
	RateLimit   float64 `json:"rate_limit"`
}

// RateUsed is the achieved request rate as a fraction of RateLimit (1 =
// the limit was saturated); 0 when there is no limit or no time elapsed.
func (s Stats) RateUsed() float64 {
	if s.RateLimit <= 0 || s.Duration <= 0 {
		return 0
	}
	return float64(s.Requests) / s.Duration.Seconds() / s.RateLimit
}

// bucket is a token bucket: rate tokens per second, at most burst saved.
type bucket struct {
	rate   float64 // 0 = unlimited
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int, now time.Time) bucket {
	return bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

func (b *bucket) refill(now time.Time) {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.burst, b.tokens+el.Seconds()*b.rate)
		b.last = now
	}
}

// delay is how long until a token is available (0 = now).
func (b *bucket) delay(now time.Time) time.Duration {
	if b.rate <= 0 {
		return 0
	}
	b.refill(now)
	if b.tokens >= 1 {
		return 0
	}
	d := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
	return max(d, time.Microsecond)
}

// take spends a token; call it only when delay returned 0.
func (b *bucket) take(now time.Time) {
	if b.rate <= 0 {
		return
	}
	b.refill(now)
	b.tokens--
}
