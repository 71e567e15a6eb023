package mailchimp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// call sends one request with the server's key unless auth is given.
func call(t *testing.T, s *Server, method, path, body string, auth ...string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if len(auth) > 0 {
		if auth[0] != "" {
			req.Header.Set("Authorization", auth[0])
		}
	} else {
		req.SetBasicAuth("anystring", s.APIKey())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func batchOf(members ...string) string {
	return `{"members":[` + strings.Join(members, ",") + `],"update_existing":true}`
}

func sub(email string, merge string) string {
	if merge == "" {
		return fmt.Sprintf(`{"email_address":%q,"status":"subscribed"}`, email)
	}
	return fmt.Sprintf(`{"email_address":%q,"status":"subscribed","merge_fields":%s}`, email, merge)
}

type batchAnswer struct {
	NewMembers     []map[string]any `json:"new_members"`
	UpdatedMembers []map[string]any `json:"updated_members"`
	Errors         []memberError    `json:"errors"`
	TotalCreated   int              `json:"total_created"`
	TotalUpdated   int              `json:"total_updated"`
	ErrorCount     int              `json:"error_count"`
}

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return v
}

const listPath = "/3.0/lists/" + ListID

func TestRefusesWhatMailchimpRefuses(t *testing.T) {
	s := New(t, Options{AllowViolations: true})
	good := batchOf(sub("a@example.com", ""))
	many := make([]string, MaxMembers+1)
	for i := range many {
		many[i] = sub(fmt.Sprintf("u%d@example.com", i), "")
	}
	for name, c := range map[string]struct {
		method, path, body string
		auth               []string
		status             int
		want               string
	}{
		"no auth":       {"POST", listPath, good, []string{""}, 401, "API Key Missing"},
		"bad scheme":    {"POST", listPath, good, []string{"Token x"}, 401, "API Key Missing"},
		"bad basic":     {"POST", listPath, good, []string{"Basic !!!"}, 401, "API Key Missing"},
		"unknown path":  {"POST", "/3.0/list/" + ListID, good, nil, 404, "Resource Not Found"},
		"no version":    {"POST", "/lists/" + ListID, good, nil, 404, "Resource Not Found"},
		"unknown list":  {"POST", "/3.0/lists/zzz", good, nil, 404, "Resource Not Found"},
		"wrong method":  {"PUT", listPath, good, nil, 405, "Method Not Allowed"},
		"members GET":   {"PATCH", listPath + "/members/" + SubscriberHash("a@example.com"), "", nil, 405, "Method Not Allowed"},
		"bad hash":      {"GET", listPath + "/members/xyz", "", nil, 404, "Resource Not Found"},
		"not json":      {"POST", listPath, "{members:", nil, 400, "JSON Parse Error"},
		"trailing":      {"POST", listPath, good + "{}", nil, 400, "JSON Parse Error"},
		"unknown prop":  {"POST", listPath, `{"members":[],"update":true}`, nil, 400, "JSON Parse Error"},
		"no members":    {"POST", listPath, `{"update_existing":true}`, nil, 400, "members"},
		"empty members": {"POST", listPath, `{"members":[]}`, nil, 400, "at least 1"},
		"oversize":      {"POST", listPath, batchOf(many...), nil, 400, "maximum 500 items, 501 found"},
		"no email":      {"POST", listPath, batchOf(`{"status":"subscribed"}`), nil, 400, "members[0].email_address"},
		"no status":     {"POST", listPath, batchOf(`{"email_address":"a@example.com"}`), nil, 400, "members[0].status"},
		"bad status":    {"POST", listPath, batchOf(`{"email_address":"a@example.com","status":"archived"}`), nil, 400, "is not one of"},
		"member prop":   {"POST", listPath, batchOf(`{"email_address":"a@example.com","status":"subscribed","merge":{}}`), nil, 400, "unknown field"},
		"merge array":   {"POST", listPath, batchOf(`{"email_address":"a@example.com","status":"subscribed","merge_fields":[]}`), nil, 400, "Schema describes object"},
		"merge null":    {"POST", listPath, batchOf(sub("a@example.com", `{"FNAME":null}`)), nil, 400, "empty string"},
		"tags numbers":  {"POST", listPath, batchOf(`{"email_address":"a@example.com","status":"subscribed","tags":[1]}`), nil, 400, "members[0]"},
		"bad count":     {"GET", listPath + "/merge-fields?count=5000", "", nil, 400, "count"},
		"bad skip flag": {"POST", listPath + "?skip_merge_validation=maybe", good, nil, 400, "skip_merge_validation"},
	} {
		status, body, h := call(t, s, c.method, c.path, c.body, c.auth...)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s, want %d with %q", name, status, body, c.status, c.want)
			continue
		}
		p := decode[problem](t, body)
		if p.Type != errorsDoc || p.Status != c.status || p.Instance == "" || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: not Mailchimp's problem shape: %s (%s)", name, body, h.Get("Content-Type"))
		}
	}
	req, _ := http.NewRequest("POST", s.URL()+listPath, strings.NewReader(good))
	req.Header.Set("Content-Type", "text/plain")
	req.SetBasicAuth("x", s.APIKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 400 {
		t.Errorf("text/plain body: %v %v", resp, err)
	}
	if v := s.Violations(); len(v) != 25 {
		t.Errorf("%d violations: %q", len(v), v)
	}
	if len(s.Members()) != 0 {
		t.Errorf("refused requests applied: %+v", s.Members())
	}
}

func TestKeysAndBearer(t *testing.T) {
	s := New(t)
	good := batchOf(sub("a@example.com", ""))
	if status, body, _ := call(t, s, "POST", listPath, good, "Basic "+basic("x", "0123-us21")); status != 401 || !strings.Contains(body, "API Key Invalid") {
		t.Errorf("wrong key: %d %s", status, body)
	}
	if status, body, _ := call(t, s, "POST", listPath, good, "Bearer "+s.APIKey()); status != 200 {
		t.Errorf("bearer: %d %s", status, body)
	}
	s.RevokeKey()
	if status, _, _ := call(t, s, "POST", listPath, good); status != 401 {
		t.Errorf("revoked key: %d", status)
	}
	if len(s.Violations()) != 0 || !strings.HasSuffix(s.APIKey(), "-"+DataCenter) {
		t.Errorf("violations %q, key %s", s.Violations(), s.APIKey())
	}
}

func basic(user, pw string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pw)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func TestBatchSubscribe(t *testing.T) {
	s := New(t)
	body := batchOf(sub("Ann@Example.com", `{"FNAME":"Ann","LTV":12.5}`),
		`{"email_address":"bob@example.com","status_if_new":"subscribed","merge_fields":{"LTV":"7"},"tags":["cdp"]}`)
	status, out, _ := call(t, s, "POST", listPath, body)
	a := decode[batchAnswer](t, out)
	if status != 200 || a.TotalCreated != 2 || a.ErrorCount != 0 || len(a.NewMembers) != 2 {
		t.Fatalf("%d %s", status, out)
	}
	if a.NewMembers[0]["id"] != SubscriberHash("ann@example.com") || a.NewMembers[0]["status"] != "subscribed" {
		t.Errorf("member = %v", a.NewMembers[0])
	}
	// status_if_new keeps an existing member's status; status changes it; "" clears.
	call(t, s, "POST", listPath, `{"members":[{"email_address":"bob@example.com","status":"unsubscribed"}],"update_existing":true}`)
	status, out, _ = call(t, s, "POST", listPath, batchOf(
		`{"email_address":"bob@example.com","status_if_new":"subscribed","merge_fields":{"LTV":""}}`,
		sub("ann@example.com", `{"FNAME":""}`)))
	a = decode[batchAnswer](t, out)
	if status != 200 || a.TotalUpdated != 2 || a.TotalCreated != 0 {
		t.Fatalf("%d %s", status, out)
	}
	bob, _ := s.Member("BOB@example.com")
	ann, _ := s.Member("ann@example.com")
	if bob.Status != "unsubscribed" || len(bob.MergeFields) != 0 || len(bob.Tags) != 1 || ann.Email != "Ann@Example.com" || ann.MergeFields["LTV"] != 12.5 || ann.MergeFields["FNAME"] != nil {
		t.Errorf("bob %+v ann %+v", bob, ann)
	}
	want := map[string]map[string]string{"Ann@Example.com": {"email": "Ann@Example.com", "ltv": "12.5"}}
	if got := s.Audience("mirror"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("mirror audience = %v", got)
	}
	if got := s.Audience("upsert"); len(got) != 2 || got["bob@example.com"]["email"] != "bob@example.com" {
		t.Errorf("upsert audience = %v", got)
	}
}

func TestPerMemberErrors(t *testing.T) {
	s := New(t)
	s.AddMergeField(MergeField{Tag: "CITY", Name: "City", Type: "text"})
	call(t, s, "POST", listPath, batchOf(sub("old@example.com", "")))
	status, out, _ := call(t, s, "POST", listPath, `{"members":[`+strings.Join([]string{
		sub("a@example.com", `{"NOPE":"x"}`),
		sub("b@example.com", `{"LTV":"lots"}`),
		sub("c@example.com", `{"CITY":"`+strings.Repeat("x", 256)+`"}`),
		sub("not-an-email", ""),
		sub("d@example.com", ""),
		sub("D@example.com", ""),
		sub("old@example.com", `{"FNAME":"Old"}`),
	}, ",")+`]}`)
	a := decode[batchAnswer](t, out)
	if status != 200 || a.ErrorCount != 6 || a.TotalCreated != 1 {
		t.Fatalf("%d %s", status, out)
	}
	for i, want := range []struct{ email, field, code, text string }{
		{"a@example.com", "NOPE", codeGeneric, "does not exist"},
		{"b@example.com", "LTV", codeGeneric, "Please enter a number"},
		{"c@example.com", "CITY", codeGeneric, "255 characters"},
		{"not-an-email", "email_address", codeGeneric, "valid email"},
		{"D@example.com", "email_address", codeGeneric, ""},
		{"old@example.com", "", codeExists, ""},
	} {
		e := a.Errors[i]
		if e.EmailAddress != want.email || e.Field != want.field || e.ErrorCode != want.code || !strings.Contains(e.FieldMessage, want.text) {
			t.Errorf("error %d = %+v, want %+v", i, e, want)
		}
	}
	s.AddMergeField(MergeField{Tag: "REQ", Name: "Required", Type: "text", Required: true})
	_, out, _ = call(t, s, "POST", listPath, batchOf(sub("e@example.com", "")))
	if a := decode[batchAnswer](t, out); a.ErrorCount != 1 || a.Errors[0].Field != "REQ" {
		t.Errorf("required merge field: %s", out)
	}
	_, out, _ = call(t, s, "POST", listPath+"?skip_merge_validation=true", batchOf(sub("e@example.com", "")))
	if a := decode[batchAnswer](t, out); a.ErrorCount != 0 {
		t.Errorf("skip_merge_validation: %s", out)
	}
	if len(s.Violations()) != 0 {
		t.Errorf("violations: %q", s.Violations())
	}
}

func TestArchiveAndGet(t *testing.T) {
	s := New(t)
	call(t, s, "POST", listPath, batchOf(sub("a@example.com", `{"FNAME":"A"}`)))
	path := listPath + "/members/" + SubscriberHash("A@example.com")
	if status, body, _ := call(t, s, "GET", path, ""); status != 200 || !strings.Contains(body, `"FNAME":"A"`) || !strings.Contains(body, `"LTV":""`) {
		t.Errorf("get: %d %s", status, body)
	}
	if status, _, _ := call(t, s, "DELETE", path, ""); status != 204 {
		t.Errorf("archive: %d", status)
	}
	if status, _, _ := call(t, s, "DELETE", path, ""); status != 404 {
		t.Errorf("second archive: %d", status)
	}
	if status, _, _ := call(t, s, "DELETE", listPath+"/members/nobody@example.com", ""); status != 404 {
		t.Errorf("unknown member: %d", status)
	}
	if m, _ := s.Member("a@example.com"); m.Status != StatusArchived || len(s.Audience("upsert")) != 0 {
		t.Errorf("archived member %+v", m)
	}
	// An archived member comes back as new.
	_, out, _ := call(t, s, "POST", listPath, batchOf(sub("a@example.com", "")))
	if a := decode[batchAnswer](t, out); a.TotalCreated != 1 || len(s.Audience("mirror")) != 1 {
		t.Errorf("re-added: %s", out)
	}
	if st := s.Stats(); st.Writes != 3 || st.Invalid != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestMergeFieldPages(t *testing.T) {
	s := New(t)
	for i := 0; i < 12; i++ {
		s.AddMergeField(MergeField{Tag: fmt.Sprintf("F%d", i), Name: "f", Type: "text"})
	}
	type page struct {
		MergeFields []MergeField `json:"merge_fields"`
		TotalItems  int          `json:"total_items"`
	}
	_, out, _ := call(t, s, "GET", listPath+"/merge-fields", "")
	p := decode[page](t, out)
	if len(p.MergeFields) != 10 || p.TotalItems != 16 || p.MergeFields[3].Tag != "LTV" || p.MergeFields[3].Type != "number" {
		t.Errorf("first page: %s", out)
	}
	_, out, _ = call(t, s, "GET", listPath+"/merge-fields?count=1000&offset=10", "")
	if p := decode[page](t, out); len(p.MergeFields) != 6 || p.MergeFields[5].Tag != "F11" {
		t.Errorf("second page: %s", out)
	}
}

func TestConnectionLimit(t *testing.T) {
	s := New(t, Options{Faults: destinationtest.Faults{TimeoutEvery: 1}})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < MaxConnections; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+listPath+"/merge-fields", nil)
			req.SetBasicAuth("x", s.APIKey())
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	for deadline := time.Now().Add(5 * time.Second); s.InFlight() < MaxConnections; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("in flight: %d", s.InFlight())
		}
	}
	status, body, _ := call(t, s, "GET", listPath+"/merge-fields", "")
	cancel()
	wg.Wait()
	if p := decode[problem](t, body); status != 429 || p.Title != "Too Many Requests" || !strings.Contains(p.Detail, "10 simultaneous connections") {
		t.Errorf("11th connection: %d %s", status, body)
	}
	if st := s.Stats(); st.Throttled != 1 || st.TimedOut != MaxConnections || s.MaxInFlight() != MaxConnections {
		t.Errorf("stats %+v, max in flight %d", st, s.MaxInFlight())
	}
}

func TestFaultsInMailchimpShape(t *testing.T) {
	s := New(t, Options{Faults: destinationtest.Faults{Status429Every: 2, RetryAfter: 3 * time.Second}})
	call(t, s, "POST", listPath, batchOf(sub("a@example.com", "")))
	status, body, h := call(t, s, "POST", listPath, batchOf(sub("b@example.com", "")))
	if p := decode[problem](t, body); status != 429 || h.Get("Retry-After") != "3" || p.Status != 429 {
		t.Errorf("throttle: %d %s %v", status, body, h)
	}
	if _, ok := s.Member("b@example.com"); ok {
		t.Error("a throttled batch was applied")
	}
	s.SetFaults(destinationtest.Faults{RejectRate: 0.3, RetryableRecordRate: 0.2, Seed: 3})
	var members []string
	for i := 0; i < 100; i++ {
		members = append(members, sub(fmt.Sprintf("r%d@example.com", i), ""))
	}
	_, out, _ := call(t, s, "POST", listPath, batchOf(members...))
	a := decode[batchAnswer](t, out)
	st := s.Stats()
	if a.ErrorCount == 0 || a.ErrorCount != st.Rejected+st.Retried || a.TotalCreated != 100-a.ErrorCount {
		t.Errorf("record faults: %d errors, stats %+v", a.ErrorCount, st)
	}
	for _, e := range a.Errors {
		if _, held := s.Member(e.EmailAddress); held || e.ErrorCode != codeGeneric {
			t.Errorf("refused member %+v", e)
		}
	}
}

func TestServeAndVendor(t *testing.T) {
	s, err := Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if status, _, _ := call(t, s, "POST", listPath, batchOf(sub("a@example.com", `{"FNAME":"A","LTV":3}`))); status != 200 {
		t.Fatalf("status %d", status)
	}
	set := s.Settings("mirror")
	if set["base_url"] != s.URL() || set["api_key"] != s.APIKey() || set["list_id"] != ListID || s.Type() != "mailchimp" {
		t.Errorf("settings %v", set)
	}
	if f := s.Fields(); f.Email != "email_address" || f.Name != "FNAME" || f.LTV != "LTV" {
		t.Errorf("fields %+v", f)
	}
	want := map[string]string{"email": "a@example.com", "name": "A", "ltv": "3"}
	if got := s.Audience("mirror")["a@example.com"]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audience %v", got)
	}
	var writes int
	s.OnWrite(func(n int) { writes = n })
	call(t, s, "DELETE", listPath+"/members/a@example.com", "")
	if writes != 2 {
		t.Errorf("write hook saw %d", writes)
	}
}
