package iterable

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Paths of the consent and erasure endpoints.
const (
	// ForgetPath is POST /api/users/forget, Iterable's GDPR forget.
	ForgetPath = "/api/users/forget"
	// SubscriptionsPrefix starts DELETE
	// /api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}/user/{email}
	// and …/byUserId/{userId}, which unsubscribe one user.
	SubscriptionsPrefix = "/api/subscriptions/"
)

// subscriptionGroups are the documented subscription group kinds.
var subscriptionGroups = []string{"emailList", "messageType", "messageChannel"}

func init() {
	routes[ForgetPath] = route{http.MethodPost, true, (*Server).forget}
}

// subscriptionRoute serves the paths under SubscriptionsPrefix.
var subscriptionRoute = route{http.MethodDelete, false, (*Server).unsubscribeUser}

// forget serves POST /api/users/forget {email} | {userId}: the user's
// profile and memberships are deleted and the identifier is refused from
// then on (failedUpdates.forgottenEmails). An identifier no user has is
// forgotten too (Iterable keeps its hash so no data is collected later),
// and answered Success as well.
func (s *Server) forget(w http.ResponseWriter, r *http.Request, body []byte) {
	var req unsubscriberIn
	if err := decodeStrict(body, &req); err != nil {
		s.violate(w, http.StatusBadRequest, "BadJsonBody", "users/forget: %v", err)
		return
	}
	p, err := parsePerson(userIn{Email: req.Email, UserID: req.UserID}, "body")
	if err != nil {
		s.violate(w, http.StatusBadRequest, "BadParams", "users/forget: %v", err)
		return
	}
	if p.malformed() {
		writeError(w, http.StatusBadRequest, "InvalidEmailAddressError", "Invalid email: "+p.ident(), nil)
		return
	}
	s.logCall(r, body, nil)
	if !s.admit(w, r, false) {
		return
	}
	s.write(w, func() (any, *apiErr) {
		id := p.id()
		s.forgotten[id] = true
		delete(s.users, id)
		for _, l := range s.lists {
			delete(l.members, id)
		}
		return map[string]any{"msg": "Forgot user " + p.ident(), "code": "Success", "params": nil}, nil
	})
}

// unsubscribeUser serves DELETE
// /api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}/user/{email}
// (and …/byUserId/{userId}): the user is unsubscribed from the group, the
// user's other subscriptions untouched. Only messageChannel groups are
// modelled; an unknown channel is a 400 InvalidChannelId (a configuration
// error, not a violation); a user the project does not hold is answered
// Success without effect.
func (s *Server) unsubscribeUser(w http.ResponseWriter, r *http.Request, _ []byte) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, SubscriptionsPrefix), "/")
	if len(parts) != 4 || (parts[2] != "user" && parts[2] != "byUserId") || parts[3] == "" {
		s.violate(w, http.StatusNotFound, "NotFound", "no endpoint %s %s", r.Method, r.URL.Path)
		return
	}
	group, rawID, by, ident := parts[0], parts[1], parts[2], parts[3]
	id, err := strconv.ParseInt(rawID, 10, 64)
	switch {
	case !slices.Contains(subscriptionGroups, group):
		s.violate(w, http.StatusBadRequest, "BadParams", "subscriptions: group %q is not one of %v", group, subscriptionGroups)
		return
	case group != "messageChannel":
		s.violate(w, http.StatusBadRequest, "BadParams", "subscriptions: %s groups are not modelled by this contract server", group)
		return
	case err != nil || id <= 0:
		s.violate(w, http.StatusBadRequest, "BadParams", "subscriptions: subscriptionGroupId %q is not a positive integer", rawID)
		return
	}
	p := person{email: ident}
	if by == "byUserId" {
		p = person{userID: ident, byUserID: true}
	}
	s.logCall(r, nil, nil)
	if !s.admit(w, r, false) {
		return
	}
	s.write(w, func() (any, *apiErr) {
		if !s.channels[id] {
			return nil, &apiErr{status: http.StatusBadRequest, code: "InvalidChannelId", msg: "No message channel " + rawID}
		}
		if prof := s.users[p.id()]; prof != nil {
			if prof.unsubscribed == nil {
				prof.unsubscribed = map[int64]bool{}
			}
			prof.unsubscribed[id] = true
		}
		return map[string]any{"msg": "Unsubscribed " + ident + " from messageChannel " + rawID, "code": "Success", "params": nil}, nil
	})
}

// Forgotten reports whether an email was GDPR-forgotten.
func (s *Server) Forgotten(email string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.forgotten[strings.ToLower(email)]
}

// Unsubscribed reports whether the user with the email is unsubscribed from
// a message channel.
func (s *Server) Unsubscribed(email string, channel int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.users[strings.ToLower(email)]
	return p != nil && p.unsubscribed[channel]
}
