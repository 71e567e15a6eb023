package intercom

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// Type is the destination type this package registers.
const Type = "intercom"

// Defaults and limits of the settings.
const (
	DefaultBatchSize   = 50
	MaxBatchSize       = 100
	DefaultConcurrency = 4
	MaxConcurrency     = 16
	DefaultTimeout     = 30 * time.Second
	DefaultAPIVersion  = "2.11"
	DefaultRole        = "user"
	DefaultRegion      = "us"
)

// Sync modes.
const (
	ModeUpsert = "upsert"
	ModeMirror = "mirror"
)

// Regions maps the region setting to Intercom's regional API hosts.
var Regions = map[string]string{
	"us": "https://api.intercom.io",
	"eu": "https://api.eu.intercom.io",
	"au": "https://api.au.intercom.io",
}

// APIVersions lists the Intercom-Version values the connector accepts: the
// versions whose contacts, search, tags and data-attribute endpoints it
// follows (2.7 and later, as Intercom's OpenAPI descriptions list them).
var APIVersions = []string{"2.7", "2.8", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.15", "2.16"}

// References are the Intercom documentation pages the connector follows.
var References = []string{
	"https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/createcontact",
	"https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/updatecontact",
	"https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/searchcontacts",
	"https://developers.intercom.com/docs/references/rest-api/api.intercom.io/tags/attachtagtocontact",
	"https://developers.intercom.com/docs/references/rest-api/api.intercom.io/tags/detachtagfromcontact",
	"https://developers.intercom.com/docs/references/rest-api/api.intercom.io/data-attributes/listdataattributes",
	"https://developers.intercom.com/docs/references/rest-api/errors/rate-limiting",
	"https://developers.intercom.com/docs/references/rest-api/errors/error-codes",
	"https://developers.intercom.com/docs/references/rest-api/errors/http-responses",
	"https://github.com/intercom/Intercom-OpenAPI",
}

const specDoc = `Writes contacts (users or leads) to Intercom. Intercom has no batch
upsert, so each record costs its own requests: a contact whose ID is known
from an earlier run is updated with ` + "`PUT /contacts/{id}`" + `; otherwise the
connector searches by the key (` + "`POST /contacts/search`" + ` on email, or
external_id when the key is mapped to it, and the configured role) and then
creates (` + "`POST /contacts`" + `) or updates the contact. A create answered 409
("a contact matching those details already exists with id=…", which happens
because new contacts take a while to appear in search) updates that contact
instead. Up to ` + "`concurrency`" + ` contacts are written at once; one batch is
in flight at a time.

Fields named ` + "`email`, `external_id`, `name`, `phone`, `avatar`, `signed_up_at`, `last_seen_at`, `owner_id`" + ` and
` + "`unsubscribed_from_emails`" + ` are standard contact attributes; any other field,
or one written ` + "`custom_attributes.<name>`" + `, is a custom attribute, which must
exist in the workspace's data model (` + "`cdp sync check`" + ` lists them with
` + "`GET /data_attributes?model=contact`" + `). Times are sent as Unix seconds. With
` + "`null_values: send`" + ` a null clears the attribute: the standard attribute or
the custom attribute is sent as JSON null; email and external_id cannot be
cleared and are left out.

In ` + "`mirror`" + ` mode the audience is the contacts tagged ` + "`tag_id`" + `: adds and
changes upsert the contact and tag it, removals untag it and never delete
the contact. Intercom's rate limit (10,000 requests a minute per app,
25,000 per workspace, spread over 10-second windows) is honoured through its
X-RateLimit-Remaining and X-RateLimit-Reset headers; ` + "`rate_limit`" + `, when set,
caps the requests per second further.`

func init() { destination.Register(Spec()) }

// Spec returns the destination's spec.
func Spec() *destination.Spec {
	settings := []destination.Setting{
		{Name: "access_token", Kind: destination.KindSecret, Required: true,
			Doc: "access token of the Intercom app (sent as `Authorization: Bearer`)"},
		{Name: "region", Kind: destination.KindEnum, Default: DefaultRegion, Values: []string{"us", "eu", "au"},
			Doc: "the workspace's data region: api.intercom.io, api.eu.intercom.io or api.au.intercom.io (base_url overrides it)"},
		{Name: "api_version", Kind: destination.KindEnum, Default: DefaultAPIVersion, Values: APIVersions,
			Doc: "the Intercom-Version header sent with every request"},
		{Name: "role", Kind: destination.KindEnum, Default: DefaultRole, Values: []string{"user", "lead"},
			Doc: "role of the contacts the sync writes and looks up"},
		{Name: "tag_id", Kind: destination.KindString, Example: "7522907",
			Doc: "ID of the tag that marks the audience (mirror mode)"},
	}
	settings = append(settings, destination.HTTPSettings(destination.HTTPDefaults{
		BatchSize: DefaultBatchSize, MaxBatch: MaxBatchSize, Concurrency: DefaultConcurrency,
		MaxConcurrency: MaxConcurrency, Timeout: DefaultTimeout,
	})...)
	return &destination.Spec{
		Type: Type, Title: "Intercom", Category: destination.CategoryMessaging,
		Summary:    "creates or updates Intercom contacts (search, then create or update), optionally tagging the audience",
		Doc:        specDoc,
		References: References,
		Settings:   settings,
		Modes:      []string{ModeUpsert, ModeMirror},
		Operations: []destination.Operation{
			{Op: destination.OpAdd, Sends: "POST /contacts/search, then POST /contacts (or PUT /contacts/{id} when found); mirror: POST /contacts/{id}/tags"},
			{Op: destination.OpChange, Sends: "PUT /contacts/{id} (searching first when the ID is unknown or gone); mirror: POST /contacts/{id}/tags"},
			{Op: destination.OpRemove, Sends: "mirror: DELETE /contacts/{id}/tags/{tag_id} (the contact is kept)"},
		},
		Limits: []string{
			"no batch endpoint: one contact per request, 1 to 4 requests per record",
			"10,000 requests per minute per app, 25,000 per workspace, spread over 10-second windows (X-RateLimit-* headers)",
			fmt.Sprintf("batch_size up to %d records per Apply call (written %d at a time at most)", MaxBatchSize, MaxConcurrency),
			"custom attributes must exist in the data model before they are written",
			"new contacts may take minutes to appear in search",
		},
		CheckSync: checkSync,
		New:       New,
	}
}

// checkSync reports problems of one sync: mirror needs tag_id, the key must
// be the email or the external_id, and mapped fields must be writable.
func checkSync(v destination.Values, s destination.SyncInfo) []destination.Problem {
	var probs []destination.Problem
	if s.Mode == ModeMirror && v.String("tag_id") == "" {
		probs = append(probs, destination.Problem{Setting: "tag_id",
			Message: "mode `mirror` needs `tag_id`, the tag that marks the audience",
			Hint:    "create the tag in Intercom and give its ID (GET /tags lists them)"})
	}
	if _, err := keyAttribute(s.KeyField); err != nil {
		probs = append(probs, destination.Problem{Message: err.Error(),
			Hint: "map the key trait to `email` (or `external_id`)"})
	}
	for _, f := range s.Fields {
		if err := checkField(f); err != nil {
			probs = append(probs, destination.Problem{Message: err.Error(),
				Hint: "standard attributes: " + standardList() + "; any other name is a custom attribute"})
		}
	}
	return probs
}

// Destination writes contacts to one Intercom workspace. It is safe for
// concurrent use.
type Destination struct {
	name        string
	mode        string
	role        string
	tagID       string
	keyAttr     string // "email" or "external_id"
	batchSize   int
	concurrency int
	timeout     time.Duration
	client      *httpdest.Client
	lim         *limiter
	slots       chan struct{} // one per contact being written
}

var (
	_ destination.Destination   = (*Destination)(nil)
	_ destination.SchemaChecker = (*Destination)(nil)
)

// New opens an Intercom destination from its parsed settings.
func New(_ context.Context, cfg destination.Config) (destination.Destination, error) {
	v := cfg.Values
	keyAttr, err := keyAttribute(cfg.KeyField)
	if err != nil {
		return nil, fmt.Errorf("intercom %s: %v", cfg.Name, err)
	}
	for _, f := range cfg.Fields {
		if err := checkField(f); err != nil {
			return nil, fmt.Errorf("intercom %s: %v", cfg.Name, err)
		}
	}
	mode := cfg.Mode
	if mode == "" {
		mode = ModeUpsert
	}
	if mode != ModeUpsert && mode != ModeMirror {
		return nil, fmt.Errorf("intercom %s: mode %q is not supported (upsert or mirror)", cfg.Name, mode)
	}
	if mode == ModeMirror && v.String("tag_id") == "" {
		return nil, fmt.Errorf("intercom %s: mode mirror needs tag_id", cfg.Name)
	}
	base := v.URL("base_url")
	if base == nil {
		region := v.String("region")
		if region == "" {
			region = DefaultRegion
		}
		if base, err = url.Parse(Regions[region]); err != nil || base.Host == "" {
			return nil, fmt.Errorf("intercom %s: unknown region %q", cfg.Name, region)
		}
	}
	version := v.String("api_version")
	if version == "" {
		version = DefaultAPIVersion
	}
	role := v.String("role")
	if role == "" {
		role = DefaultRole
	}
	client := httpdest.New("intercom "+cfg.Name, cfg, httpdest.Bearer(v.String("access_token")))
	client.BaseURL = base
	client.Header = http.Header{"Intercom-Version": {version}}
	client.Classify = classify
	d := &Destination{
		name: cfg.Name, mode: mode, role: role, tagID: v.String("tag_id"), keyAttr: keyAttr,
		batchSize: orDefault(v.Int("batch_size"), DefaultBatchSize), concurrency: orDefault(v.Int("concurrency"), DefaultConcurrency),
		timeout: v.Duration("timeout"), client: client, lim: newLimiter(v.Rate("rate_limit")),
	}
	if d.timeout <= 0 {
		d.timeout = DefaultTimeout
	}
	client.Timeout = d.timeout
	d.slots = make(chan struct{}, d.concurrency)
	return d, nil
}

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// Capabilities declares the operations of the mode, batch_size records per
// Apply call and one call at a time (the call itself writes up to
// concurrency contacts at once). The request rate is limited inside the
// connector, per HTTP request, so none is declared per call; the timeout
// bounds a whole batch: every record's requests, in turn.
func (d *Destination) Capabilities() destination.Capabilities {
	ops := []destination.Op{destination.OpAdd, destination.OpChange}
	if d.mode == ModeMirror {
		ops = append(ops, destination.OpRemove)
	}
	rounds := (d.batchSize + d.concurrency - 1) / d.concurrency
	return destination.Capabilities{Ops: ops, MaxBatch: d.batchSize, Concurrency: 1, IdentifierOf: d.keyAttr,
		Timeout: time.Duration(rounds*maxCallsPerRecord)*d.timeout + time.Minute}
}

// Close releases idle connections.
func (d *Destination) Close() error {
	if d.client.HTTP != nil {
		d.client.HTTP.CloseIdleConnections()
	}
	return nil
}
