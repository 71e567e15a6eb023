package klaviyo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
)

// mediaType is JSON:API's media type, the content-type of every answer.
const mediaType = "application/vnd.api+json"

// apiError is one JSON:API error as Klaviyo answers it; violation marks a
// request that breaks the documented contract (recorded, failing the test).
type apiError struct {
	status    int
	code      string
	title     string
	detail    string
	pointer   string
	parameter string
	violation bool
}

// Titles and codes of Klaviyo's (Django REST framework) errors.
var errorTitles = map[int][2]string{
	http.StatusBadRequest:            {"invalid", "Invalid input."},
	http.StatusUnauthorized:          {"not_authenticated", "Authentication credentials were not provided."},
	http.StatusForbidden:             {"permission_denied", "You do not have permission to perform this action."},
	http.StatusNotFound:              {"not_found", "Not found."},
	http.StatusMethodNotAllowed:      {"method_not_allowed", "Method not allowed."},
	http.StatusNotAcceptable:         {"not_acceptable", "Could not satisfy the request Accept header."},
	http.StatusConflict:              {"conflict", "Conflict."},
	http.StatusRequestEntityTooLarge: {"request_too_large", "Request entity too large."},
	http.StatusUnsupportedMediaType:  {"unsupported_media_type", "Unsupported media type in request."},
	http.StatusTooManyRequests:       {"throttled", "Request was throttled."},
	http.StatusInternalServerError:   {"error", "A server error occurred."},
	http.StatusServiceUnavailable:    {"service_unavailable", "Service temporarily unavailable, try again later."},
}

// errorf builds an error of a status with Klaviyo's code and title.
func errorf(status int, format string, args ...any) *apiError {
	t, ok := errorTitles[status]
	if !ok {
		t = [2]string{"error", http.StatusText(status) + "."}
	}
	return &apiError{status: status, code: t[0], title: t[1], detail: fmt.Sprintf(format, args...)}
}

// violationf is errorf for a request the contract refuses.
func violationf(status int, format string, args ...any) *apiError {
	e := errorf(status, format, args...)
	e.violation = true
	return e
}

// at sets the JSON pointer of the member at fault.
func (e *apiError) at(pointer string) *apiError { e.pointer = pointer; return e }

// param sets the query parameter at fault.
func (e *apiError) param(name string) *apiError { e.parameter = name; return e }

// body renders {"errors": [{id, status, code, title, detail, source, links, meta}]}.
func (e *apiError) body() []byte {
	src := map[string]string{}
	switch {
	case e.pointer != "":
		src["pointer"] = e.pointer
	case e.parameter != "":
		src["parameter"] = e.parameter
	default:
		src["pointer"] = "/data/"
	}
	b, _ := json.Marshal(map[string]any{"errors": []map[string]any{{
		"id": newUUID(), "status": e.status, "code": e.code, "title": e.title, "detail": e.detail,
		"source": src, "links": map[string]any{}, "meta": map[string]any{},
	}}})
	return b
}

// write answers the error; a violation is also recorded by the kit.
func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	if e.violation {
		// The kit records (and reports) it; the answer is Klaviyo's.
		s.Violation(httptest.NewRecorder(), "", "%d %s: %s (%s)", e.status, e.code, e.detail, e.pointer+e.parameter)
	}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(e.status)
	_, _ = w.Write(e.body())
}

// throttle answers Klaviyo's rate-limit signal: 429, Retry-After in whole
// seconds (when known), and a throttled error; no RateLimit-* headers.
func throttle(w http.ResponseWriter, retryAfter string) {
	detail := "Request was throttled."
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
		detail = "Request was throttled. Expected available in " + retryAfter + " second"
		if retryAfter != "1" {
			detail += "s"
		}
		detail += "."
	}
	e := errorf(http.StatusTooManyRequests, "%s", detail)
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(e.status)
	_, _ = w.Write(e.body())
}

// shapeWriter turns the kit's injected 5xx (and status faults without a
// body of their own) into Klaviyo's JSON:API error body.
type shapeWriter struct {
	http.ResponseWriter
	keepBody bool // a status fault with the test's own body
	swallow  bool
}

// WriteHeader writes the status and, for an error, Klaviyo's body.
func (s *shapeWriter) WriteHeader(code int) {
	if code < 400 || (s.keepBody && code != http.StatusInternalServerError) {
		s.ResponseWriter.WriteHeader(code)
		return
	}
	h := s.Header()
	h.Del("X-Content-Type-Options")
	h.Set("Content-Type", mediaType)
	s.ResponseWriter.WriteHeader(code)
	_, _ = s.ResponseWriter.Write(errorf(code, "%s (injected)", http.StatusText(code)).body())
	s.swallow = true
}

// Write drops the kit's own body after Klaviyo's was written.
func (s *shapeWriter) Write(b []byte) (int, error) {
	if s.swallow {
		return len(b), nil
	}
	return s.ResponseWriter.Write(b)
}

// Hijack lets the kit drop the connection.
func (s *shapeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if hj, ok := s.ResponseWriter.(http.Hijacker); ok {
		return hj.Hijack()
	}
	return nil, nil, http.ErrNotSupported
}

// newUUID returns a random version-4 UUID, the shape of Klaviyo's error IDs.
func newUUID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newULID returns a 26-character ID like Klaviyo's profile and job IDs.
func newULID() string {
	b := []byte("01")
	for len(b) < 26 {
		b = append(b, crockford[rand.IntN(len(crockford))])
	}
	return string(b)
}

// newListID returns a 6-character ID like Klaviyo's list IDs.
func newListID() string {
	const alnum = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 6)
	for i := range b {
		b[i] = alnum[rand.IntN(len(alnum))]
	}
	return string(b)
}

// seconds renders a positive whole number of seconds.
func seconds(n int) string { return strconv.Itoa(max(n, 1)) }
