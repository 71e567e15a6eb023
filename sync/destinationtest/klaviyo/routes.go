package klaviyo

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// action applies a request that passed every check and answers it.
type action func(w http.ResponseWriter)

// endpoint is one documented operation.
type endpoint struct {
	name    string // its rate-limit bucket (Endpoint…)
	maxBody int    // largest body accepted (0: 1 MB)
	handle  func(s *Server, r *http.Request, params []string, body []byte) (action, *apiError)
}

// Body limits: 5 MB for a bulk import, 100 KB for Update Profile.
const (
	maxImportBody = 5 << 20
	maxPatchBody  = 100 << 10
)

// routes maps a path pattern ("*" is an ID) and method to its endpoint.
var routes = map[string]map[string]*endpoint{
	"api/profile-bulk-import-jobs": {
		"POST": {name: EndpointBulkImport, maxBody: maxImportBody, handle: (*Server).bulkImport}},
	"api/profile-bulk-import-jobs/*": {
		"GET": {name: EndpointGetJob, handle: (*Server).getJob}},
	"api/profile-bulk-import-jobs/*/import-errors": {
		"GET": {name: EndpointImportErrors, handle: (*Server).getImportErrors}},
	"api/profile-bulk-import-jobs/*/profiles": {
		"GET": {name: EndpointJobProfiles, handle: (*Server).getJobProfiles}},
	"api/profile-bulk-import-jobs/*/relationships/profiles": {
		"GET": {name: EndpointJobProfileIDs, handle: (*Server).getJobProfileIDs}},
	"api/lists/*/relationships/profiles": {
		"POST":   {name: EndpointAddToList, handle: (*Server).addToList},
		"DELETE": {name: EndpointRemoveFromList, handle: (*Server).removeFromList}},
	"api/profiles": {
		"GET": {name: EndpointGetProfiles, handle: (*Server).getProfiles}},
	"api/profiles/*": {
		"PATCH": {name: EndpointUpdateProfile, maxBody: maxPatchBody, handle: (*Server).updateProfile}},
}

// route finds the endpoint of a request and the IDs in its path. An
// unknown path is a 404, a known one with another method a 405; both break
// the contract. One trailing slash is accepted.
func route(method, path string) (*endpoint, []string, *apiError) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for pattern, methods := range routes {
		ps := strings.Split(pattern, "/")
		if len(ps) != len(segs) {
			continue
		}
		var ids []string
		ok := true
		for i, p := range ps {
			switch {
			case p == "*" && segs[i] != "":
				ids = append(ids, segs[i])
			case p != segs[i]:
				ok = false
			}
		}
		if !ok {
			continue
		}
		ep, found := methods[method]
		if !found {
			return nil, nil, violationf(http.StatusMethodNotAllowed, "Method %q not allowed on %s.", method, path)
		}
		return ep, ids, nil
	}
	return nil, nil, violationf(http.StatusNotFound, "No endpoint %s %s (see https://developers.klaviyo.com/en/reference/api_overview).", method, path)
}

// page is one page of a collection: the offset and size asked for.
type page struct {
	offset, size int
}

// readPage reads page[size] and page[cursor] (an opaque offset).
func readPage(r *http.Request) (page, *apiError) {
	size, e := pageSize(r)
	if e != nil {
		return page{}, e
	}
	p := page{size: size}
	if c := r.URL.Query().Get("page[cursor]"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
		if err != nil || err2 != nil || n < 0 || !strings.HasPrefix(string(b), "o:") {
			return page{}, violationf(http.StatusBadRequest, "Invalid page[cursor] %q.", c).param("page[cursor]")
		}
		p.offset = n
	}
	return p, nil
}

// slice returns the page's bounds within n items.
func (p page) slice(n int) (from, to int) {
	from = min(p.offset, n)
	return from, min(from+p.size, n)
}

// links are a collection's self and (when more follow) next links,
// absolute as Klaviyo gives them.
func (p page) links(r *http.Request, n int) map[string]any {
	self := absolute(r, r.URL.Query())
	out := map[string]any{"self": self}
	if _, to := p.slice(n); to < n {
		q := r.URL.Query()
		q.Set("page[cursor]", base64.RawURLEncoding.EncodeToString([]byte("o:"+strconv.Itoa(to))))
		out["next"] = absolute(r, q)
	}
	if p.offset > 0 {
		q := r.URL.Query()
		q.Set("page[cursor]", base64.RawURLEncoding.EncodeToString([]byte("o:"+strconv.Itoa(max(p.offset-p.size, 0)))))
		out["prev"] = absolute(r, q)
	}
	return out
}

// absolute is the request's URL with query q.
func absolute(r *http.Request, q url.Values) string {
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}

func itoa(n int) string { return strconv.Itoa(n) }
