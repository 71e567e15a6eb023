package intercom

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// route is one endpoint of the API the server knows.
type route struct {
	name   string
	body   bool // the request carries a JSON body
	handle func(s *Server, w http.ResponseWriter, r *http.Request, args []string, body []byte)
}

// routeOf finds the endpoint of a request and its path arguments.
func routeOf(r *http.Request) (*route, []string) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "contacts" && r.Method == http.MethodPost:
		return &route{"create contact", true, (*Server).createContact}, nil
	case len(parts) == 2 && parts[0] == "contacts" && parts[1] == "search" && r.Method == http.MethodPost:
		return &route{"search contacts", true, (*Server).searchContacts}, nil
	case len(parts) == 2 && parts[0] == "contacts" && r.Method == http.MethodPut:
		return &route{"update contact", true, (*Server).updateContact}, parts[1:]
	case len(parts) == 2 && parts[0] == "contacts" && r.Method == http.MethodGet:
		return &route{"get contact", false, (*Server).getContact}, parts[1:]
	case len(parts) == 3 && parts[0] == "contacts" && parts[2] == "tags" && r.Method == http.MethodPost:
		return &route{"tag contact", true, (*Server).tagContact}, parts[1:2]
	case len(parts) == 4 && parts[0] == "contacts" && parts[2] == "tags" && r.Method == http.MethodDelete:
		return &route{"untag contact", false, (*Server).untagContact}, []string{parts[1], parts[3]}
	case len(parts) == 1 && parts[0] == "data_attributes" && r.Method == http.MethodGet:
		return &route{"list data attributes", false, (*Server).listAttributes}, nil
	}
	return nil, nil
}

// ServeHTTP answers one request the way Intercom would: unknown endpoints
// 404, missing credentials 401, then the headers, the rate limit, the
// body and the endpoint itself.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Request()
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for m := s.maxInflight.Load(); n > m && !s.maxInflight.CompareAndSwap(m, n); m = s.maxInflight.Load() {
	}
	rt, args := routeOf(r)
	if rt == nil {
		s.violate(w, http.StatusNotFound, "not_found", "Resource Not Found", "%s %s is not an endpoint of Intercom's API", r.Method, r.URL.Path)
		return
	}
	if !s.authorized(w, r) || !s.checkHeaders(w, r, rt) {
		return
	}
	if s.throttled(w) {
		return
	}
	var body []byte
	if rt.body {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return // the client went away
		}
		if len(b) > maxBody {
			s.violate(w, http.StatusRequestEntityTooLarge, "client_error", "Request body too large", "%s: body over %d bytes", rt.name, maxBody)
			return
		}
		if !json.Valid(b) {
			s.violate(w, http.StatusBadRequest, "parameter_invalid", "Invalid JSON", "%s: the body is not JSON: %.80q", rt.name, b)
			return
		}
		body = b
	}
	rt.handle(s, w, r, args, body)
}

// authorized checks `Authorization: Bearer <token>`. A missing or
// malformed header is a violation; a wrong or revoked token is answered
// 401 the way Intercom does, without rate-limit headers.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		s.violate(w, http.StatusUnauthorized, "unauthorized", "Access Token Invalid",
			"Authorization is %q, want `Bearer <access token>`", redact(h))
		return false
	}
	s.mu.Lock()
	good := tok == s.Token && !s.revoked
	s.mu.Unlock()
	if !good {
		writeError(w, http.StatusUnauthorized, "unauthorized", "Access Token Invalid")
		return false
	}
	return true
}

func redact(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// checkHeaders checks Intercom-Version (the connector pins one), Accept
// (Intercom answers 406 without application/json) and, for bodies,
// Content-Type (415).
func (s *Server) checkHeaders(w http.ResponseWriter, r *http.Request, rt *route) bool {
	switch v := r.Header.Get("Intercom-Version"); {
	case v == "":
		s.violate(w, http.StatusBadRequest, "intercom_version_invalid", "Intercom-Version header missing",
			"%s without an Intercom-Version header (the connector pins the version)", rt.name)
		return false
	case !slices.Contains(Versions, v):
		s.violate(w, http.StatusBadRequest, "intercom_version_invalid", "The requested version could not be found",
			"%s: Intercom-Version %q is not a version", rt.name, v)
		return false
	}
	if !acceptsJSON(r.Header.Get("Accept")) {
		s.violate(w, http.StatusNotAcceptable, "client_error", "Not Acceptable",
			"%s: Accept is %q, want application/json", rt.name, r.Header.Get("Accept"))
		return false
	}
	if rt.body {
		if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
			s.violate(w, http.StatusUnsupportedMediaType, "client_error", "Unsupported Media Type",
				"%s: Content-Type is %q, want application/json", rt.name, r.Header.Get("Content-Type"))
			return false
		}
	}
	return true
}

func acceptsJSON(h string) bool {
	for _, part := range strings.Split(h, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == "application/json" || mt == "application/*" || mt == "*/*") {
			return true
		}
	}
	return false
}

// throttled counts the request in the current rate window, sets
// X-RateLimit-Limit, -Remaining and -Reset (Unix seconds) on the answer,
// and answers 429 when the window's requests are used up.
func (s *Server) throttled(w http.ResponseWriter) bool {
	s.mu.Lock()
	limit := s.limit
	if limit <= 0 {
		s.mu.Unlock()
		return false
	}
	now := time.Now()
	if start := now.Truncate(s.window); !start.Equal(s.winStart) {
		s.winStart, s.winCount = start, 0
	}
	s.winCount++
	remaining := max(limit-s.winCount, 0)
	over := s.winCount > limit
	reset := unixCeil(s.winStart.Add(s.window))
	s.mu.Unlock()
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	if !over {
		return false
	}
	s.Count(func(st *destinationtest.VendorStats) { st.Throttled++ })
	writeError(w, http.StatusTooManyRequests, "rate_limit_exceeded",
		fmt.Sprintf("Exceeded rate limit of %d in %s", limit, windowName(s.window)))
	return true
}

func unixCeil(t time.Time) int64 { return int64(math.Ceil(float64(t.UnixNano()) / 1e9)) }

func windowName(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%d_seconds", int(d/time.Second))
	}
	return d.String()
}

// fault applies the kit's whole-request fault schedule in Intercom's
// shape: 429 with its rate-limit headers and error list, 500 with a
// server_error list; it reports whether the request was answered.
func (s *Server) fault(w http.ResponseWriter, r *http.Request) bool {
	return s.Fault(&faultWriter{ResponseWriter: w}, r, s.throttle)
}

// throttle writes an injected 429: the window reset is the Retry-After the
// schedule asks for, or now (the client may retry at once).
func (s *Server) throttle(w http.ResponseWriter, retryAfter string) {
	reset := time.Now()
	if n, err := strconv.ParseFloat(retryAfter, 64); err == nil {
		reset = reset.Add(time.Duration(n * float64(time.Second)))
	} else if t, err := http.ParseTime(retryAfter); err == nil {
		reset = t
	}
	s.mu.Lock()
	limit := max(s.limit, 1)
	s.mu.Unlock()
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	writeError(w, http.StatusTooManyRequests, "rate_limit_exceeded", fmt.Sprintf("Exceeded rate limit of %d in 10_seconds", limit))
}

// recordFault draws the record fault of a write and answers it: a
// rejection as 400 parameter_invalid, a transient failure as 503
// service_unavailable. It reports whether the request was answered.
func (s *Server) recordFault(w http.ResponseWriter) bool {
	reject, retry := s.RecordFault()
	switch {
	case reject:
		writeError(w, http.StatusBadRequest, "parameter_invalid", "Contact data invalid (injected rejection)")
	case retry:
		writeError(w, http.StatusServiceUnavailable, "service_unavailable", "The service is temporarily unavailable; retry later (injected)")
	default:
		return false
	}
	return true
}

// faultWriter rewrites the kit's 500 into Intercom's error list and lets
// the kit hijack the connection for drops.
type faultWriter struct {
	http.ResponseWriter
	replaced bool
}

// WriteHeader implements http.ResponseWriter.
func (f *faultWriter) WriteHeader(code int) {
	if code != http.StatusInternalServerError {
		f.ResponseWriter.WriteHeader(code)
		return
	}
	f.replaced = true
	f.Header().Del("X-Content-Type-Options")
	writeError(f.ResponseWriter, code, "server_error", "Internal server error (injected)")
}

// Write implements http.ResponseWriter.
func (f *faultWriter) Write(b []byte) (int, error) {
	if f.replaced {
		return len(b), nil
	}
	return f.ResponseWriter.Write(b)
}

// Hijack implements http.Hijacker.
func (f *faultWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := f.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("hijacking is not supported")
	}
	return hj.Hijack()
}

// violate records a contract violation and answers status with
// Intercom's error list.
func (s *Server) violate(w http.ResponseWriter, status int, code, message, format string, args ...any) {
	s.Violation(statusWriter{w, status}, errorBody(code, message), format, args...)
}

// statusWriter replaces the status the kit writes for a violation.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader implements http.ResponseWriter.
func (s statusWriter) WriteHeader(int) { s.ResponseWriter.WriteHeader(s.status) }

// errorBody is Intercom's error list with one error.
func errorBody(code, message string) string {
	b, _ := json.Marshal(map[string]any{"type": "error.list", "request_id": requestID(),
		"errors": []map[string]string{{"code": code, "message": message}}})
	return string(b)
}

// writeError answers status with Intercom's error list.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, errorBody(code, message))
}

// writeJSON answers 200 with v.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}
