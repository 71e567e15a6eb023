package klaviyo

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limit is one endpoint's rate limit: Klaviyo counts requests per account
// in two fixed windows, burst (one second) and steady (one minute), and
// answers 429 when either is full.
type Limit struct {
	Burst  int // requests per second
	Steady int // requests per minute
}

// Endpoints, each with its own rate limit (their API reference pages).
const (
	EndpointBulkImport      = "bulk_import_profiles"                         // POST /api/profile-bulk-import-jobs
	EndpointGetJob          = "get_bulk_import_profiles_job"                 // GET /api/profile-bulk-import-jobs/{id}
	EndpointImportErrors    = "get_errors_for_bulk_import_profiles_job"      // GET …/{id}/import-errors
	EndpointJobProfiles     = "get_profiles_for_bulk_import_profiles_job"    // GET …/{id}/profiles
	EndpointJobProfileIDs   = "get_profile_ids_for_bulk_import_profiles_job" // GET …/{id}/relationships/profiles
	EndpointAddToList       = "add_profiles_to_list"                         // POST /api/lists/{id}/relationships/profiles
	EndpointRemoveFromList  = "remove_profiles_from_list"                    // DELETE /api/lists/{id}/relationships/profiles
	EndpointUpdateProfile   = "update_profile"                               // PATCH /api/profiles/{id}
	EndpointGetProfiles     = "get_profiles"                                 // GET /api/profiles
	defaultBurst, defaultSt = 10, 150                                        // Klaviyo's "M" tier
)

// DefaultLimits are the documented limits of each endpoint.
func DefaultLimits() map[string]Limit {
	m := Limit{Burst: defaultBurst, Steady: defaultSt}
	return map[string]Limit{
		EndpointBulkImport: m, EndpointGetJob: m, EndpointImportErrors: m, EndpointJobProfiles: m,
		EndpointJobProfileIDs: m, EndpointAddToList: m, EndpointRemoveFromList: m,
		EndpointUpdateProfile: {Burst: 75, Steady: 750},
		EndpointGetProfiles:   {Burst: 75, Steady: 750},
		EndpointDeletion:      privacyLimits[EndpointDeletion],
		EndpointUnsubscribe:   privacyLimits[EndpointUnsubscribe],
	}
}

// window is one fixed window's count.
type window struct {
	start time.Time
	n     int
}

// limiter keeps the windows of every endpoint.
type limiter struct {
	mu     sync.Mutex
	limits map[string]Limit
	sec    map[string]*window
	min    map[string]*window
}

func newLimiter() *limiter {
	return &limiter{limits: DefaultLimits(), sec: map[string]*window{}, min: map[string]*window{}}
}

// set replaces one endpoint's limit and restarts its windows.
func (l *limiter) set(endpoint string, lim Limit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limits[endpoint] = lim
	delete(l.sec, endpoint)
	delete(l.min, endpoint)
}

// take counts a request to endpoint at now. When a window is full it
// returns the seconds until that window ends; otherwise 0 and the steady
// window's state for the RateLimit-* headers.
func (l *limiter) take(endpoint string, now time.Time) (wait int, limit, remaining, reset int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.limits[endpoint]
	if !ok || (lim.Burst <= 0 && lim.Steady <= 0) {
		return 0, 0, 0, 0
	}
	sec := current(l.sec, endpoint, now.Truncate(time.Second))
	mnt := current(l.min, endpoint, now.Truncate(time.Minute))
	if lim.Burst > 0 && sec.n >= lim.Burst {
		return ceilSeconds(sec.start.Add(time.Second).Sub(now)), 0, 0, 0
	}
	if lim.Steady > 0 && mnt.n >= lim.Steady {
		return ceilSeconds(mnt.start.Add(time.Minute).Sub(now)), 0, 0, 0
	}
	sec.n++
	mnt.n++
	return 0, lim.Steady, max(lim.Steady-mnt.n, 0), ceilSeconds(mnt.start.Add(time.Minute).Sub(now))
}

// current returns the endpoint's window starting at start, restarting it
// when the previous one ended.
func current(m map[string]*window, endpoint string, start time.Time) *window {
	w := m[endpoint]
	if w == nil || !w.start.Equal(start) {
		w = &window{start: start}
		m[endpoint] = w
	}
	return w
}

func ceilSeconds(d time.Duration) int { return max(int(math.Ceil(d.Seconds())), 1) }

// setRateHeaders sets the steady window's state, which Klaviyo sends on
// every answer that is not a 429.
func setRateHeaders(h http.Header, limit, remaining, reset int) {
	if limit <= 0 {
		return
	}
	h.Set("RateLimit-Limit", strconv.Itoa(limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(reset))
}
