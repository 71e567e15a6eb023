package httpdest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// Classify is the default classification of a response:
//
//   - 2xx: nil;
//   - 429, and the vendors' other rate-limit signals (Salesforce's 403
//     REQUEST_LIMIT_EXCEEDED): retryable and throttled, after the wait the
//     vendor asked for (RetryAfter);
//   - HubSpot's daily limit (429 with policyName DAILY), and an exhausted
//     Salesforce daily allowance (Sforce-Limit-Info api-usage=N/N): fatal,
//     since nothing will pass before the next day;
//   - 401 and 403: fatal — the credentials were refused or lack a scope, and
//     every other request would fail the same way;
//   - 408, 5xx: retryable;
//   - other 4xx: the vendor rejected the batch (not retried).
func Classify(r *Response) error {
	if r.Status >= 200 && r.Status < 300 {
		return nil
	}
	msg := fmt.Sprintf("%s %s: %d %s: %s", r.Method, r.URL, r.Status, http.StatusText(r.Status), Snippet(r.Body))
	wait := RetryAfter(r.Header, time.Now())
	if r.Status != http.StatusTooManyRequests && r.Header.Get("Retry-After") == "" {
		// rate-limit headers on a 5xx describe the quota, not a wait
		wait = 0
	}
	switch {
	case r.Status == http.StatusTooManyRequests:
		if policy := hubspotPolicy(r.Body); policy == "DAILY" {
			return &destination.BatchError{Err: fmt.Errorf("%s (the account's daily API limit is used up; the run stops)", msg),
				Status: r.Status, Throttled: true, Fatal: true}
		}
		return &destination.BatchError{Err: fmt.Errorf("%s", msg), Retryable: true, Throttled: true, Status: r.Status, RetryAfter: wait}
	case r.Status == http.StatusForbidden && salesforceLimit(r.Body):
		if used, limit, ok := SforceUsage(r.Header); ok && limit > 0 && used >= limit {
			return &destination.BatchError{Err: fmt.Errorf("%s (the org's daily API requests are used up: %d of %d; the run stops)", msg, used, limit),
				Status: r.Status, Throttled: true, Fatal: true}
		}
		return &destination.BatchError{Err: fmt.Errorf("%s", msg), Retryable: true, Throttled: true, Status: r.Status, RetryAfter: wait}
	case r.Status == http.StatusUnauthorized:
		return &destination.BatchError{Err: fmt.Errorf("%s (the credentials were refused: check or renew the token; the run stops)", msg),
			Status: r.Status, Fatal: true}
	case r.Status == http.StatusForbidden:
		return &destination.BatchError{Err: fmt.Errorf("%s (the credentials lack a permission or scope; the run stops)", msg),
			Status: r.Status, Fatal: true}
	case r.Status == http.StatusRequestTimeout || r.Status >= 500:
		return &destination.BatchError{Err: fmt.Errorf("%s", msg), Retryable: true, Status: r.Status, RetryAfter: wait}
	}
	return &destination.BatchError{Err: fmt.Errorf("%s", msg), Status: r.Status}
}

// Snippet returns the start of a response body for messages.
func Snippet(b []byte) string {
	s := strings.TrimSpace(string(bytes.ToValidUTF8(b, []byte("?"))))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// RetryAfter returns how long the vendor asked to wait, from the first of:
// Retry-After (seconds or an HTTP date), RateLimit-Reset (seconds, IETF
// draft), X-RateLimit-Reset or X-RateLimit-Retry-After (seconds, or a Unix
// time when larger than a day's seconds), X-RateLimit-Interval-Milliseconds
// when X-RateLimit-Remaining is 0 (HubSpot). Zero when none.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
			return time.Duration(n * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	for _, k := range []string{"RateLimit-Reset", "X-RateLimit-Reset", "X-RateLimit-Retry-After"} {
		if v := h.Get(k); v != "" {
			if d, ok := resetValue(v, now); ok {
				return d
			}
		}
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if ms, err := strconv.Atoi(h.Get("X-RateLimit-Interval-Milliseconds")); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	return 0
}

// resetValue reads a reset header: delta seconds, or a Unix timestamp.
func resetValue(v string, now time.Time) (time.Duration, bool) {
	n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || n < 0 {
		return 0, false
	}
	if n > 86400*365 { // a Unix time (seconds, or milliseconds)
		if n > 1e12 {
			n /= 1000
		}
		return max(time.Unix(int64(n), 0).Sub(now), 0), true
	}
	return time.Duration(n * float64(time.Second)), true
}

// hubspotPolicy returns policyName of a HubSpot 429 body ("" when none).
func hubspotPolicy(b []byte) string {
	var v struct {
		PolicyName string `json:"policyName"`
	}
	_ = json.Unmarshal(b, &v)
	return v.PolicyName
}

// salesforceLimit reports whether a body is Salesforce's
// [{"errorCode":"REQUEST_LIMIT_EXCEEDED", …}].
func salesforceLimit(b []byte) bool { return bytes.Contains(b, []byte("REQUEST_LIMIT_EXCEEDED")) }

var sforceRe = regexp.MustCompile(`api-usage=(\d+)/(\d+)`)

// SforceUsage parses Salesforce's Sforce-Limit-Info: api-usage=used/limit.
func SforceUsage(h http.Header) (used, limit int, ok bool) {
	m := sforceRe.FindStringSubmatch(h.Get("Sforce-Limit-Info"))
	if m == nil {
		return 0, 0, false
	}
	used, _ = strconv.Atoi(m[1])
	limit, _ = strconv.Atoi(m[2])
	return used, limit, true
}

// RecordError is a per-record failure: Retryable for the vendor's transient
// per-record errors, otherwise a rejection.
func RecordError(retryable bool, format string, args ...any) destination.Result {
	return destination.Result{Err: fmt.Errorf(format, args...), Retryable: retryable}
}

// All returns n copies of one result (e.g. every record of a batch confirmed).
func All(n int, r destination.Result) []destination.Result {
	out := make([]destination.Result, n)
	for i := range out {
		out[i] = r
	}
	return out
}
