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

// readBody is the body of POST …/batch/read.
type readBody struct {
	Inputs []struct {
		ID *string `json:"id"`
	} `json:"inputs"`
	Properties            []string `json:"properties"`
	PropertiesWithHistory []string `json:"propertiesWithHistory"`
	IDProperty            *string  `json:"idProperty"`
}

// batchRead answers POST /crm/v3/objects/contacts/batch/read: the contacts
// found, and one OBJECT_NOT_FOUND error listing the ids that were not (207).
func (s *Server) batchRead(w http.ResponseWriter, r *http.Request, call *Call) {
	if !s.method(w, r, http.MethodPost) {
		return
	}
	b, ok := s.readJSON(w, r, call)
	if !ok {
		return
	}
	var body readBody
	if err := decodeStrict(b, &body); err != nil {
		s.refuse(w, http.StatusBadRequest, "", err.Error())
		return
	}
	call.Inputs = len(body.Inputs)
	if msg := s.checkRead(body); msg != "" {
		s.refuse(w, http.StatusBadRequest, "", "batch read: "+msg)
		return
	}
	if s.faulted(w, r) {
		return
	}
	start := time.Now().UTC()
	resp := s.read(body)
	resp.StartedAt, resp.CompletedAt = start.Format(time.RFC3339Nano), time.Now().UTC().Format(time.RFC3339Nano)
	status := http.StatusOK
	if resp.NumErrors > 0 {
		status = http.StatusMultiStatus
	}
	writeJSON(w, status, resp)
}

// checkRead checks a read body's shape; a non-empty answer is a violation.
func (s *Server) checkRead(body readBody) string {
	switch {
	case len(body.Inputs) == 0:
		return `"inputs" is required and may not be empty`
	case len(body.Inputs) > MaxBatch:
		return fmt.Sprintf("Batch input size exceeds limit of %d: %d inputs", MaxBatch, len(body.Inputs))
	case body.Properties == nil:
		return `"properties" is required`
	case body.PropertiesWithHistory == nil:
		return `"propertiesWithHistory" is required`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if body.IDProperty != nil && !s.uniqueProperty(*body.IDProperty) {
		return fmt.Sprintf("Unable to perform read by non-unique 0-1 property %s", *body.IDProperty)
	}
	for i, in := range body.Inputs {
		if in.ID == nil || *in.ID == "" {
			return fmt.Sprintf(`inputs[%d]: "id" is required`, i)
		}
	}
	return ""
}

// read looks the inputs up.
func (s *Server) read(body readBody) *batchResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	byEmail := body.IDProperty != nil && *body.IDProperty == "email"
	resp := &batchResponse{Status: "COMPLETE", Results: []object{}}
	var missing []string
	for _, in := range body.Inputs {
		c := s.contacts[*in.ID]
		if byEmail {
			c = s.contacts[s.byEmail[strings.ToLower(*in.ID)]]
		}
		if c == nil {
			missing = append(missing, *in.ID)
			continue
		}
		resp.Results = append(resp.Results, view(c, body.Properties))
	}
	if len(missing) > 0 {
		resp.NumErrors = 1
		resp.Errors = []apiError{{Status: "error", Category: "OBJECT_NOT_FOUND",
			Message: "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.",
			Context: map[string][]string{"ids": missing}}}
	}
	return resp
}

// view renders a contact with the requested properties (and the ones
// HubSpot always returns).
func view(c *contact, props []string) object {
	out := map[string]string{}
	for _, k := range append([]string{"hs_object_id", "createdate", "lastmodifieddate"}, props...) {
		if v, ok := c.props[k]; ok {
			out[k] = v
		}
	}
	return object{ID: c.id, Properties: out, CreatedAt: c.created.Format(time.RFC3339Nano), UpdatedAt: c.updated.Format(time.RFC3339Nano)}
}

// listContacts answers GET /crm/v3/objects/contacts?limit=&after=&properties=
// with contacts in record ID order, for demos that look at what is held.
func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) {
	if !s.method(w, r, http.MethodGet) || s.faulted(w, r) {
		return
	}
	q := r.URL.Query()
	limit, err := strconv.Atoi(cmp.Or(q.Get("limit"), "10"))
	if err != nil || limit < 1 || limit > 100 {
		s.refuse(w, http.StatusBadRequest, "", fmt.Sprintf("limit %q: want 1 to 100", q.Get("limit")))
		return
	}
	after, _ := strconv.ParseInt(cmp.Or(q.Get("after"), "0"), 10, 64)
	props := []string{"email", "firstname", "lastname"}
	if p := q.Get("properties"); p != "" {
		props = strings.Split(p, ",")
	}
	s.mu.Lock()
	var ids []int64
	for id := range s.contacts {
		if n, _ := strconv.ParseInt(id, 10, 64); n > after {
			ids = append(ids, n)
		}
	}
	slices.Sort(ids)
	out := map[string]any{}
	var results []object
	for i, n := range ids {
		if i == limit {
			out["paging"] = map[string]any{"next": map[string]string{"after": strconv.FormatInt(ids[i-1], 10)}}
			break
		}
		results = append(results, view(s.contacts[strconv.FormatInt(n, 10)], props))
	}
	s.mu.Unlock()
	if results == nil {
		results = []object{}
	}
	out["results"] = results
	writeJSON(w, http.StatusOK, out)
}
