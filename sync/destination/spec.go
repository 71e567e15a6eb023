package destination

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/models"
)

// Kind is the type of a destination setting.
type Kind string

// Setting kinds.
const (
	KindString   Kind = "string"
	KindSecret   Kind = "secret"   // a string never printed (tokens, keys)
	KindInt      Kind = "int"      // a whole number within [Min, Max]
	KindBool     Kind = "bool"     // true or false
	KindDuration Kind = "duration" // a Go duration such as 30s or 2m
	KindURL      Kind = "url"      // an absolute URL with one of Schemes
	KindEnum     Kind = "enum"     // one of Values
	KindList     Kind = "list"     // comma-separated strings
	KindRate     Kind = "rate"     // requests per s, m or h, e.g. 10/s (read by the loader)
)

// Setting declares one destination setting.
type Setting struct {
	Name     string
	Kind     Kind
	Required bool
	// Default is the value used when the setting is absent or empty, as it
	// would be written in YAML ("" for none).
	Default string
	// Doc is one sentence for the reference page and `cdp destinations`.
	Doc string
	// Min and Max bound a KindInt setting (inclusive; Max 0 means no bound).
	Min, Max int64
	// Values lists the values of a KindEnum setting.
	Values []string
	// Schemes lists the URL schemes a KindURL setting accepts (default
	// http and https).
	Schemes []string
	// Example is a value shown in docs when there is no default.
	Example string
}

// Operation documents what one record operation sends to the vendor.
type Operation struct {
	// Mode, when set, limits the entry to one sync mode; an entry for the
	// mode wins over one without.
	Mode  string
	Op    Op
	Sends string // e.g. "POST /crm/v3/objects/contacts/batch/upsert"
}

// Spec declares a destination type: its settings, the sync modes its API can
// honour, its limits and the operations it sends. One spec drives parsing,
// `cdp validate`, the reference page and `cdp destinations`.
type Spec struct {
	Type  string
	Title string // product name, e.g. "HubSpot"
	// Category is what kind of tool the destination is; marketing
	// categories (CategoryEmail, CategoryMessaging, CategoryAds) make
	// `cdp validate` warn about a sync that requires no consent.
	Category Category
	// Summary is one line; Doc is the reference page's body (Markdown).
	Summary string
	Doc     string
	// References lists the vendor documentation pages the connector (and its
	// contract server) follow.
	References []string
	Settings   []Setting
	// Modes lists the sync modes the destination supports.
	Modes []string
	// Operations lists what each record operation sends.
	Operations []Operation
	// Limits describes the vendor's limits, one line each.
	Limits []string
	// CheckSettings, when set, reports problems of the settings taken
	// together (e.g. half of a credential pair), once they parsed.
	CheckSettings func(v Values) []Problem
	// CheckSync, when set, reports problems of one sync that depend on the
	// settings (e.g. mirror needs a list).
	CheckSync func(v Values, s SyncInfo) []Problem
	// New opens a destination for one sync run.
	New Factory
}

// Category is what kind of tool a destination is.
type Category string

// Destination categories.
const (
	CategoryCRM       Category = "crm"       // HubSpot, Salesforce
	CategoryEmail     Category = "email"     // Klaviyo, Mailchimp
	CategoryMessaging Category = "messaging" // Braze, Iterable, Customer.io, Intercom
	CategoryAds       Category = "ads"       // Meta, Google
	CategoryData      Category = "data"      // webhooks, files, database tables
)

// Marketing reports whether the category reaches people with marketing
// (email, messaging, ads), where a sync should require consent.
func (c Category) Marketing() bool {
	return c == CategoryEmail || c == CategoryMessaging || c == CategoryAds
}

// Supports reports whether the spec documents an operation for op (in any
// mode): how a destination declares OpUnsubscribe and OpErase.
func (s *Spec) Supports(op Op) bool {
	for _, o := range s.Operations {
		if o.Op == op {
			return true
		}
	}
	return false
}

// SyncInfo is what CheckSync sees of a sync.
type SyncInfo struct {
	Name   string
	Mode   string
	Key    string   // key trait
	Fields []string // destination field names
	// KeyField is the destination field that holds the key ("" when the
	// key is not mapped).
	KeyField string
	Options  map[string]any
	// Hashes maps each destination field the sync hashes to its hashing
	// profile (sync/hashing), e.g. "EMAIL" → "meta_email"; fields sent as
	// they are have no entry.
	Hashes map[string]string
}

// Problem is one bad setting (or sync) found by Parse or CheckSync.
type Problem struct {
	Setting string // the setting's name; "" for the destination or sync as a whole
	Message string
	Hint    string
	Warning bool
}

// Setting returns the declared setting with the given name.
func (s *Spec) Setting(name string) (Setting, bool) {
	for _, st := range s.Settings {
		if st.Name == name {
			return st, true
		}
	}
	return Setting{}, false
}

// SupportsMode reports whether the destination honours a sync mode.
func (s *Spec) SupportsMode(mode string) bool { return slices.Contains(s.Modes, mode) }

// Values are a destination's settings parsed against its spec. Accessors
// return the setting's value, or its default, or the zero value.
type Values struct {
	spec *Spec
	vals map[string]any
}

// Has reports whether the setting was given (non-empty) or has a default.
func (v Values) Has(name string) bool { _, ok := v.vals[name]; return ok }

// String returns a string, secret, enum or URL setting as text.
func (v Values) String(name string) string {
	switch x := v.vals[name].(type) {
	case string:
		return x
	case *url.URL:
		return x.String()
	}
	return ""
}

// Int returns an int setting.
func (v Values) Int(name string) int { n, _ := v.vals[name].(int64); return int(n) }

// Bool returns a bool setting.
func (v Values) Bool(name string) bool { b, _ := v.vals[name].(bool); return b }

// Duration returns a duration setting.
func (v Values) Duration(name string) time.Duration { d, _ := v.vals[name].(time.Duration); return d }

// URL returns a URL setting (nil when absent).
func (v Values) URL(name string) *url.URL { u, _ := v.vals[name].(*url.URL); return u }

// List returns a list setting.
func (v Values) List(name string) []string { l, _ := v.vals[name].([]string); return l }

// Rate returns a rate setting in requests per second (0 when absent).
func (v Values) Rate(name string) float64 { r, _ := v.vals[name].(float64); return r }

// commonSettings are accepted by every destination without being declared:
// the loader reads them (name, type, paused).
var commonSettings = []string{"name", "type", "paused", "rate_limit"}

// Parse checks raw settings (after ${ENV} interpolation) against the spec
// and returns the parsed values and every problem: a missing or empty
// required setting, a value of the wrong kind or out of range, an unknown
// setting. Empty optional settings count as absent.
func (s *Spec) Parse(raw map[string]string) (Values, []Problem) {
	v := Values{spec: s, vals: map[string]any{}}
	var probs []Problem
	names := make([]string, 0, len(s.Settings))
	for _, st := range s.Settings {
		names = append(names, st.Name)
		text, given := raw[st.Name]
		text = strings.TrimSpace(text)
		if text == "" {
			if given && st.Required {
				probs = append(probs, Problem{Setting: st.Name,
					Message: fmt.Sprintf("setting `%s` of a %s destination is empty", st.Name, s.Type),
					Hint:    "give it a value; if it comes from `${VAR}`, set the variable or give a default with `${VAR:-…}`"})
				continue
			}
			if st.Required {
				probs = append(probs, Problem{Message: fmt.Sprintf("a %s destination needs `%s`", s.Type, st.Name),
					Hint: fmt.Sprintf("add `%s: %s` (%s)", st.Name, exampleOf(st), st.Doc)})
				continue
			}
			if st.Default == "" {
				continue
			}
			text = st.Default
		}
		if st.Kind == KindRate {
			r, err := ParseRate(text)
			if err != nil {
				probs = append(probs, Problem{Setting: st.Name, Message: err.Error(), Hint: hintOf(st)})
				continue
			}
			v.vals[st.Name] = r
			continue
		}
		val, err := parseValue(st, text)
		if err != nil {
			probs = append(probs, Problem{Setting: st.Name,
				Message: fmt.Sprintf("bad `%s` %s: %v", st.Name, shown(st, text), err), Hint: hintOf(st)})
			continue
		}
		v.vals[st.Name] = val
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.Contains(names, k) || slices.Contains(commonSettings, k) {
			continue
		}
		hint := s.Type + " accepts " + strings.Join(names, ", ")
		if c := Closest(k, names); c != "" {
			hint = "did you mean `" + c + "`? " + hint
		}
		probs = append(probs, Problem{Setting: k, Hint: hint,
			Message: fmt.Sprintf("unknown setting `%s` for a %s destination", k, s.Type)})
	}
	return v, probs
}

// shown quotes a value for a message, hiding secrets.
func shown(st Setting, text string) string {
	if st.Kind == KindSecret {
		return "(hidden)"
	}
	return "`" + text + "`"
}

func exampleOf(st Setting) string {
	switch {
	case st.Example != "":
		return st.Example
	case st.Kind == KindSecret:
		return "\"${" + strings.ToUpper(st.Name) + "}\""
	case st.Kind == KindURL:
		return "https://…"
	}
	return "…"
}

// hintOf says what a setting accepts.
func hintOf(st Setting) string {
	switch st.Kind {
	case KindInt:
		if st.Max > 0 {
			return fmt.Sprintf("a whole number from %d to %d", st.Min, st.Max)
		}
		return fmt.Sprintf("a whole number of at least %d", st.Min)
	case KindBool:
		return "true or false"
	case KindDuration:
		return "a duration such as 30s, 2m or 1h30m"
	case KindURL:
		return "an absolute URL starting with " + strings.Join(schemes(st), ":// or ") + "://"
	case KindEnum:
		return "one of " + strings.Join(st.Values, ", ")
	case KindRate:
		return "a positive count per s, m or h, e.g. `10/s` or `100/m`"
	case KindList:
		return "a comma-separated list"
	}
	return st.Doc
}

func schemes(st Setting) []string {
	if len(st.Schemes) > 0 {
		return st.Schemes
	}
	return []string{"https", "http"}
}

// parseValue parses one non-empty setting value.
func parseValue(st Setting, text string) (any, error) {
	switch st.Kind {
	case KindInt:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("not a whole number")
		}
		if n < st.Min {
			return nil, fmt.Errorf("below the minimum %d", st.Min)
		}
		if st.Max > 0 && n > st.Max {
			return nil, fmt.Errorf("above the maximum %d", st.Max)
		}
		return n, nil
	case KindBool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return nil, fmt.Errorf("not true or false")
		}
		return b, nil
	case KindDuration:
		d, err := time.ParseDuration(text)
		if err != nil {
			return nil, fmt.Errorf("not a duration")
		}
		if d <= 0 {
			return nil, fmt.Errorf("not positive")
		}
		return d, nil
	case KindURL:
		u, err := url.Parse(text)
		if err != nil {
			return nil, fmt.Errorf("not a URL")
		}
		if !slices.Contains(schemes(st), u.Scheme) {
			return nil, fmt.Errorf("scheme %q is not accepted", u.Scheme)
		}
		if u.Host == "" {
			return nil, fmt.Errorf("no host")
		}
		return u, nil
	case KindEnum:
		if !slices.Contains(st.Values, text) {
			return nil, fmt.Errorf("not one of %s", strings.Join(st.Values, ", "))
		}
		return text, nil
	case KindList:
		var out []string
		for _, p := range strings.Split(text, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	}
	return text, nil
}

var rateRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)/(s|m|h)$`)

// ParseRate parses "10/s", "100/m" or "3600/h" into requests per second.
func ParseRate(s string) (float64, error) {
	m := rateRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("bad rate_limit `%s`", s)
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	if n <= 0 || math.IsInf(n, 0) {
		return 0, fmt.Errorf("bad rate_limit `%s`: the count must be positive", s)
	}
	switch m[2] {
	case "m":
		n /= 60
	case "h":
		n /= 3600
	}
	return n, nil
}

// HTTPDefaults are a vendor's documented values for the settings every HTTP
// destination takes.
type HTTPDefaults struct {
	BaseURL        string
	BatchSize      int           // default records per request
	MaxBatch       int           // the vendor's maximum records per request
	RateLimit      string        // e.g. "10/s"
	Concurrency    int           // default requests in flight
	MaxConcurrency int           // the vendor's maximum (0: 16)
	Timeout        time.Duration // per request
}

// HTTPSettings returns the settings every HTTP destination takes: base_url,
// rate_limit, batch_size (≤ the vendor's maximum), concurrency and timeout,
// with the vendor's defaults.
func HTTPSettings(d HTTPDefaults) []Setting {
	maxConc := d.MaxConcurrency
	if maxConc == 0 {
		maxConc = 16
	}
	return []Setting{
		{Name: "base_url", Kind: KindURL, Default: d.BaseURL,
			Doc: "API host: a regional or EU instance, a proxy, or a local contract server"},
		{Name: "rate_limit", Kind: KindRate, Default: d.RateLimit, Doc: "requests per second, minute or hour the sync may send"},
		{Name: "batch_size", Kind: KindInt, Default: strconv.Itoa(d.BatchSize), Min: 1, Max: int64(d.MaxBatch),
			Doc: "records per request (the vendor's maximum is the upper bound)"},
		{Name: "concurrency", Kind: KindInt, Default: strconv.Itoa(max(d.Concurrency, 1)), Min: 1, Max: int64(maxConc),
			Doc: "requests in flight at once"},
		{Name: "timeout", Kind: KindDuration, Default: d.Timeout.String(), Doc: "how long one request may take"},
	}
}

// HTTPCapabilities fills the delivery capabilities from the common HTTP
// settings.
func HTTPCapabilities(v Values, ops ...Op) Capabilities {
	return Capabilities{Ops: ops, MaxBatch: v.Int("batch_size"), RateLimit: v.Rate("rate_limit"),
		Concurrency: v.Int("concurrency"), Timeout: v.Duration("timeout")}
}

// Closest returns the name that is a plausible typo of s (case-insensitive
// edit distance, or a prefix), or "": for "did you mean" hints of settings
// and of the vendors' field names.
func Closest(s string, names []string) string { return models.Closest(s, names) }
