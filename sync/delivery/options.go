package delivery

import (
	"math/rand/v2"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// Defaults used for zero Options fields.
const (
	DefaultMaxAttempts    = 5
	DefaultBaseBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultAttemptTimeout = 30 * time.Second
)

// Options tune one delivery. Zero (or negative) fields take the default
// described on each field, mostly from the destination's Capabilities.
type Options struct {
	// MaxBatch caps records per Apply call; it is clamped to the
	// destination's MaxBatch (0 = the destination's; 1 when neither says).
	MaxBatch int
	// Concurrency bounds Apply calls in flight. A limit declared by the
	// destination wins when lower (0 = the destination's, or 1).
	Concurrency int
	// RateLimit caps Apply calls per second with a token bucket. When both
	// this and the destination's RateLimit are set, the lower applies;
	// otherwise whichever is set; 0 for both means unlimited.
	RateLimit float64
	// Burst is the token bucket's size (default 1: requests are evenly
	// spaced at 1/RateLimit).
	Burst int
	// MaxAttempts is how many times one record may be sent within a run
	// before it is reported as a retryable failure (default 5).
	MaxAttempts int
	// BaseBackoff is the backoff before the second attempt; it doubles per
	// attempt up to MaxBackoff and is fully jittered (defaults 500ms, 30s).
	BaseBackoff time.Duration
	// MaxBackoff caps the exponential backoff (a Retry-After is honoured
	// even when longer).
	MaxBackoff time.Duration
	// AttemptTimeout bounds one Apply call (default: the destination's
	// Capabilities.Timeout, or 30s).
	AttemptTimeout time.Duration
	// Clock tells and waits for time (default: the real clock). Apply's
	// timeout always uses real time.
	Clock Clock
	// Jitter returns a duration in [0, d] used as the backoff for a
	// computed exponential backoff d (default: uniformly random, i.e.
	// "full jitter"). Results outside [0, d] are clamped.
	Jitter func(d time.Duration) time.Duration
	// Progress, when set, is called after each successful commit with the
	// statistics so far, from the goroutine that called Deliver; keep it
	// fast.
	Progress func(Stats)
}

// Clock is the source of time. A fake clock's After must, like
// time.After, deliver on a buffered channel that nobody has to drain.
// (A clock that also has Sleep satisfies it.)
type Clock interface {
	// Now tells the current time.
	Now() time.Time
	// After delivers the time once d has elapsed.
	After(d time.Duration) <-chan time.Time
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// settings are Options resolved against a destination's capabilities.
type settings struct {
	maxBatch    int
	concurrency int
	rate        float64
	burst       int
	maxAttempts int
	base, max   time.Duration
	timeout     time.Duration
	clock       Clock
	jitter      func(time.Duration) time.Duration
	progress    func(Stats)
}

// resolve applies defaults and the destination's limits to o.
func resolve(o Options, c destination.Capabilities) settings {
	s := settings{
		maxBatch:    lowerPositive(o.MaxBatch, c.MaxBatch),
		concurrency: lowerPositive(o.Concurrency, c.Concurrency),
		rate:        lowerPositive(o.RateLimit, c.RateLimit),
		burst:       orDefault(o.Burst, 1),
		maxAttempts: orDefault(o.MaxAttempts, DefaultMaxAttempts),
		base:        orDefault(o.BaseBackoff, DefaultBaseBackoff),
		max:         orDefault(o.MaxBackoff, DefaultMaxBackoff),
		timeout:     orDefault(o.AttemptTimeout, orDefault(c.Timeout, DefaultAttemptTimeout)),
		clock:       o.Clock,
		jitter:      o.Jitter,
		progress:    o.Progress,
	}
	s.maxBatch = max(s.maxBatch, 1)
	s.concurrency = max(s.concurrency, 1)
	if s.max < s.base {
		s.max = s.base
	}
	if s.clock == nil {
		s.clock = realClock{}
	}
	if s.jitter == nil {
		s.jitter = fullJitter
	}
	return s
}

// backoff is the jittered wait after a record's attempt-th failed attempt.
func (s *settings) backoff(attempt int) time.Duration {
	d := s.base
	for i := 1; i < attempt && d < s.max; i++ {
		d *= 2
	}
	d = min(d, s.max)
	return min(max(s.jitter(d), 0), d)
}

// fullJitter is uniform in [0, d].
func fullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// lowerPositive is the lower of a and b among those > 0 (0 when neither).
func lowerPositive[T int | float64](a, b T) T {
	switch {
	case a > 0 && b > 0:
		return min(a, b)
	case a > 0:
		return a
	}
	return max(b, 0)
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}
