package intercom

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"
)

// contactMembers are the members of the Create and Update Contact Request
// Payloads, with the JSON types each takes ("null" when it may be null).
var contactMembers = map[string][]string{
	"role":                     {"string"},
	"external_id":              {"string"},
	"email":                    {"string"},
	"phone":                    {"string", "null"},
	"name":                     {"string", "null"},
	"avatar":                   {"string", "null"},
	"signed_up_at":             {"integer", "null"},
	"last_seen_at":             {"integer", "null"},
	"owner_id":                 {"integer", "string", "null"},
	"unsubscribed_from_emails": {"boolean", "null"},
	"email_verified":           {"boolean", "null"},
	"custom_attributes":        {"object", "null"},
}

// contactRequest is a decoded create or update body.
type contactRequest struct {
	set    map[string]any // standard members given; nil values clear
	custom map[string]any // custom_attributes given; nil values clear
}

// problem is an answer other than 200: a violation (the request breaks
// the schema) or Intercom's refusal of the data.
type problem struct {
	status        int
	code, message string
	violation     bool
}

// decodeContact checks a body against the request schema: an object of
// known members only, custom_attributes an object of scalars. Values of
// the wrong JSON type are Intercom's type_mismatch, not violations.
func decodeContact(body []byte, create bool) (*contactRequest, *problem) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, &problem{http.StatusBadRequest, "parameter_invalid", "the body must be a JSON object", true}
	}
	req := &contactRequest{set: map[string]any{}}
	for k, v := range raw {
		types, ok := contactMembers[k]
		if !ok {
			return nil, &problem{http.StatusBadRequest, "parameter_invalid", fmt.Sprintf("unknown member %q", k), true}
		}
		var val any
		_ = json.Unmarshal(v, &val)
		if k == "custom_attributes" {
			if err := req.setCustom(val); err != nil {
				return nil, err
			}
			continue
		}
		if !hasType(val, types) {
			return nil, &problem{http.StatusBadRequest, "type_mismatch", fmt.Sprintf("%s must be %s", k, strings.Join(types, " or ")), false}
		}
		if k == "role" && val != "user" && val != "lead" {
			return nil, &problem{http.StatusBadRequest, "parameter_invalid", fmt.Sprintf("role %q is not user or lead", val), false}
		}
		req.set[k] = val
	}
	if create && req.set["email"] == nil && req.set["external_id"] == nil && req.set["role"] == nil {
		return nil, &problem{http.StatusBadRequest, "parameter_not_found", "a contact needs an email, an external_id or a role", true}
	}
	return req, nil
}

// setCustom decodes custom_attributes: an object whose values are scalars.
func (req *contactRequest) setCustom(val any) *problem {
	if val == nil {
		return nil // null: no change
	}
	m, ok := val.(map[string]any)
	if !ok {
		return &problem{http.StatusBadRequest, "parameter_invalid", "custom_attributes must be an object", true}
	}
	for k, v := range m {
		switch v.(type) {
		case map[string]any, []any:
			return &problem{http.StatusBadRequest, "parameter_invalid", fmt.Sprintf("custom attribute %q must be a scalar", k), true}
		}
	}
	req.custom = m
	return nil
}

// hasType reports whether a decoded JSON value is of one of the types.
func hasType(v any, types []string) bool {
	for _, t := range types {
		switch x := v.(type) {
		case nil:
			if t == "null" {
				return true
			}
		case string:
			if t == "string" {
				return true
			}
		case bool:
			if t == "boolean" {
				return true
			}
		case float64:
			if t == "number" || (t == "integer" && x == math.Trunc(x) && !math.IsInf(x, 0)) {
				return true
			}
		case map[string]any:
			if t == "object" {
				return true
			}
		}
	}
	return false
}

// checkData refuses what Intercom refuses of a valid request's data:
// unknown or archived custom attributes, values of the wrong data type,
// and (for users) an email or external_id another user has. s.mu is held.
func (s *Server) checkData(req *contactRequest, role string, self *contact) *problem {
	for name, v := range req.custom {
		a := s.customAttribute(name)
		if a == nil {
			return &problem{http.StatusBadRequest, "parameter_invalid", fmt.Sprintf("Custom attribute '%s' does not exist", name), false}
		}
		if v != nil && !hasType(v, dataTypes[a.DataType]) {
			return &problem{http.StatusBadRequest, "type_mismatch",
				fmt.Sprintf("Custom attribute '%s' is a %s attribute", name, a.DataType), false}
		}
	}
	if role != "user" {
		return nil
	}
	for _, k := range []string{"email", "external_id"} {
		v, _ := req.set[k].(string)
		if v == "" {
			continue
		}
		if other := s.findUser(k, v); other != nil && other != self {
			return &problem{http.StatusConflict, "conflict",
				"A contact matching those details already exists with id=" + other.id, false}
		}
	}
	return nil
}

// dataTypes maps a data attribute's type to the JSON types it takes
// (dates as Unix seconds).
var dataTypes = map[string][]string{
	"string": {"string"}, "integer": {"integer"}, "float": {"number"}, "boolean": {"boolean"}, "date": {"integer"},
}

// findUser returns the user whose attribute k equals v (emails case
// insensitively). s.mu is held.
func (s *Server) findUser(k, v string) *contact {
	for _, id := range s.order {
		c := s.contacts[id]
		if got, _ := c.attrs[k].(string); c.role == "user" && got != "" && (got == v || (k == "email" && strings.EqualFold(got, v))) {
			return c
		}
	}
	return nil
}

// answer writes a problem: a violation is recorded, a refusal answered.
func (s *Server) answer(w http.ResponseWriter, what string, p *problem) {
	if p.violation {
		s.violate(w, p.status, p.code, p.message, "%s: %s", what, p.message)
		return
	}
	writeError(w, p.status, p.code, p.message)
}

// apply sets the request's members on a contact (nil clears).
func (c *contact) apply(req *contactRequest, now time.Time) {
	for k, v := range req.set {
		switch {
		case k == "role":
			c.role = v.(string)
		case v == nil:
			delete(c.attrs, k)
		default:
			c.attrs[k] = v
		}
	}
	for k, v := range req.custom {
		if v == nil {
			delete(c.custom, k)
		} else {
			c.custom[k] = v
		}
	}
	c.updated = now
}

// createContact is POST /contacts.
func (s *Server) createContact(w http.ResponseWriter, r *http.Request, _ []string, body []byte) {
	req, p := decodeContact(body, true)
	if p != nil && p.violation {
		s.answer(w, "create contact", p)
		return
	}
	if s.fault(w, r) || s.recordFault(w) {
		return
	}
	if p != nil {
		s.answer(w, "create contact", p)
		return
	}
	role, _ := req.set["role"].(string)
	if role == "" {
		role = "user"
	}
	s.mu.Lock()
	if p := s.checkData(req, role, nil); p != nil {
		s.mu.Unlock()
		s.answer(w, "create contact", p)
		return
	}
	now := time.Now()
	c := s.newContact(role, now)
	c.apply(req, now)
	out := s.contactJSON(c)
	s.mu.Unlock()
	s.Wrote()
	writeJSON(w, out)
}

// updateContact is PUT /contacts/{id}.
func (s *Server) updateContact(w http.ResponseWriter, r *http.Request, args []string, body []byte) {
	req, p := decodeContact(body, false)
	if p != nil && p.violation {
		s.answer(w, "update contact", p)
		return
	}
	if s.fault(w, r) || s.recordFault(w) {
		return
	}
	if p != nil {
		s.answer(w, "update contact", p)
		return
	}
	s.mu.Lock()
	c := s.contacts[args[0]]
	if c == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "not_found", "User Not Found")
		return
	}
	role := c.role
	if r, ok := req.set["role"].(string); ok {
		role = r
	}
	if p := s.checkData(req, role, c); p != nil {
		s.mu.Unlock()
		s.answer(w, "update contact", p)
		return
	}
	c.apply(req, time.Now())
	out := s.contactJSON(c)
	s.mu.Unlock()
	s.Wrote()
	writeJSON(w, out)
}

// getContact is GET /contacts/{id}.
func (s *Server) getContact(w http.ResponseWriter, r *http.Request, args []string, _ []byte) {
	if s.fault(w, r) {
		return
	}
	s.mu.Lock()
	c := s.contacts[args[0]]
	var out map[string]any
	if c != nil {
		out = s.contactJSON(c)
	}
	s.mu.Unlock()
	if c == nil {
		writeError(w, http.StatusNotFound, "not_found", "User Not Found")
		return
	}
	writeJSON(w, out)
}

// tagContact is POST /contacts/{id}/tags with {"id": <tag id>}.
func (s *Server) tagContact(w http.ResponseWriter, r *http.Request, args []string, body []byte) {
	var raw map[string]any
	_ = json.Unmarshal(body, &raw)
	tag, msg := tagID(raw)
	if msg != "" {
		s.violate(w, http.StatusBadRequest, "parameter_invalid", msg, "tag contact: %s", msg)
		return
	}
	if s.fault(w, r) || s.recordFault(w) {
		return
	}
	s.tagging(w, args[0], tag, true)
}

// tagID reads the body {"id": "<tag id>"} (the examples send numbers too).
func tagID(raw map[string]any) (string, string) {
	for k := range raw {
		if k != "id" {
			return "", fmt.Sprintf("unknown member %q", k)
		}
	}
	switch v := raw["id"].(type) {
	case string:
		if v != "" {
			return v, ""
		}
	case float64:
		return fmt.Sprint(int64(v)), ""
	}
	return "", "id (the tag's ID) is required"
}

// untagContact is DELETE /contacts/{id}/tags/{tag_id}.
func (s *Server) untagContact(w http.ResponseWriter, r *http.Request, args []string, _ []byte) {
	if s.fault(w, r) || s.recordFault(w) {
		return
	}
	s.tagging(w, args[0], args[1], false)
}

// tagging applies or removes a tag and answers the tag object.
func (s *Server) tagging(w http.ResponseWriter, id, tag string, on bool) {
	s.mu.Lock()
	c, name := s.contacts[id], s.tags[tag]
	switch {
	case c == nil:
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "not_found", "User Not Found")
		return
	case name == "":
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "not_found", "Resource Not Found")
		return
	}
	applied, had := c.tags[tag]
	if on && !had {
		applied = time.Now().Unix()
		c.tags[tag] = applied
	}
	if !on {
		delete(c.tags, tag)
	}
	s.mu.Unlock()
	s.Wrote()
	writeJSON(w, map[string]any{"type": "tag", "id": tag, "name": name, "applied_at": applied,
		"applied_by": map[string]string{"type": "admin", "id": "991267"}})
}

// contactJSON renders a contact as the contact object (the members the
// server keeps). s.mu is held.
func (s *Server) contactJSON(c *contact) map[string]any {
	out := map[string]any{"type": "contact", "id": c.id, "workspace_id": "cdptest", "role": c.role,
		"created_at": c.created.Unix(), "updated_at": c.updated.Unix(), "has_hard_bounced": false,
		"marked_email_as_spam": false, "unsubscribed_from_emails": false}
	for k := range contactMembers {
		if k != "custom_attributes" && k != "role" {
			out[k] = nil
		}
	}
	for k, v := range c.attrs {
		out[k] = v
	}
	custom := map[string]any{}
	for k, v := range c.custom {
		custom[k] = v
	}
	out["custom_attributes"] = custom
	tags := make([]map[string]string, 0, len(c.tags))
	for t := range c.tags {
		tags = append(tags, map[string]string{"type": "tag", "id": t, "url": "/tags/" + t})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i]["id"] < tags[j]["id"] })
	out["tags"] = map[string]any{"type": "list", "data": tags, "url": "/contacts/" + c.id + "/tags",
		"total_count": len(tags), "has_more": false}
	return out
}
