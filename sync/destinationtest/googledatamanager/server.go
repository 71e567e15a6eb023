package googledatamanager

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// Type is the destination type the server stands for.
const Type = "google_data_manager"

// Limits the server enforces (ingestion_service.proto).
const (
	MaxMembers     = 10000
	MaxIdentifiers = 10
	// DefaultPollsToComplete: a request is PROCESSING at its first status
	// read and done at the second.
	DefaultPollsToComplete = 2
	// DefaultMatchRange is the upload match rate range a finished ingest
	// reports.
	DefaultMatchRange = "MATCH_RATE_RANGE_41_TO_50"
)

var hexRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Server is a local Data Manager API v1 (its audience members and request
// status methods) with a Google token endpoint, over one Customer Match
// list. It implements destinationtest.Vendor.
type Server struct {
	*destinationtest.Kit
	url     string
	close   func()
	pub     *rsa.PublicKey
	email   string
	keyFile string
	account string
	list    string

	mu       sync.Mutex
	tokens   map[string]time.Time
	grants   int
	revoked  bool
	polls    int
	failNext int
	members  map[int]*member
	nextID   int
	requests map[string]*request
	reqSeq   int
}

type member struct{ email, phone, addr string }

type request struct {
	ingest      bool
	polls       int
	failed      bool
	records     int
	identifiers int
}

var _ destinationtest.Vendor = (*Server)(nil)

// New serves a Data Manager contract server until the test ends; its key
// file is written in t's temporary directory. Violations fail t.
func New(t testing.TB) *Server {
	t.Helper()
	s := newServer(destinationtest.NewKit(t))
	s.url, s.close = destinationtest.ServeTest(t, s)
	if err := s.newKey(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	return s
}

// Serve listens on addr and serves until Close (demos, subprocess tests);
// the key file goes to a new temporary directory.
func Serve(addr string) (*Server, error) {
	s := newServer(destinationtest.NewKit(nil))
	u, stop, err := destinationtest.ServeAddr(addr, s)
	if err != nil {
		return nil, err
	}
	s.url, s.close = u, stop
	dir, err := os.MkdirTemp("", "gdm")
	if err == nil {
		err = s.newKey(dir)
	}
	if err != nil {
		stop()
		return nil, err
	}
	return s, nil
}

func newServer(k *destinationtest.Kit) *Server {
	return &Server{Kit: k, email: "cdp-sync@cdp-test.iam.gserviceaccount.com", account: "1234567890", list: "8123456789",
		tokens: map[string]time.Time{}, polls: DefaultPollsToComplete, members: map[int]*member{}, requests: map[string]*request{}}
}

// Close stops the server.
func (s *Server) Close() { s.close() }

// URL is the server's base URL (also the key file's token_uri host).
func (s *Server) URL() string { return s.url }

// Type is "google_data_manager".
func (s *Server) Type() string { return Type }

// KeyFile is the path of the service account's JSON key.
func (s *Server) KeyFile() string { return s.keyFile }

// Grants counts the access tokens issued.
func (s *Server) Grants() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants
}

// Revoke makes the server refuse every token (401), as after the service
// account lost access.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
}

// SetPollsToComplete sets how many status reads a new request takes (≥ 1).
func (s *Server) SetPollsToComplete(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls = max(n, 1)
}

// FailNext makes the next n accepted requests end FAILED (not applied).
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// Settings point a google_data_manager destination at the server: its key
// file, account, list, consent, 50 members a request, quick polls.
func (s *Server) Settings(string) map[string]string {
	return map[string]string{"base_url": s.url, "credentials_file": s.keyFile, "operating_account_id": s.account,
		"audience_id": s.list, "ad_user_data": "CONSENT_GRANTED", "ad_personalization": "CONSENT_GRANTED",
		"batch_size": "50", "timeout": "2s", "poll_interval": "20ms", "job_timeout": "60s", "rate_limit": "100/s"}
}

// Fields maps the suite's email to email_address hashed with
// google_email; a name alone is no identifier and ltv has no place.
func (s *Server) Fields() destinationtest.Mapping {
	return destinationtest.Mapping{Email: "email_address", Hash: map[string]string{"email_address": "google_email"}}
}

// Audience is the list's members with an e-mail, keyed by its hash.
func (s *Server) Audience(string) map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]string{}
	for _, m := range s.members {
		if m.email != "" {
			out[m.email] = map[string]string{"email": m.email}
		}
	}
	return out
}

// apiError writes a googleapis error; details are JSON objects.
func apiError(w http.ResponseWriter, code int, status, msg string, details ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	e := map[string]any{"code": code, "message": msg, "status": status}
	if len(details) > 0 {
		e["details"] = details
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

// violation records a contract violation and answers 400 INVALID_ARGUMENT.
func (s *Server) violation(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.Report("%s", msg)
	apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", msg)
}

// throttle answers 429 RESOURCE_EXHAUSTED with a RetryInfo detail.
func throttle(w http.ResponseWriter, retryAfter string) {
	delay := "0s"
	if n, err := strconv.Atoi(retryAfter); err == nil {
		delay = strconv.Itoa(n) + "s"
	}
	apiError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Requests' of service 'datamanager.googleapis.com'.",
		map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay})
}

// ServeHTTP routes: the token endpoint, then authenticated API methods.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Request()
	if r.URL.Path == "/token" {
		s.token(w, r)
		return
	}
	var ingest bool
	switch {
	case r.URL.Path == "/v1/audienceMembers:ingest" && r.Method == http.MethodPost:
		ingest = true
	case r.URL.Path == "/v1/audienceMembers:remove" && r.Method == http.MethodPost:
	case r.URL.Path == "/v1/requestStatus:retrieve" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		if !s.authorized(r) {
			apiError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
			return
		}
		if s.Fault(w, r, throttle) {
			return
		}
		s.status(w, r)
		return
	default:
		s.violation(w, "no method %s %s", r.Method, r.URL.Path)
		return
	}
	if !s.authorized(r) {
		apiError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token.")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		s.violation(w, "reading the body: %v", err)
		return
	}
	rq, ok := s.parse(w, r, body, ingest)
	if !ok {
		return
	}
	if s.Fault(w, r, throttle) {
		return
	}
	s.members0(w, rq, ingest)
}

// wire shapes, decoded strictly (an unknown field is a violation).
type (
	membersRequest struct {
		Destinations    []destinationMsg `json:"destinations"`
		AudienceMembers []audienceMember `json:"audienceMembers"`
		Consent         *consent         `json:"consent"`
		ValidateOnly    bool             `json:"validateOnly"`
		Encoding        string           `json:"encoding"`
		TermsOfService  *struct {
			Status string `json:"customerMatchTermsOfServiceStatus"`
		} `json:"termsOfService"`
	}
	destinationMsg struct {
		Reference            string   `json:"reference"`
		LoginAccount         *account `json:"loginAccount"`
		LinkedAccount        *account `json:"linkedAccount"`
		OperatingAccount     *account `json:"operatingAccount"`
		ProductDestinationID string   `json:"productDestinationId"`
	}
	account struct {
		AccountID   string `json:"accountId"`
		AccountType string `json:"accountType"`
	}
	consent struct {
		AdUserData        string `json:"adUserData"`
		AdPersonalization string `json:"adPersonalization"`
	}
	audienceMember struct {
		DestinationReferences []string `json:"destinationReferences"`
		UserData              *struct {
			UserIdentifiers []identifier `json:"userIdentifiers"`
		} `json:"userData"`
		Consent *consent `json:"consent"`
	}
	identifier struct {
		EmailAddress string `json:"emailAddress"`
		PhoneNumber  string `json:"phoneNumber"`
		Address      *struct {
			GivenName  string `json:"givenName"`
			FamilyName string `json:"familyName"`
			RegionCode string `json:"regionCode"`
			PostalCode string `json:"postalCode"`
		} `json:"address"`
	}
)

var consentValues = map[string]bool{"": true, "CONSENT_GRANTED": true, "CONSENT_DENIED": true}

// parse checks a members request against the protos and this account.
func (s *Server) parse(w http.ResponseWriter, r *http.Request, body []byte, ingest bool) (*membersRequest, bool) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.violation(w, "want a JSON body, got %q", ct)
		return nil, false
	}
	var rq membersRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rq); err != nil {
		s.violation(w, "Invalid JSON payload received: %v", err)
		return nil, false
	}
	switch {
	case len(rq.Destinations) != 1:
		s.violation(w, "want one destination, got %d", len(rq.Destinations))
		return nil, false
	case rq.Destinations[0].OperatingAccount == nil || rq.Destinations[0].OperatingAccount.AccountID != s.account ||
		rq.Destinations[0].OperatingAccount.AccountType != "GOOGLE_ADS":
		s.violation(w, "destinations[0].operating_account must be GOOGLE_ADS %s", s.account)
		return nil, false
	case rq.Destinations[0].ProductDestinationID != s.list:
		s.violation(w, "destinations[0].product_destination_id %q is not the list %s", rq.Destinations[0].ProductDestinationID, s.list)
		return nil, false
	case rq.Encoding != "HEX":
		s.violation(w, "encoding must be HEX for hex-encoded hashes, got %q", rq.Encoding)
		return nil, false
	case rq.ValidateOnly:
		s.violation(w, "validate_only is set: nothing would be applied")
		return nil, false
	case len(rq.AudienceMembers) == 0 || len(rq.AudienceMembers) > MaxMembers:
		s.violation(w, "TOO_MANY_AUDIENCE_MEMBERS or none: %d members (1 to %d)", len(rq.AudienceMembers), MaxMembers)
		return nil, false
	case !ingest && (rq.Consent != nil || rq.TermsOfService != nil):
		s.violation(w, "RemoveAudienceMembersRequest has no consent or terms_of_service")
		return nil, false
	case ingest && (rq.Consent == nil || !consentValues[rq.Consent.AdUserData] || !consentValues[rq.Consent.AdPersonalization]):
		s.violation(w, "ingest needs consent {adUserData, adPersonalization} (CONSENT_GRANTED or CONSENT_DENIED): the account serves EEA users")
		return nil, false
	}
	for i, m := range rq.AudienceMembers {
		if m.UserData == nil || len(m.UserData.UserIdentifiers) == 0 || len(m.UserData.UserIdentifiers) > MaxIdentifiers {
			s.violation(w, "audience_members[%d].user_data needs 1 to %d user_identifiers", i, MaxIdentifiers)
			return nil, false
		}
		for j, id := range m.UserData.UserIdentifiers {
			n := 0
			for _, set := range []bool{id.EmailAddress != "", id.PhoneNumber != "", id.Address != nil} {
				if set {
					n++
				}
			}
			bad := n != 1
			if id.EmailAddress != "" && !hexRe.MatchString(id.EmailAddress) || id.PhoneNumber != "" && !hexRe.MatchString(id.PhoneNumber) {
				bad = true
			}
			if a := id.Address; a != nil && (!hexRe.MatchString(a.GivenName) || !hexRe.MatchString(a.FamilyName) || len(a.RegionCode) != 2 || a.PostalCode == "") {
				bad = true
			}
			if bad {
				s.violation(w, "audience_members[%d].user_data.user_identifiers[%d]: one of email_address, phone_number (hex SHA-256) or a whole address", i, j)
				return nil, false
			}
		}
	}
	return &rq, true
}

// members0 applies an accepted request (or refuses the members the record
// faults pick, applying nothing) and answers its request ID.
func (s *Server) members0(w http.ResponseWriter, rq *membersRequest, ingest bool) {
	var viol []any
	transient := false
	for i := range rq.AudienceMembers {
		reject, retry := s.RecordFault()
		transient = transient || (i == 0 && retry)
		if reject {
			viol = append(viol, map[string]string{"field": fmt.Sprintf("audience_members[%d].user_data.user_identifiers[0]", i),
				"description": "Invalid SHA-256 hash (injected).", "reason": "INVALID_SHA256_FORMAT"})
		}
	}
	if len(viol) > 0 {
		apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.",
			map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "INVALID_ARGUMENT", "domain": "datamanager.googleapis.com"},
			map[string]any{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": viol})
		return
	}
	s.mu.Lock()
	rqs := &request{ingest: ingest, records: len(rq.AudienceMembers)}
	if s.failNext > 0 || transient {
		s.failNext = max(s.failNext-1, 0)
		rqs.failed = true
	}
	for _, m := range rq.AudienceMembers {
		rqs.identifiers += len(m.UserData.UserIdentifiers)
		if !rqs.failed {
			s.apply(m, ingest)
		}
	}
	s.reqSeq++
	id := fmt.Sprintf("%08d-%s", s.reqSeq, randHex(8))
	s.requests[id] = rqs
	s.mu.Unlock()
	s.Wrote()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"requestId": id})
}

// apply adds a member (replacing those it shares an identifier with) or
// removes every member that has one of its identifiers.
func (s *Server) apply(m audienceMember, ingest bool) {
	var nw member
	for _, id := range m.UserData.UserIdentifiers {
		switch {
		case id.EmailAddress != "":
			nw.email = id.EmailAddress
		case id.PhoneNumber != "":
			nw.phone = id.PhoneNumber
		case id.Address != nil:
			nw.addr = strings.Join([]string{id.Address.GivenName, id.Address.FamilyName, id.Address.RegionCode, id.Address.PostalCode}, "|")
		}
	}
	for k, old := range s.members {
		if nw.email != "" && old.email == nw.email || nw.phone != "" && old.phone == nw.phone || nw.addr != "" && old.addr == nw.addr {
			delete(s.members, k)
		}
	}
	if ingest {
		s.nextID++
		s.members[s.nextID] = &nw
	}
}

// status answers requestStatus:retrieve.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("requestId")
	if id == "" {
		s.violation(w, "request_id is required")
		return
	}
	s.mu.Lock()
	rq := s.requests[id]
	var st map[string]any
	if rq != nil {
		rq.polls++
		st = map[string]any{"destination": map[string]any{"operatingAccount": map[string]string{"accountId": s.account, "accountType": "GOOGLE_ADS"},
			"productDestinationId": s.list}}
		switch {
		case rq.polls < s.polls:
			st["requestStatus"] = "PROCESSING"
		case rq.failed:
			st["requestStatus"] = "FAILED"
			st["errorInfo"] = map[string]any{"errorCounts": []any{map[string]string{"recordCount": strconv.Itoa(rq.records),
				"reason": "PROCESSING_ERROR_REASON_INTERNAL_ERROR"}}}
		default:
			st["requestStatus"] = "SUCCESS"
			counts := map[string]string{"recordCount": strconv.Itoa(rq.records), "userIdentifierCount": strconv.Itoa(rq.identifiers)}
			if rq.ingest {
				counts["uploadMatchRateRange"] = DefaultMatchRange
				st["audienceMembersIngestionStatus"] = map[string]any{"userDataIngestionStatus": counts}
			} else {
				st["audienceMembersRemovalStatus"] = map[string]any{"userDataRemovalStatus": counts}
			}
		}
	}
	s.mu.Unlock()
	if rq == nil {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "Request "+id+" not found.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"requestStatusPerDestination": []any{st}})
}
