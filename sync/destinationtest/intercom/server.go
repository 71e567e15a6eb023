package intercom

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// Type is the destination type the server stands for.
const Type = "intercom"

// Defaults of the server.
const (
	// DefaultAPIVersion is the Intercom-Version Settings asks for.
	DefaultAPIVersion = "2.11"
	// DefaultRateLimit requests per DefaultRateWindow: Intercom's 10,000 a
	// minute per app, spread over 10-second windows.
	DefaultRateLimit  = 1667
	DefaultRateWindow = 10 * time.Second
	// AudienceTag is the name of the tag Settings gives for mirror mode.
	AudienceTag = "cdp audience"
	// maxBody is the largest request body read (Intercom documents none).
	maxBody = 1 << 20
)

// Versions lists the Intercom-Version values the server accepts.
var Versions = []string{"2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.15", "2.16"}

// Server is a local stand-in for Intercom's REST API: contacts, their
// search and tags, and the contact data attributes. It is safe for
// concurrent use and implements destinationtest.Vendor.
type Server struct {
	*destinationtest.Kit
	// Token is the access token it accepts.
	Token string
	// TagID is the ID of the audience tag (AudienceTag) it holds.
	TagID string

	url   string
	close func()

	inflight, maxInflight atomic.Int32

	mu          sync.Mutex
	contacts    map[string]*contact
	order       []string // contact IDs in creation order
	attrs       []attribute
	tags        map[string]string // tag ID → name
	seq         int
	revoked     bool
	limit       int
	window      time.Duration
	winStart    time.Time
	winCount    int
	searchDelay time.Duration
}

var _ destinationtest.Vendor = (*Server)(nil)

// Option configures a server.
type Option func(*config)

type config struct{ lenient bool }

// AllowViolations records contract violations (see Violations) without
// failing the test, for tests that break the contract on purpose.
func AllowViolations() Option { return func(c *config) { c.lenient = true } }

// New starts a server on 127.0.0.1 for the duration of a test; contract
// violations fail the test.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	kt := t
	if c.lenient {
		kt = nil
	}
	s := newServer(destinationtest.NewKit(kt))
	s.url, s.close = destinationtest.ServeTest(t, s)
	return s
}

// Serve listens on addr and serves until Close, for demos and subprocess
// tests; violations are recorded (Violations) and not reported.
func Serve(addr string) (*Server, error) {
	s := newServer(destinationtest.NewKit(nil))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	s.url, s.close = "http://"+ln.Addr().String(), func() { _ = srv.Close() }
	return s, nil
}

func newServer(k *destinationtest.Kit) *Server {
	s := &Server{Kit: k, Token: "dG9rOmNkcC10ZXN0" + randomHex(8), contacts: map[string]*contact{},
		attrs: defaultAttributes(), tags: map[string]string{}, limit: DefaultRateLimit, window: DefaultRateWindow}
	s.TagID = s.AddTag(AudienceTag)
	return s
}

// Close stops the server.
func (s *Server) Close() {
	if s.close != nil {
		s.close()
	}
}

// Type is "intercom".
func (s *Server) Type() string { return Type }

// URL is the server's base URL.
func (s *Server) URL() string { return s.url }

// Settings point an intercom destination at the server: its URL and
// token, the audience tag in mirror mode, batches of 50 written 4 at a
// time, a 2s timeout.
func (s *Server) Settings(mode string) map[string]string {
	m := map[string]string{"base_url": s.url, "access_token": s.Token, "api_version": DefaultAPIVersion,
		"role": "user", "batch_size": "50", "concurrency": "4", "timeout": "2s"}
	if mode == "mirror" {
		m["tag_id"] = s.TagID
	}
	return m
}

// Fields maps the suite's traits: email and name are standard contact
// attributes, the lifetime value is the custom attribute ltv.
func (s *Server) Fields() destinationtest.Mapping {
	return destinationtest.Mapping{Email: "email", Name: "name", LTV: "custom_attributes.ltv"}
}

// Audience returns the contacts held (in mirror mode, those tagged with
// TagID) by email: email, name and the ltv custom attribute as text,
// cleared ones omitted.
func (s *Server) Audience(mode string) map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]string{}
	for _, id := range s.order {
		c := s.contacts[id]
		email, _ := c.attrs["email"].(string)
		if email == "" || (mode == "mirror" && !c.tagged(s.TagID)) {
			continue
		}
		rec := map[string]string{"email": email}
		if name, _ := c.attrs["name"].(string); name != "" {
			rec["name"] = name
		}
		if v, ok := c.custom["ltv"]; ok && v != nil {
			rec["ltv"] = text(v)
		}
		out[email] = rec
	}
	return out
}

// text renders a held value as Audience reports it.
func text(v any) string {
	if f, ok := v.(float64); ok {
		return destinationtest.FormatNumber(f)
	}
	return fmt.Sprint(v)
}

// Contact is a copy of one held contact, for tests.
type Contact struct {
	ID, Role string
	// Attributes are the standard attributes set (email, name, …).
	Attributes map[string]any
	// Custom are the custom attributes set.
	Custom map[string]any
	// Tags lists the IDs of the tags applied, sorted.
	Tags []string
}

// Contacts returns every contact held, in creation order.
func (s *Server) Contacts() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Contact, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.contacts[id].copy())
	}
	return out
}

// Find returns the first contact whose email is email.
func (s *Server) Find(email string) (Contact, bool) {
	for _, c := range s.Contacts() {
		if e, _ := c.Attributes["email"].(string); strings.EqualFold(e, email) {
			return c, true
		}
	}
	return Contact{}, false
}

// AddContact stores a contact as if created earlier (before the search
// delay), for tests; it returns its ID.
func (s *Server) AddContact(role string, attrs, custom map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.newContact(role, time.Now().Add(-time.Hour))
	for k, v := range attrs {
		c.attrs[k] = v
	}
	for k, v := range custom {
		c.custom[k] = v
	}
	return c.id
}

// DeleteContact removes a contact, as deleting or merging it would.
func (s *Server) DeleteContact(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.contacts, id)
	for i, o := range s.order {
		if o == id {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}

// AddTag creates a tag and returns its ID.
func (s *Server) AddTag(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := fmt.Sprint(7522907 + len(s.tags))
	s.tags[id] = name
	return id
}

// AddAttribute creates a custom contact data attribute of a data type
// (string, integer, float, boolean, date).
func (s *Server) AddAttribute(name, dataType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attrs = append(s.attrs, attribute{Name: name, FullName: "custom_attributes." + name, Label: name,
		DataType: dataType, APIWritable: true, UIWritable: true, Custom: true, ID: 12878 + len(s.attrs)})
}

// MaxInFlight is the most requests the server was handling at once.
func (s *Server) MaxInFlight() int { return int(s.maxInflight.Load()) }

// Revoke makes the server refuse its token from now on (401).
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
}

// SetRateLimit makes the server allow n requests per window (fixed
// windows, as Intercom's 10-second ones); 0 disables it.
func (s *Server) SetRateLimit(n int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit, s.window, s.winStart, s.winCount = n, window, time.Time{}, 0
}

// SetSearchDelay hides contacts younger than d from search, as Intercom's
// "contact creation delay" does.
func (s *Server) SetSearchDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.searchDelay = d
}

// newContact stores a new contact; s.mu is held.
func (s *Server) newContact(role string, created time.Time) *contact {
	s.seq++
	c := &contact{id: fmt.Sprintf("6650%020x", s.seq), role: role, attrs: map[string]any{}, custom: map[string]any{},
		tags: map[string]int64{}, created: created, updated: created}
	s.contacts[c.id] = c
	s.order = append(s.order, c.id)
	return c
}

// contact is one held contact.
type contact struct {
	id, role         string
	attrs            map[string]any // standard attributes set
	custom           map[string]any // custom attributes set
	tags             map[string]int64
	created, updated time.Time
}

func (c *contact) tagged(tag string) bool { _, ok := c.tags[tag]; return ok }

func (c *contact) copy() Contact {
	out := Contact{ID: c.id, Role: c.role, Attributes: map[string]any{}, Custom: map[string]any{}}
	for k, v := range c.attrs {
		out.Attributes[k] = v
	}
	for k, v := range c.custom {
		out.Custom[k] = v
	}
	for t := range c.tags {
		out.Tags = append(out.Tags, t)
	}
	sort.Strings(out.Tags)
	return out
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// requestID is a random UUID, as Intercom's request_id.
func requestID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
