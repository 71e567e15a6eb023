//go:build cgo

package compiler_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/cdpkit/cdp/compiler"
	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/internal/bqtest"
	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/runner"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

// phoneRows are (phone, country) values of a source row: national numbers of
// several countries in their row's country, fallbacks to default_country,
// junk, a country libphonenumber does not know, hostile text.
var phoneRows = [][2]string{
	{"07911 123456", "GB"}, {"07911 123456", "gb "}, {"07911 123456", ""}, {"06 12 34 56 78", "FR"},
	{"06 12 34 56 78", ""}, {"(415) 555-0132", "US"}, {"+1 415 555 0132", "DE"}, {"030 901820", "DE"},
	{"0039 06 6982", "FR"}, {"06 6982 0000", "IT"}, {"8 (495) 123-45-67", "RU"}, {"tel:+33-6-12-34-56-78", "FR"},
	{"0000000000", "FR"}, {"12", "FR"}, {"06 12 34 56 78", "XX"}, {"+44 7911 123456", "Narnia"},
	{"06 12 34 56 78 ext. 136", "FR"}, {"０６１２３４５６７８", "FR"}, {"it's; DROP TABLE x; --", "FR"},
	{" \u00a0", "FR"}, {"", "GB"},
}

// TestPhoneIdentifiers runs a source node with a phone identifier that reads
// its region from a column (with hostile names) on every engine, and checks
// each row's normalized number and audit reason against NormalizeGoIn and
// InvalidGoIn (libphonenumber); a second run with one new value normalizes
// only that value.
func TestPhoneIdentifiers(t *testing.T) {
	engines := engineOpeners()
	engines["postgres-c"] = func(t *testing.T) warehouse.Warehouse {
		w, err := postgres.Open(context.Background(), pgtest.CLocaleDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	engines["bigquery"] = func(t *testing.T) warehouse.Warehouse { return bqtest.Open(t) }
	phoneCol, countryCol := `Tél "mobile"`, `pays'`
	typ := &models.IDType{Name: "phone", Normalize: "phone", DefaultCountry: "FR"}
	p := &models.Project{Name: "t", Entity: "customer",
		Identity: &models.Identity{IDTypes: []*models.IDType{typ}},
		Sources: []*models.Source{{Name: "crm", Table: "raw.crm",
			Identifiers: []*models.SourceIdentifier{{Column: phoneCol, Type: "phone", Country: countryCol}}}}}
	for _, name := range []string{"duckdb", "postgres", "postgres-c", "bigquery"} {
		t.Run(name, func(t *testing.T) {
			w := engines[name](t)
			t.Cleanup(func() { w.Close() })
			d := w.Dialect()
			tb := layout.Tables{D: d, Schema: "cdp", Entity: p.Entity}
			raw := d.Table("raw", "crm")
			text := d.TypeName(models.TypeString)
			execAll(t, w, []string{d.CreateSchema("raw"), d.CreateSchema("cdp"),
				"CREATE TABLE " + raw + " (n " + d.TypeName(models.TypeInteger) + ", " + d.QuoteIdent(phoneCol) + " " + text +
					", " + d.QuoteIdent(countryCol) + " " + text + ")"})
			insert := func(from, to int) {
				for i := from; i < to; i++ {
					r := phoneRows[i%len(phoneRows)]
					execAll(t, w, []string{"INSERT INTO " + raw + " VALUES (" + strconv.Itoa(i) + ", " + d.QuoteString(r[0]) + ", " +
						d.QuoteString(r[1]) + ")"})
				}
			}
			run := func() []runner.LoopStat {
				steps := append(compiler.PrepareSteps(p, tb), compiler.SourceSteps(p, tb, p.Sources[0], "")...)
				stats, err := (&runner.Executor{W: w}).Exec(context.Background(), steps)
				if err != nil {
					t.Fatal(err)
				}
				return stats
			}
			check := func(n int) {
				t.Helper()
				rows := queryRows(t, w, "SELECT n, "+layout.SourceIdentColumn(0)+", "+layout.SourceInvalidColumn(0)+
					" FROM "+tb.Q(tb.SourceView("crm"))+" ORDER BY n")
				if len(rows) != n {
					t.Fatalf("%d view rows, want %d", len(rows), n)
				}
				for i, r := range rows {
					in := phoneRows[i%len(phoneRows)]
					want, ok := identity.NormalizeGoIn(typ, in[0], in[1])
					if !ok {
						want = "NULL"
					}
					wantReason := identity.InvalidGoIn(typ, in[0], in[1])
					if wantReason == "" {
						wantReason = "NULL"
					}
					if r[1] != want || r[2] != wantReason {
						t.Errorf("%q in %q: view gives %s (%s), libphonenumber %s (%s)", in[0], in[1], r[1], r[2], want, wantReason)
					}
				}
			}
			insert(0, len(phoneRows))
			if st := run(); st[0].Rounds != 1 {
				t.Fatalf("first run: %d rounds of the phone loop, want 1", st[0].Rounds)
			}
			check(len(phoneRows))
			mapped := queryRows(t, w, "SELECT COUNT(*) FROM "+tb.Q(tb.PhoneMap("crm", identity.PhoneVersion())))[0][0]
			if st := run(); st[0].Rounds != 0 {
				t.Fatalf("a run without new values: %d rounds of the phone loop, want 0", st[0].Rounds)
			}
			execAll(t, w, []string{"INSERT INTO " + raw + " VALUES (99, '+49 30 901820', '')"})
			run()
			before, _ := strconv.Atoi(mapped)
			if got := queryRows(t, w, "SELECT COUNT(*) FROM "+tb.Q(tb.PhoneMap("crm", identity.PhoneVersion())))[0][0]; got != strconv.Itoa(before+1) {
				t.Fatalf("the map holds %s pairs after one new value, want %s + 1", got, mapped)
			}
			want, _ := identity.NormalizeGoIn(typ, "+49 30 901820", "")
			if r := queryRows(t, w, "SELECT "+layout.SourceIdentColumn(0)+" FROM "+tb.Q(tb.SourceView("crm"))+" WHERE n = 99"); want == "" || r[0][0] != want {
				t.Fatalf("new value: %v, want %q", r, want)
			}
		})
	}
}
