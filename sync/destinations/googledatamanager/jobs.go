package googledatamanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// noJob is the job ID of a batch that sends nothing.
const noJob = "none"

// plan is what a batch sends: the members of the ingest request and of the
// remove request, each with the record it stands for, and the results of
// records settled before sending.
type plan struct {
	ingest, remove []member
	results        []destination.Result
	settled        []bool
}

type member struct {
	i  int // record index
	id ids
}

// privacyOp reports whether an operation takes the person out of the
// list for consent or erasure: the same audienceMembers:remove as a
// removal, Data Manager's primitive for a Customer Match list.
func privacyOp(op destination.Op) bool {
	return op == destination.OpUnsubscribe || op == destination.OpErase
}

// plan splits a batch. rejected are records Data Manager refused at
// submission (by index, with the reason): they are left out.
func (d *Destination) plan(batch []destination.Record, rejected map[int]string) plan {
	p := plan{results: make([]destination.Result, len(batch)), settled: make([]bool, len(batch))}
	for i, r := range batch {
		if reason, bad := rejected[i]; bad {
			p.results[i], p.settled[i] = destination.Result{Err: d.errorf("record %q: Data Manager refused the member: %s", r.Key, reason)}, true
			continue
		}
		if err := destination.CheckOp(r.Op); err != nil {
			p.results[i], p.settled[i] = destination.Result{Err: d.errorf("record %q: %v", r.Key, err)}, true
			continue
		}
		if r.Op == destination.OpRemove || privacyOp(r.Op) {
			old := decodeIDs(r.RemoteID)
			if r.RemoteID == "" {
				old, _ = idsOf(r.Fields)
			}
			if old.empty() {
				p.settled[i] = true // nothing was ever matched: nothing to remove
				if privacyOp(r.Op) {
					p.results[i].Receipt = "nothing sent: no identifier was delivered"
				}
				continue
			}
			p.remove = append(p.remove, member{i, old})
			continue
		}
		x, err := idsOf(r.Fields)
		if err != nil {
			p.results[i], p.settled[i] = destination.Result{Err: d.errorf("record %q: %v", r.Key, err), Permanent: true}, true
			continue
		}
		if r.Op == destination.OpChange && r.RemoteID != "" {
			if gone := decodeIDs(r.RemoteID).minus(x); !gone.empty() {
				p.remove = append(p.remove, member{i, gone})
			}
		}
		p.ingest = append(p.ingest, member{i, x})
		p.results[i].RemoteID = x.encode()
	}
	return p
}

// jobID names a batch's requests and its refused records:
// "i=<ingest request>;r=<remove request>;x=<index>:<reason>,…".
type jobID struct {
	ingest, remove string
	rejected       map[int]string
}

// String renders the job ID ("none" when nothing was sent or refused).
func (j jobID) String() string {
	var parts []string
	if j.ingest != "" {
		parts = append(parts, "i="+j.ingest)
	}
	if j.remove != "" {
		parts = append(parts, "r="+j.remove)
	}
	if len(j.rejected) > 0 {
		idx := make([]int, 0, len(j.rejected))
		for i := range j.rejected {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		var xs []string
		for _, i := range idx {
			xs = append(xs, strconv.Itoa(i)+":"+j.rejected[i])
		}
		parts = append(parts, "x="+strings.Join(xs, ","))
	}
	if len(parts) == 0 {
		return noJob
	}
	return strings.Join(parts, ";")
}

func parseJobID(s string) (jobID, error) {
	j := jobID{rejected: map[int]string{}}
	if s == noJob {
		return j, nil
	}
	for _, p := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "i":
			j.ingest = v
		case "r":
			j.remove = v
		case "x":
			for _, x := range strings.Split(v, ",") {
				n, reason, _ := strings.Cut(x, ":")
				i, err := strconv.Atoi(n)
				if err != nil {
					return j, fmt.Errorf("bad job ID %q", s)
				}
				j.rejected[i] = reason
			}
		default:
			return j, fmt.Errorf("bad job ID %q", s)
		}
	}
	return j, nil
}

// Submit sends the batch's remove request, then its ingest request. A
// request Data Manager refuses for some members (400 INVALID_ARGUMENT with
// field violations naming audience_members[n]) is sent again without
// them; they are reported refused by Poll.
func (d *Destination) Submit(ctx context.Context, batch []destination.Record) (string, error) {
	j := jobID{rejected: map[int]string{}}
	for attempt := 0; ; attempt++ {
		p := d.plan(batch, j.rejected)
		var err error
		var bad map[int]string
		// Before anything was accepted or refused a failure goes back to the
		// delivery loop (which counts throttling and backs off); after, it is
		// retried here so the progress is not lost.
		send := d.send
		if j.remove != "" || len(j.rejected) > 0 {
			send = d.sendRetrying
		}
		if j.remove == "" && len(p.remove) > 0 {
			j.remove, bad, err = send(ctx, "/v1/audienceMembers:remove", p.remove, false)
		}
		if j.remove != "" || len(j.rejected) > 0 {
			send = d.sendRetrying
		}
		if err == nil && len(bad) == 0 && len(p.ingest) > 0 {
			j.ingest, bad, err = send(ctx, "/v1/audienceMembers:ingest", p.ingest, true)
		}
		if err != nil {
			return "", err
		}
		if len(bad) == 0 {
			return j.String(), nil
		}
		if attempt > len(batch) { // each round refuses at least one member: cannot happen
			return "", &destination.BatchError{Err: d.errorf("Data Manager kept refusing members of the batch")}
		}
		for i, reason := range bad {
			j.rejected[i] = reason
		}
	}
}

// sendAttempts is how often Submit sends one request before giving up: a
// transient failure after the remove request was accepted, or after some
// members were refused, would otherwise cost the whole batch its progress.
const sendAttempts = 5

// sendRetrying is send, again after a retryable failure (after the wait
// the API asked for, at least 50 ms doubling).
func (d *Destination) sendRetrying(ctx context.Context, path string, ms []member, ingest bool) (string, map[int]string, error) {
	wait := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		id, bad, err := d.send(ctx, path, ms, ingest)
		if err == nil || attempt == sendAttempts || destination.IsFatal(err) || !destination.IsRetryable(err) {
			return id, bad, err
		}
		t := time.NewTimer(max(wait, retryAfter(err)))
		select {
		case <-ctx.Done():
			t.Stop()
			return "", nil, err
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}

var memberIndex = regexp.MustCompile(`^(?:audience_members|audienceMembers)\[(\d+)\]`)

// send posts one ingest or remove request and returns its request ID; on a
// 400 whose field violations each name a member, it returns those
// members' records (index → reason) instead.
func (d *Destination) send(ctx context.Context, path string, ms []member, ingest bool) (string, map[int]string, error) {
	rq := MembersRequest{Destinations: []ProductDestination{d.dest}, Encoding: "HEX",
		AudienceMembers: make([]AudienceMember, len(ms))}
	for k, m := range ms {
		rq.AudienceMembers[k] = AudienceMember{UserData: &UserData{UserIdentifiers: m.id.identifiers()}}
	}
	if ingest {
		rq.Consent, rq.TermsOfService = d.consent, d.tos
	}
	resp, err := d.client.Do(ctx, httpdest.Request{Method: "POST", Path: path, JSON: rq})
	if err != nil {
		if resp != nil && resp.Status == 400 {
			if bad := violations(resp.Body, ms); len(bad) > 0 {
				return "", bad, nil
			}
		}
		return "", nil, err
	}
	var out MembersResponse
	if err := resp.Decode(&out); err != nil || out.RequestID == "" {
		return "", nil, &destination.BatchError{Retryable: true, Status: resp.Status,
			Err: d.errorf("%s answered %d without a requestId: %s", path, resp.Status, httpdest.Snippet(resp.Body))}
	}
	return out.RequestID, nil, nil
}

// violations maps a 400's field violations to record indexes; nil when
// any violation names no member (the request itself is wrong).
func violations(body []byte, ms []member) map[int]string {
	var e APIError
	if json.Unmarshal(body, &e) != nil {
		return nil
	}
	out := map[int]string{}
	for _, det := range e.Error.Details {
		for _, v := range det.FieldViolations {
			m := memberIndex.FindStringSubmatch(v.Field)
			if m == nil {
				return nil
			}
			k, _ := strconv.Atoi(m[1])
			if k >= len(ms) {
				return nil
			}
			reason := v.Reason
			if reason == "" {
				reason = "INVALID_ARGUMENT"
			}
			out[ms[k].i] = strings.NewReplacer(",", " ", ";", " ", ":", " ").Replace(reason + " " + v.Description)
		}
	}
	return out
}

// Poll asks for the status of the batch's requests. While one is
// PROCESSING it reports not done. Then every record gets its result:
// confirmed when its requests succeeded (PARTIAL_SUCCESS too: Data Manager
// does not say which members failed; the count goes to the match report),
// refused when a request FAILED (retried when the reason is an internal
// error), as Submit found it otherwise.
func (d *Destination) Poll(ctx context.Context, id string, batch []destination.Record) ([]destination.Result, bool, error) {
	j, err := parseJobID(id)
	if err != nil {
		return nil, false, &destination.BatchError{Err: d.errorf("%v", err)}
	}
	p := d.plan(batch, j.rejected)
	var ing, rem *DestinationStatus
	if j.ingest != "" {
		if ing, err = d.status(ctx, j.ingest); err != nil || ing == nil {
			return nil, false, err
		}
	}
	if j.remove != "" {
		if rem, err = d.status(ctx, j.remove); err != nil || rem == nil {
			return nil, false, err
		}
	}
	results := p.results
	fail := func(ms []member, st *DestinationStatus, what string) {
		if st == nil || st.RequestStatus != StatusFailed {
			return
		}
		reasons, retry := errorReasons(st)
		for _, m := range ms {
			results[m.i] = destination.Result{Retryable: retry,
				Err: d.errorf("record %q: the %s request failed: %s", batch[m.i].Key, what, reasons)}
		}
	}
	for _, m := range p.remove {
		if privacyOp(batch[m.i].Op) && rem != nil {
			results[m.i].Receipt = "audienceMembers:remove requestId " + j.remove + " " + rem.RequestStatus
		}
	}
	fail(p.remove, rem, "remove")
	fail(p.ingest, ing, "ingest")
	if ing != nil {
		d.report(ing)
	}
	return results, true, nil
}

// status reads one request's status; nil while it is still processing.
func (d *Destination) status(ctx context.Context, requestID string) (*DestinationStatus, error) {
	resp, err := d.client.Do(ctx, httpdest.Request{Method: "GET", Path: "/v1/requestStatus:retrieve",
		Query: url.Values{"requestId": {requestID}}})
	if err != nil {
		return nil, err
	}
	var out StatusResponse
	if err := resp.Decode(&out); err != nil {
		return nil, &destination.BatchError{Err: err, Retryable: true, Status: resp.Status}
	}
	if len(out.RequestStatusPerDestination) == 0 {
		return nil, nil // not known yet
	}
	st := out.RequestStatusPerDestination[0]
	switch st.RequestStatus {
	case StatusProcessing, StatusUnknown, "":
		return nil, nil
	case StatusSuccess, StatusFailed, StatusPartialSuccess:
		return &st, nil
	}
	return nil, &destination.BatchError{Retryable: true, Err: d.errorf("request %s has an unknown status %q", requestID, st.RequestStatus)}
}

// errorReasons lists a failed request's error counts; retry when every
// reason is an internal error.
func errorReasons(st *DestinationStatus) (string, bool) {
	if st.ErrorInfo == nil || len(st.ErrorInfo.ErrorCounts) == 0 {
		return "no reason given", true
	}
	var parts []string
	retry := true
	for _, c := range st.ErrorInfo.ErrorCounts {
		parts = append(parts, fmt.Sprintf("%s (%s records)", c.Reason, c.RecordCount))
		retry = retry && c.Reason == "PROCESSING_ERROR_REASON_INTERNAL_ERROR"
	}
	return strings.Join(parts, ", "), retry
}

// report adds a finished ingest request to the run's match report.
func (d *Destination) report(st *DestinationStatus) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if st.AudienceMembersIngestionStatus != nil && st.AudienceMembersIngestionStatus.UserDataIngestionStatus != nil {
		u := st.AudienceMembersIngestionStatus.UserDataIngestionStatus
		n, _ := strconv.ParseInt(u.RecordCount, 10, 64)
		d.match.Received += n
		if r := RangeText(u.UploadMatchRateRange); r != "" {
			d.match.Range = r
		}
	}
	if st.RequestStatus == StatusPartialSuccess && st.ErrorInfo != nil {
		for _, c := range st.ErrorInfo.ErrorCounts {
			n, _ := strconv.ParseInt(c.RecordCount, 10, 64)
			d.match.Invalid += n
		}
	}
}

var rangeRe = regexp.MustCompile(`^MATCH_RATE_RANGE_(\d+)_TO_(\d+)$`)

// RangeText renders a MatchRateRange: MATCH_RATE_RANGE_20_TO_30 → "20-30%",
// LESS_THAN_20 → "<20%", NOT_ELIGIBLE → "not eligible"; UNKNOWN → "".
func RangeText(r string) string {
	if m := rangeRe.FindStringSubmatch(r); m != nil {
		return m[1] + "-" + m[2] + "%"
	}
	switch r {
	case "MATCH_RATE_RANGE_LESS_THAN_20":
		return "<20%"
	case "MATCH_RATE_RANGE_NOT_ELIGIBLE":
		return "not eligible"
	}
	return ""
}

// Apply submits the batch and polls it every poll_interval until done
// (for callers that do not drive jobs themselves).
func (d *Destination) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	id, err := d.Submit(ctx, batch)
	if err != nil {
		return nil, err
	}
	wait := time.Duration(0)
	for {
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, &destination.BatchError{Retryable: true, Err: d.errorf("request %s still processing when the attempt ended: %v", id, ctx.Err())}
			case <-t.C:
			}
		}
		res, done, err := d.Poll(ctx, id, batch)
		switch {
		case err == nil && done:
			return res, nil
		case err == nil:
			wait = d.pollEvery
		case destination.IsFatal(err):
			return nil, err
		case ctx.Err() != nil || !destination.IsRetryable(err):
			return nil, &destination.BatchError{Retryable: true, Err: d.errorf("polling request %s: %v", id, err)}
		default:
			wait = max(d.pollEvery, retryAfter(err))
		}
	}
}

func retryAfter(err error) time.Duration {
	var be *destination.BatchError
	if errors.As(err, &be) {
		return be.RetryAfter
	}
	return 0
}

// classify is the default classification, with the wait of a 429's
// google.rpc.RetryInfo detail (retryDelay, e.g. "3s") when there is no
// Retry-After header.
func classify(r *httpdest.Response) (error, bool) {
	err := httpdest.Classify(r)
	var be *destination.BatchError
	if r.Status != 429 || !errors.As(err, &be) || be.RetryAfter > 0 {
		return err, true
	}
	var e struct {
		Error struct {
			Details []struct {
				Type       string `json:"@type"`
				RetryDelay string `json:"retryDelay"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(r.Body, &e) == nil {
		for _, d := range e.Error.Details {
			if strings.HasSuffix(d.Type, "google.rpc.RetryInfo") {
				if w, perr := time.ParseDuration(d.RetryDelay); perr == nil && w > 0 {
					be.RetryAfter = w
				}
			}
		}
	}
	return err, true
}
