package braze

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// Braze's messages.
const (
	msgNoData      = "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."
	msgTooMany     = "Max Input Length Exceeded"
	msgNoIdentity  = "'external_id' or 'braze_id' or 'user_alias' or 'email' or 'phone' is required"
	msgBadEmail    = "Invalid email address"
	msgBadObject   = "Invalid attributes object"
	msgInjected    = "Invalid custom attribute value (injected)"
	msgInjectedTmp = "Temporary processing error (injected; Braze has no retryable per-object error)"
)

// trackMembers are the members a /users/track body may have.
var trackMembers = []string{"attributes", "events", "purchases"}

// emailStates are the values of the email_subscribe attribute.
var emailStates = []any{"opted_in", "subscribed", "unsubscribed"}

// objectError is one entry of a response's errors.
type objectError struct {
	Type       string `json:"type"`
	InputArray string `json:"input_array"`
	Index      int    `json:"index"`
}

// attrObject is a valid attributes object.
type attrObject struct {
	by, id     string // "external_id" or "email", and its value
	updateOnly bool
	values     map[string]any // attributes; nil values remove them
}

// serveTrack handles POST /users/track: attributes objects only (the
// server does not model events and purchases).
func (s *Server) serveTrack(w http.ResponseWriter, r *http.Request) {
	body, ok := s.read(w, r)
	if !ok {
		return
	}
	raws, ok := s.trackObjects(w, body)
	if !ok || s.admit(w, r, TrackPath) {
		return
	}
	var errs []objectError
	var valid []attrObject
	for i, raw := range raws {
		o, bad := s.checkObject(raw)
		if bad == "" {
			if reject, retry := s.RecordFault(); reject {
				bad = msgInjected
			} else if retry {
				bad = msgInjectedTmp
			}
		}
		if bad != "" {
			errs = append(errs, objectError{Type: bad, InputArray: "attributes", Index: i})
			continue
		}
		valid = append(valid, o)
	}
	s.applyObjects(valid)
	if len(valid) > 0 {
		s.mu.Lock()
		s.log = append(s.log, Write{Path: TrackPath, Bytes: len(body), Objects: len(raws)})
		s.mu.Unlock()
		s.Wrote()
	}
	if len(valid) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": msgNoData, "errors": errs})
		return
	}
	resp := map[string]any{"message": "success", "attributes_processed": len(valid)}
	if len(errs) > 0 {
		resp["errors"] = errs
	}
	writeJSON(w, http.StatusCreated, resp)
}

// trackObjects checks the body's shape and returns its attributes
// objects; false when it answered.
func (s *Server) trackObjects(w http.ResponseWriter, body []byte) ([]json.RawMessage, bool) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		s.refuse(w, http.StatusBadRequest, "Bad syntax", "/users/track: body is not a JSON object")
		return nil, false
	}
	for k, v := range top {
		switch {
		case !slices.Contains(trackMembers, k):
			s.refuse(w, http.StatusBadRequest, "Bad syntax", "/users/track: unknown member %q", k)
			return nil, false
		case k != "attributes" && string(v) != "null" && string(v) != "[]":
			s.refuse(w, http.StatusBadRequest, "Bad syntax", "/users/track: %s are not modelled by this contract server", k)
			return nil, false
		}
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(top["attributes"], &raws); err != nil || len(raws) == 0 {
		s.refuse(w, http.StatusBadRequest, msgNoData, "/users/track: no attributes array with objects")
		return nil, false
	}
	if len(raws) > MaxAttributes {
		s.refuse(w, http.StatusBadRequest, msgTooMany, "/users/track: %d attributes objects, at most %d", len(raws), MaxAttributes)
		return nil, false
	}
	return raws, true
}

// checkObject validates one attributes object; bad is the error type
// Braze reports for it ("" when valid). Objects no correct client sends
// (no identifier, identifiers the server does not model) are also
// recorded as violations.
func (s *Server) checkObject(raw json.RawMessage) (o attrObject, bad string) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		s.note("/users/track: an attributes entry is not an object: %.80s", raw)
		return o, msgBadObject
	}
	for _, k := range []string{"braze_id", "user_alias", "push_token_import"} {
		if _, ok := m[k]; ok {
			s.note("/users/track: %s is not modelled by this contract server", k)
			return o, msgBadObject
		}
	}
	if v, ok := m["_update_existing_only"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			s.note("/users/track: _update_existing_only is %v, want a boolean", v)
			return o, msgBadObject
		}
		o.updateOnly = b
		delete(m, "_update_existing_only")
	}
	if k, ok := m[""]; ok {
		s.note("/users/track: an attribute with an empty name (%v)", k)
		return o, msgBadObject
	}
	ext, hasExt := m["external_id"]
	email, _ := m["email"].(string)
	switch {
	case hasExt:
		id, _ := ext.(string)
		if id == "" {
			s.note("/users/track: external_id is %v, want a non-empty string", ext)
			return o, msgBadObject
		}
		o.by, o.id = "external_id", id
		delete(m, "external_id")
	case email != "":
		o.by, o.id = "email", email
	default:
		s.note("/users/track: an attributes object without an identifier")
		return o, msgNoIdentity
	}
	if v, ok := m["email_subscribe"]; ok && !slices.Contains(emailStates, v) {
		s.note("/users/track: email_subscribe is %v, want one of %v", v, emailStates)
		return o, msgBadObject
	}
	if v, ok := m["email"]; ok && v != nil && !validEmail(v) {
		return o, msgBadEmail
	}
	o.values = m
	return o, ""
}

// validEmail is a rough check of an email address.
func validEmail(v any) bool {
	s, ok := v.(string)
	at := strings.LastIndexByte(s, '@')
	return ok && at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n")
}

// applyObjects writes valid objects to the store: an external_id names
// one profile (created when new); an email the latest profile with it (one
// with an external_id first), or a new email-only profile.
func (s *Server) applyObjects(objs []attrObject) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range objs {
		var u *user
		if o.by == "external_id" {
			u = s.byExternal[o.id]
		} else {
			u = s.byEmailLocked(o.id)
		}
		if u == nil {
			if o.updateOnly {
				continue
			}
			ext := ""
			if o.by == "external_id" {
				ext = o.id
			}
			u = s.newUserLocked(ext)
		}
		for k, v := range o.values {
			if v == nil {
				delete(u.attrs, k)
			} else {
				u.attrs[k] = v
			}
		}
		s.seq++
		u.updated = s.seq
	}
}
