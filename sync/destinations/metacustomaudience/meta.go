package metacustomaudience

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// Type is the destination type this package registers.
const Type = "meta_custom_audience"

// Vendor limits and defaults
// (https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences).
const (
	// MaxRows is the most users one request adds or removes ("up to 10,000
	// at a time").
	MaxRows = 10000
	// DefaultVersion is the Graph API version in the path when
	// `api_version` is not set.
	DefaultVersion = "v24.0"
)

var (
	versionRe  = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)
	audienceRe = regexp.MustCompile(`^[0-9]+$`)
)

func init() {
	destination.Register(&destination.Spec{
		Type: Type, Title: "Meta custom audience", Category: destination.CategoryAds,
		Summary: "adds and removes hashed people in a Meta (Facebook, Instagram) customer-file custom audience",
		Doc:     specDoc,
		References: []string{
			"https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences",
			"https://developers.facebook.com/docs/marketing-api/reference/custom-audience/users/",
			"https://developers.facebook.com/docs/marketing-api/audiences/shared-features/customer-file-custom-audiences",
			"https://developers.facebook.com/docs/graph-api/securing-requests/",
			"https://developers.facebook.com/docs/graph-api/overview/rate-limiting/",
			"https://developers.facebook.com/docs/marketing-api/error-reference/",
		},
		Settings: settings(),
		Modes:    []string{"upsert", "mirror"},
		Operations: []destination.Operation{
			{Op: destination.OpAdd, Sends: "POST /{api_version}/{audience_id}/users with payload{schema, data} (hashed rows)"},
			{Op: destination.OpChange, Sends: "POST /{api_version}/{audience_id}/users; when an identifier (EMAIL, PHONE, MADID, EXTERN_ID) changed, first DELETE /{api_version}/{audience_id}/users with the row last sent"},
			{Op: destination.OpRemove, Sends: "mirror: DELETE /{api_version}/{audience_id}/users with the row last sent"},
			{Op: destination.OpUnsubscribe, Sends: "DELETE /{api_version}/{audience_id}/users with the row last sent (the person leaves the audience)"},
			{Op: destination.OpErase, Sends: "DELETE /{api_version}/{audience_id}/users with the row last sent; receipt: session_id and num_received"},
		},
		Limits: []string{
			"10,000 users per request (batch_size)",
			"Marketing API rate limits are scored per ad account; throttling comes back as error codes 4, 17, 613, 80003 (retried)",
		},
		CheckSettings: checkSettings,
		CheckSync:     checkSync,
		New:           New,
	})
}

func settings() []destination.Setting {
	own := []destination.Setting{
		{Name: "access_token", Kind: destination.KindSecret, Required: true, Example: `"${META_ACCESS_TOKEN}"`,
			Doc: "system-user access token with the ads_management permission on the audience's ad account"},
		{Name: "app_secret", Kind: destination.KindSecret, Required: true, Example: `"${META_APP_SECRET}"`,
			Doc: "the app's secret, which signs every request (appsecret_proof)"},
		{Name: "audience_id", Kind: destination.KindString, Required: true, Example: "23851234567890123",
			Doc: "ID of the customer-file custom audience (Ads Manager → Audiences)"},
		{Name: "api_version", Kind: destination.KindString, Default: DefaultVersion,
			Doc: "Graph API version in the path (vNN.N)"},
	}
	return append(own, destination.HTTPSettings(destination.HTTPDefaults{
		BaseURL: "https://graph.facebook.com", BatchSize: MaxRows, MaxBatch: MaxRows,
		RateLimit: "2/s", Concurrency: 1, MaxConcurrency: 4, Timeout: 60 * time.Second,
	})...)
}

func checkSettings(v destination.Values) []destination.Problem {
	var probs []destination.Problem
	if id := v.String("audience_id"); id != "" && !audienceRe.MatchString(id) {
		probs = append(probs, destination.Problem{Setting: "audience_id",
			Message: fmt.Sprintf("bad `audience_id` %q: a custom audience ID is a number", id),
			Hint:    "copy it from Ads Manager → Audiences (the ID column)"})
	}
	if ver := v.String("api_version"); ver != "" && !versionRe.MatchString(ver) {
		probs = append(probs, destination.Problem{Setting: "api_version",
			Message: fmt.Sprintf("bad `api_version` %q: want vNN.N, e.g. %s", ver, DefaultVersion)})
	}
	return probs
}

// checkSync checks the mapped fields against Meta's schema keys and the
// hashing they need; a key that is itself hashed in a field is a warning
// (the key is never sent, but it is stored in the CDP's state).
func checkSync(_ destination.Values, s destination.SyncInfo) []destination.Problem {
	return checkFields(s.Fields, s.Hashes)
}

// Destination adds and removes people in one custom audience. It is safe
// for concurrent use.
type Destination struct {
	name     string
	path     string // /{version}/{audience_id}/users
	schema   []string
	mirror   bool
	token    string
	proof    string
	client   *httpdest.Client
	caps     destination.Capabilities
	matchRep *report
}

var (
	_ destination.Destination   = (*Destination)(nil)
	_ destination.MatchReporter = (*Destination)(nil)
)

// New opens a Meta custom audience destination for one sync run.
func New(_ context.Context, cfg destination.Config) (destination.Destination, error) {
	v := cfg.Values
	for _, p := range checkFields(cfg.Fields, cfg.Hashes) {
		if !p.Warning {
			return nil, fmt.Errorf("meta_custom_audience %s: %s", cfg.Name, p.Message)
		}
	}
	d := &Destination{name: cfg.Name, schema: schemaOf(cfg.Fields), mirror: cfg.Mode == "mirror",
		path:  "/" + v.String("api_version") + "/" + v.String("audience_id") + "/users",
		token: v.String("access_token"), proof: AppSecretProof(v.String("access_token"), v.String("app_secret")),
		matchRep: &report{}}
	// The token goes in the body (form fields), never in a header or the URL.
	d.client = httpdest.New("meta_custom_audience "+cfg.Name, cfg, bodyCredentials{d.token, d.proof})
	d.client.Classify = classify
	ops := []destination.Op{destination.OpAdd, destination.OpChange, destination.OpUnsubscribe, destination.OpErase}
	if d.mirror {
		ops = append(ops, destination.OpRemove)
	}
	d.caps = destination.HTTPCapabilities(v, ops...)
	d.caps.IdentifierOf = "hashed email, phone or other schema keys"
	return d, nil
}

// AppSecretProof is Meta's appsecret_proof: the hex HMAC-SHA256 of the
// access token keyed by the app secret.
func AppSecretProof(token, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// Capabilities declares add and change (and remove in mirror mode),
// batch_size rows per call.
func (d *Destination) Capabilities() destination.Capabilities { return d.caps }

// Close releases idle connections.
func (d *Destination) Close() error {
	if d.client.HTTP != nil {
		d.client.HTTP.CloseIdleConnections()
	}
	return nil
}

func (d *Destination) errorf(format string, args ...any) error {
	return fmt.Errorf("meta_custom_audience %s: "+format, append([]any{d.name}, args...)...)
}
