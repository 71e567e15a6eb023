package intercom

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cdpkit/cdp/sync/httpdest"
)

// maxPause bounds a wait asked for by Intercom's headers (its windows are
// 10 seconds; a far-off reset is not believed).
const maxPause = time.Minute

// limiter paces the connector's HTTP requests, shared by every contact
// being written: it waits while Intercom said the window is used up
// (X-RateLimit-Remaining 0 until X-RateLimit-Reset, or a 429), and spaces
// requests at rate per second when the rate_limit setting gives one.
type limiter struct {
	mu          sync.Mutex
	pausedUntil time.Time
	rate        float64 // requests per second; 0 = no cap of our own
	tokens      float64
	last        time.Time
	now         func() time.Time
}

func newLimiter(rate float64) *limiter {
	return &limiter{rate: rate, tokens: 1, now: time.Now}
}

// wait blocks until a request may be sent, or ctx ends.
func (l *limiter) wait(ctx context.Context) error {
	for {
		d := l.reserve()
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// reserve takes a token and returns 0, or returns how long to wait first.
func (l *limiter) reserve() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Before(l.pausedUntil) {
		return l.pausedUntil.Sub(now)
	}
	if l.rate <= 0 {
		return 0
	}
	if !l.last.IsZero() {
		l.tokens = min(1, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens < 1 {
		return max(time.Duration((1-l.tokens)/l.rate*float64(time.Second)), time.Millisecond)
	}
	l.tokens--
	return 0
}

// observe reads Intercom's rate-limit headers from a response: a used-up
// window (X-RateLimit-Remaining 0) or a 429 pauses every request until the
// reset time it announces.
func (l *limiter) observe(status int, h http.Header) {
	now := l.now()
	var wait time.Duration
	switch {
	case status == http.StatusTooManyRequests:
		wait = httpdest.RetryAfter(h, now)
	case h.Get("X-RateLimit-Remaining") == "0":
		if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			wait = time.Unix(reset, 0).Sub(now)
		}
	}
	if wait <= 0 {
		return
	}
	until := now.Add(min(wait, maxPause))
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
}
