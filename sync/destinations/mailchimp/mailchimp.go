package mailchimp

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// Type is the destination type this package registers.
const Type = "mailchimp"

// Limits and defaults from Mailchimp's documentation.
const (
	// MaxBatch is the most members one batch subscribe call takes.
	MaxBatch = 500
	// MaxConnections is Mailchimp's limit of simultaneous connections per
	// account.
	MaxConnections = 10
	// DefaultTimeout is the client's timeout per request (Mailchimp's own
	// is 120 seconds).
	DefaultTimeout = 60 * time.Second
	// EmailField is the destination field that holds the member's address;
	// every other field is a merge tag.
	EmailField = "email_address"
	// maxApplyRounds caps an archiving Apply's time at this many timeouts.
	maxApplyRounds = 10
)

// Removal settings: how mirror mode takes a member out of the audience.
const (
	RemoveArchive     = "archive"
	RemoveUnsubscribe = "unsubscribe"
)

// References are the Mailchimp pages the connector follows.
var References = []string{
	"https://mailchimp.com/developer/marketing/api/lists/batch-subscribe-or-unsubscribe/",
	"https://mailchimp.com/developer/marketing/api/list-members/archive-list-member/",
	"https://mailchimp.com/developer/marketing/api/list-members/delete-list-member/",
	"https://mailchimp.com/developer/marketing/api/list-merges/list-merge-fields/",
	"https://mailchimp.com/developer/marketing/docs/merge-fields/",
	"https://mailchimp.com/developer/marketing/docs/fundamentals/",
	"https://mailchimp.com/developer/marketing/docs/errors/",
}

const specDoc = `Keeps a Mailchimp audience (a list) up to date: each batch of records is one
call to Mailchimp's batch subscribe endpoint (up to 500 members, update_existing
on), with the record's email as the member's email_address and every other
mapped field as a merge field: map a trait to ` + "`FNAME`" + `, ` + "`LTV`" + ` or any merge tag
of the audience (` + "`cdp sync check`" + ` checks the tags and their types against the
audience's merge fields). A field cleared with ` + "`null_values: send`" + ` is sent as
"", which is how Mailchimp clears a merge field. The optional ` + "`tags`" + ` are added
to every member written.

In ` + "`upsert`" + ` mode new members get ` + "`new_status`" + ` (status_if_new) and existing
members keep their status, so contacts who unsubscribed stay unsubscribed. In
` + "`mirror`" + ` mode the list's subscribed members are the audience: added and
changed records are written as subscribed, and a record that leaves is archived
(one DELETE per member) or, with ` + "`removal: unsubscribe`" + `, unsubscribed in the
batch call. The member's ID (the MD5 of the lower-cased email) is kept as the
record's remote ID.

Authenticate with an API key (sent as HTTP basic auth); the API host comes from
the key's data-center suffix (` + "`…-us21`" + ` → https://us21.api.mailchimp.com) unless
` + "`base_url`" + ` is set. An OAuth ` + "`access_token`" + ` (bearer) needs ` + "`base_url`" + `. Mailchimp
limits an account to 10 simultaneous connections and no request rate; the
connector never opens more than 10 and retries the 429 Mailchimp sends beyond.

A withdrawn consent sends the member with ` + "`status: unsubscribed`" + ` in the batch call (in any mode); the
receipt names the member. ` + "`cdp forget`" + ` permanently deletes the member with
` + "`POST /3.0/lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent`" + ` (204, receipt "delete-permanent HTTP 204"):
Mailchimp erases the contact's data and the address cannot be re-imported (only the person can sign up again). A member the
audience does not hold (404) is confirmed with the receipt "not found: nothing to erase".`

var dcRe = regexp.MustCompile(`-([a-z]+[0-9]+)$`)

func init() {
	destination.Register(&destination.Spec{
		Type: Type, Title: "Mailchimp", Category: destination.CategoryEmail,
		Summary:    "subscribes, updates and archives members of a Mailchimp audience (batch subscribe, merge fields, tags)",
		Doc:        specDoc,
		References: References,
		Settings:   settings(),
		Modes:      []string{"upsert", "mirror"},
		Operations: []destination.Operation{
			{Op: destination.OpAdd, Sends: "POST /3.0/lists/{list_id} members[] {email_address, status_if_new (upsert) or status: subscribed (mirror), merge_fields, tags}, update_existing: true"},
			{Op: destination.OpChange, Sends: "the same member in POST /3.0/lists/{list_id}"},
			{Op: destination.OpRemove, Sends: "DELETE /3.0/lists/{list_id}/members/{subscriber_hash} (archive), or members[] {email_address, status: unsubscribed} in POST /3.0/lists/{list_id} with removal: unsubscribe"},
			{Op: destination.OpUnsubscribe, Sends: "members[] {email_address, status: unsubscribed} in POST /3.0/lists/{list_id} (the batch call)"},
			{Op: destination.OpErase, Sends: "POST /3.0/lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent, one request per member"},
		},
		Limits: []string{
			"500 members per batch subscribe call",
			"10 simultaneous connections per account (429 beyond); no documented request rate limit",
			"120 seconds per call on Mailchimp's side",
			"archiving and permanent deletion are one request per member",
		},
		CheckSync: checkSync,
		New:       New,
	})
}

// settings declares the destination's settings.
func settings() []destination.Setting {
	own := []destination.Setting{
		{Name: "api_key", Kind: destination.KindSecret, Example: "\"${MAILCHIMP_API_KEY}\"",
			Doc: "API key (…-us21); sent as HTTP basic auth, its suffix names the data center"},
		{Name: "access_token", Kind: destination.KindSecret,
			Doc: "OAuth access token (bearer) instead of api_key; needs base_url"},
		{Name: "list_id", Kind: destination.KindString, Required: true, Example: "a1b2c3d4e5",
			Doc: "ID of the audience (list) the members belong to"},
		{Name: "removal", Kind: destination.KindEnum, Default: RemoveArchive, Values: []string{RemoveArchive, RemoveUnsubscribe},
			Doc: "what mirror mode does to a member who leaves the audience: archive it or unsubscribe it"},
		{Name: "new_status", Kind: destination.KindEnum, Default: "subscribed", Values: []string{"subscribed", "pending", "transactional"},
			Doc: "status of a member new to the list in upsert mode (pending sends Mailchimp's opt-in confirmation)"},
		{Name: "tags", Kind: destination.KindList, Example: "cdp, vip",
			Doc: "tags added to every member written"},
	}
	http := destination.HTTPSettings(destination.HTTPDefaults{BatchSize: MaxBatch, MaxBatch: MaxBatch,
		Concurrency: 4, MaxConcurrency: MaxConnections, Timeout: DefaultTimeout})
	for i := range http {
		switch http[i].Name {
		case "base_url":
			http[i].Doc = "API host; default https://<dc>.api.mailchimp.com from the api_key's -<dc> suffix"
			http[i].Example = "https://us21.api.mailchimp.com"
		case "rate_limit":
			http[i].Doc = "requests per second, minute or hour the sync may send (Mailchimp limits connections, not rate: none by default)"
		}
	}
	return append(own, http...)
}

// checkSync reports problems of a sync that depend on the settings.
func checkSync(v destination.Values, s destination.SyncInfo) []destination.Problem {
	var probs []destination.Problem
	if _, err := credentials(v); err != nil {
		probs = append(probs, destination.Problem{Message: err.Error()})
	}
	if s.KeyField != "" && s.KeyField != EmailField {
		probs = append(probs, destination.Problem{Message: fmt.Sprintf("the key is mapped to `%s`, but Mailchimp identifies members by email address", s.KeyField),
			Hint: "make the email the sync's key and map it to `email_address`"})
	}
	if slices.Contains(s.Fields, EmailField) && s.KeyField != EmailField {
		probs = append(probs, destination.Problem{Message: "`email_address` is mapped from a trait other than the key",
			Hint: "the member's email is the record key; map the key trait to `email_address` or drop the mapping"})
	}
	if s.Mode == "mirror" && v.String("new_status") != "subscribed" {
		probs = append(probs, destination.Problem{Setting: "new_status",
			Message: "mirror mode keeps the list's subscribed members; new_status must be subscribed",
			Hint:    "use upsert mode for pending (double opt-in) or transactional members"})
	}
	for _, f := range s.Fields {
		if f != EmailField && f != strings.ToUpper(f) {
			probs = append(probs, destination.Problem{Warning: true,
				Message: fmt.Sprintf("field `%s` is sent as the merge tag `%s`; Mailchimp's merge tags are upper case", f, f),
				Hint:    "map it to `" + strings.ToUpper(f) + "` (the audience's merge tag)"})
		}
	}
	return probs
}

// credentials returns the auth and the data center (from an API key; ""
// for a token).
func credentials(v destination.Values) (cred, error) {
	key, token := v.String("api_key"), v.String("access_token")
	switch {
	case key != "" && token != "":
		return cred{}, fmt.Errorf("give either `api_key` or `access_token`, not both")
	case key != "":
		c := cred{auth: httpdest.Basic("cdp", key)}
		if m := dcRe.FindStringSubmatch(key); m != nil {
			c.dc = m[1]
		} else if v.URL("base_url") == nil {
			return cred{}, fmt.Errorf("the api_key has no data-center suffix (such as -us21) to derive the API host from; set `base_url`")
		}
		return c, nil
	case token != "":
		if v.URL("base_url") == nil {
			return cred{}, fmt.Errorf("an `access_token` needs `base_url` (https://<dc>.api.mailchimp.com, the dc from Mailchimp's OAuth metadata)")
		}
		return cred{auth: httpdest.Bearer(token)}, nil
	}
	return cred{}, fmt.Errorf("a mailchimp destination needs `api_key` (or an OAuth `access_token`)")
}

type cred struct {
	auth httpdest.Auth
	dc   string
}

// Destination writes members of one Mailchimp audience. It is safe for
// concurrent use.
type Destination struct {
	client    *httpdest.Client
	listID    string
	mode      string
	removal   string
	newStatus string
	tags      []string
	caps      destination.Capabilities
	// parallel bounds the archive requests of one Apply, so that all Apply
	// calls in flight stay within Mailchimp's 10 connections.
	parallel int
}

var (
	_ destination.Destination   = (*Destination)(nil)
	_ destination.SchemaChecker = (*Destination)(nil)
)

// New opens a mailchimp destination from its parsed settings.
func New(_ context.Context, cfg destination.Config) (destination.Destination, error) {
	v := cfg.Values
	c, err := credentials(v)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %v", cfg.Name, err)
	}
	listID := strings.TrimSpace(v.String("list_id"))
	if listID == "" || strings.ContainsAny(listID, "/?#") {
		return nil, fmt.Errorf("destination %s: bad list_id %q", cfg.Name, listID)
	}
	client := httpdest.New("mailchimp", cfg, c.auth)
	if client.BaseURL == nil {
		client.BaseURL = &url.URL{Scheme: "https", Host: c.dc + ".api.mailchimp.com"}
	}
	client.Classify = classify
	mode := cfg.Mode
	if mode == "" {
		mode = "upsert"
	}
	d := &Destination{client: client, listID: listID, mode: mode, removal: v.String("removal"),
		newStatus: v.String("new_status"), tags: v.List("tags")}
	conc := max(v.Int("concurrency"), 1)
	d.parallel = max(1, MaxConnections/conc)
	ops := []destination.Op{destination.OpAdd, destination.OpChange, destination.OpUnsubscribe, destination.OpErase}
	if mode == "mirror" {
		ops = append(ops, destination.OpRemove)
	}
	d.caps = destination.HTTPCapabilities(v, ops...)
	d.caps.IdentifierOf = "email"
	if mode == "mirror" && d.removal == RemoveArchive {
		// One batch call, then up to batch_size archive requests, parallel at
		// a time, each within timeout; capped, since what a cut-off Apply did
		// not send is retried per record.
		rounds := (d.caps.MaxBatch + d.parallel - 1) / d.parallel
		d.caps.Timeout *= time.Duration(min(1+rounds, maxApplyRounds))
	}
	return d, nil
}

// Capabilities implements destination.Destination.
func (d *Destination) Capabilities() destination.Capabilities { return d.caps }

// Close implements destination.Destination.
func (d *Destination) Close() error { return nil }
