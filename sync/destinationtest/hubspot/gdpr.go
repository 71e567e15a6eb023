package hubspot

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// gdprDelete answers POST /crm/v3/objects/contacts/gdpr-delete
// {objectId, idProperty?}: the contact is permanently deleted (with its
// list memberships) and 204 answered with no body. With idProperty email an
// address no contact has is blocklisted, still 204, as HubSpot documents;
// a record ID (or another unique property's value) that names no contact
// is 404 OBJECT_NOT_FOUND.
func (s *Server) gdprDelete(w http.ResponseWriter, r *http.Request, call *Call) {
	if !s.method(w, r, http.MethodPost) {
		return
	}
	b, ok := s.readJSON(w, r, call)
	if !ok {
		return
	}
	var body struct {
		ObjectID   *string `json:"objectId"`
		IDProperty *string `json:"idProperty"`
	}
	if err := decodeStrict(b, &body); err != nil {
		s.refuse(w, http.StatusBadRequest, "", err.Error())
		return
	}
	call.Inputs = 1
	if body.ObjectID == nil || *body.ObjectID == "" {
		s.refuse(w, http.StatusBadRequest, "", `gdpr-delete: "objectId" is required`)
		return
	}
	s.mu.Lock()
	badProp := body.IDProperty != nil && !s.uniqueProperty(*body.IDProperty) && *body.IDProperty != "hs_object_id"
	s.mu.Unlock()
	if badProp {
		s.refuse(w, http.StatusBadRequest, "", fmt.Sprintf("gdpr-delete: idProperty %s is not a unique contact property", *body.IDProperty))
		return
	}
	if s.faulted(w, r) {
		return
	}
	id, prop := *body.ObjectID, ""
	if body.IDProperty != nil && *body.IDProperty != "hs_object_id" {
		prop = *body.IDProperty
	}
	if !s.erase(prop, id) {
		s.writeError(w, http.StatusNotFound, apiError{Status: "error", Category: "OBJECT_NOT_FOUND",
			Message: fmt.Sprintf("resource not found: no contact has %s %s", cmpOr(prop, "hs_object_id"), id)})
		return
	}
	s.Kit.Wrote()
	w.WriteHeader(http.StatusNoContent)
}

// erase deletes the contact named by prop and id, or blocklists an email
// no contact has; false when nothing is named.
func (s *Server) erase(prop, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.findBy(prop, id)
	if c == nil {
		if prop == "email" {
			s.blocked[strings.ToLower(id)] = true
		}
		return prop == "email"
	}
	delete(s.contacts, c.id)
	if e := c.props["email"]; e != "" {
		delete(s.byEmail, e)
		s.blocked[e] = true
	}
	for _, l := range s.lists {
		delete(l.members, c.id)
		delete(l.joined, c.id)
	}
	s.erased = append(s.erased, c.id)
	return true
}

// findBy returns the contact whose property prop ("" for the record ID)
// holds v; s.mu is held.
func (s *Server) findBy(prop, v string) *contact {
	switch prop {
	case "":
		return s.contacts[v]
	case "email":
		return s.contacts[s.byEmail[strings.ToLower(v)]]
	}
	for _, c := range s.contacts {
		if c.props[prop] == v {
			return c
		}
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Erased lists the record IDs of the contacts GDPR-deleted so far, in
// order.
func (s *Server) Erased() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.erased)
}

// Blocked reports whether an email is on the blocklist a GDPR delete puts
// it on (HubSpot then refuses to recreate the contact).
func (s *Server) Blocked(email string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.blocked[strings.ToLower(email)]
}
