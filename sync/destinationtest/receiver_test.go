package destinationtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// post sends a signed delivery; mutate may alter the request before it goes.
func post(t *testing.T, s *Server, id, body string, mutate func(*http.Request)) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader(body))
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	key, _ := decodeKey(s.Secret)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Webhook-Id", id)
	req.Header.Set("Webhook-Timestamp", ts)
	req.Header.Set("Webhook-Signature", sign(key, id, ts, []byte(body)))
	if mutate != nil {
		mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func payloadFor(id string, recs ...string) string {
	return fmt.Sprintf(`{"sync":"s","run_id":"r","batch":%q,"records":[%s]}`, id, strings.Join(recs, ","))
}

func TestViolations(t *testing.T) {
	s := New(t, Options{MaxBatch: 2, AllowViolations: true})
	good := payloadFor("m1", `{"op":"add","key":"k","fields":{"a":1}}`)
	for name, c := range map[string]struct {
		id, body string
		mutate   func(*http.Request)
		msg      string
	}{
		"content type": {"m1", good, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, "content-type"},
		"no id":        {"m1", good, func(r *http.Request) { r.Header.Del("Webhook-Id") }, "missing webhook-id"},
		"old":          {"m1", good, func(r *http.Request) { r.Header.Set("Webhook-Timestamp", "1600000000") }, "tolerance"},
		"no signature": {"m1", good, func(r *http.Request) { r.Header.Del("Webhook-Signature") }, "missing webhook-signature"},
		"tampered":     {"m1", good, func(r *http.Request) { r.Header.Set("Webhook-Id", "m2") }, "does not match"},
		"id mismatch":  {"m9", good, nil, "differs from webhook-id"},
		"unknown":      {"m1", strings.Replace(good, `"sync"`, `"extra":1,"sync"`, 1), nil, "unknown field"},
		"no sync":      {"m1", strings.Replace(good, `"sync":"s",`, "", 1), nil, `"sync" missing`},
		"bad op":       {"m1", payloadFor("m1", `{"op":"upsert","key":"k","fields":{}}`), nil, `"op" is "upsert"`},
		"no key":       {"m1", payloadFor("m1", `{"op":"add","fields":{}}`), nil, `"key" missing`},
		"null fields":  {"m1", payloadFor("m1", `{"op":"remove","key":"k","fields":null}`), nil, `"fields" missing`},
		"empty":        {"m1", payloadFor("m1"), nil, `"records" missing or empty`},
		"too many":     {"m1", payloadFor("m1", `{"op":"add","key":"a","fields":{}}`, `{"op":"add","key":"b","fields":{}}`, `{"op":"add","key":"c","fields":{}}`), nil, "maximum batch of 2"},
		"trailing":     {"m1", good + "{}", nil, "data after"},
	} {
		resp, body := post(t, s, c.id, c.body, c.mutate)
		if resp == nil || resp.StatusCode != 400 || !strings.Contains(body, c.msg) {
			t.Errorf("%s: got %v %q, want 400 with %q", name, resp, body, c.msg)
		}
	}
	if resp, _ := post(t, s, "m1", good, nil); resp.StatusCode != 200 {
		t.Fatalf("valid request: %v", resp)
	}
	// The same id with another body breaks deduplication.
	other := payloadFor("m1", `{"op":"add","key":"k","fields":{"a":2}}`)
	if resp, body := post(t, s, "m1", other, nil); resp.StatusCode != 400 || !strings.Contains(body, "different body") {
		t.Errorf("reused id: %v %s", resp, body)
	}
	if st := s.Stats(); st.Invalid != 15 || st.Batches != 1 || st.Requests != 16 {
		t.Errorf("stats = %+v", st)
	}
}

func TestViolationFailsTest(t *testing.T) {
	ft := &fakeT{TB: t}
	s := New(ft, Options{})
	post(t, s, "m1", "{}", nil)
	if !strings.Contains(ft.errs.String(), "violates the webhook contract") {
		t.Errorf("violation not reported: %q", ft.errs.String())
	}
}

// fakeT captures Errorf.
type fakeT struct {
	testing.TB
	errs syncWriter
}

func (f *fakeT) Errorf(format string, args ...any) { fmt.Fprintf(&f.errs, format+"\n", args...) }

func TestStateAndSchedule(t *testing.T) {
	s := New(t, Options{Faults: Faults{Status500Every: 2, Status429Every: 3, RetryAfter: 1500 * time.Millisecond}})
	var codes []int
	for i := 1; i <= 6; i++ {
		id := fmt.Sprintf("m%d", i)
		resp, _ := post(t, s, id, payloadFor(id, fmt.Sprintf(`{"op":"add","key":"k%d","fields":{"n":%d}}`, i, i)), nil)
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") != "2" {
			t.Errorf("Retry-After = %q", resp.Header.Get("Retry-After"))
		}
	}
	if fmt.Sprint(codes) != "[200 500 429 500 200 429]" {
		t.Errorf("codes = %v", codes)
	}
	post(t, s, "c", payloadFor("c", `{"op":"change","key":"k1","fields":{"n":10}}`, `{"op":"remove","key":"k5","fields":{}}`, `{"op":"remove","key":"zz","fields":{}}`), nil)
	if st := s.State(); len(st) != 1 || st["k1"]["n"] != 10.0 {
		t.Errorf("state = %v", st)
	}
	if st := s.Stats(); st.Batches != 3 || st.Throttled != 2 || st.Failed != 2 || st.RemoveMissing != 1 || st.Records != 5 {
		t.Errorf("stats = %+v", st)
	}
	ops := s.Ops()
	if len(ops) != 5 || ops[2].Batch != 3 || ops[2].Op != "change" || ops[4].Key != "zz" {
		t.Errorf("ops = %+v", ops)
	}
	s.SetFaults(Faults{Status500Every: 2})
	if resp, _ := post(t, s, "d", payloadFor("d", `{"op":"add","key":"d","fields":{}}`), nil); resp.StatusCode != 200 {
		t.Errorf("schedule not restarted by SetFaults: %d", resp.StatusCode)
	}
}

func TestRecordFaultsAreDeterministic(t *testing.T) {
	run := func() string {
		s := New(t, Options{Faults: Faults{RejectRate: 0.25, RetryableRecordRate: 0.25, Seed: 42}})
		var recs []string
		for i := 0; i < 40; i++ {
			recs = append(recs, fmt.Sprintf(`{"op":"add","key":"k%d","fields":{}}`, i))
		}
		_, body := post(t, s, "m", payloadFor("m", recs...), nil)
		var r struct{ Results []result }
		if err := json.Unmarshal([]byte(body), &r); err != nil || len(r.Results) != 40 {
			t.Fatalf("body %s: %v", body, err)
		}
		b := s.BatchLog()[0]
		if b.Rejected == 0 || b.Retry == 0 || b.Add+b.Rejected+b.Retry != 40 || len(s.State()) != b.Add {
			t.Errorf("batch = %+v", b)
		}
		return body
	}
	if a, b := run(), run(); a != b {
		t.Errorf("same seed, different outcomes:\n%s\n%s", a, b)
	}
}

func TestPauseAndOnBatch(t *testing.T) {
	var seen atomic.Int64
	s := New(t, Options{OnBatch: func(n int) { seen.Store(int64(n)) }})
	s.Pause()
	done := make(chan int)
	go func() {
		resp, _ := post(t, s, "m", payloadFor("m", `{"op":"add","key":"k","fields":{}}`), nil)
		done <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond)
	if s.Batches() != 0 || seen.Load() != 0 {
		t.Fatal("a paused receiver applied a batch")
	}
	s.Resume()
	if code := <-done; code != 200 || seen.Load() != 1 || s.Batches() != 1 {
		t.Errorf("after resume: code %d, OnBatch saw %d", code, seen.Load())
	}
}

func TestPausedRequestAbandoned(t *testing.T) {
	s := New(t, Options{})
	s.Pause()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	body := payloadFor("m", `{"op":"add","key":"k","fields":{}}`)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL(), strings.NewReader(body))
	key, _ := decodeKey(s.Secret)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Webhook-Id", "m")
	req.Header.Set("Webhook-Timestamp", ts)
	req.Header.Set("Webhook-Signature", sign(key, "m", ts, []byte(body)))
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("want a timeout")
	}
	time.Sleep(100 * time.Millisecond) // the server notices the closed connection
	s.Resume()
	time.Sleep(50 * time.Millisecond)
	if s.Batches() != 0 {
		t.Error("an abandoned request was applied")
	}
}

func TestServe(t *testing.T) {
	var log syncWriter
	srv, err := Serve("127.0.0.1:0", Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	body := payloadFor("m", `{"op":"add","key":"k","fields":{"x":"y"}}`)
	req, _ := http.NewRequest(http.MethodPost, "http://"+srv.Addr+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Webhook-Id", "m")
	req.Header.Set("Webhook-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("unsigned delivery to a receiver without secret: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get("http://" + srv.Addr + "/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var state map[string]map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&state); err != nil || state["k"]["x"] != "y" {
		t.Errorf("GET /state = %v %v", state, err)
	}
	if r := srv.Handler.(*Receiver); r.Batches() != 1 {
		t.Errorf("batches = %d", r.Batches())
	}
	if !strings.Contains(log.String(), "batch 1 m sync=s run=r records=1 add=1") {
		t.Errorf("log = %q", log.String())
	}
}

// syncWriter is a Buffer safe for concurrent use.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
