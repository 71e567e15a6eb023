package salesforce

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// Credentials the server accepts.
const (
	ClientID = "3MVG9cdp.contract.server.client"
	Username = "integration@cdp.example.com"
	// APIVersion is the version Settings name; the server serves
	// MinVersion to MaxVersion.
	APIVersion = "v61.0"
	MinVersion = 46
	MaxVersion = 62
	// MaxCollection is the most records (or Ids) an sObject Collections
	// request may carry.
	MaxCollection = 200
	// MaxUpload is the most CSV bytes one Bulk API 2.0 upload may carry
	// (150 MB once base64-encoded).
	MaxUpload = 100 << 20
	// MaxURI is the most bytes of a request URI plus headers.
	MaxURI = 16384
	// DefaultDailyLimit is the org's daily API request allocation.
	DefaultDailyLimit = 100000
)

// Server is a local Salesforce org: OAuth token endpoint, sObject
// Collections, sObject rows by External ID, sObject Describe and Bulk API
// 2.0 ingest jobs over an in-memory store of Contacts. It implements
// destinationtest.Vendor and is safe for concurrent use.
type Server struct {
	*destinationtest.Kit
	url   string
	close func()

	mu           sync.Mutex
	store        *store
	jobs         map[string]*job
	jobSeq       int
	sessions     map[string]bool
	clientSecret string
	refreshToken string
	revoked      bool
	// firstName: the suite's name goes to FirstName and its email also
	// fills the required LastName (WithFirstName).
	firstName   bool
	keys        *keyPair
	tokens      int // access tokens issued
	apiUsed     int
	dailyLimit  int
	pollsToDone int
	calls       []Call
}

// Call is one API request the server answered (for tests).
type Call struct {
	Method, Route string
	Records       int // records or Ids carried, for writes
	Status        int
}

var _ destinationtest.Vendor = (*Server)(nil)

// New serves an org on 127.0.0.1 for the duration of a test; contract
// violations fail it through t.Errorf.
func New(t testing.TB) *Server {
	t.Helper()
	s := newServer(destinationtest.NewKit(t))
	ts := httptest.NewServer(s)
	s.url, s.close = ts.URL, ts.Close
	t.Cleanup(ts.Close)
	return s
}

// Serve listens on addr (e.g. "127.0.0.1:0") and serves an org until
// Close, for demos and subprocess tests; violations are only recorded.
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
	return &Server{Kit: k, store: newStore(), jobs: map[string]*job{}, sessions: map[string]bool{},
		clientSecret: randomHex(16), refreshToken: "5Aep861" + randomHex(24), dailyLimit: DefaultDailyLimit, pollsToDone: 3}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Close stops the server.
func (s *Server) Close() { s.close() }

// Type is "salesforce".
func (s *Server) Type() string { return "salesforce" }

// URL is the server's base URL; it is also the login URL and the
// instance_url of the tokens it issues.
func (s *Server) URL() string { return s.url }

// Settings point a salesforce destination at the server with the
// refresh-token flow, sObject Collections and 50 records per request.
func (s *Server) Settings(mode string) map[string]string {
	return map[string]string{
		"base_url": s.url, "login_url": s.url, "client_id": ClientID,
		"client_secret": s.clientSecret, "refresh_token": s.refreshToken,
		"sobject": SObject, "external_id_field": ExternalIDField, "api_version": APIVersion,
		"batch_size": "50", "timeout": "2s", "poll_interval": "20ms", "rate_limit": "50/s",
	}
}

// BulkSettings are Settings with bulk: true and batch_size n.
func (s *Server) BulkSettings(mode string, n int) map[string]string {
	m := s.Settings(mode)
	m["bulk"], m["batch_size"], m["job_timeout"] = "true", strconv.Itoa(n), "10s"
	return m
}

// JWTSettings are Settings with the JWT bearer flow instead: the username
// and a PEM private key whose public half the server trusts.
func (s *Server) JWTSettings(mode string) map[string]string {
	m := s.Settings(mode)
	delete(m, "client_secret")
	delete(m, "refresh_token")
	m["username"], m["private_key"] = Username, s.keyPair().privatePEM
	return m
}

// Fields maps the suite's traits: the email to Email (the key also fills
// External_Email__c), the name to LastName (required to create a
// Contact), the lifetime value to LTV__c.
func (s *Server) Fields() destinationtest.Mapping {
	if s.firstName {
		return destinationtest.Mapping{Email: "Email", Name: "FirstName", LTV: "LTV__c", Extra: map[string]string{"LastName": "email"}}
	}
	return destinationtest.Mapping{Email: "Email", Name: "LastName", LTV: "LTV__c"}
}

// WithFirstName makes Fields map the name to FirstName and the email to the
// required LastName as well, so an audience whose names may be empty (the
// guarantee suite's) never misses a required field; Audience then reads the
// name from FirstName.
func (s *Server) WithFirstName() *Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.firstName = true
	return s
}

// Audience is every Contact held, keyed by its External ID:
// {"email": Email, "name": LastName, "ltv": LTV__c}, cleared fields
// omitted. Mirror mode deletes removed Contacts, so the same holds there.
func (s *Server) Audience(mode string) map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]string{}
	for _, r := range s.store.byID {
		ext, _ := r.fields[ExternalIDField].(string)
		m := map[string]string{}
		if v, ok := r.fields["Email"].(string); ok {
			m["email"] = v
		}
		nameField := "LastName"
		if s.firstName {
			nameField = "FirstName"
		}
		if v, ok := r.fields[nameField].(string); ok {
			m["name"] = v
		}
		if v, ok := r.fields["LTV__c"].(float64); ok {
			m["ltv"] = destinationtest.FormatNumber(v)
		}
		out[ext] = m
	}
	return out
}

// Contact returns the fields of the Contact whose External ID is ext (nil
// when none).
func (s *Server) Contact(ext string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.store.byExt[strings.ToLower(ext)]; r != nil {
		out := map[string]any{"Id": r.id}
		for k, v := range r.fields {
			out[k] = v
		}
		return out
	}
	return nil
}

// Calls lists the API requests answered so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// SetDailyLimit sets the org's daily API request allocation; past it
// every request is refused with REQUEST_LIMIT_EXCEEDED and api-usage=N/N.
func (s *Server) SetDailyLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dailyLimit = n
}

// SetPollsToComplete sets how many job-info requests a closed Bulk API
// job answers before it is JobComplete (default 3: InProgress twice).
func (s *Server) SetPollsToComplete(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pollsToDone = max(n, 1)
}

// ExpireSessions invalidates every access token issued, as a session
// timeout would: the next requests get 401 INVALID_SESSION_ID.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// Revoke revokes the connected app's grant: sessions end and the refresh
// token and JWT assertions are refused from now on.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
	s.revoked = true
}

// TokensIssued counts the access tokens issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens
}

// apiError is an error in the REST API's shape.
type apiError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// writeErrors answers status with [{"message", "errorCode"}].
func writeErrors(w http.ResponseWriter, status int, errs ...apiError) {
	writeJSON(w, status, errs)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// refuse records a contract violation and answers it as Salesforce does.
func (s *Server) refuse(w http.ResponseWriter, status int, code, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.Kit.Report("salesforce: %s", msg)
	writeErrors(w, status, apiError{Message: msg, ErrorCode: code})
}

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Kit.Request()
	if len(r.RequestURI) > MaxURI {
		s.refuse(w, http.StatusRequestURITooLong, "URI_TOO_LONG", "request URI of %d bytes, above %d", len(r.RequestURI), MaxURI)
		return
	}
	if r.URL.Path == "/services/oauth2/token" {
		s.token(w, r)
		return
	}
	segs, ok := dataPath(r.URL)
	if !ok {
		s.refuse(w, http.StatusNotFound, "NOT_FOUND", "%s %s: the requested resource does not exist", r.Method, r.URL.Path)
		return
	}
	if !s.authorized(w, r) {
		return
	}
	if !s.withinDailyLimit(w) {
		return
	}
	s.route(w, r, segs)
}

// dataPath splits /services/data/vNN.0/… into its unescaped segments after
// the version; ok is false for other paths and versions not served.
func dataPath(u *url.URL) ([]string, bool) {
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(u.EscapedPath(), "/"), "/"), "/")
	if len(parts) < 4 || parts[0] != "services" || parts[1] != "data" {
		return nil, false
	}
	v, err := strconv.ParseFloat(strings.TrimPrefix(parts[2], "v"), 64)
	if !strings.HasPrefix(parts[2], "v") || err != nil || v < MinVersion || v > MaxVersion || !strings.HasSuffix(parts[2], ".0") {
		return nil, false
	}
	out := make([]string, 0, len(parts)-3)
	for _, p := range parts[3:] {
		un, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		out = append(out, un)
	}
	return out, true
}

// authorized checks the bearer token: none is a violation, an unknown or
// expired one is answered 401 INVALID_SESSION_ID.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		s.refuse(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid (no Authorization: Bearer header)")
		return false
	}
	s.mu.Lock()
	valid := s.sessions[tok]
	s.mu.Unlock()
	if !valid {
		writeErrors(w, http.StatusUnauthorized, apiError{Message: "Session expired or invalid", ErrorCode: "INVALID_SESSION_ID"})
		return false
	}
	return true
}

// withinDailyLimit counts the request against the daily allocation, sets
// Sforce-Limit-Info, and refuses it once the allocation is used up.
func (s *Server) withinDailyLimit(w http.ResponseWriter) bool {
	s.mu.Lock()
	s.apiUsed++
	used, limit := s.apiUsed, s.dailyLimit
	s.mu.Unlock()
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", min(used, limit), limit))
	if used <= limit {
		return true
	}
	s.Kit.Count(func(st *destinationtest.VendorStats) { st.Throttled++ })
	writeErrors(w, http.StatusForbidden, apiError{Message: "TotalRequests Limit exceeded.", ErrorCode: "REQUEST_LIMIT_EXCEEDED"})
	return false
}

// throttle is the answer to a request over the rate limit: Salesforce's
// 403 REQUEST_LIMIT_EXCEEDED (with the daily usage still below the limit).
func (s *Server) throttle(w http.ResponseWriter, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeErrors(w, http.StatusForbidden, apiError{Message: "TotalRequests Limit exceeded.", ErrorCode: "REQUEST_LIMIT_EXCEEDED"})
}

// fault applies the Kit's whole-request faults; true means answered.
func (s *Server) fault(w http.ResponseWriter, r *http.Request) bool {
	return s.Kit.Fault(w, r, s.throttle)
}

// logCall records an answered request.
func (s *Server) logCall(method, route string, records, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: method, Route: route, Records: records, Status: status})
}

// route dispatches a /services/data request by its segments.
func (s *Server) route(w http.ResponseWriter, r *http.Request, segs []string) {
	m := r.Method
	switch {
	case len(segs) == 4 && segs[0] == "composite" && segs[1] == "sobjects" && m == http.MethodPatch:
		s.upsertCollection(w, r, segs[2], segs[3])
	case len(segs) == 2 && segs[0] == "composite" && segs[1] == "sobjects" && m == http.MethodDelete:
		s.deleteCollection(w, r)
	case len(segs) == 2 && segs[0] == "composite" && segs[1] == "sobjects" && m == http.MethodPost:
		s.createCollection(w, r)
	case len(segs) == 3 && segs[0] == "sobjects" && segs[2] == "describe" && m == http.MethodGet:
		s.describe(w, segs[1])
	case len(segs) == 4 && segs[0] == "sobjects" && m == http.MethodGet:
		s.getByField(w, r, segs[1], segs[2], segs[3])
	case len(segs) == 2 && segs[0] == "jobs" && segs[1] == "ingest" && m == http.MethodPost:
		s.createJob(w, r)
	case len(segs) == 3 && segs[0] == "jobs" && segs[1] == "ingest" && m == http.MethodGet:
		s.jobInfo(w, r, segs[2])
	case len(segs) == 3 && segs[0] == "jobs" && segs[1] == "ingest" && m == http.MethodPatch:
		s.closeJob(w, r, segs[2])
	case len(segs) == 4 && segs[0] == "jobs" && segs[1] == "ingest" && segs[3] == "batches" && m == http.MethodPut:
		s.upload(w, r, segs[2])
	case len(segs) == 4 && segs[0] == "jobs" && segs[1] == "ingest" && m == http.MethodGet:
		s.results(w, r, segs[2], segs[3])
	case knownResource(segs):
		s.refuse(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '%s' not allowed for %s", m, r.URL.Path)
	default:
		s.refuse(w, http.StatusNotFound, "NOT_FOUND", "%s %s: the requested resource does not exist", m, r.URL.Path)
	}
}

// knownResource reports whether segs name a resource the server has (with
// another method).
func knownResource(segs []string) bool {
	switch {
	case len(segs) >= 2 && segs[0] == "composite" && segs[1] == "sobjects":
		return len(segs) == 2 || len(segs) == 4
	case len(segs) >= 2 && segs[0] == "jobs" && segs[1] == "ingest":
		return len(segs) <= 4
	case len(segs) >= 3 && segs[0] == "sobjects":
		return len(segs) <= 4
	}
	return false
}

// Deleted reports whether the record with Salesforce Id id was deleted
// (it is in the Recycle Bin: deleting it again is ENTITY_IS_DELETED).
func (s *Server) Deleted(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.deleted[id]
}
