package identity_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/models"
)

// TestNormalizeSQLMatchesGo runs every normalizer in SQL on each engine and
// compares with the Go reference (which `cdp profile` lookups use).
func TestNormalizeSQLMatchesGo(t *testing.T) {
	inputs := []string{
		"", " ", "Ana@Example.ORG", "  bob@mail.test ", "no-at-sign", "a@b", "a@@b.c", "x y@z.fr",
		"06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "33612345678", "612345678",
		"(415) 555-0123", "+1 415 555 0123", "000", "0000000000", "+", "12345", "tel: 06-12-34-56-78",
		"LC-00123", " lc-00123 ", "O'Brien", `back\slash`, "semi;colon --", "ÉLODIE@Exemple.fr", "😀",
		"percent%_under", "new\nline", "tab\tbed", "\tpadded\t", " \n x \n ",
	}
	types := []*models.IDType{
		{Name: "email", Normalize: "email"},
		{Name: "phone_fr", Normalize: "phone", DefaultCountry: "FR"},
		{Name: "phone_us", Normalize: "phone", DefaultCountry: "US"},
		{Name: "lower", Normalize: "lowercase"},
		{Name: "trim", Normalize: "trim"},
		{Name: "none", Normalize: "none"},
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			w := e.open(t)
			d := w.Dialect()
			for _, it := range types {
				var sels []string
				for _, in := range inputs {
					sels = append(sels, "SELECT "+identity.NormalizeSQL(d, it, d.QuoteString(in)))
				}
				// one query per type keeps the row order: UNION ALL of literals, read in sequence
				for i, sel := range sels {
					rows, err := w.Query(context.Background(), sel)
					if err != nil {
						t.Fatalf("%s(%q): %v\n%s", it.Normalize, inputs[i], err, sel)
					}
					var got *string
					rows.Next()
					if err := rows.Scan(&got); err != nil {
						t.Fatal(err)
					}
					rows.Close()
					want, ok := identity.NormalizeGo(it, inputs[i])
					switch {
					case !ok && got != nil:
						t.Errorf("%s/%s(%q): SQL gives %q, Go rejects it", e.name, it.Name, inputs[i], *got)
					case ok && (got == nil || *got != want):
						t.Errorf("%s/%s(%q): SQL gives %v, Go %q", e.name, it.Name, inputs[i], deref(got), want)
					}
				}
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return strings.Clone(*s)
}
