package delivery

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

func TestCancelCommitsInFlight(t *testing.T) {
	settle(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var applyCtxErr atomic.Value
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 5, Concurrency: 2}}
	d.apply = func(actx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
		if call == 2 {
			cancel() // SIGTERM while calls 2 (and maybe 3) are in flight
		}
		time.Sleep(80 * time.Millisecond)
		if err := actx.Err(); err != nil {
			applyCtxErr.Store(err)
		}
		return ok(len(b)), nil
	}
	s := newSink(t)
	next, read := source(1000)
	start := time.Now()
	st, err := Deliver(ctx, d, Options{}, next, s.commit)
	s.after.Store(true)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %v", el)
	}
	if v := applyCtxErr.Load(); v != nil {
		t.Errorf("Apply's context was cancelled: %v", v)
	}
	calls := d.calls()
	if calls < 3 || calls > 4 {
		t.Errorf("%d Apply calls, want 3 or 4", calls)
	}
	// Every record sent was confirmed and committed; nothing else was.
	if len(s.byKey) != 5*calls || int(st.Confirmed) != 5*calls || len(s.batches) != calls {
		t.Errorf("committed %d records in %d batches after %d calls; stats %+v", len(s.byKey), len(s.batches), calls, st)
	}
	for k := range d.sent {
		if o, ok := s.byKey[k]; !ok || o.Err != nil {
			t.Errorf("sent record %s: outcome %+v, committed %v", k, o, ok)
		}
	}
	if r := read.Load(); r > int64(5*(calls+2)) {
		t.Errorf("read %d records", r)
	}
	time.Sleep(50 * time.Millisecond) // a late commit would fail the sink
}

func TestCancelWithPendingRetries(t *testing.T) {
	settle(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 5}}
	d.apply = func(actx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
		res := ok(len(b))
		res[1] = destination.Result{Err: errors.New("busy"), Retryable: true}
		res[2] = destination.Result{Err: errors.New("invalid")}
		return res, nil
	}
	var once sync.Once
	opts := Options{BaseBackoff: time.Minute, MaxBackoff: time.Minute, Jitter: func(d time.Duration) time.Duration { return d }}
	s := newSink(t)
	next, _ := source(5)
	go func() {
		for d.calls() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		once.Do(cancel)
	}()
	start := time.Now()
	st, err := Deliver(ctx, d, opts, next, s.commit)
	s.after.Store(true)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
	// The batch is committed without the record still waiting to retry.
	if len(s.batches) != 1 || len(s.batches[0]) != 4 {
		t.Fatalf("commits %+v", s.batches)
	}
	if _, ok := s.byKey[key(1)]; ok {
		t.Error("record waiting for a retry was committed")
	}
	if o := s.byKey[key(2)]; o.Err == nil || o.Retryable {
		t.Errorf("rejected outcome %+v", o)
	}
	if st.Confirmed != 3 || st.Rejected != 1 || st.Records != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 5}}
	s := newSink(t)
	_, err := deliver(t, ctx, d, Options{}, 100, s)
	if !errors.Is(err, context.Canceled) || d.calls() != 0 || len(s.batches) != 0 {
		t.Fatalf("err=%v calls=%d commits=%d", err, d.calls(), len(s.batches))
	}
}

func TestCommitErrorStops(t *testing.T) {
	settle(t)
	broken := errors.New("warehouse gone")
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 10, Concurrency: 2}}
	d.apply = func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
		time.Sleep(5 * time.Millisecond)
		return ok(len(b)), nil
	}
	s := newSink(t)
	s.fail = func(call int) error {
		if call == 1 {
			return broken
		}
		return nil
	}
	st, err := deliver(t, context.Background(), d, Options{}, 1000, s)
	if !errors.Is(err, broken) {
		t.Fatalf("err = %v", err)
	}
	if len(s.batches) != 2 {
		t.Errorf("%d commits after the failing one", len(s.batches)-2)
	}
	// At most the batches in flight or read ahead when the commit failed.
	if calls := d.calls(); calls > 2+3 {
		t.Errorf("%d Apply calls", calls)
	}
	if st.Confirmed != 10 {
		t.Errorf("stats %+v", st)
	}
	n := d.calls()
	time.Sleep(30 * time.Millisecond)
	if d.calls() != n {
		t.Error("Apply called after Deliver returned")
	}
}

// TestStreamingBound reads 200k records through a slow-ish commit and checks
// that records read but not committed stay bounded.
func TestStreamingBound(t *testing.T) {
	const n, mb, conc = 200_000, 100, 4
	for _, tc := range []struct {
		name    string
		retries bool
		bound   int
	}{
		{"no retries", false, (conc + 1) * mb},
		{"with retries", true, (2*conc + 1) * mb},
	} {
		t.Run(tc.name, func(t *testing.T) {
			settle(t)
			var read, committed, peak atomic.Int64
			next := func() (destination.Record, bool, error) {
				i := read.Load()
				if i >= n {
					return destination.Record{}, false, nil
				}
				if out := read.Add(1) - committed.Load(); out > peak.Load() {
					peak.Store(out)
				}
				return destination.Record{Op: destination.OpAdd, Key: key(int(i))}, true, nil
			}
			d := &fakeDest{caps: destination.Capabilities{MaxBatch: mb, Concurrency: conc}}
			var mu sync.Mutex
			tried := map[string]bool{}
			if tc.retries {
				d.apply = func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
					res := ok(len(b))
					mu.Lock()
					defer mu.Unlock()
					for j, r := range b {
						if keyIndex(t, r.Key)%7 == 0 && !tried[r.Key] {
							tried[r.Key] = true
							res[j] = destination.Result{Err: errors.New("busy"), Retryable: true}
						}
					}
					return res, nil
				}
			}
			seen := make([]bool, n)
			commit := func(ctx context.Context, outs []Outcome) error {
				time.Sleep(100 * time.Microsecond)
				for _, o := range outs {
					i := keyIndex(t, o.Record.Key)
					if seen[i] || o.Err != nil {
						t.Fatalf("record %d: committed twice or failed: %+v", i, o)
					}
					seen[i] = true
				}
				committed.Add(int64(len(outs)))
				return nil
			}
			st, err := Deliver(context.Background(), d, fast(Options{}), next, commit)
			if err != nil {
				t.Fatal(err)
			}
			if st.Confirmed != n || committed.Load() != n {
				t.Fatalf("stats %+v", st)
			}
			if p := peak.Load(); p > int64(tc.bound) {
				t.Errorf("%d records read and not committed at once, bound %d", p, tc.bound)
			} else {
				t.Logf("peak %d records held (bound %d)", p, tc.bound)
			}
		})
	}
}
