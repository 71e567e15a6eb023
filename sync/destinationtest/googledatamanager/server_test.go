package googledatamanager_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	srvpkg "github.com/cdpkit/cdp/sync/destinationtest/googledatamanager"
)

const hash = "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79"

func token(t *testing.T, s *srvpkg.Server, scope, aud string) (*oauth2.Token, error) {
	t.Helper()
	b, err := os.ReadFile(s.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	var k struct{ ClientEmail, PrivateKey, TokenURI string }
	var raw map[string]string
	_ = json.Unmarshal(b, &raw)
	k.ClientEmail, k.PrivateKey, k.TokenURI = raw["client_email"], raw["private_key"], raw["token_uri"]
	cfg := &jwt.Config{Email: k.ClientEmail, PrivateKey: []byte(k.PrivateKey), Scopes: []string{scope}, TokenURL: k.TokenURI, Audience: aud}
	return cfg.TokenSource(context.Background()).Token()
}

// TestServerEnforcesTheContract: the token endpoint takes only a grant
// signed by the key, for the scope, addressed to it; the API takes only
// its tokens and requests shaped as the protos say.
func TestServerEnforcesTheContract(t *testing.T) {
	s, err := srvpkg.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := token(t, s, "https://www.googleapis.com/auth/adwords", ""); err == nil {
		t.Fatal("a grant without the datamanager scope must be refused")
	}
	if _, err := token(t, s, srvpkg.Scope, "https://oauth2.googleapis.com/token"); err == nil {
		t.Fatal("a grant addressed to another token_uri must be refused")
	}
	tok, err := token(t, s, srvpkg.Scope, "")
	if err != nil {
		t.Fatal(err)
	}
	send := func(bearer, body string) (int, string) {
		rq, _ := http.NewRequest("POST", s.URL()+"/v1/audienceMembers:ingest", bytes.NewReader([]byte(body)))
		rq.Header.Set("Content-Type", "application/json")
		rq.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := http.DefaultClient.Do(rq)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	dest := `"destinations":[{"operatingAccount":{"accountId":"1234567890","accountType":"GOOGLE_ADS"},"productDestinationId":"8123456789"}]`
	member := `"audienceMembers":[{"userData":{"userIdentifiers":[{"emailAddress":"` + hash + `"}]}}]`
	consent := `"consent":{"adUserData":"CONSENT_GRANTED","adPersonalization":"CONSENT_GRANTED"}`
	if code, _ := send("ya29.forged", "{"+dest+","+member+","+consent+`,"encoding":"HEX"}`); code != 401 {
		t.Fatalf("an unknown token must be 401, got %d", code)
	}
	bad := []string{
		"{" + dest + "," + member + "," + consent + "}",                                      // no encoding
		"{" + dest + "," + member + `,"encoding":"HEX"}`,                                     // no consent
		"{" + dest + "," + member + "," + consent + `,"encoding":"HEX","validateOnly":true}`, // nothing applied
		"{" + dest + `,"audienceMembers":[{"userData":{"userIdentifiers":[{"emailAddress":"mary@example.com"}]}}],` + consent + `,"encoding":"HEX"}`,
		"{" + dest + "," + member + "," + consent + `,"encoding":"HEX","audience_members":[]}`, // unknown field
	}
	before := len(s.Violations()) // the two refused grants
	if before != 2 {
		t.Fatalf("the refused grants are violations: %v", s.Violations())
	}
	for i, b := range bad {
		if code, body := send(tok.AccessToken, b); code != 400 || len(s.Violations()) != before+i+1 {
			t.Fatalf("bad request %d: want a violation answered 400, got %d %s", i, code, body)
		}
	}
	code, body := send(tok.AccessToken, "{"+dest+","+member+","+consent+`,"encoding":"HEX"}`)
	if code != 200 || !strings.Contains(body, "requestId") || len(s.Audience("")) != 1 {
		t.Fatalf("a good ingest: %d %s", code, body)
	}
}
