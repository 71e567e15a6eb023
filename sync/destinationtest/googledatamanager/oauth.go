package googledatamanager

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2/jws"
)

// Scope is the scope the token endpoint requires.
const Scope = "https://www.googleapis.com/auth/datamanager"

// jwtGrant is the grant type of a service-account token request.
const jwtGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// TokenLifetime is how long an issued access token lasts.
const TokenLifetime = time.Hour

// newKey makes the service account's RSA key and its JSON key file.
func (s *Server) newKey(dir string) error {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	s.pub = &k.PublicKey
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	file := map[string]string{"type": "service_account", "project_id": "cdp-test", "private_key_id": randHex(20),
		"private_key": string(keyPEM), "client_email": s.email, "client_id": "1234567890",
		"token_uri": s.url + "/token"}
	b, _ := json.MarshalIndent(file, "", "  ")
	s.keyFile = filepath.Join(dir, "datamanager-sa.json")
	return os.WriteFile(s.keyFile, b, 0o600)
}

// token answers the token endpoint: a JWT-bearer grant whose assertion is
// signed (RS256) by the service account's key, issued by its client_email,
// for the datamanager scope, addressed to this token_uri, and current.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.oauthError(w, "invalid_request", "the token endpoint takes POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.oauthError(w, "invalid_request", err.Error())
		return
	}
	if g := r.PostForm.Get("grant_type"); g != jwtGrant {
		s.oauthError(w, "unsupported_grant_type", "want grant_type "+jwtGrant+", got "+g)
		return
	}
	a := r.PostForm.Get("assertion")
	if err := jws.Verify(a, s.pub); err != nil {
		s.oauthError(w, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	c, err := jws.Decode(a)
	now := time.Now().Unix()
	switch {
	case err != nil:
		s.oauthError(w, "invalid_grant", "bad JWT claims")
	case c.Iss != s.email:
		s.oauthError(w, "invalid_grant", "Invalid JWT: iss is not the service account")
	case c.Aud != s.url+"/token":
		s.oauthError(w, "invalid_grant", "Invalid JWT: aud is not the token_uri")
	case !strings.Contains(" "+c.Scope+" ", " "+Scope+" "):
		s.oauthError(w, "invalid_scope", "the datamanager scope is missing")
	case c.Exp < now || c.Iat > now+60 || c.Exp-c.Iat > 3600:
		s.oauthError(w, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
	default:
		tok := "ya29." + randHex(24)
		s.mu.Lock()
		s.tokens[tok] = time.Now().Add(TokenLifetime)
		s.grants++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": int(TokenLifetime.Seconds()), "token_type": "Bearer"})
	}
}

func (s *Server) oauthError(w http.ResponseWriter, code, desc string) {
	s.Report("token endpoint: %s: %s", code, desc)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// authorized checks the bearer token.
func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, known := s.tokens[tok]
	return known && time.Now().Before(exp) && !s.revoked
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
