package httpdest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

func resp(status int, body string, hdr ...string) *httpdest.Response {
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return &httpdest.Response{Status: status, Header: h, Body: []byte(body), Method: "POST", URL: "https://x/y"}
}

func TestClassify(t *testing.T) {
	type want struct{ retryable, throttled, fatal bool }
	for _, c := range []struct {
		name string
		r    *httpdest.Response
		want *want // nil: no error
		wait time.Duration
	}{
		{"ok", resp(200, "{}"), nil, 0},
		{"429 retry-after", resp(429, "", "Retry-After", "7"), &want{true, true, false}, 7 * time.Second},
		{"429 ratelimit-reset", resp(429, "", "RateLimit-Reset", "3"), &want{true, true, false}, 3 * time.Second},
		{"hubspot ten-secondly", resp(429, `{"policyName":"TEN_SECONDLY_ROLLING"}`, "X-HubSpot-RateLimit-Remaining", "0"), &want{true, true, false}, 0},
		{"hubspot daily", resp(429, `{"status":"error","policyName":"DAILY"}`), &want{false, true, true}, 0},
		{"salesforce limit", resp(403, `[{"errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, "Sforce-Limit-Info", "api-usage=10/100"), &want{true, true, false}, 0},
		{"salesforce allowance used up", resp(403, `[{"errorCode":"REQUEST_LIMIT_EXCEEDED"}]`, "Sforce-Limit-Info", "api-usage=100/100"), &want{false, true, true}, 0},
		{"revoked token", resp(401, `{"message":"expired"}`), &want{false, false, true}, 0},
		{"missing scope", resp(403, `{"message":"scope"}`), &want{false, false, true}, 0},
		{"5xx", resp(503, "down"), &want{true, false, false}, 0},
		{"5xx ignores quota headers", resp(500, "", "X-RateLimit-Reset", "50", "RateLimit-Reset", "50"), &want{true, false, false}, 0},
		{"5xx with retry-after", resp(503, "", "Retry-After", "2"), &want{true, false, false}, 2 * time.Second},
		{"408", resp(408, ""), &want{true, false, false}, 0},
		{"400", resp(400, `{"message":"bad"}`), &want{false, false, false}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := httpdest.Classify(c.r)
			if c.want == nil {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			be, ok := err.(*destination.BatchError)
			if !ok {
				t.Fatalf("want a BatchError, got %T %v", err, err)
			}
			if be.Retryable != c.want.retryable || be.Throttled != c.want.throttled || be.Fatal != c.want.fatal || be.RetryAfter != c.wait {
				t.Errorf("got retryable=%v throttled=%v fatal=%v wait=%v: %v", be.Retryable, be.Throttled, be.Fatal, be.RetryAfter, be)
			}
			if be.Status != c.r.Status {
				t.Errorf("status %d", be.Status)
			}
		})
	}
}

func TestRetryAfterForms(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		hdr  []string
		want time.Duration
	}{
		{[]string{"Retry-After", "Tue, 01 Dec 2026 10:00:30 GMT"}, 30 * time.Second},
		{[]string{"X-RateLimit-Reset", "1796119215"}, time.Unix(1796119215, 0).Sub(now)}, // a Unix time
		{[]string{"X-RateLimit-Reset", "1796119215000"}, time.Unix(1796119215, 0).Sub(now)},
		{[]string{"X-RateLimit-Remaining", "0", "X-RateLimit-Interval-Milliseconds", "10000"}, 10 * time.Second},
		{[]string{"Retry-After", "soon"}, 0},
	} {
		h := http.Header{}
		for i := 0; i < len(c.hdr); i += 2 {
			h.Set(c.hdr[i], c.hdr[i+1])
		}
		if got := httpdest.RetryAfter(h, now); got != c.want {
			t.Errorf("%v: %v, want %v", c.hdr, got, c.want)
		}
	}
}

// TestClientRefreshesOAuthAndRedacts: a 401 drops the cached token and the
// request goes once more with a new one; debug logs never show a secret.
func TestClientRefreshesOAuthAndRedacts(t *testing.T) {
	var issued atomic.Int32
	var current atomic.Value
	current.Store("")
	mux := http.NewServeMux()
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.Form.Get("grant_type") != "refresh_token" || r.Form.Get("refresh_token") != "r-SECRET-1" || r.Form.Get("client_secret") != "c-SECRET-2" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		tok := "at-SECRET-" + string(rune('a'+issued.Add(1)))
		current.Store(tok)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
	})
	calls := 0
	mux.HandleFunc("/api/things", func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 || r.Header.Get("Authorization") != "Bearer "+current.Load().(string) {
			w.WriteHeader(http.StatusUnauthorized) // the first token was revoked
			return
		}
		_, _ = w.Write([]byte(`{"ok":true,"echo":"` + r.Header.Get("Authorization") + `"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var logs bytes.Buffer
	base, _ := url.Parse(srv.URL + "/api")
	c := &httpdest.Client{Name: "vendor", BaseURL: base, Timeout: 5 * time.Second,
		Auth:   httpdest.RefreshToken(srv.URL+"/token", "client", "c-SECRET-2", "r-SECRET-1"),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	r, err := c.Do(context.Background(), httpdest.Request{Method: http.MethodPost, Path: "things", JSON: map[string]string{"a": "b"}})
	if err != nil || r.Status != 200 || issued.Load() != 2 || calls != 2 {
		t.Fatalf("want a retry with a fresh token: %v %+v issued=%d calls=%d", err, r, issued.Load(), calls)
	}
	if strings.Contains(logs.String(), "SECRET") || !strings.Contains(logs.String(), "[redacted]") {
		t.Errorf("secrets in the debug log:\n%s", logs.String())
	}
	// a static token is not retried: the 401 is fatal at once
	c.Auth, calls = httpdest.Bearer("static-SECRET"), 0
	_, err = c.Do(context.Background(), httpdest.Request{Method: http.MethodGet, Path: "things"})
	if !destination.IsFatal(err) || calls != 1 || strings.Contains(err.Error(), "static-SECRET") {
		t.Errorf("a refused static token: %v (calls %d)", err, calls)
	}
}

func TestRetrySteps(t *testing.T) {
	n := 0
	err := httpdest.Retry(context.Background(), 4, func() error {
		n++
		if n < 3 {
			return &destination.BatchError{Err: context.DeadlineExceeded, Retryable: true}
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Errorf("transient failures are retried in place: %v after %d", err, n)
	}
	n = 0
	err = httpdest.Retry(context.Background(), 4, func() error {
		n++
		return &destination.BatchError{Err: context.Canceled, Fatal: true}
	})
	if n != 1 || !destination.IsFatal(err) {
		t.Errorf("a fatal error is not retried: %d", n)
	}
}
