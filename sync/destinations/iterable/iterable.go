package iterable

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// Type is the destination type this package registers.
const Type = "iterable"

// Vendor limits and defaults (see the package doc for their sources).
const (
	// DefaultBaseURL is the US data center; EUBaseURL the EU one.
	DefaultBaseURL = "https://api.iterable.com"
	EUBaseURL      = "https://api.eu.iterable.com"
	// MaxBatch is the most users one bulkUpdate request carries.
	MaxBatch = 1000
	// MaxBody is the largest bulkUpdate request body Iterable accepts.
	MaxBody = 4 << 20
	// DefaultRateLimit is bulkUpdate's documented limit per project.
	DefaultRateLimit = "5/s"
	// DefaultTimeout bounds one request.
	DefaultTimeout = 30 * time.Second
)

// Identifiers a project identifies users by.
const (
	IdentifierEmail  = "email"
	IdentifierUserID = "userId"
)

// reservedFields are user profile fields Iterable manages itself; mapping a
// trait onto one is refused by CheckSync.
var reservedFields = []string{"emailListIds", "profileUpdatedAt", "signupDate", "signupSource",
	"itblInternal", "itblUserId", "subscribedMessageTypeIds", "unsubscribedChannelIds", "unsubscribedMessageTypeIds"}

func init() {
	destination.Register(&destination.Spec{
		Type:  Type,
		Title: "Iterable", Category: destination.CategoryMessaging,
		Summary:    "upserts Iterable user profiles (users/bulkUpdate) and mirrors an audience into a static list",
		Doc:        specDoc,
		References: references,
		Settings:   settings(),
		Modes:      []string{"upsert", "mirror"},
		Operations: []destination.Operation{
			{Op: destination.OpAdd, Sends: "POST /api/users/bulkUpdate {users:[{email, dataFields}]}; with list_id, then POST /api/lists/subscribe {listId, subscribers:[{email}]}"},
			{Op: destination.OpChange, Sends: "as add: POST /api/users/bulkUpdate, then POST /api/lists/subscribe when list_id is set"},
			{Op: destination.OpRemove, Sends: "POST /api/lists/unsubscribe {listId, subscribers:[{email}]} (mirror; the user profile is kept)"},
			{Op: destination.OpUnsubscribe, Sends: "DELETE /api/subscriptions/messageChannel/{unsubscribe_channel_id}/user/{email} (or /byUserId/{userId}), one request per user; needs unsubscribe_channel_id"},
			{Op: destination.OpErase, Sends: "POST /api/users/forget {email | userId} (GDPR forget: deletes the user and blocks further data), one request per user"},
		},
		Limits: []string{
			fmt.Sprintf("%d users per POST /api/users/bulkUpdate; request body at most 4 MB (a larger batch is split)", MaxBatch),
			"POST /api/users/bulkUpdate: 5 requests/second per project (beyond it Iterable answers 429)",
			"GET /api/users/getFields (schema check): 3 requests/second per project",
			"a user profile field's data type is fixed once set: a value of another type fails the request (RequestFieldsTypesMismatched)",
			"GDPR-forgotten users are refused (failedUpdates.forgottenEmails) and reported as rejected, never retried in the run",
		},
		CheckSync: checkSync,
		New:       New,
	})
}

var references = []string{
	"https://api.iterable.com/api/docs#users_bulkUpdateUser",
	"https://api.iterable.com/api/docs#lists_subscribe",
	"https://api.iterable.com/api/docs#lists_unsubscribe",
	"https://api.iterable.com/api/docs#users_getUserFields",
	"https://support.iterable.com/hc/en-us/articles/204780579-API-Overview-and-Sample-Payloads",
	"https://support.iterable.com/hc/en-us/articles/217744303-User-Profile-Fields-Used-by-Iterable",
	"https://support.iterable.com/hc/en-us/articles/206430145-Managing-User-Profile-Fields-in-Iterable",
	"https://support.iterable.com/hc/en-us/articles/208183076-Field-Data-Types",
	"https://support.iterable.com/hc/articles/29156459027348",
	"https://api.iterable.com/api/docs",
	"https://support.iterable.com/hc/en-us/articles/360029174171-Responding-to-GDPR-Requests",
}

const specDoc = `Writes each record as an Iterable user profile with ` + "`POST /api/users/bulkUpdate`" + `: the
record key identifies the user (its ` + "`email`" + `, or its ` + "`userId`" + ` with ` + "`identifier: userId`" + `) and every
other mapped field goes into ` + "`dataFields`" + ` under its destination name (e.g. ` + "`firstName`" + `, ` + "`ltv`" + `).
Numbers keep their type (integers are sent as whole numbers, other numbers always with a decimal
point, since Iterable fixes a field's type at its first value), booleans stay booleans, and times are
sent in Iterable's date format ` + "`yyyy-MM-dd HH:mm:ss +00:00`" + `. With ` + "`null_values: send`" + ` a NULL trait is sent as
JSON ` + "`null`" + `, which clears the field on the profile; with ` + "`skip`" + ` the field is left as it is.

` + "`mirror`" + ` keeps a static list equal to the audience: records that join or change are upserted and then
subscribed with ` + "`POST /api/lists/subscribe`" + `; records that leave are unsubscribed from the list with
` + "`POST /api/lists/unsubscribe`" + ` — the user profile is never deleted. ` + "`upsert`" + ` only writes profiles, and also
subscribes them when ` + "`list_id`" + ` is set. Per-user failures in ` + "`failedUpdates`" + ` are reported per record: a
GDPR-forgotten user, a malformed email, invalid data or an identity conflict is a rejection. Iterable
answers 429 beyond its per-endpoint rate limits (bulkUpdate: 5 requests/second per project); the batch
is retried after a backoff. US projects use ` + "`https://api.iterable.com`" + ` (the default), EU projects
` + "`base_url: https://api.eu.iterable.com`" + `.

` + "`cdp forget`" + ` sends ` + "`POST /api/users/forget`" + `, Iterable's GDPR "forget": the user's profile, subscriptions, list
memberships and events are deleted, and Iterable refuses data about the identifier from then on (it can take up to ten
minutes). Iterable answers Success whether or not it held the user. A withdrawn consent unsubscribes the user from the
message channel ` + "`unsubscribe_channel_id`" + ` with ` + "`DELETE /api/subscriptions/messageChannel/{id}/user/{email}`" + `,
which leaves the user's other subscriptions as they are (` + "`users/updateSubscriptions`" + ` would overwrite the whole
unsubscribed list). The receipt is Iterable's ` + "`code`" + ` and ` + "`msg`" + `.`

// settings declares the vendor settings and the common HTTP ones.
func settings() []destination.Setting {
	own := []destination.Setting{
		{Name: "api_key", Kind: destination.KindSecret, Required: true, Example: `"${ITERABLE_API_KEY}"`,
			Doc: "a server-side Iterable API key of the project, sent as the Api-Key header"},
		{Name: "list_id", Kind: destination.KindInt, Min: 1, Example: "123456",
			Doc: "ID of a static list: subscribed on add and change, unsubscribed on remove (required by mirror)"},
		{Name: "identifier", Kind: destination.KindEnum, Default: IdentifierEmail, Values: []string{IdentifierEmail, IdentifierUserID},
			Doc: "what the record key is: the user's email (email-based projects) or userId (userID-based and hybrid projects)"},
		{Name: "campaign_id", Kind: destination.KindInt, Min: 1, Example: "987654",
			Doc: "campaign the list unsubscribes of removed records are attributed to (optional)"},
		{Name: "channel_unsubscribe", Kind: destination.KindBool, Default: "false",
			Doc: "also unsubscribe removed users from the list's channel — a global unsubscribe; keep false to leave only the list"},
		{Name: "unsubscribe_channel_id", Kind: destination.KindInt, Min: 1, Example: "51234",
			Doc: "ID of the message channel (Settings > Message Channels) a user who withdrew consent is unsubscribed from; without it unsubscribe is not supported"},
	}
	return append(own, destination.HTTPSettings(destination.HTTPDefaults{
		BaseURL: DefaultBaseURL, BatchSize: MaxBatch, MaxBatch: MaxBatch, RateLimit: DefaultRateLimit,
		Concurrency: 1, MaxConcurrency: 5, Timeout: DefaultTimeout,
	})...)
}

// checkSync reports the sync-level rules: mirror needs a list, the key
// must be the identifier, and Iterable's own fields cannot be mapped.
func checkSync(v destination.Values, s destination.SyncInfo) []destination.Problem {
	var out []destination.Problem
	if s.Mode == "mirror" && !v.Has("list_id") {
		out = append(out, destination.Problem{Setting: "list_id",
			Message: "mode mirror needs `list_id`: the static list that holds the audience",
			Hint:    "create a static list in Iterable (Audience > Lists) and set `list_id` to its ID"})
	}
	id := v.String("identifier")
	if s.KeyField != "" && s.KeyField != id {
		out = append(out, destination.Problem{
			Message: fmt.Sprintf("the key is mapped to `%s`, but Iterable identifies users by `%s` (identifier: %s)", s.KeyField, id, id),
			Hint:    fmt.Sprintf("map the key trait to `%s`, or set `identifier` to what the key holds", id)})
	}
	for _, f := range s.Fields {
		for _, r := range reservedFields {
			if f == r {
				out = append(out, destination.Problem{
					Message: fmt.Sprintf("field `%s` is managed by Iterable and cannot be written", f),
					Hint:    "map the trait to another field name; list membership comes from `list_id`"})
			}
		}
	}
	return out
}

// Destination writes Iterable user profiles and list memberships. It is
// safe for concurrent use.
type Destination struct {
	client     *httpdest.Client
	caps       destination.Capabilities
	sync       string
	mirror     bool
	listID     int64 // 0: no list
	campaignID int64
	channel    bool
	channelID  int64 // unsubscribe_channel_id (0: unsubscribe not supported)
	identifier string
	batchSize  int
	logger     *slog.Logger

	mu   sync.Mutex
	memo map[string]*progress // steps done per record content, for retries
}

var (
	_ destination.Destination   = (*Destination)(nil)
	_ destination.SchemaChecker = (*Destination)(nil)
)

// New opens an Iterable destination from its parsed settings.
func New(_ context.Context, cfg destination.Config) (destination.Destination, error) {
	v := cfg.Values
	d := &Destination{
		sync: cfg.SyncName, mirror: cfg.Mode == "mirror",
		listID: int64(v.Int("list_id")), campaignID: int64(v.Int("campaign_id")), channel: v.Bool("channel_unsubscribe"),
		channelID:  int64(v.Int("unsubscribe_channel_id")),
		identifier: v.String("identifier"), batchSize: v.Int("batch_size"), logger: cfg.Logger,
		memo: map[string]*progress{},
	}
	if d.identifier == "" {
		d.identifier = IdentifierEmail
	}
	if d.batchSize <= 0 || d.batchSize > MaxBatch {
		d.batchSize = MaxBatch
	}
	if d.mirror && d.listID == 0 {
		return nil, fmt.Errorf("iterable %s: mode mirror needs list_id", cfg.Name)
	}
	key := v.String("api_key")
	if key == "" {
		return nil, fmt.Errorf("iterable %s: api_key is empty", cfg.Name)
	}
	d.client = httpdest.New("iterable "+cfg.Name, cfg, httpdest.Header("Api-Key", "", key))
	d.client.Classify = classify
	ops := []destination.Op{destination.OpAdd, destination.OpChange, destination.OpErase}
	if d.mirror {
		ops = append(ops, destination.OpRemove)
	}
	if d.channelID != 0 {
		ops = append(ops, destination.OpUnsubscribe)
	}
	d.caps = destination.HTTPCapabilities(v, ops...)
	d.caps.MaxBatch = d.batchSize
	d.caps.IdentifierOf = d.identifier
	return d, nil
}

// Capabilities declares add, change and erase (remove in mirror mode,
// unsubscribe with unsubscribe_channel_id),
// batch_size users per call, the rate limit and the timeout.
func (d *Destination) Capabilities() destination.Capabilities { return d.caps }

// Close releases idle connections.
func (d *Destination) Close() error {
	if d.client != nil && d.client.HTTP != nil {
		d.client.HTTP.CloseIdleConnections()
	}
	return nil
}

// itoa renders an ID for messages.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
