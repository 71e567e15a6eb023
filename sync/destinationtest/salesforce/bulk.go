package salesforce

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
)

// job is one Bulk API 2.0 ingest job.
type job struct {
	ID, Object, Operation, ExtField, LineEnding string
	State                                       string
	created                                     time.Time
	uploaded                                    bool
	header                                      []string
	rows                                        [][]string
	polls                                       int
	errorMessage                                string
	success, failed, unprocessed                [][]string // result rows, without headers
}

// jobCreate is the body of POST /jobs/ingest.
type jobCreate struct {
	Object              string `json:"object"`
	Operation           string `json:"operation"`
	ExternalIDFieldName string `json:"externalIdFieldName"`
	ContentType         string `json:"contentType"`
	LineEnding          string `json:"lineEnding"`
	ColumnDelimiter     string `json:"columnDelimiter"`
}

// info is the job's JobInfo.
func (j *job) info(version string) map[string]any {
	m := map[string]any{"id": j.ID, "operation": j.Operation, "object": j.Object, "createdById": "005cdp0000000001AAA",
		"createdDate": j.created.Format("2006-01-02T15:04:05.000+0000"), "systemModstamp": time.Now().UTC().Format("2006-01-02T15:04:05.000+0000"),
		"state": j.State, "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": version, "jobType": "V2Ingest",
		"lineEnding": j.LineEnding, "columnDelimiter": "COMMA", "contentUrl": "services/data/v" + version + "/jobs/ingest/" + j.ID + "/batches",
		"numberRecordsProcessed": len(j.success) + len(j.failed), "numberRecordsFailed": len(j.failed), "retries": 0, "totalProcessingTime": 42}
	if j.ExtField != "" {
		m["externalIdFieldName"] = j.ExtField
	}
	if j.errorMessage != "" {
		m["errorMessage"] = j.errorMessage
	}
	return m
}

// version reads NN.0 off a request path.
func version(r *http.Request) string {
	return strings.TrimPrefix(strings.Split(strings.TrimPrefix(r.URL.Path, "/services/data/"), "/")[0], "v")
}

// createJob is POST /jobs/ingest. The server runs upsert and delete jobs.
func (s *Server) createJob(w http.ResponseWriter, r *http.Request) {
	body, ok := s.jsonBody(w, r)
	if !ok {
		return
	}
	var c jobCreate
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		s.refuse(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "job: %v", err)
		return
	}
	if msg := checkJob(c); msg != "" {
		s.refuse(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : %s", msg)
		return
	}
	if s.fault(w, r) {
		return
	}
	s.mu.Lock()
	s.jobSeq++
	j := &job{ID: fmt.Sprintf("750cdp%09dAAQ", s.jobSeq), Object: c.Object, Operation: c.Operation, ExtField: c.ExternalIDFieldName,
		LineEnding: orDefault(c.LineEnding, "LF"), State: "Open", created: time.Now().UTC()}
	s.jobs[j.ID] = j
	info := j.info(version(r))
	s.mu.Unlock()
	s.logCall(r.Method, "jobs/ingest create", 0, http.StatusOK)
	writeJSON(w, http.StatusOK, info)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkJob returns what is wrong with a job definition ("" when fine).
func checkJob(c jobCreate) string {
	switch {
	case c.Object != SObject:
		return fmt.Sprintf("object %q: this org holds %s", c.Object, SObject)
	case c.Operation != "upsert" && c.Operation != "delete" && c.Operation != "insert":
		return fmt.Sprintf("operation %q (the contract server runs insert, upsert and delete jobs)", c.Operation)
	case c.Operation == "upsert" && c.ExternalIDFieldName == "":
		return "External ID was blank for Contact. An External ID must be specified for upsert."
	case c.Operation == "upsert" && !isExternalID(c.ExternalIDFieldName):
		return fmt.Sprintf("The field %s is not an External ID field", c.ExternalIDFieldName)
	case c.Operation != "upsert" && c.ExternalIDFieldName != "":
		return "externalIdFieldName is only for upsert jobs"
	case c.ContentType != "" && c.ContentType != "CSV":
		return fmt.Sprintf("contentType %q, the only one is CSV", c.ContentType)
	case c.LineEnding != "" && c.LineEnding != "LF" && c.LineEnding != "CRLF":
		return fmt.Sprintf("lineEnding %q, want LF or CRLF", c.LineEnding)
	case c.ColumnDelimiter != "" && c.ColumnDelimiter != "COMMA":
		return fmt.Sprintf("columnDelimiter %q (the contract server reads COMMA only)", c.ColumnDelimiter)
	}
	return ""
}

func isExternalID(name string) bool {
	f, ok := fieldByName(name)
	return ok && f.ExternalID
}

// lookupJob finds a job or answers 404.
func (s *Server) lookupJob(w http.ResponseWriter, r *http.Request, id string) *job {
	s.mu.Lock()
	j := s.jobs[id]
	s.mu.Unlock()
	if j == nil {
		s.refuse(w, http.StatusNotFound, "NOT_FOUND", "%s %s: no job %s", r.Method, r.URL.Path, id)
	}
	return j
}

// upload is PUT /jobs/ingest/{id}/batches: one CSV per job, while Open.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, id string) {
	j := s.lookupJob(w, r, id)
	if j == nil {
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "text/csv" {
		s.refuse(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "job data content-type %q, want text/csv", ct)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxUpload+1))
	if err != nil {
		return
	}
	if len(body) > MaxUpload {
		s.refuse(w, http.StatusRequestEntityTooLarge, "INVALIDBATCH", "job data larger than %d bytes (150 MB once base64-encoded)", MaxUpload)
		return
	}
	header, rows, msg := parseCSV(body, j.LineEnding)
	s.mu.Lock()
	state, uploaded := j.State, j.uploaded
	s.mu.Unlock()
	switch {
	case state != "Open" || uploaded:
		s.refuse(w, http.StatusConflict, "INVALIDJOBSTATE", "job %s is %s; data is uploaded once, to an Open job", id, state)
		return
	case msg != "":
		s.refuse(w, http.StatusBadRequest, "INVALIDBATCH", "InvalidBatch : %s", msg)
		return
	}
	if s.fault(w, r) {
		return
	}
	s.mu.Lock()
	j.header, j.rows, j.uploaded = header, rows, true
	s.mu.Unlock()
	s.logCall(r.Method, "jobs/ingest upload", len(rows), http.StatusCreated)
	w.WriteHeader(http.StatusCreated)
}

// parseCSV reads job data strictly: a header, rows of its width, the
// job's line ending.
func parseCSV(body []byte, lineEnding string) ([]string, [][]string, string) {
	if lineEnding == "LF" && bytes.Contains(body, []byte("\r\n")) {
		return nil, nil, "CRLF line endings in a job declared lineEnding LF"
	}
	rd := csv.NewReader(bytes.NewReader(body))
	all, err := rd.ReadAll()
	switch {
	case err != nil:
		return nil, nil, "malformed CSV: " + err.Error()
	case len(all) < 2:
		return nil, nil, "no data rows"
	}
	return all[0], all[1:], ""
}

// closeJob is PATCH /jobs/ingest/{id} {"state": "UploadComplete"|"Aborted"}.
// UploadComplete processes the data at once; job info reports it
// InProgress for a few polls before JobComplete.
func (s *Server) closeJob(w http.ResponseWriter, r *http.Request, id string) {
	j := s.lookupJob(w, r, id)
	if j == nil {
		return
	}
	body, ok := s.jsonBody(w, r)
	if !ok {
		return
	}
	var req struct {
		State string `json:"state"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || (req.State != "UploadComplete" && req.State != "Aborted") {
		s.refuse(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "job state change %s: want {\"state\": \"UploadComplete\"} or Aborted", body)
		return
	}
	s.mu.Lock()
	state, uploaded := j.State, j.uploaded
	s.mu.Unlock()
	if req.State == "UploadComplete" && (state != "Open" || !uploaded) {
		s.refuse(w, http.StatusConflict, "INVALIDJOBSTATE", "job %s is %s (uploaded: %v); only an Open job with data can be closed", id, state, uploaded)
		return
	}
	if s.fault(w, r) {
		return
	}
	s.mu.Lock()
	if req.State == "Aborted" {
		if !finishedState(j.State) {
			j.State = "Aborted"
			j.unprocessed = j.rows
		}
	} else {
		j.State = "UploadComplete"
		s.process(j)
	}
	info := j.info(version(r))
	s.mu.Unlock()
	if req.State == "UploadComplete" {
		s.Kit.Wrote()
	}
	s.logCall(r.Method, "jobs/ingest "+req.State, len(j.rows), http.StatusOK)
	writeJSON(w, http.StatusOK, info)
}

func finishedState(st string) bool { return st == "JobComplete" || st == "Failed" || st == "Aborted" }

// process applies a closed job's rows (under s.mu). A header naming an
// unknown field fails the whole job, as Salesforce does.
func (s *Server) process(j *job) {
	if msg := checkHeader(j); msg != "" {
		j.errorMessage, j.unprocessed = "InvalidBatch : "+msg, j.rows
		return
	}
	for _, row := range j.rows {
		var id string
		var created bool
		errs := s.recordFault(row[0])
		if errs == nil && j.Operation == "delete" {
			id, errs = row[0], s.store.remove(row[0])
		} else if errs == nil {
			id, created, errs = s.upsertRow(j.header, row, j.Operation == "insert")
		}
		if errs != nil {
			j.failed = append(j.failed, append([]string{id, errs[0].bulkText()}, row...))
			continue
		}
		j.success = append(j.success, append([]string{id, fmt.Sprint(created)}, row...))
	}
}

// checkHeader checks a job's columns against the object.
func checkHeader(j *job) string {
	if j.Operation == "delete" {
		if len(j.header) != 1 || j.header[0] != "Id" {
			return fmt.Sprintf("a delete job's CSV has the single column Id, not %v", j.header)
		}
		return ""
	}
	if j.Operation == "upsert" && !slices.ContainsFunc(j.header, func(h string) bool { return strings.EqualFold(h, j.ExtField) }) {
		return "The External ID field " + j.ExtField + " is missing from the header"
	}
	for _, h := range j.header {
		if _, ok := fieldByName(h); !ok {
			return "Field name not found : " + h
		}
	}
	return ""
}

// upsertRow upserts (or creates) one CSV row: empty cells leave fields
// alone, #N/A clears them.
func (s *Server) upsertRow(header, row []string, create bool) (string, bool, []sfError) {
	vals := map[string]value{}
	ext := ""
	for c, h := range header {
		f, _ := fieldByName(h)
		cell := row[c]
		if strings.EqualFold(h, ExternalIDField) {
			ext = cell
			continue
		}
		if cell == "" {
			continue
		}
		v, err := parseText(f, cell)
		if err != nil {
			return "", false, []sfError{*err}
		}
		vals[f.Name] = v
	}
	if create {
		id, errs := s.store.create(ext, vals)
		return id, errs == nil, errs
	}
	if ext == "" {
		return "", false, []sfError{{StatusCode: "MISSING_ARGUMENT", Message: ExternalIDField + " not specified", Fields: []string{}}}
	}
	return s.store.upsert(ext, vals)
}

// jobInfo is GET /jobs/ingest/{id}: each request after the job was closed
// moves it on; after pollsToDone it is JobComplete (Failed when its data
// was refused).
func (s *Server) jobInfo(w http.ResponseWriter, r *http.Request, id string) {
	j := s.lookupJob(w, r, id)
	if j == nil || s.fault(w, r) {
		return
	}
	s.mu.Lock()
	if !finishedState(j.State) && j.State != "Open" {
		j.polls++
		switch {
		case j.polls >= s.pollsToDone && j.errorMessage != "":
			j.State = "Failed"
		case j.polls >= s.pollsToDone:
			j.State = "JobComplete"
		default:
			j.State = "InProgress"
		}
	}
	info := j.info(version(r))
	s.mu.Unlock()
	s.logCall(r.Method, "jobs/ingest info", 0, http.StatusOK)
	writeJSON(w, http.StatusOK, info)
}

// results is GET /jobs/ingest/{id}/{successfulResults|failedResults|unprocessedrecords}/
// of a finished job, rows in reverse upload order (Bulk API keeps none).
func (s *Server) results(w http.ResponseWriter, r *http.Request, id, kind string) {
	j := s.lookupJob(w, r, id)
	if j == nil {
		return
	}
	s.mu.Lock()
	state := j.State
	s.mu.Unlock()
	var lead []string
	switch kind {
	case "successfulResults":
		lead = []string{"sf__Id", "sf__Created"}
	case "failedResults":
		lead = []string{"sf__Id", "sf__Error"}
	case "unprocessedrecords":
	default:
		s.refuse(w, http.StatusNotFound, "NOT_FOUND", "%s %s: the requested resource does not exist", r.Method, r.URL.Path)
		return
	}
	if !finishedState(state) {
		s.refuse(w, http.StatusBadRequest, "INVALIDJOBSTATE", "results of job %s asked while it is %s", id, state)
		return
	}
	if s.fault(w, r) {
		return
	}
	s.mu.Lock()
	rows := map[string][][]string{"successfulResults": j.success, "failedResults": j.failed, "unprocessedrecords": j.unprocessed}[kind]
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	_ = cw.Write(append(lead, j.header...))
	for i := len(rows) - 1; i >= 0; i-- {
		_ = cw.Write(rows[i])
	}
	cw.Flush()
	s.mu.Unlock()
	s.logCall(r.Method, "jobs/ingest "+kind, len(rows), http.StatusOK)
	w.Header().Set("Content-Type", "text/csv")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}
