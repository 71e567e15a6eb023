package iterable

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// DateLayout is Iterable's date format ("2016-08-02 18:53:45 +00:00");
// times are sent in it, in UTC.
const DateLayout = "2006-01-02 15:04:05 -07:00"

// user is one element of bulkUpdate's users (OptionalApiUser) and of
// lists/subscribe's subscribers.
type user struct {
	Email        string         `json:"email,omitempty"`
	UserID       string         `json:"userId,omitempty"`
	DataFields   map[string]any `json:"dataFields,omitempty"`
	PreferUserID bool           `json:"preferUserId,omitempty"`
}

// unsubscriber is one element of lists/unsubscribe's subscribers.
type unsubscriber struct {
	Email  string `json:"email,omitempty"`
	UserID string `json:"userId,omitempty"`
}

// subscribeRequest is the body of POST /api/lists/subscribe.
type subscribeRequest struct {
	ListID      int64  `json:"listId"`
	Subscribers []user `json:"subscribers"`
}

// unsubscribeRequest is the body of POST /api/lists/unsubscribe.
type unsubscribeRequest struct {
	ListID             int64          `json:"listId"`
	Subscribers        []unsubscriber `json:"subscribers"`
	CampaignID         int64          `json:"campaignId,omitempty"`
	ChannelUnsubscribe bool           `json:"channelUnsubscribe,omitempty"`
}

// bulkResponse is UserBulkUpdateListResponse, the answer of bulkUpdate,
// lists/subscribe and lists/unsubscribe.
type bulkResponse struct {
	SuccessCount      int           `json:"successCount"`
	FailCount         int           `json:"failCount"`
	InvalidEmails     []string      `json:"invalidEmails"`  // deprecated: every failed email
	InvalidUserIDs    []string      `json:"invalidUserIds"` // deprecated: every failed userId
	FailedUpdates     failedUpdates `json:"failedUpdates"`
	FilteredOutFields []string      `json:"filteredOutFields"`
	CreatedFields     []string      `json:"createdFields"`
}

// failedUpdates is FailedUserUpdates: the users of a request that were not
// updated, by reason.
type failedUpdates struct {
	ConflictEmails     []string `json:"conflictEmails"`
	ConflictUserIDs    []string `json:"conflictUserIds"`
	ForgottenEmails    []string `json:"forgottenEmails"`
	ForgottenUserIDs   []string `json:"forgottenUserIds"`
	InvalidDataEmails  []string `json:"invalidDataEmails"`
	InvalidDataUserIDs []string `json:"invalidDataUserIds"`
	InvalidEmails      []string `json:"invalidEmails"`
	InvalidUserIDs     []string `json:"invalidUserIds"`
	NotFoundEmails     []string `json:"notFoundEmails"`
	NotFoundUserIDs    []string `json:"notFoundUserIds"`
}

// apiError is Iterable's error body (IterableApiResponse).
type apiError struct {
	Msg    string          `json:"msg"`
	Code   string          `json:"code"`
	Params json.RawMessage `json:"params"`
}

// mismatch is one entry of a RequestFieldsTypesMismatched error's
// params.validationErrors, keyed "<project>:::<field>".
type mismatch struct {
	ExpectedType   string `json:"expectedType"`
	OffendingValue string `json:"offendingValue"`
}

// endpoint names the three write calls, for messages and failure rules.
type endpoint string

const (
	bulkUpdate  endpoint = "/api/users/bulkUpdate"
	subscribe   endpoint = "/api/lists/subscribe"
	unsubscribe endpoint = "/api/lists/unsubscribe"
)

// reason is one failedUpdates category and what it means for a record.
type reason struct {
	emails, userIDs []string
	retryable       bool
	permanent       bool // refused for as long as the user stays forgotten
	confirmed       bool // the desired state holds despite the failure
	why             string
}

// reasons lists the categories of a response in order of precedence: a
// user named under two is reported with the first.
func reasons(f failedUpdates, ep endpoint) []reason {
	notFound := reason{emails: f.NotFoundEmails, userIDs: f.NotFoundUserIDs, retryable: true,
		why: "Iterable did not find the user (notFound); retried"}
	if ep == unsubscribe {
		// A user Iterable does not know is in no list: the removal holds.
		notFound = reason{emails: f.NotFoundEmails, userIDs: f.NotFoundUserIDs, confirmed: true}
	}
	return []reason{
		{emails: f.ForgottenEmails, userIDs: f.ForgottenUserIDs, permanent: true,
			why: "the user was GDPR-forgotten in Iterable (forgottenEmails/forgottenUserIds): Iterable refuses it and it is not retried; drop it from the audience, or unforget it in Iterable"},
		{emails: f.InvalidEmails, userIDs: f.InvalidUserIDs,
			why: "Iterable refused the identifier as malformed (invalidEmails/invalidUserIds)"},
		{emails: f.InvalidDataEmails, userIDs: f.InvalidDataUserIDs,
			why: "Iterable refused the user's dataFields as invalid (invalidDataEmails/invalidDataUserIds)"},
		{emails: f.ConflictEmails, userIDs: f.ConflictUserIDs,
			why: "the update conflicts with another Iterable user's email or userId (conflictEmails/conflictUserIds)"},
		notFound,
	}
}

// outcomes maps a 2xx answer to the results of the sent identifiers (ids
// index-aligned with the records sent). It fails when the answer counts
// more failures than it names: nothing can then be taken as confirmed.
func (d *Destination) outcomes(ep endpoint, resp *bulkResponse, ids []string) ([]destination.Result, error) {
	byID := make(map[string][]int, len(ids))
	for i, id := range ids {
		byID[norm(id)] = append(byID[norm(id)], i)
	}
	out := make([]destination.Result, len(ids))
	seen := make([]bool, len(ids))
	named := 0
	mark := func(list []string, r destination.Result) {
		for _, id := range list {
			for _, i := range byID[norm(id)] {
				if !seen[i] {
					seen[i], out[i] = true, r
					named++
				}
			}
		}
	}
	for _, rs := range reasons(resp.FailedUpdates, ep) {
		list := rs.emails
		if d.identifier == IdentifierUserID {
			list = rs.userIDs
		}
		res := destination.Result{}
		if !rs.confirmed {
			res = httpdest.RecordError(rs.retryable, "iterable %s: %s", ep, rs.why)
			res.Permanent = rs.permanent
		}
		mark(list, res)
	}
	legacy := resp.InvalidEmails
	if d.identifier == IdentifierUserID {
		legacy = resp.InvalidUserIDs
	}
	mark(legacy, httpdest.RecordError(false, "iterable %s: Iterable did not update the user (no reason given)", ep))
	if resp.FailCount > named {
		return nil, &destination.BatchError{Retryable: true, Status: http.StatusOK,
			Err: fmt.Errorf("iterable %s: the answer counts %d failed users but names only %d; nothing is taken as confirmed", ep, resp.FailCount, named)}
	}
	return out, nil
}

// norm compares identifiers the way Iterable does emails: case-insensitive.
func norm(id string) string { return strings.ToLower(strings.TrimSpace(id)) }

// dataFields renders a record's fields as Iterable dataFields: the
// identifier field is left out (it is sent at the top level), times in
// Iterable's date format, floats always with a decimal point so that a new
// field is typed double, nil as null (which clears the field).
func (d *Destination) dataFields(r destination.Record) (map[string]any, error) {
	fields, err := destination.JSONFields(r.Fields)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		if k == d.identifier || (k == "email" && v == nil) {
			continue
		}
		out[k] = wireValue(v)
	}
	return out, nil
}

// wireValue converts one field value for Iterable.
func wireValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(DateLayout)
	case float64:
		return floatNumber(x)
	case float32:
		return floatNumber(float64(x))
	}
	return v
}

// floatNumber writes a float so that it reads as a double: 120 → 120.0.
func floatNumber(f float64) json.Number {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if math.Abs(f) >= 1e21 {
		s = strconv.FormatFloat(f, 'e', -1, 64)
	}
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return json.Number(s)
}

// identify returns the user of a record with its identifier set.
func (d *Destination) identify(key string) user {
	if d.identifier == IdentifierUserID {
		return user{UserID: key, PreferUserID: true}
	}
	return user{Email: key}
}

// classify refines the default classification with Iterable's error codes:
// RateLimitExceeded is throttling whatever the status, a refused key on a
// 400 stops the run like a 401, and an unknown list stops it too (every
// request would fail the same way).
func classify(r *httpdest.Response) (error, bool) {
	if r.Status >= 200 && r.Status < 300 {
		return nil, false
	}
	var e apiError
	_ = json.Unmarshal(r.Body, &e)
	msg := fmt.Sprintf("%s %s: %d %s: %s", r.Method, r.URL, r.Status, http.StatusText(r.Status), httpdest.Snippet(r.Body))
	switch {
	case e.Code == "RateLimitExceeded":
		return &destination.BatchError{Err: fmt.Errorf("%s (rate limited)", msg), Retryable: true, Throttled: true,
			Status: r.Status, RetryAfter: httpdest.RetryAfter(r.Header, time.Now())}, true
	case r.Status < 500 && (e.Code == "BadApiKey" || e.Code == "BadAuthorizationHeader" || e.Code == "Unauthorized" || e.Code == "Forbidden"):
		return &destination.BatchError{Err: fmt.Errorf("%s (Iterable refused the API key or its permissions: check api_key and that it is a server-side key of the project; the run stops)", msg),
			Status: r.Status, Fatal: true}, true
	case strings.Contains(e.Msg, "error.lists.invalidListId"):
		return &destination.BatchError{Err: fmt.Errorf("%s (list_id is not a static list of this Iterable project; the run stops)", msg),
			Status: r.Status, Fatal: true}, true
	case e.Code == "BatchTooLarge" || r.Status == http.StatusRequestEntityTooLarge:
		return &destination.BatchError{Err: fmt.Errorf("%s (lower batch_size)", msg), Status: r.Status}, true
	}
	return nil, false
}

// mismatches reads the fields of a RequestFieldsTypesMismatched answer:
// field name → the mismatch. ok false when the answer is something else.
func mismatches(r *httpdest.Response) (map[string]mismatch, bool) {
	if r == nil || r.Status != http.StatusBadRequest {
		return nil, false
	}
	var e apiError
	if json.Unmarshal(r.Body, &e) != nil || e.Code != "RequestFieldsTypesMismatched" {
		return nil, false
	}
	var p struct {
		ValidationErrors map[string]mismatch `json:"validationErrors"`
	}
	_ = json.Unmarshal(e.Params, &p)
	out := make(map[string]mismatch, len(p.ValidationErrors))
	for k, m := range p.ValidationErrors {
		if i := strings.LastIndex(k, ":::"); i >= 0 {
			k = k[i+3:]
		}
		out[k] = m
	}
	return out, true
}

// offends reports whether a dataFields value is one Iterable refused for a
// field of the expected type.
func offends(v any, m mismatch) bool {
	if v == nil {
		return false
	}
	if m.OffendingValue != "" && fmt.Sprint(v) == m.OffendingValue {
		return true
	}
	return !compatible(kindOf(v), m.ExpectedType)
}

// kindOf is the Iterable type a wire value is inferred as.
func kindOf(v any) string {
	switch x := v.(type) {
	case bool:
		return "boolean"
	case int64, int, int32:
		return "long"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return "double"
		}
		return "long"
	case string:
		if _, err := time.Parse(DateLayout, x); err == nil {
			return "date"
		}
		return "string"
	}
	return "object"
}

// compatible reports whether a value inferred as kind can be stored in a
// field of Iterable type expected.
func compatible(kind, expected string) bool {
	switch expected {
	case "", kind:
		return true
	case "string", "keyword", "text":
		return kind == "string" || kind == "date"
	case "double", "float":
		return kind == "long" || kind == "double"
	}
	return false
}
