package customerio

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// Type is the destination type this package registers.
const Type = "customerio"

// Hosts, limits and defaults of the Track API.
const (
	USBaseURL = "https://track.customer.io"
	EUBaseURL = "https://track-eu.customer.io"

	MaxBatch      = 1000    // records per Apply: the segment endpoints take 1000 ids
	DefaultBatch  = 200     // records per Apply by default
	MaxBatchBytes = 500_000 // bytes of one /api/v2/batch request ("500kb")
	MaxEntryBytes = 32_000  // bytes of one batch entry ("32kb")
	MaxIDBytes    = 150     // a person's ID
	MaxNameBytes  = 150     // an attribute name
	MaxValueBytes = 1000    // an attribute value
	MaxAttributes = 300     // attributes of one identify call
)

// References are the vendor pages the destination follows.
var References = []string{
	"https://docs.customer.io/integrations/api/track/#tag/track_v2",
	"https://docs.customer.io/integrations/api/track/#operation/batch",
	"https://docs.customer.io/integrations/api/track/#tag/Track-Segments",
	"https://docs.customer.io/api/track/",
	"https://docs.customer.io/journeys/identifying-people/",
	"https://docs.customer.io/journeys/attributes/",
}

func init() { destination.Register(Spec()) }

// Spec returns the destination's spec.
func Spec() *destination.Spec {
	return &destination.Spec{
		Type: Type, Title: "Customer.io", Category: destination.CategoryMessaging,
		Summary:    "identifies people through the Track API v2 batch endpoint; mirror keeps a manual segment's members",
		Doc:        specDoc,
		References: References,
		Settings: append([]destination.Setting{
			{Name: "site_id", Kind: destination.KindString, Required: true, Example: "${CIO_SITE_ID}",
				Doc: "the workspace's Site ID (the basic-auth user name of the Track API)"},
			{Name: "api_key", Kind: destination.KindSecret, Required: true,
				Doc: "the workspace's Track API key (the basic-auth password)"},
			{Name: "region", Kind: destination.KindEnum, Values: []string{"us", "eu"}, Default: "us",
				Doc: "the account's data center: us (track.customer.io) or eu (track-eu.customer.io); base_url overrides it"},
			{Name: "identifier", Kind: destination.KindEnum, Values: []string{"email", "id"}, Default: "email",
				Doc: "what the sync's key is at Customer.io: identifiers.email, or identifiers.id"},
			{Name: "segment_id", Kind: destination.KindInt, Min: 1, Max: 1<<31 - 1, Example: "42",
				Doc: "ID of the manual segment mirror keeps (Segments > the segment > Usage)"},
		}, destination.HTTPSettings(destination.HTTPDefaults{
			BaseURL: USBaseURL, BatchSize: DefaultBatch, MaxBatch: MaxBatch, RateLimit: "100/s",
			Concurrency: 4, MaxConcurrency: 16, Timeout: 30 * time.Second,
		})...),
		Modes: []string{"upsert", "mirror"},
		Operations: []destination.Operation{
			{Op: destination.OpAdd, Sends: `POST /api/v2/batch {type: person, action: identify}` +
				`; mirror also POST /api/v1/segments/{segment_id}/add_customers`},
			{Op: destination.OpChange, Sends: `POST /api/v2/batch {type: person, action: identify}` +
				`; mirror also POST /api/v1/segments/{segment_id}/add_customers`},
			{Op: destination.OpRemove, Sends: "mirror: POST /api/v1/segments/{segment_id}/remove_customers (the person is kept)"},
		},
		Limits: []string{
			"500 kB per batch request and 32 kB per entry (larger batches are split, larger records rejected)",
			"1000 ids per segment request, hence at most 1000 records per batch",
			"ID 150 bytes, attribute names 150 bytes, attribute values 1000 bytes, 300 attributes per person update",
			"1000 requests per second per workspace (not strictly enforced; consistently exceeding it is throttled)",
		},
		CheckSync: checkSync,
		New:       New,
	}
}

const specDoc = `Each add or change becomes one entry of a Track API v2 batch request
(` + "`POST /api/v2/batch`" + `): ` + "`" + `{"type": "person", "identifiers": {"email": <key>}, "action": "identify", "attributes": {…}}` + "`" + `,
creating the person or updating their attributes. Every mapped field but the key's goes into
` + "`attributes`" + `; a NULL sent with ` + "`null_values: send`" + ` is JSON null, which removes the
attribute; timestamps are sent as Unix seconds. With ` + "`identifier: id`" + ` the key is
` + "`identifiers.id`" + ` instead (a mapped email field then sets the person's email).

In ` + "`mirror`" + ` mode the people are also kept in a manual segment (` + "`segment_id`" + `):
added and changed people are added to it, and removed ones are taken out of it with
` + "`remove_customers`" + ` — the person and their attributes stay in the workspace. The Track
API reference says removal by email needs people to have an ` + "`id`" + `; if your workspace
identifies people by ID, use ` + "`identifier: id`" + `.

Customer.io answers 207 with the index of each refused entry; those records are rejected
with its reason and retried by later runs. 401 stops the run (check site_id and api_key),
429 and 5xx are retried.`

// checkSync reports the sync-level problems: mirror needs a segment, the
// customer limits on the mapped fields.
func checkSync(v destination.Values, s destination.SyncInfo) []destination.Problem {
	var out []destination.Problem
	if s.Mode == "mirror" && !v.Has("segment_id") {
		out = append(out, destination.Problem{Setting: "segment_id",
			Message: "mirror mode needs `segment_id`, the manual segment whose members it keeps",
			Hint:    "create a manual segment in Customer.io and add `segment_id: <its ID>`, or use mode upsert"})
	}
	if s.Mode != "mirror" && v.Has("segment_id") {
		out = append(out, destination.Problem{Setting: "segment_id", Warning: true,
			Message: "`segment_id` is only used by mirror mode; this " + s.Mode + " sync ignores it"})
	}
	attrs := 0
	for _, f := range s.Fields {
		if s.KeyField != "" && f == s.KeyField {
			continue
		}
		attrs++
		if len(f) > MaxNameBytes {
			out = append(out, destination.Problem{Message: fmt.Sprintf("field %q is longer than the %d bytes an attribute name may have", f, MaxNameBytes)})
		}
		if f == "_update" || f == "cio_id" {
			out = append(out, destination.Problem{Message: fmt.Sprintf("field %q is reserved by the Track API", f),
				Hint: "map the trait to another attribute name"})
		}
	}
	if attrs > MaxAttributes {
		out = append(out, destination.Problem{Message: fmt.Sprintf("%d attributes, more than the %d one update may set", attrs, MaxAttributes)})
	}
	if v.String("identifier") == "email" && s.Key != "" && !strings.Contains(strings.ToLower(s.Key), "email") {
		out = append(out, destination.Problem{Warning: true,
			Message: fmt.Sprintf("the key trait %q is sent as identifiers.email", s.Key),
			Hint:    "key the sync on an email trait, or set `identifier: id` if the key is a person ID"})
	}
	return out
}

// Destination delivers batches to one Customer.io workspace. It is safe for
// concurrent use.
type Destination struct {
	client     *httpdest.Client
	caps       destination.Capabilities
	identifier string // email or id
	keyField   string
	mirror     bool
	segment    int
}

var _ destination.Destination = (*Destination)(nil)

// New opens a customerio destination.
func New(_ context.Context, cfg destination.Config) (destination.Destination, error) {
	v := cfg.Values
	d := &Destination{identifier: v.String("identifier"), keyField: cfg.KeyField,
		mirror: cfg.Mode == "mirror", segment: v.Int("segment_id")}
	if d.identifier == "" {
		d.identifier = "email"
	}
	if d.mirror && d.segment == 0 {
		return nil, fmt.Errorf("customerio %s: mirror mode needs segment_id", cfg.Name)
	}
	d.client = httpdest.New("customerio "+cfg.Name, cfg, httpdest.Basic(v.String("site_id"), v.String("api_key")))
	if strings.TrimSpace(cfg.Settings["base_url"]) == "" && v.String("region") == "eu" {
		d.client.BaseURL, _ = url.Parse(EUBaseURL)
	}
	if d.client.BaseURL == nil {
		d.client.BaseURL, _ = url.Parse(USBaseURL)
	}
	d.client.Classify = classify
	ops := []destination.Op{destination.OpAdd, destination.OpChange}
	if d.mirror {
		ops = append(ops, destination.OpRemove)
	}
	d.caps = destination.HTTPCapabilities(v, ops...)
	if d.caps.MaxBatch == 0 {
		d.caps.MaxBatch = DefaultBatch
	}
	d.caps.IdentifierOf = d.identifier
	return d, nil
}

// classify refines the default classification: a redirect (a US key sent
// to the EU host, or the reverse) stops the run with a hint.
func classify(r *httpdest.Response) (error, bool) {
	if r.Status >= 300 && r.Status < 400 {
		return &destination.BatchError{Status: r.Status, Fatal: true,
			Err: fmt.Errorf("%s %s: %d redirect to %q: set `region` (us or eu) or `base_url` to the account's Track API host; the run stops",
				r.Method, r.URL, r.Status, r.Header.Get("Location"))}, true
	}
	return nil, false
}

// Capabilities declares add and change (and remove in mirror mode),
// batch_size, rate_limit, concurrency and timeout.
func (d *Destination) Capabilities() destination.Capabilities { return d.caps }

// Close releases idle connections.
func (d *Destination) Close() error {
	if d.client.HTTP != nil {
		d.client.HTTP.CloseIdleConnections()
	}
	return nil
}

// segmentPath is the membership endpoint of the segment.
func (d *Destination) segmentPath(action string) string {
	return "/api/v1/segments/" + strconv.Itoa(d.segment) + "/" + action
}

// idType is the id_type query value naming the key's kind.
func (d *Destination) idType() string { return d.identifier }
