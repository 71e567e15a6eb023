package mailchimp

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var hashRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// mergeFields serves GET /3.0/lists/{list_id}/merge-fields with count
// (default 10, at most 1000) and offset.
func (s *Server) mergeFields(w http.ResponseWriter, r *http.Request, l *list) {
	count, offset := 10, 0
	q := r.URL.Query()
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.invalid(w, "count", "Schema describes integer from 1 to 1000, "+strconv.Quote(v)+" found instead")
			return
		}
		count = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.invalid(w, "offset", "Schema describes integer of at least 0, "+strconv.Quote(v)+" found instead")
			return
		}
		offset = n
	}
	if s.Kit.Fault(w, r, throttle) {
		return
	}
	s.mu.Lock()
	fields := append([]MergeField(nil), l.fields...)
	s.mu.Unlock()
	page := []MergeField{}
	if offset < len(fields) {
		page = fields[offset:min(offset+count, len(fields))]
	}
	writeJSON(w, map[string]any{"merge_fields": page, "list_id": l.id, "total_items": len(fields), "_links": []any{}})
}

// member serves GET and DELETE (archive) of
// /3.0/lists/{list_id}/members/{subscriber_hash}; the hash may also be the
// email address itself.
func (s *Server) member(w http.ResponseWriter, r *http.Request, l *list, id string) {
	hash := id
	if strings.Contains(id, "@") {
		hash = SubscriberHash(id)
	} else if !hashRe.MatchString(id) {
		s.violation(w, http.StatusNotFound, titleNotFound, detailNotFound, nil,
			"subscriber_hash %q is neither the MD5 of a lower-cased email nor an email address", id)
		return
	}
	if s.Kit.Fault(w, r, throttle) {
		return
	}
	s.mu.Lock()
	m, ok := l.members[hash]
	if ok && r.Method == http.MethodDelete && m.Status == StatusArchived {
		ok = false
	}
	if !ok {
		s.mu.Unlock()
		writeProblem(w, http.StatusNotFound, titleNotFound, detailNotFound)
		return
	}
	if r.Method == http.MethodGet {
		body := l.memberJSON(m)
		s.mu.Unlock()
		writeJSON(w, body)
		return
	}
	m.Status, m.LastChanged = StatusArchived, time.Now()
	s.mu.Unlock()
	s.Kit.Wrote()
	w.WriteHeader(http.StatusNoContent)
}

// deletePermanent serves POST
// /3.0/lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent:
// the member is erased (its data gone; Member no longer finds it) and the
// address cannot be re-imported (the batch call refuses it). A member the
// list does not hold, or one deleted before, is a 404. The answer is 204
// without a body. The subscriber_hash must be the MD5 of the lower-cased
// email (or the email itself).
func (s *Server) deletePermanent(w http.ResponseWriter, r *http.Request, l *list, id string) {
	hash := id
	if strings.Contains(id, "@") {
		hash = SubscriberHash(id)
	} else if !hashRe.MatchString(id) {
		s.violation(w, http.StatusNotFound, titleNotFound, detailNotFound, nil,
			"subscriber_hash %q is neither the MD5 of a lower-cased email nor an email address", id)
		return
	}
	if s.Kit.Fault(w, r, throttle) {
		return
	}
	s.mu.Lock()
	if _, ok := l.members[hash]; !ok {
		s.mu.Unlock()
		writeProblem(w, http.StatusNotFound, titleNotFound, detailNotFound)
		return
	}
	delete(l.members, hash)
	l.deleted[hash] = true
	s.mu.Unlock()
	s.Kit.Wrote()
	w.WriteHeader(http.StatusNoContent)
}

// Deleted reports whether the member with the email was permanently
// deleted.
func (s *Server) Deleted(email string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists[ListID].deleted[SubscriberHash(email)]
}
