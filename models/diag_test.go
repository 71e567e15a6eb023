package models

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDiagnosticString(t *testing.T) {
	for _, tc := range []struct {
		d    Diagnostic
		want string
	}{
		{Diagnostic{Pos{"models/a.yml", 3, 5}, SeverityError, "unknown key `x`", "did you mean `y`?"}, "models/a.yml:3:5: error: unknown key `x` (hint: did you mean `y`?)"},
		{Diagnostic{Pos{"models/a.yml", 3, 5}, SeverityWarning, "w", ""}, "models/a.yml:3:5: warning: w"},
		{Diagnostic{Pos{"cdp.yml", 0, 0}, SeverityError, "cannot read", ""}, "cdp.yml: error: cannot read"},
		{Diagnostic{Pos{}, SeverityError, "x", ""}, "error: x"},
	} {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestDiagnosticJSON(t *testing.T) {
	b, err := json.Marshal(Diagnostics{{Pos{"models/a.yml", 3, 5}, SeverityError, "m", "h"}, {Pos{"cdp.yml", 1, 1}, SeverityWarning, "w", ""}})
	want := `[{"file":"models/a.yml","line":3,"col":5,"severity":"error","message":"m","hint":"h"},{"file":"cdp.yml","line":1,"col":1,"severity":"warning","message":"w"}]`
	if err != nil || string(b) != want {
		t.Errorf("got %s, %v", b, err)
	}
}

func TestDiagnosticsSortAndErr(t *testing.T) {
	ds := Diagnostics{
		{Pos: Pos{"models/b.yml", 1, 1}, Severity: SeverityError, Message: "b"},
		{Pos: Pos{"models/a.yml", 10, 2}, Severity: SeverityWarning, Message: "a10"},
		{Pos: Pos{"models/a.yml", 2, 9}, Severity: SeverityError, Message: "a2-9"},
		{Pos: Pos{"models/a.yml", 2, 3}, Severity: SeverityError, Message: "a2-3"},
		{Pos: Pos{"cdp.yml", 4, 1}, Severity: SeverityError, Message: "cdp"},
	}
	ds.Sort()
	var got []string
	for _, d := range ds {
		got = append(got, d.Message)
	}
	if strings.Join(got, ",") != "cdp,a2-3,a2-9,a10,b" {
		t.Errorf("sorted: %v", got)
	}
	if !ds.HasErrors() || ds.Err() == nil || len(ds.Errors()) != 4 || len(ds.Warnings()) != 1 {
		t.Error("HasErrors/Err/Errors/Warnings")
	}
	if lines := strings.Split(ds.Error(), "\n"); len(lines) != 5 || lines[0] != "cdp.yml:4:1: error: cdp" {
		t.Errorf("Error(): %q", ds.Error())
	}
	if w := ds.Warnings(); w.HasErrors() || w.Err() != nil {
		t.Error("warnings only must not be an error")
	}
}

// TestAllMistakesAtOnce checks that one load reports every problem of a badly
// broken project, across files, sorted by position.
func TestAllMistakesAtOnce(t *testing.T) {
	_, ds := load(t, map[string]string{
		"cdp.yml": "name: shop\ntarget: prod\ntargets:\n  local: { type: duckdb, schema: \"${SCHEMA}\" }\n",
		"models/a.yml": `sources:
  - name: crm
    table: raw.crm
    sql: select 1
    identifiers: [{ column: email, type: emial }]
identity:
  id_types:
    - { name: email, normalize: lower }
`,
		"models/b.yml": `traits:
  - { name: email, from: crm.email, pick: newest }
  - { name: ltv, from: orderz.amount, aggregate: sum }
segments:
  - name: vip
    where: { trait: lvt, gte: 10 }
    holdout: 20
syncs:
  - { name: s, segment: vipp, destination: nowhere, key: email, mode: mirror }
`,
	})
	want := []string{
		"cdp.yml:2:9: error: target `prod` is not declared in `targets`",
		"models/a.yml:4:5: error: source `crm` sets both `table` and `sql`",
		"models/a.yml:5:42: error: unknown identifier type `emial`",
		"models/a.yml:8:33: error: unknown normalizer `lower` (hint: did you mean `lowercase`?)",
		"models/b.yml:2:43: error: unknown pick `newest`",
		"models/b.yml:3:24: error: unknown source `orderz`",
		"models/b.yml:6:21: error: unknown trait `lvt` (hint: did you mean `ltv`?)",
		"models/b.yml:7:14: error: holdout 20 is out of range",
		"models/b.yml:9:25: error: unknown segment `vipp` (hint: did you mean `vip`?)",
		"models/b.yml:9:44: error: unknown destination `nowhere`",
	}
	errs := ds.Errors()
	if len(errs) != len(want) {
		t.Errorf("got %d errors, want %d", len(errs), len(want))
	}
	for i, w := range want {
		if i >= len(errs) || !strings.HasPrefix(errs[i].String(), w) {
			t.Errorf("error %d: want %s", i, w)
		}
	}
	if t.Failed() {
		t.Logf("got:\n%s", ds.Error())
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"name", "table", "sql", "primary_key", "timestamp", "event", "identifiers"}
	for in, want := range map[string]string{
		"primay_key": "primary_key", "tabel": "table", "Name": "name", "identifier": "identifiers",
		"timestmp": "timestamp", "pk": "", "xyz": "", "evnt": "event", "iden": "identifiers",
	} {
		if got := closest(in, keys); got != want {
			t.Errorf("closest(%q) = %q, want %q", in, got, want)
		}
	}
}
