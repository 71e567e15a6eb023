package iterable

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// quiet serves a server whose violations are only recorded, for tests
// that break the contract on purpose.
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
	body   map[string]any
	raw    string
}

// call sends a request; key "" sends no Api-Key header.
func call(t *testing.T, s *Server, method, path, key, ctype, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Api-Key", key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &a.body)
	return a
}

func post(t *testing.T, s *Server, path, body string) answer {
	t.Helper()
	return call(t, s, http.MethodPost, path, s.APIKey, "application/json", body)
}

func users(n int) string {
	var b strings.Builder
	b.WriteString(`{"users":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"email":"u%d@example.org","dataFields":{"firstName":"U%d","ltv":%d.5}}`, i, i, i)
	}
	b.WriteString(`]}`)
	return b.String()
}

func TestRefusesWhatIterableRefuses(t *testing.T) {
	s := quiet(t)
	big := `{"users":[{"email":"a@example.org","dataFields":{"blob":"` + strings.Repeat("x", MaxBody) + `"}}]}`
	cases := []struct {
		name                       string
		method, path, key, ct, bod string
		status                     int
		code                       string
		violation                  bool
	}{
		{"wrong key", "POST", "/api/users/bulkUpdate", "nope", "application/json", users(1), 401, "BadApiKey", false},
		{"no key", "POST", "/api/users/bulkUpdate", "", "application/json", users(1), 401, "BadApiKey", true},
		{"wrong path", "POST", "/api/users/bulk_update", s.APIKey, "application/json", users(1), 404, "NotFound", true},
		{"wrong method", "PUT", "/api/users/bulkUpdate", s.APIKey, "application/json", users(1), 405, "BadParams", true},
		{"form body", "POST", "/api/users/bulkUpdate", s.APIKey, "application/x-www-form-urlencoded", users(1), 400, "BadJsonBody", true},
		{"not JSON", "POST", "/api/users/bulkUpdate", s.APIKey, "application/json", `{"users":`, 400, "BadJsonBody", true},
		{"unknown member", "POST", "/api/users/bulkUpdate", s.APIKey, "application/json", `{"users":[{"email":"a@example.org","data":{}}]}`, 400, "BadJsonBody", true},
		{"no users", "POST", "/api/users/bulkUpdate", s.APIKey, "application/json", `{}`, 400, "BadParams", true},
		{"empty users", "POST", "/api/users/bulkUpdate", s.APIKey, "application/json", `{"users":[]}`, 400, "BadParams", true},
		{"oversize batch", "POST", "/api/users/bulkUpdate", s.APIKey, "application/json", users(MaxUsers + 1), 400, "BatchTooLarge", true},
		{"oversize body", "POST", "/api/users/bulkUpdate", s.APIKey, "application/json", big, 413, "BatchTooLarge", true},
		{"no identifier", "POST", "/api/users/bulkUpdate", s.APIKey, "application/json", `{"users":[{"dataFields":{"a":1}}]}`, 400, "BadParams", true},
		{"both identifiers", "POST", "/api/users/bulkUpdate", s.APIKey, "application/json", `{"users":[{"email":"a@example.org","userId":"a"}]}`, 400, "BadParams", true},
		{"dataFields not object", "POST", "/api/users/bulkUpdate", s.APIKey, "application/json", `{"users":[{"email":"a@example.org","dataFields":[1]}]}`, 400, "BadParams", true},
		{"subscribe without listId", "POST", "/api/lists/subscribe", s.APIKey, "application/json", `{"subscribers":[{"email":"a@example.org"}]}`, 400, "BadParams", true},
		{"subscribe listId text", "POST", "/api/lists/subscribe", s.APIKey, "application/json", `{"listId":"1001","subscribers":[{"email":"a@example.org"}]}`, 400, "BadJsonBody", true},
		{"subscribe no subscribers", "POST", "/api/lists/subscribe", s.APIKey, "application/json", fmt.Sprintf(`{"listId":%d}`, s.ListID), 400, "BadParams", true},
		{"unsubscribe with dataFields", "POST", "/api/lists/unsubscribe", s.APIKey, "application/json", fmt.Sprintf(`{"listId":%d,"subscribers":[{"email":"a@example.org","dataFields":{}}]}`, s.ListID), 400, "BadJsonBody", true},
		{"unknown list", "POST", "/api/lists/subscribe", s.APIKey, "application/json", `{"listId":9999,"subscribers":[{"email":"a@example.org"}]}`, 400, "BadParams", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(s.Violations())
			a := call(t, s, c.method, c.path, c.key, c.ct, c.bod)
			if a.status != c.status || a.body["code"] != c.code {
				t.Errorf("answer %d %s, want %d code %s", a.status, a.raw, c.status, c.code)
			}
			if _, ok := a.body["msg"].(string); !ok {
				t.Errorf("answer %s is not Iterable's {msg, code, params}", a.raw)
			}
			if got := len(s.Violations()) > before; got != c.violation {
				t.Errorf("violation recorded = %v, want %v (%v)", got, c.violation, s.Violations())
			}
		})
	}
	if len(s.Audience("upsert")) != 0 {
		t.Errorf("a refused request was applied: %v", s.Audience("upsert"))
	}
	if a := post(t, s, "/api/lists/subscribe", `{"listId":9999,"subscribers":[{"email":"a@example.org"}]}`); !strings.Contains(a.raw, "error.lists.invalidListId") {
		t.Errorf("unknown list answered %s", a.raw)
	}
}

func TestBulkUpdateAndLists(t *testing.T) {
	s := New(t)
	a := post(t, s, "/api/users/bulkUpdate", `{"users":[
		{"email":"a@example.org","dataFields":{"firstName":"Ann","ltv":120.0,"vip":true}},
		{"email":"not an email","dataFields":{"firstName":"X"}},
		{"email":"b@example.org","dataFields":{"firstName":"Bob","ltv":7}}]}`)
	if a.status != 200 || a.body["successCount"] != 2.0 || a.body["failCount"] != 1.0 {
		t.Fatalf("bulkUpdate answered %d %s", a.status, a.raw)
	}
	fu := a.body["failedUpdates"].(map[string]any)
	if fmt.Sprint(fu["invalidEmails"]) != "[not an email]" || fmt.Sprint(fu["forgottenEmails"]) != "[]" {
		t.Errorf("failedUpdates = %v", fu)
	}
	if s.FieldType("ltv") != "double" || s.FieldType("vip") != "boolean" {
		t.Errorf("schema ltv=%s vip=%s", s.FieldType("ltv"), s.FieldType("vip"))
	}
	// null clears a field
	post(t, s, "/api/users/bulkUpdate", `{"users":[{"email":"a@example.org","dataFields":{"firstName":null}}]}`)
	want := map[string]map[string]string{
		"a@example.org": {"email": "a@example.org", "ltv": "120"},
		"b@example.org": {"email": "b@example.org", "name": "Bob", "ltv": "7"},
	}
	if got := s.Audience("upsert"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audience %v, want %v", got, want)
	}
	a = post(t, s, "/api/lists/subscribe", fmt.Sprintf(`{"listId":%d,"subscribers":[{"email":"a@example.org"},{"email":"b@example.org"}]}`, s.ListID))
	if a.status != 200 || a.body["successCount"] != 2.0 {
		t.Fatalf("subscribe answered %s", a.raw)
	}
	a = post(t, s, "/api/lists/unsubscribe", fmt.Sprintf(`{"listId":%d,"subscribers":[{"email":"b@example.org"},{"email":"c@example.org"}]}`, s.ListID))
	if fmt.Sprint(a.body["failedUpdates"].(map[string]any)["notFoundEmails"]) != "[c@example.org]" {
		t.Errorf("unsubscribe answered %s", a.raw)
	}
	if got := s.Members(s.ListID); fmt.Sprint(got) != "[a@example.org]" {
		t.Errorf("members %v", got)
	}
	if len(s.Audience("mirror")) != 1 || s.Stats().Writes != 4 {
		t.Errorf("mirror audience %v, writes %d", s.Audience("mirror"), s.Stats().Writes)
	}
}

func TestForgottenAndTypeMismatch(t *testing.T) {
	s := New(t)
	post(t, s, "/api/users/bulkUpdate", `{"users":[{"email":"a@example.org","dataFields":{"ltv":5}}]}`)
	s.Forget("a@example.org")
	a := post(t, s, "/api/users/bulkUpdate", `{"users":[{"email":"a@example.org","dataFields":{"ltv":6}}]}`)
	if fmt.Sprint(a.body["failedUpdates"].(map[string]any)["forgottenEmails"]) != "[a@example.org]" || a.body["failCount"] != 1.0 {
		t.Errorf("forgotten user answered %s", a.raw)
	}
	a = post(t, s, "/api/users/bulkUpdate", `{"users":[{"email":"b@example.org","dataFields":{"ltv":6}},{"email":"c@example.org","dataFields":{"ltv":"lots"}}]}`)
	if a.status != 400 || a.body["code"] != "RequestFieldsTypesMismatched" || !strings.Contains(a.raw, `"3549:::ltv"`) || !strings.Contains(a.raw, `"offendingValue":"lots"`) {
		t.Errorf("type mismatch answered %d %s", a.status, a.raw)
	}
	if s.User("b@example.org") != nil {
		t.Errorf("a refused request was applied")
	}
	if a := call(t, s, "GET", "/api/users/getFields", s.APIKey, "", ""); a.body["fields"].(map[string]any)["ltv"] != "long" {
		t.Errorf("getFields answered %s", a.raw)
	}
}

func TestRateLimitAndFaults(t *testing.T) {
	s := New(t)
	throttled := 0
	for i := 0; i < BulkRate+3; i++ {
		a := post(t, s, "/api/users/bulkUpdate", users(1))
		if a.status == 429 {
			throttled++
			if a.body["code"] != "RateLimitExceeded" {
				t.Errorf("429 body %s", a.raw)
			}
		}
	}
	if throttled < 2 || s.Stats().Throttled != throttled {
		t.Errorf("throttled %d (stats %d) of %d rapid bulkUpdates", throttled, s.Stats().Throttled, BulkRate+3)
	}
	s.SetBulkRate(0)
	s.SetFaults(destinationtest.Faults{Status429Every: 2, RetryAfter: 2 * time.Second})
	post(t, s, "/api/users/bulkUpdate", users(1))
	a := post(t, s, "/api/users/bulkUpdate", users(1))
	if a.status != 429 || a.header.Get("Retry-After") != "2" || a.body["code"] != "RateLimitExceeded" {
		t.Errorf("scheduled 429 answered %d %v %s", a.status, a.header, a.raw)
	}
	s.SetFaults(destinationtest.Faults{RejectRate: 1})
	a = post(t, s, "/api/users/bulkUpdate", users(3))
	if a.body["failCount"] != 3.0 || len(a.body["failedUpdates"].(map[string]any)["invalidDataEmails"].([]any)) != 3 {
		t.Errorf("record faults answered %s", a.raw)
	}
	s.SetFaults(destinationtest.Faults{RetryableRecordRate: 1})
	a = post(t, s, "/api/lists/subscribe", fmt.Sprintf(`{"listId":%d,"subscribers":[{"email":"z@example.org"}]}`, s.ListID))
	if fmt.Sprint(a.body["failedUpdates"].(map[string]any)["notFoundEmails"]) != "[z@example.org]" {
		t.Errorf("transient record fault on subscribe answered %s", a.raw)
	}
}

func TestWriteHook(t *testing.T) {
	s := New(t)
	var seen []int
	s.OnWrite(func(n int) { seen = append(seen, n) })
	post(t, s, "/api/users/bulkUpdate", users(2))
	post(t, s, "/api/lists/subscribe", fmt.Sprintf(`{"listId":%d,"subscribers":[{"email":"u0@example.org"}]}`, s.ListID))
	call(t, s, "GET", "/api/users/getFields", s.APIKey, "", "")
	if fmt.Sprint(seen) != "[1 2]" || len(s.Members(s.ListID)) != 1 {
		t.Errorf("write hook saw %v", seen)
	}
}

func TestServe(t *testing.T) {
	s, err := Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if a := post(t, s, "/api/users/bulkUpdate", users(2)); a.status != 200 {
		t.Errorf("answered %d %s", a.status, a.raw)
	}
	if got := s.Settings("mirror"); got["list_id"] == "" || got["base_url"] != s.URL() || got["api_key"] != s.APIKey {
		t.Errorf("settings %v", got)
	}
}
