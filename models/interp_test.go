package models

import (
	"reflect"
	"strings"
	"testing"
)

func TestInterpolate(t *testing.T) {
	env := mapEnv(map[string]string{"A": "alpha", "EMPTY": "", "B": "${A}"})
	for _, tc := range []struct {
		in, out, missing, err string
	}{
		{in: "plain", out: "plain"},
		{in: "${A}", out: "alpha"},
		{in: "x-${A}-${A}-y", out: "x-alpha-alpha-y"},
		{in: "${A:-d}", out: "alpha"},
		{in: "${UNSET:-d}", out: "d"},
		{in: "${UNSET:-}", out: ""},
		{in: "${EMPTY:-d}", out: "d"},
		{in: "${EMPTY}", out: ""},
		{in: "${B}", out: "${A}"}, // values are not re-interpolated
		{in: "${UNSET:-${A}}", out: "alpha"},
		{in: "${UNSET:-a:-b}", out: "a:-b"},
		{in: "${UNSET:-${UNSET2}}", missing: "UNSET2"},
		{in: "${UNSET}", missing: "UNSET"},
		{in: "$${A} and $$ and $1 and $", out: "${A} and $$ and $1 and $"},
		{in: "select $$body$$", out: "select $$body$$"},
		{in: "${A", err: "unterminated `${`"},
		{in: "${}", err: "empty variable name"},
		{in: "${A B}", err: "bad variable name `A B`"},
		{in: "${A-default}", err: "bad variable name `A-default`"},
		{in: strings.Repeat("${U:-", 20) + "x" + strings.Repeat("}", 20), err: "nested too deeply"},
	} {
		r := interpolate(tc.in, env)
		if r.err != "" || tc.err != "" {
			if !strings.Contains(r.err, tc.err) || tc.err == "" {
				t.Errorf("%q: err %q, want %q", tc.in, r.err, tc.err)
			}
			continue
		}
		if tc.missing != "" {
			if !reflect.DeepEqual(r.missing, []string{tc.missing}) {
				t.Errorf("%q: missing %v, want %s", tc.in, r.missing, tc.missing)
			}
			continue
		}
		if r.out != tc.out || len(r.missing) > 0 {
			t.Errorf("%q: got %q (missing %v), want %q", tc.in, r.out, r.missing, tc.out)
		}
	}
}

func TestEnvInterpolationInModels(t *testing.T) {
	files := map[string]string{"models/base.yml": baseModels, "models/t.yml": `sources:
  - name: s1
    table: "${RAW_SCHEMA}.s1"
    sql_comment_is_not_a_key: x
    identifiers: [{ column: "${ID_COL:-email}", type: email }]
  - name: s2
    table: raw.s2
    identifiers: [{ column: id, type: user_id }]
traits:
  - { name: t1, from: orders.amount, aggregate: sum, where: "status = '${PAID}'" }
segments:
  - name: s1
    where:
      all:
        - trait: ltv
          gte: ${MIN_LTV}
        - trait: country
          eq: "${MIN_LTV}"
        - trait: country
          eq: ${COUNTRY:-FR}
        - trait: ltv
          lt: ${NOT_SET}
`}
	root := writeProject(t, files)
	env := map[string]string{"RAW_SCHEMA": "lake", "PAID": "paid", "MIN_LTV": "500"}
	p, ds := LoadWithOptions(root, LoadOptions{Getenv: mapEnv(env)})
	wantErrs := []string{
		"models/t.yml:4:5: error: unknown key `sql_comment_is_not_a_key` in source `s1`",
		"models/t.yml:22:15: error: environment variable `NOT_SET` is not set (hint: set it, or give a default with `${NOT_SET:-…}`)",
	}
	var got []string
	for _, d := range ds.Errors() {
		got = append(got, d.String())
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], wantErrs[0]) || got[1] != wantErrs[1] {
		t.Fatalf("got:\n%s", strings.Join(got, "\n"))
	}
	if s := p.Source("s1"); s.Table != "lake.s1" || s.Identifiers[0].Column != "email" {
		t.Errorf("source: %+v", s)
	}
	if tr := p.Trait("t1"); tr.Where != "status = 'paid'" {
		t.Errorf("where: %q", tr.Where)
	}
	conds := p.Segment("s1").Where.Children
	if v, ok := conds[0].Value.(int64); !ok || v != 500 {
		t.Errorf("unquoted ${MIN_LTV} is retyped as an integer, got %#v", conds[0].Value)
	}
	if v, ok := conds[1].Value.(string); !ok || v != "500" {
		t.Errorf("quoted ${MIN_LTV} stays a string, got %#v", conds[1].Value)
	}
	if conds[2].Value != "FR" {
		t.Errorf("default: %#v", conds[2].Value)
	}
}

func TestEnvInDestinationsAndIntegers(t *testing.T) {
	files := map[string]string{"models/base.yml": replaceIdentity(`identity:
  id_types:
    - name: email
      limit: ${EMAIL_LIMIT}
    - name: user_id
      limit: ${USER_LIMIT:-1}
`), "models/t.yml": `destinations:
  - { name: d1, type: webhook, url: "${HOOK_URL}", secret: "${HOOK_SECRET}", note: "cost: $$5 ${X:-}" }
`}
	root := writeProject(t, files)
	p, ds := LoadWithOptions(root, LoadOptions{Getenv: mapEnv(map[string]string{"EMAIL_LIMIT": "3", "HOOK_URL": "https://h"})})
	errs := ds.Errors()
	if len(errs) != 1 || errs[0].String() != "models/t.yml:2:60: error: environment variable `HOOK_SECRET` is not set (hint: set it, or give a default with `${HOOK_SECRET:-…}`)" {
		t.Fatalf("got:\n%s", errs.Error())
	}
	if p.IDType("email").Limit != 3 || p.IDType("user_id").Limit != 1 {
		t.Errorf("limits: %d %d", p.IDType("email").Limit, p.IDType("user_id").Limit)
	}
	if d := p.Destination("d1"); d.Settings["url"] != "https://h" || d.Settings["note"] != "cost: $$5 " {
		t.Errorf("settings: %#v", d.Settings)
	}
}
