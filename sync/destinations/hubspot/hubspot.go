package hubspot

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// Type is the destination type this package registers.
const Type = "hubspot"

// HubSpot's documented values.
const (
	DefaultBaseURL = "https://api.hubapi.com"
	// MaxBatch is the most inputs one batch request may carry.
	MaxBatch = 100
	// MaxValueLen is the most characters a property value may hold.
	MaxValueLen = 65536
	// DefaultRateLimit is the private-app burst limit of Free and Starter
	// accounts, 100 requests per 10 seconds (Professional and Enterprise:
	// 190).
	DefaultRateLimit = "10/s"
)

// Modes the destination supports. Insert is left out: a batch create fails
// as a whole when one contact exists, so only a read-then-create race could
// emulate it.
var modes = []string{"upsert", "update", "mirror"}

func init() {
	destination.Register(&destination.Spec{
		Type: Type, Title: "HubSpot", Category: destination.CategoryCRM,
		Summary:    "upserts CRM contacts by email (or another unique property) and mirrors the audience into a static contact list",
		Doc:        specDoc,
		References: references,
		Settings: append([]destination.Setting{
			{Name: "access_token", Kind: destination.KindSecret, Required: true, Example: `"${HUBSPOT_TOKEN}"`,
				Doc: "private app access token (scopes crm.objects.contacts.read and .write, crm.lists.read and .write, crm.schemas.contacts.read)"},
			{Name: "id_property", Kind: destination.KindString, Default: "email",
				Doc: "the unique contact property the sync key is matched on"},
			{Name: "list_id", Kind: destination.KindString, Example: `"${HUBSPOT_VIP_LIST}"`,
				Doc: "ILS ID of the MANUAL (static) contact list that mirrors the audience; needed by mode mirror"},
		}, destination.HTTPSettings(destination.HTTPDefaults{BaseURL: DefaultBaseURL, BatchSize: MaxBatch, MaxBatch: MaxBatch,
			RateLimit: DefaultRateLimit, Concurrency: 1, MaxConcurrency: 10, Timeout: 30 * time.Second})...),
		Modes: modes,
		Operations: []destination.Operation{
			{Op: destination.OpAdd, Sends: "POST /crm/v3/objects/contacts/batch/upsert {inputs: [{idProperty, id, properties, objectWriteTraceId}]}"},
			{Op: destination.OpChange, Sends: "POST /crm/v3/objects/contacts/batch/upsert"},
			{Mode: "update", Op: destination.OpChange, Sends: "POST /crm/v3/objects/contacts/batch/update (never creates a contact)"},
			{Mode: "mirror", Op: destination.OpAdd, Sends: "POST /crm/v3/objects/contacts/batch/upsert, then PUT /crm/v3/lists/{list_id}/memberships/add-and-remove {recordIdsToAdd}"},
			{Mode: "mirror", Op: destination.OpChange, Sends: "POST /crm/v3/objects/contacts/batch/upsert, then recordIdsToAdd (a no-op for a member)"},
			{Mode: "mirror", Op: destination.OpRemove, Sends: "PUT /crm/v3/lists/{list_id}/memberships/add-and-remove {recordIdsToRemove} by the stored record ID " +
				"(POST /crm/v3/objects/contacts/batch/read by id_property first when it is not known); the contact itself is kept"},
			{Op: destination.OpErase, Sends: "POST /crm/v3/objects/contacts/gdpr-delete {objectId, idProperty: email} per contact " +
				"(by the record ID when id_property is another property and it is known); HubSpot deletes the contact for good and blocklists the email. " +
				"Receipt `gdpr-delete <objectId> HTTP 204`; a 404 is confirmed as nothing to erase"},
		},
		Limits: []string{
			fmt.Sprintf("%d contacts per batch request", MaxBatch),
			"private apps: 100 requests per 10 seconds (Free, Starter) or 190 (Professional, Enterprise), 250,000 to 1,000,000 a day",
			fmt.Sprintf("%d characters per property value", MaxValueLen),
			"mode mirror sends two requests per batch (upsert, then list membership), so it delivers batches at half of rate_limit",
			"an erase is one gdpr-delete request per contact (HubSpot has no batch GDPR delete)",
		},
		CheckSync: checkSync,
		New:       New,
	})
}

// references are the HubSpot pages the destination follows.
var references = []string{
	"https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/upsert-contacts",
	"https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/update-contacts",
	"https://developers.hubspot.com/docs/api/crm/contacts",
	"https://developers.hubspot.com/docs/api-reference/legacy/crm/properties/get-properties",
	"https://developers.hubspot.com/docs/api-reference/crm-lists-v3/memberships/put-crm-v3-lists-listId-memberships-add-and-remove",
	"https://developers.hubspot.com/beta-docs/reference/api/crm/lists",
	"https://developers.hubspot.com/docs/api-reference/error-handling",
	"https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines",
	"https://developers.hubspot.com/docs/api-reference/crm-contacts-v3/basic/post-crm-v3-objects-contacts-gdpr-delete",
}

const specDoc = `Writes the sync's records to HubSpot CRM **contacts**, matched on a unique
property (` + "`id_property`" + `, by default ` + "`email`" + `), through the CRM v3 batch endpoints
with a private app's access token. Mapped fields are contact property names
(` + "`email`, `firstname`, `lastname`" + ` or custom ones); a NULL sent with
` + "`null_values: send`" + ` clears the property (HubSpot clears with an empty string).
Each contact carries an ` + "`objectWriteTraceId`" + ` derived from the record's content,
so HubSpot answers partial failures per contact (207 multi-status) and a
resend carries the same trace ID.

* ` + "`upsert`" + ` creates or updates contacts.
* ` + "`update`" + ` only updates contacts that exist; a record without a contact is rejected.
* ` + "`mirror`" + ` upserts contacts and keeps the static (MANUAL) list ` + "`list_id`" + ` equal to
  the audience: records that leave it are removed from the list, never deleted from HubSpot.
* ` + "`cdp forget`" + ` (erase) GDPR-deletes the contact in every mode: one
  ` + "`gdpr-delete`" + ` request per person, which HubSpot answers 204.

HubSpot's 429 (` + "`policyName`" + ` TEN_SECONDLY_ROLLING or SECONDLY) is retried after the
window in ` + "`X-HubSpot-RateLimit-Interval-Milliseconds`" + `; the DAILY limit and a refused
token stop the run. ` + "`cdp sync check`" + ` compares the mapped fields with the account's
contact properties (names, types, read-only) and checks the list.`

// Destination delivers batches to HubSpot contacts. It is safe for
// concurrent use.
type Destination struct {
	name       string
	sync       string
	mode       string
	idProperty string
	listID     string
	batchSize  int
	caps       destination.Capabilities
	client     *httpdest.Client
	logger     *slog.Logger

	mu sync.Mutex
	// upserted maps the objectWriteTraceId of contacts confirmed in a
	// mirror batch whose membership change failed to their record IDs, so a
	// retry of that batch only changes the membership.
	upserted map[string]string
}

var (
	_ destination.Destination   = (*Destination)(nil)
	_ destination.SchemaChecker = (*Destination)(nil)
)

// New opens a HubSpot destination for one sync run.
func New(_ context.Context, cfg destination.Config) (destination.Destination, error) {
	v := cfg.Values
	d := &Destination{name: cfg.Name, sync: cfg.SyncName, mode: cfg.Mode, idProperty: v.String("id_property"),
		listID: v.String("list_id"), batchSize: v.Int("batch_size"), logger: cfg.Logger,
		upserted: map[string]string{}}
	if d.mode == "" {
		d.mode = "upsert"
	}
	switch {
	case v.String("access_token") == "":
		return nil, d.errorf("access_token is required")
	case !slices.Contains(modes, d.mode):
		return nil, d.errorf("mode %s is not supported (use %s)", d.mode, strings.Join(modes, ", "))
	case d.mode == "mirror" && d.listID == "":
		return nil, d.errorf("mode mirror needs list_id")
	case d.idProperty == "":
		d.idProperty = "email"
	}
	if d.batchSize <= 0 || d.batchSize > MaxBatch {
		d.batchSize = MaxBatch
	}
	d.client = httpdest.New("hubspot "+cfg.Name, cfg, httpdest.Bearer(v.String("access_token")))
	d.client.Classify = classify
	ops := []destination.Op{destination.OpAdd, destination.OpChange}
	switch d.mode {
	case "update":
		ops = []destination.Op{destination.OpChange}
	case "mirror":
		ops = append(ops, destination.OpRemove)
	}
	ops = append(ops, destination.OpErase)
	d.caps = destination.HTTPCapabilities(v, ops...)
	d.caps.MaxBatch = d.batchSize
	d.caps.IdentifierOf = d.idProperty
	if d.mode == "mirror" {
		d.caps.RateLimit /= 2 // two requests per batch
	}
	return d, nil
}

// Capabilities declares the mode's operations, batch_size, the rate limit
// (halved for mirror, which sends two requests a batch), concurrency and
// timeout.
func (d *Destination) Capabilities() destination.Capabilities { return d.caps }

// Close releases idle connections.
func (d *Destination) Close() error {
	if d.client != nil && d.client.HTTP != nil {
		d.client.HTTP.CloseIdleConnections()
	}
	return nil
}

func (d *Destination) errorf(format string, args ...any) error {
	return fmt.Errorf("hubspot %s: "+format, append([]any{d.name}, args...)...)
}

// checkSync reports the problems of one sync that depend on the settings.
func checkSync(v destination.Values, s destination.SyncInfo) []destination.Problem {
	var probs []destination.Problem
	list := v.String("list_id")
	switch {
	case s.Mode == "mirror" && list == "":
		probs = append(probs, destination.Problem{Setting: "list_id",
			Message: "mode mirror needs `list_id`: the static contact list that mirrors the audience",
			Hint:    "create a static (MANUAL) contact list in HubSpot and set list_id to its ID (the number in the list's URL), e.g. `list_id: \"${HUBSPOT_VIP_LIST}\"`"})
	case list != "" && !isDigits(list):
		probs = append(probs, destination.Problem{Setting: "list_id",
			Message: fmt.Sprintf("list_id `%s` is not a HubSpot list ID", list), Hint: "list IDs are numbers, e.g. `123`"})
	case list != "" && s.Mode != "mirror":
		probs = append(probs, destination.Problem{Setting: "list_id", Warning: true,
			Message: fmt.Sprintf("list_id is only used by mode mirror; this %s sync leaves list membership alone", s.Mode)})
	}
	if v.String("id_property") == "hs_object_id" && s.Mode != "update" {
		probs = append(probs, destination.Problem{Setting: "id_property",
			Message: fmt.Sprintf("id_property hs_object_id (the record ID) works only with mode update; a %s sync needs a unique property such as email", s.Mode)})
	}
	if idp := v.String("id_property"); s.KeyField != "" && idp != "" && s.KeyField != idp {
		probs = append(probs, destination.Problem{Setting: "id_property",
			Message: fmt.Sprintf("the key trait `%s` is mapped to `%s`, but contacts are matched on id_property `%s`", s.Key, s.KeyField, idp),
			Hint:    fmt.Sprintf("map the key trait to `%s`, or set `id_property: %s` if that property is unique in HubSpot", idp, s.KeyField)})
	}
	return probs
}

func isDigits(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}
