package mailchimp

import (
	"crypto/rand"
	"encoding/hex"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// Type is the destination type the server stands for.
const Type = "mailchimp"

// Defaults of the server.
const (
	// DataCenter is the data center of the keys the server issues
	// (<32 hex>-us21).
	DataCenter = "us21"
	// ListID is the audience the server creates.
	ListID = "a1b2c3d4e5"
	// MaxMembers is the most members one batch subscribe call may carry.
	MaxMembers = 500
	// MaxConnections is Mailchimp's limit of simultaneous connections; the
	// next one is answered 429.
	MaxConnections = 10
	// maxBody is the largest request body read.
	maxBody = 32 << 20
)

// Fields are the merge tags (and the email) the suite maps its traits to.
var Fields = destinationtest.Mapping{Email: "email_address", Name: "FNAME", LTV: "LTV"}

// Options configures a Server.
type Options struct {
	// AllowViolations records contract violations without failing the test,
	// for tests that send bad requests on purpose.
	AllowViolations bool
	// Faults is the initial fault schedule.
	Faults destinationtest.Faults
	// MaxConnections overrides the limit of simultaneous connections
	// (default 10, Mailchimp's).
	MaxConnections int
	// Latency holds every admitted request this long before it is served,
	// so that concurrent clients overlap as they would over the Internet.
	Latency time.Duration
}

// Server is a Mailchimp Marketing API contract server: the batch subscribe
// endpoint, member archive and lookup, merge field definitions, API-key
// auth, Mailchimp's 10-connection limit and error shapes. It implements
// destinationtest.Vendor and is safe for concurrent use.
type Server struct {
	*destinationtest.Kit
	opts Options
	key  string
	url  string
	stop func()

	mu       sync.Mutex
	lists    map[string]*list
	revoked  bool
	inflight int
	maxSeen  int
}

var _ destinationtest.Vendor = (*Server)(nil)

// New starts a server on 127.0.0.1 for t; it stops when the test ends.
// Violations fail the test through t.Errorf unless opts.AllowViolations.
func New(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	kt := t
	if o.AllowViolations {
		kt = nil
	}
	s := newServer(destinationtest.NewKit(kt), o)
	ts := httptest.NewServer(s)
	s.url, s.stop = ts.URL, ts.Close
	t.Cleanup(s.Close)
	return s
}

// Serve listens on addr (e.g. 127.0.0.1:0) and serves until Close, for
// demos and subprocess tests; violations are recorded, not reported.
func Serve(addr string, opts ...Options) (*Server, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s := newServer(destinationtest.NewKit(nil), o)
	url, stop, err := destinationtest.ServeAddr(addr, s)
	if err != nil {
		return nil, err
	}
	s.url, s.stop = url, stop
	return s, nil
}

func newServer(k *destinationtest.Kit, o Options) *Server {
	if o.MaxConnections <= 0 {
		o.MaxConnections = MaxConnections
	}
	k.SetFaults(o.Faults)
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return &Server{Kit: k, opts: o, key: hex.EncodeToString(b) + "-" + DataCenter,
		lists: map[string]*list{ListID: newList(ListID)}}
}

// Close stops the server.
func (s *Server) Close() {
	if s.stop != nil {
		s.stop()
	}
}

// Type implements destinationtest.Vendor.
func (s *Server) Type() string { return Type }

// URL is the server's base URL, the destination's base_url.
func (s *Server) URL() string { return s.url }

// APIKey is the key the server accepts (…-us21).
func (s *Server) APIKey() string { return s.key }

// RevokeKey makes the server refuse its key with 401 from now on.
func (s *Server) RevokeKey() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
}

// Settings point a mailchimp destination at the server: its URL, key and
// list, batches of 50 and a short timeout.
func (s *Server) Settings(mode string) map[string]string {
	return map[string]string{"base_url": s.url, "api_key": s.key, "list_id": ListID,
		"batch_size": "50", "concurrency": "4", "timeout": "2s"}
}

// Fields implements destinationtest.Vendor: email_address, FNAME and LTV.
func (s *Server) Fields() destinationtest.Mapping { return Fields }

// Audience implements destinationtest.Vendor. In mirror mode it is the
// list's subscribed members; otherwise every member not archived.
func (s *Server) Audience(mode string) map[string]map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]string{}
	for _, m := range s.lists[ListID].members {
		if m.Status == StatusArchived || (mode == "mirror" && m.Status != "subscribed") {
			continue
		}
		rec := map[string]string{"email": m.Email}
		if v, ok := m.MergeFields[Fields.Name].(string); ok && v != "" {
			rec["name"] = v
		}
		if v, ok := m.MergeFields[Fields.LTV].(float64); ok {
			rec["ltv"] = destinationtest.FormatNumber(v)
		}
		out[m.Email] = rec
	}
	return out
}

// Member returns a member of the server's list by email (any case).
func (s *Server) Member(email string) (Member, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.lists[ListID].members[SubscriberHash(email)]
	if !ok {
		return Member{}, false
	}
	return m.clone(), true
}

// Members returns every member of the server's list, archived ones
// included, sorted by email.
func (s *Server) Members() []Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Member
	for _, m := range s.lists[ListID].members {
		out = append(out, m.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out
}

// AddMergeField defines another merge field on the server's list.
func (s *Server) AddMergeField(f MergeField) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lists[ListID]
	l.addField(f, len(l.fields))
}

// MaxInFlight is the most requests the server held at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxSeen
}

// InFlight is the number of requests being served now.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight
}

// enter admits a request under the connection limit.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight >= s.opts.MaxConnections {
		return false
	}
	s.inflight++
	s.maxSeen = max(s.maxSeen, s.inflight)
	return true
}

func (s *Server) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight--
}
