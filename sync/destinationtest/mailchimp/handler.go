package mailchimp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// errorsDoc is the "type" of every Mailchimp problem document.
const errorsDoc = "https://mailchimp.com/developer/marketing/docs/errors/"

// problem is Mailchimp's error body (application/problem+json).
type problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail"`
	Instance string       `json:"instance"`
	Errors   []fieldError `json:"errors,omitempty"`
}

// fieldError is one entry of an Invalid Resource problem's errors.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem titles and details of Mailchimp's error glossary.
const (
	detailTooMany       = "You have exceeded the limit of 10 simultaneous connections."
	detailNotFound      = "The requested resource could not be found."
	detailInvalid       = "The resource submitted could not be validated. For field-specific details, see the 'errors' array."
	detailKeyMissing    = "Your request did not include an API key."
	detailKeyInvalid    = "Your API key may be invalid, or you've attempted to access the wrong datacenter."
	detailJSON          = "We encountered an unspecified JSON parsing error."
	detailMethod        = "The requested method and resource are not compatible. See the Allow header for this resource's available methods."
	titleInvalid        = "Invalid Resource"
	titleNotFound       = "Resource Not Found"
	titleTooManyRequest = "Too Many Requests"
)

func problemBody(status int, title, detail string, errs ...fieldError) []byte {
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	h := hex.EncodeToString(id)
	b, _ := json.Marshal(problem{Type: errorsDoc, Title: title, Status: status, Detail: detail,
		Instance: h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], Errors: errs})
	return b
}

// writeProblem answers a Mailchimp problem document.
func writeProblem(w http.ResponseWriter, status int, title, detail string, errs ...fieldError) {
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(problemBody(status, title, detail, errs...))
}

// statusWriter makes Kit.Violation answer with Mailchimp's status and
// content type instead of its fixed 400 and application/json.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader writes the wrapped status.
func (w statusWriter) WriteHeader(int) {
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.ResponseWriter.WriteHeader(w.status)
}

// violation records a contract violation and answers it as Mailchimp would.
func (s *Server) violation(w http.ResponseWriter, status int, title, detail string, errs []fieldError, format string, args ...any) {
	s.Kit.Violation(statusWriter{w, status}, string(problemBody(status, title, detail, errs...)), format, args...)
}

// invalid is a 400 Invalid Resource violation naming one field.
func (s *Server) invalid(w http.ResponseWriter, field, message string) {
	s.violation(w, http.StatusBadRequest, titleInvalid, detailInvalid, []fieldError{{field, message}},
		"%s: %s", field, message)
}

// throttle writes Mailchimp's answer to one connection too many.
func throttle(w http.ResponseWriter, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeProblem(w, http.StatusTooManyRequests, titleTooManyRequest, detailTooMany)
}

// ServeHTTP implements http.Handler: the connection limit, then the API key,
// then the route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Kit.Request()
	if !s.enter() {
		s.Kit.Count(func(st *destinationtest.VendorStats) { st.Throttled++ })
		throttle(w, "")
		return
	}
	defer s.leave()
	if s.opts.Latency > 0 {
		select {
		case <-time.After(s.opts.Latency):
		case <-r.Context().Done():
			return
		}
	}
	if !s.authorize(w, r) {
		return
	}
	s.route(w, r)
}

// authorize checks HTTP basic auth (any user name, the key as password) or
// a bearer token.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if h == "" {
		s.violation(w, http.StatusUnauthorized, "API Key Missing", detailKeyMissing, nil, "%s %s without an Authorization header", r.Method, r.URL.Path)
		return false
	}
	var key string
	switch scheme, rest, _ := strings.Cut(h, " "); strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		_, pw, ok := strings.Cut(string(raw), ":")
		if err != nil || !ok {
			s.violation(w, http.StatusUnauthorized, "API Key Missing", detailKeyMissing, nil, "malformed basic credentials")
			return false
		}
		key = pw
	case "bearer":
		key = strings.TrimSpace(rest)
	default:
		s.violation(w, http.StatusUnauthorized, "API Key Missing", detailKeyMissing, nil,
			"Authorization scheme %q: want Basic (any user, the API key as password) or Bearer", scheme)
		return false
	}
	s.mu.Lock()
	ok := key == s.key && !s.revoked
	s.mu.Unlock()
	if !ok {
		writeProblem(w, http.StatusUnauthorized, "API Key Invalid", detailKeyInvalid)
	}
	return ok
}

// route dispatches /3.0/lists/{list_id}[/merge-fields | /members/{hash}
// [/actions/delete-permanent]].
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 3 || parts[0] != "3.0" || parts[1] != "lists" || parts[2] == "" {
		s.violation(w, http.StatusNotFound, titleNotFound, detailNotFound, nil, "unknown path %s %s", r.Method, r.URL.Path)
		return
	}
	s.mu.Lock()
	l := s.lists[parts[2]]
	s.mu.Unlock()
	if l == nil {
		s.violation(w, http.StatusNotFound, titleNotFound, detailNotFound, nil, "unknown list %q in %s", parts[2], r.URL.Path)
		return
	}
	switch rest := parts[3:]; {
	case len(rest) == 0:
		if s.method(w, r, http.MethodPost) {
			s.batch(w, r, l)
		}
	case len(rest) == 1 && rest[0] == "merge-fields":
		if s.method(w, r, http.MethodGet) {
			s.mergeFields(w, r, l)
		}
	case len(rest) == 2 && rest[0] == "members" && rest[1] != "":
		if s.method(w, r, http.MethodGet, http.MethodDelete) {
			s.member(w, r, l, rest[1])
		}
	case len(rest) == 4 && rest[0] == "members" && rest[1] != "" && rest[2] == "actions" && rest[3] == "delete-permanent":
		if s.method(w, r, http.MethodPost) {
			s.deletePermanent(w, r, l, rest[1])
		}
	default:
		s.violation(w, http.StatusNotFound, titleNotFound, detailNotFound, nil, "unknown path %s %s", r.Method, r.URL.Path)
	}
}

// method refuses a method the resource does not serve with 405.
func (s *Server) method(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	for _, m := range allowed {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	s.violation(w, http.StatusMethodNotAllowed, "Method Not Allowed", detailMethod, nil,
		"%s %s: the resource serves %s", r.Method, r.URL.Path, strings.Join(allowed, ", "))
	return false
}

// writeJSON answers 200 with a JSON body.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf("encoding: %v", err), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(b)
}
