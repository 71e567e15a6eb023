package guarantee_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/delivery"
	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/destinationtest/braze"
	"github.com/cdpkit/cdp/sync/destinationtest/customerio"
	gdm "github.com/cdpkit/cdp/sync/destinationtest/googledatamanager"
	"github.com/cdpkit/cdp/sync/destinationtest/hubspot"
	"github.com/cdpkit/cdp/sync/destinationtest/intercom"
	"github.com/cdpkit/cdp/sync/destinationtest/iterable"
	"github.com/cdpkit/cdp/sync/destinationtest/klaviyo"
	"github.com/cdpkit/cdp/sync/destinationtest/mailchimp"
	metaca "github.com/cdpkit/cdp/sync/destinationtest/metacustomaudience"
	"github.com/cdpkit/cdp/sync/destinationtest/salesforce"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/sync/hashing"
	"github.com/cdpkit/cdp/sync/synctest"
	"github.com/cdpkit/cdp/warehouse"

	_ "github.com/cdpkit/cdp/sync/destinations/all"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// vendor is one connector's contract server.
type vendor struct {
	name string
	new  func(t *testing.T) destinationtest.Vendor
}

// vendors lists every connector the suite drives.
var vendors = []vendor{
	{"hubspot", func(t *testing.T) destinationtest.Vendor { return hubspot.New(t) }},
	{"salesforce", func(t *testing.T) destinationtest.Vendor { return salesforce.New(t).WithFirstName() }},
	{"salesforce_bulk", func(t *testing.T) destinationtest.Vendor { return salesforceBulk{salesforce.New(t).WithFirstName()} }},
	{"braze", func(t *testing.T) destinationtest.Vendor { return braze.New(t) }},
	{"klaviyo", func(t *testing.T) destinationtest.Vendor { return klaviyo.New(t) }},
	{"mailchimp", func(t *testing.T) destinationtest.Vendor { return mailchimp.New(t) }},
	{"iterable", func(t *testing.T) destinationtest.Vendor { return iterable.New(t) }},
	{"customerio", func(t *testing.T) destinationtest.Vendor { return customerio.New(t) }},
	{"intercom", func(t *testing.T) destinationtest.Vendor { return intercom.New(t) }},
	{"google_data_manager", func(t *testing.T) destinationtest.Vendor { return gdm.New(t) }},
	{"meta_custom_audience", func(t *testing.T) destinationtest.Vendor { return metaca.New(t) }},
}

// salesforceBulk is the Salesforce server with the connector set to Bulk
// API 2.0 ingest jobs (asynchronous: submitted, polled, resumed after a
// crash).
type salesforceBulk struct{ *salesforce.Server }

// Settings are the server's bulk settings, 50 records per job.
func (s salesforceBulk) Settings(mode string) map[string]string { return s.BulkSettings(mode, 50) }

// forEachVendor runs fn as a parallel subtest per vendor.
func forEachVendor(t *testing.T, fn func(t *testing.T, v vendor)) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			fn(t, v)
		})
	}
}

// modes lists the modes the vendor's spec supports.
func modes(t *testing.T, typ string) []string {
	s, err := destination.Lookup(typ)
	if err != nil {
		// a variant of a connector (salesforce_bulk is a salesforce destination)
		base, _, _ := strings.Cut(typ, "_")
		if s, err = destination.Lookup(base); err != nil {
			t.Fatal(err)
		}
	}
	return s.Modes
}

// mainMode is the mode the fault, crash and lock tests use: mirror where
// the connector has it (it sends all three operations), else upsert.
func mainMode(t *testing.T, typ string) string {
	for _, m := range modes(t, typ) {
		if m == "mirror" {
			return m
		}
	}
	return "upsert"
}

// fieldMaps maps the suite's traits to the vendor's fields.
func fieldMaps(m destinationtest.Mapping) []models.FieldMap {
	var out []models.FieldMap
	for _, f := range []models.FieldMap{{Field: m.Email, Trait: "email"}, {Field: m.Name, Trait: "first_name"}, {Field: m.LTV, Trait: "ltv"}} {
		if f.Field != "" { // a trait the vendor has no place for
			f.Hash = m.Hash[f.Field]
			out = append(out, f)
		}
	}
	extra := make([]string, 0, len(m.Extra))
	for f := range m.Extra {
		extra = append(extra, f)
	}
	sort.Strings(extra)
	for _, f := range extra {
		out = append(out, models.FieldMap{Field: f, Trait: m.Extra[f], Hash: m.Hash[f]})
	}
	return out
}

// project declares the vendor's destination and one sync of segment vip.
func project(typ string, settings map[string]string, fields []models.FieldMap, mode string) *models.Project {
	d := &models.Destination{Name: "dest", Type: typ, Settings: map[string]string{}}
	for k, v := range settings {
		if k == "rate_limit" {
			d.RateLimit = v // the loader keeps rate_limit apart from the other settings
			continue
		}
		d.Settings[k] = v
	}
	return &models.Project{Name: "t", Entity: "customer", Destinations: []*models.Destination{d},
		Syncs: []*models.Sync{{Name: "vip_sync", Segment: "vip", Destination: "dest", Mode: mode, Key: "email",
			Fields: fields, NullValues: "send"}}}
}

// newEngine is an engine syncing the world in e to the vendor.
func newEngine(e synctest.Env, v destinationtest.Vendor, mode string) *engine.Engine {
	return &engine.Engine{W: e.W, Project: project(v.Type(), v.Settings(mode), fieldMaps(v.Fields()), mode), Tables: synctest.Tables(e.W)}
}

// fastDelivery keeps retries quick in tests.
var fastDelivery = delivery.Options{BaseBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond}

func run(t *testing.T, eng *engine.Engine, o engine.RunOptions) *engine.Result {
	t.Helper()
	if o.RunID == "" {
		o.RunID = fmt.Sprintf("run-%d", time.Now().UnixNano())
	}
	if o.Delivery.BaseBackoff == 0 {
		o.Delivery = fastDelivery
	}
	res, err := eng.Run(context.Background(), eng.Project.Syncs[0], o)
	if err != nil {
		t.Fatalf("sync run: %v (%+v)", err, res)
	}
	return res
}

// plannedTotal is what a plan right now would deliver.
func plannedTotal(t *testing.T, eng *engine.Engine) int64 {
	t.Helper()
	p, err := eng.Plan(context.Background(), eng.Project.Syncs[0], engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Counts.Total()
}

// same fails the test when the vendor's audience differs from want.
func same(t *testing.T, v destinationtest.Vendor, mode string, want map[string]map[string]any, label string) {
	t.Helper()
	got, exp := v.Audience(mode), synctest.Texts(hashed(v.Fields(), want))
	if d := synctest.Diff(got, exp); len(d) > 0 {
		t.Fatalf("%s: the vendor holds %d records, the model %d:\n%v", label, len(got), len(exp), d)
	}
}

// hashed is the model as a vendor that holds only hashes has it (see
// destinationtest.Mapping): keyed by the hashed email, each field the
// vendor holds hashed with its field's profile, the others left out. A
// vendor without hashed fields gets the model as it is.
func hashed(m destinationtest.Mapping, recs map[string]map[string]any) map[string]map[string]any {
	if len(m.Hash) == 0 {
		return recs
	}
	fields := map[string]string{"email": m.Email, "name": m.Name, "ltv": m.LTV}
	out := map[string]map[string]any{}
	for _, r := range recs {
		rec := map[string]any{}
		for name, v := range r {
			f := fields[name]
			if f == "" || v == nil {
				continue
			}
			text := fmt.Sprint(v)
			if p := hashing.Lookup(m.Hash[f]); p != nil {
				h, ok := p.Reference(text)
				if !ok {
					continue
				}
				text = h
			}
			rec[name] = text
		}
		if e, ok := rec["email"].(string); ok {
			out[e] = rec
		}
	}
	return out
}

// count runs a COUNT(*) query.
func count(t *testing.T, w warehouse.Warehouse, q string) int64 {
	t.Helper()
	rows, err := w.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	return n
}
