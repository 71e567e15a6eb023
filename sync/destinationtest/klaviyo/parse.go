package klaviyo

import (
	"encoding/json"
	"net/http"
	"net/mail"
	"sort"
	"strings"
)

// Members of a profile's attributes (ProfileUpsertQueryResourceObject).
var (
	stringAttributes = []string{"email", "phone_number", "external_id", "first_name", "last_name",
		"organization", "locale", "title", "image"}
	importAttributes = append(append([]string{}, stringAttributes...), "_kx", "location", "properties")
	updateAttributes = append(append([]string{}, stringAttributes...), "location", "properties")
	locationKeys     = []string{"address1", "address2", "city", "country", "latitude", "longitude",
		"region", "zip", "timezone", "ip"}
)

// importProfile is one profile of a bulk import, as sent.
type importProfile struct {
	index    int
	id       string         // the profile ID given, if any
	attrs    map[string]any // non-null string attributes
	location map[string]any // non-null location keys
	props    map[string]any // non-null custom properties
	original map[string]any // the attributes as sent
	size     int            // bytes of the profile object
}

// pointer is the profile's position in the request.
func (p importProfile) pointer() string { return "/data/attributes/profiles/data/" + itoa(p.index) }

// parseImport checks a bulk import body against the documented shape: no
// unknown members, the required ones present, 1 to 10,000 profiles. Nulls
// are accepted and ignored: the bulk import does not clear fields.
func parseImport(body []byte) ([]importProfile, []string, *apiError) {
	doc, e := decode(body)
	if e != nil {
		return nil, nil, e
	}
	var v validator
	top := v.object(doc, "", "document", "data")
	v.require(top, "", "data")
	data := v.object(top["data"], "/data", "profile-bulk-import-job", "type", "attributes", "relationships")
	v.require(data, "/data", "type", "attributes")
	v.kind(data, "/data", "profile-bulk-import-job")
	attrs := v.object(data["attributes"], "/data/attributes", "profile-bulk-import-job", "profiles")
	v.require(attrs, "/data/attributes", "profiles")
	profs := v.object(attrs["profiles"], "/data/attributes/profiles", "profiles", "data")
	v.require(profs, "/data/attributes/profiles", "data")
	items := v.array(profs["data"], "/data/attributes/profiles/data")
	if v.err == nil && len(items) == 0 {
		v.fail("/data/attributes/profiles/data", "At least one profile is required.")
	}
	if v.err == nil && len(items) > MaxJobProfiles {
		v.fail("/data/attributes/profiles/data", "A bulk import job accepts at most %d profiles; got %d.", MaxJobProfiles, len(items))
	}
	out := make([]importProfile, 0, len(items))
	for i, it := range items {
		if p := v.profile(it, i); v.err == nil {
			out = append(out, p)
		}
	}
	lists := v.lists(data["relationships"])
	if v.err != nil {
		return nil, nil, v.err
	}
	return out, lists, nil
}

// profile checks one profile resource of a bulk import.
func (v *validator) profile(x any, i int) importProfile {
	ptr := "/data/attributes/profiles/data/" + itoa(i)
	m := v.object(x, ptr, "profile", "type", "id", "attributes", "meta")
	v.require(m, ptr, "type", "attributes")
	v.kind(m, ptr, "profile")
	p := importProfile{index: i, attrs: map[string]any{}, location: map[string]any{}, props: map[string]any{}}
	p.id = v.str(m["id"], ptr+"/id", true)
	a := v.object(m["attributes"], ptr+"/attributes", "profile", importAttributes...)
	v.meta(m["meta"], ptr+"/meta")
	v.attributes(a, ptr+"/attributes", p.attrs, p.location, p.props, false)
	if v.err == nil {
		p.original = a
		b, _ := json.Marshal(m)
		p.size = len(b)
	}
	return p
}

// attributes checks a profile's attributes and copies the non-null values
// (or, when clear is set, every value, null meaning "clear").
func (v *validator) attributes(a map[string]any, ptr string, attrs, location, props map[string]any, clear bool) {
	if v.err != nil {
		return
	}
	keys := keysOf(a)
	sort.Strings(keys)
	for _, k := range keys {
		x := a[k]
		switch k {
		case "location":
			if x == nil {
				continue
			}
			loc := v.object(x, ptr+"/location", "location", locationKeys...)
			for lk, lx := range loc {
				if lk == "latitude" || lk == "longitude" {
					if _, num := lx.(json.Number); !num {
						v.str(lx, ptr+"/location/"+lk, true)
					}
				} else {
					v.str(lx, ptr+"/location/"+lk, true)
				}
				if lx != nil || clear {
					location[lk] = lx
				}
			}
		case "properties":
			if x == nil {
				continue
			}
			pm := v.object(x, ptr+"/properties", "properties", keysOf(x)...)
			for pk, px := range pm {
				if px != nil || clear {
					props[pk] = px
				}
			}
		case "_kx":
			v.str(x, ptr+"/_kx", true)
		default:
			s := v.str(x, ptr+"/"+k, true)
			if x != nil {
				attrs[k] = s
			} else if clear {
				attrs[k] = nil
			}
		}
	}
}

// meta checks a profile's meta: patch_properties {append, unappend, unset}
// and patch_identifiers {append, unappend}.
func (v *validator) meta(x any, ptr string) map[string]any {
	if x == nil || v.err != nil {
		return nil
	}
	m := v.object(x, ptr, "meta", "patch_properties", "patch_identifiers")
	if pp, ok := m["patch_properties"]; ok && pp != nil {
		v.object(pp, ptr+"/patch_properties", "patch_properties", "append", "unappend", "unset")
	}
	if pi, ok := m["patch_identifiers"]; ok && pi != nil {
		v.object(pi, ptr+"/patch_identifiers", "patch_identifiers", "append", "unappend")
	}
	return m
}

// lists checks relationships.lists.data of a bulk import.
func (v *validator) lists(x any) []string {
	if x == nil || v.err != nil {
		return nil
	}
	rel := v.object(x, "/data/relationships", "relationships", "lists")
	v.require(rel, "/data/relationships", "lists")
	l := v.object(rel["lists"], "/data/relationships/lists", "lists", "data")
	v.require(l, "/data/relationships/lists", "data")
	var ids []string
	for i, it := range v.array(l["data"], "/data/relationships/lists/data") {
		ptr := "/data/relationships/lists/data/" + itoa(i)
		m := v.object(it, ptr, "list", "type", "id")
		v.require(m, ptr, "type", "id")
		v.kind(m, ptr, "list")
		if id := v.str(m["id"], ptr+"/id", false); v.err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// keysOf lists an object's members (none for anything else).
func keysOf(x any) []string {
	m, _ := x.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// checkProfile finds what makes a profile fail once its job runs: no
// identifier, a malformed email, an unknown ID, more than 100 KB. s.mu is
// held.
func (s *Server) checkProfile(p importProfile) *importError {
	fail := func(ptr, detail string) *importError {
		return &importError{id: newUUID(), code: "invalid", title: "Invalid input.", detail: detail,
			pointer: p.pointer() + ptr, original: p.original}
	}
	email, _ := p.attrs["email"].(string)
	switch {
	case p.size > maxProfileBytes:
		return fail("", "The profile exceeds the maximum allowed size of 100KB.")
	case p.id == "" && email == "" && p.attrs["phone_number"] == nil && p.attrs["external_id"] == nil:
		return fail("/attributes", "A profile needs at least one identifier: email, phone_number or external_id.")
	case email != "" && !validEmail(email):
		return fail("/attributes/email", "Invalid email address.")
	}
	if _, ok := s.profiles[p.id]; p.id != "" && !ok {
		return fail("/id", "A profile with id "+p.id+" does not exist.")
	}
	return nil
}

// validEmail accepts a bare address with a dotted domain.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	_, domain, _ := strings.Cut(s, "@")
	return strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".")
}

// refs checks a list relationship body {data: [{type: profile, id}]} of 1
// to 1,000 profiles.
func refs(body []byte) ([]string, *apiError) {
	doc, e := decode(body)
	if e != nil {
		return nil, e
	}
	var v validator
	top := v.object(doc, "", "document", "data")
	v.require(top, "", "data")
	items := v.array(top["data"], "/data")
	if v.err == nil && (len(items) == 0 || len(items) > 1000) {
		v.fail("/data", "Between 1 and 1000 profiles are accepted per request; got %d.", len(items))
	}
	var ids []string
	for i, it := range items {
		ptr := "/data/" + itoa(i)
		m := v.object(it, ptr, "profile", "type", "id")
		v.require(m, ptr, "type", "id")
		v.kind(m, ptr, "profile")
		if id := v.str(m["id"], ptr+"/id", false); v.err == nil {
			ids = append(ids, id)
		}
	}
	if v.err != nil {
		return nil, v.err
	}
	return ids, nil
}

// badRequest is a plain 400 that is the account's answer, not a violation.
func badRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, format, args...)
}
