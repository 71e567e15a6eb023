package hubspot

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// list is a contact list (object type 0-1) and its members.
type list struct {
	id, name, processing string
	created, updated     time.Time
	version              int
	members              map[string]bool      // record ID → member
	joined               map[string]time.Time // record ID → membership timestamp
}

func newList(id, name, processing string) *list {
	now := time.Now().UTC()
	return &list{id: id, name: name, processing: processing, created: now, updated: now, version: 1,
		members: map[string]bool{}, joined: map[string]time.Time{}}
}

// routeList dispatches /crm/v3/lists/{listId}[/memberships[/add-and-remove]].
func (s *Server) routeList(w http.ResponseWriter, r *http.Request, call *Call, rest string) {
	id, sub, _ := strings.Cut(rest, "/")
	switch sub {
	case "":
		if s.method(w, r, http.MethodGet) {
			s.getList(w, r, id)
		}
	case "memberships":
		if s.method(w, r, http.MethodGet) {
			s.memberships(w, r, id)
		}
	case "memberships/add-and-remove":
		if s.method(w, r, http.MethodPut) {
			s.addAndRemove(w, r, call, id)
		}
	default:
		s.refuse(w, http.StatusNotFound, "", fmt.Sprintf("%s %s is not a HubSpot lists endpoint this server knows", r.Method, r.URL.Path))
	}
}

// lookup returns a list, answering HubSpot's 404 when there is none (a
// wrong list_id is a configuration error, not a contract violation).
func (s *Server) lookup(w http.ResponseWriter, id string) *list {
	s.mu.Lock()
	l := s.lists[id]
	s.mu.Unlock()
	if l == nil {
		s.writeError(w, http.StatusNotFound, apiError{Status: "error", Category: "OBJECT_NOT_FOUND",
			Message: fmt.Sprintf("List does not exist with ID %s.", id)})
	}
	return l
}

// getList answers GET /crm/v3/lists/{listId}.
func (s *Server) getList(w http.ResponseWriter, r *http.Request, id string) {
	if s.faulted(w, r) {
		return
	}
	l := s.lookup(w, id)
	if l == nil {
		return
	}
	s.mu.Lock()
	body := map[string]any{"list": map[string]any{
		"listId": l.id, "listVersion": l.version, "name": l.name, "objectTypeId": "0-1",
		"processingType": l.processing, "processingStatus": "COMPLETE",
		"createdAt": l.created.Format(time.RFC3339Nano), "updatedAt": l.updated.Format(time.RFC3339Nano),
		"size": len(l.members),
	}}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// membershipBody is the body of PUT …/memberships/add-and-remove.
type membershipBody struct {
	RecordIdsToAdd    []string `json:"recordIdsToAdd"`
	RecordIdsToRemove []string `json:"recordIdsToRemove"`
}

// addAndRemove answers PUT /crm/v3/lists/{listId}/memberships/add-and-remove:
// record IDs (never emails) are added and removed; the contacts themselves
// are untouched. IDs of no contact come back in recordIdsMissing.
func (s *Server) addAndRemove(w http.ResponseWriter, r *http.Request, call *Call, id string) {
	b, ok := s.readJSON(w, r, call)
	if !ok {
		return
	}
	var body membershipBody
	if err := decodeStrict(b, &body); err != nil {
		s.refuse(w, http.StatusBadRequest, "", err.Error())
		return
	}
	call.Inputs = len(body.RecordIdsToAdd) + len(body.RecordIdsToRemove)
	if msg := checkMembership(body); msg != "" {
		s.refuse(w, http.StatusBadRequest, "", "memberships add-and-remove: "+msg)
		return
	}
	if s.faulted(w, r) {
		return
	}
	l := s.lookup(w, id)
	if l == nil {
		return
	}
	if l.processing != "MANUAL" && l.processing != "SNAPSHOT" {
		s.writeError(w, http.StatusBadRequest, apiError{Status: "error", Category: "VALIDATION_ERROR",
			Message: fmt.Sprintf("List %s has processingType %s; memberships can only be changed on MANUAL or SNAPSHOT lists.", id, l.processing)})
		return
	}
	resp := s.changeMembers(l, body)
	s.Kit.Wrote()
	writeJSON(w, http.StatusOK, resp)
}

// checkMembership checks the body's shape; a non-empty answer is a violation.
func checkMembership(body membershipBody) string {
	switch {
	case body.RecordIdsToAdd == nil:
		return `"recordIdsToAdd" is required (send [] for none)`
	case body.RecordIdsToRemove == nil:
		return `"recordIdsToRemove" is required (send [] for none)`
	}
	add := map[string]bool{}
	for _, id := range body.RecordIdsToAdd {
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			return fmt.Sprintf("recordIdsToAdd holds %q, which is not a record ID", id)
		}
		add[id] = true
	}
	for _, id := range body.RecordIdsToRemove {
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			return fmt.Sprintf("recordIdsToRemove holds %q, which is not a record ID", id)
		}
		if add[id] {
			return fmt.Sprintf("record %s is both added and removed", id)
		}
	}
	return ""
}

// changeMembers applies a membership change.
func (s *Server) changeMembers(l *list, body membershipBody) map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := map[string][]string{"recordIdsMissing": {}, "recordIdsRemoved": {}, "recordsIdsAdded": {}}
	now := time.Now().UTC()
	for _, id := range body.RecordIdsToAdd {
		switch {
		case s.contacts[id] == nil:
			resp["recordIdsMissing"] = append(resp["recordIdsMissing"], id)
		case !l.members[id]:
			l.members[id], l.joined[id] = true, now
			resp["recordsIdsAdded"] = append(resp["recordsIdsAdded"], id)
		}
	}
	for _, id := range body.RecordIdsToRemove {
		switch {
		case s.contacts[id] == nil:
			resp["recordIdsMissing"] = append(resp["recordIdsMissing"], id)
		case l.members[id]:
			delete(l.members, id)
			delete(l.joined, id)
			resp["recordIdsRemoved"] = append(resp["recordIdsRemoved"], id)
		}
	}
	l.updated = now
	l.version++
	return resp
}

// memberships answers GET /crm/v3/lists/{listId}/memberships?limit=&after=
// with members in record ID order.
func (s *Server) memberships(w http.ResponseWriter, r *http.Request, id string) {
	if s.faulted(w, r) {
		return
	}
	l := s.lookup(w, id)
	if l == nil {
		return
	}
	q := r.URL.Query()
	limit, err := strconv.Atoi(cmp.Or(q.Get("limit"), "100"))
	if err != nil || limit < 1 || limit > 250 {
		s.refuse(w, http.StatusBadRequest, "", fmt.Sprintf("limit %q: want 1 to 250", q.Get("limit")))
		return
	}
	after, _ := strconv.ParseInt(cmp.Or(q.Get("after"), "0"), 10, 64)
	s.mu.Lock()
	var ids []int64
	for m := range l.members {
		if n, _ := strconv.ParseInt(m, 10, 64); n > after {
			ids = append(ids, n)
		}
	}
	slices.Sort(ids)
	results := []map[string]string{}
	out := map[string]any{}
	for i, n := range ids {
		if i == limit {
			out["paging"] = map[string]any{"next": map[string]string{"after": strconv.FormatInt(ids[i-1], 10)}}
			break
		}
		m := strconv.FormatInt(n, 10)
		results = append(results, map[string]string{"recordId": m, "membershipTimestamp": l.joined[m].Format(time.RFC3339Nano)})
	}
	s.mu.Unlock()
	out["results"] = results
	writeJSON(w, http.StatusOK, out)
}
