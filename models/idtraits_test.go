package models

import (
	"reflect"
	"testing"
)

func TestIdentifierTraitErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{name: "unknown id type", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, identifier: emial }
  - { name: t2, identifier: phone }
`}, want: []want{
			{"models/t.yml:2:29: error", "unknown identifier type `emial`", "did you mean `email`?"},
			{"models/t.yml:3:29: error", "unknown identifier type `phone`", "declare it under `identity.id_types`"},
		}},
		{name: "combined with from or expr", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, from: crm.email, identifier: email }
  - { name: t2, identifier: email, expr: "1" }
`}, want: []want{
			{"models/t.yml:2:34: error", "trait `t1` sets both `from` and `identifier`", "keep only one"},
			{"models/t.yml:3:17: error", "trait `t2` sets both `expr` and `identifier`", ""},
		}},
		{name: "aggregate where within type", files: map[string]string{"models/t.yml": `traits:
  - name: t1
    identifier: email
    aggregate: count
    where: "x > 1"
    within: 7d
    type: integer
  - { name: t2, identifier: email, type: string }
`}, want: []want{
			{"models/t.yml:4:16: error", "`aggregate` does not apply to identifier traits", "remove it"},
			{"models/t.yml:5:12: error", "`where` does not apply to identifier traits", ""},
			{"models/t.yml:6:13: error", "`within` does not apply to identifier traits", ""},
			{"models/t.yml:7:11: error", "identifier traits are of type `string`, not `integer`", "remove `type`"},
		}},
		{name: "unknown pick", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, identifier: email, pick: most_recnt }
  - { name: t2, identifier: email, pick: latest }
  - { name: t3, identifier: email, pick: max }
  - { name: t4, from: crm.email, pick: most_recent }
  - { name: t5, from: crm.email, pick: source_priority }
`}, want: []want{
			{"models/t.yml:2:42: error", "unknown pick `most_recnt`", "did you mean `most_recent`?"},
			{"models/t.yml:3:42: error", "pick `latest` does not apply to identifier traits", "did you mean `most_recent`?"},
			{"models/t.yml:4:42: error", "pick `max` does not apply to identifier traits", "`source_priority`"},
			{"models/t.yml:5:40: error", "pick `most_recent` only applies to identifier traits", "`identifier: <id type>`"},
			{"models/t.yml:6:40: error", "pick `source_priority` only applies to identifier traits", "`pick: latest`"},
		}},
		{name: "sources", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, identifier: email, pick: source_priority, sources: [orders, crn, events, orders] }
  - { name: t2, identifier: email, sources: [] }
  - { name: t3, from: crm.email, sources: [crm] }
`}, want: []want{
			{"models/t.yml:2:77: error", "unknown source `crn`", "did you mean `crm`?"},
			{"models/t.yml:2:82: error", "source `events` maps no `email` identifier", "sources that map one: `crm`, `orders`"},
			{"models/t.yml:2:90: error", "source `orders` is listed twice in `sources`", ""},
			{"models/t.yml:3:45: error", "`sources` is empty", ""},
			{"models/t.yml:4:43: error", "`sources` only applies to identifier traits", "from: [a.col, b.col]"},
		}},
		{name: "no source maps the type", files: map[string]string{
			"models/base.yml": `identity:
  id_types:
    - name: email
      normalize: email
    - name: phone
      normalize: phone
      default_country: FR
sources:
  - name: crm
    table: raw.crm
    identifiers:
      - { column: email, type: email }
`,
			"models/t.yml": `traits:
  - { name: t1, identifier: phone }
`}, want: []want{
			{"models/t.yml:2:29: error", "no source maps an identifier of type `phone`", "type: phone"},
			{"models/base.yml:5:7: warning", "id type `phone` is not used by any source identifier", ""},
		}},
		{name: "most_recent needs a timestamp", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, identifier: email, pick: most_recent, sources: [orders] }
  - { name: t2, identifier: email, pick: most_recent }
`}, want: []want{
			{"models/t.yml:2:42: error", "pick `most_recent` needs a source with a `timestamp`", "add `timestamp:` to source `orders`"},
		}},
	})
}

func TestIdentifierTraitModel(t *testing.T) {
	p, ds := load(t, map[string]string{"models/base.yml": baseModels, "models/t.yml": `traits:
  - { name: email_id, identifier: email }
  - { name: email_recent, identifier: email, pick: most_recent }
  - { name: email_crm_first, identifier: email, pick: source_priority, sources: [orders, crm] }
`})
	if len(ds) != 0 {
		t.Fatalf("unexpected diagnostics:\n%s", ds.Error())
	}
	type got struct {
		Pick, Identifier string
		Sources          []string
		Read             []string
	}
	check := func(name string, want got) {
		t.Helper()
		tr := p.Trait(name)
		g := got{Pick: tr.Pick, Identifier: tr.Identifier, Sources: tr.Sources}
		for _, s := range p.IdentifierSources(tr) {
			g.Read = append(g.Read, s.Name)
		}
		if !reflect.DeepEqual(g, want) || !tr.IsIdentifier() || tr.IsExpr() || len(tr.From) != 0 {
			t.Errorf("%s: got %+v, want %+v", name, g, want)
		}
	}
	check("email_id", got{Pick: PickMostFrequent, Identifier: "email", Read: []string{"crm", "orders"}})
	check("email_recent", got{Pick: PickMostRecent, Identifier: "email", Read: []string{"crm", "orders"}})
	check("email_crm_first", got{Pick: PickSourcePriority, Identifier: "email", Sources: []string{"orders", "crm"}, Read: []string{"orders", "crm"}})
	if p.Trait("email").IsIdentifier() {
		t.Error("a from trait is not an identifier trait")
	}
}
