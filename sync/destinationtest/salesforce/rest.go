package salesforce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// maxJSONBody is the most bytes of a JSON request body the server reads.
const maxJSONBody = 50 << 20

// saveResult is one record's result of an sObject Collections request.
type saveResult struct {
	ID      *string   `json:"id"`
	Success bool      `json:"success"`
	Errors  []sfError `json:"errors"`
	Created *bool     `json:"created,omitempty"`
}

// upsertItem is one decoded record of an upsert.
type upsertItem struct {
	ext  string
	vals map[string]value
	err  *sfError // a per-record error found while decoding
}

// errViolation marks a decoding problem that breaks the contract.
type errViolation struct{ msg string }

func (e errViolation) Error() string { return e.msg }

// upsertCollection is PATCH /composite/sobjects/{sobject}/{field}.
func (s *Server) upsertCollection(w http.ResponseWriter, r *http.Request, sobject, extField string) {
	if sobject != SObject {
		writeErrors(w, http.StatusNotFound, apiError{Message: "The requested resource does not exist", ErrorCode: "NOT_FOUND"})
		return
	}
	if f, ok := fieldByName(extField); !ok || !f.ExternalID {
		writeErrors(w, http.StatusBadRequest, apiError{ErrorCode: "INVALID_FIELD",
			Message: fmt.Sprintf("Field name provided, %s is not an External ID or indexed field for %s", extField, SObject)})
		return
	}
	body, ok := s.jsonBody(w, r)
	if !ok {
		return
	}
	allOrNone, items, invalid, err := decodeUpsert(body)
	var v errViolation
	switch {
	case errors.As(err, &v):
		s.refuse(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "%s", v.msg)
		return
	case err != nil:
		s.refuse(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "%v", err)
		return
	case invalid != nil:
		writeErrors(w, http.StatusBadRequest, *invalid)
		return
	}
	if s.fault(w, r) {
		return
	}
	results := s.applyUpserts(items, allOrNone)
	s.Kit.Wrote()
	s.logCall(r.Method, "composite/sobjects upsert", len(items), http.StatusOK)
	writeJSON(w, http.StatusOK, results)
}

// createCollection is POST /composite/sobjects: create up to 200 records
// (the body as for an upsert).
func (s *Server) createCollection(w http.ResponseWriter, r *http.Request) {
	body, ok := s.jsonBody(w, r)
	if !ok {
		return
	}
	allOrNone, items, invalid, err := decodeUpsert(body)
	var v errViolation
	switch {
	case errors.As(err, &v):
		s.refuse(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "%s", v.msg)
		return
	case err != nil:
		s.refuse(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "%v", err)
		return
	case invalid != nil:
		writeErrors(w, http.StatusBadRequest, *invalid)
		return
	}
	if s.fault(w, r) {
		return
	}
	results := s.applyCreates(items, allOrNone)
	s.Kit.Wrote()
	s.logCall(r.Method, "composite/sobjects create", len(items), http.StatusOK)
	writeJSON(w, http.StatusOK, results)
}

// applyCreates creates the items in order, drawing record faults.
func (s *Server) applyCreates(items []upsertItem, allOrNone bool) []saveResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	var snapshot *store
	if allOrNone {
		snapshot = s.store.clone()
	}
	out := make([]saveResult, len(items))
	failed := false
	for i, it := range items {
		errs := s.recordFault(it.ext)
		if errs == nil && it.err != nil && it.err.StatusCode != "MISSING_ARGUMENT" {
			errs = []sfError{*it.err}
		}
		var id string
		if errs == nil {
			id, errs = s.store.create(it.ext, it.vals)
		}
		out[i] = result(id, errs)
		failed = failed || errs != nil
	}
	if allOrNone && failed {
		s.store = snapshot
		rollback(out)
		for i := range out {
			out[i].Created = nil
		}
	}
	return out
}

// jsonBody reads a JSON request body; a wrong content type or an
// oversize body is a violation.
func (s *Server) jsonBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		s.refuse(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
			"Content-Type header specified in HTTP request is not supported: %q", r.Header.Get("Content-Type"))
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return nil, false // the client went away
	}
	if len(body) > maxJSONBody {
		s.refuse(w, http.StatusRequestEntityTooLarge, "JSON_PARSER_ERROR", "request body larger than %d bytes", maxJSONBody)
		return nil, false
	}
	return body, true
}

// decodeUpsert reads {"allOrNone", "records": [...]} strictly.
func decodeUpsert(body []byte) (bool, []upsertItem, *apiError, error) {
	var req struct {
		AllOrNone *bool             `json:"allOrNone"`
		Records   []json.RawMessage `json:"records"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return false, nil, nil, errViolation{"body: " + err.Error()}
	}
	if dec.More() {
		return false, nil, nil, errViolation{"body: data after the JSON object"}
	}
	switch n := len(req.Records); {
	case n == 0:
		return false, nil, nil, errViolation{`body: "records" missing or empty`}
	case n > MaxCollection:
		return false, nil, nil, fmt.Errorf("record limit reached. cannot submit more than %d records into this call (got %d)", MaxCollection, n)
	}
	items := make([]upsertItem, len(req.Records))
	seen := map[string]bool{}
	for i, raw := range req.Records {
		it, invalid, err := decodeRecord(raw)
		if err != nil {
			return false, nil, nil, errViolation{fmt.Sprintf("records[%d]: %v", i, err)}
		}
		if invalid != nil {
			return false, nil, invalid, nil
		}
		if k := strings.ToLower(it.ext); it.err == nil && seen[k] {
			it.err = &sfError{StatusCode: "DUPLICATE_VALUE", Message: "Duplicate external id specified: " + it.ext, Fields: []string{ExternalIDField}}
		} else {
			seen[k] = true
		}
		items[i] = it
	}
	return req.AllOrNone != nil && *req.AllOrNone, items, nil, nil
}

// decodeRecord reads one sObject of an upsert: attributes.type must be
// Contact, no Id, known fields with values of their type.
func decodeRecord(raw json.RawMessage) (upsertItem, *apiError, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return upsertItem{}, nil, errors.New("not a JSON object")
	}
	attrs, ok := m["attributes"].(map[string]any)
	if !ok {
		return upsertItem{}, nil, errors.New(`no "attributes" map (it must give the type)`)
	}
	if attrs["type"] != SObject {
		return upsertItem{}, nil, fmt.Errorf("attributes.type is %v, want %s as in the URI", attrs["type"], SObject)
	}
	it := upsertItem{vals: map[string]value{}}
	for k, raw := range m {
		if k == "attributes" {
			continue
		}
		f, ok := fieldByName(k)
		if !ok {
			return upsertItem{}, &apiError{ErrorCode: "INVALID_FIELD", Message: fmt.Sprintf("No such column '%s' on sobject of type %s", k, SObject)}, nil
		}
		if f.Name == "Id" {
			return upsertItem{}, nil, errors.New("an upsert by External ID must not set Id")
		}
		v, err := jsonValue(f, raw)
		if err != nil {
			return upsertItem{}, nil, err
		}
		if f.Name == ExternalIDField {
			it.ext, _ = v.v.(string)
			continue
		}
		it.vals[f.Name] = v
	}
	if it.ext == "" {
		it.err = &sfError{StatusCode: "MISSING_ARGUMENT", Message: ExternalIDField + " not specified", Fields: []string{}}
	}
	return it, nil, nil
}

// jsonValue checks a JSON value against a field's type.
func jsonValue(f Field, raw any) (value, error) {
	bad := func() (value, error) {
		return value{}, fmt.Errorf("Cannot deserialize instance of %s from %T value %v for field %s", f.Type, raw, raw, f.Name)
	}
	switch x := raw.(type) {
	case nil:
		return value{null: true}, nil
	case json.Number:
		switch f.Type {
		case "double", "currency", "percent", "int", "long":
			n, err := x.Float64()
			if err != nil {
				return bad()
			}
			return value{v: n}, nil
		case "boolean", "datetime", "date":
			return bad()
		}
		return value{v: x.String()}, nil
	case bool:
		switch f.Type {
		case "boolean":
			return value{v: x}, nil
		case "double", "currency", "percent", "int", "long", "datetime", "date":
			return bad()
		}
		return value{v: fmt.Sprint(x)}, nil
	case string:
		switch f.Type {
		case "double", "currency", "percent", "int", "long", "boolean":
			return bad()
		case "datetime":
			if _, err := time.Parse(time.RFC3339, x); err != nil {
				return bad()
			}
		}
		return value{v: x}, nil
	}
	return bad()
}

// applyUpserts writes the items in order, drawing the Kit's record faults;
// with allOrNone one failure rolls every record back.
func (s *Server) applyUpserts(items []upsertItem, allOrNone bool) []saveResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	var snapshot *store
	if allOrNone {
		snapshot = s.store.clone()
	}
	out := make([]saveResult, len(items))
	failed := false
	for i, it := range items {
		errs := s.recordFault(it.ext)
		if errs == nil && it.err != nil {
			errs = []sfError{*it.err}
		}
		var id string
		created := false
		if errs == nil {
			id, created, errs = s.store.upsert(it.ext, it.vals)
		}
		out[i] = result(id, errs)
		out[i].Created = &created
		failed = failed || errs != nil
	}
	if allOrNone && failed {
		s.store = snapshot
		rollback(out)
	}
	return out
}

// recordFault draws the Kit's record fault: a validation-rule rejection or
// a locked row (UNABLE_TO_LOCK_ROW, Salesforce's transient error).
func (s *Server) recordFault(what string) []sfError {
	reject, retry := s.Kit.RecordFault()
	switch {
	case reject:
		return []sfError{{StatusCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "rejected by validation rule CDP_Check (injected fault): " + what, Fields: []string{}}}
	case retry:
		return []sfError{{StatusCode: "UNABLE_TO_LOCK_ROW", Message: "unable to obtain exclusive access to this record or 1 records: " + what, Fields: []string{}}}
	}
	return nil
}

// result is a save result with an Id, or the errors.
func result(id string, errs []sfError) saveResult {
	if errs != nil {
		return saveResult{Errors: errs}
	}
	return saveResult{ID: &id, Success: true, Errors: []sfError{}}
}

// rollback turns every success of an allOrNone request into the rollback
// error, keeping the failures' own errors.
func rollback(out []saveResult) {
	for i := range out {
		if out[i].Success {
			f := false
			out[i] = saveResult{Errors: []sfError{{StatusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK",
				Message: "Record rolled back because not all records were valid and the request was using AllOrNone header", Fields: []string{}}}, Created: &f}
		}
	}
}

// deleteCollection is DELETE /composite/sobjects?ids=…&allOrNone=….
func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	raw := q.Get("ids")
	if raw == "" {
		s.refuse(w, http.StatusBadRequest, "MISSING_ARGUMENT", "DELETE composite/sobjects without ids")
		return
	}
	ids := strings.Split(raw, ",")
	if len(ids) > MaxCollection {
		s.refuse(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than %d records into this call (got %d)", MaxCollection, len(ids))
		return
	}
	if a := q.Get("allOrNone"); a != "" && a != "true" && a != "false" {
		s.refuse(w, http.StatusBadRequest, "INVALID_QUERY_FILTER_OPERATOR", "allOrNone=%q, want true or false", a)
		return
	}
	if s.fault(w, r) {
		return
	}
	out := s.applyDeletes(ids, q.Get("allOrNone") == "true")
	s.Kit.Wrote()
	s.logCall(r.Method, "composite/sobjects delete", len(ids), http.StatusOK)
	writeJSON(w, http.StatusOK, out)
}

// applyDeletes deletes by Id in order, drawing record faults.
func (s *Server) applyDeletes(ids []string, allOrNone bool) []saveResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	var snapshot *store
	if allOrNone {
		snapshot = s.store.clone()
	}
	out := make([]saveResult, len(ids))
	failed := false
	for i, id := range ids {
		errs := s.recordFault(id)
		if errs == nil {
			errs = s.store.remove(id)
		}
		out[i] = result(id, errs)
		out[i].ID = &ids[i]
		failed = failed || errs != nil
	}
	if allOrNone && failed {
		s.store = snapshot
		rollback(out)
	}
	return out
}

// describe is GET /sobjects/{sobject}/describe (never faulted: it is not
// part of a delivery).
func (s *Server) describe(w http.ResponseWriter, sobject string) {
	if sobject != SObject {
		writeErrors(w, http.StatusNotFound, apiError{Message: "The requested resource does not exist", ErrorCode: "NOT_FOUND"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": SObject, "label": "Contact", "keyPrefix": "003", "custom": false,
		"createable": true, "updateable": true, "deletable": true, "queryable": true, "fields": contactFields})
}

// getByField is GET /sobjects/{sobject}/{field}/{value}?fields=….
func (s *Server) getByField(w http.ResponseWriter, r *http.Request, sobject, field, val string) {
	f, ok := fieldByName(field)
	if sobject != SObject || !ok || !(f.ExternalID || f.IDLookup) {
		writeErrors(w, http.StatusNotFound, apiError{ErrorCode: "NOT_FOUND",
			Message: "Provided external ID field does not exist or is not accessible: " + field})
		return
	}
	var want []Field
	if q := r.URL.Query().Get("fields"); q != "" {
		for _, name := range strings.Split(q, ",") {
			wf, ok := fieldByName(strings.TrimSpace(name))
			if !ok {
				writeErrors(w, http.StatusBadRequest, apiError{ErrorCode: "INVALID_FIELD",
					Message: fmt.Sprintf("No such column '%s' on entity '%s'", name, SObject)})
				return
			}
			want = append(want, wf)
		}
	}
	if s.fault(w, r) {
		return
	}
	s.mu.Lock()
	matches := s.store.find(f, val)
	out := make([]map[string]any, len(matches))
	for i, m := range matches {
		out[i] = render(m, want, r.URL.Path)
	}
	s.mu.Unlock()
	s.logCall(r.Method, "sobjects by field", 0, http.StatusOK)
	switch len(out) {
	case 0:
		writeErrors(w, http.StatusNotFound, apiError{Message: "The requested resource does not exist", ErrorCode: "NOT_FOUND"})
	case 1:
		writeJSON(w, http.StatusOK, out[0])
	default:
		urls := make([]string, len(out))
		for i, o := range out {
			urls[i] = o["attributes"].(map[string]string)["url"]
		}
		writeJSON(w, http.StatusMultipleChoices, urls)
	}
}

// render is a record as the REST API returns it: attributes, Id and the
// asked fields (all of them when none are asked).
func render(rec *record, want []Field, path string) map[string]any {
	version := strings.Split(strings.TrimPrefix(path, "/services/data/"), "/")[0]
	out := map[string]any{"attributes": map[string]string{"type": SObject,
		"url": "/services/data/" + version + "/sobjects/" + SObject + "/" + rec.id}}
	if want == nil {
		want = contactFields
	}
	for _, f := range want {
		if f.Name == "Id" {
			out["Id"] = rec.id
			continue
		}
		out[f.Name] = rec.fields[f.Name]
	}
	return out
}
