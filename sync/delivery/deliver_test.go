package delivery

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// fakeDest is a scripted stand-in for a remote API. apply (nil: confirm
// everything) decides each call's answer; the fake records what it saw.
type fakeDest struct {
	caps  destination.Capabilities
	apply func(ctx context.Context, call int, batch []destination.Record) ([]destination.Result, error)

	inflight, maxInflight atomic.Int32

	mu      sync.Mutex
	starts  []time.Time
	batches [][]string
	sent    map[string]int
}

func (f *fakeDest) Capabilities() destination.Capabilities { return f.caps }
func (f *fakeDest) Close() error                           { return nil }

func (f *fakeDest) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for m := f.maxInflight.Load(); n > m && !f.maxInflight.CompareAndSwap(m, n); m = f.maxInflight.Load() {
	}
	keys := make([]string, len(batch))
	for i, r := range batch {
		keys[i] = r.Key
	}
	f.mu.Lock()
	call := len(f.starts)
	f.starts = append(f.starts, time.Now())
	f.batches = append(f.batches, keys)
	if f.sent == nil {
		f.sent = map[string]int{}
	}
	for _, k := range keys {
		f.sent[k]++
	}
	f.mu.Unlock()
	if f.apply == nil {
		return make([]destination.Result, len(batch)), nil
	}
	return f.apply(ctx, call, batch)
}

func (f *fakeDest) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.starts)
}

// source returns a next func producing n records keyed k0000000… and a
// counter of records read.
func source(n int) (func() (destination.Record, bool, error), *atomic.Int64) {
	var read atomic.Int64
	return func() (destination.Record, bool, error) {
		i := read.Load()
		if i >= int64(n) {
			return destination.Record{}, false, nil
		}
		read.Add(1)
		return destination.Record{Op: destination.OpAdd, Key: key(int(i)), Fields: map[string]any{"i": i}}, true, nil
	}, &read
}

func key(i int) string { return fmt.Sprintf("k%07d", i) }

func keyIndex(t testing.TB, k string) int {
	i, err := strconv.Atoi(strings.TrimPrefix(k, "k"))
	if err != nil {
		t.Fatalf("bad key %q", k)
	}
	return i
}

// sink collects commits and checks they are never concurrent.
type sink struct {
	t       testing.TB
	busy    atomic.Bool
	mu      sync.Mutex
	batches [][]Outcome
	byKey   map[string]Outcome
	fail    func(call int) error // nil: succeed
	delay   time.Duration
	after   atomic.Bool // set when Deliver returned
}

func newSink(t testing.TB) *sink { return &sink{t: t, byKey: map[string]Outcome{}} }

func (s *sink) commit(ctx context.Context, batch []Outcome) error {
	if s.after.Load() {
		s.t.Errorf("commit called after Deliver returned")
	}
	if !s.busy.CompareAndSwap(false, true) {
		s.t.Errorf("concurrent commit calls")
	}
	defer s.busy.Store(false)
	if ctx.Err() != nil {
		s.t.Errorf("commit context already done: %v", ctx.Err())
	}
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	call := len(s.batches)
	s.batches = append(s.batches, batch)
	if s.fail != nil {
		if err := s.fail(call); err != nil {
			return err
		}
	}
	for _, o := range batch {
		if _, dup := s.byKey[o.Record.Key]; dup {
			s.t.Errorf("record %s committed twice", o.Record.Key)
		}
		s.byKey[o.Record.Key] = o
	}
	return nil
}

// deliver runs Deliver over n generated records.
func deliver(t testing.TB, ctx context.Context, d *fakeDest, opts Options, n int, s *sink) (Stats, error) {
	next, _ := source(n)
	st, err := Deliver(ctx, d, opts, next, s.commit)
	s.after.Store(true)
	return st, err
}

// settle fails the test when goroutines started during it do not end.
func settle(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				t.Errorf("goroutines leaked: %d > %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

func fast(o Options) Options {
	if o.BaseBackoff == 0 {
		o.BaseBackoff = time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Millisecond
	}
	return o
}

func TestBatchingKeepsEveryRecordOnce(t *testing.T) {
	settle(t)
	for _, tc := range []struct {
		name            string
		destMax, optMax int
		want            int
	}{
		{"destination's", 10, 0, 10},
		{"clamped to destination's", 10, 50, 10},
		{"smaller than destination's", 10, 7, 7},
		{"neither says", 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 1003
			d := &fakeDest{caps: destination.Capabilities{MaxBatch: tc.destMax, Concurrency: 4}}
			s := newSink(t)
			st, err := deliver(t, context.Background(), d, fast(Options{MaxBatch: tc.optMax}), n, s)
			if err != nil {
				t.Fatal(err)
			}
			if st.MaxBatch != tc.want {
				t.Errorf("MaxBatch = %d, want %d", st.MaxBatch, tc.want)
			}
			for _, b := range d.batches {
				if len(b) == 0 || len(b) > tc.want {
					t.Fatalf("Apply got %d records, max %d", len(b), tc.want)
				}
			}
			if len(s.byKey) != n {
				t.Fatalf("committed %d records, want %d", len(s.byKey), n)
			}
			for _, b := range s.batches {
				if len(b) > tc.want {
					t.Errorf("commit of %d outcomes, batch max %d", len(b), tc.want)
				}
				for i := 1; i < len(b); i++ { // a batch keeps its read order
					if keyIndex(t, b[i].Record.Key) != keyIndex(t, b[i-1].Record.Key)+1 {
						t.Fatalf("batch out of order: %s after %s", b[i].Record.Key, b[i-1].Record.Key)
					}
				}
				for _, o := range b {
					if o.Err != nil || o.Attempts != 1 || o.Record.Fields["i"] != int64(keyIndex(t, o.Record.Key)) {
						t.Fatalf("outcome %+v", o)
					}
				}
			}
			want := Stats{Records: n, Batches: int64(len(s.batches)), Requests: int64(len(d.batches)), Confirmed: n}
			got := st
			got.Duration, got.MaxBatch, got.Concurrency, got.RateLimit = 0, 0, 0, 0
			if got != want {
				t.Errorf("stats = %+v, want %+v", got, want)
			}
			if int(st.Batches) != (n+tc.want-1)/tc.want {
				t.Errorf("Batches = %d", st.Batches)
			}
		})
	}
}

func TestEmptyInput(t *testing.T) {
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 10}}
	s := newSink(t)
	st, err := deliver(t, context.Background(), d, Options{}, 0, s)
	if err != nil || st.Records != 0 || len(s.batches) != 0 || d.calls() != 0 {
		t.Fatalf("err=%v stats=%+v commits=%d calls=%d", err, st, len(s.batches), d.calls())
	}
}

func TestConcurrencyBound(t *testing.T) {
	settle(t)
	for _, tc := range []struct {
		name            string
		dest, opt, want int
	}{
		{"options", 0, 3, 3},
		{"destination's", 2, 0, 2},
		{"destination's lower", 2, 5, 2},
		{"options lower", 6, 3, 3},
		{"default", 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDest{caps: destination.Capabilities{MaxBatch: 2, Concurrency: tc.dest},
				apply: func(ctx context.Context, call int, b []destination.Record) ([]destination.Result, error) {
					time.Sleep(3 * time.Millisecond)
					return make([]destination.Result, len(b)), nil
				}}
			s := newSink(t)
			st, err := deliver(t, context.Background(), d, Options{Concurrency: tc.opt}, 60, s)
			if err != nil {
				t.Fatal(err)
			}
			if got := int(d.maxInflight.Load()); got != tc.want || st.Concurrency != tc.want {
				t.Errorf("max in flight = %d (stats %d), want %d", got, st.Concurrency, tc.want)
			}
			if len(s.byKey) != 60 {
				t.Errorf("committed %d", len(s.byKey))
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	settle(t)
	for _, tc := range []struct {
		name       string
		opt, dest  float64
		min, max   time.Duration
		wantRate   float64
		checkUsage bool
	}{
		{"options", 100, 0, 400 * time.Millisecond, 5 * time.Second, 100, true},
		{"destination's lower", 1000, 100, 400 * time.Millisecond, 5 * time.Second, 100, true},
		{"options lower", 100, 1000, 400 * time.Millisecond, 5 * time.Second, 100, true},
		{"unlimited", 0, 0, 0, 300 * time.Millisecond, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDest{caps: destination.Capabilities{MaxBatch: 1, Concurrency: 8, RateLimit: tc.dest}}
			start := time.Now()
			st, err := deliver(t, context.Background(), d, Options{RateLimit: tc.opt}, 50, newSink(t))
			el := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if st.Requests != 50 || st.RateLimit != tc.wantRate {
				t.Fatalf("stats %+v", st)
			}
			if el < tc.min || el > tc.max {
				t.Errorf("50 requests took %v, want within [%v, %v]", el, tc.min, tc.max)
			}
			if u := st.RateUsed(); tc.checkUsage && (u < 0.5 || u > 1.2) {
				t.Errorf("RateUsed = %.2f", u)
			}
			if !tc.checkUsage && st.RateUsed() != 0 {
				t.Errorf("RateUsed without a limit = %v", st.RateUsed())
			}
		})
	}
}

func TestBurst(t *testing.T) {
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 1, Concurrency: 10}}
	start := time.Now()
	// 10 tokens at once, then 10 more at 50/s: ≈ 0.2s instead of ≈ 0.4s.
	if _, err := deliver(t, context.Background(), d, Options{RateLimit: 50, Burst: 10}, 20, newSink(t)); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 150*time.Millisecond || el > 350*time.Millisecond {
		t.Errorf("took %v, want ≈ 200ms", el)
	}
}

func TestProgressAfterEachCommit(t *testing.T) {
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 10, Concurrency: 3}}
	s := newSink(t)
	var seen []Stats
	opts := Options{Progress: func(st Stats) {
		s.mu.Lock()
		if len(seen)+1 != len(s.batches) {
			t.Errorf("progress call %d after %d commits", len(seen)+1, len(s.batches))
		}
		s.mu.Unlock()
		seen = append(seen, st)
	}}
	st, err := deliver(t, context.Background(), d, opts, 95, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 10 || len(s.batches) != 10 {
		t.Fatalf("progress calls %d, commits %d", len(seen), len(s.batches))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Confirmed <= seen[i-1].Confirmed {
			t.Errorf("progress not increasing: %+v then %+v", seen[i-1], seen[i])
		}
	}
	if last := seen[len(seen)-1]; last.Confirmed != 95 || st.Confirmed != 95 {
		t.Errorf("last progress %+v, final %+v", last, st)
	}
}

func TestNextError(t *testing.T) {
	boom := errors.New("cursor broke")
	gen, _ := source(1000)
	read := 0
	next := func() (destination.Record, bool, error) {
		if read == 25 {
			return destination.Record{}, false, boom
		}
		read++
		return gen()
	}
	d := &fakeDest{caps: destination.Capabilities{MaxBatch: 10, Concurrency: 2}}
	s := newSink(t)
	st, err := Deliver(context.Background(), d, Options{}, next, s.commit)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if len(s.byKey) != 25 || st.Confirmed != 25 || st.Records != 25 {
		t.Errorf("committed %d, stats %+v", len(s.byKey), st)
	}
}

func TestDeliverNeedsArguments(t *testing.T) {
	next, _ := source(1)
	if _, err := Deliver(context.Background(), nil, Options{}, next, newSink(t).commit); err == nil {
		t.Error("nil destination accepted")
	}
	if _, err := Deliver(context.Background(), &fakeDest{}, Options{}, nil, newSink(t).commit); err == nil {
		t.Error("nil next accepted")
	}
	if _, err := Deliver(context.Background(), &fakeDest{}, Options{}, next, nil); err == nil {
		t.Error("nil commit accepted")
	}
}
