package models

import (
	"strings"
	"testing"
)

func TestDestinationAndSyncErrors(t *testing.T) {
	runErrorCases(t, []errorCase{
		{name: "destinations", files: map[string]string{"models/t.yml": `destinations:
  - { name: d1, type: webhook, rate_limit: 20/sec }
  - { name: d2, url: x }
  - { name: d3, type: webhook, headers: { a: b } }
  - { name: d4, type: webhook, rate_limit: 0/s }
  - { name: hook, type: webhook }
`}, want: []want{
			{"models/t.yml:2:44: error", "bad rate_limit `20/sec`", "`20/s`"},
			{"models/t.yml:3:5: error", "destination `d2` needs a `type`", ""},
			{"models/t.yml:4:41: error", "setting `headers` of destination `d3` must be a single value, got a map", "options"},
			{"models/t.yml:5:44: error", "bad rate_limit `0/s`", ""},
			{"models/t.yml:6:13: error", "duplicate destination `hook` (first declared at models/base.yml:30:13)", ""},
		}},
		{name: "sync references", files: map[string]string{"models/t.yml": `syncs:
  - name: s1
    segment: base_sg
    destination: hoook
    key: emial
    fields: { mail: email, cc: contry, id: profile_id }
`}, want: []want{
			{"models/t.yml:3:14: error", "unknown segment `base_sg`", "did you mean `base_seg`?"},
			{"models/t.yml:4:18: error", "unknown destination `hoook`", "did you mean `hook`?"},
			{"models/t.yml:5:10: error", "unknown trait `emial`", "did you mean `email`?"},
			{"models/t.yml:6:32: error", "unknown trait `contry`", "did you mean `country`?"},
		}},
		{name: "hashed fields", files: map[string]string{"models/t.yml": `syncs:
  - name: s1
    segment: base_seg
    destination: hook
    key: email
    fields:
      a: { trait: email, hash: google_emial }
      b: { hash: meta_email }
      c: { trait: emial, hash: sha256 }
      d: { trait: email, hash: md5 }
      e: { trait: email, salt: x }
`}, want: []want{
			{"models/t.yml:7:32: error", "unknown hash profile `google_emial` in field `a`", "did you mean `google_email`?"},
			{"models/t.yml:8:10: error", "field `b` needs a `trait`", "trait: email, hash: google_email"},
			{"models/t.yml:9:19: error", "unknown trait `emial`", "did you mean `email`?"},
			{"models/t.yml:10:32: error", "unknown hash profile `md5` in field `d`", "known profiles: google_email"},
			{"models/t.yml:11:26: error", "unknown key `salt` in field `e`", "known keys: trait, hash"},
		}},
		{name: "sync audience", files: map[string]string{"models/t.yml": `syncs:
  - { name: s1, segment: base_seg, all_profiles: true, destination: hook, key: email }
  - { name: s2, destination: hook, key: email }
  - { name: s3, all_profiles: false, destination: hook, key: email }
  - { name: s4, all_profiles: yes, destination: hook, key: email }
  - { name: s5, all_profiles: true }
`}, want: []want{
			{"models/t.yml:2:50: error", "sync `s1` sets both `segment` and `all_profiles: true`", ""},
			{"models/t.yml:3:5: error", "sync `s2` needs `segment` or `all_profiles: true`", ""},
			{"models/t.yml:4:5: error", "sync `s3` needs `segment` or `all_profiles: true`", ""},
			{"models/t.yml:5:31: error", "`all_profiles` must be a boolean", ""},
			{"models/t.yml:5:5: error", "sync `s4` needs `segment` or `all_profiles: true`", ""},
			{"models/t.yml:6:5: error", "sync `s5` needs a `destination`", ""},
			{"models/t.yml:6:5: error", "sync `s5` needs a `key`", ""},
		}},
		{name: "sync settings", files: map[string]string{"models/t.yml": `syncs:
  - name: s1
    all_profiles: true
    destination: hook
    key: email
    mode: mirorr
    schedule: every hour
    max_removals: lots
    null_values: drop
    options: [a]
    fields: [email]
  - name: s2
    all_profiles: true
    destination: hook
    key: email
    schedule: "@every 1x"
    max_removals: 101%
  - name: s3
    all_profiles: true
    destination: hook
    key: email
    schedule: "61 * * * * *"
    max_removals: -1
`}, want: []want{
			{"models/t.yml:6:11: error", "unknown sync mode `mirorr`", "did you mean `mirror`?"},
			{"models/t.yml:7:15: error", "bad schedule `every hour`", "*/30 * * * *"},
			{"models/t.yml:8:19: error", "bad max_removals `lots`", "10%"},
			{"models/t.yml:9:18: error", "unknown null_values `drop`", "`skip`"},
			{"models/t.yml:10:14: error", "`options` must be a map, got a list", ""},
			{"models/t.yml:11:13: error", "`fields` must be a map, got a list", ""},
			{"models/t.yml:16:15: error", "bad schedule `@every 1x`", ""},
			{"models/t.yml:17:19: error", "bad max_removals `101%`", ""},
			{"models/t.yml:22:15: error", "bad schedule `61 * * * * *`", ""},
			{"models/t.yml:23:19: error", "bad max_removals `-1`", ""},
		}},
	})
}

func TestSyncHashedFields(t *testing.T) {
	p, ds := load(t, map[string]string{"models/base.yml": baseModels, "models/t.yml": `syncs:
  - name: s1
    segment: base_seg
    destination: hook
    key: email
    fields: { email: email, email_sha256: { trait: email, hash: google_email }, cc: { trait: country } }
`})
	if ds.HasErrors() {
		t.Fatal(ds.Error())
	}
	if len(ds.Warnings()) != 1 || !strings.Contains(ds.Warnings()[0].String(), "models/t.yml:5:10: warning: sync `s1` hashes `email` in field `email_sha256` but sends it plain as the key") {
		t.Errorf("want one warning about the plain key, got %v", ds)
	}
	want := []FieldMap{{Field: "email", Trait: "email"}, {Field: "email_sha256", Trait: "email", Hash: "google_email"}, {Field: "cc", Trait: "country"}}
	if got := p.Sync("s1").Fields; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("fields = %+v, want %+v", got, want)
	}
}

func TestSyncModel(t *testing.T) {
	p, ds := load(t, map[string]string{"models/base.yml": baseModels, "models/t.yml": `syncs:
  - name: s1
    segment: base_seg
    destination: hook
    key: profile_id
    fields: { z: email, a: country, m: ltv }
    max_removals: 25
`})
	if ds.HasErrors() {
		t.Fatal(ds.Error())
	}
	s := p.Sync("s1")
	if s.Mode != "upsert" || s.NullValues != "skip" || s.MaxRemovals != "25" || s.Options == nil || len(s.Options) != 0 {
		t.Errorf("defaults: %+v", s)
	}
	if len(s.Fields) != 3 || s.Fields[0] != (FieldMap{Field: "z", Trait: "email"}) || s.Fields[1] != (FieldMap{Field: "a", Trait: "country"}) || s.Fields[2] != (FieldMap{Field: "m", Trait: "ltv"}) {
		t.Errorf("fields keep file order: %+v", s.Fields)
	}
	if p.Destination("hook").Settings["url"] != "http://x" || p.Destination("nope") != nil || p.Sync("nope") != nil {
		t.Error("lookups")
	}
}
