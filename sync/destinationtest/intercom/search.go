package intercom

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Search limits: Intercom allows two levels of nested filters and 15
// filters per AND or OR group; pages hold up to 150 contacts (50 by
// default).
const (
	maxDepth       = 2
	maxGroup       = 15
	defaultPerPage = 50
	maxPerPage     = 150
)

// operators are the single-filter operators of the search schema.
var operators = []string{"=", "!=", "IN", "NIN", "<", "<=", ">", ">=", "~", "!~", "^", "$"}

// filter is a decoded search query: a single filter (field set) or an AND
// or OR group.
type filter struct {
	field, op string
	value     any
	group     []filter
}

// searchContacts is POST /contacts/search.
func (s *Server) searchContacts(w http.ResponseWriter, r *http.Request, _ []string, body []byte) {
	q, perPage, offset, msg := decodeSearch(body)
	if msg != "" {
		s.violate(w, http.StatusBadRequest, "parameter_invalid", msg, "search contacts: %s", msg)
		return
	}
	if s.fault(w, r) {
		return
	}
	s.mu.Lock()
	visible := time.Now().Add(-s.searchDelay)
	var matches []map[string]any
	for _, id := range s.order {
		c := s.contacts[id]
		if (s.searchDelay <= 0 || !c.created.After(visible)) && q.matches(c) {
			matches = append(matches, s.contactJSON(c))
		}
	}
	s.mu.Unlock()
	total := len(matches)
	page := matches[min(offset, total):min(offset+perPage, total)]
	pages := map[string]any{"type": "pages", "page": offset/perPage + 1, "per_page": perPage,
		"total_pages": (total + perPage - 1) / perPage}
	if offset+perPage < total {
		pages["next"] = map[string]any{"per_page": perPage,
			"starting_after": base64.StdEncoding.EncodeToString([]byte(strconv.Itoa(offset + perPage)))}
	}
	if page == nil {
		page = []map[string]any{}
	}
	writeJSON(w, map[string]any{"type": "list", "data": page, "total_count": total, "pages": pages})
}

// decodeSearch checks a search body: {"query": …, "pagination":
// {"per_page", "starting_after"}, "sort": …}.
func decodeSearch(body []byte) (q filter, perPage, offset int, msg string) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return q, 0, 0, "the body must be a JSON object"
	}
	for k := range raw {
		if k != "query" && k != "pagination" && k != "sort" {
			return q, 0, 0, fmt.Sprintf("unknown member %q", k)
		}
	}
	if raw["query"] == nil {
		return q, 0, 0, "query is required"
	}
	var qv any
	_ = json.Unmarshal(raw["query"], &qv)
	if q, msg = decodeFilter(qv, 0); msg != "" {
		return q, 0, 0, msg
	}
	perPage, offset, msg = decodePagination(raw["pagination"])
	return q, perPage, offset, msg
}

// decodeFilter checks one filter of the query at a nesting depth.
func decodeFilter(v any, depth int) (filter, string) {
	m, ok := v.(map[string]any)
	if !ok {
		return filter{}, "a filter must be an object"
	}
	if _, single := m["field"]; single {
		return decodeSingle(m)
	}
	for k := range m {
		if k != "operator" && k != "value" {
			return filter{}, fmt.Sprintf("unknown member %q of a filter group", k)
		}
	}
	if op := m["operator"]; op != "AND" && op != "OR" {
		return filter{}, fmt.Sprintf("group operator %v is not AND or OR", op)
	}
	items, ok := m["value"].([]any)
	switch {
	case !ok || len(items) == 0:
		return filter{}, "a filter group's value must be a non-empty array"
	case len(items) > maxGroup:
		return filter{}, fmt.Sprintf("%d filters in one group (max %d)", len(items), maxGroup)
	case depth >= maxDepth:
		return filter{}, fmt.Sprintf("filters nested deeper than %d levels", maxDepth)
	}
	f := filter{op: m["operator"].(string)}
	for _, it := range items {
		sub, msg := decodeFilter(it, depth+1)
		if msg != "" {
			return filter{}, msg
		}
		f.group = append(f.group, sub)
	}
	return f, ""
}

// decodeSingle checks {"field", "operator", "value"}.
func decodeSingle(m map[string]any) (filter, string) {
	for k := range m {
		if k != "field" && k != "operator" && k != "value" {
			return filter{}, fmt.Sprintf("unknown member %q of a filter", k)
		}
	}
	field, _ := m["field"].(string)
	op, _ := m["operator"].(string)
	switch {
	case field == "":
		return filter{}, "a filter's field must be a non-empty string"
	case !slices.Contains(operators, op):
		return filter{}, fmt.Sprintf("operator %q is not one of %s", op, strings.Join(operators, " "))
	case !searchable(field):
		return filter{}, fmt.Sprintf("field %q is not searchable on this server (id, email, external_id, role, name, phone, tag_id, custom_attributes.*)", field)
	}
	v := m["value"]
	list := op == "IN" || op == "NIN"
	if _, isList := v.([]any); list != isList {
		return filter{}, fmt.Sprintf("operator %s takes %s", op, map[bool]string{true: "an array", false: "a single value"}[list])
	}
	if field == "role" && op == "=" && v != "user" && v != "lead" {
		return filter{}, fmt.Sprintf("role accepts user or lead, not %v", v)
	}
	return filter{field: field, op: op, value: v}, ""
}

func searchable(field string) bool {
	switch field {
	case "id", "email", "external_id", "role", "name", "phone", "tag_id":
		return true
	}
	return strings.HasPrefix(field, "custom_attributes.")
}

// decodePagination reads per_page (1–150, default 50) and the
// starting_after cursor this server hands out.
func decodePagination(raw json.RawMessage) (perPage, offset int, msg string) {
	if raw == nil || string(raw) == "null" {
		return defaultPerPage, 0, ""
	}
	var p struct {
		PerPage       *float64 `json:"per_page"`
		StartingAfter *string  `json:"starting_after"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return 0, 0, fmt.Sprintf("pagination: %v", err)
	}
	if p.PerPage == nil || *p.PerPage < 1 || *p.PerPage > maxPerPage || *p.PerPage != float64(int(*p.PerPage)) {
		return 0, 0, fmt.Sprintf("pagination.per_page must be a whole number from 1 to %d", maxPerPage)
	}
	if p.StartingAfter != nil && *p.StartingAfter != "" {
		b, err := base64.StdEncoding.DecodeString(*p.StartingAfter)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			return 0, 0, "pagination.starting_after is not a cursor this server handed out"
		}
		offset = n
	}
	return int(*p.PerPage), offset, ""
}

// matches evaluates the filter on a contact. s.mu is held.
func (f filter) matches(c *contact) bool {
	if f.field == "" {
		for _, sub := range f.group {
			m := sub.matches(c)
			if f.op == "AND" && !m {
				return false
			}
			if f.op == "OR" && m {
				return true
			}
		}
		return f.op == "AND"
	}
	values := c.values(f.field)
	fold := f.field == "email"
	switch f.op {
	case "=":
		return anyEqual(values, f.value, fold)
	case "!=":
		return !anyEqual(values, f.value, fold)
	case "IN", "NIN":
		in := false
		for _, v := range f.value.([]any) {
			in = in || anyEqual(values, v, fold)
		}
		return in == (f.op == "IN")
	case "~", "!~", "^", "$":
		return textMatch(values, f.op, fmt.Sprint(f.value))
	}
	return false // < > <= >= on text fields
}

// values lists a contact's values of a search field.
func (c *contact) values(field string) []any {
	switch {
	case field == "id":
		return []any{c.id}
	case field == "role":
		return []any{c.role}
	case field == "tag_id":
		out := []any{}
		for t := range c.tags {
			out = append(out, t)
		}
		return out
	case strings.HasPrefix(field, "custom_attributes."):
		return []any{c.custom[strings.TrimPrefix(field, "custom_attributes.")]}
	}
	return []any{c.attrs[field]}
}

// anyEqual reports whether one of values equals want (emails case
// insensitively).
func anyEqual(values []any, want any, fold bool) bool {
	for _, v := range values {
		a, aok := v.(string)
		b, bok := want.(string)
		switch {
		case aok && bok:
			if a == b || (fold && strings.EqualFold(a, b)) {
				return true
			}
		case v == nil || want == nil:
			if v == want {
				return true
			}
		case fmt.Sprint(v) == fmt.Sprint(want):
			return true
		}
	}
	return false
}

func textMatch(values []any, op, want string) bool {
	for _, v := range values {
		s, ok := v.(string)
		if !ok {
			continue
		}
		s, w := strings.ToLower(s), strings.ToLower(want)
		var m bool
		switch op {
		case "~", "!~":
			m = strings.Contains(s, w) == (op == "~")
		case "^":
			m = strings.HasPrefix(s, w)
		case "$":
			m = strings.HasSuffix(s, w)
		}
		if m {
			return true
		}
	}
	return false
}
