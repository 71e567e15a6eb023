package identity_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

// TestNormalizeSQLMatchesGo runs every text normalizer in SQL on each engine
// and compares with the Go reference (which `cdp profile` lookups use). Phone
// numbers go through the phone map: TestPhoneIdentifiers (compiler) checks
// them.
func TestNormalizeSQLMatchesGo(t *testing.T) {
	inputs := []string{
		"", " ", "Ana@Example.ORG", "  bob@mail.test ", "no-at-sign", "a@b", "a@@b.c", "x y@z.fr",
		"06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "33612345678", "612345678",
		"(415) 555-0123", "+1 415 555 0123", "000", "0000000000", "+", "12345", "tel: 06-12-34-56-78",
		"LC-00123", " lc-00123 ", "O'Brien", `back\slash`, "semi;colon --", "ÉLODIE@Exemple.fr", "😀",
		"percent%_under", "new\nline", "tab\tbed", "\tpadded\t", " \n x \n ",
		// hostile whitespace and case: every engine must agree with NormalizeGo
		"ana@example.org\t", "\r\nana@example.org\n", "\u00a0Ana@Example.org\u00a0", "\u200bana@example.org\u200b",
		"\ufeffana@example.org", "ana@example.org\u2060\u3000\u2028", "\u00a0\u200b\t\n", "ana\u00a0b@example.org",
		"ana\u200b@example.org", "ana\tb@example.org", "JÜRGEN@GMX.DE", "ÉLODIE@ORANGE.FR", "İSTANBUL@ÖRNEK.COM.TR",
		"STRAßE@WEB.DE", "ẞ@WEB.DE", "ΟΔΥΣΣΕΥΣ@ΠΑΡΑΔΕΙΓΜΑ.GR", "ΣΑΣ", "ÀÉÎÕÜ ÇÑ", "ǅ@Ǆ.COM",
		"  J.Doe+News@GoogleMail.com\t", "j.d.o.e@gmail.com", "+x@gmail.com", "a.b@gmail.co", "a+b@example.com",
		"a.b+c+d@gmail.com",
	}
	types := []*models.IDType{
		{Name: "email", Normalize: "email"},
		{Name: "gmail", Normalize: "email", GmailCanonical: true},
		{Name: "lower", Normalize: "lowercase"},
		{Name: "trim", Normalize: "trim"},
		{Name: "none", Normalize: "none"},
	}
	for _, e := range append(engines(t), cLocaleEngine()) {
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
					checkInvalid(t, w, e.name, it, inputs[i])
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

// checkInvalid compares InvalidSQL with InvalidGo for one value.
func checkInvalid(t *testing.T, w warehouse.Warehouse, engine string, it *models.IDType, in string) {
	t.Helper()
	d := w.Dialect()
	rows, err := w.Query(context.Background(), "SELECT "+identity.InvalidSQL(d, it, d.QuoteString(in)))
	if err != nil {
		t.Fatalf("invalid %s(%q): %v", it.Name, in, err)
	}
	defer rows.Close()
	var got *string
	rows.Next()
	if err := rows.Scan(&got); err != nil {
		t.Fatal(err)
	}
	want := identity.InvalidGo(it, in)
	if g := deref(got); (want == "" && got != nil) || (want != "" && g != want) {
		t.Errorf("%s/%s(%q): SQL reason %s, Go %q", engine, it.Name, in, g, want)
	}
}

// cLocaleEngine is PostgreSQL on a database whose collation and ctype are C:
// its own lower() only knows ASCII.
func cLocaleEngine() engine {
	return engine{name: "postgres_c_locale", open: func(t *testing.T) warehouse.Warehouse {
		w, err := postgres.Open(context.Background(), pgtest.CLocaleDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		rows, err := w.Query(context.Background(), "SELECT datcollate FROM pg_database WHERE datname = current_database()")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var coll string
		rows.Next()
		if err := rows.Scan(&coll); err != nil || coll != "C" {
			t.Fatalf("database collation %q (%v), want C", coll, err)
		}
		return w
	}}
}
