package klaviyo

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// profile is a profile of the account.
type profile struct {
	id       string
	attrs    map[string]any // string attributes (email, first_name…)
	location map[string]any
	props    map[string]any
	created  time.Time
	updated  time.Time
	consent  string // email marketing consent set by Bulk Unsubscribe Profiles
}

// profileFieldNames are the values fields[profile] accepts.
var profileFieldNames = append([]string{"created", "email", "external_id", "first_name", "id", "image",
	"last_event_date", "last_name", "locale", "location", "organization", "phone_number", "properties",
	"title", "updated"}, prefixed("location.", locationKeys)...)

func prefixed(p string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return out
}

// upsert applies an imported profile: found by ID, else by email (case
// insensitively), else created; non-null values are set, the rest kept.
// s.mu is held.
func (s *Server) upsert(p importProfile) *profile {
	now := time.Now().UTC()
	prof := s.profiles[p.id]
	email, _ := p.attrs["email"].(string)
	if prof == nil && email != "" {
		prof = s.profiles[s.byEmail[strings.ToLower(email)]]
	}
	if prof == nil {
		prof = &profile{id: newULID(), attrs: map[string]any{}, location: map[string]any{}, props: map[string]any{}, created: now}
		s.profiles[prof.id] = prof
	}
	s.set(prof, p.attrs, p.location, p.props)
	prof.updated = now
	return prof
}

// set writes attributes, location keys and properties (nil removes); s.mu
// is held.
func (s *Server) set(prof *profile, attrs, location, props map[string]any) {
	if e, ok := attrs["email"]; ok {
		if old, _ := prof.attrs["email"].(string); old != "" {
			delete(s.byEmail, strings.ToLower(old))
		}
		if e, _ := e.(string); e != "" {
			s.byEmail[strings.ToLower(e)] = prof.id
		}
	}
	put(prof.attrs, attrs)
	put(prof.location, location)
	put(prof.props, props)
}

func put(dst, src map[string]any) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
		} else {
			dst[k] = v
		}
	}
}

// resource renders a profile with the fields asked for (all when nil).
func (s *Server) resource(r *http.Request, p *profile, fields []string) map[string]any {
	all := map[string]any{"created": p.created.Format(time.RFC3339), "updated": p.updated.Format(time.RFC3339),
		"last_event_date": nil}
	for _, a := range stringAttributes {
		all[a] = p.attrs[a]
	}
	loc := map[string]any{}
	for _, k := range locationKeys {
		loc[k] = p.location[k]
	}
	all["location"], all["properties"] = loc, copyMap(p.props)
	attrs := all
	if fields != nil {
		attrs = map[string]any{}
		for _, f := range fields {
			if f == "id" {
				continue
			}
			if _, sub, ok := strings.Cut(f, "."); ok {
				m, _ := attrs["location"].(map[string]any)
				if m == nil {
					m = map[string]any{}
					attrs["location"] = m
				}
				m[sub] = loc[sub]
				continue
			}
			attrs[f] = all[f]
		}
	}
	return map[string]any{"type": "profile", "id": p.id, "attributes": attrs,
		"links": map[string]any{"self": "http://" + r.Host + "/api/profiles/" + p.id}}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// updateProfile is PATCH /api/profiles/{id}: {data: {type: profile, id,
// attributes, meta}} with data.id equal to the path's; null clears a field
// and meta.patch_properties.unset removes custom properties.
func (s *Server) updateProfile(r *http.Request, ids []string, body []byte) (action, *apiError) {
	doc, e := decode(body)
	if e != nil {
		return nil, e
	}
	var v validator
	top := v.object(doc, "", "document", "data")
	v.require(top, "", "data")
	data := v.object(top["data"], "/data", "profile", "type", "id", "attributes", "meta")
	v.require(data, "/data", "type", "id", "attributes")
	v.kind(data, "/data", "profile")
	if id := v.str(data["id"], "/data/id", false); v.err == nil && id != ids[0] {
		return nil, violationf(http.StatusConflict, "The id in the body (%s) does not match the id in the URL (%s).", id, ids[0]).at("/data/id")
	}
	a := v.object(data["attributes"], "/data/attributes", "profile", updateAttributes...)
	attrs, location, props := map[string]any{}, map[string]any{}, map[string]any{}
	v.attributes(a, "/data/attributes", attrs, location, props, true)
	unset := v.unset(v.meta(data["meta"], "/data/meta"))
	if v.err != nil {
		return nil, v.err
	}
	s.mu.Lock()
	prof := s.profiles[ids[0]]
	s.mu.Unlock()
	if prof == nil {
		return nil, errorf(http.StatusNotFound, "A profile with id %s does not exist.", ids[0])
	}
	return func(w http.ResponseWriter) {
		s.mu.Lock()
		s.set(prof, attrs, location, props)
		for _, k := range unset {
			delete(prof.props, k)
		}
		prof.updated = time.Now().UTC()
		doc := map[string]any{"data": s.resource(r, prof, nil)}
		s.mu.Unlock()
		s.Wrote()
		writeJSON(w, http.StatusOK, doc)
	}, nil
}

// unset reads meta.patch_properties.unset (a string or strings); append
// and unappend are not modelled and refused.
func (v *validator) unset(meta map[string]any) []string {
	pp, _ := meta["patch_properties"].(map[string]any)
	if v.err != nil || pp == nil {
		return nil
	}
	for _, k := range []string{"append", "unappend"} {
		if pp[k] != nil {
			v.fail("/data/meta/patch_properties/"+k, "patch_properties.%s is not modelled by the contract server.", k)
		}
	}
	switch x := pp["unset"].(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for i, it := range x {
			out = append(out, v.str(it, "/data/meta/patch_properties/unset/"+itoa(i), false))
		}
		return out
	}
	v.fail("/data/meta/patch_properties/unset", "unset must be a string or an array of strings.")
	return nil
}

var filterRe = regexp.MustCompile(`^(equals|any)\((email|id|phone_number|external_id),(.*)\)$`)

// getProfiles is GET /api/profiles with an optional filter equals(f,"v")
// or any(f,["v",…]) on email, id, phone_number or external_id; paginated,
// sorted by ID.
func (s *Server) getProfiles(r *http.Request, _ []string, _ []byte) (action, *apiError) {
	pg, e := readPage(r)
	var fields []string
	if e == nil {
		fields, e = fieldset(r, "fields[profile]", profileFieldNames)
	}
	if e != nil {
		return nil, e
	}
	field, values, e := parseFilter(r.URL.Query().Get("filter"))
	if e != nil {
		return nil, e
	}
	return func(w http.ResponseWriter) {
		s.mu.Lock()
		var match []*profile
		for _, p := range s.profiles {
			if field == "" || matches(p, field, values) {
				match = append(match, p)
			}
		}
		sort.Slice(match, func(i, j int) bool { return match[i].id < match[j].id })
		from, to := pg.slice(len(match))
		data := make([]map[string]any, 0, to-from)
		for _, p := range match[from:to] {
			data = append(data, s.resource(r, p, fields))
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": pg.links(r, len(match))})
	}, nil
}

// parseFilter reads a filter expression ("" for none).
func parseFilter(f string) (string, []string, *apiError) {
	if f == "" {
		return "", nil, nil
	}
	m := filterRe.FindStringSubmatch(f)
	bad := func() *apiError {
		return violationf(http.StatusBadRequest, "Invalid filter provided: %q.", f).param("filter")
	}
	if m == nil {
		return "", nil, bad()
	}
	arg := strings.TrimSpace(m[3])
	if strings.HasPrefix(arg, "'") || strings.Contains(arg, "['") {
		arg = strings.ReplaceAll(arg, "'", `"`)
	}
	var values []string
	if m[1] == "equals" {
		var one string
		if json.Unmarshal([]byte(arg), &one) != nil {
			return "", nil, bad()
		}
		values = []string{one}
	} else if json.Unmarshal([]byte(arg), &values) != nil || len(values) == 0 {
		return "", nil, bad()
	}
	return m[2], values, nil
}

func matches(p *profile, field string, values []string) bool {
	var have string
	if field == "id" {
		have = p.id
	} else {
		have, _ = p.attrs[field].(string)
	}
	if field == "email" {
		return slices.ContainsFunc(values, func(v string) bool { return strings.EqualFold(v, have) })
	}
	return slices.Contains(values, have)
}

// addToList is POST /api/lists/{id}/relationships/profiles.
func (s *Server) addToList(_ *http.Request, ids []string, body []byte) (action, *apiError) {
	return s.membership(ids[0], body, true)
}

// removeFromList is DELETE /api/lists/{id}/relationships/profiles; the
// profiles themselves stay.
func (s *Server) removeFromList(_ *http.Request, ids []string, body []byte) (action, *apiError) {
	return s.membership(ids[0], body, false)
}

// membership checks a list relationship request: the list must exist, and
// profiles to add too; profiles to remove that are not members are ignored.
func (s *Server) membership(list string, body []byte, add bool) (action, *apiError) {
	pids, e := refs(body)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	members, ok := s.lists[list]
	var missing string
	for _, id := range pids {
		if _, known := s.profiles[id]; add && !known && missing == "" {
			missing = id
		}
	}
	s.mu.Unlock()
	switch {
	case !ok:
		return nil, errorf(http.StatusNotFound, "A list with id %s does not exist.", list)
	case missing != "":
		return nil, badRequest("A profile with id %s does not exist.", missing)
	}
	return func(w http.ResponseWriter) {
		s.mu.Lock()
		for _, id := range pids {
			if add {
				members[id] = true
			} else {
				delete(members, id)
			}
		}
		s.mu.Unlock()
		s.Wrote()
		w.WriteHeader(http.StatusNoContent)
	}, nil
}

// textOf renders a held value as Audience reports it.
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return destinationtest.FormatNumber(f)
		}
		return x.String()
	case float64:
		return destinationtest.FormatNumber(x)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
