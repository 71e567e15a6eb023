package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// input is one contact of a batch upsert or update.
type input struct {
	IDProperty         string            `json:"idProperty,omitempty"`
	ID                 string            `json:"id"`
	Properties         map[string]string `json:"properties"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId"`
}

// batchInput is the body of a batch write.
type batchInput struct {
	Inputs []input `json:"inputs"`
}

// readInput is the body of POST /crm/v3/objects/contacts/batch/read.
type readInput struct {
	Inputs                []readID `json:"inputs"`
	IDProperty            string   `json:"idProperty,omitempty"`
	Properties            []string `json:"properties"`
	PropertiesWithHistory []string `json:"propertiesWithHistory"`
}

type readID struct {
	ID string `json:"id"`
}

// batchResponse is a batch endpoint's 200 or 207 answer.
type batchResponse struct {
	Status    string     `json:"status"`
	Results   []object   `json:"results"`
	Errors    []apiError `json:"errors"`
	NumErrors int        `json:"numErrors"`
}

// object is one contact of a batch answer. Property values may be null.
type object struct {
	ID                 string         `json:"id"`
	Properties         map[string]any `json:"properties"`
	ObjectWriteTraceID string         `json:"objectWriteTraceId"`
}

// property returns a property's value as text ("" when absent or null).
func (o object) property(name string) string {
	if s, ok := o.Properties[name].(string); ok {
		return s
	}
	return ""
}

// apiError is HubSpot's error: a whole answer's body, or one entry of a
// batch's errors. Every member is optional; context values are string
// arrays in HubSpot's schema but parsed leniently.
type apiError struct {
	Status      string                     `json:"status"`
	Category    string                     `json:"category"`
	SubCategory any                        `json:"subCategory"`
	Message     string                     `json:"message"`
	Context     map[string]json.RawMessage `json:"context"`
	Errors      []struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"errors"`
}

// contextValues returns the strings of one context member.
func (e apiError) contextValues(key string) []string {
	raw, ok := e.Context[key]
	if !ok {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	return nil
}

// retryable reports whether a per-contact error is transient: a lock
// (HubSpot's 423), a rate limit, a conflict of concurrent writes or an
// internal error.
func (e apiError) retryable() bool {
	switch strings.ToUpper(e.Category) {
	case "LOCKED", "RATE_LIMITS", "RATE_LIMIT", "CONFLICT", "INTERNAL_ERROR", "TIMEOUT", "SERVICE_UNAVAILABLE":
		return true
	}
	return false
}

// text renders the error for a message: category, message and the codes of
// its details.
func (e apiError) text() string {
	msg := strings.TrimSpace(e.Message)
	if msg == "" {
		msg = "no message"
	}
	var codes []string
	for _, d := range e.Errors {
		if d.Code != "" && !strings.Contains(msg, d.Code) {
			codes = append(codes, d.Code)
		}
	}
	if len(codes) > 0 {
		msg += " (" + strings.Join(codes, ", ") + ")"
	}
	if e.Category != "" {
		return e.Category + ": " + msg
	}
	return msg
}

// membershipResponse is the answer of add-and-remove. HubSpot's schema
// spells the added IDs recordsIdsAdded; recordIdsAdded is accepted too.
type membershipResponse struct {
	Missing  []string `json:"recordIdsMissing"`
	Removed  []string `json:"recordIdsRemoved"`
	Added    []string `json:"recordsIdsAdded"`
	AddedAlt []string `json:"recordIdsAdded"`
}

// classify refines the default classification for HubSpot's 429: when it
// gives no Retry-After, a SECONDLY throttle waits a second and a
// TEN_SECONDLY_ROLLING one the window in X-HubSpot-RateLimit-Interval-
// Milliseconds (at most 10 s). A DAILY one stays fatal.
func classify(r *httpdest.Response) (error, bool) {
	if r.Status != http.StatusTooManyRequests {
		return nil, false
	}
	err := httpdest.Classify(r)
	var be *destination.BatchError
	if errors.As(err, &be) && be.Retryable && be.RetryAfter == 0 {
		be.RetryAfter = throttleWait(r)
	}
	return err, true
}

// throttleWait is how long a HubSpot 429 asks to wait.
func throttleWait(r *httpdest.Response) time.Duration {
	var body struct {
		PolicyName string `json:"policyName"`
	}
	_ = json.Unmarshal(r.Body, &body)
	if body.PolicyName == "SECONDLY" {
		return time.Second
	}
	if rem := r.Header.Get("X-HubSpot-RateLimit-Remaining"); rem != "" && rem != "0" {
		return 0
	}
	ms, err := strconv.Atoi(r.Header.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))
	if err != nil || ms <= 0 {
		return 0
	}
	return min(time.Duration(ms)*time.Millisecond, 10*time.Second)
}

// formatValue renders a field value as HubSpot's property text: numbers in
// plain decimal, booleans true or false, times as ISO 8601 in UTC with
// milliseconds, nil as "" (which clears the property).
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case []byte:
		return string(x)
	case json.Number:
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}
