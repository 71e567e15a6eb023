package salesforce

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// Type is the destination type this package registers.
const Type = "salesforce"

// Limits and defaults.
const (
	// MaxCollection is the most records one sObject Collections request
	// carries (upsert, create or delete).
	MaxCollection = 200
	// MaxBulkBatch is the most records one Bulk API 2.0 job carries here.
	// Bulk API 2.0 itself takes up to 150 MB of base64 per upload (about
	// 100 MB of CSV); 10,000 records keep a job's CSV far below that even
	// with long text fields, and keep a failed job cheap to resend.
	MaxBulkBatch = 10000
	// MaxBulkUpload is the most CSV bytes one upload carries (150 MB of
	// base64 once Salesforce encodes it).
	MaxBulkUpload = 100 << 20
	// DefaultAPIVersion is the REST API version used unless api_version says.
	DefaultAPIVersion = "v61.0"
	// DefaultLoginURL is the production login host.
	DefaultLoginURL = "https://login.salesforce.com"
)

var (
	apiVersionRe = regexp.MustCompile(`^v[1-9][0-9]\.0$`)
	apiNameRe    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

func init() {
	settings := []destination.Setting{
		{Name: "sobject", Kind: destination.KindString, Default: "Contact",
			Doc: "API name of the object records are written to (Contact, Lead, a custom object)"},
		{Name: "external_id_field", Kind: destination.KindString, Required: true, Example: "External_Email__c",
			Doc: "API name of the object's External ID field; it receives the sync key and matches upserts"},
		{Name: "api_version", Kind: destination.KindString, Default: DefaultAPIVersion,
			Doc: "REST API version, vNN.0 (sObject Collections upsert needs v46.0 or later)"},
		{Name: "login_url", Kind: destination.KindURL, Default: DefaultLoginURL,
			Doc: "OAuth host: https://login.salesforce.com, https://test.salesforce.com for sandboxes, or a My Domain"},
		{Name: "client_id", Kind: destination.KindString, Required: true, Example: "3MVG9…",
			Doc: "consumer key of the connected app"},
		{Name: "username", Kind: destination.KindString, Example: "integration@example.com",
			Doc: "JWT bearer flow: the Salesforce user the sync acts as"},
		{Name: "private_key", Kind: destination.KindSecret,
			Doc: "JWT bearer flow: PEM RSA private key whose certificate is uploaded to the connected app"},
		{Name: "client_secret", Kind: destination.KindSecret,
			Doc: "refresh-token flow: consumer secret of the connected app"},
		{Name: "refresh_token", Kind: destination.KindSecret,
			Doc: "refresh-token flow: a refresh token issued to the connected app"},
		{Name: "bulk", Kind: destination.KindBool, Default: "false",
			Doc: "write through Bulk API 2.0 ingest jobs (for large syncs) instead of sObject Collections"},
		{Name: "poll_interval", Kind: destination.KindDuration, Default: "10s",
			Doc: "bulk: how often a running job's state is asked for"},
		{Name: "job_timeout", Kind: destination.KindDuration, Default: "30m",
			Doc: "bulk: how long a job may run before its records are left to a later run"},
	}
	settings = append(settings, destination.HTTPSettings(destination.HTTPDefaults{
		BatchSize: MaxCollection, MaxBatch: MaxBulkBatch, RateLimit: "10/s",
		Concurrency: 2, MaxConcurrency: 25, Timeout: 60 * time.Second,
	})...)
	destination.Register(&destination.Spec{
		Type: Type, Title: "Salesforce", Category: destination.CategoryCRM,
		Summary:    "upserts records (Contacts by default) by an External ID field; mirror deletes removed ones",
		Doc:        specDoc,
		References: References,
		Settings:   settings,
		Modes:      []string{"upsert", "mirror", "insert"},
		Operations: []destination.Operation{
			{Op: destination.OpAdd, Sends: "PATCH /services/data/vNN.0/composite/sobjects/{sobject}/{external_id_field} (bulk: an upsert ingest job); " +
				"insert mode: POST /services/data/vNN.0/composite/sobjects (bulk: an insert ingest job)"},
			{Op: destination.OpChange, Sends: "PATCH /services/data/vNN.0/composite/sobjects/{sobject}/{external_id_field} (bulk: an upsert ingest job)"},
			{Op: destination.OpRemove, Sends: "DELETE /services/data/vNN.0/composite/sobjects?ids=… (bulk: a delete ingest job)"},
			{Op: destination.OpErase, Sends: "DELETE /services/data/vNN.0/composite/sobjects?ids=…&allOrNone=false by the stored Id " +
				"(GET /services/data/vNN.0/sobjects/{sobject}/{external_id_field}/{key} first when it is unknown; bulk: a delete ingest job), in every mode. " +
				"Receipt: the deleted Id; a record Salesforce does not hold is confirmed as nothing to erase"},
		},
		Limits: []string{
			fmt.Sprintf("%d records per sObject Collections request (batch_size above that needs bulk: true)", MaxCollection),
			fmt.Sprintf("%d records per Bulk API 2.0 job here; Salesforce takes up to 150 MB (base64) per upload", MaxBulkBatch),
			"the org's daily API request allocation (Sforce-Limit-Info: api-usage=N/M); no per-second limit is published",
			"25 long-running (over 20 s) requests at once in production orgs",
		},
		CheckSettings: checkValues,
		CheckSync:     checkSync,
		New:           New,
	})
}

// References are the Salesforce pages the connector and its contract
// server follow.
var References = []string{
	"https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-upsert.html",
	"https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-delete.html",
	"https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_upsert.htm",
	"https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm",
	"https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm",
	"https://developer.salesforce.com/docs/platform/api-asynch/guide/create-job.html",
	"https://developer.salesforce.com/docs/platform/api-asynch/guide/upload-job-data.html",
	"https://developer.salesforce.com/docs/platform/api-asynch/guide/close-job.html",
	"https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/get_job_info.htm",
	"https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/get_job_successful_results.htm",
	"https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/get_job_failed_results.htm",
	"https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/datafiles_csv_valid_record_rows.htm",
	"https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm&type=5",
	"https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_refresh_token_flow.htm&type=5",
	"https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm",
}

const specDoc = `Writes each record to a Salesforce object (Contact unless ` + "`sobject`" + ` says), matched by an
External ID field that receives the sync key: adds and changes are upserts through sObject Collections
(200 records a request, ` + "`allOrNone: false`" + `, one result per record), and in mirror mode a record
that leaves the audience is deleted by its Salesforce Id. The Id of every upserted record is kept in the
sync's state, so deletions need no lookup; a removal whose Id is unknown is looked up once by its External ID.
Insert mode creates records instead (POST sObject Collections) and never changes one: a record Salesforce
refuses as a duplicate of its External ID (which must then be unique) is already there and counts as delivered.

With ` + "`bulk: true`" + ` each batch (up to 10,000 records) becomes Bulk API 2.0 ingest jobs (an upsert job, and
a delete job for removals) that the sync polls every ` + "`poll_interval`" + ` until they finish.

Authentication is OAuth 2.0 against ` + "`login_url`" + `: the JWT bearer flow (` + "`client_id`, `username`, `private_key`" + `)
or the refresh-token flow (` + "`client_id`, `client_secret`, `refresh_token`" + `). Requests go to the
` + "`instance_url`" + ` the token response names, unless ` + "`base_url`" + ` is set (a proxy or a test server), which wins.
A null field with ` + "`null_values: send`" + ` clears the Salesforce field (JSON null; ` + "`#N/A`" + ` in bulk CSV).

` + "`cdp forget`" + ` (erase) deletes the person's record in every mode, as a mirror removal does (by the stored Id,
or looked up by its External ID), and reports the deleted Id as the receipt. Salesforce moves a deleted record
to the Recycle Bin, which it empties after 15 days; empty it sooner in Salesforce when that is too late.`

// checkSync reports settings that do not fit together and sync mappings
// that cannot work.
func checkSync(v destination.Values, s destination.SyncInfo) []destination.Problem {
	var probs []destination.Problem
	ext := v.String("external_id_field")
	if slices.Contains(s.Fields, ext) && s.KeyField != ext {
		probs = append(probs, destination.Problem{Setting: "external_id_field",
			Message: fmt.Sprintf("field %s is the external_id_field, which receives the sync key; it cannot take another trait", ext),
			Hint:    "map the key trait to it, or drop that mapping: the key is written there anyway"})
	}
	return probs
}

// checkValues reports problems of the settings taken together.
func checkValues(v destination.Values) []destination.Problem {
	var probs []destination.Problem
	if ver := v.String("api_version"); !apiVersionRe.MatchString(ver) {
		probs = append(probs, destination.Problem{Setting: "api_version",
			Message: fmt.Sprintf("api_version %q is not of the form vNN.0", ver), Hint: "e.g. " + DefaultAPIVersion})
	}
	for _, name := range []string{"sobject", "external_id_field"} {
		if val := v.String(name); val != "" && !apiNameRe.MatchString(val) {
			probs = append(probs, destination.Problem{Setting: name,
				Message: fmt.Sprintf("%s %q is not a Salesforce API name", name, val), Hint: "e.g. Contact, External_Email__c"})
		}
	}
	if !v.Bool("bulk") && v.Int("batch_size") > MaxCollection {
		probs = append(probs, destination.Problem{Setting: "batch_size",
			Message: fmt.Sprintf("batch_size %d is above the %d records an sObject Collections request takes", v.Int("batch_size"), MaxCollection),
			Hint:    fmt.Sprintf("lower it to %d or less, or set bulk: true (up to %d)", MaxCollection, MaxBulkBatch)})
	}
	if _, err := flowOf(v); err != nil {
		probs = append(probs, destination.Problem{Message: err.Error(),
			Hint: "JWT bearer: client_id, username, private_key; refresh token: client_id, client_secret, refresh_token"})
	}
	return probs
}

// Destination writes to one Salesforce object. It is safe for concurrent
// use.
type Destination struct {
	name      string
	mode      string
	sobject   string
	extField  string
	version   string // e.g. v61.0
	fields    []string
	batchSize int
	bulk      bool
	poll      time.Duration
	jobWait   time.Duration
	caps      destination.Capabilities
	client    *httpdest.Client
	sess      *session
}

var (
	_ destination.Destination      = (*Destination)(nil)
	_ destination.AsyncDestination = (*Destination)(nil)
	_ destination.SchemaChecker    = (*Destination)(nil)
)

// New opens a Salesforce destination from its parsed settings.
func New(_ context.Context, cfg destination.Config) (destination.Destination, error) {
	v := cfg.Values
	for _, p := range checkValues(v) {
		return nil, fmt.Errorf("salesforce %s: %s (%s)", cfg.Name, p.Message, p.Hint)
	}
	sess, err := newSession(v)
	if err != nil {
		return nil, fmt.Errorf("salesforce %s: %v", cfg.Name, err)
	}
	d := &Destination{
		name: cfg.Name, mode: cfg.Mode, sobject: v.String("sobject"), extField: v.String("external_id_field"),
		version: v.String("api_version"), fields: cfg.Fields, batchSize: v.Int("batch_size"),
		bulk: v.Bool("bulk"), poll: v.Duration("poll_interval"), jobWait: v.Duration("job_timeout"),
		sess: sess,
	}
	if d.bulk && cfg.Settings["batch_size"] == "" {
		d.batchSize = MaxBulkBatch
	}
	d.client = httpdest.New("salesforce "+cfg.Name, cfg, sess)
	d.client.Classify = classify
	d.caps = destination.HTTPCapabilities(v, destination.OpAdd, destination.OpChange, destination.OpRemove)
	d.caps.MaxBatch, d.caps.IdentifierOf = d.batchSize, d.sobject+"."+d.extField
	switch cfg.Mode {
	case "mirror":
	case "insert":
		d.caps.Ops = d.caps.Ops[:1]
	default:
		d.caps.Ops = d.caps.Ops[:2]
	}
	d.caps.Ops = append(d.caps.Ops, destination.OpErase)
	if d.bulk {
		// One Apply is a whole job: submit, then poll until it is done.
		d.caps.Timeout = d.jobWait
		return d, nil
	}
	return rest{d}, nil
}

// rest is the destination without bulk: sObject Collections only, so the
// engine does not take it for an asynchronous one.
type rest struct{ d *Destination }

// Capabilities, Apply, Close and CheckFields are the Destination's.
func (r rest) Capabilities() destination.Capabilities { return r.d.Capabilities() }

// Apply delivers one batch through sObject Collections.
func (r rest) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	return r.d.Apply(ctx, batch)
}

// Close releases idle connections.
func (r rest) Close() error { return r.d.Close() }

// CheckFields checks the mapped fields against the sObject's describe.
func (r rest) CheckFields(ctx context.Context, fields []destination.FieldInfo) ([]destination.FieldProblem, error) {
	return r.d.CheckFields(ctx, fields)
}

// Capabilities declares add and change (add only in insert mode, and
// remove too in mirror mode), erase in every mode,
// batch_size records per call, the rate limit, concurrency and timeout.
func (d *Destination) Capabilities() destination.Capabilities { return d.caps }

// Close releases idle connections.
func (d *Destination) Close() error {
	if d.client.HTTP != nil {
		d.client.HTTP.CloseIdleConnections()
	}
	return nil
}

// dataPath is the path of a REST resource under /services/data/vNN.0.
func (d *Destination) dataPath(rest string) string {
	return "/services/data/" + d.version + rest
}

// errorf prefixes a message with the destination.
func (d *Destination) errorf(format string, args ...any) error {
	return fmt.Errorf("salesforce %s: "+format, append([]any{d.name}, args...)...)
}

// nothingToErase is the receipt of an erasure whose record Salesforce does
// not hold (never created, or already deleted).
const nothingToErase = "not found: nothing to erase"

// deletes reports whether an operation deletes the record (a mirror
// removal or an erasure).
func deletes(op destination.Op) bool { return op == destination.OpRemove || op == destination.OpErase }

// receipts keeps the receipts of a batch's confirmed erasures only: a
// removal has none.
func receipts(batch []destination.Record, out []destination.Result) {
	for i := range out {
		if batch[i].Op != destination.OpErase || out[i].Err != nil {
			out[i].Receipt = ""
		}
	}
}

// itoa is strconv.Itoa, short.
func itoa(i int) string { return strconv.Itoa(i) }
