package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// TokenPath is the OAuth 2.0 token endpoint under login_url.
const TokenPath = "/services/oauth2/token"

// JWTGrant is the grant type of the JWT bearer flow.
const JWTGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// assertionLife is how long a JWT assertion is valid (Salesforce accepts
// an exp up to a few minutes ahead).
const assertionLife = 3 * time.Minute

// flow names the OAuth 2.0 flow the settings choose.
type flow string

const (
	flowJWT     flow = "jwt bearer"
	flowRefresh flow = "refresh token"
)

// flowOf picks the OAuth flow from the credentials given: exactly one of
// the JWT bearer set and the refresh-token set must be complete.
func flowOf(v destination.Values) (flow, error) {
	jwtSet := v.String("username") != "" || v.String("private_key") != ""
	refreshSet := v.String("client_secret") != "" || v.String("refresh_token") != ""
	switch {
	case jwtSet && refreshSet:
		return "", errors.New("give the JWT bearer credentials (username, private_key) or the refresh-token ones (client_secret, refresh_token), not both")
	case jwtSet:
		if v.String("username") == "" || v.String("private_key") == "" {
			return "", errors.New("the JWT bearer flow needs both username and private_key")
		}
		return flowJWT, nil
	case refreshSet:
		if v.String("client_secret") == "" || v.String("refresh_token") == "" {
			return "", errors.New("the refresh-token flow needs both client_secret and refresh_token")
		}
		return flowRefresh, nil
	}
	return "", errors.New("no credentials: a salesforce destination needs the JWT bearer (username, private_key) or refresh-token (client_secret, refresh_token) settings")
}

// session holds the OAuth access token and the API base it is valid for.
// It authorizes requests (httpdest.Auth) but leaves refreshing after a 401
// to the destination, which classifies a refused grant as fatal.
type session struct {
	oauth   *httpdest.OAuth2
	baseURL string // base_url setting; "" means the token's instance_url
}

// newSession builds the token source of the chosen flow.
func newSession(v destination.Values) (*session, error) {
	fl, err := flowOf(v)
	if err != nil {
		return nil, err
	}
	login := strings.TrimSuffix(v.String("login_url"), "/")
	hc := &http.Client{Timeout: v.Duration("timeout")}
	s := &session{}
	if u := v.URL("base_url"); u != nil {
		s.baseURL = strings.TrimSuffix(u.String(), "/")
	}
	switch fl {
	case flowJWT:
		key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(v.String("private_key")))
		if err != nil {
			return nil, fmt.Errorf("private_key: %v (want a PEM RSA private key)", err)
		}
		src := &jwtSource{tokenURL: login + TokenPath, audience: login, clientID: v.String("client_id"),
			username: v.String("username"), sign: func(c jwt.Claims) (string, error) {
				return jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(key)
			}, http: hc}
		s.oauth = httpdest.NewOAuth2(func() oauth2.TokenSource { return src })
	default:
		cfg := &oauth2.Config{ClientID: v.String("client_id"), ClientSecret: v.String("client_secret"),
			Endpoint: oauth2.Endpoint{TokenURL: login + TokenPath, AuthStyle: oauth2.AuthStyleInParams}}
		refresh := v.String("refresh_token")
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
		s.oauth = httpdest.NewOAuth2(func() oauth2.TokenSource {
			return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh})
		}, v.String("client_secret"), refresh)
	}
	return s, nil
}

// Authorize sets the bearer token, fetching one when none is cached.
func (s *session) Authorize(ctx context.Context, r *http.Request) error {
	return s.oauth.Authorize(ctx, r)
}

// Invalidate reports false: the destination refreshes the token itself
// after a 401 (see base), so a refused grant ends the run.
func (s *session) Invalidate() bool { return false }

// Secrets lists the client secret, refresh token and access token.
func (s *session) Secrets() []string { return s.oauth.Secrets() }

// renew drops the cached token after Salesforce refused it.
func (s *session) renew() { s.oauth.Invalidate() }

// base returns the API base URL, fetching a token first when none is
// cached: base_url when set, otherwise the token's instance_url. A grant
// Salesforce refuses is a fatal BatchError.
func (s *session) base(ctx context.Context) (string, error) {
	tok, err := s.oauth.Token(ctx)
	if err != nil {
		return "", tokenError(err)
	}
	if s.baseURL != "" {
		return s.baseURL, nil
	}
	inst, _ := tok.Extra("instance_url").(string)
	if inst == "" {
		return "", &destination.BatchError{Fatal: true,
			Err: errors.New("the token response names no instance_url; set base_url to the org's My Domain URL")}
	}
	return strings.TrimSuffix(inst, "/"), nil
}

// tokenError classifies a failure to get a token: Salesforce refusing the
// grant or the client (a revoked refresh token, an unapproved app, a bad
// key) stops the run; anything else (5xx, no answer) is retried.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		msg := fmt.Errorf("OAuth token request refused: %d %s %s", status, re.ErrorCode, re.ErrorDescription)
		if status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout {
			return &destination.BatchError{Err: msg, Retryable: true, Status: status}
		}
		return &destination.BatchError{Status: status, Fatal: true,
			Err: fmt.Errorf("%v (check the connected app and the credentials; the run stops)", msg)}
	}
	return &destination.BatchError{Err: fmt.Errorf("OAuth token request: %v", err), Retryable: true}
}

// jwtSource gets access tokens with the OAuth 2.0 JWT bearer flow: a JWT
// signed with the connected app's key (iss client_id, sub username, aud
// login_url, exp) posted as the assertion.
type jwtSource struct {
	tokenURL, audience, clientID, username string
	sign                                   func(jwt.Claims) (string, error)
	http                                   *http.Client
}

// tokenResponse is Salesforce's token answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	InstanceURL string `json:"instance_url"`
	TokenType   string `json:"token_type"`
	ID          string `json:"id"`
	Scope       string `json:"scope"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// Token posts a fresh assertion and returns the access token, with
// instance_url as an extra.
func (j *jwtSource) Token() (*oauth2.Token, error) {
	assertion, err := j.sign(jwt.RegisteredClaims{Issuer: j.clientID, Subject: j.username,
		Audience: jwt.ClaimStrings{j.audience}, ExpiresAt: jwt.NewNumericDate(time.Now().Add(assertionLife))})
	if err != nil {
		return nil, fmt.Errorf("signing the JWT assertion: %v", err)
	}
	form := url.Values{"grant_type": {JWTGrant}, "assertion": {assertion}}
	resp, err := j.http.PostForm(j.tokenURL, form)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var tr tokenResponse
	jerr := json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK || jerr != nil || tr.AccessToken == "" {
		return nil, &oauth2.RetrieveError{Response: resp, Body: body, ErrorCode: tr.Error, ErrorDescription: tr.Description}
	}
	if tr.TokenType == "" {
		tr.TokenType = "Bearer"
	}
	t := &oauth2.Token{AccessToken: tr.AccessToken, TokenType: tr.TokenType}
	return t.WithExtra(map[string]any{"instance_url": tr.InstanceURL, "id": tr.ID}), nil
}
