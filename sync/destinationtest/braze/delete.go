package braze

import (
	"encoding/json"
	"net/http"
	"slices"
)

// DeletePath is the endpoint that permanently deletes user profiles.
const DeletePath = "/users/delete"

// MaxDeleteIDs is the most identifiers one /users/delete request may name.
const MaxDeleteIDs = 50

// deleteMembers are the identifier arrays a /users/delete body may have;
// exactly one of them per request.
var deleteMembers = []string{"external_ids", "user_aliases", "braze_ids", "email_addresses", "phone_numbers"}

// prioritizations are the values of an email identifier's prioritization.
var prioritizations = []string{"identified", "unidentified", "most_recently_updated"}

// emailIdentifier is one entry of email_addresses.
type emailIdentifier struct {
	Email          string   `json:"email"`
	Prioritization []string `json:"prioritization"`
}

// serveDelete handles POST /users/delete: {"external_ids": […]} deletes the
// profiles with those external IDs; {"email_addresses": [{"email",
// "prioritization"}]} deletes the one profile the prioritization picks
// among those with the email (none when it leaves more than one). It
// answers 201 {"deleted": N, "message": "success"}, N the profiles deleted;
// identifiers that name no profile are skipped.
func (s *Server) serveDelete(w http.ResponseWriter, r *http.Request) {
	body, ok := s.read(w, r)
	if !ok {
		return
	}
	ids, emails, ok := s.deleteIdentifiers(w, body)
	if !ok || s.admit(w, r, DeletePath) {
		return
	}
	s.mu.Lock()
	deleted := 0
	for _, id := range ids {
		if u := s.byExternal[id]; u != nil {
			s.deleteLocked(u)
			deleted++
		}
	}
	for _, e := range emails {
		if u := s.prioritizedLocked(e); u != nil {
			s.deleteLocked(u)
			deleted++
		}
	}
	s.log = append(s.log, Write{Path: DeletePath, Bytes: len(body), IDs: len(ids) + len(emails)})
	s.mu.Unlock()
	s.Wrote()
	writeJSON(w, http.StatusCreated, map[string]any{"deleted": deleted, "message": "success"})
}

// deleteIdentifiers checks the body's shape and returns the external IDs
// or email identifiers it names; false when it answered.
func (s *Server) deleteIdentifiers(w http.ResponseWriter, body []byte) (ids []string, emails []emailIdentifier, ok bool) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		s.refuse(w, http.StatusBadRequest, "Bad syntax", "%s: body is not a JSON object", DeletePath)
		return nil, nil, false
	}
	given := 0
	for k := range top {
		if !slices.Contains(deleteMembers, k) {
			s.refuse(w, http.StatusBadRequest, "Bad syntax", "%s: unknown member %q", DeletePath, k)
			return nil, nil, false
		}
		given++
	}
	if given != 1 {
		s.refuse(w, http.StatusBadRequest, "Bad Request",
			"%s: %d identifier arrays, want exactly one of %v", DeletePath, given, deleteMembers)
		return nil, nil, false
	}
	n := 0
	switch {
	case top["external_ids"] != nil:
		if ids, ok = stringList(top["external_ids"], false); !ok {
			s.refuse(w, http.StatusBadRequest, "Bad Request", "%s: external_ids must be an array of non-empty strings", DeletePath)
			return nil, nil, false
		}
		n = len(ids)
	case top["email_addresses"] != nil:
		if json.Unmarshal(top["email_addresses"], &emails) != nil {
			s.refuse(w, http.StatusBadRequest, "Bad Request",
				"%s: email_addresses must be an array of {email, prioritization} objects", DeletePath)
			return nil, nil, false
		}
		for i, e := range emails {
			if problem := checkPrioritized(e); problem != "" {
				s.refuse(w, http.StatusBadRequest, "Bad Request", "%s: email_addresses[%d]: %s", DeletePath, i, problem)
				return nil, nil, false
			}
		}
		n = len(emails)
	default:
		s.refuse(w, http.StatusBadRequest, "Bad Request",
			"%s: user_aliases, braze_ids and phone_numbers are not modelled by this contract server", DeletePath)
		return nil, nil, false
	}
	switch {
	case n == 0:
		s.refuse(w, http.StatusBadRequest, "Bad Request", "%s: no identifier given", DeletePath)
		return nil, nil, false
	case n > MaxDeleteIDs:
		s.refuse(w, http.StatusBadRequest, "The max number of ids per request was exceeded",
			"%s: %d identifiers, at most %d", DeletePath, n, MaxDeleteIDs)
		return nil, nil, false
	}
	return ids, emails, true
}

// checkPrioritized validates an email identifier: an email and an ordered,
// non-empty prioritization of the documented values, with at most one of
// identified and unidentified.
func checkPrioritized(e emailIdentifier) string {
	if e.Email == "" {
		return "email is required"
	}
	if len(e.Prioritization) == 0 {
		return "prioritization is required when deleting by email"
	}
	for _, p := range e.Prioritization {
		if !slices.Contains(prioritizations, p) {
			return "unknown prioritization " + p
		}
	}
	if slices.Contains(e.Prioritization, "identified") && slices.Contains(e.Prioritization, "unidentified") {
		return "only one of identified and unidentified may be given"
	}
	return ""
}

// prioritizedLocked picks the profile an email identifier names: the
// profiles with the email narrowed by each prioritization in turn; nil
// when none is left or more than one.
func (s *Server) prioritizedLocked(e emailIdentifier) *user {
	users := s.withEmailLocked(e.Email)
	for _, p := range e.Prioritization {
		if len(users) <= 1 {
			break
		}
		var kept []*user
		switch p {
		case "identified", "unidentified":
			for _, u := range users {
				if (u.externalID != "") == (p == "identified") {
					kept = append(kept, u)
				}
			}
		case "most_recently_updated":
			best := users[0]
			for _, u := range users[1:] {
				if u.updated > best.updated {
					best = u
				}
			}
			kept = []*user{best}
		}
		if len(kept) > 0 {
			users = kept
		}
	}
	if len(users) != 1 {
		return nil
	}
	return users[0]
}

// deleteLocked removes a profile from the store.
func (s *Server) deleteLocked(u *user) {
	s.users = slices.DeleteFunc(s.users, func(x *user) bool { return x == u })
	if u.externalID != "" {
		delete(s.byExternal, u.externalID)
	}
	s.deleted++
}

// Deleted returns how many profiles /users/delete has deleted.
func (s *Server) Deleted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleted
}
