package iterable

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// Documented limits the server enforces.
const (
	// MaxUsers is the most users one bulkUpdate request may carry.
	MaxUsers = 1000
	// MaxBody is the largest bulkUpdate body.
	MaxBody = 4 << 20
	// BulkRate is bulkUpdate's limit: requests per second per project.
	BulkRate = 5
	// FieldsRate is users/getFields' limit per second.
	FieldsRate = 3
	// ProjectID prefixes field names in validation errors.
	ProjectID = 3549
)

// Server is a local Iterable API: an email-based project with one static
// list, an API key, the users it holds, GDPR-forgotten users and the
// project's field types. It is safe for concurrent use.
type Server struct {
	*destinationtest.Kit
	// APIKey is the key the server accepts in the Api-Key header.
	APIKey string
	// ListID is the static list created at start.
	ListID int64
	// ChannelID is the project's marketing email message channel.
	ChannelID int64

	url   string
	close func()

	mu        sync.Mutex
	revoked   bool
	users     map[string]*profile // by lower-cased email, or "uid:"+userId
	lists     map[int64]*list
	nextList  int64
	forgotten map[string]bool // lower-cased emails and "uid:"+userIds
	channels  map[int64]bool  // message channel IDs
	schema    map[string]string
	bulk      *bucket
	fields    *bucket
	calls     []Call
}

// profile is one user.
type profile struct {
	email, userID string
	fields        map[string]any // dataFields: string, float64, bool, objects
	channelOff    bool           // unsubscribed from the list's channel
	unsubscribed  map[int64]bool // message channels the user left (DELETE /api/subscriptions/messageChannel/…)
}

// list is a static list.
type list struct {
	name    string
	members map[string]bool // user ids (see Server.users)
}

// Call describes one request received on a known endpoint.
type Call struct {
	Method, Path string
	Users        int // users or subscribers in the body
	Bytes        int // body size
	Status       int // the status answered (0 when the connection was dropped)
}

var _ destinationtest.Vendor = (*Server)(nil)

// New serves an Iterable contract server on 127.0.0.1 for the duration of
// a test; contract violations fail it.
func New(t testing.TB) *Server {
	t.Helper()
	s := newServer(destinationtest.NewKit(t))
	s.url, s.close = destinationtest.ServeTest(t, s)
	return s
}

// Serve listens on addr (e.g. "127.0.0.1:0") and serves a contract server
// until Close, for demos and subprocess tests; violations are only
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

func newServer(kit *destinationtest.Kit) *Server {
	s := &Server{Kit: kit, APIKey: "itbl-test-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36),
		users: map[string]*profile{}, lists: map[int64]*list{}, nextList: 1001,
		forgotten: map[string]bool{}, schema: map[string]string{},
		bulk: newBucket(BulkRate), fields: newBucket(FieldsRate)}
	s.ListID = s.CreateList("cdp audience")
	s.ChannelID = 51234
	s.channels = map[int64]bool{s.ChannelID: true}
	return s
}

// Close stops the server.
func (s *Server) Close() {
	if s.close != nil {
		s.close()
	}
}

// Type is the destination type the server stands for.
func (s *Server) Type() string { return "iterable" }

// URL is the server's base URL.
func (s *Server) URL() string { return s.url }

// Settings point an iterable destination at the server: base_url, the key,
// the list for mirror, 50 users per request and a 2s timeout.
func (s *Server) Settings(mode string) map[string]string {
	out := map[string]string{"base_url": s.url, "api_key": s.APIKey, "batch_size": "50", "timeout": "2s"}
	if mode == "mirror" {
		out["list_id"] = strconv.FormatInt(s.ListID, 10)
	}
	return out
}

// Fields names the destination fields of the suite's traits.
func (s *Server) Fields() destinationtest.Mapping {
	return destinationtest.Mapping{Email: "email", Name: "firstName", LTV: "ltv"}
}

// Audience is what Iterable holds: in mirror mode the members of ListID,
// otherwise every user with an email; each as email, name (firstName) and
// ltv, cleared fields omitted.
func (s *Server) Audience(mode string) map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]string{}
	add := func(p *profile) {
		if p.email == "" {
			return
		}
		rec := map[string]string{"email": p.email}
		if v, ok := text(p.fields["firstName"]); ok {
			rec["name"] = v
		}
		if v, ok := text(p.fields["ltv"]); ok {
			rec["ltv"] = v
		}
		out[p.email] = rec
	}
	if mode == "mirror" {
		for id := range s.lists[s.ListID].members {
			if p := s.users[id]; p != nil {
				add(p)
			}
		}
		return out
	}
	for _, p := range s.users {
		add(p)
	}
	return out
}

// text renders a held value the way Audience reports it.
func text(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case float64:
		return destinationtest.FormatNumber(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return fmt.Sprint(v), true
}

// CreateList adds a static list and returns its ID.
func (s *Server) CreateList(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextList
	s.nextList++
	s.lists[id] = &list{name: name, members: map[string]bool{}}
	return id
}

// Members lists the emails of a list's members, sorted.
func (s *Server) Members(listID int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if l := s.lists[listID]; l != nil {
		for id := range l.members {
			if p := s.users[id]; p != nil {
				out = append(out, p.email)
			}
		}
	}
	sort.Strings(out)
	return out
}

// User returns a copy of a user's dataFields (nil when unknown).
func (s *Server) User(email string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.users[strings.ToLower(email)]
	if p == nil {
		return nil
	}
	out := make(map[string]any, len(p.fields))
	for k, v := range p.fields {
		out[k] = v
	}
	return out
}

// Forget GDPR-forgets a user: its profile and memberships are deleted and
// Iterable refuses it from then on (failedUpdates.forgottenEmails).
func (s *Server) Forget(email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := strings.ToLower(email)
	s.forgotten[id] = true
	delete(s.users, id)
	for _, l := range s.lists {
		delete(l.members, id)
	}
}

// RevokeKey makes the server refuse its API key (401 BadApiKey), as after
// the key was deleted in Iterable.
func (s *Server) RevokeKey() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
}

// SetBulkRate changes bulkUpdate's rate limit (requests per second; the
// documented 5 by default); 0 disables it.
func (s *Server) SetBulkRate(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bulk = newBucket(n)
}

// FieldType returns the type the project holds a field as ("" if none).
func (s *Server) FieldType(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.schema[name]
}

// Calls lists the requests received on known endpoints, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// bucket is a token bucket holding at most rate tokens, refilled at rate
// per second; a nil or zero-rate bucket never throttles.
type bucket struct {
	rate   float64
	tokens float64
	last   time.Time
}

func newBucket(rate int) *bucket {
	return &bucket{rate: float64(rate), tokens: float64(rate), last: time.Now()}
}

// take spends a token; false when none is left.
func (b *bucket) take(now time.Time) bool {
	if b == nil || b.rate <= 0 {
		return true
	}
	b.tokens = min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
