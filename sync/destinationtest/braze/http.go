package braze

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// ServeHTTP routes a request to its endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Request()
	switch r.URL.Path {
	case TrackPath:
		s.serveTrack(w, r)
	case SubscriptionPath:
		s.serveSubscription(w, r)
	case DeletePath:
		s.serveDelete(w, r)
	default:
		s.refuse(w, http.StatusNotFound, "Not Found", "%s %s: no such endpoint", r.Method, r.URL.Path)
	}
}

// read checks what every endpoint requires — POST, the REST API key as a
// bearer token, a JSON body within the size limit — and returns the body;
// ok false when it has answered. A wrong key is answered 401 without a
// violation (it is how a revoked key looks); a missing one is a violation.
func (s *Server) read(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	if r.Method != http.MethodPost {
		s.refuse(w, http.StatusMethodNotAllowed, "Method Not Allowed", "%s %s, want POST", r.Method, r.URL.Path)
		return nil, false
	}
	key, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !bearer || key == "" {
		s.refuse(w, http.StatusUnauthorized, "Unknown or missing REST API Key",
			"%s: no `Authorization: Bearer <REST API key>` header", r.URL.Path)
		return nil, false
	}
	if key != s.APIKey() {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Invalid API key"})
		return nil, false
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		s.refuse(w, http.StatusBadRequest, "Bad syntax", "%s: content-type %q, want application/json", r.URL.Path, r.Header.Get("Content-Type"))
		return nil, false
	}
	s.mu.Lock()
	limit := s.maxPayload
	s.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, false // the client went away
	}
	if len(body) > limit {
		_, _ = io.Copy(io.Discard, r.Body) // so the client reads the answer rather than a reset
		s.refuse(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large",
			"%s: body over the %d-byte limit", r.URL.Path, limit)
		return nil, false
	}
	if !json.Valid(body) {
		s.refuse(w, http.StatusBadRequest, "Bad syntax", "%s: body is not JSON", r.URL.Path)
		return nil, false
	}
	return body, true
}

// admit applies the endpoint's rate limit, then the fault schedule; it
// reports whether the request was answered. Every answer carries Braze's
// X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (UTC
// epoch seconds) headers; a throttled request gets 429 with Remaining 0.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, path string) bool {
	now := time.Now()
	s.mu.Lock()
	lim := s.limits[path]
	allowed, remaining, reset := lim.take(now)
	s.mu.Unlock()
	if lim.limit > 0 {
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(lim.limit))
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		w.Header().Set("X-RateLimit-Reset", epoch(reset))
	}
	if !allowed {
		s.Count(func(st *destinationtest.VendorStats) { st.Throttled++ })
		throttle(w, reset)
		return true
	}
	return s.Fault(w, r, func(w http.ResponseWriter, retryAfter string) {
		throttle(w, resetAfter(retryAfter, time.Now()))
	})
}

// throttle answers 429 the way Braze does: the reset time in headers.
func throttle(w http.ResponseWriter, reset time.Time) {
	w.Header().Set("X-RateLimit-Remaining", "0")
	w.Header().Set("X-RateLimit-Reset", epoch(reset))
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "Rate Limited", "errors": []string{"Over rate limit"}})
}

// resetAfter turns a fault's wait (whole seconds, or an HTTP date) into a
// reset time; none means the next whole second.
func resetAfter(retryAfter string, now time.Time) time.Time {
	if n, err := strconv.Atoi(retryAfter); err == nil {
		return now.Add(time.Duration(n) * time.Second)
	}
	if t, err := http.ParseTime(retryAfter); err == nil {
		return t
	}
	return now
}

// epoch renders a time as Braze's reset header: UTC epoch seconds,
// rounded up.
func epoch(t time.Time) string {
	return strconv.FormatInt(int64(math.Ceil(float64(t.UnixNano())/1e9)), 10)
}

// window is a fixed-window rate limit: limit requests per every.
type window struct {
	limit int
	every time.Duration
	start time.Time
	n     int
}

// take counts a request at now: whether it is allowed, the requests left
// in the window and when the window resets.
func (w *window) take(now time.Time) (allowed bool, remaining int, reset time.Time) {
	if w.limit <= 0 {
		return true, 0, now
	}
	if w.start.IsZero() || now.Sub(w.start) >= w.every {
		w.start, w.n = now, 0
	}
	reset = w.start.Add(w.every)
	if w.n >= w.limit {
		return false, 0, reset
	}
	w.n++
	return true, w.limit - w.n, reset
}

// refuse records a contract violation and answers it the way Braze would:
// status with {"message", "errors"}.
func (s *Server) refuse(w http.ResponseWriter, status int, message, format string, args ...any) {
	detail := s.note(format, args...)
	writeJSON(w, status, map[string]any{"message": message, "errors": []string{detail}})
}

// note records a contract violation without answering it (for objects
// Braze answers in errors[] of a successful response) and returns its text.
func (s *Server) note(format string, args ...any) string {
	msg := fmt.Sprintf(format, args...)
	s.Report("%s", msg)
	return msg
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
