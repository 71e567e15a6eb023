package metacustomaudience_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	meta "github.com/cdpkit/cdp/sync/destinations/metacustomaudience"
	srvpkg "github.com/cdpkit/cdp/sync/destinationtest/metacustomaudience"
)

const hash = "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79"

func post(t *testing.T, s *srvpkg.Server, method string, form url.Values) (int, map[string]any) {
	t.Helper()
	rq, _ := http.NewRequest(method, s.URL()+"/v24.0/"+s.AudienceID()+"/users", strings.NewReader(form.Encode()))
	rq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestServerEnforcesTheContract: each broken rule is a violation answered
// with Graph error 100; a wrong token is error 190; a good request is
// applied and answered with num_received.
func TestServerEnforcesTheContract(t *testing.T) {
	s, err := srvpkg.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	good := func() url.Values {
		return url.Values{"access_token": {s.Token()}, "appsecret_proof": {meta.AppSecretProof(s.Token(), s.Secret())},
			"payload": {`{"schema":["EMAIL","FN"],"data":[["` + hash + `",""]]}`},
			"session": {`{"session_id":7,"batch_seq":1,"last_batch_flag":true}`}}
	}
	broken := map[string]func(url.Values){
		"no proof":        func(f url.Values) { f.Del("appsecret_proof") },
		"bad proof":       func(f url.Values) { f.Set("appsecret_proof", strings.Repeat("0", 64)) },
		"plain email":     func(f url.Values) { f.Set("payload", `{"schema":["EMAIL"],"data":[["mary@example.com"]]}`) },
		"unknown key":     func(f url.Values) { f.Set("payload", `{"schema":["MAIL"],"data":[["x"]]}`) },
		"short row":       func(f url.Values) { f.Set("payload", `{"schema":["EMAIL","FN"],"data":[["`+hash+`"]]}`) },
		"no session":      func(f url.Values) { f.Del("session") },
		"seq not from 1":  func(f url.Values) { f.Set("session", `{"session_id":8,"batch_seq":2,"last_batch_flag":true}`) },
		"closed session":  func(f url.Values) { f.Set("session", `{"session_id":9,"batch_seq":1,"last_batch_flag":true}`) },
		"after the close": func(f url.Values) { f.Set("session", `{"session_id":9,"batch_seq":2,"last_batch_flag":false}`) },
	}
	order := []string{"no proof", "bad proof", "plain email", "unknown key", "short row", "no session", "seq not from 1", "closed session", "after the close"}
	want := 0
	for _, name := range order {
		f := good()
		broken[name](f)
		code, body := post(t, s, http.MethodPost, f)
		if name == "closed session" { // a valid request that closes session 9
			if code != 200 {
				t.Fatalf("%s: %d %v", name, code, body)
			}
			continue
		}
		want++
		if code != 400 || len(s.Violations()) != want {
			t.Fatalf("%s: want a violation answered 400, got %d %v (violations %v)", name, code, body, s.Violations())
		}
	}
	f := good()
	f.Set("access_token", "EAABwrong")
	if code, body := post(t, s, http.MethodPost, f); code != 400 || body["error"].(map[string]any)["code"].(float64) != 190 {
		t.Fatalf("a wrong token is error 190: %d %v", code, body)
	}
	f = good()
	f.Set("session", `{"session_id":11,"batch_seq":1,"last_batch_flag":true}`)
	if code, body := post(t, s, http.MethodDelete, f); code != 200 || body["num_received"].(float64) != 1 {
		t.Fatalf("a good DELETE: %d %v", code, body)
	}
}
