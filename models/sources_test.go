package models

import "testing"

func TestSourceErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{name: "unknown key with suggestion", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    table: raw.s1
    primay_key: id
    identifiers: [{ column: email, type: email }]
`}, want: []want{{"models/t.yml:4:5: error", "unknown key `primay_key` in source `s1`", "did you mean `primary_key`?"}}},
		{name: "table and sql", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    table: raw.s1
    sql: select 1
    identifiers: [{ column: email, type: email }]
`}, want: []want{{"models/t.yml:4:5: error", "source `s1` sets both `table` and `sql`", "keep only one"}}},
		{name: "neither table nor sql", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    identifiers: [{ column: email, type: email }]
`}, want: []want{{"models/t.yml:2:5: error", "source `s1` needs `table` or `sql`", ""}}},
		{name: "missing name", files: map[string]string{"models/t.yml": `sources:
  - table: raw.s1
    identifiers: [{ column: email, type: email }]
`}, want: []want{{"models/t.yml:2:5: error", "source needs a `name`", ""}}},
		{name: "bad name", files: map[string]string{"models/t.yml": `sources:
  - name: CRM-2
    table: raw.s1
    identifiers: [{ column: email, type: email }]
`}, want: []want{{"models/t.yml:2:11: error", "bad source name `CRM-2`", "crm_2"}}},
		{name: "no identifiers is a warning", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    table: raw.s1
`}, want: []want{{"models/t.yml:2:5: warning", "source `s1` has no identifiers", ""}}},
		{name: "identifier type unknown", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    table: raw.s1
    identifiers:
      - { column: mail, type: emial }
      - { column: x, type: loyalty_card }
`}, want: []want{
			{"models/t.yml:5:31: error", "unknown identifier type `emial`", "did you mean `email`?"},
			{"models/t.yml:6:28: error", "unknown identifier type `loyalty_card`", "declare it under `identity.id_types`"},
		}},
		{name: "identifier column and expr", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    table: raw.s1
    identifiers:
      - { column: email, expr: lower(email), type: email }
`}, want: []want{{"models/t.yml:5:26: error", "identifier sets both `column` and `expr`", ""}}},
		{name: "identifier without column, expr or type", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    table: raw.s1
    identifiers:
      - {}
`}, want: []want{
			{"models/t.yml:5:9: error", "identifier needs `column` or `expr`", ""},
			{"models/t.yml:5:9: error", "identifier needs a `type`", ""},
		}},
		{name: "identifiers is a map", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    table: raw.s1
    identifiers: { column: email, type: email }
`}, want: []want{{"models/t.yml:4:18: error", "`identifiers` must be a list, got a map", ""}}},
		{name: "as_of in a source", files: map[string]string{"models/t.yml": `sources:
  - name: recent
    sql: "SELECT * FROM raw.crm WHERE updated_at > {{ as_of }}"
    identifiers:
      - { column: email, type: email }
`}, want: []want{{"models/t.yml:3:10: error", "`{{ as_of }}` is not allowed in a source's `sql`", "must not change"}}},
		{name: "exclude patterns that differ between engines", files: map[string]string{"models/base.yml": replaceIdentity(`identity:
  id_types:
    - name: email
      normalize: email
      exclude: ['@test\z', '\pL+@x', '(?P<u>.*)@x', '\btest\b', '^a(?i)b', '(?i)^test@', '^(?:a|b)@x\.com$', '\d{3}\s']
    - name: user_id
`)}, want: []want{
			{"models/base.yml:5:17: error", "exclude pattern `@test\\z` uses `\\z`", "write `$`"},
			{"models/base.yml:5:28: error", "uses `\\p`", "Unicode classes"},
			{"models/base.yml:5:38: error", "uses `(?P<name>…)`", "named groups"},
			{"models/base.yml:5:53: error", "uses `\\b`", "backspace"},
			{"models/base.yml:5:65: error", "uses `(?i)`", "very start"},
		}},
		{name: "duplicate source across files", files: map[string]string{"models/t.yml": `sources:
  - name: crm
    table: raw.crm2
    identifiers: [{ column: email, type: email }]
`}, want: []want{{"models/t.yml:2:11: error", "duplicate source `crm` (first declared at models/base.yml:7:11)", ""}}},
		{name: "sources is a map", files: map[string]string{"models/t.yml": "sources:\n  name: s1\n"},
			want: []want{{"models/t.yml:2:3: error", "`sources` must be a list, got a map", "- name:"}}},
		{name: "string where list expected", files: map[string]string{"models/t.yml": "sources: crm\n"},
			want: []want{{"models/t.yml:1:10: error", "`sources` must be a list, got a string", ""}}},
		{name: "table is a map", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    table: { schema: raw }
    identifiers: [{ column: email, type: email }]
`}, want: []want{{"models/t.yml:3:12: error", "`table` must be a string, got a map", ""}}},
		{name: "empty timestamp", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    table: raw.s1
    timestamp: ""
    identifiers: [{ column: email, type: email }]
`}, want: []want{{"models/t.yml:4:16: error", "`timestamp` is empty in source `s1`", ""}}},
	})
}

func TestIdentityErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{name: "second identity block", files: map[string]string{"models/t.yml": `identity:
  id_types: [{ name: email }]
`}, want: []want{{"models/t.yml:2:3: error", "only one `identity` block per project (first at models/base.yml:2:3)", ""}}},
		{name: "bad id type fields", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    table: raw.s1
    identifiers: [{ column: a, type: phone }, { column: b, type: card }, { column: c, type: device }]
`, "models/base.yml": replaceIdentity(`identity:
  id_types:
    - name: email
      normalize: mail
      exclude: ['[a-']
    - name: user_id
      limit: 0
    - name: phone
      normalize: phone
      default_country: fr
    - name: card
      limit: "3"
    - name: device
      normalize: trim
      default_country: FR
  max_profile_identifiers: 0
`)}, want: []want{
			{"models/base.yml:4:18: error", "unknown normalizer `mail`", "did you mean `email`?"},
			{"models/base.yml:5:17: error", "bad exclude pattern `[a-`", "RE2"},
			{"models/base.yml:7:14: error", "`limit` must be at least 1, got 0", "remove `limit` for no limit"},
			{"models/base.yml:10:24: error", "bad `default_country` `fr`", "FR"},
			{"models/base.yml:12:14: error", "`limit` must be an integer, got \"3\"", ""},
			{"models/base.yml:15:24: warning", "`default_country` is only used with `normalize: phone`", ""},
			{"models/base.yml:16:28: error", "`max_profile_identifiers` must be at least 1, got 0", ""},
		}},
		{name: "phone countries", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    table: raw.s1
    identifiers:
      - { column: a, type: phone, country: pays }
      - { column: b, type: card, country: pays }
`, "models/base.yml": replaceIdentity(`identity:
  id_types:
    - name: phone
      normalize: phone
      default_country: UK
    - name: card
      normalize: lowercase
    - name: email
    - name: user_id
`)}, want: []want{
			{"models/base.yml:5:24: error", "libphonenumber has no phone numbering plan for `default_country` `UK`", "(not `UK`)"},
			{"models/t.yml:6:43: warning", "`country` is only used by phone identifiers; `card` is normalized with `lowercase`", "normalize: phone"},
		}},
		{name: "gmail_canonical values", files: map[string]string{"models/t.yml": `sources:
  - name: s1
    table: raw.s1
    identifiers: [{ column: a, type: email }, { column: b, type: user_id }, { column: c, type: phone }]
`, "models/base.yml": replaceIdentity(`identity:
  id_types:
    - name: email
      normalize: email
      gmail_canonical: yes please
    - name: user_id
      gmail_canonical: true
    - name: phone
      normalize: phone
      default_country: FR
      gmail_canonical: false
`)}, want: []want{
			{"models/base.yml:5:24: error", "`gmail_canonical` must be a boolean, got \"yes please\"", "write `true` or `false`"},
			{"models/base.yml:7:24: error", "`gmail_canonical` needs `normalize: email`, id type `user_id` has `normalize: trim`", "normalize: email"},
		}},
		{name: "phone without country warns", files: map[string]string{"models/base.yml": replaceIdentity(`identity:
  id_types:
    - name: email
    - name: user_id
    - name: phone
      normalize: phone
`), "models/t.yml": `sources:
  - name: s1
    table: raw.s1
    identifiers: [{ column: a, type: phone }]
`}, want: []want{{"models/base.yml:5:7: warning", "id type `phone` has no `default_country`; assuming US", "default_country: FR"}}},
		{name: "duplicate id type and unused one", files: map[string]string{"models/base.yml": replaceIdentity(`identity:
  id_types:
    - name: email
    - name: user_id
    - name: email
    - name: card
`)}, want: []want{
			{"models/base.yml:5:7: error", "duplicate id type `email` (first declared at models/base.yml:3:7)", ""},
			{"models/base.yml:6:7: warning", "id type `card` is not used by any source identifier", ""},
		}},
		{name: "no id_types", files: map[string]string{"models/base.yml": replaceIdentity("identity: {}\n")},
			want: []want{
				{"models/base.yml:1:11: error", "`identity` needs `id_types`", ""},
				{"models/base.yml:7:32: error", "unknown identifier type `email`", ""},
				{"models/base.yml:13:34: error", "unknown identifier type `user_id`", ""},
				{"models/base.yml:17:32: error", "unknown identifier type `email`", ""},
			}},
		{name: "exclude is a string", files: map[string]string{"models/base.yml": replaceIdentity(`identity:
  id_types:
    - name: email
      exclude: '@example\.com$'
    - name: user_id
`)}, want: []want{{"models/base.yml:4:16: error", "`exclude` must be a list, got a string", "write a list"}}},
	})
}

// replaceIdentity returns baseModels with its identity block replaced by block.
func replaceIdentity(block string) string {
	const end = "      normalize: email\n    - name: user_id\n"
	i := indexOf(baseModels, end) + len(end)
	return block + baseModels[i:]
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
