package customerio

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// Limits of the Track API the server enforces.
const (
	MaxBatchBytes  = 500_000 // bytes of one /api/v2/batch request ("500kb")
	MaxEntryBytes  = 32_000  // bytes of one entry of a batch ("32kb")
	MaxIDBytes     = 150     // a person's ID
	MaxNameBytes   = 150     // an attribute name
	MaxValueBytes  = 1000    // an attribute value
	MaxAttributes  = 300     // attributes of one identify call
	MaxSegmentIDs  = 1000    // ids of one add_customers or remove_customers request
	RatePerSecond  = 1000    // requests per second before 429
	DefaultSegment = 7       // ID of the manual segment New creates
)

// Server is a Customer.io Track API contract server. It is safe for
// concurrent use.
type Server struct {
	*destinationtest.Kit
	// SiteID and APIKey are the credentials it accepts (basic auth).
	SiteID, APIKey string
	// SegmentID is the manual segment Settings("mirror") points at.
	SegmentID int

	mu       sync.Mutex
	store    *store
	batches  []BatchRequest
	segCalls []SegmentRequest

	url   string
	close func()
}

// BatchRequest describes one applied /api/v2/batch request.
type BatchRequest struct {
	Entries int // entries in the request
	Bytes   int // body size
	Errors  int // entries answered with an error
}

// SegmentRequest describes one applied segment membership request.
type SegmentRequest struct {
	Segment int
	Action  string // add_customers or remove_customers
	IDType  string // id, email or cio_id
	IDs     int    // ids in the request
}

var _ destinationtest.Vendor = (*Server)(nil)

// New starts a server on 127.0.0.1 for the duration of t; contract
// violations fail t. It holds one manual segment, DefaultSegment.
func New(t testing.TB) *Server {
	t.Helper()
	s := newServer(destinationtest.NewKit(t))
	s.url, s.close = destinationtest.ServeTest(t, s)
	return s
}

// Serve listens on addr (e.g. 127.0.0.1:0) and serves until Close, for
// demos and subprocess tests; violations are recorded (Violations) but
// fail no test.
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
	s := &Server{Kit: k, SiteID: "cdp-site-1", APIKey: "cio-track-key-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10),
		SegmentID: DefaultSegment, store: newStore()}
	s.store.addSegment(DefaultSegment, true)
	k.SetRateLimit(RatePerSecond, time.Second)
	return s
}

// Close stops the server.
func (s *Server) Close() {
	if s.close != nil {
		s.close()
	}
}

// URL is the server's base URL (the Track API host).
func (s *Server) URL() string { return s.url }

// Type is the destination type the server stands for.
func (s *Server) Type() string { return "customerio" }

// Settings point a customerio destination at the server: base_url, the
// credentials, a batch_size of 50 and, for mirror, the manual segment.
func (s *Server) Settings(mode string) map[string]string {
	out := map[string]string{"base_url": s.url, "site_id": s.SiteID, "api_key": s.apiKey(),
		"batch_size": "50", "timeout": "2s"}
	if mode == "mirror" {
		out["segment_id"] = strconv.Itoa(s.SegmentID)
	}
	return out
}

// Fields names the attributes the suite maps its traits to: the email is
// the identifier, the name goes to first_name and the value to ltv.
func (s *Server) Fields() destinationtest.Mapping {
	return destinationtest.Mapping{Email: "email", Name: "first_name", LTV: "ltv"}
}

// Audience returns the people held, keyed by email: in mirror mode the
// members of SegmentID, otherwise everyone with an email.
func (s *Server) Audience(mode string) map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]string{}
	var members map[string]bool
	if seg := s.store.segments[s.SegmentID]; seg != nil {
		members = seg.members
	}
	for _, p := range s.store.people {
		if p.Email == "" || (mode == "mirror" && !members[p.CioID]) {
			continue
		}
		rec := map[string]string{"email": p.Email}
		for field, attr := range map[string]string{"name": "first_name", "ltv": "ltv"} {
			if v, ok := p.Attributes[attr]; ok {
				rec[field] = formatValue(v)
			}
		}
		out[p.Email] = rec
	}
	return out
}

// People returns copies of every person held.
func (s *Server) People() []Person {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Person, 0, len(s.store.people))
	for _, p := range s.store.people {
		out = append(out, p.clone())
	}
	return out
}

// Person returns a copy of the person with an email (case-insensitive).
func (s *Server) Person(email string) (Person, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.store.byEmail[strings.ToLower(email)]
	if p == nil {
		return Person{}, false
	}
	return p.clone(), true
}

// Members returns the emails (or IDs, for people without one) of a
// segment's members.
func (s *Server) Members(segment int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.members(segment)
}

// AddSegment creates a segment; manual false makes a data-driven one,
// which refuses members added through the API.
func (s *Server) AddSegment(id int, manual bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store.addSegment(id, manual)
}

// BatchLog lists the applied batch requests in order.
func (s *Server) BatchLog() []BatchRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BatchRequest(nil), s.batches...)
}

// SegmentLog lists the applied segment requests in order.
func (s *Server) SegmentLog() []SegmentRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SegmentRequest(nil), s.segCalls...)
}

// Revoke replaces the API key, as rotating it in Customer.io's settings
// would: requests with the old one get 401.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.APIKey += "-revoked"
}

func (s *Server) apiKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.APIKey
}

// ServeHTTP routes a request: authentication first, then the endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Request()
	path := r.URL.Path
	known := path == "/api/v2/batch" || strings.HasPrefix(path, "/api/v1/segments/")
	if !known {
		s.Violation(w, errorsBody("path", "no such endpoint"), "unknown endpoint %s %s", r.Method, path)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("WWW-Authenticate", `Basic realm="Customer.io Track API"`)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"meta":{"error":"Unauthorized request"}}`))
		return
	}
	if r.Method != http.MethodPost {
		s.Violation(w, errorsBody("method", "use POST"), "%s %s: want POST", r.Method, path)
		return
	}
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		s.Violation(w, errorsBody("content-type", "want application/json"), "%s %s: content-type %q, want application/json", r.Method, path, ct)
		return
	}
	if path == "/api/v2/batch" {
		s.batch(w, r)
		return
	}
	s.segment(w, r)
}

// authorized checks basic auth against the Site ID and API key.
func (s *Server) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	key := s.apiKey()
	return ok && subtle.ConstantTimeCompare([]byte(user), []byte(s.SiteID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(key)) == 1
}

func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// throttle answers Customer.io's rate-limit signal.
func throttle(w http.ResponseWriter, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(`{"meta":{"error":"Too many requests: slow down"}}`))
}

// errorsBody is the v2 API's 400 body: {"errors": [{reason, field, message}]}.
func errorsBody(field, message string) string {
	b, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"reason": "invalid", "field": field, "message": message}}})
	return string(b)
}

// metaBody is the v1 API's 400 body: {"meta": {"errors": [...]}}.
func metaBody(messages ...string) string {
	b, _ := json.Marshal(map[string]any{"meta": map[string]any{"errors": messages}})
	return string(b)
}

// writeJSON answers status with v encoded.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// formatValue renders an attribute value as Audience reports it.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return destinationtest.FormatNumber(f)
		}
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
