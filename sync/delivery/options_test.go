package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

func TestResolve(t *testing.T) {
	caps := destination.Capabilities{MaxBatch: 100, Concurrency: 4, RateLimit: 10, Timeout: 7 * time.Second}
	s := resolve(Options{}, caps)
	if s.maxBatch != 100 || s.concurrency != 4 || s.rate != 10 || s.burst != 1 || s.maxAttempts != 5 ||
		s.base != 500*time.Millisecond || s.max != 30*time.Second || s.timeout != 7*time.Second {
		t.Errorf("defaults from capabilities: %+v", s)
	}
	s = resolve(Options{MaxBatch: 500, Concurrency: 8, RateLimit: 20, Burst: 3, MaxAttempts: 2,
		BaseBackoff: time.Second, MaxBackoff: 10 * time.Millisecond, AttemptTimeout: time.Second}, caps)
	if s.maxBatch != 100 || s.concurrency != 4 || s.rate != 10 || s.burst != 3 || s.maxAttempts != 2 ||
		s.base != time.Second || s.max != time.Second || s.timeout != time.Second {
		t.Errorf("limits win over larger options: %+v", s)
	}
	s = resolve(Options{MaxBatch: 50, Concurrency: 2, RateLimit: 5}, caps)
	if s.maxBatch != 50 || s.concurrency != 2 || s.rate != 5 {
		t.Errorf("lower options win: %+v", s)
	}
	s = resolve(Options{MaxBatch: -1, Concurrency: -1, RateLimit: -1}, destination.Capabilities{})
	if s.maxBatch != 1 || s.concurrency != 1 || s.rate != 0 || s.timeout != 30*time.Second {
		t.Errorf("nothing declared: %+v", s)
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	s := resolve(Options{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second,
		Jitter: func(d time.Duration) time.Duration { return d }}, destination.Capabilities{})
	var got []time.Duration
	for a := 1; a <= 6; a++ {
		got = append(got, s.backoff(a))
	}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i := range want {
		want[i] *= time.Millisecond
	}
	if !slices.Equal(got, want) {
		t.Errorf("backoff = %v, want %v", got, want)
	}
	s.jitter = func(d time.Duration) time.Duration { return 2 * d }
	if s.backoff(1) != 100*time.Millisecond {
		t.Error("jitter above the backoff not clamped")
	}
	s.jitter = fullJitter
	for range 100 {
		if d := s.backoff(3); d < 0 || d > 400*time.Millisecond {
			t.Fatalf("full jitter %v outside [0, 400ms]", d)
		}
	}
}

func TestBucket(t *testing.T) {
	t0 := time.Unix(0, 0)
	b := newBucket(10, 1, t0)
	if b.delay(t0) != 0 {
		t.Fatal("first token not available")
	}
	b.take(t0)
	if d := b.delay(t0); d < 99*time.Millisecond || d > 101*time.Millisecond {
		t.Errorf("delay %v, want 100ms", d)
	}
	if b.delay(t0.Add(100*time.Millisecond)) != 0 {
		t.Error("token not refilled after 100ms")
	}
	b = newBucket(10, 3, t0)
	for i := range 3 {
		if b.delay(t0) != 0 {
			t.Fatalf("burst token %d not available", i)
		}
		b.take(t0)
	}
	if b.delay(t0) == 0 {
		t.Error("more than the burst available")
	}
	b.delay(t0.Add(time.Hour)) // refills only up to the burst
	if b.tokens != 3 {
		t.Errorf("tokens %v after an idle hour", b.tokens)
	}
	if u := newBucket(0, 1, t0); u.delay(t0) != 0 {
		t.Error("unlimited bucket delays")
	}
}

// fakeClock jumps forward by d whenever After(d) is asked, so backoffs
// and pauses take no real time and the waits can be checked exactly.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func TestFakeClockWaits(t *testing.T) {
	noJitter := func(d time.Duration) time.Duration { return d }
	ms := time.Millisecond
	for _, tc := range []struct {
		name  string
		opts  Options
		apply func(call int) error
		n     int
		waits []time.Duration
	}{
		{"exponential backoff with default base and cap", Options{}, func(int) error {
			return &destination.BatchError{Err: errors.New("503"), Retryable: true, Status: 503}
		}, 3, []time.Duration{500 * ms, 1000 * ms, 2000 * ms, 4000 * ms}},
		{"capped at MaxBackoff", Options{BaseBackoff: 10 * time.Second}, func(int) error {
			return errors.New("timeout")
		}, 3, []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, 30 * time.Second}},
		{"Retry-After replaces the backoff", Options{}, func(call int) error {
			if call == 0 {
				return &destination.BatchError{Err: errors.New("429"), Retryable: true, RetryAfter: 7 * time.Second, Status: 429}
			}
			return nil
		}, 3, []time.Duration{7 * time.Second}},
		{"rate limit spaces requests", Options{MaxBatch: 1, RateLimit: 2}, func(int) error { return nil },
			5, []time.Duration{500 * ms, 500 * ms, 500 * ms, 500 * ms}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{now: time.Unix(1000, 0)}
			d := &fakeDest{caps: destination.Capabilities{MaxBatch: 10}}
			d.apply = func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
				if err := tc.apply(call); err != nil {
					return nil, err
				}
				return ok(len(b)), nil
			}
			opts := tc.opts
			opts.Clock, opts.Jitter = clock, noJitter
			st, err := deliver(t, context.Background(), d, opts, tc.n, newSink(t))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(clock.waits, tc.waits) {
				t.Errorf("waits %v, want %v", clock.waits, tc.waits)
			}
			var total time.Duration
			for _, w := range tc.waits {
				total += w
			}
			if st.Duration != total {
				t.Errorf("Duration %v, want %v", st.Duration, total)
			}
		})
	}
}

func TestStatsJSON(t *testing.T) {
	st := Stats{Records: 3, Confirmed: 2, FailedRetryable: 1, Requests: 4, Duration: 2 * time.Second, RateLimit: 1}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"records":3`, `"failed_retryable":1`, `"duration_ns":2000000000`, `"retry_after_waits":0`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("%s lacks %s", b, k)
		}
	}
	if u := st.RateUsed(); u != 2 {
		t.Errorf("RateUsed = %v", u)
	}
}
