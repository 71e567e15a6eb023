package braze

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// Type is the destination type this package registers.
const Type = "braze"

// Vendor limits and defaults (see the References).
const (
	// MaxAttributes is the most attribute objects one /users/track request
	// may carry.
	MaxAttributes = 75
	// MaxPayload is the largest request body Braze accepts (413 beyond).
	MaxPayload = 4 << 20
	// MaxSubscriptionIDs is the most users one /v2/subscription/status/set
	// request may name.
	MaxSubscriptionIDs = 50
	// ExampleBaseURL is the US-01 instance, shown as an example only: the
	// REST endpoint depends on the workspace's instance.
	ExampleBaseURL = "https://rest.iad-01.braze.com"
)

// Identifier values: what the record key identifies at Braze.
const (
	IdentifierEmail      = "email"
	IdentifierExternalID = "external_id"
)

// Paths of the endpoints used.
const (
	trackPath        = "/users/track"
	subscriptionPath = "/v2/subscription/status/set"
)

// reserved are attribute-object members that are identifiers or flags,
// never attributes a sync may map a field to.
var reserved = []string{"external_id", "braze_id", "user_alias", "_update_existing_only",
	"push_token_import", "subscription_groups"}

func init() { destination.Register(Spec()) }

// Spec returns the braze destination's spec.
func Spec() *destination.Spec {
	return &destination.Spec{
		Type: Type, Title: "Braze", Category: destination.CategoryMessaging,
		Summary: "updates Braze user profiles through /users/track; mirror mode also keeps a subscription group's members",
		Doc:     specDoc,
		References: []string{
			"https://www.braze.com/docs/api/endpoints/user_data/post_user_track/",
			"https://www.braze.com/docs/api/objects_filters/user_attributes_object/",
			"https://www.braze.com/docs/api/endpoints/subscription_groups/post_update_user_subscription_group_status_v2/",
			"https://www.braze.com/docs/api/api_limits/",
			"https://www.braze.com/docs/api/errors/",
			"https://www.braze.com/docs/api/basics/#endpoints",
			"https://www.braze.com/docs/api/endpoints/user_data/",
			"https://www.braze.com/docs/api/endpoints/user_data/post_user_delete/",
		},
		Settings:   settings(),
		Modes:      []string{"upsert", "mirror"},
		Operations: operations,
		Limits: []string{
			"75 attribute objects per /users/track request",
			"3,000 /users/track requests per 3 seconds per workspace (429 with X-RateLimit-Reset beyond)",
			"4 MB per request body (413 beyond)",
			"50 users per /v2/subscription/status/set request; 5,000 requests per minute, shared with /subscription/status/set",
			"50 identifiers per /users/delete request (one is sent per erased person); 20,000 requests per minute, shared with /users/alias/new, /users/identify and /users/merge",
		},
		CheckSync: checkSync,
		New:       New,
	}
}

const specDoc = "Each record becomes a [user attributes object](https://www.braze.com/docs/api/objects_filters/user_attributes_object/) " +
	"sent with `POST /users/track`, up to 75 per request, identified by the record key as `email` (the default) or " +
	"`external_id` (setting `identifier`). Mapped fields are attributes: Braze's standard profile fields " +
	"(`first_name`, `email`, `country`, …) by their names, any other name a custom attribute. A field cleared in the " +
	"warehouse (with `null_values: send`) is sent as `null`, which removes the attribute from the profile. Braze " +
	"reports invalid objects in `errors[{index}]`; those records are rejected with Braze's message and the rest are confirmed.\n\n" +
	"`base_url` is required: it is your workspace's REST endpoint, which depends on its instance " +
	"(`https://rest.iad-01.braze.com` for US-01, `https://rest.fra-01.braze.eu` for EU-01, …; see the dashboard's " +
	"API settings). `mirror` needs `subscription_group_id`: added and changed records are written and then " +
	"subscribed to the group, removed records are unsubscribed from it; no profile is deleted by a removal. Mirror " +
	"subscribes a record again whenever it changes, even if the person unsubscribed in between: mirror only a " +
	"group whose membership the warehouse owns. The API key needs `users.track`, and `subscription.status.set` for mirror.\n\n" +
	"A withdrawn consent (`on_withdrawal: unsubscribe`) unsubscribes the person from `subscription_group_id` when it is set, " +
	"else sets the profile's global `email_subscribe` to `unsubscribed` (existing profiles only). `cdp forget` deletes the " +
	"profile with [`POST /users/delete`](https://www.braze.com/docs/api/endpoints/user_data/post_user_delete/) (the API key " +
	"needs `users.delete`), one request per person: by `external_id`, or by email with the prioritization " +
	"`most_recently_updated` (Braze deletes one profile per email; merge duplicate profiles first). The receipt is Braze's " +
	"`deleted` count; a count of 0 is confirmed as \"not found: nothing to erase\"."

var operations = []destination.Operation{
	{Op: destination.OpAdd, Sends: "POST /users/track {attributes: [{email|external_id, fields…}]}; mirror: then POST /v2/subscription/status/set subscribed"},
	{Op: destination.OpChange, Sends: "POST /users/track {attributes: [{email|external_id, fields…}]}; mirror: then POST /v2/subscription/status/set subscribed"},
	{Op: destination.OpRemove, Sends: "mirror: POST /v2/subscription/status/set unsubscribed (the profile is kept)"},
	{Op: destination.OpUnsubscribe, Sends: "POST /v2/subscription/status/set {subscription_groups: [{subscription_group_id, subscription_state: unsubscribed}]} when subscription_group_id is set, else POST /users/track {attributes: [{email|external_id, email_subscribe: unsubscribed, _update_existing_only: true}]}"},
	{Op: destination.OpErase, Sends: "POST /users/delete {external_ids: [key]} or {email_addresses: [{email: key, prioritization: [most_recently_updated]}]}, one request per person"},
}

// settings declares the vendor settings and the HTTP ones, base_url
// required (no default: the REST endpoint depends on the instance).
func settings() []destination.Setting {
	hs := destination.HTTPSettings(destination.HTTPDefaults{
		BatchSize: MaxAttributes, MaxBatch: MaxAttributes,
		// 40 Apply calls per second: each may send one /users/track and, in
		// mirror, up to two subscription requests, which stays under the
		// 5,000 per minute of /v2/subscription/status/set.
		RateLimit: "40/s", Concurrency: 4, Timeout: 30 * time.Second,
	})
	for i := range hs {
		if hs[i].Name == "base_url" {
			hs[i].Required = true
			hs[i].Example = ExampleBaseURL
			hs[i].Doc = "your workspace's REST endpoint, e.g. https://rest.iad-01.braze.com (US-01) or https://rest.fra-01.braze.eu (EU-01)"
		}
	}
	return append([]destination.Setting{
		{Name: "api_key", Kind: destination.KindSecret, Required: true,
			Doc: "REST API key with the users.track permission (subscription.status.set for mirror and unsubscribes from a group, users.delete for erasure)"},
		{Name: "identifier", Kind: destination.KindEnum, Default: IdentifierEmail,
			Values: []string{IdentifierEmail, IdentifierExternalID},
			Doc:    "what the record key is at Braze: the profile's email or its external_id"},
		{Name: "subscription_group_id", Kind: destination.KindString, Example: "\"${BRAZE_GROUP_ID}\"",
			Doc: "the subscription group mirror mode subscribes records to and unsubscribes them from, and a withdrawn consent unsubscribes from (without it, email_subscribe is set to unsubscribed)"},
	}, hs...)
}

// checkSync reports sync problems that depend on the settings.
func checkSync(v destination.Values, s destination.SyncInfo) []destination.Problem {
	var out []destination.Problem
	group := v.String("subscription_group_id")
	switch {
	case s.Mode == "mirror" && group == "":
		out = append(out, destination.Problem{Setting: "subscription_group_id",
			Message: fmt.Sprintf("sync `%s` mirrors into Braze but its destination has no `subscription_group_id`", s.Name),
			Hint:    "set subscription_group_id to the group whose members the sync keeps, or use mode: upsert"})
	}
	for _, f := range s.Fields {
		if slices.Contains(reserved, f) {
			out = append(out, destination.Problem{
				Message: fmt.Sprintf("sync `%s` maps field `%s`, which is a Braze identifier or flag, not an attribute", s.Name, f),
				Hint:    "map it to another name; the record key is sent as the " + v.String("identifier")})
		}
	}
	if v.String("identifier") == IdentifierEmail && slices.Contains(s.Fields, "email") && s.KeyField != "email" {
		out = append(out, destination.Problem{
			Message: fmt.Sprintf("sync `%s` maps field `email`, but the key (sent as `email`, setting identifier) is another trait", s.Name),
			Hint:    "make the email the sync's key, or set identifier: external_id"})
	}
	return out
}

// Destination writes Braze user profiles. It is safe for concurrent use.
type Destination struct {
	client     *httpdest.Client
	caps       destination.Capabilities
	mirror     bool
	identifier string // IdentifierEmail or IdentifierExternalID
	group      string // subscription_group_id (mirror)
	maxPayload int    // request body limit (MaxPayload; smaller in tests)
}

var _ destination.Destination = (*Destination)(nil)

// New opens a braze destination from its parsed settings.
func New(_ context.Context, cfg destination.Config) (destination.Destination, error) {
	v := cfg.Values
	d := &Destination{identifier: v.String("identifier"), group: v.String("subscription_group_id"), maxPayload: MaxPayload}
	if d.identifier == "" {
		d.identifier = IdentifierEmail
	}
	ops := []destination.Op{destination.OpAdd, destination.OpChange, destination.OpUnsubscribe, destination.OpErase}
	switch cfg.Mode {
	case "", "upsert":
	case "mirror":
		if d.group == "" {
			return nil, fmt.Errorf("destination %s: mirror mode needs subscription_group_id", cfg.Name)
		}
		d.mirror = true
		ops = append(ops, destination.OpRemove)
	default:
		return nil, fmt.Errorf("destination %s: braze supports modes upsert and mirror, not %s", cfg.Name, cfg.Mode)
	}
	if v.URL("base_url") == nil {
		return nil, fmt.Errorf("destination %s: braze needs base_url, the workspace's REST endpoint (e.g. %s)", cfg.Name, ExampleBaseURL)
	}
	d.caps = destination.HTTPCapabilities(v, ops...)
	d.caps.IdentifierOf = d.identifier
	d.client = httpdest.New("braze", cfg, httpdest.Bearer(v.String("api_key")))
	d.client.Classify = classify
	return d, nil
}

// classify refines the default classification. Braze answers 404 for an
// unknown REST API key (or a wrong base_url), which fails every request.
// And Braze sends X-RateLimit-Reset (the end of the rate-limit window) on
// every answer: it is a wait only with a 429, so for other statuses it is
// hidden from the default classification, which would otherwise wait for
// the window's end after a 500.
func classify(r *httpdest.Response) (error, bool) {
	switch {
	case r.Status == http.StatusNotFound:
		return &destination.BatchError{Status: r.Status, Fatal: true,
			Err: fmt.Errorf("%s %s: 404: %s (an unknown REST API key or a wrong base_url; the run stops)", r.Method, r.URL, httpdest.Snippet(r.Body))}, true
	case r.Status == http.StatusTooManyRequests || r.Status < 300:
		return nil, false
	}
	cp := *r
	cp.Header = r.Header.Clone()
	for _, h := range []string{"X-RateLimit-Reset", "X-RateLimit-Remaining", "X-RateLimit-Limit"} {
		cp.Header.Del(h)
	}
	return httpdest.Classify(&cp), true
}

// Capabilities declares the operations of the sync's mode and the HTTP limits.
func (d *Destination) Capabilities() destination.Capabilities { return d.caps }

// Close releases idle connections.
func (d *Destination) Close() error {
	if d.client.HTTP != nil {
		d.client.HTTP.CloseIdleConnections()
	}
	return nil
}
