package googledatamanager

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// Type is the destination type this package registers.
const Type = "google_data_manager"

// Vendor limits (https://developers.google.com/data-manager/api/reference/rest).
const (
	// MaxMembers is the most audience members one request takes.
	MaxMembers = 10000
	// MaxIdentifiers is the most user identifiers one member takes.
	MaxIdentifiers = 10
)

// Consent values.
const (
	ConsentGranted = "CONSENT_GRANTED"
	ConsentDenied  = "CONSENT_DENIED"
)

var idRe = regexp.MustCompile(`^[0-9]+$`)

func init() {
	destination.Register(&destination.Spec{
		Type: Type, Title: "Google Data Manager", Category: destination.CategoryAds,
		Summary: "adds and removes hashed people in a Google Ads (or Display & Video 360) Customer Match list through the Data Manager API",
		Doc:     specDoc,
		References: []string{
			"https://developers.google.com/data-manager/api/reference/rest",
			"https://developers.google.com/data-manager/api/reference/rest/v1/audienceMembers/ingest",
			"https://developers.google.com/data-manager/api/reference/rest/v1/audienceMembers/remove",
			"https://developers.google.com/data-manager/api/reference/rest/v1/requestStatus/retrieve",
			"https://developers.google.com/data-manager/api/get-started/formatting",
			"https://developers.google.com/identity/protocols/oauth2/service-account",
			"https://github.com/googleapis/googleapis/tree/master/google/ads/datamanager/v1",
		},
		Settings: settings(),
		Modes:    []string{"upsert", "mirror"},
		Operations: []destination.Operation{
			{Op: destination.OpAdd, Sends: "POST /v1/audienceMembers:ingest, then GET /v1/requestStatus:retrieve until done"},
			{Op: destination.OpChange, Sends: "POST /v1/audienceMembers:ingest; identifiers the record no longer has go to POST /v1/audienceMembers:remove; polled"},
			{Op: destination.OpRemove, Sends: "mirror: POST /v1/audienceMembers:remove with the identifiers last sent, polled"},
			{Op: destination.OpUnsubscribe, Sends: "POST /v1/audienceMembers:remove with the identifiers last sent, polled (the person leaves the list)"},
			{Op: destination.OpErase, Sends: "POST /v1/audienceMembers:remove with the identifiers last sent, polled; receipt: the requestId and its status"},
		},
		Limits: []string{
			"10,000 audience members per request, 10 user identifiers per member",
			"quota exhaustion is 429 RESOURCE_EXHAUSTED (retried); requests are processed asynchronously (requestStatus:retrieve)",
		},
		CheckSettings: checkSettings,
		CheckSync: func(_ destination.Values, s destination.SyncInfo) []destination.Problem {
			return checkFields(s.Fields, s.Hashes)
		},
		New: New,
	})
}

var accountTypes = []string{"GOOGLE_ADS", "DISPLAY_VIDEO_ADVERTISER", "DISPLAY_VIDEO_PARTNER", "DATA_PARTNER"}

func settings() []destination.Setting {
	own := []destination.Setting{
		{Name: "credentials_file", Kind: destination.KindString, Required: true, Example: "secrets/datamanager-sa.json",
			Doc: "service-account JSON key file (relative to the project), whose account has access to the operating account"},
		{Name: "operating_account_id", Kind: destination.KindString, Required: true, Example: "1234567890",
			Doc: "account that owns the audience (a Google Ads customer ID without dashes)"},
		{Name: "operating_account_type", Kind: destination.KindEnum, Values: accountTypes, Default: "GOOGLE_ADS",
			Doc: "product of the operating account"},
		{Name: "login_account_id", Kind: destination.KindString, Example: "9876543210",
			Doc: "manager account the service account reaches the operating account through (optional)"},
		{Name: "login_account_type", Kind: destination.KindEnum, Values: accountTypes, Default: "GOOGLE_ADS",
			Doc: "product of the login account"},
		{Name: "audience_id", Kind: destination.KindString, Required: true, Example: "8123456789",
			Doc: "ID of the Customer Match user list (the request's productDestinationId)"},
		{Name: "ad_user_data", Kind: destination.KindEnum, Values: []string{ConsentGranted, ConsentDenied},
			Doc: "consent for ad user data sent with every request (needed for users in the EEA)"},
		{Name: "ad_personalization", Kind: destination.KindEnum, Values: []string{ConsentGranted, ConsentDenied},
			Doc: "consent for ad personalization sent with every request (needed for users in the EEA)"},
		{Name: "terms_of_service", Kind: destination.KindEnum, Values: []string{"ACCEPTED", "REJECTED"},
			Doc: "Customer Match terms of service status, for accounts that have not accepted them in Google Ads"},
		{Name: "poll_interval", Kind: destination.KindDuration, Default: "10s", Doc: "how often a request's status is polled"},
		{Name: "job_timeout", Kind: destination.KindDuration, Default: "30m",
			Doc: "how long a request may stay PROCESSING before its records are retried"},
	}
	return append(own, destination.HTTPSettings(destination.HTTPDefaults{
		BaseURL: "https://datamanager.googleapis.com", BatchSize: MaxMembers, MaxBatch: MaxMembers,
		RateLimit: "5/s", Concurrency: 2, MaxConcurrency: 8, Timeout: 60 * time.Second,
	})...)
}

func checkSettings(v destination.Values) []destination.Problem {
	var probs []destination.Problem
	for _, name := range []string{"operating_account_id", "login_account_id", "audience_id"} {
		if s := v.String(name); s != "" && !idRe.MatchString(s) {
			probs = append(probs, destination.Problem{Setting: name,
				Message: fmt.Sprintf("bad `%s` %q: digits only (write a Google Ads customer ID without dashes)", name, s)})
		}
	}
	if v.String("ad_user_data") == "" || v.String("ad_personalization") == "" {
		probs = append(probs, destination.Problem{Warning: true,
			Message: "no `ad_user_data` or `ad_personalization` consent: Google refuses members from the EEA without them",
			Hint:    "set both to CONSENT_GRANTED for an audience whose members consented"})
	}
	return probs
}

// Destination adds and removes members of one Customer Match list. It is
// safe for concurrent use.
type Destination struct {
	name      string
	dest      ProductDestination
	consent   *Consent
	tos       *TermsOfService
	client    *httpdest.Client
	caps      destination.Capabilities
	pollEvery time.Duration
	jobTime   time.Duration

	mu    sync.Mutex
	match destination.MatchReport
}

var (
	_ destination.AsyncDestination = (*Destination)(nil)
	_ destination.MatchReporter    = (*Destination)(nil)
)

// New opens a Data Manager destination for one sync run: it reads the
// service-account key (the access token is fetched at the first request).
func New(_ context.Context, cfg destination.Config) (destination.Destination, error) {
	v := cfg.Values
	for _, p := range checkFields(cfg.Fields, cfg.Hashes) {
		if !p.Warning {
			return nil, fmt.Errorf("google_data_manager %s: %s", cfg.Name, p.Message)
		}
	}
	key, err := readKey(cfg.ProjectRoot, v.String("credentials_file"))
	if err != nil {
		return nil, fmt.Errorf("google_data_manager %s: %v", cfg.Name, err)
	}
	d := &Destination{name: cfg.Name, pollEvery: v.Duration("poll_interval"), jobTime: v.Duration("job_timeout"),
		dest: ProductDestination{ProductDestinationID: v.String("audience_id"),
			OperatingAccount: &ProductAccount{AccountID: v.String("operating_account_id"), AccountType: v.String("operating_account_type")}}}
	if id := v.String("login_account_id"); id != "" {
		d.dest.LoginAccount = &ProductAccount{AccountID: id, AccountType: v.String("login_account_type")}
	}
	if a, p := v.String("ad_user_data"), v.String("ad_personalization"); a != "" || p != "" {
		d.consent = &Consent{AdUserData: a, AdPersonalization: p}
	}
	if t := v.String("terms_of_service"); t != "" {
		d.tos = &TermsOfService{CustomerMatchTermsOfServiceStatus: t}
	}
	d.client = httpdest.New("google_data_manager "+cfg.Name, cfg, oauth(key))
	d.client.Classify = classify
	ops := []destination.Op{destination.OpAdd, destination.OpChange, destination.OpUnsubscribe, destination.OpErase}
	if cfg.Mode == "mirror" {
		ops = append(ops, destination.OpRemove)
	}
	d.caps = destination.HTTPCapabilities(v, ops...)
	d.caps.IdentifierOf = "hashed email, phone or address"
	d.caps.Timeout = d.jobTime
	return d, nil
}

// Capabilities declares add, change, unsubscribe and erase (and remove in
// mirror mode) and
// batch_size members per call; an Apply call waits for its requests, so
// its timeout is job_timeout.
func (d *Destination) Capabilities() destination.Capabilities { return d.caps }

// JobTiming returns poll_interval and job_timeout.
func (d *Destination) JobTiming() (pollEvery, timeout time.Duration) { return d.pollEvery, d.jobTime }

// MatchReport is what the run's finished ingest requests reported: members
// received, members in error, and the last upload match rate range.
func (d *Destination) MatchReport() (destination.MatchReport, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.match, !d.match.IsZero()
}

// Close releases idle connections.
func (d *Destination) Close() error {
	if d.client.HTTP != nil {
		d.client.HTTP.CloseIdleConnections()
	}
	return nil
}

func (d *Destination) errorf(format string, args ...any) error {
	return fmt.Errorf("google_data_manager %s: "+format, append([]any{d.name}, args...)...)
}
