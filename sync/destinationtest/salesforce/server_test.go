package salesforce_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cdpkit/cdp/sync/destinationtest"
	sftest "github.com/cdpkit/cdp/sync/destinationtest/salesforce"
)

// quiet keeps contract violations from failing the test: these tests
// break the contract on purpose and look at the answers.
type quiet struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (q *quiet) Errorf(format string, args ...any) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, fmt.Sprintf(format, args...))
}

// client talks to a server with a token from the refresh-token grant.
type client struct {
	t     *testing.T
	s     *sftest.Server
	token string
}

func newClient(t *testing.T) (*client, *quiet) {
	q := &quiet{TB: t}
	s := sftest.New(q)
	c := &client{t: t, s: s}
	set := s.Settings("upsert")
	status, body := c.form(url.Values{"grant_type": {"refresh_token"}, "client_id": {set["client_id"]},
		"client_secret": {set["client_secret"]}, "refresh_token": {set["refresh_token"]}})
	var tok struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	if status != 200 || json.Unmarshal(body, &tok) != nil || tok.InstanceURL != s.URL() {
		t.Fatalf("token: %d %s", status, body)
	}
	c.token = tok.AccessToken
	return c, q
}

func (c *client) form(v url.Values) (int, []byte) {
	resp, err := http.PostForm(c.s.URL()+"/services/oauth2/token", v)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// do sends a request under /services/data/v61.0 with the token.
func (c *client) do(method, path, ctype, body string) (int, http.Header, string) {
	req, _ := http.NewRequest(method, c.s.URL()+"/services/data/v61.0"+path, strings.NewReader(body))
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func contacts(n int, extra string) string {
	var recs []string
	for i := range n {
		recs = append(recs, fmt.Sprintf(`{"attributes":{"type":"Contact"},"External_Email__c":"p%d@x.org","LastName":"L%d"%s}`, i, i, extra))
	}
	return `{"allOrNone":false,"records":[` + strings.Join(recs, ",") + `]}`
}

const upsertPath = "/composite/sobjects/Contact/External_Email__c"

func TestRefusesWhatSalesforceRefuses(t *testing.T) {
	c, q := newClient(t)
	cases := []struct {
		name                string
		method, path, ctype string
		body                string
		token               string
		status              int
		code                string
		violation           bool
	}{
		{"no token", "PATCH", upsertPath, "application/json", contacts(1, ""), "-", 401, "INVALID_SESSION_ID", true},
		{"expired token", "PATCH", upsertPath, "application/json", contacts(1, ""), "00Dstale", 401, "INVALID_SESSION_ID", false},
		{"wrong path", "PATCH", "/composite/sobject/Contact/External_Email__c", "application/json", contacts(1, ""), "", 404, "NOT_FOUND", true},
		{"wrong method", "POST", upsertPath, "application/json", contacts(1, ""), "", 405, "METHOD_NOT_ALLOWED", true},
		{"not json", "PATCH", upsertPath, "text/plain", contacts(1, ""), "", 415, "UNSUPPORTED_MEDIA_TYPE", true},
		{"201 records", "PATCH", upsertPath, "application/json", contacts(201, ""), "", 400, "EXCEEDED_ID_LIMIT", true},
		{"unknown member", "PATCH", upsertPath, "application/json", `{"allOrNone":false,"records":[],"batch":1}`, "", 400, "JSON_PARSER_ERROR", true},
		{"no attributes", "PATCH", upsertPath, "application/json", `{"records":[{"External_Email__c":"a@x.org","LastName":"A"}]}`, "", 400, "JSON_PARSER_ERROR", true},
		{"Id in an upsert", "PATCH", upsertPath, "application/json", contacts(1, `,"Id":"003000000000001AAQ"`), "", 400, "JSON_PARSER_ERROR", true},
		{"string for a number", "PATCH", upsertPath, "application/json", contacts(1, `,"LTV__c":"12"`), "", 400, "JSON_PARSER_ERROR", true},
		{"unknown field", "PATCH", upsertPath, "application/json", contacts(1, `,"Score__c":1`), "", 400, "INVALID_FIELD", false},
		{"not an external id", "PATCH", "/composite/sobjects/Contact/LastName", "application/json", contacts(1, ""), "", 400, "INVALID_FIELD", false},
		{"201 ids", "DELETE", "/composite/sobjects?ids=" + strings.Repeat("003000000000001AAQ,", 200) + "003000000000001AAQ", "", "", "", 400, "EXCEEDED_ID_LIMIT", true},
		{"unknown object", "GET", "/sobjects/Lead/describe", "", "", "", 404, "NOT_FOUND", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(c.s.Violations())
			saved := c.token
			if tc.token == "-" {
				c.token = ""
			} else if tc.token != "" {
				c.token = tc.token
			}
			status, _, body := c.do(tc.method, tc.path, tc.ctype, tc.body)
			c.token = saved
			var errs []struct{ ErrorCode, Message string }
			if status != tc.status || json.Unmarshal([]byte(body), &errs) != nil || len(errs) != 1 || errs[0].ErrorCode != tc.code {
				t.Errorf("got %d %s, want %d %s", status, body, tc.status, tc.code)
			}
			if got := len(c.s.Violations()) > before; got != tc.violation {
				t.Errorf("violation recorded %v, want %v (%v)", got, tc.violation, c.s.Violations())
			}
		})
	}
	if len(q.msgs) != len(c.s.Violations()) {
		t.Errorf("%d reports for %d violations", len(q.msgs), len(c.s.Violations()))
	}
}

func TestPerRecordErrorsInSalesforceShape(t *testing.T) {
	c, _ := newClient(t)
	body := `{"allOrNone":false,"records":[
		{"attributes":{"type":"Contact"},"External_Email__c":"a@x.org","LastName":"A","LTV__c":12.5},
		{"attributes":{"type":"Contact"},"External_Email__c":"b@x.org","FirstName":"B"},
		{"attributes":{"type":"Contact"},"External_Email__c":"c@x.org","LastName":"C","Email":"nope"},
		{"attributes":{"type":"Contact"},"External_Email__c":"a@x.org","LastName":"A2"}]}`
	status, h, out := c.do("PATCH", upsertPath, "application/json", body)
	if status != 200 || !strings.HasPrefix(h.Get("Sforce-Limit-Info"), "api-usage=") {
		t.Fatalf("%d %v %s", status, h, out)
	}
	var res []struct {
		ID      *string `json:"id"`
		Success bool
		Created *bool
		Errors  []struct {
			StatusCode, Message string
			Fields              []string
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 4 {
		t.Fatalf("%v %s", err, out)
	}
	if !res[0].Success || res[0].ID == nil || !*res[0].Created {
		t.Errorf("created: %s", out)
	}
	for i, code := range map[int]string{1: "REQUIRED_FIELD_MISSING", 2: "INVALID_EMAIL_ADDRESS", 3: "DUPLICATE_VALUE"} {
		if res[i].Success || len(res[i].Errors) != 1 || res[i].Errors[0].StatusCode != code || res[i].Errors[0].Fields == nil {
			t.Errorf("record %d: %s", i, out)
		}
	}
	// Clearing the required LastName is refused; clearing LTV__c works.
	_, _, out = c.do("PATCH", upsertPath, "application/json", `{"records":[
		{"attributes":{"type":"Contact"},"External_Email__c":"A@X.org","LastName":null}]}`)
	c.do("PATCH", upsertPath, "application/json", `{"records":[
		{"attributes":{"type":"Contact"},"External_Email__c":"a@x.org","LTV__c":null}]}`)
	if !strings.Contains(out, "REQUIRED_FIELD_MISSING") || c.s.Contact("a@x.org")["LTV__c"] != nil || c.s.Contact("a@x.org")["LastName"] != "A" {
		t.Errorf("%s %v", out, c.s.Contact("a@x.org"))
	}
	id := c.s.Contact("a@x.org")["Id"].(string)
	status, _, out = c.do("GET", "/sobjects/Contact/External_Email__c/a@x.org?fields=Id", "", "")
	if status != 200 || !strings.Contains(out, `"Id":"`+id+`"`) {
		t.Errorf("lookup: %d %s", status, out)
	}
	_, _, out = c.do("DELETE", "/composite/sobjects?ids="+id+",003000000000999AAQ,bad&allOrNone=false", "", "")
	for _, want := range []string{`"success":true`, "INVALID_CROSS_REFERENCE_KEY", "MALFORMED_ID"} {
		if !strings.Contains(out, want) {
			t.Errorf("delete: %s lacks %s", out, want)
		}
	}
	_, _, out = c.do("DELETE", "/composite/sobjects?ids="+id, "", "")
	if !strings.Contains(out, "ENTITY_IS_DELETED") {
		t.Errorf("delete again: %s", out)
	}
	if status, _, _ := c.do("GET", "/sobjects/Contact/External_Email__c/a@x.org", "", ""); status != 404 {
		t.Errorf("lookup after delete: %d", status)
	}
}

func TestAllOrNoneRollsBack(t *testing.T) {
	c, _ := newClient(t)
	_, _, out := c.do("PATCH", upsertPath, "application/json", `{"allOrNone":true,"records":[
		{"attributes":{"type":"Contact"},"External_Email__c":"a@x.org","LastName":"A"},
		{"attributes":{"type":"Contact"},"External_Email__c":"b@x.org"}]}`)
	if !strings.Contains(out, "ALL_OR_NONE_OPERATION_ROLLED_BACK") || c.s.Contact("a@x.org") != nil {
		t.Errorf("%s", out)
	}
}

func TestThrottleAndDailyLimit(t *testing.T) {
	c, _ := newClient(t)
	c.s.SetFaults(destinationtest.Faults{Status429Every: 1, RetryAfter: 2e9})
	status, h, out := c.do("PATCH", upsertPath, "application/json", contacts(1, ""))
	if status != 403 || !strings.Contains(out, `"errorCode":"REQUEST_LIMIT_EXCEEDED"`) || h.Get("Retry-After") != "2" ||
		h.Get("Sforce-Limit-Info") != "api-usage=1/100000" || c.s.Stats().Throttled != 1 {
		t.Errorf("throttle: %d %v %s %+v", status, h, out, c.s.Stats())
	}
	c.s.SetFaults(destinationtest.Faults{})
	c.s.SetDailyLimit(2)
	c.do("GET", "/sobjects/Contact/describe", "", "")
	status, h, _ = c.do("GET", "/sobjects/Contact/describe", "", "")
	if status != 403 || h.Get("Sforce-Limit-Info") != "api-usage=2/2" {
		t.Errorf("daily limit: %d %v", status, h)
	}
}

func TestTokenEndpoint(t *testing.T) {
	c, q := newClient(t)
	set := c.s.Settings("upsert")
	cases := []struct {
		form url.Values
		code string
	}{
		{url.Values{"grant_type": {"refresh_token"}, "client_id": {"other"}, "client_secret": {set["client_secret"]}, "refresh_token": {set["refresh_token"]}}, "invalid_client_id"},
		{url.Values{"grant_type": {"refresh_token"}, "client_id": {set["client_id"]}, "client_secret": {"no"}, "refresh_token": {set["refresh_token"]}}, "invalid_client"},
		{url.Values{"grant_type": {"refresh_token"}, "client_id": {set["client_id"]}, "client_secret": {set["client_secret"]}, "refresh_token": {"old"}}, "invalid_grant"},
		{url.Values{"grant_type": {"password"}}, "unsupported_grant_type"},
		{url.Values{"grant_type": {sftest.JWTGrant}, "assertion": {"not.a.jwt"}}, "invalid_grant"},
	}
	for _, tc := range cases {
		status, body := c.form(tc.form)
		var e struct{ Error string }
		if status != 400 || json.Unmarshal(body, &e) != nil || e.Error != tc.code {
			t.Errorf("%v: %d %s", tc.form, status, body)
		}
	}
	if len(q.msgs) != 0 {
		t.Errorf("refused credentials are not violations: %v", q.msgs)
	}
	c.s.Revoke()
	if status, _, _ := c.do("GET", "/sobjects/Contact/describe", "", ""); status != 401 {
		t.Errorf("revoked session: %d", status)
	}
}

func TestBulkJobLifecycle(t *testing.T) {
	c, _ := newClient(t)
	status, _, out := c.do("POST", "/jobs/ingest", "application/json",
		`{"object":"Contact","operation":"upsert","externalIdFieldName":"External_Email__c","contentType":"CSV","lineEnding":"LF"}`)
	var info struct {
		ID, State, ContentURL string
		NumberRecordsFailed   int
	}
	if status != 200 || json.Unmarshal([]byte(out), &info) != nil || info.State != "Open" {
		t.Fatalf("create: %d %s", status, out)
	}
	jp := "/jobs/ingest/" + info.ID
	if status, _, out := c.do("GET", jp+"/successfulResults/", "", ""); status != 400 || !strings.Contains(out, "INVALIDJOBSTATE") {
		t.Errorf("results of an open job: %d %s", status, out)
	}
	data := "External_Email__c,LastName,LTV__c\na@x.org,A,1.5\nb@x.org,#N/A,2\nc@x.org,C,lots\n"
	if status, _, out := c.do("PUT", jp+"/batches", "text/csv", data); status != 201 || out != "" {
		t.Fatalf("upload: %d %s", status, out)
	}
	if status, _, _ := c.do("PUT", jp+"/batches", "text/csv", data); status != 409 {
		t.Errorf("second upload: %d", status)
	}
	if status, _, out := c.do("PATCH", jp, "application/json", `{"state":"UploadComplete"}`); status != 200 || !strings.Contains(out, `"state":"UploadComplete"`) {
		t.Fatalf("close: %d %s", status, out)
	}
	var states []string
	for range 3 {
		_, _, out := c.do("GET", jp, "", "")
		_ = json.Unmarshal([]byte(out), &info)
		states = append(states, info.State)
	}
	if strings.Join(states, ",") != "InProgress,InProgress,JobComplete" || info.NumberRecordsFailed != 2 {
		t.Errorf("states %v, failed %d", states, info.NumberRecordsFailed)
	}
	_, h, ok := c.do("GET", jp+"/successfulResults/", "", "")
	_, _, failed := c.do("GET", jp+"/failedResults/", "", "")
	if !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.HasPrefix(ok, "sf__Id,sf__Created,External_Email__c,LastName,LTV__c\n003") ||
		!strings.Contains(ok, ",true,a@x.org,A,1.5") {
		t.Errorf("successful: %s", ok)
	}
	// Rows come in reverse order: c's type error first, then b's missing LastName.
	if !strings.HasPrefix(failed, "sf__Id,sf__Error,External_Email__c,LastName,LTV__c\n,INVALID_TYPE_ON_FIELD_IN_RECORD:") ||
		!strings.Contains(failed, "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --,b@x.org") {
		t.Errorf("failed: %s", failed)
	}
}

func TestServe(t *testing.T) {
	s, err := sftest.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	set := s.Settings("mirror")
	resp, err := http.PostForm(s.URL()+"/services/oauth2/token", url.Values{"grant_type": {"refresh_token"},
		"client_id": {set["client_id"]}, "client_secret": {set["client_secret"]}, "refresh_token": {set["refresh_token"]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || s.Type() != "salesforce" || s.Fields().Name != "LastName" {
		t.Errorf("%d %s %+v", resp.StatusCode, s.Type(), s.Fields())
	}
}
