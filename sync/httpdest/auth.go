package httpdest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Auth authorizes requests.
type Auth interface {
	// Authorize sets the request's credentials.
	Authorize(ctx context.Context, r *http.Request) error
	// Invalidate drops a cached token after the vendor refused it (401), so
	// the next Authorize fetches a new one. Static credentials ignore it and
	// report false: retrying with them is pointless.
	Invalidate() bool
	// Secrets lists the credential values, for redaction in logs.
	Secrets() []string
}

// header is a static credential in one header.
type header struct{ name, value, secret string }

func (h header) Authorize(_ context.Context, r *http.Request) error {
	r.Header.Set(h.name, h.value)
	return nil
}
func (h header) Invalidate() bool  { return false }
func (h header) Secrets() []string { return []string{h.secret} }

// Bearer is `Authorization: Bearer <token>`.
func Bearer(token string) Auth { return header{"Authorization", "Bearer " + token, token} }

// Basic is HTTP basic authentication.
func Basic(user, password string) Auth {
	v := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	return header{"Authorization", "Basic " + v, password}
}

// Header sends an API key in a header, after an optional prefix
// (e.g. Header("Authorization", "Klaviyo-API-Key ", key) or
// Header("Api-Key", "", key)).
func Header(name, prefix, key string) Auth { return header{name, prefix + key, key} }

// None sends no credentials.
func None() Auth { return header{} }

func (h header) isNone() bool { return h.name == "" }

// OAuth2 authorizes with an access token from an OAuth2 token source,
// cached until it expires and refreshed on demand or after a 401.
type OAuth2 struct {
	mu      sync.Mutex
	newSrc  func() oauth2.TokenSource
	src     oauth2.TokenSource
	tok     *oauth2.Token
	secrets []string
}

// NewOAuth2 wraps a token source factory; newSrc is called again after
// Invalidate. secrets are redacted from logs.
func NewOAuth2(newSrc func() oauth2.TokenSource, secrets ...string) *OAuth2 {
	return &OAuth2{newSrc: newSrc, secrets: secrets}
}

// RefreshToken is the OAuth2 refresh-token grant against tokenURL.
func RefreshToken(tokenURL, clientID, clientSecret, refreshToken string, scopes ...string) *OAuth2 {
	cfg := &oauth2.Config{ClientID: clientID, ClientSecret: clientSecret, Scopes: scopes,
		Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	return NewOAuth2(func() oauth2.TokenSource {
		return cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refreshToken})
	}, clientSecret, refreshToken)
}

// ClientCredentials is the OAuth2 client-credentials grant against tokenURL.
func ClientCredentials(tokenURL, clientID, clientSecret string, scopes ...string) *OAuth2 {
	cfg := &clientcredentials.Config{ClientID: clientID, ClientSecret: clientSecret, TokenURL: tokenURL, Scopes: scopes,
		AuthStyle: oauth2.AuthStyleInParams}
	return NewOAuth2(func() oauth2.TokenSource { return cfg.TokenSource(context.Background()) }, clientSecret)
}

// Token returns a valid token, fetching one when none is cached or the
// cached one expired.
func (o *OAuth2) Token(ctx context.Context) (*oauth2.Token, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.tok != nil && o.tok.Valid() {
		return o.tok, nil
	}
	if o.src == nil {
		o.src = oauth2.ReuseTokenSource(nil, o.newSrc())
	}
	t, err := o.src.Token()
	if err != nil {
		return nil, fmt.Errorf("oauth2: getting an access token: %w", err)
	}
	o.tok = t
	return t, nil
}

// Authorize sets `Authorization: <type> <token>`.
func (o *OAuth2) Authorize(ctx context.Context, r *http.Request) error {
	t, err := o.Token(ctx)
	if err != nil {
		return err
	}
	t.SetAuthHeader(r)
	return nil
}

// Invalidate drops the cached token and its source, so the next request
// fetches a new one.
func (o *OAuth2) Invalidate() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tok, o.src = nil, nil
	return true
}

// Secrets lists the client secret, refresh token and current access token.
func (o *OAuth2) Secrets() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := append([]string{}, o.secrets...)
	if o.tok != nil {
		out = append(out, o.tok.AccessToken)
	}
	return out
}
