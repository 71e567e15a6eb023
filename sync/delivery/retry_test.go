package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

func ok(n int) []destination.Result { return make([]destination.Result, n) }

func TestRetryAfterPausesAllWorkers(t *testing.T) {
	settle(t)
	const pause = 300 * time.Millisecond
	var (
		mu       sync.Mutex
		returned time.Time
	)
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 1, Concurrency: 4}}
	d.apply = func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
		time.Sleep(2 * time.Millisecond)
		if call == 6 {
			mu.Lock()
			defer mu.Unlock()
			returned = time.Now()
			return nil, &destination.BatchError{Err: errors.New("429 Too Many Requests"), Retryable: true, RetryAfter: pause, Status: 429}
		}
		return ok(len(b)), nil
	}
	s := newSink(t)
	start := time.Now()
	st, err := deliver(t, context.Background(), d, fast(Options{}), 40, s)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < pause {
		t.Errorf("run took %v, shorter than the Retry-After", time.Since(start))
	}
	if st.Throttled != 1 || st.RetryAfterWaits != 1 || st.Confirmed != 40 || st.Retries != 1 || st.Requests != 41 {
		t.Errorf("stats %+v", st)
	}
	// Calls already being started when the 429 came back may begin just
	// after it; none may begin later during the pause.
	lo, hi := returned.Add(50*time.Millisecond), returned.Add(pause-20*time.Millisecond)
	after := 0
	for i, at := range d.starts {
		if at.After(lo) && at.Before(hi) {
			t.Errorf("call %d started %v after the 429, inside the Retry-After pause", i, at.Sub(returned))
		}
		if at.After(returned) {
			after++
		}
	}
	if after == 0 {
		t.Error("no call after the pause")
	}
	throttled := d.batches[6][0]
	if o := s.byKey[throttled]; o.Err != nil || o.Attempts != 2 {
		t.Errorf("throttled record outcome %+v", o)
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 10}}
	d.apply = func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
		if call < 2 {
			return nil, &destination.BatchError{Err: errors.New("503 Service Unavailable"), Retryable: true, Status: 503}
		}
		return ok(len(b)), nil
	}
	s := newSink(t)
	st, err := deliver(t, context.Background(), d, fast(Options{}), 10, s)
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 3 || st.Retries != 20 || st.Confirmed != 10 || st.Throttled != 0 || st.RetryAfterWaits != 0 {
		t.Errorf("stats %+v", st)
	}
	for k, o := range s.byKey {
		if o.Err != nil || o.Attempts != 3 {
			t.Errorf("%s: %+v", k, o)
		}
	}
	// A plain error (connection reset) is retryable too.
	d2 := &fakeDest{caps: destination.Capabilities{MaxBatch: 10}}
	d2.apply = func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
		if call == 0 {
			return nil, errors.New("connection reset by peer")
		}
		return ok(len(b)), nil
	}
	if st, err := deliver(t, context.Background(), d2, fast(Options{}), 10, newSink(t)); err != nil || st.Confirmed != 10 || st.Requests != 2 {
		t.Errorf("err=%v stats %+v", err, st)
	}
}

// TestPerRecordRetry: records whose index is a multiple of 3 fail
// retryably once; multiples of 5 (not of 3) are rejected. Results are
// decided by key, so a misaligned answer would show in the outcomes.
func TestPerRecordRetry(t *testing.T) {
	settle(t)
	const n = 60
	var mu sync.Mutex
	tries := map[string]int{}
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 7, Concurrency: 3}}
	d.apply = func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		res := make([]destination.Result, len(b))
		for j, r := range b {
			i := keyIndex(t, r.Key)
			tries[r.Key]++
			switch {
			case i%3 == 0 && tries[r.Key] == 1:
				res[j] = destination.Result{Err: fmt.Errorf("%s: busy", r.Key), Retryable: true}
			case i%3 != 0 && i%5 == 0:
				res[j] = destination.Result{Err: fmt.Errorf("%s: invalid email", r.Key)}
			}
		}
		return res, nil
	}
	s := newSink(t)
	st, err := deliver(t, context.Background(), d, fast(Options{}), n, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.byKey) != n {
		t.Fatalf("committed %d", len(s.byKey))
	}
	var rejected, retried int64
	for k, o := range s.byKey {
		i := keyIndex(t, k)
		switch {
		case i%3 == 0:
			retried++
			if o.Err != nil || o.Attempts != 2 || d.sent[k] != 2 {
				t.Errorf("%s: %+v sent %d", k, o, d.sent[k])
			}
		case i%5 == 0:
			rejected++
			if o.Err == nil || o.Retryable || o.Attempts != 1 || !strings.HasPrefix(o.Err.Error(), k+":") {
				t.Errorf("%s: %+v", k, o)
			}
		default:
			if o.Err != nil || o.Attempts != 1 || d.sent[k] != 1 {
				t.Errorf("%s: %+v sent %d", k, o, d.sent[k])
			}
		}
	}
	if st.Rejected != rejected || st.Confirmed != n-rejected || st.Retries != retried {
		t.Errorf("stats %+v", st)
	}
	// Re-sent batches carry only records that failed retryably, never
	// mixed with first sends.
	sent := map[string]bool{}
	resends := 0
	for _, b := range d.batches {
		again := sent[b[0]]
		for _, k := range b {
			if sent[k] != again || (again && keyIndex(t, k)%3 != 0) {
				t.Errorf("batch %v mixes first sends and re-sends or re-sends %s", b, k)
			}
			sent[k] = true
		}
		if again {
			resends++
		}
	}
	if resends == 0 {
		t.Error("no batch re-sent")
	}
}

func TestMaxAttemptsExhausted(t *testing.T) {
	busy := errors.New("still busy")
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 5}}
	d.apply = func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
		res := ok(len(b))
		for j, r := range b {
			if r.Key == key(3) {
				res[j] = destination.Result{Err: busy, Retryable: true}
			}
		}
		return res, nil
	}
	s := newSink(t)
	st, err := deliver(t, context.Background(), d, fast(Options{MaxAttempts: 3}), 10, s)
	if err != nil {
		t.Fatal(err)
	}
	if o := s.byKey[key(3)]; !errors.Is(o.Err, busy) || !o.Retryable || o.Attempts != 3 {
		t.Errorf("outcome %+v", o)
	}
	if st.FailedRetryable != 1 || st.Confirmed != 9 || st.Retries != 2 || st.Requests != 4 {
		t.Errorf("stats %+v", st)
	}
	// The other records of its batch waited for it: one commit each.
	if len(s.batches) != 2 || len(s.batches[0]) != 5 {
		t.Errorf("commits %v", s.batches)
	}
}

func TestWholeBatchRetriesExhausted(t *testing.T) {
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 4}}
	d.apply = func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
		return nil, &destination.BatchError{Err: errors.New("502 Bad Gateway"), Retryable: true, Status: 502}
	}
	s := newSink(t)
	st, err := deliver(t, context.Background(), d, fast(Options{MaxAttempts: 2}), 8, s)
	if err != nil {
		t.Fatal(err)
	}
	var be *destination.BatchError
	for k, o := range s.byKey {
		if !errors.As(o.Err, &be) || be.Status != 502 || !o.Retryable || o.Attempts != 2 {
			t.Errorf("%s: %+v", k, o)
		}
	}
	if st.FailedRetryable != 8 || st.Requests != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestNonRetryableBatchError(t *testing.T) {
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 4, Concurrency: 2}}
	d.apply = func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
		return nil, &destination.BatchError{Err: errors.New("400 Bad Request: bad payload"), Status: 400}
	}
	s := newSink(t)
	st, err := deliver(t, context.Background(), d, fast(Options{}), 10, s)
	if err != nil {
		t.Fatal(err)
	}
	var be *destination.BatchError
	for k, o := range s.byKey {
		if !errors.As(o.Err, &be) || be.Status != 400 || o.Retryable || o.Attempts != 1 {
			t.Errorf("%s: %+v", k, o)
		}
	}
	if len(s.byKey) != 10 || st.Rejected != 10 || st.Requests != 3 || st.Retries != 0 {
		t.Errorf("committed %d, stats %+v", len(s.byKey), st)
	}
}

func TestWrongResultCount(t *testing.T) {
	t.Run("retried until right", func(t *testing.T) {
		var mu sync.Mutex
		seen := map[string]bool{}
		d := &fakeDest{caps: destination.Capabilities{MaxBatch: 5, Concurrency: 2}}
		d.apply = func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
			mu.Lock()
			defer mu.Unlock()
			if !seen[b[0].Key] { // first answer for a batch drops a result
				seen[b[0].Key] = true
				return ok(len(b) - 1), nil
			}
			return ok(len(b)), nil
		}
		s := newSink(t)
		st, err := deliver(t, context.Background(), d, fast(Options{}), 20, s)
		if err != nil {
			t.Fatal(err)
		}
		for k, o := range s.byKey {
			if o.Err != nil || o.Attempts != 2 {
				t.Errorf("%s: %+v", k, o)
			}
		}
		if st.Confirmed != 20 || st.Requests != 8 {
			t.Errorf("stats %+v", st)
		}
	})
	for _, tc := range []struct {
		name  string
		extra int
	}{{"always too many", 1}, {"always too few", -1}, {"nil", -1000}} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDest{caps: destination.Capabilities{MaxBatch: 5}}
			d.apply = func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
				if n := len(b) + tc.extra; n > 0 {
					return ok(n), nil
				}
				return nil, nil
			}
			s := newSink(t)
			st, err := deliver(t, context.Background(), d, fast(Options{MaxAttempts: 3}), 10, s)
			if err != nil {
				t.Fatal(err)
			}
			for k, o := range s.byKey {
				if !errors.Is(o.Err, ErrResultCount) || !o.Retryable || o.Attempts != 3 {
					t.Errorf("%s: %+v", k, o)
				}
			}
			if st.Confirmed != 0 || st.FailedRetryable != 10 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestAttemptTimeout(t *testing.T) {
	settle(t)
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 5, Timeout: time.Hour}}
	d.apply = func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	s := newSink(t)
	start := time.Now()
	st, err := deliver(t, context.Background(), d, fast(Options{AttemptTimeout: 20 * time.Millisecond, MaxAttempts: 2}), 5, s)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	for k, o := range s.byKey {
		if !errors.Is(o.Err, context.DeadlineExceeded) || !o.Retryable || o.Attempts != 2 {
			t.Errorf("%s: %+v", k, o)
		}
	}
	if st.FailedRetryable != 5 {
		t.Errorf("stats %+v", st)
	}
}
