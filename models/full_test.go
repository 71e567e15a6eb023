package models

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// fullEnv is the environment the testdata/full project is loaded with. The
// postgres, snowflake and bigquery variables are deliberately unset: only the
// selected target (local) needs its variables.
var fullEnv = map[string]string{"CRM_HOOK_URL": "https://crm.example/hook", "CRM_HOOK_SECRET": "whsec_1", "MIN_ORDERS": "3", "ADS_TAG": "cdp",
	"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/x", "ALERT_SECRET": "whsec_2"}

func loadFull(t *testing.T) *Project {
	t.Helper()
	p, ds := LoadWithOptions("testdata/full", LoadOptions{Getenv: mapEnv(fullEnv)})
	if len(ds) != 0 {
		t.Fatalf("unexpected diagnostics:\n%s", ds.Error())
	}
	return p
}

func TestFullProjectPositions(t *testing.T) {
	p := loadFull(t)
	abs, _ := filepath.Abs("testdata/full")
	if p.Root != abs {
		t.Errorf("Root = %q", p.Root)
	}
	for _, tc := range []struct {
		got  Pos
		want string
	}{
		{p.Targets["prod"].Pos, "cdp.yml:9:3"},
		{p.Source("web_events").Pos, "models/sources.yml:11:5"},
		{p.Source("crm_contacts").Identifiers[2].Pos, "models/sources.yml:10:9"},
		{p.Identity.Pos, "models/identity.yml:2:3"},
		{p.IDType("phone").Pos, "models/identity.yml:8:7"},
		{p.Trait("is_vip").Pos, "models/traits.yml:30:5"},
		{p.Segment("vip_buyers").Pos, "models/marketing/segments.yaml:2:5"},
		{p.Segment("vip_buyers").Where.Children[2].Pos, "models/marketing/segments.yaml:8:11"},
		{p.Destination("ads").Pos, "models/marketing/syncs.yml:11:5"},
		{p.Sync("everyone_to_ads").Pos, "models/marketing/syncs.yml:29:5"},
		{p.Serve.Pos, "cdp.yml:21:3"},
		{p.Alerts[0].Pos, "cdp.yml:27:5"},
		{p.Alerts[2].Pos, "cdp.yml:36:5"},
	} {
		if tc.got.String() != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}

func TestFullProjectModel(t *testing.T) {
	p := loadFull(t)
	clearPositions(p)
	p.Root = ""
	want := fullProjectWant()
	for _, part := range []struct {
		name      string
		got, want any
	}{
		{"settings", []any{p.Name, p.Entity, p.ModelPaths, p.SeedPaths, p.DefaultTarget, p.TargetOrder},
			[]any{want.Name, want.Entity, want.ModelPaths, want.SeedPaths, want.DefaultTarget, want.TargetOrder}},
		{"targets", p.Targets, want.Targets},
		{"sources", p.Sources, want.Sources},
		{"identity", p.Identity, want.Identity},
		{"traits", p.Traits, want.Traits},
		{"segments", p.Segments, want.Segments},
		{"destinations", p.Destinations, want.Destinations},
		{"syncs", p.Syncs, want.Syncs},
		{"consent", p.Consent, want.Consent},
		{"suppress", p.Suppressions, want.Suppressions},
		{"serve", p.Serve, want.Serve},
		{"alerts", p.Alerts, want.Alerts},
	} {
		if !reflect.DeepEqual(part.got, part.want) {
			g, _ := json.MarshalIndent(part.got, "", "  ")
			w, _ := json.MarshalIndent(part.want, "", "  ")
			t.Errorf("%s differ\ngot:  %s\nwant: %s", part.name, g, w)
		}
	}
}

func TestFullProjectDeps(t *testing.T) {
	p := loadFull(t)
	if got := p.TraitDeps(p.Trait("vip_label")); !reflect.DeepEqual(got, []string{"is_vip"}) {
		t.Errorf("TraitDeps(vip_label) = %v", got)
	}
	if got := p.TraitDeps(p.Trait("is_vip")); !reflect.DeepEqual(got, []string{"lifetime_value"}) {
		t.Errorf("TraitDeps(is_vip) = %v", got)
	}
	if p.TraitDeps(p.Trait("email")) != nil {
		t.Error("from traits have no deps")
	}
	if got := p.SegmentDeps(p.Segment("vip_buyers")); !reflect.DeepEqual(got, []string{"churned"}) {
		t.Errorf("SegmentDeps = %v", got)
	}
}

func clearPositions(p *Project) {
	for _, t := range p.Targets {
		t.Pos = Pos{}
	}
	for _, s := range p.Sources {
		s.Pos = Pos{}
		for _, id := range s.Identifiers {
			id.Pos = Pos{}
		}
	}
	if p.Identity != nil {
		p.Identity.Pos = Pos{}
		for _, t := range p.Identity.IDTypes {
			t.Pos = Pos{}
		}
	}
	for _, t := range p.Traits {
		t.Pos = Pos{}
	}
	if p.Consent != nil {
		p.Consent.Pos = Pos{}
		for _, u := range p.Consent.Purposes {
			u.Pos = Pos{}
			for _, f := range u.From {
				f.Pos = Pos{}
			}
		}
	}
	for _, s := range p.Suppressions {
		s.Pos = Pos{}
		for _, id := range s.Identifiers {
			id.Pos = Pos{}
		}
	}
	var clearCond func(c *Condition)
	clearCond = func(c *Condition) {
		if c == nil {
			return
		}
		c.Pos = Pos{}
		for _, ch := range c.Children {
			clearCond(ch)
		}
	}
	for _, s := range p.Segments {
		s.Pos = Pos{}
		clearCond(s.Where)
	}
	for _, d := range p.Destinations {
		d.Pos, d.SettingPos = Pos{}, nil
	}
	for _, s := range p.Syncs {
		s.Pos = Pos{}
	}
	if p.Serve != nil {
		p.Serve.Pos = Pos{}
	}
	for _, a := range p.Alerts {
		a.Pos = Pos{}
	}
}

func fullProjectWant() *Project {
	dur := func(n int, unit byte, text string) *Duration { return &Duration{N: n, Unit: unit, Text: text} }
	trait := func(name, op string, v any) *Condition {
		return &Condition{Kind: CondTrait, Trait: name, Op: op, Value: v}
	}
	return &Project{
		Name: "retail", Entity: "shopper", ModelPaths: []string{"models"}, SeedPaths: []string{"seeds", "more_seeds"},
		DefaultTarget: "local", TargetOrder: []string{"local", "pg", "prod", "bq"},
		Targets: map[string]*Target{
			"local": {Name: "local", Type: "duckdb", Schema: "cdp", Settings: map[string]string{"path": ".cdp/retail.duckdb"}},
			"pg":    {Name: "pg", Type: "postgres", Schema: "cdp", Settings: map[string]string{"dsn": "${CDP_POSTGRES_DSN}"}},
			"prod": {Name: "prod", Type: "snowflake", Schema: "CDP", Settings: map[string]string{
				"account": "${SNOWFLAKE_ACCOUNT}", "user": "${SNOWFLAKE_USER}", "password": "${SNOWFLAKE_PASSWORD}",
				"role": "TRANSFORMER", "warehouse": "COMPUTE_WH", "database": "ANALYTICS"}},
			"bq": {Name: "bq", Type: "bigquery", Schema: "cdp_eu", Settings: map[string]string{
				"project": "acme", "dataset": "cdp_eu", "location": "EU", "credentials_file": "${GOOGLE_APPLICATION_CREDENTIALS}"}},
		},
		Sources: []*Source{
			{Name: "crm_contacts", Table: "raw.crm_contacts", PrimaryKey: "contact_id", Timestamp: "updated_at", Identifiers: []*SourceIdentifier{
				{Column: "email", Type: "email"}, {Column: "phone", Type: "phone"}, {Expr: "'crm-' || contact_id", Type: "crm_id"}}},
			{Name: "web_events", Table: "raw.web_events", Timestamp: "occurred_at", Event: "event_name", Identifiers: []*SourceIdentifier{
				{Column: "anonymous_id", Type: "anonymous_id"}, {Column: "user_id", Type: "user_id"}}},
			{Name: "orders", SQL: "select order_id, customer_email, amount, status, ordered_at\nfrom raw.orders\n", PrimaryKey: "order_id",
				Timestamp: "ordered_at", Identifiers: []*SourceIdentifier{{Column: "customer_email", Type: "email"}}},
			{Name: "shop_customers", Table: "raw.shop_customers", Identifiers: []*SourceIdentifier{
				{Column: "email", Type: "email"}, {Column: "user_id", Type: "user_id"}}},
		},
		Identity: &Identity{MaxProfileIdentifiers: 500, IDTypes: []*IDType{
			{Name: "user_id", Normalize: "trim", Limit: 1, Rank: 0},
			{Name: "email", Normalize: "email", Exclude: []string{`@example\.com$`, `^test@`}, Rank: 1},
			{Name: "phone", Normalize: "phone", DefaultCountry: "FR", Limit: 3, Rank: 2},
			{Name: "crm_id", Normalize: "trim", Rank: 3},
			{Name: "anonymous_id", Normalize: "lowercase", Rank: 4},
		}},
		Traits: []*Trait{
			{Name: "email", From: []ColumnRef{{"crm_contacts", "email"}}, Pick: PickLatest},
			{Name: "first_name", From: []ColumnRef{{"crm_contacts", "first_name"}, {"shop_customers", "first_name"}}, Pick: PickMostFrequent},
			{Name: "country", From: []ColumnRef{{"crm_contacts", "country"}}, Pick: PickLatest},
			{Name: "lifetime_value", From: []ColumnRef{{"orders", "amount"}}, Aggregate: AggSum, Where: "status = 'paid'", Type: TypeNumber},
			{Name: "orders_90d", From: []ColumnRef{{"orders", ""}}, Aggregate: AggCount, Within: dur(90, 'd', "90d")},
			{Name: "first_order_at", From: []ColumnRef{{"orders", "ordered_at"}}, Pick: PickEarliest, Type: TypeTimestamp},
			{Name: "email_opt_in", From: []ColumnRef{{"shop_customers", "opt_in"}}, Pick: PickAny, Type: TypeBoolean},
			{Name: "last_seen_at", From: []ColumnRef{{"web_events", "occurred_at"}}, Pick: PickMax},
			{Name: "is_vip", Expr: "lifetime_value >= 1000", Type: TypeBoolean},
			{Name: "vip_label", Expr: "case when is_vip then 'vip: lifetime_value' else 'regular' end"},
		},
		Segments: []*Segment{
			{Name: "vip_buyers", Description: "High-value buyers active in the last month", Holdout: 0.10, Where: &Condition{Kind: CondAll, Children: []*Condition{
				trait("lifetime_value", "gte", int64(500)),
				trait("country", "in", []any{"FR", "DE", "NL"}),
				{Kind: CondEvent, Event: "order_completed", EventSource: "web_events", Count: &CountCond{"gte", 2},
					EventWithin: dur(30, 'd', "30d"), EventWhere: "properties_total > 20"},
				{Kind: CondNot, Children: []*Condition{{Kind: CondSegment, Segment: "churned"}}},
				{Kind: CondAny, Children: []*Condition{
					trait("email_opt_in", "eq", true),
					trait("last_seen_at", "within", dur(7, 'd', "7d")),
				}},
			}}},
			{Name: "churned", Holdout: 0.05, Where: &Condition{Kind: CondEvent, Event: "page_viewed", EventSource: "web_events",
				Count: &CountCond{"eq", 0}, EventWithin: dur(8, 'w', "8w")}},
			{Name: "every_operator", Where: &Condition{Kind: CondAny, Children: []*Condition{
				trait("country", "ne", "US"),
				trait("orders_90d", "gt", int64(1)),
				trait("orders_90d", "lt", int64(10)),
				trait("lifetime_value", "lte", 99.5),
				trait("country", "not_in", []any{"US", "CA"}),
				trait("email", "contains", "@acme"),
				trait("email", "starts_with", "ana"),
				trait("email", "ends_with", ".fr"),
				trait("lifetime_value", "between", []any{int64(10), 20.5}),
				trait("first_name", "is_set", false),
				trait("first_order_at", "before", time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)),
				trait("first_order_at", "after", dur(12, 'h', "12h")),
				trait("first_order_at", "after", time.Date(2024, 1, 31, 12, 0, 0, 0, time.UTC)),
				trait("email", "eq", "null_string"),
				trait("orders_90d", "eq", int64(3)),
				{Kind: CondSegment, Segment: "vip_buyers"},
			}}},
		},
		Destinations: []*Destination{
			{Name: "crm_hook", Type: "webhook", RateLimit: "20/s", Settings: map[string]string{"url": "https://crm.example/hook", "secret": "whsec_1"}},
			{Name: "ads", Type: "google_ads", RateLimit: "100/m", Paused: true, Settings: map[string]string{"customer_id": "1234567890"}},
		},
		Syncs: []*Sync{
			{Name: "vip_to_crm", Segment: "vip_buyers", Destination: "crm_hook", Mode: "mirror", Key: "email",
				Fields:   []FieldMap{{Field: "email", Trait: "email"}, {Field: "first_name", Trait: "first_name"}, {Field: "ltv", Trait: "lifetime_value"}},
				Schedule: "*/30 * * * *", MaxRemovals: "10%", NullValues: "skip", Options: map[string]any{}, DependsOnRun: false,
				RequiresConsent: []string{"email_marketing"}, OnWithdrawal: WithdrawalRemove},
			{Name: "everyone_to_ads", AllProfiles: true, Destination: "ads", Mode: "upsert", Key: "email",
				Fields: []FieldMap{{Field: "Email", Trait: "email"}, {Field: "id", Trait: "profile_id"}}, Schedule: "*/30 * * * *", MaxRemovals: "500", NullValues: "send",
				Options:      map[string]any{"list_id": int64(42), "nested": map[string]any{"flag": true, "ratio": 0.5, "tags": []any{"a", "cdp"}, "none": nil}},
				DependsOnRun: true, OnWithdrawal: WithdrawalRemove},
		},
		Consent: &Consent{Purposes: []*Purpose{
			{Name: "email_marketing", Default: ConsentDenied, From: []*ConsentFrom{{Source: "crm_contacts", Column: "email_opt_in"}}},
			{Name: "analytics", Default: ConsentGranted, From: []*ConsentFrom{{Source: "web_events", Column: "consent_state", PurposeColumn: "consent_purpose", PurposeValue: "analytics"}}},
		}},
		Suppressions: []*Suppression{{Name: "legal_dnc", Table: "raw.do_not_contact", Identifiers: []*SourceIdentifier{{Column: "email", Type: "email"}}}},
		Serve: &ServeConfig{Address: "0.0.0.0:9500", MaxConcurrent: 4, GracePeriod: 2 * time.Minute, TimeZone: "Europe/Paris",
			ModelsSchedule: "CRON_TZ=America/New_York 0 */6 * * *"},
		Alerts: []*Alert{
			{Name: "ops_slack", Type: "slack", URL: "https://hooks.slack.com/services/T0/B0/x", On: []string{"failure", "rejections", "stale"},
				RejectionShare: 0.05, StaleAfter: 3},
			{Name: "pager", Type: "webhook", URL: "https://alerts.example.com/cdp", Secret: "whsec_2", On: []string{"failure", "rejections"},
				RejectionShare: 0.025, StaleAfter: 3},
			{Name: "stale_watch", Type: "webhook", URL: "http://localhost:8080/hook", On: []string{"stale"}, RejectionShare: 0.05, StaleAfter: 1.5},
		},
	}
}
