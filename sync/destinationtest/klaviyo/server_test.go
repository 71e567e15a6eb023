package klaviyo_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/destinationtest/klaviyo"
)

// recorder is a testing.TB that collects contract violations instead of
// failing, for tests of what the server refuses.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// call sends a request with valid headers unless hdr overrides them
// (name, value pairs; an empty value drops the header).
func call(t *testing.T, s *klaviyo.Server, method, path string, body any, hdr ...string) (*http.Response, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, s.URL()+path, rd)
	req.Header.Set("Authorization", "Klaviyo-API-Key "+s.Key())
	req.Header.Set("revision", "2025-10-15")
	req.Header.Set("Accept", "application/vnd.api+json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/vnd.api+json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s %s: %d body is not JSON: %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp, doc
}

func profiles(emails ...string) []map[string]any {
	out := make([]map[string]any, len(emails))
	for i, e := range emails {
		out[i] = map[string]any{"type": "profile", "attributes": map[string]any{
			"email": e, "first_name": "N" + fmt.Sprint(i), "properties": map[string]any{"ltv": 10.5 * float64(i)}}}
	}
	return out
}

func importBody(list string, ps []map[string]any) map[string]any {
	data := map[string]any{"type": "profile-bulk-import-job", "attributes": map[string]any{"profiles": map[string]any{"data": ps}}}
	if list != "" {
		data["relationships"] = map[string]any{"lists": map[string]any{"data": []any{map[string]any{"type": "list", "id": list}}}}
	}
	return map[string]any{"data": data}
}

func get(doc map[string]any, path ...any) any {
	var x any = doc
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := x.(map[string]any)
			x = m[k]
		case int:
			a, _ := x.([]any)
			if k >= len(a) {
				return nil
			}
			x = a[k]
		}
	}
	return x
}

func TestJobTakesSeveralPollsThenApplies(t *testing.T) {
	s := klaviyo.New(t)
	s.SetPollsToComplete(3)
	resp, doc := call(t, s, "POST", "/api/profile-bulk-import-jobs",
		importBody(s.ListID(), profiles("a@x.org", "not-an-email", "b@x.org")))
	if resp.StatusCode != 202 || get(doc, "data", "attributes", "status") != "queued" {
		t.Fatalf("create: %d %v", resp.StatusCode, doc)
	}
	id := get(doc, "data", "id").(string)
	var statuses []string
	for range 3 {
		_, doc = call(t, s, "GET", "/api/profile-bulk-import-jobs/"+id, nil)
		statuses = append(statuses, get(doc, "data", "attributes", "status").(string))
	}
	if strings.Join(statuses, ",") != "queued,processing,complete" {
		t.Errorf("statuses = %v", statuses)
	}
	if c, f := get(doc, "data", "attributes", "completed_count"), get(doc, "data", "attributes", "failed_count"); c != 2.0 || f != 1.0 {
		t.Errorf("counts %v %v", c, f)
	}
	_, errs := call(t, s, "GET", "/api/profile-bulk-import-jobs/"+id+"/import-errors", nil)
	if p := get(errs, "data", 0, "attributes", "source", "pointer"); p != "/data/attributes/profiles/data/1/attributes/email" {
		t.Errorf("import error pointer %v in %v", p, errs)
	}
	if get(errs, "data", 0, "attributes", "original_payload", "email") != "not-an-email" {
		t.Errorf("original_payload: %v", errs)
	}
	_, profs := call(t, s, "GET", "/api/profile-bulk-import-jobs/"+id+"/profiles?fields[profile]=email&page[size]=1", nil)
	if get(profs, "data", 0, "attributes", "email") != "a@x.org" || get(profs, "data", 0, "attributes", "first_name") != nil {
		t.Errorf("profiles page: %v", profs)
	}
	next, _ := get(profs, "links", "next").(string)
	if !strings.HasPrefix(next, s.URL()+"/api/profile-bulk-import-jobs/"+id+"/profiles?") {
		t.Errorf("links.next = %q", next)
	}
	want := map[string]map[string]string{
		"a@x.org": {"email": "a@x.org", "name": "N0", "ltv": "0"},
		"b@x.org": {"email": "b@x.org", "name": "N2", "ltv": "21"},
	}
	if got := s.Audience("mirror"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audience = %v, want %v", got, want)
	}
	if st := s.Stats(); st.Writes != 1 || st.Invalid != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestBulkImportIgnoresNullsUpdateProfileClears(t *testing.T) {
	s := klaviyo.New(t)
	_, doc := call(t, s, "POST", "/api/profile-bulk-import-jobs", importBody("", profiles("a@x.org")))
	id := get(doc, "data", "id").(string)
	for range 3 {
		call(t, s, "GET", "/api/profile-bulk-import-jobs/"+id, nil)
	}
	nulls := []map[string]any{{"type": "profile", "attributes": map[string]any{"email": "a@x.org", "first_name": nil, "properties": map[string]any{"ltv": nil}}}}
	_, doc = call(t, s, "POST", "/api/profile-bulk-import-jobs", importBody("", nulls))
	id2 := get(doc, "data", "id").(string)
	for range 3 {
		call(t, s, "GET", "/api/profile-bulk-import-jobs/"+id2, nil)
	}
	if a := s.Audience("upsert")["a@x.org"]; a["name"] != "N0" || a["ltv"] != "0" {
		t.Errorf("a bulk import must not clear: %v", a)
	}
	pid := s.ProfileID("a@x.org")
	resp, _ := call(t, s, "PATCH", "/api/profiles/"+pid, map[string]any{"data": map[string]any{"type": "profile", "id": pid,
		"attributes": map[string]any{"first_name": nil},
		"meta":       map[string]any{"patch_properties": map[string]any{"unset": []string{"ltv"}}}}})
	if resp.StatusCode != 200 {
		t.Fatalf("patch: %d", resp.StatusCode)
	}
	if a := s.Audience("upsert")["a@x.org"]; len(a) != 1 {
		t.Errorf("after Update Profile: %v", a)
	}
	_, found := call(t, s, "GET", `/api/profiles?filter=any(email,["A@x.org","nobody@x.org"])`, nil)
	if get(found, "data", 0, "id") != pid || get(found, "data", 1) != nil {
		t.Errorf("get profiles: %v", found)
	}
}

func TestListRelationships(t *testing.T) {
	s := klaviyo.New(t)
	_, doc := call(t, s, "POST", "/api/profile-bulk-import-jobs", importBody(s.ListID(), profiles("a@x.org", "b@x.org")))
	id := get(doc, "data", "id").(string)
	for range 3 {
		call(t, s, "GET", "/api/profile-bulk-import-jobs/"+id, nil)
	}
	ref := map[string]any{"data": []any{map[string]any{"type": "profile", "id": s.ProfileID("a@x.org")}}}
	if resp, _ := call(t, s, "DELETE", "/api/lists/"+s.ListID()+"/relationships/profiles", ref); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if m := s.Audience("mirror"); len(m) != 1 || m["b@x.org"] == nil {
		t.Errorf("members %v", m)
	}
	if u := s.Audience("upsert"); len(u) != 2 {
		t.Errorf("the profile must stay: %v", u)
	}
	if resp, _ := call(t, s, "POST", "/api/lists/"+s.ListID()+"/relationships/profiles", ref); resp.StatusCode != 204 {
		t.Fatalf("add: %d", resp.StatusCode)
	}
	if m := s.Audience("mirror"); len(m) != 2 {
		t.Errorf("members %v", m)
	}
}

// refusal is a request the contract refuses.
type refusal struct {
	name      string
	method    string
	path      string
	body      any
	hdr       []string
	status    int
	code      string
	pointer   string
	violation bool
}

func TestRefusesWhatKlaviyoRefuses(t *testing.T) {
	big := strings.Repeat("x", 60<<10)
	var huge []map[string]any
	for i := range 90 {
		huge = append(huge, map[string]any{"type": "profile", "attributes": map[string]any{"email": fmt.Sprintf("u%d@x.org", i),
			"properties": map[string]any{"blob": big}}})
	}
	tooMany := make([]map[string]any, 10001)
	for i := range tooMany {
		tooMany[i] = map[string]any{"type": "profile", "attributes": map[string]any{"email": fmt.Sprintf("u%d@x.org", i)}}
	}
	members := make([]any, 1001)
	for i := range members {
		members[i] = map[string]any{"type": "profile", "id": fmt.Sprint(i)}
	}
	ok := importBody("", profiles("a@x.org"))
	cases := []refusal{
		{name: "no credentials", method: "POST", path: "/api/profile-bulk-import-jobs", body: ok, hdr: []string{"Authorization", ""},
			status: 401, code: "not_authenticated", violation: true},
		{name: "bearer scheme", method: "POST", path: "/api/profile-bulk-import-jobs", body: ok, hdr: []string{"Authorization", "Bearer pk_x"},
			status: 401, code: "not_authenticated", violation: true},
		{name: "wrong key", method: "POST", path: "/api/profile-bulk-import-jobs", body: ok, hdr: []string{"Authorization", "Klaviyo-API-Key pk_wrong"},
			status: 401, code: "not_authenticated"},
		{name: "unknown path", method: "POST", path: "/api/profile-import-jobs", body: ok, status: 404, code: "not_found", violation: true},
		{name: "wrong method", method: "PUT", path: "/api/profile-bulk-import-jobs", body: ok, status: 405, code: "method_not_allowed", violation: true},
		{name: "no revision", method: "POST", path: "/api/profile-bulk-import-jobs", body: ok, hdr: []string{"revision", ""},
			status: 400, code: "invalid", violation: true},
		{name: "old revision", method: "POST", path: "/api/profile-bulk-import-jobs", body: ok, hdr: []string{"revision", "2023-02-22"},
			status: 400, code: "invalid", violation: true},
		{name: "json content-type", method: "POST", path: "/api/profile-bulk-import-jobs", body: ok, hdr: []string{"Content-Type", "application/json"},
			status: 415, code: "unsupported_media_type", violation: true},
		{name: "unknown member", method: "POST", path: "/api/profile-bulk-import-jobs", status: 400, code: "invalid", violation: true,
			body:    importBody("", []map[string]any{{"type": "profile", "attributes": map[string]any{"email": "a@x.org", "ltv": 3}}}),
			pointer: "/data/attributes/profiles/data/0/attributes/ltv"},
		{name: "missing type", method: "POST", path: "/api/profile-bulk-import-jobs", status: 400, code: "invalid", violation: true,
			body:    map[string]any{"data": map[string]any{"attributes": map[string]any{"profiles": map[string]any{"data": profiles("a@x.org")}}}},
			pointer: "/data/type"},
		{name: "missing profiles", method: "POST", path: "/api/profile-bulk-import-jobs", status: 400, code: "invalid", violation: true,
			body: map[string]any{"data": map[string]any{"type": "profile-bulk-import-job", "attributes": map[string]any{}}}, pointer: "/data/attributes/profiles"},
		{name: "number as first_name", method: "POST", path: "/api/profile-bulk-import-jobs", status: 400, code: "invalid", violation: true,
			body:    importBody("", []map[string]any{{"type": "profile", "attributes": map[string]any{"email": "a@x.org", "first_name": 7}}}),
			pointer: "/data/attributes/profiles/data/0/attributes/first_name"},
		{name: "10,001 profiles", method: "POST", path: "/api/profile-bulk-import-jobs", body: importBody("", tooMany),
			status: 400, code: "invalid", violation: true, pointer: "/data/attributes/profiles/data"},
		{name: "over 5 MB", method: "POST", path: "/api/profile-bulk-import-jobs", body: importBody("", huge),
			status: 413, code: "request_too_large", violation: true},
		{name: "unknown list", method: "POST", path: "/api/profile-bulk-import-jobs", body: importBody("NoSuch", profiles("a@x.org")),
			status: 404, code: "not_found"},
		{name: "unknown job", method: "GET", path: "/api/profile-bulk-import-jobs/01NOSUCHJOB", status: 404, code: "not_found"},
		{name: "page too large", method: "GET", path: "/api/profiles?page[size]=500", status: 400, code: "invalid", violation: true},
		{name: "1,001 list members", method: "DELETE", path: "/api/lists/LIST/relationships/profiles", body: map[string]any{"data": members},
			status: 400, code: "invalid", violation: true, pointer: "/data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			s := klaviyo.New(rec)
			c.path = strings.ReplaceAll(c.path, "LIST", s.ListID())
			resp, doc := call(t, s, c.method, c.path, c.body, c.hdr...)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, c.status, doc)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.api+json" {
				t.Errorf("content-type %q", ct)
			}
			e, _ := get(doc, "errors", 0).(map[string]any)
			for _, k := range []string{"id", "status", "code", "title", "detail", "source"} {
				if _, ok := e[k]; !ok {
					t.Errorf("error without %s: %v", k, doc)
				}
			}
			if e["code"] != c.code || e["status"] != float64(c.status) {
				t.Errorf("error %v, want code %s", e, c.code)
			}
			if c.pointer != "" && get(doc, "errors", 0, "source", "pointer") != c.pointer {
				t.Errorf("pointer %v, want %s", get(doc, "errors", 0, "source", "pointer"), c.pointer)
			}
			if got := rec.count() > 0; got != c.violation {
				t.Errorf("violation recorded = %v, want %v (%v)", got, c.violation, rec.msgs)
			}
			if len(s.Jobs()) != 0 {
				t.Errorf("a refused request created a job")
			}
		})
	}
}

func TestRateLimitSignal(t *testing.T) {
	s := klaviyo.New(t)
	resp, _ := call(t, s, "GET", "/api/profiles", nil)
	if resp.Header.Get("RateLimit-Limit") != "750" || resp.Header.Get("RateLimit-Remaining") != "749" || resp.Header.Get("RateLimit-Reset") == "" {
		t.Errorf("rate headers %v", resp.Header)
	}
	s.SetLimit(klaviyo.EndpointGetProfiles, klaviyo.Limit{Steady: 2})
	var throttled *http.Response
	var doc map[string]any
	for range 5 {
		if r, d := call(t, s, "GET", "/api/profiles", nil); r.StatusCode == 429 {
			throttled, doc = r, d
			break
		}
	}
	if throttled == nil {
		t.Fatal("never throttled")
	}
	if ra := throttled.Header.Get("Retry-After"); ra == "" || throttled.Header.Get("RateLimit-Limit") != "" {
		t.Errorf("429 headers %v", throttled.Header)
	}
	if get(doc, "errors", 0, "code") != "throttled" || get(doc, "errors", 0, "status") != 429.0 {
		t.Errorf("429 body %v", doc)
	}
	if s.Stats().Throttled != 1 {
		t.Errorf("throttled %d", s.Stats().Throttled)
	}
}

func TestInjectedFaultsInKlaviyoShape(t *testing.T) {
	s := klaviyo.New(t)
	s.SetFaults(destinationtest.Faults{Status429Every: 2, RetryAfter: 2 * time.Second, Status500Every: 3})
	r1, _ := call(t, s, "GET", "/api/profiles", nil)
	r2, d2 := call(t, s, "GET", "/api/profiles", nil)
	r3, d3 := call(t, s, "GET", "/api/profiles", nil)
	if r1.StatusCode != 200 || r2.StatusCode != 429 || r3.StatusCode != 500 {
		t.Fatalf("statuses %d %d %d", r1.StatusCode, r2.StatusCode, r3.StatusCode)
	}
	if r2.Header.Get("Retry-After") != "2" || get(d2, "errors", 0, "code") != "throttled" {
		t.Errorf("429: %v %v", r2.Header, d2)
	}
	if r3.Header.Get("Content-Type") != "application/vnd.api+json" || get(d3, "errors", 0, "status") != 500.0 {
		t.Errorf("500: %v %v", r3.Header, d3)
	}
}

func TestServeRecordsViolations(t *testing.T) {
	s, err := klaviyo.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("url %s", s.URL())
	}
	resp, _ := call(t, s, "GET", "/api/profile-bulk-import-jobs", nil)
	if resp.StatusCode != 405 || len(s.Violations()) != 1 {
		t.Errorf("%d, violations %v", resp.StatusCode, s.Violations())
	}
	if st := s.Settings("mirror"); st["base_url"] != s.URL() || st["list_id"] != s.ListID() || st["api_key"] != s.Key() {
		t.Errorf("settings %v", st)
	}
	if f := s.Fields(); f.LTV != "properties.ltv" || f.Name != "first_name" || f.Email != "email" {
		t.Errorf("fields %+v", f)
	}
}
