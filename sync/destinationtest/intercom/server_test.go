package intercom_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/destinationtest/intercom"
)

// answer is a decoded response.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// code returns the first error code of an error list ("" when none).
func (a answer) code() string {
	errs, _ := a.body["errors"].([]any)
	if a.body["type"] != "error.list" || len(errs) == 0 {
		return ""
	}
	c, _ := errs[0].(map[string]any)["code"].(string)
	return c
}

func (a answer) message() string {
	errs, _ := a.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	m, _ := errs[0].(map[string]any)["message"].(string)
	return m
}

// send makes a request with the headers the connector sends; edit may
// change them.
func send(t *testing.T, s *intercom.Server, method, path, body string, edit ...func(h http.Header)) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Intercom-Version", "2.11")
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, e := range edit {
		e(req.Header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &a.body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", method, path, b)
		}
	}
	return a
}

func create(t *testing.T, s *intercom.Server, body string) string {
	t.Helper()
	a := send(t, s, "POST", "/contacts", body)
	if a.status != 200 {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	return a.body["id"].(string)
}

func TestRefusesWhatIntercomRefuses(t *testing.T) {
	for _, tc := range []struct {
		name         string
		method, path string
		body         string
		edit         func(h http.Header)
		status       int
		code         string
		violation    bool
	}{
		{"missing auth", "GET", "/data_attributes", "", func(h http.Header) { h.Del("Authorization") }, 401, "unauthorized", true},
		{"basic auth", "GET", "/data_attributes", "", func(h http.Header) { h.Set("Authorization", "Basic eDp5") }, 401, "unauthorized", true},
		{"wrong token", "GET", "/data_attributes", "", func(h http.Header) { h.Set("Authorization", "Bearer nope") }, 401, "unauthorized", false},
		{"wrong path", "POST", "/contacts/bulk", `{}`, nil, 404, "not_found", true},
		{"wrong method", "PATCH", "/contacts/abc", `{}`, nil, 404, "not_found", true},
		{"no version", "GET", "/data_attributes", "", func(h http.Header) { h.Del("Intercom-Version") }, 400, "intercom_version_invalid", true},
		{"unknown version", "GET", "/data_attributes", "", func(h http.Header) { h.Set("Intercom-Version", "3.0") }, 400, "intercom_version_invalid", true},
		{"no accept", "GET", "/data_attributes", "", func(h http.Header) { h.Set("Accept", "text/html") }, 406, "client_error", true},
		{"form body", "POST", "/contacts", `{"email":"a@x.org"}`, func(h http.Header) { h.Set("Content-Type", "application/x-www-form-urlencoded") }, 415, "client_error", true},
		{"not JSON", "POST", "/contacts", `{"email":`, nil, 400, "parameter_invalid", true},
		{"unknown member", "POST", "/contacts", `{"email":"a@x.org","first_name":"A"}`, nil, 400, "parameter_invalid", true},
		{"no identifier", "POST", "/contacts", `{"name":"A"}`, nil, 400, "parameter_not_found", true},
		{"custom not object", "POST", "/contacts", `{"email":"a@x.org","custom_attributes":[1]}`, nil, 400, "parameter_invalid", true},
		{"unknown custom attribute", "POST", "/contacts", `{"email":"a@x.org","custom_attributes":{"plan":"pro"}}`, nil, 400, "parameter_invalid", false},
		{"custom type", "POST", "/contacts", `{"email":"a@x.org","custom_attributes":{"ltv":"lots"}}`, nil, 400, "type_mismatch", false},
		{"name type", "POST", "/contacts", `{"email":"a@x.org","name":42}`, nil, 400, "type_mismatch", false},
		{"bad role", "POST", "/contacts", `{"email":"a@x.org","role":"admin"}`, nil, 400, "parameter_invalid", false},
		{"search without query", "POST", "/contacts/search", `{"pagination":{"per_page":5}}`, nil, 400, "parameter_invalid", true},
		{"search bad operator", "POST", "/contacts/search", `{"query":{"field":"email","operator":"==","value":"a"}}`, nil, 400, "parameter_invalid", true},
		{"search page too big", "POST", "/contacts/search", `{"query":{"field":"email","operator":"=","value":"a"},"pagination":{"per_page":500}}`, nil, 400, "parameter_invalid", true},
		{"update unknown contact", "PUT", "/contacts/000000000000000000000000", `{"name":"A"}`, nil, 404, "not_found", false},
		{"tag without id", "POST", "/contacts/x/tags", `{}`, nil, 400, "parameter_invalid", true},
		{"tag unknown contact", "POST", "/contacts/x/tags", `{"id":"7522907"}`, nil, 404, "not_found", false},
		{"data attributes of tickets", "GET", "/data_attributes?model=ticket", "", nil, 400, "parameter_invalid", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := intercom.New(t, intercom.AllowViolations())
			var edit []func(http.Header)
			if tc.edit != nil {
				edit = append(edit, tc.edit)
			}
			a := send(t, s, tc.method, tc.path, tc.body, edit...)
			if a.status != tc.status || a.code() != tc.code {
				t.Errorf("got %d %q %v, want %d %q", a.status, a.code(), a.body, tc.status, tc.code)
			}
			if _, ok := a.body["request_id"].(string); !ok {
				t.Errorf("error list without request_id: %v", a.body)
			}
			if got := len(s.Violations()) > 0; got != tc.violation {
				t.Errorf("violation recorded = %v, want %v (%v)", got, tc.violation, s.Violations())
			}
			if len(s.Contacts()) != 0 {
				t.Errorf("a refused request stored a contact")
			}
		})
	}
}

func TestContactsLifecycle(t *testing.T) {
	s := intercom.New(t)
	id := create(t, s, `{"role":"user","email":"Ann@x.org","name":"Ann","custom_attributes":{"ltv":12.5}}`)
	if a := send(t, s, "POST", "/contacts", `{"role":"user","email":"ann@x.org"}`); a.status != 409 || a.code() != "conflict" ||
		a.message() != "A contact matching those details already exists with id="+id {
		t.Errorf("duplicate user: %d %v", a.status, a.body)
	}
	lead := create(t, s, `{"role":"lead","email":"ann@x.org"}`)
	q := `{"query":{"operator":"AND","value":[{"field":"email","operator":"=","value":"ann@X.org"},{"field":"role","operator":"=","value":"user"}]},"pagination":{"per_page":5}}`
	a := send(t, s, "POST", "/contacts/search", q)
	data, _ := a.body["data"].([]any)
	if a.status != 200 || len(data) != 1 || data[0].(map[string]any)["id"] != id || a.body["total_count"] != 1.0 {
		t.Fatalf("search: %d %v", a.status, a.body)
	}
	if a := send(t, s, "PUT", "/contacts/"+id, `{"name":null,"custom_attributes":{"ltv":null}}`); a.status != 200 || a.body["name"] != nil {
		t.Errorf("clear: %d %v", a.status, a.body)
	}
	if a := send(t, s, "POST", "/contacts/"+lead+"/tags", `{"id":"`+s.TagID+`"}`); a.status != 200 || a.body["type"] != "tag" {
		t.Errorf("tag: %d %v", a.status, a.body)
	}
	if a := send(t, s, "POST", "/contacts/"+lead+"/tags", `{"id":"1"}`); a.status != 404 || a.message() != "Resource Not Found" {
		t.Errorf("unknown tag: %d %v", a.status, a.body)
	}
	want := map[string]map[string]string{"Ann@x.org": {"email": "Ann@x.org"}, "ann@x.org": {"email": "ann@x.org"}}
	if got := s.Audience("upsert"); !equal(got, want) {
		t.Errorf("upsert audience = %v", got)
	}
	if got := s.Audience("mirror"); len(got) != 1 || got["ann@x.org"] == nil {
		t.Errorf("mirror audience = %v", got)
	}
	if a := send(t, s, "DELETE", "/contacts/"+lead+"/tags/"+s.TagID, ""); a.status != 200 || len(s.Audience("mirror")) != 0 {
		t.Errorf("untag: %d %v, audience %v", a.status, a.body, s.Audience("mirror"))
	}
	if st := s.Stats(); st.Writes != 5 || st.Invalid != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSearchDelayHidesNewContacts(t *testing.T) {
	s := intercom.New(t)
	s.SetSearchDelay(time.Hour)
	create(t, s, `{"role":"user","email":"new@x.org"}`)
	a := send(t, s, "POST", "/contacts/search", `{"query":{"field":"email","operator":"=","value":"new@x.org"}}`)
	if a.status != 200 || a.body["total_count"] != 0.0 {
		t.Errorf("a new contact was found: %v", a.body)
	}
}

func TestRateLimitWindows(t *testing.T) {
	s := intercom.New(t)
	s.SetRateLimit(2, time.Second)
	for i := 1; i <= 3; i++ {
		a := send(t, s, "GET", "/data_attributes?model=contact", "")
		h := a.header
		reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
		if h.Get("X-RateLimit-Limit") != "2" || err != nil || time.Until(time.Unix(reset, 0)) > 2*time.Second {
			t.Errorf("request %d: rate-limit headers %v", i, h)
		}
		if i < 3 && (a.status != 200 || h.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i)) {
			t.Errorf("request %d: %d remaining %s", i, a.status, h.Get("X-RateLimit-Remaining"))
		}
		if i == 3 && (a.status != 429 || a.code() != "rate_limit_exceeded" || h.Get("X-RateLimit-Remaining") != "0") {
			t.Errorf("request 3: %d %v %v", a.status, a.body, h)
		}
	}
	if s.Stats().Throttled != 1 {
		t.Errorf("throttled = %d", s.Stats().Throttled)
	}
}

func TestFaultsInIntercomShape(t *testing.T) {
	s := intercom.New(t)
	s.SetFaults(destinationtest.Faults{Status429Every: 2, Status500Every: 3, RetryAfter: 3 * time.Second})
	get := func() answer { return send(t, s, "GET", "/data_attributes?model=contact", "") }
	get()
	a := get()
	reset, _ := strconv.ParseInt(a.header.Get("X-RateLimit-Reset"), 10, 64)
	if a.status != 429 || a.code() != "rate_limit_exceeded" || a.header.Get("X-RateLimit-Remaining") != "0" ||
		time.Until(time.Unix(reset, 0)) < time.Second {
		t.Errorf("injected 429: %d %v %v", a.status, a.body, a.header)
	}
	if a := get(); a.status != 500 || a.code() != "server_error" || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Errorf("injected 500: %d %v", a.status, a.body)
	}
	s.SetFaults(destinationtest.Faults{RejectRate: 0.5, RetryableRecordRate: 0.5})
	a = send(t, s, "POST", "/contacts", `{"email":"f@x.org"}`)
	if !(a.status == 400 && a.code() == "parameter_invalid") && !(a.status == 503 && a.code() == "service_unavailable") {
		t.Errorf("record fault: %d %v", a.status, a.body)
	}
	if len(s.Contacts()) != 0 {
		t.Errorf("a faulted write was applied")
	}
}

func TestRevokedToken(t *testing.T) {
	s := intercom.New(t)
	s.Revoke()
	a := send(t, s, "GET", "/data_attributes", "")
	if a.status != 401 || a.message() != "Access Token Invalid" || a.header.Get("X-RateLimit-Limit") != "" {
		t.Errorf("revoked: %d %v %v", a.status, a.body, a.header)
	}
}

func equal(a, b map[string]map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, r := range a {
		o, ok := b[k]
		if !ok || len(o) != len(r) {
			return false
		}
		for f, v := range r {
			if o[f] != v {
				return false
			}
		}
	}
	return true
}
