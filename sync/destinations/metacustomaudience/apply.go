package metacustomaudience

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// bodyCredentials sends nothing in headers (the access token and its
// appsecret_proof are form fields of the body) but names both secrets so
// logs redact them.
type bodyCredentials struct{ token, proof string }

// Authorize sets nothing: the credentials are form fields.
func (bodyCredentials) Authorize(context.Context, *http.Request) error { return nil }

// Invalidate reports false: the token is static.
func (bodyCredentials) Invalidate() bool { return false }

// Secrets lists the token and its proof, for redaction.
func (b bodyCredentials) Secrets() []string { return []string{b.token, b.proof} }

// Payload is the `payload` parameter of the users endpoint.
type Payload struct {
	Schema []string   `json:"schema"`
	Data   [][]string `json:"data"`
}

// Session is the `session` parameter: each request is a session of one
// batch (the connector cannot know which batch of a run is the last one,
// and retried batches must not collide with a closed session).
type Session struct {
	SessionID         int64 `json:"session_id"`
	BatchSeq          int   `json:"batch_seq"`
	LastBatchFlag     bool  `json:"last_batch_flag"`
	EstimatedNumTotal int   `json:"estimated_num_total,omitempty"`
}

// Response is the users endpoint's answer.
type Response struct {
	AudienceID        string `json:"audience_id"`
	SessionID         any    `json:"session_id"`
	NumReceived       int    `json:"num_received"`
	NumInvalidEntries int    `json:"num_invalid_entries"`
	// InvalidEntrySamples maps sample invalid values, as sent, to the reason.
	InvalidEntrySamples map[string]string `json:"invalid_entry_samples"`
}

// pending is one row of a request and the record it stands for.
type pending struct {
	i   int
	row row
}

// Apply removes the batch's leavers, unsubscribed and erased people and
// the identifiers that changed records no longer have (DELETE), then adds the batch's rows (POST). A
// record whose values cannot be sent is rejected on its own; an entry Meta
// reports invalid rejects its record. A confirmed add or change keeps the
// row it sent as its remote ID.
func (d *Destination) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	results := make([]destination.Result, len(batch))
	var adds, dels []pending
	for i, r := range batch {
		if err := destination.CheckOp(r.Op); err != nil {
			results[i] = destination.Result{Err: d.errorf("record %q: %v", r.Key, err)}
			continue
		}
		if r.Op == destination.OpRemove || privacyOp(r.Op) {
			old := r.Fields
			if r.RemoteID != "" {
				old = decodeRow(r.RemoteID)
			}
			if rw, err := rowOf(d.schema, old); err == nil {
				dels = append(dels, pending{i, rw})
			} else if privacyOp(r.Op) {
				results[i].Receipt = "nothing sent: no identifier Meta can match was delivered"
			}
			continue
		}
		rw, err := rowOf(d.schema, r.Fields)
		if err != nil {
			results[i] = destination.Result{Err: d.errorf("record %q: %v", r.Key, err), Permanent: true}
			continue
		}
		if r.Op == destination.OpChange && r.RemoteID != "" {
			old := decodeRow(r.RemoteID)
			if strongDiffers(d.schema, old, rw) {
				if orw, err := rowOf(d.schema, old); err == nil {
					dels = append(dels, pending{i, orw})
				}
			}
		}
		adds = append(adds, pending{i, rw})
		results[i].RemoteID = encodeRow(d.schema, rw)
	}
	if err := d.send(ctx, http.MethodDelete, dels, batch, results); err != nil {
		return nil, err
	}
	if err := d.send(ctx, http.MethodPost, adds, batch, results); err != nil {
		return nil, err
	}
	return results, nil
}

// privacyOp reports whether an operation takes the person out of the
// audience for consent or erasure (the same DELETE as a removal: a custom
// audience holds only hashes, and removing them is Meta's primitive).
func privacyOp(op destination.Op) bool {
	return op == destination.OpUnsubscribe || op == destination.OpErase
}

// send posts (or deletes) rows, MaxRows a request, and marks the records
// of the entries Meta reports invalid as rejected.
func (d *Destination) send(ctx context.Context, method string, rows []pending, batch []destination.Record, results []destination.Result) error {
	for len(rows) > 0 {
		n := min(len(rows), MaxRows)
		part := rows[:n]
		rows = rows[n:]
		p := Payload{Schema: d.schema, Data: make([][]string, len(part))}
		for j, pr := range part {
			p.Data[j] = pr.row
		}
		resp, err := d.request(ctx, method, p)
		if err != nil {
			return err
		}
		if resp.NumReceived < len(part) {
			return &destination.BatchError{Retryable: true,
				Err: d.errorf("%s users: Meta received %d of the %d rows sent", method, resp.NumReceived, len(part))}
		}
		d.matchRep.add(method, resp.NumReceived, resp.NumInvalidEntries)
		for _, pr := range part {
			if privacyOp(batch[pr.i].Op) {
				results[pr.i].Receipt = fmt.Sprintf("DELETE users: session_id %v, num_received %d", resp.SessionID, resp.NumReceived)
			}
		}
		if len(resp.InvalidEntrySamples) == 0 {
			continue
		}
		for _, pr := range part {
			if reason, bad := invalidReason(pr.row, resp.InvalidEntrySamples); bad {
				what := "entry"
				if method == http.MethodDelete {
					what = "entry to remove"
				}
				results[pr.i] = destination.Result{Err: d.errorf("record %q: Meta reports the %s invalid: %s", batch[pr.i].Key, what, reason)}
			}
		}
	}
	return nil
}

// invalidReason finds a row among Meta's invalid entry samples (keyed by a
// value of the entry as sent).
func invalidReason(r row, samples map[string]string) (string, bool) {
	for _, v := range r {
		if v == "" {
			continue
		}
		if reason, ok := samples[v]; ok {
			return reason, true
		}
	}
	return "", false
}

// request sends one users request: form fields payload, session,
// access_token and appsecret_proof.
func (d *Destination) request(ctx context.Context, method string, p Payload) (*Response, error) {
	pj, err := json.Marshal(p)
	if err != nil {
		return nil, &destination.BatchError{Err: d.errorf("encoding the payload: %v", err)}
	}
	sj, _ := json.Marshal(Session{SessionID: newSessionID(), BatchSeq: 1, LastBatchFlag: true, EstimatedNumTotal: len(p.Data)})
	form := url.Values{"payload": {string(pj)}, "session": {string(sj)},
		"access_token": {d.token}, "appsecret_proof": {d.proof}}
	resp, err := d.client.Do(ctx, httpdest.Request{Method: method, Path: d.path,
		Body: []byte(form.Encode()), ContentType: "application/x-www-form-urlencoded"})
	if err != nil {
		return nil, err
	}
	var out Response
	if err := resp.Decode(&out); err != nil {
		return nil, &destination.BatchError{Retryable: true, Status: resp.Status, Err: d.errorf("%v", err)}
	}
	return &out, nil
}

// newSessionID is a random positive 63-bit session ID.
func newSessionID() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:])>>1) | 1
}

// GraphError is the Graph API's error body.
type GraphError struct {
	Error struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		Code         int    `json:"code"`
		ErrorSubcode int    `json:"error_subcode"`
		FBTraceID    string `json:"fbtrace_id"`
	} `json:"error"`
}

// Throttling error codes: 4 (application request limit), 17 (user request
// limit), 32 (page request limit), 613 (calls within one hour exceeded),
// 80003 (custom audience calls on the ad account), and 1 and 2 (temporary
// API errors, retried without counting as throttling).
var throttleCodes = map[int]bool{4: true, 17: true, 32: true, 613: true, 80003: true}

// classify reads the Graph API error: the throttling codes are retried
// after the wait X-Business-Use-Case-Usage names; 190 (invalid or expired
// token), 102 (session) and 10 or 200–299 (permission) stop the run; 1 and
// 2 are retried; others reject the batch. Without an error body the
// default classification applies.
func classify(r *httpdest.Response) (error, bool) {
	if r.Status >= 200 && r.Status < 300 {
		return nil, true
	}
	var ge GraphError
	if json.Unmarshal(r.Body, &ge) != nil || ge.Error.Code == 0 {
		return nil, false
	}
	e := ge.Error
	msg := fmt.Errorf("%s %s: %d: (#%d/%d) %s", r.Method, r.URL, r.Status, e.Code, e.ErrorSubcode, e.Message)
	switch c := e.Code; {
	case throttleCodes[c]:
		return &destination.BatchError{Err: msg, Retryable: true, Throttled: true, Status: r.Status, RetryAfter: regainWait(r.Header)}, true
	case c == 190 || c == 102:
		return &destination.BatchError{Err: fmt.Errorf("%v (the access token was refused: renew it; the run stops)", msg), Status: r.Status, Fatal: true}, true
	case c == 10 || (c >= 200 && c < 300):
		return &destination.BatchError{Err: fmt.Errorf("%v (the token lacks a permission on the audience; the run stops)", msg), Status: r.Status, Fatal: true}, true
	case c == 1 || c == 2 || r.Status >= 500:
		return &destination.BatchError{Err: msg, Retryable: true, Status: r.Status}, true
	}
	return &destination.BatchError{Err: msg, Status: r.Status}, true
}

// regainWait reads estimated_time_to_regain_access (minutes) from the
// X-Business-Use-Case-Usage header, the longest of its entries.
func regainWait(h http.Header) time.Duration {
	v := h.Get("X-Business-Use-Case-Usage")
	if v == "" {
		return 0
	}
	var usage map[string][]struct {
		Minutes int `json:"estimated_time_to_regain_access"`
	}
	if json.Unmarshal([]byte(v), &usage) != nil {
		return 0
	}
	longest := 0
	for _, es := range usage {
		for _, e := range es {
			longest = max(longest, e.Minutes)
		}
	}
	return time.Duration(longest) * time.Minute
}

// report sums what Meta said of the run's requests.
type report struct {
	mu                  sync.Mutex
	received, invalid   int
	removed, remInvalid int
}

func (r *report) add(method string, received, invalid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if method == http.MethodDelete {
		r.removed += received
		r.remInvalid += invalid
		return
	}
	r.received += received
	r.invalid += invalid
}

// MatchReport sums the run's additions: rows Meta received and found
// invalid (Meta reports no match count for an upload).
func (d *Destination) MatchReport() (destination.MatchReport, bool) {
	r := d.matchRep
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.received == 0 && r.invalid == 0 {
		return destination.MatchReport{}, false
	}
	return destination.MatchReport{Received: int64(r.received), Invalid: int64(r.invalid)}, true
}
