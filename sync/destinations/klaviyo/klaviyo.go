package klaviyo

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// Type is the destination type this package registers.
const Type = "klaviyo"

// Vendor limits and defaults (https://developers.klaviyo.com/en/reference/bulk_import_profiles,
// https://developers.klaviyo.com/en/reference/add_profiles_to_list).
const (
	// MaxBatchSize is the most profiles one bulk import job accepts.
	MaxBatchSize = 10000
	// DefaultBatchSize keeps a job's follow-up reads (profile IDs, 100 a
	// page) to ten requests.
	DefaultBatchSize = 1000
	// MaxPayload is the largest bulk import request body Klaviyo accepts
	// ("5MB"); the connector splits a batch into jobs below it.
	MaxPayload = 5 * 1024 * 1024
	// MaxProfileSize is the largest profile object of a bulk import ("100KB").
	MaxProfileSize = 100 * 1024
	// MaxListMembers is the most profiles one list relationship request takes.
	MaxListMembers = 1000
	// PageSize is the largest page of the job's profiles, its import errors
	// and Get Profiles.
	PageSize = 100
	// DefaultRevision is the API revision sent when `revision` is not set.
	DefaultRevision = "2025-10-15"
	// MinRevision is the first revision with the bulk import paths this
	// connector calls (no trailing slash).
	MinRevision = "2024-10-15"
)

// mediaType is JSON:API's media type, which Klaviyo's /api endpoints take.
const mediaType = "application/vnd.api+json"

var revisionRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$`)

func init() {
	destination.Register(&destination.Spec{
		Type: Type, Title: "Klaviyo", Category: destination.CategoryEmail,
		Summary: "upserts profiles with bulk import jobs (JSON:API), optionally mirrored into a list",
		Doc:     specDoc,
		References: []string{
			"https://developers.klaviyo.com/en/reference/bulk_import_profiles",
			"https://developers.klaviyo.com/en/reference/get_bulk_import_profiles_job",
			"https://developers.klaviyo.com/en/reference/get_errors_for_bulk_import_profiles_job",
			"https://developers.klaviyo.com/en/reference/get_profiles_for_bulk_import_profiles_job",
			"https://developers.klaviyo.com/en/reference/update_profile",
			"https://developers.klaviyo.com/en/reference/get_profiles",
			"https://developers.klaviyo.com/en/reference/remove_profiles_from_list",
			"https://developers.klaviyo.com/en/reference/bulk_unsubscribe_profiles",
			"https://developers.klaviyo.com/en/reference/request_profile_deletion",
			"https://developers.klaviyo.com/en/docs/use_klaviyos_bulk_profile_import_api",
			"https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling",
			"https://developers.klaviyo.com/en/reference/api_overview",
		},
		Settings: settings(),
		Modes:    []string{"upsert", "mirror"},
		Operations: []destination.Operation{
			{Op: destination.OpAdd, Sends: "POST /api/profile-bulk-import-jobs (with the list relationship when list_id is set), polled; PATCH /api/profiles/{id} to clear null fields"},
			{Op: destination.OpChange, Sends: "POST /api/profile-bulk-import-jobs, polled; PATCH /api/profiles/{id} to clear null fields"},
			{Op: destination.OpRemove, Sends: "mirror: DELETE /api/lists/{list_id}/relationships/profiles by profile ID (the profile is kept)"},
			{Op: destination.OpUnsubscribe, Sends: "POST /api/profile-subscription-bulk-delete-jobs {profiles: [{email, subscriptions: {email: {marketing: {consent: UNSUBSCRIBED}}}}]} (with the list relationship when list_id is set), 100 a request"},
			{Op: destination.OpErase, Sends: "POST /api/data-privacy-deletion-jobs {profile: {data: {type: profile, id | attributes: {email}}}}, one per person"},
		},
		Limits: []string{
			"bulk import: 10,000 profiles and 5 MB per job, 100 KB per profile; 10/s burst, 150/m steady",
			"list relationships: 1,000 profiles per request; 10/s burst, 150/m steady",
			"Update Profile: 75/s burst, 750/m steady; Get Profiles: 75/s burst, 750/m steady",
			"Bulk Unsubscribe Profiles: 100 profiles per request; 75/s burst, 700/m steady",
			"Request Profile Deletion: one person per request; 3/s burst, 60/m steady (sent one a second)",
		},
		CheckSync: checkSync,
		New:       New,
	})
}

func settings() []destination.Setting {
	own := []destination.Setting{
		{Name: "api_key", Kind: destination.KindSecret, Required: true, Example: `"${KLAVIYO_PRIVATE_KEY}"`,
			Doc: "private API key (pk_…) with the profiles:write, profiles:read and lists:write scopes (subscriptions:write to unsubscribe, data-privacy:write to erase)"},
		{Name: "revision", Kind: destination.KindString, Default: DefaultRevision,
			Doc: "API revision sent in the `revision` header (YYYY-MM-DD, " + MinRevision + " or later)"},
		{Name: "list_id", Kind: destination.KindString, Example: "Y6nRLr",
			Doc: "list the imported profiles join; mirror mode removes leavers from it (required for mirror)"},
		{Name: "poll_interval", Kind: destination.KindDuration, Default: "5s",
			Doc: "how often a running bulk import job is polled"},
		{Name: "job_timeout", Kind: destination.KindDuration, Default: "30m",
			Doc: "how long a batch's jobs may run before its records are retried"},
	}
	return append(own, destination.HTTPSettings(destination.HTTPDefaults{
		BaseURL: "https://a.klaviyo.com", BatchSize: DefaultBatchSize, MaxBatch: MaxBatchSize,
		RateLimit: "150/m", Concurrency: 4, MaxConcurrency: 10, Timeout: 30 * time.Second,
	})...)
}

// Destination delivers profiles to one Klaviyo account. It is safe for
// concurrent use.
type Destination struct {
	name      string
	mode      string
	listID    string
	client    *httpdest.Client
	caps      destination.Capabilities
	pollEvery time.Duration
	jobTime   time.Duration
	polls     *pacer // job polls, shared by concurrent batches
	deletions *pacer // Request Profile Deletion calls
}

var (
	_ destination.Destination      = (*Destination)(nil)
	_ destination.AsyncDestination = (*Destination)(nil)
)

// New opens a Klaviyo destination for one sync run.
func New(_ context.Context, cfg destination.Config) (destination.Destination, error) {
	v := cfg.Values
	info := destination.SyncInfo{Name: cfg.SyncName, Mode: cfg.Mode, Fields: cfg.Fields, KeyField: cfg.KeyField}
	if probs := checkSync(v, info); len(probs) > 0 {
		return nil, fmt.Errorf("klaviyo %s: %s", cfg.Name, probs[0].Message)
	}
	d := &Destination{name: cfg.Name, mode: cfg.Mode, listID: v.String("list_id"),
		pollEvery: v.Duration("poll_interval"), jobTime: v.Duration("job_timeout"), polls: &pacer{gap: pollGap}, deletions: &pacer{gap: deletionGap}}
	c := httpdest.New("klaviyo "+cfg.Name, cfg, httpdest.Header("Authorization", "Klaviyo-API-Key ", v.String("api_key")))
	c.Header = http.Header{"Revision": {v.String("revision")}, "Accept": {mediaType}}
	c.Classify = classify
	d.client = c
	ops := []destination.Op{destination.OpAdd, destination.OpChange, destination.OpUnsubscribe, destination.OpErase}
	if cfg.Mode == "mirror" {
		ops = append(ops, destination.OpRemove)
	}
	d.caps = destination.HTTPCapabilities(v, ops...)
	d.caps.IdentifierOf = "email"
	// One Apply call submits the batch's jobs and polls them to the end.
	d.caps.Timeout = d.jobTime
	return d, nil
}

// checkSync reports what keeps a sync from running: mirror without a list,
// a key mapped to another field than email, destination fields Klaviyo has
// no place for, a malformed revision.
func checkSync(v destination.Values, s destination.SyncInfo) []destination.Problem {
	var probs []destination.Problem
	if s.Mode == "mirror" && v.String("list_id") == "" {
		probs = append(probs, destination.Problem{Setting: "list_id",
			Message: "mirror mode needs `list_id`: leavers are removed from that list",
			Hint:    "add `list_id: <the list's ID>` (Klaviyo → Lists & segments → the list → Settings), or use mode upsert"})
	}
	if s.KeyField != "" && s.KeyField != "email" {
		probs = append(probs, destination.Problem{
			Message: fmt.Sprintf("the sync key is mapped to `%s`; it is the profile's email, map it to `email`", s.KeyField),
			Hint:    "Klaviyo matches bulk-imported profiles by email: `- trait: <email trait>\\n  field: email`"})
	}
	for _, f := range s.Fields {
		if _, err := parseField(f); err != nil {
			probs = append(probs, destination.Problem{Message: err.Error(),
				Hint: "profile attributes: " + attributeList + "; location.<" + locationList + ">; custom properties as properties.<name>"})
		}
	}
	if r := v.String("revision"); r != "" && (!revisionRe.MatchString(r) || r[:10] < MinRevision) {
		probs = append(probs, destination.Problem{Setting: "revision",
			Message: fmt.Sprintf("bad `revision` %q: want a dated revision YYYY-MM-DD from %s on", r, MinRevision),
			Hint:    "leave it out for " + DefaultRevision})
	}
	return probs
}

// classify is the default classification, except that a wait is taken from
// Retry-After only: Klaviyo puts RateLimit-Reset (seconds until the steady
// window resets) on every response that is not a 429, which is no request
// to wait before retrying a 5xx.
func classify(r *httpdest.Response) (error, bool) {
	cp := *r
	cp.Header = http.Header{}
	if ra := r.Header.Get("Retry-After"); ra != "" {
		cp.Header.Set("Retry-After", ra)
	}
	return httpdest.Classify(&cp), true
}

// Capabilities declares add, change, unsubscribe and erase (and remove in
// mirror mode),
// batch_size profiles per call, the rate limit and concurrency, and
// job_timeout per call (an Apply call waits for its jobs).
func (d *Destination) Capabilities() destination.Capabilities { return d.caps }

// JobTiming returns poll_interval and job_timeout.
func (d *Destination) JobTiming() (pollEvery, timeout time.Duration) { return d.pollEvery, d.jobTime }

// Close releases idle connections.
func (d *Destination) Close() error {
	if d.client.HTTP != nil {
		d.client.HTTP.CloseIdleConnections()
	}
	return nil
}

func (d *Destination) errorf(format string, args ...any) error {
	return fmt.Errorf("klaviyo %s: "+format, append([]any{d.name}, args...)...)
}
