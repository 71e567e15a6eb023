package models

import (
	"testing"
	"time"
)

func TestSegmentErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{name: "unknown trait", files: map[string]string{"models/t.yml": `segments:
  - name: s1
    where: { trait: contry, eq: FR }
`}, want: []want{{"models/t.yml:3:21: error", "unknown trait `contry`", "did you mean `country`?"}}},
		{name: "operators", files: map[string]string{"models/t.yml": `segments:
  - name: s1
    where:
      all:
        - { trait: ltv, gte: 1, lte: 5 }
        - { trait: ltv }
        - { trait: ltv, gtee: 1 }
        - { trait: country, in: FR }
        - { trait: ltv, between: [1] }
        - { trait: email, is_set: yes }
        - { trait: email, within: 2 months }
        - { trait: email, before: yesterday }
        - { trait: email, eq: null }
        - { trait: ltv, gt: true }
        - { trait: country, not_in: [] }
`}, want: []want{
			{"models/t.yml:5:33: error", "condition on trait `ltv` has several operators (`gte`, `lte`)", "between"},
			{"models/t.yml:6:11: error", "condition on trait `ltv` needs an operator", ""},
			{"models/t.yml:7:11: error", "condition on trait `ltv` needs an operator", ""},
			{"models/t.yml:7:25: error", "unknown key `gtee` in trait condition", "did you mean `gte`?"},
			{"models/t.yml:8:33: error", "`in` must be a list, got a string", "[FR, DE]"},
			{"models/t.yml:9:34: error", "`between` needs exactly 2 values, got 1", ""},
			{"models/t.yml:10:35: error", "`is_set` must be a boolean, got \"yes\"", "true"},
			{"models/t.yml:11:35: error", "bad duration `2 months` for `within`", ""},
			{"models/t.yml:12:35: error", "`before` needs a date, a timestamp or a duration, got `yesterday`", "30d"},
			{"models/t.yml:13:31: error", "`eq` needs a value, got an empty value", "is_set"},
			{"models/t.yml:14:29: error", "`gt` needs a comparable value, got a boolean", ""},
			{"models/t.yml:15:37: error", "`not_in` is empty", ""},
		}},
		{name: "condition shapes", files: map[string]string{"models/t.yml": `segments:
  - name: s1
    where:
      any:
        - { trait: ltv, gt: 1, segment: base_seg }
        - {}
        - [ { trait: ltv, gt: 1 } ]
        - not: [ { segment: base_seg } ]
        - { all: [] }
        - { traits: ltv, gt: 1 }
  - name: s2
    where: [ { trait: ltv, gt: 1 } ]
  - name: s3
`}, want: []want{
			{"models/t.yml:5:32: error", "a condition cannot mix `trait` and `segment`", "all:"},
			{"models/t.yml:6:11: error", "a condition needs one of `trait`, `event`, `segment`", ""},
			{"models/t.yml:7:11: error", "a condition must be a map, got a list", "wrap several conditions"},
			{"models/t.yml:8:16: error", "`not` takes a single condition, got a list", "not: { any:"},
			{"models/t.yml:9:18: error", "`all` is empty", ""},
			{"models/t.yml:10:11: error", "a condition needs one of", "did you mean `trait`?"},
			{"models/t.yml:12:12: error", "a condition must be a map, got a list", ""},
			{"models/t.yml:13:5: error", "segment `s3` needs `where`", ""},
		}},
		{name: "segment references and cycles", files: map[string]string{"models/t.yml": `segments:
  - name: a
    where: { segment: b }
  - name: b
    where:
      all:
        - { segment: base_seg }
        - not: { segment: c }
  - name: c
    where: { any: [ { segment: a } ] }
  - name: d
    where: { segment: d }
  - name: e
    where: { segment: base_sg }
`}, want: []want{
			{"models/t.yml:10:32: error", "segment reference cycle: a → b → c → a", "cannot include itself"},
			{"models/t.yml:12:23: error", "segment reference cycle: d → d", ""},
			{"models/t.yml:14:23: error", "unknown segment `base_sg`", "did you mean `base_seg`?"},
		}},
		{name: "holdout", files: map[string]string{"models/t.yml": `segments:
  - { name: h1, where: { trait: ltv, gt: 1 }, holdout: 10 }
  - { name: h2, where: { trait: ltv, gt: 1 }, holdout: 100% }
  - { name: h3, where: { trait: ltv, gt: 1 }, holdout: -0.1 }
  - { name: h4, where: { trait: ltv, gt: 1 }, holdout: ten }
  - { name: h5, where: { trait: ltv, gt: 1 }, holdout: 1 }
`}, want: []want{
			{"models/t.yml:2:56: error", "holdout 10 is out of range [0, 1)", "did you mean `10%`?"},
			{"models/t.yml:3:56: error", "bad holdout `100%`", "below 100%"},
			{"models/t.yml:4:56: error", "holdout -0.1 is out of range", ""},
			{"models/t.yml:5:56: error", "bad holdout `ten`", ""},
			{"models/t.yml:6:56: error", "holdout 1 is out of range", "did you mean `1%`?"},
		}},
		{name: "numbers that compare as NULL", files: map[string]string{"models/t.yml": `segments:
  - { name: n1, where: { trait: ltv, gte: .nan } }
  - { name: n2, where: { trait: ltv, gte: -.inf } }
  - { name: n3, where: { trait: ltv, gte: 1e400 } }
  - { name: n4, where: { trait: ltv, gte: "1e400" } }
  - { name: n5, where: { trait: ltv, between: [0, .inf] } }
  - { name: n6, where: { trait: ltv, gte: 1e308 } }
`}, want: []want{
			{"models/t.yml:2:43: error", ".nan is not a finite number", "matches nothing"},
			{"models/t.yml:3:43: error", "-.inf is not a finite number", "matches nothing"},
			{"models/t.yml:4:43: error", "number 1e400 is out of range", "quote it"},
			{"models/t.yml:6:51: error", ".inf is not a finite number", ""},
		}},
		{name: "event conditions", files: map[string]string{"models/t.yml": `segments:
  - name: s1
    where:
      all:
        - { event: order_completed, source: crm }
        - { event: order_completed, source: evnts }
        - { event: x, count: { gte: 1, lt: 3 } }
        - { event: x, count: 2 }
        - { event: x, count: { gte: -1 } }
        - { event: x, count: { atleast: 1 } }
        - { event: x, within: 30 }
        - { event: x, properties: { a: 1 } }
`}, want: []want{
			{"models/t.yml:5:45: error", "source `crm` is not an event source", "event: <column"},
			{"models/t.yml:6:45: error", "unknown source `evnts`", "did you mean `events`?"},
			{"models/t.yml:7:30: error", "`count` needs exactly one of", ""},
			{"models/t.yml:8:30: error", "`count` must be a map, got an integer", "gte: 2"},
			{"models/t.yml:9:37: error", "`count.gte` must not be negative", ""},
			{"models/t.yml:10:32: error", "unknown key `atleast` in `count`", ""},
			{"models/t.yml:10:30: error", "`count` needs exactly one of", ""},
			{"models/t.yml:11:31: error", "bad duration `30` for `within`", ""},
			{"models/t.yml:12:23: error", "unknown key `properties` in event condition", ""},
		}},
		{name: "ambiguous event source", files: map[string]string{"models/t.yml": `sources:
  - name: app_events
    table: raw.app
    event: name
    identifiers: [{ column: user_id, type: user_id }]
segments:
  - name: s1
    where: { event: signup }
  - name: s2
    where: { event: signup, source: app_events, within: 7d }
`}, want: []want{
			{"models/t.yml:8:12: error", "event `signup` is ambiguous: there are 2 event sources", "`events`, `app_events`"},
			{"models/t.yml:10:57: error", "`within` needs source `app_events` to declare a `timestamp`", ""},
		}},
		{name: "no event source", files: map[string]string{"models/base.yml": baseNoEvents(), "models/t.yml": `segments:
  - name: s1
    where: { event: signup }
`}, want: []want{{"models/t.yml:3:12: error", "no event source for `event: signup`", "declare a source with `event:"}}},
	})
}

// baseNoEvents is baseModels where the events source is not an event stream.
func baseNoEvents() string {
	const ev = "    event: event_name\n"
	i := indexOf(baseModels, ev)
	return baseModels[:i] + baseModels[i+len(ev):]
}

// TestInstantsAreParsedOnce: before/after timestamps become one instant in
// UTC whatever their spelling, so no dialect compares them as text.
func TestInstantsAreParsedOnce(t *testing.T) {
	p, ds := load(t, map[string]string{"models/base.yml": baseModels, "models/t.yml": `segments:
  - { name: a, where: { trait: ltv, before: "2024-01-31 12:00:00+02:00" } }
  - { name: b, where: { trait: ltv, after: "2024-01-31T10:00:00Z" } }
  - { name: c, where: { trait: ltv, after: "2024-01-31 10:00:00" } }
  - { name: d, where: { trait: ltv, after: 2024-01-31T05:00:00-05:00 } }
`})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	want := time.Date(2024, 1, 31, 10, 0, 0, 0, time.UTC)
	for _, name := range []string{"a", "b", "c", "d"} {
		s := p.Segment(name)
		if s == nil || s.Where == nil {
			t.Fatalf("segment %s missing", name)
		}
		if got, ok := s.Where.Value.(time.Time); !ok || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("segment %s: value %#v, want %v", name, s.Where.Value, want)
		}
	}
}
