package iterable

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// statsT is the kit's counters.
type statsT = destinationtest.VendorStats

// endpointKind tells the write endpoints that take users apart.
type endpointKind int

const (
	bulkEndpoint endpointKind = iota
	subscribeEndpoint
)

// Failure categories of failedUpdates.
const (
	catConflict    = "conflict"
	catForgotten   = "forgotten"
	catInvalidData = "invalidData"
	catInvalid     = "invalid"
	catNotFound    = "notFound"
)

// failedOut is FailedUserUpdates.
type failedOut struct {
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

// bulkOut is UserBulkUpdateListResponse.
type bulkOut struct {
	SuccessCount      int       `json:"successCount"`
	FailCount         int       `json:"failCount"`
	InvalidEmails     []string  `json:"invalidEmails"`
	InvalidUserIDs    []string  `json:"invalidUserIds"`
	FailedUpdates     failedOut `json:"failedUpdates"`
	FilteredOutFields []string  `json:"filteredOutFields"`
	CreatedFields     []string  `json:"createdFields"`
}

// newBulkOut has every list empty, as Iterable answers.
func newBulkOut() *bulkOut {
	e := func() []string { return []string{} }
	return &bulkOut{InvalidEmails: e(), InvalidUserIDs: e(), FilteredOutFields: e(), CreatedFields: e(),
		FailedUpdates: failedOut{ConflictEmails: e(), ConflictUserIDs: e(), ForgottenEmails: e(), ForgottenUserIDs: e(),
			InvalidDataEmails: e(), InvalidDataUserIDs: e(), InvalidEmails: e(), InvalidUserIDs: e(),
			NotFoundEmails: e(), NotFoundUserIDs: e()}}
}

// fail names a person under a category (and the deprecated top-level lists).
func (b *bulkOut) fail(cat string, p person) {
	f := &b.FailedUpdates
	lists := map[string][2]*[]string{
		catConflict:    {&f.ConflictEmails, &f.ConflictUserIDs},
		catForgotten:   {&f.ForgottenEmails, &f.ForgottenUserIDs},
		catInvalidData: {&f.InvalidDataEmails, &f.InvalidDataUserIDs},
		catInvalid:     {&f.InvalidEmails, &f.InvalidUserIDs},
		catNotFound:    {&f.NotFoundEmails, &f.NotFoundUserIDs},
	}[cat]
	which, legacy := lists[0], &b.InvalidEmails
	if p.byUserID {
		which, legacy = lists[1], &b.InvalidUserIDs
	}
	*which = append(*which, p.ident())
	*legacy = append(*legacy, p.ident())
	b.FailCount++
}

// refuse is the per-user failure of a write, if any: a malformed
// identifier, a forgotten user, or an injected record fault (a rejection is
// invalid data; the transient draw is invalid data on bulkUpdate, which has
// no transient category, and notFound on subscribe). s.mu is held.
func (s *Server) refuse(p person, ep endpointKind) string {
	switch {
	case p.malformed():
		return catInvalid
	case s.forgotten[p.id()]:
		return catForgotten
	}
	reject, retry := s.RecordFault()
	switch {
	case reject:
		return catInvalidData
	case retry && ep == subscribeEndpoint:
		return catNotFound
	case retry:
		return catInvalidData
	}
	return ""
}

// applyUsers upserts people (bulkUpdate, subscribe) and, with a list,
// subscribes them. Values that do not fit the project's field types fail
// the whole request, as Iterable does. s.mu is held.
func (s *Server) applyUsers(people []person, ep endpointKind, l *list, existingOnly bool) (any, *apiErr) {
	if e := s.checkTypes(people); e != nil {
		return nil, e
	}
	out := newBulkOut()
	for _, p := range people {
		if cat := s.refuse(p, ep); cat != "" {
			out.fail(cat, p)
			continue
		}
		prof := s.users[p.id()]
		if prof == nil {
			if existingOnly || (p.byUserID && !p.prefer && ep == bulkEndpoint) {
				out.fail(catNotFound, p)
				continue
			}
			prof = &profile{email: p.email, userID: p.userID, fields: map[string]any{}}
			s.users[p.id()] = prof
		}
		out.CreatedFields = append(out.CreatedFields, s.setFields(prof, p.fields)...)
		if l != nil {
			l.members[p.id()] = true
		}
		out.SuccessCount++
	}
	return out, nil
}

// removeUsers unsubscribes people from a list. s.mu is held.
func (s *Server) removeUsers(people []person, l *list, channel bool) *bulkOut {
	out := newBulkOut()
	for _, p := range people {
		cat := s.refuse(p, bulkEndpoint)
		if cat == catInvalidData {
			cat = catInvalid // unsubscribe carries no dataFields
		}
		if cat == "" && s.users[p.id()] == nil {
			cat = catNotFound
		}
		if cat != "" {
			out.fail(cat, p)
			continue
		}
		delete(l.members, p.id())
		if channel {
			s.users[p.id()].channelOff = true
		}
		out.SuccessCount++
	}
	return out
}

// setFields writes dataFields on a profile: null clears a field, numbers
// are held as float64; a field seen for the first time gets its type.
// It returns the fields created. s.mu is held.
func (s *Server) setFields(prof *profile, fields map[string]any) []string {
	var created []string
	for k, v := range fields {
		if v == nil {
			delete(prof.fields, k)
			continue
		}
		if k == "email" && prof.userID != "" {
			if e, ok := v.(string); ok {
				prof.email = e
			}
		}
		if _, ok := s.schema[k]; !ok {
			s.schema[k] = kindOf(v)
			created = append(created, k)
		}
		if n, ok := v.(json.Number); ok {
			f, _ := n.Float64()
			v = f
		}
		prof.fields[k] = v
	}
	return created
}

// mismatchOut is one entry of params.validationErrors.
type mismatchOut struct {
	IncomingTypes  []string `json:"incomingTypes"`
	ExpectedType   string   `json:"expectedType"`
	Category       string   `json:"category"`
	OffendingValue string   `json:"offendingValue"`
	Type           string   `json:"_type"`
}

// checkTypes finds values whose type differs from the field's (the
// project's, or the first value of the request for a new field): Iterable
// then refuses the whole request with RequestFieldsTypesMismatched.
func (s *Server) checkTypes(people []person) *apiErr {
	local := map[string]string{}
	errs := map[string]mismatchOut{}
	for _, p := range people {
		for k, v := range p.fields {
			if v == nil {
				continue
			}
			kind := kindOf(v)
			want := s.schema[k]
			if want == "" {
				want = local[k]
			}
			if want == "" {
				local[k] = kind
				continue
			}
			key := fmt.Sprintf("%d:::%s", ProjectID, k)
			if _, seen := errs[key]; !compatible(kind, want) && !seen {
				errs[key] = mismatchOut{IncomingTypes: []string{kind}, ExpectedType: want, Category: "user",
					OffendingValue: fmt.Sprint(v), Type: "UnexpectedType"}
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &apiErr{status: http.StatusBadRequest, code: "RequestFieldsTypesMismatched",
		msg:    fmt.Sprintf("Project %d: The request does not have the same data types as the existing schema", ProjectID),
		params: map[string]any{"validationErrors": errs}}
}

var dateRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}( [+-]\d{2}:\d{2})?$`)

// kindOf is the type Iterable infers for a value decoded with UseNumber.
func kindOf(v any) string {
	switch x := v.(type) {
	case bool:
		return "boolean"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return "double"
		}
		return "long"
	case string:
		if dateRe.MatchString(x) {
			return "date"
		}
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

// compatible reports whether a value of kind fits a field of type want.
func compatible(kind, want string) bool {
	switch want {
	case kind:
		return true
	case "string":
		return kind == "date"
	case "double":
		return kind == "long"
	}
	return false
}
