package klaviyo

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// Type is the destination type the server stands for.
const Type = "klaviyo"

// DefaultPollsToComplete is how many polls a job takes: queued when
// created, processing at the first poll, complete at the second.
const DefaultPollsToComplete = 2

// Server is a local Klaviyo: the endpoints the klaviyo destination calls,
// enforced as documented, over an in-memory account with profiles, one list
// and bulk import jobs. It implements destinationtest.Vendor.
type Server struct {
	*destinationtest.Kit
	url     string
	close   func()
	limiter *limiter

	mu       sync.Mutex
	key      string
	revoked  bool
	polls    int // polls a job takes to complete
	listID   string
	profiles map[string]*profile // by ID
	byEmail  map[string]string   // lowercased email → ID
	lists    map[string]map[string]bool
	jobs     map[string]*importJob
	jobOrder []string
	erased   map[string]bool // lowercased emails whose profiles a deletion job deleted
}

var _ destinationtest.Vendor = (*Server)(nil)

// New serves a Klaviyo contract server on 127.0.0.1 until the test ends;
// contract violations fail t.
func New(t testing.TB) *Server {
	t.Helper()
	s := newServer(destinationtest.NewKit(t))
	s.url, s.close = destinationtest.ServeTest(t, s)
	return s
}

// Serve listens on addr (e.g. 127.0.0.1:0) and serves a Klaviyo contract
// server until Close, for demos and subprocess tests; violations are only
// recorded (Violations).
func Serve(addr string) (*Server, error) {
	s := newServer(destinationtest.NewKit(nil))
	url, stop, err := destinationtest.ServeAddr(addr, s)
	if err != nil {
		return nil, err
	}
	s.url, s.close = url, stop
	return s, nil
}

func newServer(k *destinationtest.Kit) *Server {
	s := &Server{Kit: k, limiter: newLimiter(), key: "pk_" + strings.ToLower(newULID()), polls: DefaultPollsToComplete,
		listID: newListID(), profiles: map[string]*profile{}, byEmail: map[string]string{},
		lists: map[string]map[string]bool{}, jobs: map[string]*importJob{}, erased: map[string]bool{}}
	s.lists[s.listID] = map[string]bool{}
	return s
}

// Close stops the server.
func (s *Server) Close() { s.close() }

// URL is the server's base URL (the destination's base_url).
func (s *Server) URL() string { return s.url }

// Type is "klaviyo".
func (s *Server) Type() string { return Type }

// Key is the private API key the server accepts.
func (s *Server) Key() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}

// Revoke makes the server refuse its key (401), as after the key was
// deleted in Klaviyo.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
}

// ProfileID is the ID of the profile with an email ("" when none).
func (s *Server) ProfileID(email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byEmail[strings.ToLower(email)]
}

// ListID is the ID of the account's list.
func (s *Server) ListID() string { return s.listID }

// SetPollsToComplete sets how many polls a new job takes to complete (at
// least 1).
func (s *Server) SetPollsToComplete(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls = max(n, 1)
}

// SetLimit replaces one endpoint's rate limit (Endpoint…); a zero Limit
// disables it.
func (s *Server) SetLimit(endpoint string, l Limit) { s.limiter.set(endpoint, l) }

// Settings point a klaviyo destination at the server: its key, the list for
// mirror mode, 50 profiles a job, quick polls and a high rate limit so tests
// stay fast.
func (s *Server) Settings(mode string) map[string]string {
	out := map[string]string{
		"base_url": s.url, "api_key": s.Key(), "batch_size": "50", "timeout": "2s",
		"poll_interval": "20ms", "job_timeout": "60s", "rate_limit": "100/s",
	}
	if mode == "mirror" {
		out["list_id"] = s.listID
	}
	return out
}

// Fields maps the suite's traits: email, first_name and the custom
// property ltv.
func (s *Server) Fields() destinationtest.Mapping {
	return destinationtest.Mapping{Email: "email", Name: "first_name", LTV: "properties.ltv"}
}

// Audience is what the account holds: in mirror mode the list's members,
// otherwise every profile; each as email, name (first_name) and ltv (the
// custom property), absent or cleared fields omitted.
func (s *Server) Audience(mode string) map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]string{}
	for id, p := range s.profiles {
		if mode == "mirror" && !s.lists[s.listID][id] {
			continue
		}
		email, _ := p.attrs["email"].(string)
		if email == "" {
			continue
		}
		rec := map[string]string{"email": email}
		if v, ok := p.attrs["first_name"]; ok {
			rec["name"] = textOf(v)
		}
		if v, ok := p.props["ltv"]; ok && v != nil {
			rec["ltv"] = textOf(v)
		}
		out[email] = rec
	}
	return out
}

// ServeHTTP answers one request: route, credentials, headers, body, rate
// limit, the kit's faults, then the endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Request()
	ep, params, e := route(r.Method, r.URL.Path)
	if e == nil {
		e = s.authorize(r)
	}
	var body []byte
	if e == nil {
		body, e = readBody(r, ep.maxBody)
	}
	if e == nil {
		e = checkHeaders(r, len(body) > 0)
	}
	var act action
	if e == nil {
		act, e = ep.handle(s, r, params, body)
	}
	if e != nil {
		s.writeError(w, e)
		return
	}
	wait, limit, remaining, reset := s.limiter.take(ep.name, time.Now())
	if wait > 0 {
		s.Count(func(st *destinationtest.VendorStats) { st.Throttled++ })
		throttle(w, seconds(wait))
		return
	}
	sw := &shapeWriter{ResponseWriter: w, keepBody: s.Faults().Body != ""}
	if s.Fault(sw, r, throttle) {
		return
	}
	setRateHeaders(w.Header(), limit, remaining, reset)
	act(w)
}

// authorize checks `Authorization: Klaviyo-API-Key <key>`. A missing header
// or another scheme breaks the contract; a wrong or revoked key is the
// account's answer.
func (s *Server) authorize(r *http.Request) *apiError {
	h := r.Header.Get("Authorization")
	key, ok := strings.CutPrefix(h, "Klaviyo-API-Key ")
	if !ok {
		return violationf(http.StatusUnauthorized, "Authentication credentials were not provided: want `Authorization: Klaviyo-API-Key <private key>`.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if key != s.key || s.revoked {
		e := errorf(http.StatusUnauthorized, "Incorrect authentication credentials.")
		e.title = "Incorrect authentication credentials."
		return e
	}
	return nil
}

// readBody reads a request body up to limit bytes; more is a 413.
func readBody(r *http.Request, limit int) ([]byte, *apiError) {
	if limit <= 0 {
		limit = 1 << 20
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "reading the body: %v", err)
	}
	if len(b) > limit {
		// Read the rest so the client gets the answer, not a reset.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 64<<20))
		return nil, violationf(http.StatusRequestEntityTooLarge, "The request body exceeds the maximum allowed payload size of %s.", sizeName(limit))
	}
	return b, nil
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return itoa(n>>20) + "MB"
	}
	return itoa(n>>10) + "KB"
}
