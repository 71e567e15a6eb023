package models

import (
	"reflect"
	"strings"
	"testing"
)

func TestTraitErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{name: "from and expr", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, from: crm.a, expr: "1" }
`}, want: []want{{"models/t.yml:2:30: error", "trait `t1` sets both `from` and `expr`", ""}}},
		{name: "neither from nor expr", files: map[string]string{"models/t.yml": `traits:
  - name: t1
    type: string
`}, want: []want{{"models/t.yml:2:5: error", "trait `t1` needs `from` or `expr`", ""}}},
		{name: "unknown source", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, from: crn.email }
  - { name: t2, from: [crm.a, shop.b] }
`}, want: []want{
			{"models/t.yml:2:23: error", "unknown source `crn`", "did you mean `crm`?"},
			{"models/t.yml:3:31: error", "unknown source `shop`", "declare it under `sources`"},
		}},
		{name: "whole source without count", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, from: orders, aggregate: sum }
  - { name: t2, from: crm }
  - { name: t3, from: orders, aggregate: count }
`}, want: []want{
			{"models/t.yml:2:23: error", "`from: orders` needs a column", "only `aggregate: count`"},
			{"models/t.yml:3:23: error", "`from: crm` needs a column", ""},
		}},
		{name: "list with aggregate", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, from: [crm.a, orders.a], aggregate: max }
`}, want: []want{{"models/t.yml:2:23: error", "a list of sources in `from` is only allowed with `pick`", ""}}},
		{name: "where and within need aggregate", files: map[string]string{"models/t.yml": `traits:
  - name: t1
    from: crm.a
    where: "x > 1"
    within: 7d
`}, want: []want{
			{"models/t.yml:4:12: error", "`where` only applies to aggregate traits", "aggregate"},
			{"models/t.yml:5:13: error", "`within` only applies to aggregate traits", ""},
		}},
		{name: "latest needs timestamp", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, from: orders.status }
  - { name: t2, from: orders.amount, pick: earliest }
  - { name: t3, from: orders.amount, aggregate: count, within: 30d }
  - { name: t4, from: orders.amount, pick: max }
`}, want: []want{
			{"models/t.yml:2:23: error", "pick `latest` needs source `orders` to declare a `timestamp`", "pick: most_frequent"},
			{"models/t.yml:3:44: error", "pick `earliest` needs source `orders` to declare a `timestamp`", ""},
			{"models/t.yml:4:64: error", "`within` needs source `orders` to declare a `timestamp`", ""},
		}},
		{name: "within needs timestamp", files: map[string]string{"models/t.yml": `traits:
  - { name: t3, from: orders.amount, aggregate: count, within: 30d }
`}, want: []want{{"models/t.yml:2:64: error", "`within` needs source `orders` to declare a `timestamp`", ""}}},
		{name: "bad vocabularies", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, from: crm.a, pick: lastest }
  - { name: t2, from: crm.a, aggregate: total }
  - { name: t3, from: crm.a, type: text }
  - { name: t4, from: crm.a, pick: max, aggregate: max }
`}, want: []want{
			{"models/t.yml:2:36: error", "unknown pick `lastest`", "did you mean `latest`?"},
			{"models/t.yml:3:41: error", "unknown aggregate `total`", "`count`"},
			{"models/t.yml:4:36: error", "unknown trait type `text`", ""},
			{"models/t.yml:5:41: error", "trait `t4` sets both `pick` and `aggregate`", ""},
		}},
		{name: "bad duration", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, from: crm.a, aggregate: count, within: 90 days }
  - { name: t2, from: crm.a, aggregate: count, within: 0d }
  - { name: t3, from: crm.a, aggregate: count, within: 3m }
`}, want: []want{
			{"models/t.yml:2:56: error", "bad duration `90 days` for `within`", "`30d`"},
			{"models/t.yml:3:56: error", "bad duration `0d`", ""},
			{"models/t.yml:4:56: error", "bad duration `3m`", ""},
		}},
		{name: "reserved names", files: map[string]string{"models/t.yml": `traits:
  - { name: profile_id, from: crm.id }
  - { name: updated_at, from: crm.updated_at }
`}, want: []want{
			{"models/t.yml:2:13: error", "trait name `profile_id` is reserved", ""},
			{"models/t.yml:3:13: error", "trait name `updated_at` is reserved", ""},
		}},
		{name: "expr with pick", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, expr: ltv * 2, pick: max }
`}, want: []want{{"models/t.yml:2:38: error", "`pick` does not apply to expr traits", ""}}},
		{name: "expr cycle", files: map[string]string{"models/t.yml": `traits:
  - { name: a, expr: "b + 1" }
  - { name: b, expr: "c * 2" }
  - { name: c, expr: "coalesce(a, ltv)" }
  - { name: d, expr: "D + 1" }
  - { name: e, expr: "'a b c' || ltv" }
`}, want: []want{
			{"models/t.yml:4:22: error", "trait expression cycle: a → b → c → a", ""},
			{"models/t.yml:5:22: error", "trait expression cycle: d → d", ""},
		}},
		{name: "bad from reference", files: map[string]string{"models/t.yml": `traits:
  - { name: t1, from: "crm." }
  - { name: t2, from: { crm: a } }
  - { name: t3, from: [] }
`}, want: []want{
			{"models/t.yml:2:23: error", "bad reference `crm.` in `from`", "source.column"},
			{"models/t.yml:3:23: error", "`from` must be `source.column` or a list, got a map", ""},
			{"models/t.yml:4:23: error", "`from` is empty", ""},
		}},
		{name: "placeholders", files: map[string]string{"models/t.yml": `traits:
  - { name: days, expr: "CAST({{ as_of }} AS DATE) - CAST(ltv AS DATE)" }
  - { name: recent, from: orders.amount, aggregate: sum, where: "ts > {{ as_of }} - INTERVAL '7 days'" }
  - { name: bad, expr: "{{ now }} - 1" }
`}, want: []want{{"models/t.yml:4:24: error", "unknown placeholder `{{ now }}` in `expr`", "{{ as_of }}"}}},
		{name: "names beyond 63 bytes", files: map[string]string{"models/t.yml": `traits:
  - { name: ` + strings.Repeat("a", 63) + `_one, from: crm.x }
  - { name: ` + strings.Repeat("a", 63) + `, from: crm.x }
`}, want: []want{{"models/t.yml:2:13: error", "trait name `aaaaaaaaaaaaaaaaaaaa…` is 67 bytes, more than 63", "first 63 bytes"}}},
		{name: "duplicate trait", files: map[string]string{"models/t.yml": `traits:
  - { name: email, from: crm.email2 }
`}, want: []want{{"models/t.yml:2:13: error", "duplicate trait `email` (first declared at models/base.yml:23:13)", ""}}},
	})
}

func TestExprIdents(t *testing.T) {
	got := exprIdents(`case when LTV >= 1000 and "country" = 'FR''s a' then x_1 else 2d end`)
	want := []string{"case", "when", "ltv", "and", "country", "then", "x_1", "else", "end"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
