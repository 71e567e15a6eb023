package models

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cdpkit/cdp/sync/hashing"
)

var (
	destinationKeys = []string{"name", "type", "rate_limit", "paused"}
	syncKeys        = []string{"name", "segment", "all_profiles", "destination", "mode", "key", "fields", "schedule", "max_removals", "null_values", "options", "paused", "depends_on_run", "requires_consent", "on_withdrawal"}
	syncModes       = []string{"upsert", "mirror", "insert", "update"}
	nullValueModes  = []string{"skip", "send"}
	rateLimitRe     = regexp.MustCompile(`^([0-9]+)/(s|m|h)$`)
)

// Sync defaults.
const (
	DefaultSyncMode   = "upsert"
	DefaultNullValues = "skip"
)

// ProfileIDColumn is the profiles column a sync may use as key or field besides traits.
const ProfileIDColumn = "profile_id"

// parseDestination decodes one item of `destinations`.
func (l *loader) parseDestination(n *yaml.Node) {
	m, ok := l.mapping(n, itemWhat("destination", n), destinationKeys, true)
	if !ok {
		return
	}
	d := &Destination{Pos: l.pos(m.node), Settings: map[string]string{}, SettingPos: map[string]Pos{}}
	name, namePos := l.name(m, "destination")
	d.Name = name
	if m.has("type") {
		d.Type = l.optText(m, "type")
	} else {
		l.errorf(d.Pos, "e.g. `type: webhook`", "%s needs a `type`", m.what)
	}
	if n := m.get("rate_limit"); n != nil {
		if s, ok := l.text(n, "`rate_limit`"); ok {
			if sm := rateLimitRe.FindStringSubmatch(s); sm == nil || strings.Trim(sm[1], "0") == "" {
				l.errorf(l.pos(n), "a positive count per s, m or h, e.g. `20/s` or `100/m`", "bad rate_limit `%s`", s)
			} else {
				d.RateLimit = s
			}
		}
	}
	if n := m.get("paused"); n != nil {
		d.Paused, _ = l.boolean(n, "`paused`")
	}
	if n := m.get("rate_limit"); n != nil {
		d.SettingPos["rate_limit"] = l.pos(n)
	}
	for _, x := range m.extra {
		d.SettingPos[x.key] = l.pos(x.v)
		switch {
		case isNull(x.v):
			d.Settings[x.key] = ""
		case x.v.Kind != yaml.ScalarNode:
			l.errorf(l.pos(x.v), "destination settings are single values; structured settings go in a sync's `options`",
				"setting `%s` of %s must be a single value, got %s", x.key, m.what, describe(x.v))
		default:
			d.Settings[x.key], _ = l.text(x.v, "`"+x.key+"`")
		}
	}
	if l.declare("destination", name, namePos) {
		l.p.Destinations = append(l.p.Destinations, d)
		l.dests[name] = d
	}
}

// parseSync decodes one item of `syncs`.
func (l *loader) parseSync(n *yaml.Node) {
	m, ok := l.mapping(n, itemWhat("sync", n), syncKeys, false)
	if !ok {
		return
	}
	s := &Sync{Pos: l.pos(m.node), Options: map[string]any{}, DependsOnRun: true}
	name, namePos := l.name(m, "sync")
	s.Name = name
	s.Segment = l.optText(m, "segment")
	if n := m.get("all_profiles"); n != nil {
		s.AllProfiles, _ = l.boolean(n, "`all_profiles`")
	}
	switch {
	case m.has("segment") && s.AllProfiles:
		l.errorf(l.valuePos(m, "all_profiles"), "keep one of them", "%s sets both `segment` and `all_profiles: true`", m.what)
	case !m.has("segment") && !s.AllProfiles:
		l.errorf(s.Pos, "set `segment: <name>` or `all_profiles: true`", "%s needs `segment` or `all_profiles: true`", m.what)
	}
	if m.has("destination") {
		s.Destination = l.optText(m, "destination")
	} else {
		l.errorf(s.Pos, "name one of `destinations`", "%s needs a `destination`", m.what)
	}
	s.Mode = l.optEnum(m, "mode", "sync mode", syncModes, DefaultSyncMode)
	if m.has("key") {
		s.Key = l.optText(m, "key")
	} else {
		l.errorf(s.Pos, "name the trait that identifies records at the destination, e.g. `key: email`", "%s needs a `key`", m.what)
	}
	var fields []fieldRef
	if n := m.get("fields"); n != nil && !isNull(n) {
		s.Fields, fields = l.fieldMaps(n)
		l.checkPlainKey(s, m)
	}
	if n := m.get("schedule"); n != nil {
		s.Schedule = l.schedule(n, "`schedule`")
	}
	if n := m.get("paused"); n != nil {
		s.Paused, _ = l.boolean(n, "`paused`")
	}
	if n := m.get("depends_on_run"); n != nil {
		if b, ok := l.boolean(n, "`depends_on_run`"); ok {
			s.DependsOnRun = b
		}
	}
	if n := m.get("max_removals"); n != nil {
		s.MaxRemovals = l.maxRemovals(n)
	}
	s.NullValues = l.optEnum(m, "null_values", "null_values", nullValueModes, DefaultNullValues)
	if n := m.get("options"); n != nil && !isNull(n) {
		if deref(n).Kind != yaml.MappingNode {
			l.errorf(l.pos(n), "write a map, e.g. `options: { list_id: 42 }`", "`options` must be a map, got %s", describe(n))
		} else if v, _ := l.anyValue(n, "`options`"); v != nil {
			s.Options = v.(map[string]any)
		}
	}
	s.OnWithdrawal = l.optEnum(m, "on_withdrawal", "on_withdrawal", []string{WithdrawalRemove, WithdrawalUnsubscribe}, WithdrawalRemove)
	var purposeAt []Pos
	if n := m.get("requires_consent"); n != nil && !isNull(n) {
		s.RequiresConsent, purposeAt = l.purposeList(n)
	}
	if s.OnWithdrawal == WithdrawalUnsubscribe && len(s.RequiresConsent) == 0 {
		l.errorf(l.valuePos(m, "on_withdrawal"), "add `requires_consent: [<purpose>]`: a withdrawal is of a required consent",
			"%s sets `on_withdrawal: unsubscribe` but requires no consent", m.what)
	}
	l.later = append(l.later, func() {
		for i, name := range s.RequiresConsent {
			if l.p.Purpose(name) == nil {
				l.unknown(kindPurpose, name, purposeAt[i])
			}
		}
	})
	l.deferSyncChecks(s, m, fields)
	if l.declare("sync", name, namePos) {
		l.p.Syncs = append(l.p.Syncs, s)
	}
}

// purposeList decodes `requires_consent`: a list of purpose names (one
// name alone is taken as a list of one).
func (l *loader) purposeList(n *yaml.Node) ([]string, []Pos) {
	items := []*yaml.Node{deref(n)}
	if deref(n).Kind == yaml.SequenceNode {
		var ok bool
		if items, ok = l.list(n, "`requires_consent`"); !ok {
			return nil, nil
		}
	}
	var names []string
	var at []Pos
	for _, item := range items {
		s, ok := l.text(item, "a purpose in `requires_consent`")
		if !ok {
			continue
		}
		if contains(names, s) {
			l.errorf(l.pos(item), "list each purpose once", "purpose `%s` is listed twice in `requires_consent`", s)
			continue
		}
		names = append(names, s)
		at = append(at, l.pos(item))
	}
	return names, at
}

// fieldRef is a destination field mapped to a trait, with the trait's position.
type fieldRef struct {
	trait string
	pos   Pos
}

// fieldMaps decodes `fields`, keeping file order. A field is a trait name,
// or a map `{ trait: email, hash: google_email }` naming a hashing profile.
func (l *loader) fieldMaps(n *yaml.Node) ([]FieldMap, []fieldRef) {
	m, ok := l.mapping(n, "`fields`", nil, true)
	if !ok {
		return nil, nil
	}
	out := make([]FieldMap, 0, len(m.extra))
	var refs []fieldRef
	for _, e := range m.extra {
		if e.key == "" {
			l.errorf(l.pos(e.k), "", "empty destination field name in `fields`")
		}
		what := "field `" + e.key + "`"
		f := FieldMap{Field: e.key}
		at := l.pos(e.v)
		if e.v.Kind == yaml.MappingNode {
			fm, ok := l.mapping(e.v, what, fieldMapKeys, false)
			if !ok {
				continue
			}
			if tn := fm.get("trait"); tn != nil {
				f.Trait, ok = l.text(tn, "`trait` of "+what)
				at = l.pos(tn)
			} else {
				l.errorf(l.pos(e.v), "e.g. `"+e.key+": { trait: email, hash: google_email }`", "%s needs a `trait`", what)
				ok = false
			}
			if hn := fm.get("hash"); hn != nil {
				if h, hok := l.text(hn, "`hash` of "+what); hok {
					f.Hash = h
					if hashing.Lookup(h) == nil {
						l.errorf(l.pos(hn), unknownHashHint(h), "unknown hash profile `%s` in %s", h, what)
					}
				}
			}
			if !ok {
				continue
			}
		} else if f.Trait, ok = l.text(e.v, what); !ok {
			continue
		}
		out = append(out, f)
		refs = append(refs, fieldRef{f.Trait, at})
	}
	return out, refs
}

// checkPlainKey warns when the sync hashes its key trait in a field but
// sends the key itself as is: the plain value would still leave the
// warehouse as the record key.
func (l *loader) checkPlainKey(s *Sync, m *mapNode) {
	for _, f := range s.Fields {
		if f.Hash != "" && f.Trait == s.Key {
			l.warnf(l.valuePos(m, "key"), "use `key: profile_id` (or another trait that is not PII) so only the hash leaves the warehouse",
				"%s hashes `%s` in field `%s` but sends it plain as the key", m.what, f.Trait, f.Field)
			return
		}
	}
}

// fieldMapKeys are the keys of a field written as a map.
var fieldMapKeys = []string{"trait", "hash"}

// unknownHashHint suggests the closest hashing profile, or lists them.
func unknownHashHint(name string) string {
	if h := didYouMean(name, hashing.Names()); h != "" {
		return h
	}
	return "known profiles: " + strings.Join(hashing.Names(), ", ")
}

// deferSyncChecks checks the sync's references once every file is read.
func (l *loader) deferSyncChecks(s *Sync, m *mapNode, fields []fieldRef) {
	segAt, destAt, keyAt := l.valuePos(m, "segment"), l.valuePos(m, "destination"), l.valuePos(m, "key")
	l.later = append(l.later, func() {
		if s.Segment != "" && l.segments[s.Segment] == nil {
			l.unknown("segment", s.Segment, segAt)
		}
		if s.Destination != "" && l.dests[s.Destination] == nil {
			l.unknown("destination", s.Destination, destAt)
		}
		if s.Key != "" && s.Key != ProfileIDColumn {
			l.traitRef(s.Key, keyAt)
		}
		for _, f := range fields {
			if f.trait != ProfileIDColumn {
				l.traitRef(f.trait, f.pos)
			}
		}
	})
}

// maxRemovals decodes `10%` or a count.
func (l *loader) maxRemovals(n *yaml.Node) string {
	v, ok := l.scalar(n, "`max_removals`")
	if !ok {
		return ""
	}
	const hint = "a share such as `10%` or a count such as `500`"
	switch v := v.(type) {
	case int64:
		if v >= 0 {
			return strconv.FormatInt(v, 10)
		}
	case string:
		if pct, ok := strings.CutSuffix(v, "%"); ok {
			if p, err := strconv.ParseFloat(pct, 64); err == nil && p >= 0 && p <= 100 {
				return v
			}
		}
	}
	l.errorf(l.pos(n), hint, "bad max_removals `%s`", deref(n).Value)
	return ""
}
