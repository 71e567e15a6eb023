package salesforce

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWTGrant is the grant type of the OAuth 2.0 JWT bearer flow.
const JWTGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// maxAssertionLife is how far ahead a JWT's exp may be.
const maxAssertionLife = 5 * time.Minute

// keyPair is the connected app's certificate key: the server verifies
// assertions with the public half; JWTSettings hands out the private one.
type keyPair struct {
	public     *rsa.PublicKey
	privatePEM string
}

// keyPair returns the app's key pair, generating it on first use.
func (s *Server) keyPair() *keyPair {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		s.keys = &keyPair{public: &k.PublicKey, privatePEM: string(b)}
	}
	return s.keys
}

// oauthError is the token endpoint's error shape.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// token is POST /services/oauth2/token: the refresh-token and JWT bearer
// grants. A malformed request is a violation; credentials the server does
// not accept are answered 400 with Salesforce's error codes.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.refuse(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "%s /services/oauth2/token: use POST", r.Method)
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		s.refuse(w, http.StatusBadRequest, "invalid_request", "token request content-type %q, want application/x-www-form-urlencoded", ct)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.refuse(w, http.StatusBadRequest, "invalid_request", "token request form: %v", err)
		return
	}
	var oe *oauthError
	switch g := r.PostForm.Get("grant_type"); g {
	case "refresh_token":
		oe = s.refreshGrant(r)
	case JWTGrant:
		oe = s.jwtGrant(r.PostForm.Get("assertion"))
	case "":
		s.refuse(w, http.StatusBadRequest, "invalid_request", "token request without grant_type")
		return
	default:
		oe = &oauthError{"unsupported_grant_type", "grant type not supported"}
	}
	if oe != nil {
		writeJSON(w, http.StatusBadRequest, oe)
		return
	}
	writeJSON(w, http.StatusOK, s.issue())
}

// refreshGrant checks a refresh-token grant.
func (s *Server) refreshGrant(r *http.Request) *oauthError {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.PostForm.Get("client_id") != ClientID:
		return &oauthError{"invalid_client_id", "client identifier invalid"}
	case r.PostForm.Get("client_secret") != s.clientSecret:
		return &oauthError{"invalid_client", "invalid client credentials"}
	case r.PostForm.Get("refresh_token") != s.refreshToken || s.revoked:
		return &oauthError{"invalid_grant", "expired access/refresh token"}
	}
	return nil
}

// jwtGrant checks a JWT bearer assertion: RS256 signed with the app's key,
// iss the client id, sub the user, aud the login URL, exp soon.
func (s *Server) jwtGrant(assertion string) *oauthError {
	kp := s.keyPair()
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(assertion, &claims, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodRS256 {
			return nil, errors.New("not RS256")
		}
		return kp.public, nil
	}, jwt.WithExpirationRequired(), jwt.WithLeeway(time.Minute))
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil && errors.Is(err, jwt.ErrTokenExpired):
		return &oauthError{"invalid_grant", "expired authorization code"}
	case err != nil:
		return &oauthError{"invalid_grant", "invalid assertion"}
	case claims.Issuer != ClientID:
		return &oauthError{"invalid_client_id", "client identifier invalid"}
	case len(claims.Audience) != 1 || claims.Audience[0] != s.url:
		return &oauthError{"invalid_grant", "audience is invalid"}
	case claims.ExpiresAt.After(time.Now().Add(maxAssertionLife)):
		return &oauthError{"invalid_grant", "expiration is invalid"}
	case claims.Subject != Username || s.revoked:
		return &oauthError{"invalid_grant", "user hasn't approved this consumer"}
	}
	return nil
}

// issue creates a session and its token response.
func (s *Server) issue() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := "00Dcdp0000000001!AQ" + randomHex(24)
	s.sessions[tok] = true
	s.tokens++
	return map[string]string{
		"access_token": tok, "instance_url": s.url, "token_type": "Bearer", "scope": "api refresh_token",
		"id":        s.url + "/id/00Dcdp0000000001AAA/005cdp0000000001AAA",
		"issued_at": strconv.FormatInt(time.Now().UnixMilli(), 10), "signature": randomHex(16),
	}
}
