package destinationtest

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// Faults schedules misbehaviour. Whole-request faults are counted over the
// valid requests received since the faults were set (New, Serve or
// SetFaults): with Status429Every: 3, the 3rd, 6th, 9th… valid requests are
// throttled. When several schedules hit the same request, the first of Drop,
// Timeout, 429, 500, Status wins. A faulted batch is never applied.
//
// Record faults apply to the batches that get through: each record draws a
// number r in [0,1) from a generator seeded with Seed; r < RejectRate rejects
// it, r < RejectRate+RetryableRecordRate asks to retry it; either way it is
// not applied. Draws happen in request order, so a sequential client sees
// the same outcome on every run.
type Faults struct {
	// Status429Every throttles every n-th request with 429.
	Status429Every int
	// RetryAfter is sent with 429s as whole seconds (rounded up); 0 omits it.
	RetryAfter time.Duration
	// RetryAfterHeader, when set, is sent verbatim as Retry-After instead
	// (e.g. an HTTP date).
	RetryAfterHeader string
	// Status500Every answers every n-th request 500.
	Status500Every int
	// TimeoutEvery makes every n-th request hang until the client disconnects.
	TimeoutEvery int
	// DropEvery closes the connection of every n-th request without a response.
	DropEvery int
	// StatusEvery answers every n-th request with Status (e.g. 403, 410, 503)
	// and Body.
	StatusEvery int
	// Status is the status StatusEvery sends (default 422).
	Status int
	// Body is the response body StatusEvery sends.
	Body string
	// RejectRate is the share of records answered "rejected".
	RejectRate float64
	// RetryableRecordRate is the share of records answered "retry".
	RetryableRecordRate float64
	// Seed seeds the record-fault generator (0 means 1).
	Seed uint64
}

// fault is the whole-request fault picked for one request.
type fault int

const (
	faultNone fault = iota
	faultDrop
	faultTimeout
	fault429
	fault500
	faultStatus
)

var faultNames = map[fault]string{
	faultNone: "none", faultDrop: "drop", faultTimeout: "timeout",
	fault429: "429", fault500: "500", faultStatus: "status",
}

// pick returns the fault for the n-th valid request (1-based).
func (f Faults) pick(n int) fault {
	switch {
	case every(f.DropEvery, n):
		return faultDrop
	case every(f.TimeoutEvery, n):
		return faultTimeout
	case every(f.Status429Every, n):
		return fault429
	case every(f.Status500Every, n):
		return fault500
	case every(f.StatusEvery, n):
		return faultStatus
	}
	return faultNone
}

func every(k, n int) bool { return k > 0 && n%k == 0 }

// recordFaults reports whether records may be rejected or retried.
func (f Faults) recordFaults() bool { return f.RejectRate > 0 || f.RetryableRecordRate > 0 }

// status returns the status of a fixed-status fault.
func (f Faults) status(k fault) int {
	switch k {
	case fault429:
		return http.StatusTooManyRequests
	case fault500:
		return http.StatusInternalServerError
	}
	if f.Status != 0 {
		return f.Status
	}
	return http.StatusUnprocessableEntity
}

// retryAfter returns the Retry-After header value of a 429 ("" for none).
func (f Faults) retryAfter() string {
	if f.RetryAfterHeader != "" {
		return f.RetryAfterHeader
	}
	if f.RetryAfter <= 0 {
		return ""
	}
	return strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds())))
}

func (f Faults) seed() uint64 {
	if f.Seed == 0 {
		return 1
	}
	return f.Seed
}
