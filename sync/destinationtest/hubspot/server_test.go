package hubspot_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/destinationtest/hubspot"
)

// quiet is a test whose contract violations are expected: they are logged,
// not failures.
type quiet struct{ testing.TB }

func (q quiet) Errorf(format string, args ...any) { q.Logf("(expected) "+format, args...) }

// answer is a decoded response.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func send(t *testing.T, s *hubspot.Server, method, path, token, ctype, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
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

func post(t *testing.T, s *hubspot.Server, path, body string) answer {
	t.Helper()
	return send(t, s, http.MethodPost, path, hubspot.Token, "application/json", body)
}

const upsert = "/crm/v3/objects/contacts/batch/upsert"

func inputs(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, `{"idProperty":"email","id":"u`+itoa(i)+`@example.org","properties":{"firstname":"U"},"objectWriteTraceId":"t`+itoa(i)+`"}`)
	}
	return `{"inputs":[` + strings.Join(parts, ",") + `]}`
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestRefusesWhatHubSpotRefuses(t *testing.T) {
	s := hubspot.New(quiet{t})
	for _, c := range []struct {
		name, method, path, token, ctype, body string
		status                                 int
		msg                                    string
	}{
		{"no auth", "POST", upsert, "", "application/json", inputs(1), 401, "Authentication credentials not found"},
		{"wrong path", "POST", "/crm/v3/objects/contact/batch/upsert", hubspot.Token, "application/json", inputs(1), 404, "not a HubSpot endpoint"},
		{"wrong method", "GET", upsert, hubspot.Token, "", "", 405, "takes POST"},
		{"content type", "POST", upsert, hubspot.Token, "text/plain", inputs(1), 415, "Content-Type"},
		{"oversize", "POST", upsert, hubspot.Token, "application/json", inputs(101), 400, "exceeds limit of 100"},
		{"empty", "POST", upsert, hubspot.Token, "application/json", `{"inputs":[]}`, 400, "may not be empty"},
		{"no idProperty", "POST", upsert, hubspot.Token, "application/json", `{"inputs":[{"id":"a@x.org","properties":{}}]}`, 400, "idProperty"},
		{"no id", "POST", upsert, hubspot.Token, "application/json", `{"inputs":[{"idProperty":"email","properties":{}}]}`, 400, `"id" is required`},
		{"no properties", "POST", upsert, hubspot.Token, "application/json", `{"inputs":[{"idProperty":"email","id":"a@x.org"}]}`, 400, `"properties" is required`},
		{"non-unique idProperty", "POST", upsert, hubspot.Token, "application/json", `{"inputs":[{"idProperty":"firstname","id":"A","properties":{}}]}`, 400, "non-unique"},
		{"number value", "POST", upsert, hubspot.Token, "application/json", `{"inputs":[{"idProperty":"email","id":"a@x.org","properties":{"ltv":5}}]}`, 400, "values are strings"},
		{"null value", "POST", upsert, hubspot.Token, "application/json", `{"inputs":[{"idProperty":"email","id":"a@x.org","properties":{"ltv":null}}]}`, 400, `clear one with ""`},
		{"unknown member", "POST", upsert, hubspot.Token, "application/json", `{"inputs":[{"idProperty":"email","id":"a@x.org","properties":{},"extra":1}]}`, 400, "unknown field"},
		{"duplicate ids", "POST", upsert, hubspot.Token, "application/json", `{"inputs":[{"idProperty":"email","id":"a@x.org","properties":{}},{"idProperty":"email","id":"A@x.org","properties":{}}]}`, 400, "Duplicate IDs"},
		{"read without properties", "POST", "/crm/v3/objects/contacts/batch/read", hubspot.Token, "application/json", `{"inputs":[{"id":"1"}],"propertiesWithHistory":[]}`, 400, `"properties" is required`},
		{"membership with emails", "PUT", "/crm/v3/lists/1001/memberships/add-and-remove", hubspot.Token, "application/json", `{"recordIdsToAdd":["a@x.org"],"recordIdsToRemove":[]}`, 400, "not a record ID"},
		{"gdpr without objectId", "POST", "/crm/v3/objects/contacts/gdpr-delete", hubspot.Token, "application/json", `{"idProperty":"email"}`, 400, `"objectId" is required`},
		{"gdpr non-unique idProperty", "POST", "/crm/v3/objects/contacts/gdpr-delete", hubspot.Token, "application/json", `{"objectId":"Ann","idProperty":"firstname"}`, 400, "not a unique"},
		{"gdpr by DELETE", "DELETE", "/crm/v3/objects/contacts/gdpr-delete", hubspot.Token, "", "", 405, "takes POST"},
		{"membership half", "PUT", "/crm/v3/lists/1001/memberships/add-and-remove", hubspot.Token, "application/json", `{"recordIdsToAdd":["1"]}`, 400, "recordIdsToRemove"},
	} {
		a := send(t, s, c.method, c.path, c.token, c.ctype, c.body)
		msg, _ := a.body["message"].(string)
		if a.status != c.status || !strings.Contains(msg, c.msg) || a.body["status"] != "error" || a.body["category"] == nil {
			t.Errorf("%s: %d %s, want %d with %q in HubSpot's error shape", c.name, a.status, a.raw, c.status, c.msg)
		}
	}
	if v := s.Violations(); len(v) != 20 {
		t.Errorf("%d violations, want 20: %q", len(v), v)
	}
	if got := s.Audience("upsert"); len(got) != 0 {
		t.Errorf("refused requests changed the store: %v", got)
	}
}

func TestWrongAndRevokedTokensAreNotViolations(t *testing.T) {
	s := hubspot.New(t)
	a := send(t, s, "POST", upsert, "pat-na1-wrong", "application/json", inputs(1))
	if a.status != 401 || a.body["category"] != "INVALID_AUTHENTICATION" {
		t.Errorf("wrong token: %d %s", a.status, a.raw)
	}
	s.Revoke()
	a = post(t, s, upsert, inputs(1))
	if a.status != 401 || a.body["category"] != "EXPIRED_AUTHENTICATION" {
		t.Errorf("revoked: %d %s", a.status, a.raw)
	}
}

func TestMultiStatusPerInput(t *testing.T) {
	s := hubspot.New(t)
	body := `{"inputs":[
	 {"idProperty":"email","id":"A@Example.org","properties":{"firstname":"Ann","ltv":"12.50"},"objectWriteTraceId":"t1"},
	 {"idProperty":"email","id":"b@example.org","properties":{"ltv2":"1"},"objectWriteTraceId":"t2"},
	 {"idProperty":"email","id":"c@example.org","properties":{"ltv":"lots"},"objectWriteTraceId":"t3"},
	 {"idProperty":"email","id":"not-an-email","properties":{},"objectWriteTraceId":"t4"},
	 {"idProperty":"email","id":"d@example.org","properties":{"hs_object_id":"7"},"objectWriteTraceId":"t5"}]}`
	a := post(t, s, upsert, body)
	if a.status != 207 || a.body["status"] != "COMPLETE" || a.body["numErrors"] != 4.0 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	results := a.body["results"].([]any)
	r0 := results[0].(map[string]any)
	if len(results) != 1 || r0["objectWriteTraceId"] != "t1" || r0["new"] != true || r0["properties"].(map[string]any)["email"] != "a@example.org" {
		t.Errorf("results = %v", results)
	}
	codes := map[string]string{}
	for _, e := range a.body["errors"].([]any) {
		m := e.(map[string]any)
		ctx := m["context"].(map[string]any)
		trace := ctx["objectWriteTraceId"].([]any)[0].(string)
		codes[trace] = m["message"].(string)
		if m["category"] != "VALIDATION_ERROR" || ctx["ids"] == nil {
			t.Errorf("error shape: %v", m)
		}
	}
	for trace, code := range map[string]string{"t2": "PROPERTY_DOESNT_EXIST", "t3": "INVALID_FLOAT", "t4": "INVALID_EMAIL", "t5": "READ_ONLY_VALUE"} {
		if !strings.Contains(codes[trace], code) {
			t.Errorf("%s: %q, want %s", trace, codes[trace], code)
		}
	}
	want := map[string]map[string]string{"a@example.org": {"email": "a@example.org", "name": "Ann", "ltv": "12.5"}}
	if got := s.Audience("upsert"); !equal(got, want) {
		t.Errorf("audience %v, want %v", got, want)
	}
}

func TestWithoutTraceIDsOneFailureFailsTheBatch(t *testing.T) {
	s := hubspot.New(t)
	a := post(t, s, upsert, `{"inputs":[{"idProperty":"email","id":"a@example.org","properties":{}},{"idProperty":"email","id":"b@example.org","properties":{"nope":"1"}}]}`)
	if a.status != 400 || !strings.Contains(a.raw, "PROPERTY_DOESNT_EXIST") {
		t.Errorf("%d %s", a.status, a.raw)
	}
	if len(s.Audience("upsert")) != 0 {
		t.Error("a failed batch applied contacts")
	}
}

func TestListMembershipKeepsContacts(t *testing.T) {
	s := hubspot.New(t)
	a := post(t, s, upsert, inputs(3))
	var ids []string
	for _, r := range a.body["results"].([]any) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	path := "/crm/v3/lists/" + hubspot.ListID + "/memberships/add-and-remove"
	a = send(t, s, "PUT", path, hubspot.Token, "application/json", `{"recordIdsToAdd":["`+strings.Join(ids, `","`)+`","999999"],"recordIdsToRemove":[]}`)
	if a.status != 200 || len(a.body["recordsIdsAdded"].([]any)) != 3 || a.body["recordIdsMissing"].([]any)[0] != "999999" {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	a = send(t, s, "PUT", path, hubspot.Token, "application/json", `{"recordIdsToAdd":[],"recordIdsToRemove":["`+ids[0]+`"]}`)
	if a.status != 200 || a.body["recordIdsRemoved"].([]any)[0] != ids[0] {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	if len(s.Audience("mirror")) != 2 || len(s.Audience("upsert")) != 3 {
		t.Errorf("mirror %v upsert %v", s.Audience("mirror"), s.Audience("upsert"))
	}
	if a := send(t, s, "GET", "/crm/v3/lists/424242", hubspot.Token, "", ""); a.status != 404 || a.body["category"] != "OBJECT_NOT_FOUND" {
		t.Errorf("unknown list: %d %s", a.status, a.raw)
	}
	dyn := s.AddList("dynamic", "DYNAMIC")
	if a := send(t, s, "PUT", "/crm/v3/lists/"+dyn+"/memberships/add-and-remove", hubspot.Token, "application/json", `{"recordIdsToAdd":["`+ids[0]+`"],"recordIdsToRemove":[]}`); a.status != 400 {
		t.Errorf("dynamic list: %d %s", a.status, a.raw)
	}
}

func TestThrottleShape(t *testing.T) {
	s := hubspot.New(t)
	s.SetFaults(destinationtest.Faults{Status429Every: 1})
	a := post(t, s, upsert, inputs(1))
	if a.status != 429 || a.body["errorType"] != "RATE_LIMIT" || a.body["policyName"] != hubspot.PolicyTenSecondly ||
		a.header.Get("X-HubSpot-RateLimit-Remaining") != "0" || a.header.Get("X-HubSpot-RateLimit-Interval-Milliseconds") != "200" {
		t.Errorf("%d %v %s", a.status, a.header, a.raw)
	}
	s.SetFaults(destinationtest.Faults{})
	s.SetBurstLimit(2, 10*time.Second)
	statuses := []int{}
	for range 3 {
		statuses = append(statuses, post(t, s, upsert, inputs(1)).status)
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != 429 {
		t.Errorf("burst limit of 2: %v", statuses)
	}
	if st := s.Stats(); st.Throttled != 2 || st.Writes != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestServePrintsNothingAndHoldsTheList(t *testing.T) {
	s, err := hubspot.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if a := send(t, s, "GET", "/crm/v3/lists/"+hubspot.ListID, hubspot.Token, "", ""); a.status != 200 ||
		a.body["list"].(map[string]any)["processingType"] != "MANUAL" {
		t.Errorf("%d %s", a.status, a.raw)
	}
	a := send(t, s, "GET", "/crm/v3/properties/contacts", hubspot.Token, "", "")
	var names []string
	for _, p := range a.body["results"].([]any) {
		names = append(names, p.(map[string]any)["name"].(string))
	}
	if !strings.Contains(strings.Join(names, ","), "email,firstname,lastname") || !bytes.Contains([]byte(a.raw), []byte(`"name":"ltv","label":"Lifetime value","type":"number"`)) {
		t.Errorf("properties: %v", names)
	}
	_ = send(t, s, "GET", "/nope", "", "", "")
	if len(s.Violations()) != 1 {
		t.Errorf("violations %v", s.Violations())
	}
}

func equal(a, b map[string]map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || len(v) != len(w) {
			return false
		}
		for f, x := range v {
			if w[f] != x {
				return false
			}
		}
	}
	return true
}
