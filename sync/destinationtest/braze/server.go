package braze

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// Endpoint paths the server answers.
const (
	TrackPath        = "/users/track"
	SubscriptionPath = "/v2/subscription/status/set"
)

// Documented limits the server enforces.
const (
	MaxAttributes      = 75      // attributes objects per /users/track request
	MaxPayload         = 4 << 20 // request body bytes (413 beyond)
	MaxSubscriptionIDs = 50      // users per /v2/subscription/status/set request
)

// Server is a local Braze REST API: /users/track (attributes) and
// /v2/subscription/status/set, with an in-memory store of user profiles
// and their subscription-group states. It is safe for concurrent use and
// implements destinationtest.Vendor.
type Server struct {
	*destinationtest.Kit
	url   string
	close func()

	mu         sync.Mutex
	apiKey     string
	group      string          // the subscription group Settings("mirror") names
	groups     map[string]bool // known subscription group IDs
	users      []*user
	byExternal map[string]*user
	seq        int
	deleted    int // profiles /users/delete deleted
	maxPayload int
	limits     map[string]*window
	log        []Write
}

// user is one stored profile.
type user struct {
	externalID string
	attrs      map[string]any    // attribute name → value as decoded from JSON
	subs       map[string]string // subscription group ID → state
	updated    int               // sequence of the last write
}

// Write describes one applied write request.
type Write struct {
	Path    string
	Bytes   int // body size
	Objects int // attributes objects (/users/track)
	IDs     int // users named (/v2/subscription/status/set)
}

var _ destinationtest.Vendor = (*Server)(nil)

// New serves a Braze API on 127.0.0.1 for the duration of a test;
// contract violations fail t.
func New(t testing.TB) *Server {
	s := newServer(destinationtest.NewKit(t))
	s.url, s.close = destinationtest.ServeTest(t, s)
	return s
}

// Serve runs a Braze API on addr (e.g. "127.0.0.1:0") for demos and
// subprocess tests; violations are recorded (Violations) but fail nothing.
// Close stops it.
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
	s := &Server{Kit: k, apiKey: uuid(), group: uuid(), groups: map[string]bool{},
		byExternal: map[string]*user{}, maxPayload: MaxPayload, limits: map[string]*window{
			TrackPath:        {limit: 3000, every: 3 * time.Second},
			SubscriptionPath: {limit: 5000, every: time.Minute},
			DeletePath:       {limit: 20000, every: time.Minute},
		}}
	s.groups[s.group] = true
	return s
}

// uuid returns a random version-4 UUID, the shape of Braze's keys and IDs.
func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Close stops the server.
func (s *Server) Close() {
	if s.close != nil {
		s.close()
	}
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.url }

// Type is the destination type the server stands for.
func (s *Server) Type() string { return "braze" }

// APIKey returns the REST API key the server accepts.
func (s *Server) APIKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiKey
}

// SetAPIKey replaces the accepted key: the old one is answered 401, like a
// revoked key.
func (s *Server) SetAPIKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiKey = key
}

// Group returns the ID of the subscription group the server created.
func (s *Server) Group() string { return s.group }

// SetMaxPayload changes the request-body limit (default 4 MB), for tests.
func (s *Server) SetMaxPayload(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxPayload = n
}

// SetEndpointLimit changes the rate limit of one endpoint: n requests per
// window (defaults: 3,000 per 3 s for /users/track, 5,000 per minute for
// /v2/subscription/status/set); 0 disables it.
func (s *Server) SetEndpointLimit(path string, n int, every time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[path] = &window{limit: n, every: every}
}

// Writes returns the log of applied write requests, in order.
func (s *Server) Writes() []Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Write(nil), s.log...)
}

// Settings point a braze destination at the server.
func (s *Server) Settings(mode string) map[string]string {
	m := map[string]string{"base_url": s.url, "api_key": s.APIKey(), "identifier": "email",
		"batch_size": "50", "timeout": "2s"}
	if mode == "mirror" {
		m["subscription_group_id"] = s.group
	}
	return m
}

// Fields names the attributes the suite maps its traits to: the email
// (also the identifier), the standard first_name and a custom ltv.
func (s *Server) Fields() destinationtest.Mapping {
	return destinationtest.Mapping{Email: "email", Name: "first_name", LTV: "ltv"}
}

// Audience returns the profiles the server holds, keyed by email; for
// mirror, only those subscribed to the server's group.
func (s *Server) Audience(mode string) map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]string{}
	seen := map[string]int{}
	for _, u := range s.users {
		email, _ := u.attrs["email"].(string)
		if email == "" || (mode == "mirror" && u.subs[s.group] != "subscribed") {
			continue
		}
		if at, dup := seen[email]; dup && at > u.updated {
			continue
		}
		seen[email] = u.updated
		rec := map[string]string{"email": email}
		if v, ok := u.attrs["first_name"]; ok {
			rec["name"] = text(v)
		}
		if v, ok := u.attrs["ltv"]; ok {
			rec["ltv"] = text(v)
		}
		out[email] = rec
	}
	return out
}

// Profile returns a copy of the attributes of the latest profile with the
// email (nil when none).
func (s *Server) Profile(email string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byEmailLocked(email)
	if u == nil {
		return nil
	}
	out := make(map[string]any, len(u.attrs))
	for k, v := range u.attrs {
		out[k] = v
	}
	return out
}

// EmailSubscribe returns the global email subscription state of the
// latest profile with the email ("" when none is recorded or no profile).
func (s *Server) EmailSubscribe(email string) string {
	v, _ := s.Profile(email)["email_subscribe"].(string)
	return v
}

// Subscription returns the state of the latest profile with the email in
// a group ("" when none is recorded).
func (s *Server) Subscription(email, group string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.byEmailLocked(email); u != nil {
		return u.subs[group]
	}
	return ""
}

// text renders a stored value the way Audience reports it.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return destinationtest.FormatNumber(x)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// byEmailLocked finds the profile an email identifies: the most recently
// updated one with an external_id, else the most recently updated one.
func (s *Server) byEmailLocked(email string) *user {
	var best *user
	for _, u := range s.users {
		if e, _ := u.attrs["email"].(string); e != email {
			continue
		}
		switch {
		case best == nil,
			u.externalID != "" && best.externalID == "",
			(u.externalID != "") == (best.externalID != "") && u.updated > best.updated:
			best = u
		}
	}
	return best
}

// withEmailLocked lists every profile with the email.
func (s *Server) withEmailLocked(email string) []*user {
	var out []*user
	for _, u := range s.users {
		if e, _ := u.attrs["email"].(string); e == email {
			out = append(out, u)
		}
	}
	return out
}

// newUserLocked stores a new profile.
func (s *Server) newUserLocked(externalID string) *user {
	u := &user{externalID: externalID, attrs: map[string]any{}, subs: map[string]string{}}
	s.users = append(s.users, u)
	if externalID != "" {
		s.byExternal[externalID] = u
	}
	return u
}
