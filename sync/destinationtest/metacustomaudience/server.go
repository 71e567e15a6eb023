package metacustomaudience

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// Type is the destination type the server stands for.
const Type = "meta_custom_audience"

// Limits the server enforces.
const (
	// MaxRows is the most rows one request may carry.
	MaxRows = 10000
	// MaxBody bounds a request body.
	MaxBody = 64 << 20
)

// keys are the schema keys Meta accepts; hashed ones must hold lowercase
// hex SHA-256 (or be blank), strong ones identify a person on their own.
var keys = map[string]struct{ hashed, strong bool }{
	"EMAIL": {true, true}, "PHONE": {true, true}, "MADID": {false, true}, "EXTERN_ID": {false, true},
	"FN": {true, false}, "LN": {true, false}, "FI": {true, false}, "COUNTRY": {true, false},
	"CT": {true, false}, "ST": {true, false}, "ZIP": {true, false}, "GEN": {true, false},
	"DOBY": {true, false}, "DOBM": {true, false}, "DOBD": {true, false},
}

var (
	pathRe = regexp.MustCompile(`^/(v[0-9]+\.[0-9]+)/([0-9]+)/users$`)
	hexRe  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Server is a local Meta Marketing API serving one customer-file custom
// audience's users edge, enforced as documented. It implements
// destinationtest.Vendor.
type Server struct {
	*destinationtest.Kit
	url   string
	close func()

	mu       sync.Mutex
	token    string
	secret   string
	audience string
	revoked  bool
	members  map[int]map[string]string // member ID → key → value
	nextID   int
	sessions map[int64]*session
	calls    []Call
}

// Call is one applied request, for tests.
type Call struct {
	Method string
	Rows   int
	Schema []string
}

type session struct {
	seq    int
	closed bool
}

var _ destinationtest.Vendor = (*Server)(nil)

// New serves a Meta contract server until the test ends; contract
// violations fail t.
func New(t testing.TB) *Server {
	t.Helper()
	s := newServer(destinationtest.NewKit(t))
	s.url, s.close = destinationtest.ServeTest(t, s)
	return s
}

// Serve listens on addr and serves until Close (demos, subprocess tests);
// violations are only recorded.
func Serve(addr string) (*Server, error) {
	s := newServer(destinationtest.NewKit(nil))
	u, stop, err := destinationtest.ServeAddr(addr, s)
	if err != nil {
		return nil, err
	}
	s.url, s.close = u, stop
	return s, nil
}

func newServer(k *destinationtest.Kit) *Server {
	return &Server{Kit: k, token: "EAAB" + randHex(24), secret: randHex(16), audience: "23850000000000001",
		members: map[int]map[string]string{}, sessions: map[int64]*session{}}
}

// Close stops the server.
func (s *Server) Close() { s.close() }

// URL is the server's base URL.
func (s *Server) URL() string { return s.url }

// Type is "meta_custom_audience".
func (s *Server) Type() string { return Type }

// Token is the access token the server accepts; Secret the app secret.
func (s *Server) Token() string { return s.token }

// Secret is the app secret appsecret_proof must be keyed with.
func (s *Server) Secret() string { return s.secret }

// AudienceID is the audience's ID.
func (s *Server) AudienceID() string { return s.audience }

// Revoke makes the server refuse the token (error 190).
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
}

// Calls lists the applied requests.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Settings point a meta_custom_audience destination at the server, 50 rows
// a request.
func (s *Server) Settings(string) map[string]string {
	return map[string]string{"base_url": s.url, "access_token": s.token, "app_secret": s.secret,
		"audience_id": s.audience, "batch_size": "50", "timeout": "2s", "rate_limit": "100/s"}
}

// Fields maps the suite's email to EMAIL and first name to FN, both
// hashed with Meta's profiles; Meta has no place for ltv.
func (s *Server) Fields() destinationtest.Mapping {
	return destinationtest.Mapping{Email: "EMAIL", Name: "FN",
		Hash: map[string]string{"EMAIL": "meta_email", "FN": "meta_name"}}
}

// Audience is the audience's members with an EMAIL, keyed by its hash:
// {"email": EMAIL hash, "name": FN hash}.
func (s *Server) Audience(string) map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]string{}
	for _, m := range s.members {
		e := m["EMAIL"]
		if e == "" {
			continue
		}
		rec := map[string]string{"email": e}
		if fn := m["FN"]; fn != "" {
			rec["name"] = fn
		}
		out[e] = rec
	}
	return out
}

// Members is the number of people in the audience.
func (s *Server) Members() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.members)
}

// graphError writes a Graph API error.
func graphError(w http.ResponseWriter, status, code, sub int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "OAuthException",
		"code": code, "error_subcode": sub, "fbtrace_id": "AbCdEfG123"}})
	_, _ = w.Write(b)
}

// violation records a contract violation and answers Meta's error 100.
func (s *Server) violation(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.Report("%s", msg)
	graphError(w, http.StatusBadRequest, 100, 0, "(#100) "+msg)
}

// throttle answers Meta's custom-audience rate limit: error 80003 with the
// X-Business-Use-Case-Usage header (estimated_time_to_regain_access in
// minutes).
func (s *Server) throttle(w http.ResponseWriter, retryAfter string) {
	minutes := 0
	if n, err := strconv.Atoi(retryAfter); err == nil {
		minutes = (n + 59) / 60
	}
	w.Header().Set("X-Business-Use-Case-Usage", fmt.Sprintf(
		`{"%s":[{"type":"custom_audience","call_count":100,"total_cputime":10,"total_time":10,"estimated_time_to_regain_access":%d}]}`,
		s.audience, minutes))
	graphError(w, http.StatusBadRequest, 80003, 2446079,
		"(#80003) There have been too many calls to this ad-account. Wait a bit and try again.")
}

// ServeHTTP answers one request: route, form, credentials, payload and
// session, faults, then the change to the audience.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Request()
	m := pathRe.FindStringSubmatch(r.URL.Path)
	if m == nil {
		s.violation(w, "Unknown path components: %s", r.URL.Path)
		return
	}
	if m[2] != s.audience {
		graphError(w, http.StatusBadRequest, 100, 33, fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist", m[2]))
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodDelete {
		s.violation(w, "the users edge takes POST (add) or DELETE (remove), not %s", r.Method)
		return
	}
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	if !s.authorize(w, form) {
		return
	}
	schema, data, ok := s.readPayload(w, form.Get("payload"))
	if !ok {
		return
	}
	sess, ok := s.readSession(w, form.Get("session"))
	if !ok {
		return
	}
	if s.Fault(w, r, s.throttle) {
		return
	}
	if !s.takeSession(w, sess) {
		return
	}
	resp := s.apply(r.Method, schema, data)
	resp["session_id"] = strconv.FormatInt(sess.SessionID, 10)
	s.Wrote()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// readForm parses an application/x-www-form-urlencoded body (Go's
// ParseForm ignores DELETE bodies, so it is read here).
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		s.violation(w, "want a form body (application/x-www-form-urlencoded), got %q", r.Header.Get("Content-Type"))
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil || len(b) > MaxBody {
		s.violation(w, "unreadable or oversized body")
		return nil, false
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		s.violation(w, "bad form body: %v", err)
		return nil, false
	}
	if r.URL.Query().Get("access_token") != "" {
		s.violation(w, "access_token in the URL (it belongs in the body)")
		return nil, false
	}
	return form, true
}

// authorize checks access_token and appsecret_proof.
func (s *Server) authorize(w http.ResponseWriter, form url.Values) bool {
	tok := form.Get("access_token")
	if tok == "" {
		s.violation(w, "An active access token must be used to query information about the current user.")
		return false
	}
	s.mu.Lock()
	bad := tok != s.token || s.revoked
	s.mu.Unlock()
	if bad {
		graphError(w, http.StatusBadRequest, 190, 460, "Error validating access token: The session has been invalidated.")
		return false
	}
	mac := hmac.New(sha256.New, []byte(s.secret))
	mac.Write([]byte(tok))
	if form.Get("appsecret_proof") != hex.EncodeToString(mac.Sum(nil)) {
		s.violation(w, "Invalid appsecret_proof provided in the API argument")
		return false
	}
	return true
}

// readPayload checks payload{schema, data}.
func (s *Server) readPayload(w http.ResponseWriter, text string) ([]string, [][]string, bool) {
	var p struct {
		Schema json.RawMessage `json:"schema"`
		Data   [][]string      `json:"data"`
	}
	if text == "" {
		s.violation(w, "The parameter payload is required")
		return nil, nil, false
	}
	if err := json.Unmarshal([]byte(text), &p); err != nil {
		s.violation(w, "payload is not {schema, data} with rows of strings: %v", err)
		return nil, nil, false
	}
	var schema []string
	if json.Unmarshal(p.Schema, &schema) != nil {
		s.violation(w, "payload.schema must be a list of keys (multi-key)")
		return nil, nil, false
	}
	seen := map[string]bool{}
	for _, k := range schema {
		if _, ok := keys[k]; !ok || seen[k] {
			s.violation(w, "payload.schema: unknown or repeated key %q", k)
			return nil, nil, false
		}
		seen[k] = true
	}
	if len(schema) == 0 || len(p.Data) == 0 {
		s.violation(w, "payload needs a schema and at least one row")
		return nil, nil, false
	}
	if len(p.Data) > MaxRows {
		s.violation(w, "payload.data has %d rows; at most %d a request", len(p.Data), MaxRows)
		return nil, nil, false
	}
	for i, row := range p.Data {
		if len(row) != len(schema) {
			s.violation(w, "payload.data[%d] has %d values for %d schema keys", i, len(row), len(schema))
			return nil, nil, false
		}
		for j, v := range row {
			if v != "" && keys[schema[j]].hashed && !hexRe.MatchString(v) {
				s.violation(w, "payload.data[%d]: %s is not a lowercase hex SHA-256 (plain PII sent)", i, schema[j])
				return nil, nil, false
			}
		}
	}
	return schema, p.Data, true
}

type sessionParam struct {
	SessionID     int64 `json:"session_id"`
	BatchSeq      int   `json:"batch_seq"`
	LastBatchFlag *bool `json:"last_batch_flag"`
	Estimated     int   `json:"estimated_num_total"`
}

// readSession checks the session parameter's shape.
func (s *Server) readSession(w http.ResponseWriter, text string) (sessionParam, bool) {
	var p sessionParam
	if text == "" {
		s.violation(w, "the session parameter is required (session_id, batch_seq, last_batch_flag)")
		return p, false
	}
	if err := json.Unmarshal([]byte(text), &p); err != nil || p.SessionID <= 0 || p.BatchSeq < 1 || p.LastBatchFlag == nil {
		s.violation(w, "bad session %s: want a positive session_id, batch_seq from 1 and last_batch_flag", text)
		return p, false
	}
	return p, true
}

// takeSession checks the batch's place in its session: batch_seq follows
// the session's last, and a closed session takes no more batches.
func (s *Server) takeSession(w http.ResponseWriter, p sessionParam) bool {
	s.mu.Lock()
	st := s.sessions[p.SessionID]
	if st == nil {
		st = &session{}
		s.sessions[p.SessionID] = st
	}
	okSeq := !st.closed && p.BatchSeq == st.seq+1
	if okSeq {
		st.seq = p.BatchSeq
		st.closed = *p.LastBatchFlag
	}
	s.mu.Unlock()
	if !okSeq {
		s.violation(w, "session %d: batch_seq %d after %d (closed %v)", p.SessionID, p.BatchSeq, st.seq, st.closed)
	}
	return okSeq
}

// apply adds (POST) or removes (DELETE) the rows: a person is matched by
// any strong key value; an added row replaces the members it matches.
// Rows the record faults reject are invalid entries, listed in
// invalid_entry_samples by their first value.
func (s *Server) apply(method string, schema []string, data [][]string) map[string]any {
	invalid := map[string]string{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, row := range data {
		if reject, _ := s.RecordFault(); reject {
			invalid[first(row)] = "Invalid entry (injected)"
			continue
		}
		rec := map[string]string{}
		for j, k := range schema {
			if row[j] != "" {
				rec[k] = row[j]
			}
		}
		strong := false
		for k := range rec {
			strong = strong || keys[k].strong
		}
		if !strong {
			invalid[first(row)] = "No matchable identifier"
			continue
		}
		for id, m := range s.members {
			if shares(m, rec) {
				delete(s.members, id)
			}
		}
		if method == http.MethodPost {
			s.nextID++
			s.members[s.nextID] = rec
		}
	}
	s.calls = append(s.calls, Call{Method: method, Rows: len(data), Schema: schema})
	out := map[string]any{"audience_id": s.audience, "num_received": len(data), "num_invalid_entries": len(invalid)}
	if len(invalid) > 0 {
		out["invalid_entry_samples"] = invalid
	}
	return out
}

// shares reports whether two people have a strong key value in common.
func shares(a, b map[string]string) bool {
	for k, v := range b {
		if keys[k].strong && a[k] == v {
			return true
		}
	}
	return false
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func first(row []string) string {
	for _, v := range row {
		if v != "" {
			return v
		}
	}
	return strings.Join(row, ",")
}
