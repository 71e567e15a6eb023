package braze

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// trackResponse is the body of a /users/track answer:
// {"message": "success", "attributes_processed": N, "errors": [{"type",
// "input_array", "index"}]} — or, for a fatal error, the error's message.
type trackResponse struct {
	Message string            `json:"message"`
	Errors  []json.RawMessage `json:"errors"`
}

// trackError is one entry of errors.
type trackError struct {
	Type       string `json:"type"`
	InputArray string `json:"input_array"`
	Index      *int   `json:"index"`
}

// recordErrors sorts a response's errors: by attributes index (within
// [0, n)), and the rest as text.
func recordErrors(body []byte, n int) (msg string, byIndex map[int]string, other []string, err error) {
	var r trackResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return "", nil, nil, err
	}
	byIndex = map[int]string{}
	for _, raw := range r.Errors {
		var e trackError
		if json.Unmarshal(raw, &e) != nil {
			other = append(other, strings.TrimSpace(string(raw)))
			continue
		}
		if e.Index == nil || *e.Index < 0 || *e.Index >= n || (e.InputArray != "" && e.InputArray != "attributes") {
			other = append(other, strings.TrimSpace(string(raw)))
			continue
		}
		if prev, dup := byIndex[*e.Index]; dup {
			e.Type = prev + "; " + e.Type
		}
		byIndex[*e.Index] = e.Type
	}
	return r.Message, byIndex, other, nil
}

// processed maps a 2xx answer to the results of the n objects sent: an
// object named in errors[{index}] is rejected with Braze's message, the
// rest are confirmed. An error Braze does not attribute to an object makes
// the unnamed ones retryable (nothing can be assumed about them); a body
// that is not Braze's JSON fails the request, retryably.
func processed(resp *httpdest.Response, n int) ([]destination.Result, error) {
	_, byIndex, other, err := recordErrors(resp.Body, n)
	if err != nil {
		return nil, &destination.BatchError{Retryable: true, Status: resp.Status,
			Err: fmt.Errorf("braze: %s %s: %d answer is not Braze's JSON (%v): %s", resp.Method, resp.URL, resp.Status, err, httpdest.Snippet(resp.Body))}
	}
	out := make([]destination.Result, n)
	for i := range out {
		if t, ok := byIndex[i]; ok {
			out[i] = httpdest.RecordError(false, "braze rejected the attributes object: %s", t)
		} else if len(other) > 0 {
			out[i] = httpdest.RecordError(true, "braze reported errors it did not attribute to an object: %s", strings.Join(other, "; "))
		}
	}
	return out, nil
}

// rejected maps a 400 that names invalid objects in errors[{index}]:
// nothing of the request was processed, so those objects are rejected and
// the others are retryable (they are resent without them). ok is false
// when the 400 names no object.
func rejected(resp *httpdest.Response, n int) (out []destination.Result, ok bool) {
	msg, byIndex, _, err := recordErrors(resp.Body, n)
	if err != nil || len(byIndex) == 0 {
		return nil, false
	}
	out = make([]destination.Result, n)
	for i := range out {
		if t, bad := byIndex[i]; bad {
			out[i] = httpdest.RecordError(false, "braze rejected the attributes object: %s", t)
		} else {
			out[i] = httpdest.RecordError(true, "braze processed none of the request (%s): another object was invalid", msg)
		}
	}
	return out, true
}
