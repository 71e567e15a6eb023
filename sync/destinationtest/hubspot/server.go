package hubspot

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// Token is the private-app access token the server accepts until it is
// rotated (SetToken) or revoked (Revoke).
const Token = "pat-na1-11111111-2222-3333-4444-555555555555"

// ListID is the ID of the MANUAL contact list every server creates at start.
const ListID = "1001"

// Limits the server enforces, from HubSpot's documentation.
const (
	MaxBatch    = 100   // inputs per batch create, update, upsert or read
	MaxValueLen = 65536 // characters of one property value
	maxBody     = 8 << 20
	// DailyLimit is the private-app daily request allowance it reports
	// (Free and Starter accounts).
	DailyLimit = 250000
	// BurstMax is the requests per rolling window it reports in
	// X-HubSpot-RateLimit-Max (Professional and Enterprise: 190 per 10 s).
	BurstMax = 190
)

// Rate-limit policies a 429 names in policyName.
const (
	PolicyTenSecondly = "TEN_SECONDLY_ROLLING"
	PolicySecondly    = "SECONDLY"
	PolicyDaily       = "DAILY"
)

// Server is a local HubSpot: contacts, their property definitions, contact
// lists and their memberships, behind the CRM v3 endpoints a sync uses. It
// implements destinationtest.Vendor; it is safe for concurrent use.
type Server struct {
	*destinationtest.Kit
	url   string
	close func()

	mu       sync.Mutex
	token    string
	revoked  bool
	policy   string        // policyName of throttles
	window   time.Duration // rolling window reported in X-HubSpot-RateLimit-Interval-Milliseconds
	burst    int           // requests per window reported (and enforced when limited)
	limited  bool
	recent   []time.Time // request times within the window, for the headers
	props    []Property
	contacts map[string]*contact // record ID → contact
	byEmail  map[string]string   // lowercased email → record ID
	nextID   int64
	lists    map[string]*list
	erased   []string        // record IDs GDPR-deleted, in order
	blocked  map[string]bool // emails blocklisted by a GDPR delete
	calls    []Call
	seq      int // correlation IDs
}

// Call is one request the server answered, for tests.
type Call struct {
	Method, Path string
	Status       int
	Inputs       int // inputs (or record IDs) in the body
	Bytes        int // body size
}

// New starts a server on 127.0.0.1 for the duration of a test; contract
// violations fail the test. HubSpot's rolling ten-second window is scaled to
// 200ms, so a throttled client waits that long rather than ten seconds.
func New(t testing.TB) *Server {
	t.Helper()
	s := newServer(destinationtest.NewKit(t), 200*time.Millisecond)
	s.url, s.close = destinationtest.ServeTest(t, s)
	return s
}

// Serve listens on addr and serves until Close, printing nothing: for demos
// and subprocess tests. It accepts Token and holds the MANUAL list ListID;
// violations are only recorded (Violations). Its window is HubSpot's ten
// seconds.
func Serve(addr string) (*Server, error) {
	s := newServer(destinationtest.NewKit(nil), 10*time.Second)
	url, stop, err := destinationtest.ServeAddr(addr, s)
	if err != nil {
		return nil, err
	}
	s.url, s.close = url, stop
	return s, nil
}

func newServer(k *destinationtest.Kit, window time.Duration) *Server {
	s := &Server{Kit: k, token: Token, policy: PolicyTenSecondly, window: window, burst: BurstMax,
		props: defaultProperties(), contacts: map[string]*contact{}, byEmail: map[string]string{},
		nextID: 100, lists: map[string]*list{}, blocked: map[string]bool{}}
	s.lists[ListID] = newList(ListID, "cdp contract list", "MANUAL")
	return s
}

// Close stops the server.
func (s *Server) Close() {
	if s.close != nil {
		s.close()
	}
}

var _ destinationtest.Vendor = (*Server)(nil)

// Type is "hubspot".
func (s *Server) Type() string { return "hubspot" }

// URL is the server's base URL (http://127.0.0.1:port).
func (s *Server) URL() string { return s.url }

// ListID is the ID of the MANUAL list created at start.
func (s *Server) ListID() string { return ListID }

// Token is the access token the server currently accepts.
func (s *Server) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// SetToken rotates the accepted token (the old one gets 401).
func (s *Server) SetToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token, s.revoked = tok, false
}

// Revoke makes every request answer 401 EXPIRED_AUTHENTICATION, as after a
// private app's token was rotated in HubSpot.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
}

// SetPolicy sets the policyName of the server's 429s (default
// TEN_SECONDLY_ROLLING).
func (s *Server) SetPolicy(policy string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policy = policy
}

// SetBurstLimit throttles beyond n requests per rolling window (HubSpot:
// 100 or 190 per 10 s for private apps) and reports that limit in the
// X-HubSpot-RateLimit-* headers; n 0 lifts the limit.
func (s *Server) SetBurstLimit(n int, window time.Duration) {
	s.mu.Lock()
	s.limited = n > 0
	if n > 0 {
		s.burst, s.window = n, window
	}
	s.mu.Unlock()
	s.Kit.SetRateLimit(n, window)
}

// Settings point a hubspot destination at the server: the mirror mode gets
// the list; batches of 50 so a few hundred records take several requests.
func (s *Server) Settings(mode string) map[string]string {
	m := map[string]string{"base_url": s.url, "access_token": s.Token(), "batch_size": "50",
		"timeout": "2s", "rate_limit": "100/s"}
	if mode == "mirror" {
		m["list_id"] = ListID
	}
	return m
}

// Fields maps the suite's traits to contact properties: email, firstname
// and the custom number property ltv.
func (s *Server) Fields() destinationtest.Mapping {
	return destinationtest.Mapping{Email: "email", Name: "firstname", LTV: "ltv"}
}

// Audience returns the contacts held (for mirror: the members of ListID),
// keyed by email.
func (s *Server) Audience(mode string) map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]string{}
	for id, c := range s.contacts {
		if mode == "mirror" && !s.lists[ListID].members[id] {
			continue
		}
		rec := map[string]string{}
		if v := c.props["email"]; v != "" {
			rec["email"] = v
		}
		if v := c.props["firstname"]; v != "" {
			rec["name"] = v
		}
		if v := c.props["ltv"]; v != "" {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				rec["ltv"] = destinationtest.FormatNumber(f)
			}
		}
		out[c.props["email"]] = rec
	}
	return out
}

// Contact returns a copy of the properties of the contact with an email,
// and its record ID ("" when there is none).
func (s *Server) Contact(email string) (id string, props map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id = s.byEmail[strings.ToLower(email)]
	if c := s.contacts[id]; c != nil {
		return id, maps.Clone(c.props)
	}
	return "", nil
}

// Put stores a contact directly (as if created in HubSpot's UI) and returns
// its record ID.
func (s *Server) Put(props map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.create(strings.ToLower(props["email"]))
	for k, v := range props {
		if k != "email" && v != "" {
			c.props[k] = v
		}
	}
	return c.id
}

// Members lists the record IDs in a list, sorted.
func (s *Server) Members(listID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lists[listID]
	if l == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(l.members))
}

// AddList creates a list of a processing type (MANUAL, SNAPSHOT or
// DYNAMIC) and returns its ID.
func (s *Server) AddList(name, processingType string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := strconv.Itoa(1001 + len(s.lists))
	s.lists[id] = newList(id, name, processingType)
	return id
}

// Calls returns the requests answered so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// ServeHTTP routes a request after checking its credentials.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Kit.Request()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	call := Call{Method: r.Method, Path: r.URL.Path}
	defer func() {
		call.Status = rec.status
		s.mu.Lock()
		s.calls = append(s.calls, call)
		s.mu.Unlock()
	}()
	s.rateHeaders(rec.Header())
	if !s.authorized(rec, r) {
		return
	}
	s.route(rec, r, &call)
}

// route dispatches on method and path.
func (s *Server) route(w http.ResponseWriter, r *http.Request, call *Call) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	const objects = "/crm/v3/objects/contacts"
	switch {
	case p == objects+"/batch/upsert":
		s.batchWrite(w, r, call, "upsert")
	case p == objects+"/batch/update":
		s.batchWrite(w, r, call, "update")
	case p == objects+"/gdpr-delete":
		s.gdprDelete(w, r, call)
	case p == objects+"/batch/read":
		s.batchRead(w, r, call)
	case p == objects:
		s.listContacts(w, r)
	case p == "/crm/v3/properties/contacts":
		s.properties(w, r)
	case strings.HasPrefix(p, "/crm/v3/lists/"):
		s.routeList(w, r, call, strings.TrimPrefix(p, "/crm/v3/lists/"))
	default:
		s.refuse(w, http.StatusNotFound, "", fmt.Sprintf("%s %s is not a HubSpot endpoint this server knows", r.Method, r.URL.Path))
	}
}

// method checks the request's method; a wrong one is a violation answered
// 405 as HubSpot does.
func (s *Server) method(w http.ResponseWriter, r *http.Request, want string) bool {
	if r.Method == want {
		return true
	}
	s.refuse(w, http.StatusMethodNotAllowed, "", fmt.Sprintf("%s %s: the endpoint takes %s", r.Method, r.URL.Path, want))
	return false
}

// authorized checks `Authorization: Bearer <token>`: a missing or malformed
// header is a violation; a wrong, rotated or revoked token gets HubSpot's 401
// without one (the client cannot know in advance).
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		s.Kit.Report("%s %s: Authorization is %q, want \"Bearer <private app access token>\"", r.Method, r.URL.Path, h)
		s.writeError(w, http.StatusUnauthorized, s.authError("INVALID_AUTHENTICATION",
			"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"))
		return false
	}
	s.mu.Lock()
	want, revoked := s.token, s.revoked
	s.mu.Unlock()
	switch {
	case revoked:
		s.writeError(w, http.StatusUnauthorized, s.authError("EXPIRED_AUTHENTICATION",
			"The access token used to make this call expired or was revoked. Generate a new token for the private app."))
		return false
	case tok != want:
		s.writeError(w, http.StatusUnauthorized, s.authError("INVALID_AUTHENTICATION",
			"Authentication credentials are invalid. Check the private app access token."))
		return false
	}
	return true
}

// rateHeaders sets HubSpot's X-HubSpot-RateLimit-* headers of a response.
func (s *Server) rateHeaders(h http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	kept := s.recent[:0]
	for _, t := range s.recent {
		if now.Sub(t) < s.window {
			kept = append(kept, t)
		}
	}
	s.recent = append(kept, now)
	h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(DailyLimit))
	h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(max(DailyLimit-s.Kit.Stats().Requests, 0)))
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(s.window.Milliseconds(), 10))
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(s.burst))
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(max(s.burst-len(s.recent), 0)))
}

// throttle answers HubSpot's 429 for the server's policy.
func (s *Server) throttle(w http.ResponseWriter, retryAfter string) {
	s.mu.Lock()
	policy := s.policy
	s.mu.Unlock()
	h := w.Header()
	h.Set("X-HubSpot-RateLimit-Remaining", "0")
	if policy == PolicyDaily {
		h.Set("X-HubSpot-RateLimit-Daily-Remaining", "0")
	}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	writeJSON(w, http.StatusTooManyRequests, map[string]string{
		"status": "error", "message": "You have reached your " + strings.ToLower(policy) + " limit.",
		"errorType": "RATE_LIMIT", "correlationId": s.correlation(), "policyName": policy,
		"groupName": "publicapi:private-app:contract",
	})
}

// faulted applies the kit's whole-request fault schedule; true when the
// request was answered.
func (s *Server) faulted(w http.ResponseWriter, r *http.Request) bool {
	return s.Kit.Fault(w, r, s.throttle)
}

// readJSON checks the content type and reads the body of a POST or PUT.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, call *Call) ([]byte, bool) {
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(strings.ToLower(mt)) != "application/json" {
		s.refuse(w, http.StatusUnsupportedMediaType, "", fmt.Sprintf("%s %s: Content-Type is %q, want application/json", r.Method, r.URL.Path, ct))
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, false // the client went away
	}
	call.Bytes = len(b)
	if len(b) > maxBody {
		s.refuse(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("%s %s: body larger than %d bytes", r.Method, r.URL.Path, maxBody))
		return nil, false
	}
	return b, true
}

// correlation returns a fresh correlationId.
func (s *Server) correlation() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("c0ffee00-0000-4000-8000-%012d", s.seq)
}

// recorder remembers the status written; it passes Hijack through for the
// kit's dropped connections.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.status = 0
	hj, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("hijacking is not supported")
	}
	return hj.Hijack()
}
