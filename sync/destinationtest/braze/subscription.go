package braze

import (
	"encoding/json"
	"net/http"
	"slices"
)

// groupMembers are the members a subscription_groups entry may have.
var groupMembers = []string{"subscription_group_id", "subscription_state", "external_ids", "emails", "phones",
	"use_double_opt_in_logic"}

// groupEntry is one valid subscription_groups entry.
type groupEntry struct {
	group, state string
	externalIDs  []string
	emails       []string
}

// serveSubscription handles POST /v2/subscription/status/set: users named
// by external_ids or emails (every profile with the email) get the state
// in the group. Users the server does not hold are skipped.
func (s *Server) serveSubscription(w http.ResponseWriter, r *http.Request) {
	body, ok := s.read(w, r)
	if !ok {
		return
	}
	entries, ids, ok := s.subscriptionEntries(w, body)
	if !ok || s.admit(w, r, SubscriptionPath) {
		return
	}
	s.mu.Lock()
	for _, e := range entries {
		if !s.groups[e.group] {
			s.mu.Unlock()
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid subscription_group_id",
				"errors": []string{"no subscription group " + e.group}})
			return
		}
	}
	for _, e := range entries {
		var users []*user
		for _, id := range e.externalIDs {
			if u := s.byExternal[id]; u != nil {
				users = append(users, u)
			}
		}
		for _, email := range e.emails {
			users = append(users, s.withEmailLocked(email)...)
		}
		for _, u := range users {
			u.subs[e.group] = e.state
		}
	}
	s.log = append(s.log, Write{Path: SubscriptionPath, Bytes: len(body), IDs: ids})
	s.mu.Unlock()
	s.Wrote()
	writeJSON(w, http.StatusCreated, map[string]any{"message": "success"})
}

// subscriptionEntries checks the body's shape and returns its entries and
// the number of users named; false when it answered.
func (s *Server) subscriptionEntries(w http.ResponseWriter, body []byte) ([]groupEntry, int, bool) {
	const path = SubscriptionPath
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		s.refuse(w, http.StatusBadRequest, "Bad syntax", "%s: body is not a JSON object", path)
		return nil, 0, false
	}
	for k := range top {
		if k != "subscription_groups" {
			s.refuse(w, http.StatusBadRequest, "Bad syntax", "%s: unknown member %q", path, k)
			return nil, 0, false
		}
	}
	var raws []map[string]json.RawMessage
	if err := json.Unmarshal(top["subscription_groups"], &raws); err != nil || len(raws) == 0 {
		s.refuse(w, http.StatusBadRequest, "subscription_groups is required", "%s: no subscription_groups array of objects", path)
		return nil, 0, false
	}
	var out []groupEntry
	total := 0
	for i, raw := range raws {
		e, problem := checkEntry(raw)
		if problem != "" {
			s.refuse(w, http.StatusBadRequest, "Bad Request", "%s: subscription_groups[%d]: %s", path, i, problem)
			return nil, 0, false
		}
		total += len(e.externalIDs) + len(e.emails)
		out = append(out, e)
	}
	if total > MaxSubscriptionIDs {
		s.refuse(w, http.StatusBadRequest, "The max number of ids per request was exceeded",
			"%s: %d users named, at most %d", path, total, MaxSubscriptionIDs)
		return nil, 0, false
	}
	return out, total, true
}

// checkEntry validates one subscription_groups entry; problem is "" when
// it is valid.
func checkEntry(raw map[string]json.RawMessage) (e groupEntry, problem string) {
	for k := range raw {
		if !slices.Contains(groupMembers, k) {
			return e, "unknown member " + k
		}
	}
	if json.Unmarshal(raw["subscription_group_id"], &e.group) != nil || e.group == "" {
		return e, "subscription_group_id is required (a string)"
	}
	if json.Unmarshal(raw["subscription_state"], &e.state) != nil || (e.state != "subscribed" && e.state != "unsubscribed") {
		return e, `subscription_state must be "subscribed" or "unsubscribed"`
	}
	if v, ok := raw["use_double_opt_in_logic"]; ok {
		var b bool
		if json.Unmarshal(v, &b) != nil {
			return e, "use_double_opt_in_logic must be a boolean"
		}
	}
	_, hasEmails := raw["emails"]
	if _, hasPhones := raw["phones"]; hasPhones {
		if hasEmails {
			return e, "emails and phones cannot both be given"
		}
		return e, "phones are not modelled by this contract server"
	}
	var ok bool
	if v, has := raw["external_ids"]; has {
		if e.externalIDs, ok = stringList(v, false); !ok {
			return e, "external_ids must be an array of non-empty strings"
		}
	}
	if hasEmails {
		if e.emails, ok = stringList(raw["emails"], true); !ok {
			return e, "emails must be a string or an array of non-empty strings"
		}
	}
	if len(e.externalIDs)+len(e.emails) == 0 {
		return e, "one of external_ids, emails or phones is required"
	}
	return e, ""
}

// stringList decodes an array of non-empty strings (or, with single, one
// string).
func stringList(raw json.RawMessage, single bool) ([]string, bool) {
	var one string
	if single && json.Unmarshal(raw, &one) == nil {
		return []string{one}, one != ""
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil {
		return nil, false
	}
	for _, s := range list {
		if s == "" {
			return nil, false
		}
	}
	return list, true
}
