package hubspot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// contact is one stored contact: its record ID and property values (a
// cleared property is absent).
type contact struct {
	id               string
	props            map[string]string
	created, updated time.Time
}

// create stores a new contact with an email; s.mu is held.
func (s *Server) create(email string) *contact {
	s.nextID++
	id := strconv.FormatInt(s.nextID, 10)
	now := time.Now().UTC()
	ms := strconv.FormatInt(now.UnixMilli(), 10)
	c := &contact{id: id, created: now, updated: now,
		props: map[string]string{"hs_object_id": id, "createdate": ms, "lastmodifieddate": ms}}
	if email != "" {
		c.props["email"] = email
		s.byEmail[email] = id
	}
	s.contacts[id] = c
	return c
}

// writeInput is one input of a batch upsert or update.
type writeInput struct {
	ID                 *string                    `json:"id"`
	IDProperty         *string                    `json:"idProperty"`
	Properties         map[string]json.RawMessage `json:"properties"`
	ObjectWriteTraceID *string                    `json:"objectWriteTraceId"`

	props map[string]string // decoded string values
	key   string            // normalised id: lowercased email or a record ID
}

// object is one result of a batch response.
type object struct {
	ID                 string            `json:"id"`
	Properties         map[string]string `json:"properties"`
	CreatedAt          string            `json:"createdAt"`
	UpdatedAt          string            `json:"updatedAt"`
	Archived           bool              `json:"archived"`
	New                *bool             `json:"new,omitempty"`
	ObjectWriteTraceID string            `json:"objectWriteTraceId,omitempty"`
}

// batchResponse is the body of a 200 or 207 batch answer.
type batchResponse struct {
	Status      string     `json:"status"`
	Results     []object   `json:"results"`
	NumErrors   int        `json:"numErrors,omitempty"`
	Errors      []apiError `json:"errors,omitempty"`
	RequestedAt string     `json:"requestedAt,omitempty"`
	StartedAt   string     `json:"startedAt"`
	CompletedAt string     `json:"completedAt"`
}

// decodeStrict decodes a body refusing unknown members and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("Invalid input JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("Invalid input JSON: data after the object")
	}
	return nil
}

// batchWrite answers POST …/batch/upsert and …/batch/update.
func (s *Server) batchWrite(w http.ResponseWriter, r *http.Request, call *Call, kind string) {
	if !s.method(w, r, http.MethodPost) {
		return
	}
	b, ok := s.readJSON(w, r, call)
	if !ok {
		return
	}
	var body struct {
		Inputs []writeInput `json:"inputs"`
	}
	if err := decodeStrict(b, &body); err != nil {
		s.refuse(w, http.StatusBadRequest, "", err.Error())
		return
	}
	call.Inputs = len(body.Inputs)
	if msg := s.checkInputs(kind, body.Inputs); msg != "" {
		s.refuse(w, http.StatusBadRequest, "", fmt.Sprintf("batch %s: %s", kind, msg))
		return
	}
	if s.faulted(w, r) {
		return
	}
	start := time.Now().UTC()
	resp, whole := s.applyInputs(kind, body.Inputs)
	if whole != nil {
		s.writeError(w, http.StatusBadRequest, *whole)
		return
	}
	s.Kit.Wrote()
	resp.StartedAt, resp.CompletedAt = start.Format(time.RFC3339Nano), time.Now().UTC().Format(time.RFC3339Nano)
	status := http.StatusOK
	if len(resp.Errors) > 0 {
		status = http.StatusMultiStatus
	}
	writeJSON(w, status, resp)
}

// checkInputs checks a batch's shape; a non-empty answer is a violation.
func (s *Server) checkInputs(kind string, inputs []writeInput) string {
	switch {
	case len(inputs) == 0:
		return `"inputs" is required and may not be empty`
	case len(inputs) > MaxBatch:
		return fmt.Sprintf("Batch input size exceeds limit of %d: %d inputs", MaxBatch, len(inputs))
	}
	ids, traces := map[string]bool{}, map[string]bool{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range inputs {
		in := &inputs[i]
		if msg := s.checkInput(kind, in); msg != "" {
			return fmt.Sprintf("inputs[%d]: %s", i, msg)
		}
		if ids[in.key] {
			return fmt.Sprintf("Duplicate IDs found in batch input: [%s]. IDs must be unique", *in.ID)
		}
		ids[in.key] = true
		if t := in.ObjectWriteTraceID; t != nil {
			if traces[*t] {
				return fmt.Sprintf("inputs[%d]: objectWriteTraceId %q is repeated; each input needs a unique one", i, *t)
			}
			traces[*t] = true
		}
	}
	return ""
}

// checkInput checks one input and decodes its values; s.mu is held.
func (s *Server) checkInput(kind string, in *writeInput) string {
	if in.ID == nil || *in.ID == "" {
		return `"id" is required`
	}
	switch {
	case in.IDProperty == nil && kind == "upsert":
		return `"idProperty" is required for an upsert`
	case in.IDProperty != nil && !s.uniqueProperty(*in.IDProperty):
		return fmt.Sprintf("Unable to perform update/upsert by non-unique 0-1 property %s", *in.IDProperty)
	case in.Properties == nil:
		return `"properties" is required`
	case in.ObjectWriteTraceID != nil && *in.ObjectWriteTraceID == "":
		return `"objectWriteTraceId" is empty`
	}
	in.props = make(map[string]string, len(in.Properties))
	for k, raw := range in.Properties {
		var v string
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '"' || json.Unmarshal(t, &v) != nil {
			return fmt.Sprintf("property %q is %s; property values are strings (clear one with \"\")", k, string(raw))
		}
		in.props[k] = v
	}
	in.key = *in.ID
	if in.IDProperty != nil && *in.IDProperty == "email" {
		in.key = strings.ToLower(*in.ID)
	}
	return ""
}

// applyInputs applies the inputs that pass; without an objectWriteTraceId
// on every input, any failure fails the whole batch (HubSpot's default),
// which is then returned and nothing is applied.
func (s *Server) applyInputs(kind string, inputs []writeInput) (*batchResponse, *apiError) {
	multi := true
	for _, in := range inputs {
		multi = multi && in.ObjectWriteTraceID != nil
	}
	faults := make([]*apiError, len(inputs))
	for i := range inputs {
		if reject, retry := s.Kit.RecordFault(); reject || retry {
			faults[i] = injected(inputs[i], retry)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := make([]*apiError, len(inputs))
	vals := make([]map[string]string, len(inputs))
	for i, in := range inputs {
		if errs[i] = faults[i]; errs[i] == nil {
			vals[i], errs[i] = s.checkRecord(kind, in)
		}
		if errs[i] != nil && !multi {
			e := *errs[i]
			e.Context = nil
			return nil, &e
		}
	}
	resp := &batchResponse{Status: "COMPLETE", Results: []object{}}
	for i, in := range inputs {
		if errs[i] != nil {
			resp.Errors = append(resp.Errors, *errs[i])
			continue
		}
		resp.Results = append(resp.Results, s.write(kind, in, vals[i]))
	}
	resp.NumErrors = len(resp.Errors)
	return resp, nil
}

// checkRecord validates one input against the store; s.mu is held.
func (s *Server) checkRecord(kind string, in writeInput) (map[string]string, *apiError) {
	vals, perrs := s.checkValues(in.props)
	byEmail := in.IDProperty != nil && *in.IDProperty == "email"
	if byEmail {
		if _, err := normalise(Property{Name: "email"}, *in.ID); err != nil {
			perrs = append(perrs, propertyError{"email", "INVALID_EMAIL", fmt.Sprintf("Email address %s is invalid", *in.ID)})
		}
		if e, ok := vals["email"]; ok && e != in.key {
			perrs = append(perrs, propertyError{"email", "INVALID_EMAIL",
				fmt.Sprintf("email %q differs from the id %q the upsert is keyed by", e, *in.ID)})
		}
	}
	if len(perrs) > 0 {
		return nil, recordError(in, "VALIDATION_ERROR", perrs)
	}
	if kind == "update" && s.find(in) == nil {
		e := &apiError{Status: "error", Category: "OBJECT_NOT_FOUND",
			Message: "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.",
			Context: traceContext(in)}
		return nil, e
	}
	return vals, nil
}

// find returns the contact an input names; s.mu is held.
func (s *Server) find(in writeInput) *contact {
	if in.IDProperty != nil && *in.IDProperty != "hs_object_id" {
		return s.contacts[s.byEmail[in.key]]
	}
	return s.contacts[in.key]
}

// write applies one valid input; s.mu is held.
func (s *Server) write(kind string, in writeInput, vals map[string]string) object {
	c := s.find(in)
	created := c == nil
	if created {
		c = s.create(in.key)
	}
	for k, v := range vals {
		if v == "" {
			delete(c.props, k)
		} else {
			c.props[k] = v
		}
	}
	c.updated = time.Now().UTC()
	c.props["lastmodifieddate"] = strconv.FormatInt(c.updated.UnixMilli(), 10)
	props := map[string]string{}
	for k, v := range vals {
		props[k] = v
	}
	for _, k := range []string{"email", "hs_object_id", "createdate", "lastmodifieddate"} {
		if v, ok := c.props[k]; ok {
			props[k] = v
		}
	}
	o := object{ID: c.id, Properties: props, CreatedAt: c.created.Format(time.RFC3339Nano), UpdatedAt: c.updated.Format(time.RFC3339Nano)}
	if kind == "upsert" {
		o.New = &created
	}
	if in.ObjectWriteTraceID != nil {
		o.ObjectWriteTraceID = *in.ObjectWriteTraceID
	}
	return o
}

// traceContext is the context of a per-input error: the id and the
// objectWriteTraceId of the input.
func traceContext(in writeInput) map[string][]string {
	ctx := map[string][]string{"ids": {*in.ID}}
	if in.ObjectWriteTraceID != nil {
		ctx["objectWriteTraceId"] = []string{*in.ObjectWriteTraceID}
	}
	return ctx
}

// recordError is HubSpot's VALIDATION_ERROR for an input's properties.
func recordError(in writeInput, category string, perrs []propertyError) *apiError {
	slices.SortFunc(perrs, func(a, b propertyError) int { return strings.Compare(a.name, b.name) })
	type invalid struct {
		IsValid bool   `json:"isValid"`
		Message string `json:"message"`
		Error   string `json:"error"`
		Name    string `json:"name"`
	}
	list := make([]invalid, len(perrs))
	e := &apiError{Status: "error", Category: category, Context: traceContext(in)}
	for i, p := range perrs {
		list[i] = invalid{false, p.msg, p.code, p.name}
		e.Errors = append(e.Errors, errorDetail{Message: p.msg, Code: p.code, Context: map[string][]string{"propertyName": {p.name}}})
	}
	b, _ := json.Marshal(list)
	e.Message = "Property values were not valid: " + string(b)
	return e
}

// injected is a record fault from the kit: a rejection, or a transient
// lock (HubSpot's 423 Locked, reported per input).
func injected(in writeInput, retry bool) *apiError {
	if retry {
		return &apiError{Status: "error", Category: "LOCKED", Context: traceContext(in),
			Message: "The record is locked by a concurrent write; retry after at least 2 seconds (injected)"}
	}
	return &apiError{Status: "error", Category: "VALIDATION_ERROR", Context: traceContext(in),
		Message: "Property values were not valid: the record was refused (injected)"}
}
