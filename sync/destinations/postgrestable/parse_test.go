package postgrestable

import (
	"strings"
	"testing"
)

func TestParseTable(t *testing.T) {
	for in, want := range map[string]string{
		"contacts":                     `"contacts"`,
		"crm.Contacts":                 `"crm"."Contacts"`,
		`"my.schema"."a ""b"""`:        `"my.schema"."a ""b"""`,
		`evil"; DROP TABLE x; --`:      `"evil""; DROP TABLE x; --"`,
		`s."t.u"`:                      `"s"."t.u"`,
		`"x"`:                          `"x"`,
		"ünïcode.tåble":                `"ünïcode"."tåble"`,
		`a"b.c`:                        `"a""b"."c"`,
		`"";`:                          "",
		strings.Repeat("é", 31) + ".t": `"` + strings.Repeat("é", 31) + `"."t"`,
	} {
		got, err := parseTable(in)
		if want == "" {
			if err == nil {
				t.Errorf("parseTable(%q) = %v, want an error", in, got)
			}
			continue
		}
		if err != nil || got.quoted() != want {
			t.Errorf("parseTable(%q) = %s, %v; want %s", in, got.quoted(), err, want)
		}
	}
}

// FuzzParseTable checks that a parsed name renders to text that parses back
// to the same name, and that quoting leaves no way out of the identifier.
func FuzzParseTable(f *testing.F) {
	for _, s := range []string{"t", "s.t", `"a.b"."c"`, `x"; drop table y; --`, `"a""b".c`, `""`, "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, err := parseTable(s)
		if err != nil {
			return
		}
		q := name.quoted()
		again, err := parseTable(q)
		if err != nil || again != name {
			t.Fatalf("%q → %s → %+v, %v", s, q, again, err)
		}
		// Outside the doubled quotes, only the separating dot remains.
		rest := strings.ReplaceAll(q, `""`, "")
		if n := strings.Count(rest, `"`); n != 2 && n != 4 {
			t.Fatalf("%q renders as %s with %d stray quotes", s, q, n)
		}
	})
}
