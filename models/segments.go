package models

import (
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var (
	segmentKeys   = []string{"name", "description", "where", "holdout"}
	conditionKind = []string{CondTrait, CondEvent, CondSegment, CondAll, CondAny, CondNot}
	traitOps      = []string{"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "starts_with", "ends_with", "between", "is_set", "within", "before", "after"}
	eventKeys     = []string{"event", "source", "count", "within", "where"}
	countOps      = []string{"eq", "ne", "gt", "gte", "lt", "lte"}
)

// maxConditionDepth bounds the nesting of all/any/not in a segment.
const maxConditionDepth = 32

// parseSegment decodes one item of `segments`.
func (l *loader) parseSegment(n *yaml.Node) {
	m, ok := l.mapping(n, itemWhat("segment", n), segmentKeys, false)
	if !ok {
		return
	}
	s := &Segment{Pos: l.pos(m.node)}
	name, namePos := l.name(m, "segment")
	s.Name = name
	unique := l.declare("segment", name, namePos)
	if !unique {
		name = "" // a duplicate's references must not count in cycles
	}
	s.Description = l.optText(m, "description")
	if w := m.get("where"); w != nil {
		s.Where = l.condition(w, name, 0)
	} else {
		l.errorf(s.Pos, "add `where:` with a condition, e.g. `{ trait: country, eq: FR }`", "%s needs `where`", m.what)
	}
	if h := m.get("holdout"); h != nil {
		s.Holdout = l.holdout(h)
	}
	if unique {
		l.p.Segments = append(l.p.Segments, s)
		l.segments[name] = s
	}
}

// holdout decodes `10%` or a fraction in [0, 1).
func (l *loader) holdout(n *yaml.Node) float64 {
	v, ok := l.scalar(n, "`holdout`")
	if !ok {
		return 0
	}
	const hint = "a percentage below 100%, e.g. `10%`, or a fraction below 1, e.g. `0.1`"
	var f float64
	switch v := v.(type) {
	case string:
		pct, isPct := strings.CutSuffix(strings.TrimSpace(v), "%")
		p, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if !isPct || err != nil || math.IsNaN(p) || p < 0 || p >= 100 {
			l.errorf(l.pos(n), hint, "bad holdout `%s`", v)
			return 0
		}
		return p / 100
	case int64:
		f = float64(v)
	case float64:
		f = v
	default:
		l.errorf(l.pos(n), hint, "bad holdout: got %s", describeValue(v))
		return 0
	}
	if math.IsNaN(f) || f < 0 || f >= 1 {
		h := hint
		if f >= 1 && f < 100 {
			h = "as a fraction it must be below 1; did you mean `" + strconv.FormatFloat(f, 'f', -1, 64) + "%`?"
		}
		l.errorf(l.pos(n), h, "holdout %s is out of range [0, 1)", strconv.FormatFloat(f, 'g', -1, 64))
		return 0
	}
	return f
}

// condition decodes one node of a condition tree.
func (l *loader) condition(n *yaml.Node, seg string, depth int) *Condition {
	n = deref(n)
	if depth > maxConditionDepth {
		l.errorf(l.pos(n), "simplify the condition", "conditions are nested too deeply (more than %d levels)", maxConditionDepth)
		return nil
	}
	if n.Kind != yaml.MappingNode {
		hint := "write a map such as `{ trait: country, eq: FR }`"
		if n.Kind == yaml.SequenceNode {
			hint = "wrap several conditions in `all:` or `any:`"
		}
		l.errorf(l.pos(n), hint, "a condition must be a map, got %s", describe(n))
		return nil
	}
	entries := l.entries(n, "condition")
	var kinds []*entry
	for _, e := range entries {
		if contains(conditionKind, e.key) {
			kinds = append(kinds, e)
		}
	}
	switch {
	case len(kinds) == 0:
		hint := "one of " + joinTicks(conditionKind)
		for _, e := range entries {
			if h := didYouMean(e.key, conditionKind); h != "" {
				hint = h
				break
			}
		}
		l.errorf(l.pos(n), hint, "a condition needs one of `trait`, `event`, `segment`, `all`, `any`, `not`")
		return nil
	case len(kinds) > 1:
		l.errorf(l.pos(kinds[1].k), "combine them with `all:` or `any:`", "a condition cannot mix `%s` and `%s`", kinds[0].key, kinds[1].key)
		return nil
	}
	c := &Condition{Kind: kinds[0].key, Pos: l.pos(n)}
	switch c.Kind {
	case CondAll, CondAny:
		l.split(n, entries, "`"+c.Kind+"` condition", []string{c.Kind}, false)
		l.groupCondition(c, kinds[0].v, seg, depth)
	case CondNot:
		l.split(n, entries, "`not` condition", []string{CondNot}, false)
		if v := kinds[0].v; v.Kind == yaml.SequenceNode {
			l.errorf(l.pos(v), "write `not: { any: [ … ] }` to negate several", "`not` takes a single condition, got a list")
		} else if child := l.condition(v, seg, depth+1); child != nil {
			c.Children = []*Condition{child}
		}
	case CondSegment:
		m := l.split(n, entries, "segment condition", []string{CondSegment}, false)
		l.segmentCondition(c, m, seg)
	case CondTrait:
		l.traitCondition(c, l.split(n, entries, "trait condition", append([]string{CondTrait}, traitOps...), false))
	case CondEvent:
		l.eventCondition(c, l.split(n, entries, "event condition", eventKeys, false))
	}
	return c
}

// groupCondition decodes the children of all/any.
func (l *loader) groupCondition(c *Condition, v *yaml.Node, seg string, depth int) {
	items, ok := l.list(v, "`"+c.Kind+"`")
	if !ok {
		return
	}
	if len(items) == 0 {
		l.errorf(l.pos(v), "list at least one condition", "`%s` is empty", c.Kind)
	}
	for _, item := range items {
		if child := l.condition(item, seg, depth+1); child != nil {
			c.Children = append(c.Children, child)
		}
	}
}

// segmentCondition decodes { segment: name } and records the reference.
func (l *loader) segmentCondition(c *Condition, m *mapNode, seg string) {
	n := m.get(CondSegment)
	name, ok := l.text(n, "`segment`")
	if !ok {
		return
	}
	c.Segment = name
	at := l.pos(n)
	l.later = append(l.later, func() {
		if l.segments[name] == nil {
			l.unknown("segment", name, at)
			return
		}
		if seg != "" {
			l.segEdges[seg] = append(l.segEdges[seg], edge{to: name, pos: at})
		}
	})
}

// traitCondition decodes { trait: name, <op>: value }.
func (l *loader) traitCondition(c *Condition, m *mapNode) {
	tn := m.get(CondTrait)
	name, ok := l.text(tn, "`trait`")
	if ok {
		c.Trait = name
		at := l.pos(tn)
		l.later = append(l.later, func() { l.traitRef(name, at) })
	}
	ops := m.present(traitOps...)
	switch {
	case len(ops) == 0:
		l.errorf(c.Pos, "one of "+strings.Join(traitOps, " "), "condition on trait `%s` needs an operator", name)
		return
	case len(ops) > 1:
		l.errorf(l.pos(m.vals[ops[1]].k), "use `between: [a, b]`, or combine conditions with `all:`",
			"condition on trait `%s` has several operators (`%s`, `%s`)", name, ops[0], ops[1])
	}
	c.Op = ops[0]
	c.Value = l.opValue(c.Op, m.get(c.Op))
}

// opValue decodes the value of a trait operator.
func (l *loader) opValue(op string, n *yaml.Node) any {
	what := "`" + op + "`"
	switch op {
	case "eq", "ne":
		v, ok := l.scalar(n, what)
		if ok && v == nil {
			l.errorf(l.pos(n), "use `is_set: false` (or true) to test for missing values", "%s needs a value, got an empty value", what)
		}
		return v
	case "gt", "gte", "lt", "lte":
		return l.ordered(n, what)
	case "in", "not_in":
		return l.scalarList(n, what, -1, l.member)
	case "between":
		return l.scalarList(n, what, 2, l.ordered)
	case "contains", "starts_with", "ends_with":
		s, _ := l.text(n, what)
		return s
	case "is_set":
		b, _ := l.boolean(n, what)
		return b
	case "within":
		if d := l.duration(n, what); d != nil {
			return d
		}
		return nil
	}
	return l.instant(n, what) // before, after
}

// ordered decodes a value that can be compared: a number or a string (dates).
func (l *loader) ordered(n *yaml.Node, what string) any {
	v, ok := l.scalar(n, what)
	if !ok {
		return nil
	}
	switch v.(type) {
	case nil, bool:
		l.errorf(l.pos(n), "compare with a number, a date or a string", "%s needs a comparable value, got %s", what, describeValue(v))
		return nil
	}
	return v
}

// member decodes an element of in/not_in: any value but null.
func (l *loader) member(n *yaml.Node, what string) any {
	v, ok := l.scalar(n, what)
	if ok && v == nil {
		l.errorf(l.pos(n), "null never matches; use `is_set: false`", "%s cannot hold an empty value", what)
	}
	return v
}

// scalarList decodes a list of values with elem; want < 0 means any non-zero length.
func (l *loader) scalarList(n *yaml.Node, what string, want int, elem func(*yaml.Node, string) any) []any {
	hint := "write a list, e.g. `[FR, DE]`"
	if want == 2 {
		hint = "write `[low, high]`"
	}
	if !l.expect(n, yaml.SequenceNode, what, hint) {
		return nil
	}
	items, _ := l.list(n, what)
	switch {
	case want < 0 && len(items) == 0:
		l.errorf(l.pos(n), "list at least one value", "%s is empty", what)
	case want > 0 && len(items) != want:
		l.errorf(l.pos(n), "write `[low, high]` (both inclusive)", "%s needs exactly 2 values, got %d", what, len(items))
	}
	out := make([]any, 0, len(items))
	for _, item := range items {
		out = append(out, elem(item, what))
	}
	return out
}

// timestampLayouts are the literal dates and timestamps accepted by before/after.
var timestampLayouts = []string{
	time.DateOnly, time.RFC3339Nano, "2006-01-02T15:04:05", time.DateTime, "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05.999999999",
}

// instant decodes before/after: a literal date or timestamp (a time.Time in
// UTC; without an offset it is read as UTC),
// or a duration meaning "that long ago" (a *Duration).
func (l *loader) instant(n *yaml.Node, what string) any {
	s, ok := l.text(n, what)
	if !ok {
		return nil
	}
	if d, ok := parseDuration(s); ok {
		return d
	}
	for _, layout := range timestampLayouts {
		if tm, err := time.Parse(layout, s); err == nil {
			// parsed once here, offsets normalized: every dialect compares
			// with the same instant
			return tm.UTC()
		}
	}
	l.errorf(l.pos(n), "a date `2024-01-31`, a timestamp `2024-01-31T12:00:00Z`, or a duration ago such as `30d`",
		"%s needs a date, a timestamp or a duration, got `%s`", what, s)
	return nil
}

// eventCondition decodes { event, source, count, within, where } and defers the
// resolution of the event source.
func (l *loader) eventCondition(c *Condition, m *mapNode) {
	if s, ok := l.text(m.get(CondEvent), "`event`"); ok {
		if s == "" {
			l.errorf(l.valuePos(m, CondEvent), "name the event, e.g. `order_completed`", "`event` is empty")
		}
		c.Event = s
	}
	c.EventSource = l.optText(m, "source")
	c.Count = &CountCond{Op: "gte", Value: 1}
	if n := m.get("count"); n != nil {
		c.Count = l.countCond(n)
	}
	if n := m.get("within"); n != nil {
		c.EventWithin = l.duration(n, "`within`")
	}
	c.EventWhere = l.optSQL(m, "where", true)
	named, at, withinAt := c.EventSource != "", l.valuePos(m, "source"), l.valuePos(m, "within")
	l.later = append(l.later, func() { l.resolveEventSource(c, named, at, withinAt) })
}

// countCond decodes { op: n }.
func (l *loader) countCond(n *yaml.Node) *CountCond {
	if !l.expect(n, yaml.MappingNode, "`count`", "write `{ gte: 2 }`, or `{ eq: 0 }` for \"did not\"") {
		return nil
	}
	m, _ := l.mapping(n, "`count`", countOps, false)
	ops := m.present(countOps...)
	if len(ops) != 1 {
		l.errorf(l.pos(m.node), "write one comparison such as `{ gte: 2 }`", "`count` needs exactly one of %s", joinTicks(countOps))
		return nil
	}
	v, ok := l.integer(m.get(ops[0]), "`count."+ops[0]+"`")
	if !ok {
		return nil
	}
	if v < 0 {
		l.errorf(l.valuePos(m, ops[0]), "counts are 0 or more", "`count.%s` must not be negative", ops[0])
	}
	return &CountCond{Op: ops[0], Value: v}
}

// resolveEventSource fills EventSource when omitted and checks it is an event stream.
func (l *loader) resolveEventSource(c *Condition, named bool, at, withinAt Pos) {
	var s *Source
	if named {
		if s = l.sourceRef(c.EventSource, at); s == nil {
			return
		}
		if !s.IsEventStream() {
			l.errorf(at, "add `event: <column with the event name>` to the source", "source `%s` is not an event source", s.Name)
			return
		}
	} else {
		names := l.eventSources()
		switch len(names) {
		case 0:
			l.errorf(c.Pos, "declare a source with `event: <column with the event name>`", "no event source for `event: %s`", c.Event)
			return
		case 1:
			s = l.sources[names[0]]
			c.EventSource = s.Name
		default:
			l.errorf(c.Pos, "add `source:` naming one of "+joinTicks(names), "event `%s` is ambiguous: there are %d event sources", c.Event, len(names))
			return
		}
	}
	if c.EventWithin != nil && s.Timestamp == "" {
		l.errorf(withinAt, "add `timestamp:` to source `"+s.Name+"`", "`within` needs source `%s` to declare a `timestamp`", s.Name)
	}
}
