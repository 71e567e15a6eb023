package customerio

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// quiet starts a server whose violations are recorded without failing the
// test, for requests that break the contract on purpose.
func quiet(t *testing.T) *Server {
	s := newServer(destinationtest.NewKit(nil))
	ts := httptest.NewServer(s)
	s.url, s.close = ts.URL, ts.Close
	t.Cleanup(s.Close)
	return s
}

type answer struct {
	status int
	header http.Header
	body   string
}

// post sends body to path with the server's credentials (auth false: none).
func post(t *testing.T, s *Server, path, ctype, body string, auth bool) answer {
	t.Helper()
	rq, err := http.NewRequest(http.MethodPost, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		rq.Header.Set("Content-Type", ctype)
	}
	if auth {
		rq.SetBasicAuth(s.SiteID, s.apiKey())
	}
	resp, err := http.DefaultClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func batchOf(entries ...string) string { return `{"batch":[` + strings.Join(entries, ",") + `]}` }

func identifyEntry(email, attrs string) string {
	return `{"type":"person","identifiers":{"email":"` + email + `"},"action":"identify","attributes":` + attrs + `}`
}

func TestIdentifyAndClear(t *testing.T) {
	s := New(t)
	a := post(t, s, "/api/v2/batch", "application/json", batchOf(
		identifyEntry("Ann@Example.org", `{"first_name":"Ann","ltv":12.5,"vip":true}`),
		identifyEntry("bob@example.org", `{"first_name":"Bob","ltv":3}`)), true)
	if a.status != 200 || strings.TrimSpace(a.body) != "{}" {
		t.Fatalf("answer %+v", a)
	}
	// email is case-insensitive; null and "" remove attributes
	a = post(t, s, "/api/v2/batch", "application/json; charset=utf-8", batchOf(
		identifyEntry("ann@example.org", `{"first_name":null,"vip":""}`)), true)
	if a.status != 200 {
		t.Fatalf("answer %+v", a)
	}
	got := s.Audience("upsert")
	want := map[string]map[string]string{
		"Ann@Example.org": {"email": "Ann@Example.org", "ltv": "12.5"},
		"bob@example.org": {"email": "bob@example.org", "name": "Bob", "ltv": "3"},
	}
	if len(got) != 2 || len(got["Ann@Example.org"]) != 2 || got["Ann@Example.org"]["ltv"] != "12.5" ||
		got["bob@example.org"]["name"] != "Bob" || got["bob@example.org"]["ltv"] != "3" {
		t.Errorf("audience %v, want %v", got, want)
	}
	if p, _ := s.Person("ann@EXAMPLE.org"); len(p.Attributes) != 1 {
		t.Errorf("ann's attributes %v, want ltv only", p.Attributes)
	}
	if st := s.Stats(); st.Writes != 2 || st.Invalid != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestUpdateOnlyAndCioID(t *testing.T) {
	s := New(t)
	a := post(t, s, "/api/v2/batch", "application/json", batchOf(
		identifyEntry("new@example.org", `{"_update":true,"first_name":"N"}`),
		`{"type":"person","identifiers":{"cio_id":"ffff"},"action":"identify","attributes":{"x":1}}`), true)
	if a.status != 200 || len(s.People()) != 0 {
		t.Errorf("answer %+v, people %v: _update and an unknown cio_id must create nobody", a, s.People())
	}
}

func TestRefusesWrongCredentials(t *testing.T) {
	s := New(t)
	body := batchOf(identifyEntry("a@example.org", `{}`))
	if a := post(t, s, "/api/v2/batch", "application/json", body, false); a.status != 401 {
		t.Errorf("no auth: %+v", a)
	}
	s.Revoke()
	rq, _ := http.NewRequest(http.MethodPost, s.URL()+"/api/v2/batch", strings.NewReader(body))
	rq.Header.Set("Content-Type", "application/json")
	rq.SetBasicAuth(s.SiteID, strings.TrimSuffix(s.apiKey(), "-revoked"))
	resp, err := http.DefaultClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || len(s.People()) != 0 || len(s.Violations()) != 0 {
		t.Errorf("revoked key: %d, people %v", resp.StatusCode, s.People())
	}
}

func TestRefusesMalformedRequests(t *testing.T) {
	big := strings.Repeat("x", 900)
	var many []string
	for i := 0; len(strings.Join(many, ",")) < MaxBatchBytes; i++ {
		many = append(many, identifyEntry("a@example.org", `{"v":"`+big+`"}`))
	}
	cases := []struct {
		name, path, ctype, body string
	}{
		{"unknown path", "/api/v1/customers/a", "application/json", `{}`},
		{"text body", "/api/v2/batch", "text/plain", batchOf(identifyEntry("a@example.org", `{}`))},
		{"not json", "/api/v2/batch", "application/json", `{"batch":`},
		{"unknown member", "/api/v2/batch", "application/json", `{"batch":[],"context":{}}`},
		{"empty batch", "/api/v2/batch", "application/json", `{"batch":[]}`},
		{"oversize batch", "/api/v2/batch", "application/json", batchOf(many...)},
		{"segment ids missing", "/api/v1/segments/7/add_customers", "application/json", `{}`},
		{"segment id not a number", "/api/v1/segments/vip/add_customers", "application/json", `{"ids":["a"]}`},
		{"bad id_type", "/api/v1/segments/7/add_customers?id_type=phone", "application/json", `{"ids":["a"]}`},
		{"too many ids", "/api/v1/segments/7/remove_customers", "application/json", `{"ids":[` + strings.Repeat(`"a",`, MaxSegmentIDs) + `"a"]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := quiet(t)
			a := post(t, s, c.path, c.ctype, c.body, true)
			if a.status != 400 || len(s.Violations()) != 1 || s.Stats().Writes != 0 {
				t.Errorf("answer %d %s, violations %v", a.status, a.body, s.Violations())
			}
			if !strings.Contains(a.body, `"errors"`) {
				t.Errorf("body %s is not Customer.io's error shape", a.body)
			}
		})
	}
}

func TestEntryErrorsIn207(t *testing.T) {
	s := quiet(t)
	long := strings.Repeat("y", MaxValueBytes+1)
	a := post(t, s, "/api/v2/batch", "application/json", batchOf(
		identifyEntry("ok@example.org", `{"first_name":"Ok"}`),
		`{"type":"person","action":"identify","attributes":{}}`,
		`{"type":"person","identifiers":{"email":"a@x.org","id":"1"},"action":"identify"}`,
		`{"type":"person","identifiers":{"email":"d@x.org"},"action":"delete"}`,
		identifyEntry("long@example.org", `{"bio":"`+long+`"}`),
		identifyEntry("huge@example.org", `{"bio":"`+strings.Repeat("z", MaxEntryBytes)+`"}`),
		`{"type":"person","identifiers":{"email":"t@x.org"},"action":"identify","traits":{}}`,
	), true)
	if a.status != http.StatusMultiStatus {
		t.Fatalf("answer %d %s", a.status, a.body)
	}
	var v struct {
		Errors []entryError `json:"errors"`
	}
	if err := json.Unmarshal([]byte(a.body), &v); err != nil {
		t.Fatal(err)
	}
	idx := map[int]string{}
	for _, e := range v.Errors {
		idx[e.BatchIndex] = e.Field
	}
	if len(idx) != 6 || idx[1] != "identifiers" || idx[2] != "identifiers" || idx[3] != "action" || idx[4] != "attributes.bio" {
		t.Errorf("errors %+v", v.Errors)
	}
	// contract breaks are violations; the long value is the data's fault
	if n := len(s.Violations()); n != 5 {
		t.Errorf("%d violations, want 5: %v", n, s.Violations())
	}
	if _, ok := s.Person("ok@example.org"); !ok || len(s.People()) != 1 {
		t.Errorf("the valid entry must be applied alone: %v", s.People())
	}
}

func TestSegmentMembership(t *testing.T) {
	s := New(t)
	post(t, s, "/api/v2/batch", "application/json", batchOf(identifyEntry("a@x.org", `{}`), identifyEntry("b@x.org", `{}`)), true)
	a := post(t, s, "/api/v1/segments/7/add_customers?id_type=email", "application/json", `{"ids":["A@x.org","b@x.org","nobody@x.org","notanemail"]}`, true)
	if a.status != 200 {
		t.Fatalf("add: %+v", a)
	}
	if m := s.Members(7); len(m) != 2 {
		t.Errorf("members %v", m)
	}
	post(t, s, "/api/v1/segments/7/remove_customers?id_type=email", "application/json", `{"ids":["a@x.org"]}`, true)
	if m := s.Members(7); len(m) != 1 || m[0] != "b@x.org" || len(s.People()) != 2 {
		t.Errorf("members %v, people %v: removal keeps the person", m, s.People())
	}
	if aud := s.Audience("mirror"); len(aud) != 1 || aud["b@x.org"] == nil {
		t.Errorf("mirror audience %v", aud)
	}
	// ids default to id_type=id: emails then match nobody
	post(t, s, "/api/v1/segments/7/add_customers", "application/json", `{"ids":["a@x.org"]}`, true)
	if m := s.Members(7); len(m) != 1 {
		t.Errorf("members %v", m)
	}
	s.AddSegment(8, false)
	for _, path := range []string{"/api/v1/segments/99/add_customers", "/api/v1/segments/8/add_customers"} {
		if a := post(t, s, path+"?id_type=email", "application/json", `{"ids":["a@x.org"]}`, true); a.status != 400 || !strings.Contains(a.body, `"meta"`) {
			t.Errorf("%s: %+v", path, a)
		}
	}
}

func TestThrottleShape(t *testing.T) {
	s := New(t)
	s.SetFaults(destinationtest.Faults{Status429Every: 1, RetryAfter: 2 * time.Second})
	a := post(t, s, "/api/v2/batch", "application/json", batchOf(identifyEntry("a@x.org", `{}`)), true)
	if a.status != 429 || a.header.Get("Retry-After") != "2" || len(s.People()) != 0 || s.Stats().Throttled != 1 {
		t.Errorf("answer %+v", a)
	}
	s.SetFaults(destinationtest.Faults{})
	s.SetRateLimit(1, time.Hour)
	post(t, s, "/api/v2/batch", "application/json", batchOf(identifyEntry("a@x.org", `{}`)), true)
	if a := post(t, s, "/api/v2/batch", "application/json", batchOf(identifyEntry("b@x.org", `{}`)), true); a.status != 429 {
		t.Errorf("over the rate limit: %+v", a)
	}
}

func TestRecordFaults(t *testing.T) {
	s := New(t)
	s.SetFaults(destinationtest.Faults{RejectRate: 0.3, RetryableRecordRate: 0.2, Seed: 3})
	var entries []string
	for i := range 50 {
		entries = append(entries, identifyEntry(strings.Repeat("p", i+1)+"@x.org", `{"ltv":1}`))
	}
	a := post(t, s, "/api/v2/batch", "application/json", batchOf(entries...), true)
	var v struct {
		Errors []entryError `json:"errors"`
	}
	_ = json.Unmarshal([]byte(a.body), &v)
	st := s.Stats()
	if a.status != 207 || len(v.Errors) != st.Rejected+st.Retried || len(s.People()) != 50-len(v.Errors) || st.Retried == 0 {
		t.Errorf("status %d, %d errors, stats %+v, %d people", a.status, len(v.Errors), st, len(s.People()))
	}
}

func TestSettings(t *testing.T) {
	s := New(t)
	if m := s.Settings("mirror"); m["segment_id"] != "7" || m["base_url"] != s.URL() || m["api_key"] != s.APIKey {
		t.Errorf("settings %v", m)
	}
	if _, ok := s.Settings("upsert")["segment_id"]; ok {
		t.Error("upsert settings carry a segment")
	}
}

func TestServe(t *testing.T) {
	s, err := Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if a := post(t, s, "/api/v2/batch", "application/json", batchOf(identifyEntry("a@x.org", `{}`)), true); a.status != 200 {
		t.Errorf("answer %+v", a)
	}
}
