package klaviyo

import (
	"encoding/json"
	"net/http"
	"time"
)

// MaxJobProfiles is the most profiles one bulk import job takes.
const MaxJobProfiles = 10000

// maxProfileBytes is the largest profile of a bulk import ("100KB").
const maxProfileBytes = 100 << 10

// Job statuses.
const (
	statusQueued     = "queued"
	statusProcessing = "processing"
	statusComplete   = "complete"
)

// importJob is a bulk import job and, once complete, its outcome.
type importJob struct {
	id        string
	profiles  []importProfile
	lists     []string
	bytes     int
	polls     int // polls so far
	needed    int // polls it takes
	status    string
	created   time.Time
	started   time.Time
	completed time.Time
	errors    []importError
	imported  []string // profile IDs, in payload order
}

// importError is one profile's failure.
type importError struct {
	id, code, title, detail, pointer string
	original                         map[string]any
}

// JobInfo describes a job, for tests.
type JobInfo struct {
	ID       string
	Profiles int
	Bytes    int // request body size
	Polls    int
	Status   string
	Failed   int
}

// Jobs lists the jobs created, oldest first.
func (s *Server) Jobs() []JobInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]JobInfo, 0, len(s.jobOrder))
	for _, id := range s.jobOrder {
		j := s.jobs[id]
		out = append(out, JobInfo{ID: id, Profiles: len(j.profiles), Bytes: j.bytes, Polls: j.polls,
			Status: j.status, Failed: len(j.errors)})
	}
	return out
}

// bulkImport is POST /api/profile-bulk-import-jobs: the body is checked in
// full (shape, members, at most 10,000 profiles, lists that exist); the job
// starts queued and its profiles are applied when it completes.
func (s *Server) bulkImport(r *http.Request, _ []string, body []byte) (action, *apiError) {
	profiles, lists, e := parseImport(body)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	for i, id := range lists {
		if _, ok := s.lists[id]; !ok {
			s.mu.Unlock()
			return nil, errorf(http.StatusNotFound, "A list with id %s does not exist.", id).at("/data/relationships/lists/data/" + itoa(i) + "/id")
		}
	}
	s.mu.Unlock()
	return func(w http.ResponseWriter) {
		s.mu.Lock()
		j := &importJob{id: newULID(), profiles: profiles, lists: lists, bytes: len(body), needed: s.polls,
			status: statusQueued, created: time.Now().UTC()}
		s.jobs[j.id] = j
		s.jobOrder = append(s.jobOrder, j.id)
		doc := s.jobDoc(r, j)
		s.mu.Unlock()
		s.Wrote()
		writeJSON(w, http.StatusAccepted, doc)
	}, nil
}

// getJob is GET /api/profile-bulk-import-jobs/{id}: each poll moves the job
// on — queued, processing, then complete at the last of its polls
// (DefaultPollsToComplete, SetPollsToComplete).
func (s *Server) getJob(r *http.Request, ids []string, _ []byte) (action, *apiError) {
	j, e := s.job(ids[0])
	if e != nil {
		return nil, e
	}
	return func(w http.ResponseWriter) {
		s.mu.Lock()
		s.advance(j)
		doc := s.jobDoc(r, j)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, doc)
	}, nil
}

// job finds a job (404 when unknown).
func (s *Server) job(id string) (*importJob, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return nil, errorf(http.StatusNotFound, "A bulk import job with id %s does not exist.", id)
	}
	return j, nil
}

// advance counts a poll and moves the job on; s.mu is held.
func (s *Server) advance(j *importJob) {
	if j.status == statusComplete {
		return
	}
	j.polls++
	switch {
	case j.polls >= j.needed:
		s.complete(j)
	case j.polls == j.needed-1:
		j.status, j.started = statusProcessing, time.Now().UTC()
	}
}

// complete applies a job's profiles: those that fail validation, or draw a
// record fault, become import errors; the others are upserted (by id, then
// email) and join the job's lists. s.mu is held.
func (s *Server) complete(j *importJob) {
	if j.started.IsZero() {
		j.started = time.Now().UTC()
	}
	for _, p := range j.profiles {
		if ie := s.checkProfile(p); ie != nil {
			j.errors = append(j.errors, *ie)
			continue
		}
		if reject, retry := s.RecordFault(); reject || retry {
			// Klaviyo documents no transient per-profile error: both are rejections.
			j.errors = append(j.errors, importError{id: newUUID(), code: "invalid", title: "Invalid input.",
				detail: "The profile was rejected (injected fault).", pointer: p.pointer(), original: p.original})
			continue
		}
		prof := s.upsert(p)
		j.imported = append(j.imported, prof.id)
		for _, l := range j.lists {
			s.lists[l][prof.id] = true
		}
	}
	j.status, j.completed = statusComplete, time.Now().UTC()
}

// jobDoc renders a job resource; s.mu is held.
func (s *Server) jobDoc(r *http.Request, j *importJob) map[string]any {
	completed, failed := 0, 0
	switch j.status {
	case statusProcessing:
		completed = len(j.profiles) / 2
	case statusComplete:
		completed, failed = len(j.imported), len(j.errors)
	}
	at := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.Format("2006-01-02T15:04:05.000000+00:00")
	}
	self := "http://" + r.Host + "/api/profile-bulk-import-jobs/" + j.id
	lists := make([]map[string]any, len(j.lists))
	for i, l := range j.lists {
		lists[i] = map[string]any{"type": "list", "id": l}
	}
	return map[string]any{"data": map[string]any{
		"type": "profile-bulk-import-job", "id": j.id,
		"attributes": map[string]any{
			"status": j.status, "created_at": at(j.created), "total_count": len(j.profiles),
			"completed_count": completed, "failed_count": failed, "completed_at": at(j.completed),
			"expires_at": at(j.created.Add(7 * 24 * time.Hour)), "started_at": at(j.started),
		},
		"relationships": map[string]any{
			"lists":         map[string]any{"data": lists, "links": map[string]any{"self": self + "/relationships/lists", "related": self + "/lists"}},
			"profiles":      map[string]any{"links": map[string]any{"self": self + "/relationships/profiles", "related": self + "/profiles"}},
			"import-errors": map[string]any{"links": map[string]any{"related": self + "/import-errors"}},
		},
		"links": map[string]any{"self": self},
	}, "links": map[string]any{"self": self}}
}

// getImportErrors is GET …/{id}/import-errors, paginated (none until the
// job completes).
func (s *Server) getImportErrors(r *http.Request, ids []string, _ []byte) (action, *apiError) {
	j, e := s.job(ids[0])
	if e != nil {
		return nil, e
	}
	pg, e := readPage(r)
	if e == nil {
		_, e = fieldset(r, "fields[import-error]", []string{"code", "detail", "id", "original_payload", "source", "source.pointer", "title"})
	}
	if e != nil {
		return nil, e
	}
	return func(w http.ResponseWriter) {
		s.mu.Lock()
		from, to := pg.slice(len(j.errors))
		data := make([]map[string]any, 0, to-from)
		for _, ie := range j.errors[from:to] {
			data = append(data, map[string]any{"type": "import-error", "id": ie.id, "attributes": map[string]any{
				"code": ie.code, "title": ie.title, "detail": ie.detail,
				"source": map[string]any{"pointer": ie.pointer}, "original_payload": ie.original,
			}})
		}
		n := len(j.errors)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": pg.links(r, n)})
	}, nil
}

// getJobProfiles is GET …/{id}/profiles: the profiles the job created or
// updated, as they are now, paginated.
func (s *Server) getJobProfiles(r *http.Request, ids []string, _ []byte) (action, *apiError) {
	return s.jobProfiles(r, ids[0], false)
}

// getJobProfileIDs is GET …/{id}/relationships/profiles: the same as
// resource identifiers.
func (s *Server) getJobProfileIDs(r *http.Request, ids []string, _ []byte) (action, *apiError) {
	return s.jobProfiles(r, ids[0], true)
}

func (s *Server) jobProfiles(r *http.Request, id string, idsOnly bool) (action, *apiError) {
	j, e := s.job(id)
	if e != nil {
		return nil, e
	}
	pg, e := readPage(r)
	var fields []string
	if e == nil && !idsOnly {
		fields, e = fieldset(r, "fields[profile]", profileFieldNames)
	}
	if e != nil {
		return nil, e
	}
	return func(w http.ResponseWriter) {
		s.mu.Lock()
		from, to := pg.slice(len(j.imported))
		data := make([]map[string]any, 0, to-from)
		for _, pid := range j.imported[from:to] {
			if idsOnly {
				data = append(data, map[string]any{"type": "profile", "id": pid})
			} else {
				data = append(data, s.resource(r, s.profiles[pid], fields))
			}
		}
		n := len(j.imported)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": pg.links(r, n)})
	}, nil
}

// writeJSON answers a JSON:API document.
func writeJSON(w http.ResponseWriter, status int, doc any) {
	b, _ := json.Marshal(doc)
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
