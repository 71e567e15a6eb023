package bigquery

import "testing"

func TestOutputsColumn(t *testing.T) {
	for _, c := range []struct {
		q    string
		want bool
	}{
		{"SELECT m.id_type, p.profile_id, m.first_seen_at FROM x m JOIN p", true},
		{"SELECT a AS profile_id FROM t", true},
		{"SELECT a AS `profile_id` FROM t", true},
		{"SELECT DISTINCT profile_id FROM t", true},
		{"WITH s AS (SELECT profile_id FROM t) SELECT a, b FROM s", false},
		{"WITH s AS (SELECT 1 AS x) SELECT s.x AS Profile_ID FROM s", true},
		{"SELECT COALESCE(a, profile_id) FROM t", false},
		{"SELECT * FROM t", false},
		{"SELECT v.* FROM t v", false},
		{"SELECT 'profile_id' FROM t", false},
		{"SELECT a -- profile_id\n, b FROM t", false},
		{"SELECT CASE WHEN x THEN 1 END AS profile_id, 'it\\'s' AS y FROM t", true},
		{"SELECT x FROM (SELECT profile_id FROM t)", false},
	} {
		if got := outputsColumn(c.q, "profile_id"); got != c.want {
			t.Errorf("outputsColumn(%q) = %v, want %v", c.q, got, c.want)
		}
	}
}

func TestQuoting(t *testing.T) {
	d := Dialect{}
	for in, want := range map[string]string{
		"plain": "'plain'", "it's": `'it\'s'`, `a\b`: `'a\\b'`, "x\ny": `'x\ny'`, "\x01": `'\x01'`, "`": "'`'",
	} {
		if got := d.QuoteString(in); got != want {
			t.Errorf("QuoteString(%q) = %s, want %s", in, got, want)
		}
	}
	if got, want := d.QuoteIdent("a`b"), "`a\\`b`"; got != want {
		t.Errorf("QuoteIdent = %s, want %s", got, want)
	}
	if got, want := d.Relation("my-proj.raw.t"), "`my-proj`.`raw`.`t`"; got != want {
		t.Errorf("Relation = %s, want %s", got, want)
	}
	if got, want := d.Relation("`my-proj.raw`.t"), "`my-proj.raw`.`t`"; got != want {
		t.Errorf("Relation = %s, want %s", got, want)
	}
	if got, want := d.RegexpMatch("x", `^\d+$`), `REGEXP_CONTAINS(x, r'^\d+$')`; got != want {
		t.Errorf("RegexpMatch = %s, want %s", got, want)
	}
	if got, want := d.RegexpMatch("x", `'`), `REGEXP_CONTAINS(x, '\'')`; got != want {
		t.Errorf("RegexpMatch = %s, want %s", got, want)
	}
}

func TestLabelValue(t *testing.T) {
	if got := labelValue("identity.Customer"); got != "identity-customer" {
		t.Errorf("labelValue = %q", got)
	}
}
