package googledatamanager

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/cdpkit/cdp/sync/httpdest"
)

// Scope is the OAuth2 scope of the Data Manager API.
const Scope = "https://www.googleapis.com/auth/datamanager"

// ServiceAccountKey is the part of a service-account JSON key file the
// connector reads.
type ServiceAccountKey struct {
	Type         string `json:"type"`
	ClientEmail  string `json:"client_email"`
	PrivateKey   string `json:"private_key"`
	PrivateKeyID string `json:"private_key_id"`
	TokenURI     string `json:"token_uri"`
}

// readKey reads and checks a service-account key file (relative paths
// from the project root).
func readKey(root, path string) (*ServiceAccountKey, error) {
	if !filepath.IsAbs(path) && root != "" {
		path = filepath.Join(root, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the service-account key: %v", err)
	}
	var k ServiceAccountKey
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("the service-account key %s is not JSON: %v", path, err)
	}
	switch {
	case k.Type != "service_account":
		return nil, fmt.Errorf("the key %s is of type %q, not a service_account key", path, k.Type)
	case k.ClientEmail == "" || k.PrivateKey == "":
		return nil, fmt.Errorf("the key %s has no client_email or private_key", path)
	}
	if k.TokenURI == "" {
		k.TokenURI = "https://oauth2.googleapis.com/token"
	}
	return &k, nil
}

// oauth is the service-account grant: a JWT signed with RS256 by the
// key, exchanged at its token_uri for an access token, cached until it
// expires (and fetched again after a 401).
func oauth(k *ServiceAccountKey) *httpdest.OAuth2 {
	cfg := &jwt.Config{Email: k.ClientEmail, PrivateKey: []byte(k.PrivateKey), PrivateKeyID: k.PrivateKeyID,
		Scopes: []string{Scope}, TokenURL: k.TokenURI}
	return httpdest.NewOAuth2(func() oauth2.TokenSource { return cfg.TokenSource(context.Background()) }, k.PrivateKey)
}
