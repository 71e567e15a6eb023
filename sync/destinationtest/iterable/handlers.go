package iterable

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// route is one endpoint.
type route struct {
	method string
	write  bool
	serve  func(s *Server, w http.ResponseWriter, r *http.Request, body []byte)
}

var routes = map[string]route{
	"/api/users/bulkUpdate":  {http.MethodPost, true, (*Server).bulkUpdate},
	"/api/lists/subscribe":   {http.MethodPost, true, (*Server).subscribe},
	"/api/lists/unsubscribe": {http.MethodPost, true, (*Server).unsubscribe},
	"/api/users/getFields":   {http.MethodGet, false, (*Server).getFields},
	"/api/lists":             {http.MethodGet, false, (*Server).getLists},
}

// maxListBody bounds the list endpoints' bodies (Iterable documents none).
const maxListBody = 16 << 20

// ServeHTTP routes a request, checks method, key and content type, then
// serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Request()
	rt, ok := routes[r.URL.Path]
	if !ok && strings.HasPrefix(r.URL.Path, SubscriptionsPrefix) {
		rt, ok = subscriptionRoute, true
	}
	if !ok {
		s.violate(w, http.StatusNotFound, "NotFound", "no endpoint %s %s", r.Method, r.URL.Path)
		return
	}
	if r.Method != rt.method {
		s.violate(w, http.StatusMethodNotAllowed, "BadParams", "%s %s: the endpoint takes %s", r.Method, r.URL.Path, rt.method)
		return
	}
	if !s.authorized(w, r) {
		return
	}
	var body []byte
	if rt.write {
		var err error
		if body, err = s.readBody(w, r); err != nil {
			return
		}
	}
	rt.serve(s, w, r, body)
}

// authorized checks the Api-Key header: missing is a contract violation,
// a wrong or revoked key Iterable's 401.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	key := r.Header.Get("Api-Key")
	if key == "" {
		s.violate(w, http.StatusUnauthorized, "BadApiKey", "%s %s without an Api-Key header (Authorization: %q)", r.Method, r.URL.Path, redact(r.Header.Get("Authorization")))
		return false
	}
	s.mu.Lock()
	ok := key == s.APIKey && !s.revoked
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusUnauthorized, "BadApiKey", "Invalid API key", nil)
	}
	return ok
}

func redact(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// readBody checks the content type and reads the body within the limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		s.violate(w, http.StatusBadRequest, "BadJsonBody", "%s: content-type %q, want application/json", r.URL.Path, r.Header.Get("Content-Type"))
		return nil, errors.New("content type")
	}
	limit := int64(maxListBody)
	if r.URL.Path == "/api/users/bulkUpdate" {
		limit = MaxBody
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err // the client went away
	}
	if int64(len(b)) > limit {
		s.violate(w, http.StatusRequestEntityTooLarge, "BatchTooLarge", "%s: body larger than %d bytes", r.URL.Path, limit)
		return nil, errors.New("too large")
	}
	return b, nil
}

// statusWriter turns Kit.Violation's 400 into the status Iterable answers.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader writes status instead of 400.
func (w statusWriter) WriteHeader(code int) {
	if code == http.StatusBadRequest && w.status != 0 {
		code = w.status
	}
	w.ResponseWriter.WriteHeader(code)
}

// violate records a contract violation and answers it in Iterable's error
// shape with status.
func (s *Server) violate(w http.ResponseWriter, status int, code, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.Violation(statusWriter{w, status}, errorBody(code, msg, nil), "iterable: %s", msg)
}

// errorBody is IterableApiResponse.
func errorBody(code, msg string, params any) string {
	b, _ := json.Marshal(map[string]any{"msg": msg, "code": code, "params": params})
	return string(b)
}

// writeError answers an Iterable error that is no contract violation.
func writeError(w http.ResponseWriter, status int, code, msg string, params any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, errorBody(code, msg, params))
}

// writeJSON answers 200 with v.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// throttle is Iterable's 429.
func (s *Server) throttle(w http.ResponseWriter, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeError(w, http.StatusTooManyRequests, "RateLimitExceeded", "Rate limit exceeded", nil)
}

// decodeStrict decodes one JSON value, numbers as json.Number, refusing
// members the API reference does not list and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// userIn is OptionalApiUser (and Unsubscriber, without dataFields).
type userIn struct {
	Email              *string         `json:"email"`
	UserID             *string         `json:"userId"`
	DataFields         json.RawMessage `json:"dataFields"`
	PreferUserID       *bool           `json:"preferUserId"`
	MergeNestedObjects *bool           `json:"mergeNestedObjects"`
}

// unsubscriberIn is Unsubscriber.
type unsubscriberIn struct {
	Email  *string `json:"email"`
	UserID *string `json:"userId"`
}

// person is a parsed user of a request.
type person struct {
	email, userID string
	byUserID      bool
	prefer        bool
	fields        map[string]any // nil: no dataFields
}

// id is the store key of the person.
func (p person) id() string {
	if p.byUserID {
		return "uid:" + p.userID
	}
	return strings.ToLower(p.email)
}

// ident is the identifier as sent, for failedUpdates.
func (p person) ident() string {
	if p.byUserID {
		return p.userID
	}
	return p.email
}

// parsePerson checks one user: exactly one of email and userId, and
// dataFields an object.
func parsePerson(u userIn, at string) (person, error) {
	switch {
	case u.Email == nil && u.UserID == nil:
		return person{}, fmt.Errorf("%s has neither email nor userId", at)
	case u.Email != nil && u.UserID != nil:
		return person{}, fmt.Errorf("%s has both email and userId (give one, as the project identifies users)", at)
	}
	p := person{prefer: u.PreferUserID != nil && *u.PreferUserID}
	if u.Email != nil {
		p.email = *u.Email
	} else {
		p.userID, p.byUserID = *u.UserID, true
	}
	raw := bytes.TrimSpace(u.DataFields)
	if len(raw) == 0 || string(raw) == "null" {
		return p, nil
	}
	if raw[0] != '{' {
		return person{}, fmt.Errorf("%s.dataFields is not an object", at)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&p.fields); err != nil {
		return person{}, fmt.Errorf("%s.dataFields: %v", at, err)
	}
	return p, nil
}

var emailRe = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// malformed reports an identifier Iterable refuses (invalidEmails,
// invalidUserIds).
func (p person) malformed() bool {
	if p.byUserID {
		return p.userID == "" || strings.TrimSpace(p.userID) != p.userID
	}
	return !emailRe.MatchString(p.email)
}

// bulkUpdate serves POST /api/users/bulkUpdate.
func (s *Server) bulkUpdate(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Users           *[]userIn `json:"users"`
		CreateNewFields *bool     `json:"createNewFields"`
	}
	if err := decodeStrict(body, &req); err != nil {
		s.violate(w, http.StatusBadRequest, "BadJsonBody", "bulkUpdate: %v", err)
		return
	}
	s.logCall(r, body, req.Users)
	if req.Users == nil {
		s.violate(w, http.StatusBadRequest, "BadParams", "bulkUpdate: users is required")
		return
	}
	users := *req.Users
	switch {
	case len(users) == 0:
		s.violate(w, http.StatusBadRequest, "BadParams", "bulkUpdate: users is empty")
		return
	case len(users) > MaxUsers:
		s.violate(w, http.StatusBadRequest, "BatchTooLarge", "bulkUpdate: %d users, at most %d per request", len(users), MaxUsers)
		return
	}
	people, ok := s.parsePeople(w, "users", users)
	if !ok || !s.admit(w, r, true) {
		return
	}
	s.write(w, func() (any, *apiErr) {
		return s.applyUsers(people, bulkEndpoint, nil, false)
	})
}

// parsePeople parses every user of a request.
func (s *Server) parsePeople(w http.ResponseWriter, member string, users []userIn) ([]person, bool) {
	out := make([]person, len(users))
	for i, u := range users {
		p, err := parsePerson(u, fmt.Sprintf("%s[%d]", member, i))
		if err != nil {
			s.violate(w, http.StatusBadRequest, "BadParams", "%v", err)
			return nil, false
		}
		out[i] = p
	}
	return out, true
}

// admit applies the endpoint's rate limit, then the fault schedule; false
// when the request was answered.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, bulk bool) bool {
	if bulk {
		s.mu.Lock()
		ok := s.bulk.take(time.Now())
		s.mu.Unlock()
		if !ok {
			s.Count(func(st *statsT) { st.Throttled++ })
			s.throttle(w, "")
			return false
		}
	}
	return !s.Fault(w, r, s.throttle)
}

// apiErr is a whole-request error answer.
type apiErr struct {
	status    int
	code, msg string
	params    any
}

// write applies a write under the store's lock, counts it, calls the
// write hook and answers.
func (s *Server) write(w http.ResponseWriter, apply func() (any, *apiErr)) {
	s.mu.Lock()
	resp, e := apply()
	s.mu.Unlock()
	if e != nil {
		writeError(w, e.status, e.code, e.msg, e.params)
		return
	}
	s.Wrote()
	writeJSON(w, resp)
}

// logCall records a call to a known endpoint.
func (s *Server) logCall(r *http.Request, body []byte, users any) {
	n := 0
	switch u := users.(type) {
	case *[]userIn:
		if u != nil {
			n = len(*u)
		}
	case *[]unsubscriberIn:
		if u != nil {
			n = len(*u)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Users: n, Bytes: len(body)})
}

// listID reads the listId of subscribe and unsubscribe.
func (s *Server) listID(w http.ResponseWriter, what string, raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		s.violate(w, http.StatusBadRequest, "BadParams", "%s: listId is required", what)
		return 0, false
	}
	id, ok := positiveInt(raw)
	if !ok {
		s.violate(w, http.StatusBadRequest, "BadJsonBody", "%s: listId %s is not a positive integer", what, raw)
		return 0, false
	}
	return id, true
}

// positiveInt reads a JSON integer literal (a quoted number is refused).
func positiveInt(raw json.RawMessage) (int64, bool) {
	var n json.Number
	if len(raw) == 0 || raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	id, err := n.Int64()
	return id, err == nil && id > 0
}

// subscribe serves POST /api/lists/subscribe.
func (s *Server) subscribe(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		ListID                  json.RawMessage `json:"listId"`
		Subscribers             *[]userIn       `json:"subscribers"`
		UpdateExistingUsersOnly *bool           `json:"updateExistingUsersOnly"`
	}
	if err := decodeStrict(body, &req); err != nil {
		s.violate(w, http.StatusBadRequest, "BadJsonBody", "lists/subscribe: %v", err)
		return
	}
	s.logCall(r, body, req.Subscribers)
	id, ok := s.listID(w, "lists/subscribe", req.ListID)
	if !ok {
		return
	}
	if req.Subscribers == nil || len(*req.Subscribers) == 0 {
		s.violate(w, http.StatusBadRequest, "BadParams", "lists/subscribe: subscribers is required and not empty")
		return
	}
	people, ok := s.parsePeople(w, "subscribers", *req.Subscribers)
	if !ok || !s.admit(w, r, false) {
		return
	}
	existing := req.UpdateExistingUsersOnly != nil && *req.UpdateExistingUsersOnly
	s.write(w, func() (any, *apiErr) {
		l := s.lists[id]
		if l == nil {
			return nil, invalidList(id)
		}
		return s.applyUsers(people, subscribeEndpoint, l, existing)
	})
}

// unsubscribe serves POST /api/lists/unsubscribe.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		ListID             json.RawMessage   `json:"listId"`
		Subscribers        *[]unsubscriberIn `json:"subscribers"`
		CampaignID         json.RawMessage   `json:"campaignId"`
		ChannelUnsubscribe *bool             `json:"channelUnsubscribe"`
	}
	if err := decodeStrict(body, &req); err != nil {
		s.violate(w, http.StatusBadRequest, "BadJsonBody", "lists/unsubscribe: %v", err)
		return
	}
	s.logCall(r, body, req.Subscribers)
	id, ok := s.listID(w, "lists/unsubscribe", req.ListID)
	if !ok {
		return
	}
	if len(req.CampaignID) > 0 {
		if _, ok := positiveInt(req.CampaignID); !ok {
			s.violate(w, http.StatusBadRequest, "BadParams", "lists/unsubscribe: campaignId %s is not a positive integer", req.CampaignID)
			return
		}
	}
	if req.Subscribers == nil || len(*req.Subscribers) == 0 {
		s.violate(w, http.StatusBadRequest, "BadParams", "lists/unsubscribe: subscribers is required and not empty")
		return
	}
	users := make([]userIn, len(*req.Subscribers))
	for i, u := range *req.Subscribers {
		users[i] = userIn{Email: u.Email, UserID: u.UserID}
	}
	people, ok := s.parsePeople(w, "subscribers", users)
	if !ok || !s.admit(w, r, false) {
		return
	}
	channel := req.ChannelUnsubscribe != nil && *req.ChannelUnsubscribe
	s.write(w, func() (any, *apiErr) {
		l := s.lists[id]
		if l == nil {
			return nil, invalidList(id)
		}
		return s.removeUsers(people, l, channel), nil
	})
}

func invalidList(id int64) *apiErr {
	return &apiErr{status: http.StatusBadRequest, code: "BadParams", msg: fmt.Sprintf("error.lists.invalidListId: %d", id)}
}

// getFields serves GET /api/users/getFields.
func (s *Server) getFields(w http.ResponseWriter, r *http.Request, _ []byte) {
	s.logCall(r, nil, nil)
	s.mu.Lock()
	ok := s.fields.take(time.Now())
	fields := map[string]string{"email": "string", "userId": "string"}
	for k, v := range s.schema {
		fields[k] = v
	}
	s.mu.Unlock()
	if !ok {
		s.Count(func(st *statsT) { st.Throttled++ })
		s.throttle(w, "")
		return
	}
	if s.Fault(w, r, s.throttle) {
		return
	}
	writeJSON(w, map[string]any{"fields": fields})
}

// getLists serves GET /api/lists.
func (s *Server) getLists(w http.ResponseWriter, r *http.Request, _ []byte) {
	s.logCall(r, nil, nil)
	s.mu.Lock()
	var out []map[string]any
	for id, l := range s.lists {
		out = append(out, map[string]any{"id": id, "name": l.name, "listType": "Standard"})
	}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"lists": out})
}
