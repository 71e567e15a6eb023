package braze

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/sync/destinationtest"
)

// lenient serves a server whose violations are only recorded, for tests
// that break the contract on purpose.
func lenient(t *testing.T) *Server {
	t.Helper()
	s, err := Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// post sends body to path with the given key ("" for no Authorization).
func post(t *testing.T, s *Server, path, key, ctype, body string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return answer{resp.StatusCode, resp.Header, m}
}

func track(t *testing.T, s *Server, body string) answer {
	t.Helper()
	return post(t, s, TrackPath, s.APIKey(), "application/json", body)
}

func attrs(n int) string {
	var objs []string
	for i := range n {
		objs = append(objs, fmt.Sprintf(`{"email":"p%d@example.org","first_name":"P%d","ltv":%d}`, i, i, i))
	}
	return `{"attributes":[` + strings.Join(objs, ",") + `]}`
}

// violations asserts that n violations were recorded since the last call.
func violations(t *testing.T, s *Server, seen *int, n int, what string) {
	t.Helper()
	v := s.Violations()
	if got := len(v) - *seen; got != n {
		t.Errorf("%s: %d violations, want %d: %v", what, got, n, v[*seen:])
	}
	*seen = len(v)
}

func TestRefusesWhatBrazeRefuses(t *testing.T) {
	s := lenient(t)
	seen := 0
	for _, tc := range []struct {
		name, path, key, ctype, body string
		status                       int
		message                      string
		violation                    bool
	}{
		{"no key", TrackPath, "", "application/json", attrs(1), 401, "Unknown or missing REST API Key", true},
		{"revoked key", TrackPath, "not-the-key", "application/json", attrs(1), 401, "Invalid API key", false},
		{"wrong path", "/users/trak", s.APIKey(), "application/json", attrs(1), 404, "Not Found", true},
		{"form body", TrackPath, s.APIKey(), "application/x-www-form-urlencoded", attrs(1), 400, "Bad syntax", true},
		{"not JSON", TrackPath, s.APIKey(), "application/json", `{"attributes":[`, 400, "Bad syntax", true},
		{"legacy api_key member", TrackPath, s.APIKey(), "application/json", `{"api_key":"k","attributes":[{"email":"a@b.c"}]}`, 400, "Bad syntax", true},
		{"no attributes", TrackPath, s.APIKey(), "application/json", `{"attributes":[]}`, 400, msgNoData, true},
		{"76 objects", TrackPath, s.APIKey(), "application/json", attrs(76), 400, msgTooMany, true},
		{"51 subscription ids", SubscriptionPath, s.APIKey(), "application/json", subscription(s.Group(), "subscribed", 51), 400,
			"The max number of ids per request was exceeded", true},
		{"bad state", SubscriptionPath, s.APIKey(), "application/json",
			`{"subscription_groups":[{"subscription_group_id":"g","subscription_state":"in","emails":["a@b.c"]}]}`, 400, "Bad Request", true},
		{"no ids", SubscriptionPath, s.APIKey(), "application/json",
			`{"subscription_groups":[{"subscription_group_id":"g","subscription_state":"subscribed"}]}`, 400, "Bad Request", true},
		{"unknown group", SubscriptionPath, s.APIKey(), "application/json", subscription("no-such-group", "subscribed", 1), 400,
			"Invalid subscription_group_id", false},
	} {
		a := post(t, s, tc.path, tc.key, tc.ctype, tc.body)
		if a.status != tc.status || a.body["message"] != tc.message {
			t.Errorf("%s: %d %v, want %d %q", tc.name, a.status, a.body, tc.status, tc.message)
		}
		n := 0
		if tc.violation {
			n = 1
		}
		violations(t, s, &seen, n, tc.name)
	}
	if w := s.Stats().Writes; w != 0 {
		t.Errorf("%d writes applied from refused requests", w)
	}
}

func subscription(group, state string, n int) string {
	var ids []string
	for i := range n {
		ids = append(ids, strconv.Quote(fmt.Sprintf("p%d@example.org", i)))
	}
	return fmt.Sprintf(`{"subscription_groups":[{"subscription_group_id":%q,"subscription_state":%q,"emails":[%s]}]}`,
		group, state, strings.Join(ids, ","))
}

func TestPayloadLimit(t *testing.T) {
	s := lenient(t)
	s.SetMaxPayload(1000)
	long := `{"attributes":[{"email":"a@b.org","bio":"` + strings.Repeat("x", 1000) + `"}]}`
	if a := track(t, s, long); a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize body: %d, want 413", a.status)
	}
	if len(s.Violations()) != 1 {
		t.Errorf("violations = %v", s.Violations())
	}
}

func TestNonFatalErrorsByIndex(t *testing.T) {
	s := lenient(t)
	a := track(t, s, `{"attributes":[{"email":"a@b.org","first_name":"A"},{"first_name":"nobody"},{"email":"not-an-email"}]}`)
	if a.status != http.StatusCreated || a.body["message"] != "success" || a.body["attributes_processed"] != 1.0 {
		t.Fatalf("answer %d %v", a.status, a.body)
	}
	errs, _ := a.body["errors"].([]any)
	if len(errs) != 2 {
		t.Fatalf("errors = %v", a.body["errors"])
	}
	for k, want := range map[int]string{0: msgNoIdentity, 1: msgBadEmail} {
		e := errs[k].(map[string]any)
		if e["type"] != want || e["input_array"] != "attributes" || e["index"] != float64(k+1) {
			t.Errorf("errors[%d] = %v", k, e)
		}
	}
	if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], "without an identifier") {
		t.Errorf("violations = %v", v)
	}
	a = track(t, s, `{"attributes":[{"email":"bad"},{"email":"also bad"}]}`)
	if a.status != http.StatusBadRequest || a.body["message"] != msgNoData || len(a.body["errors"].([]any)) != 2 {
		t.Errorf("all invalid: %d %v", a.status, a.body)
	}
}

func TestStoreAndSubscriptions(t *testing.T) {
	s := New(t)
	track(t, s, `{"attributes":[{"email":"a@b.org","first_name":"A","ltv":12.5},{"external_id":"u2","email":"c@d.org","ltv":3}]}`)
	track(t, s, `{"attributes":[{"email":"a@b.org","first_name":null}]}`)
	a := post(t, s, SubscriptionPath, s.APIKey(), "application/json",
		fmt.Sprintf(`{"subscription_groups":[{"subscription_group_id":%q,"subscription_state":"subscribed","emails":["a@b.org"]},`+
			`{"subscription_group_id":%q,"subscription_state":"subscribed","external_ids":["u2"]}]}`, s.Group(), s.Group()))
	if a.status != http.StatusCreated {
		t.Fatalf("subscribe: %d %v", a.status, a.body)
	}
	want := map[string]map[string]string{"a@b.org": {"email": "a@b.org", "ltv": "12.5"}, "c@d.org": {"email": "c@d.org", "ltv": "3"}}
	if got := s.Audience("mirror"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("mirror audience = %v, want %v", got, want)
	}
	post(t, s, SubscriptionPath, s.APIKey(), "application/json",
		fmt.Sprintf(`{"subscription_groups":[{"subscription_group_id":%q,"subscription_state":"unsubscribed","emails":"a@b.org"}]}`, s.Group()))
	if got := s.Audience("mirror"); len(got) != 1 || got["c@d.org"] == nil {
		t.Errorf("after unsubscribe: %v", got)
	}
	if got := s.Audience("upsert"); len(got) != 2 {
		t.Errorf("upsert audience (every profile) = %v", got)
	}
}

func TestRateLimitSignal(t *testing.T) {
	s := New(t)
	s.SetEndpointLimit(TrackPath, 1, time.Minute)
	ok := track(t, s, attrs(1))
	if ok.status != http.StatusCreated || ok.header.Get("X-RateLimit-Limit") != "1" || ok.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("first: %d %v", ok.status, ok.header)
	}
	a := track(t, s, attrs(1))
	reset, _ := strconv.ParseInt(a.header.Get("X-RateLimit-Reset"), 10, 64)
	if a.status != http.StatusTooManyRequests || a.header.Get("X-RateLimit-Remaining") != "0" ||
		reset < time.Now().Add(50*time.Second).Unix() || reset > time.Now().Add(61*time.Second).Unix() {
		t.Errorf("throttled: %d %v", a.status, a.header)
	}
	if st := s.Stats(); st.Throttled != 1 || st.Writes != 1 {
		t.Errorf("stats = %+v", st)
	}
	// The fault schedule's 429 carries the same signal.
	s.SetEndpointLimit(TrackPath, 0, 0)
	s.SetFaults(destinationtest.Faults{Status429Every: 1, RetryAfter: 5 * time.Second})
	a = track(t, s, attrs(1))
	reset, _ = strconv.ParseInt(a.header.Get("X-RateLimit-Reset"), 10, 64)
	if a.status != http.StatusTooManyRequests || reset < time.Now().Add(4*time.Second).Unix() || a.header.Get("Retry-After") != "" {
		t.Errorf("injected 429: %d %v", a.status, a.header)
	}
}

func TestRecordFaultsAreNonFatalErrors(t *testing.T) {
	s := New(t)
	s.SetFaults(destinationtest.Faults{RejectRate: 0.3, RetryableRecordRate: 0.2, Seed: 7})
	a := track(t, s, attrs(40))
	errs, _ := a.body["errors"].([]any)
	st := s.Stats()
	if a.status != http.StatusCreated || len(errs) != st.Rejected+st.Retried || len(errs) == 0 {
		t.Fatalf("answer %d with %d errors, stats %+v", a.status, len(errs), st)
	}
	if got := len(s.Audience("upsert")); got != 40-len(errs) {
		t.Errorf("%d profiles stored, want %d", got, 40-len(errs))
	}
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(errs[0])
	if !strings.Contains(b.String(), `"input_array":"attributes"`) {
		t.Errorf("error shape %s", b.String())
	}
}
