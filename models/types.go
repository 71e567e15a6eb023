package models

import "time"

// Pos is a position in a project file, kept from the YAML parser to every diagnostic.
type Pos struct {
	File string // path relative to the project root
	Line int    // 1-based
	Col  int    // 1-based
}

// Project is the typed, validated model of a whole CDP project.
type Project struct {
	Root          string // absolute path of the project folder
	Name          string
	Entity        string // stitched entity; prefixes output tables, default "customer"
	ModelPaths    []string
	SeedPaths     []string
	DefaultTarget string
	Targets       map[string]*Target
	TargetOrder   []string // targets in file order

	Sources      []*Source
	Identity     *Identity // nil when the project declares no identity block
	Traits       []*Trait
	Segments     []*Segment
	Destinations []*Destination
	Syncs        []*Sync
	// Consent is the `consent:` section (nil when the models declare none).
	Consent *Consent
	// Suppressions are the `suppress:` lists: their people are in no sync.
	Suppressions []*Suppression

	// Serve configures `cdp serve` (cdp.yml `serve:`); nil means defaults.
	Serve *ServeConfig
	// Alerts lists where `cdp serve` reports failures (cdp.yml `alerts:`).
	Alerts []*Alert
	// Overlap is cdp.yml's `incremental: { overlap: … }`: how far before a
	// source's watermark an incremental run re-reads rows (late data); a
	// source's own `overlap` wins. Zero by default.
	Overlap Duration
}

// ServeConfig is cdp.yml's `serve:` block.
type ServeConfig struct {
	Address        string        // HTTP listen address, default 127.0.0.1:9464
	MaxConcurrent  int           // syncs running at once, default 2
	GracePeriod    time.Duration // SIGTERM: time to finish the batch in flight, default 30s
	TimeZone       string        // IANA zone for cron schedules, default UTC
	ModelsSchedule string        // cron for `cdp run`; "" = model runs only when a sync needs one
	Pos            Pos
}

// Alert is one alert channel of cdp.yml's `alerts:` list.
type Alert struct {
	Name   string
	Type   string   // slack | webhook
	URL    string   // Slack incoming webhook or any HTTPS endpoint
	Secret string   // webhook only: Standard Webhooks signing secret
	On     []string // failure | rejections | stale; default all three
	// RejectionShare: alert when a run's failed records exceed this share of
	// its planned records (default 0.05).
	RejectionShare float64
	// StaleAfter: alert when a sync has not succeeded within this many of its
	// schedule intervals (default 3).
	StaleAfter float64
	Pos        Pos
}

// Target is one warehouse connection from cdp.yml.
type Target struct {
	Name   string
	Type   string // duckdb | postgres | snowflake | bigquery
	Schema string // where the CDP writes; dataset on BigQuery
	// Settings holds every other key (path, dsn, account, …) after ${ENV} interpolation.
	Settings map[string]string
	Pos      Pos
}

// Source is a warehouse relation the CDP reads.
type Source struct {
	Name       string
	Table      string // relation as the target understands it; exclusive with SQL
	SQL        string // select statement; exclusive with Table
	PrimaryKey string
	Timestamp  string // column: when the row was true
	Event      string // column with the event name; makes this an event stream
	// Overlap overrides the project's incremental overlap (nil = inherit).
	Overlap     *Duration
	Identifiers []*SourceIdentifier
	Pos         Pos
}

// OverlapHours is how many hours before the source's watermark an
// incremental run re-reads rows: the source's `overlap`, else the project's.
func (p *Project) OverlapHours(s *Source) int {
	if s.Overlap != nil {
		return s.Overlap.Hours()
	}
	return p.Overlap.Hours()
}

// IsEventStream reports whether the source declares an event-name column.
func (s *Source) IsEventStream() bool { return s.Event != "" }

// SourceIdentifier maps a column or SQL expression of a source row to an identifier type.
type SourceIdentifier struct {
	Column string // exclusive with Expr
	Expr   string // SQL over the row
	Type   string // an IDType name
	// Country (phone identifiers) is a column of the row holding the ISO
	// 3166 alpha-2 region its number is parsed in; empty values fall back
	// to the type's DefaultCountry.
	Country string
	Pos     Pos
}

// Identity declares the identity graph.
type Identity struct {
	IDTypes               []*IDType // priority order: earlier = stronger evidence
	MaxProfileIdentifiers int       // default 1000
	Pos                   Pos
}

// IDType is one identifier type with its normalization and limit rules.
type IDType struct {
	Name           string
	Normalize      string // email | phone | lowercase | trim | none; default trim
	DefaultCountry string // ISO 3166 alpha-2, for phone
	// GmailCanonical (email only): gmail.com and googlemail.com addresses
	// lose the dots and any +suffix of their local part, and googlemail.com
	// becomes gmail.com.
	GmailCanonical bool
	Exclude        []string // RE2-compatible regexes; matching values never link anything
	Limit          int      // 0 = unlimited
	Rank           int      // index in IDTypes (0 = strongest)
	Pos            Pos
}

// Trait pick and aggregate vocabularies.
const (
	PickLatest       = "latest"
	PickEarliest     = "earliest"
	PickMostFrequent = "most_frequent"
	PickMax          = "max"
	PickMin          = "min"
	PickAny          = "any"

	// Picks of identifier traits (Trait.Identifier set).
	PickMostRecent     = "most_recent"
	PickSourcePriority = "source_priority"

	AggCount         = "count"
	AggCountDistinct = "count_distinct"
	AggSum           = "sum"
	AggAvg           = "avg"
	AggMin           = "min"
	AggMax           = "max"
)

// Trait types.
const (
	TypeString    = "string"
	TypeInteger   = "integer"
	TypeNumber    = "number"
	TypeBoolean   = "boolean"
	TypeTimestamp = "timestamp"
	TypeDate      = "date"
)

// TypeJSON is a storage type, not a trait type: a JSON document the CDP
// keeps for itself (a sync's last delivered fields). Dialects map it to
// their JSON type (VARIANT on Snowflake), and Cast(text, TypeJSON) parses
// JSON text into it.
const TypeJSON = "json"

// ColumnRef is `source.column` (Column empty for `from: source`).
type ColumnRef struct {
	Source string
	Column string
}

// Trait is one profile attribute: a pick (survivorship), an aggregate, an
// expression, or one of the profile's normalized identifiers.
type Trait struct {
	Name string
	From []ColumnRef // several = source priority; empty for expr and identifier traits
	Pick string      // set for survivorship traits (default latest when From has a column and no Aggregate) and identifier traits (default most_frequent)
	// Identifier, when set, names an identity id type: the trait is the
	// normalized value of one of the profile's identifiers of that type,
	// chosen by Pick among the rows of the sources that map one.
	Identifier string
	// Sources (identifier traits only) restricts the sources read to these,
	// in priority order for pick source_priority; empty = every source that
	// maps an identifier of the type, in project order.
	Sources   []string
	Aggregate string    // set for aggregate traits
	Where     string    // SQL predicate over the source row
	Within    *Duration // window relative to the run time
	Expr      string    // SQL over other traits
	Type      string    // forced type, or "" to infer
	Pos       Pos
}

// IsExpr reports whether the trait is computed from other traits.
func (t *Trait) IsExpr() bool { return t.Expr != "" }

// IsIdentifier reports whether the trait picks among the profile's
// normalized identifiers of type t.Identifier.
func (t *Trait) IsIdentifier() bool { return t.Identifier != "" }

// IdentifierSources returns the sources an identifier trait reads, in
// priority order: its Sources, else every source of p mapping an identifier
// of the trait's type, in project order. Unknown names are skipped.
func (p *Project) IdentifierSources(t *Trait) []*Source {
	var out []*Source
	if len(t.Sources) > 0 {
		for _, name := range t.Sources {
			if s := p.Source(name); s != nil {
				out = append(out, s)
			}
		}
		return out
	}
	for _, s := range p.Sources {
		if s.MapsIDType(t.Identifier) {
			out = append(out, s)
		}
	}
	return out
}

// MapsIDType reports whether the source maps at least one identifier of the
// given type.
func (s *Source) MapsIDType(idType string) bool {
	for _, id := range s.Identifiers {
		if id.Type == idType {
			return true
		}
	}
	return false
}

// Duration is a window such as 90d, 12h, 2w.
type Duration struct {
	N    int
	Unit byte // 'h', 'd' or 'w'
	Text string
}

// Hours returns the window length in hours.
func (d Duration) Hours() int {
	switch d.Unit {
	case 'd':
		return d.N * 24
	case 'w':
		return d.N * 24 * 7
	}
	return d.N
}

// Go returns the window as a time.Duration.
func (d Duration) Go() time.Duration { return time.Duration(d.Hours()) * time.Hour }

// Segment is an audience: a condition tree over traits, events and other segments.
type Segment struct {
	Name        string
	Description string
	Where       *Condition
	Holdout     float64 // fraction 0..1 (10% → 0.10)
	Pos         Pos
}

// Condition kinds.
const (
	CondAll     = "all"
	CondAny     = "any"
	CondNot     = "not"
	CondTrait   = "trait"
	CondEvent   = "event"
	CondSegment = "segment"
)

// Condition is one node of a segment's condition tree.
type Condition struct {
	Kind     string       // one of the Cond* constants
	Children []*Condition // all / any; not has exactly one child

	// trait conditions
	Trait string
	Op    string // eq ne gt gte lt lte in not_in contains starts_with ends_with between is_set within before after
	Value any    // scalar (string, int64, float64, bool, nil) or []any for in/not_in/between; *Duration for within

	// event conditions
	Event       string
	EventSource string
	Count       *CountCond
	EventWithin *Duration
	EventWhere  string

	// segment conditions
	Segment string

	Pos Pos
}

// CountCond is an event count comparison such as { gte: 2 }.
type CountCond struct {
	Op    string // eq ne gt gte lt lte
	Value int64
}

// Destination is a place syncs deliver to.
type Destination struct {
	Name      string
	Type      string
	RateLimit string // e.g. "20/s"; empty = destination default
	Paused    bool   // stops every sync to it without touching state
	// Settings holds every other scalar key (url, secret, …) after ${ENV} interpolation.
	Settings map[string]string
	// SettingPos is the position of each setting's value (and of rate_limit).
	SettingPos map[string]Pos `json:"-"`
	Pos        Pos
}

// Sync maps a segment (or all profiles) to a destination.
type Sync struct {
	Name        string
	Segment     string
	AllProfiles bool
	Destination string
	Mode        string // upsert | mirror | insert | update
	Key         string // trait
	Fields      []FieldMap
	Schedule    string
	MaxRemovals string // "10%" or a count
	NullValues  string // skip | send
	Options     map[string]any
	Paused      bool // stops its runs without touching its state
	// DependsOnRun (default true): under `cdp serve`, a run waits for — or
	// triggers — a model run that started after its last delivery.
	DependsOnRun bool
	// RequiresConsent lists consent purposes: only members who granted
	// every one of them (or whose unknown state defaults to granted) are
	// in the sync's snapshot.
	RequiresConsent []string
	// OnWithdrawal is what a delivered member who withdrew a required
	// consent receives: WithdrawalRemove (the plain removal of mirror
	// syncs; upsert and insert syncs just stop sending them) or
	// WithdrawalUnsubscribe (the destination's unsubscribe primitive).
	OnWithdrawal string
	Pos          Pos
}

// Sync `on_withdrawal` values.
const (
	WithdrawalRemove      = "remove"
	WithdrawalUnsubscribe = "unsubscribe"
)

// FieldMap maps a destination field to a trait.
type FieldMap struct {
	Field string
	Trait string
	// Hash, when set, names the sync/hashing profile the warehouse applies
	// to the trait: the field then carries the normalized value's SHA-256
	// (hex), never the plain trait.
	Hash string `json:",omitempty"`
}

// IDType returns the identifier type with the given name, or nil.
func (p *Project) IDType(name string) *IDType {
	if p.Identity == nil {
		return nil
	}
	for _, t := range p.Identity.IDTypes {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Source returns the source with the given name, or nil.
func (p *Project) Source(name string) *Source {
	for _, s := range p.Sources {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Trait returns the trait with the given name, or nil.
func (p *Project) Trait(name string) *Trait {
	for _, t := range p.Traits {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Segment returns the segment with the given name, or nil.
func (p *Project) Segment(name string) *Segment {
	for _, s := range p.Segments {
		if s.Name == name {
			return s
		}
	}
	return nil
}
