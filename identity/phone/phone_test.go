package phone_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/identity/phone"
	"github.com/cdpkit/cdp/internal/bqtest"
	"github.com/cdpkit/cdp/internal/pgtest"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
	"github.com/cdpkit/cdp/warehouse/duckdb"
	"github.com/cdpkit/cdp/warehouse/postgres"
)

func TestMain(m *testing.M) {
	code := m.Run()
	bqtest.Stop()
	if err := pgtest.Stop(); err != nil && code == 0 {
		os.Stderr.WriteString("pgtest: " + err.Error() + "\n")
		code = 1
	}
	os.Exit(code)
}

// EnvFullCorpus, when set, gives the BigQuery emulator the full corpus
// (make phone-oracle) instead of the short one make test gives it.
const EnvFullCorpus = "CDP_PHONE_FULL_CORPUS"

type engine struct {
	name string
	open func(t *testing.T) warehouse.Warehouse
	// small: the engine gets the short corpus unless EnvFullCorpus is set
	// (the emulator takes minutes over the full one)
	small bool
}

func engines() []engine {
	return []engine{
		{"duckdb", func(t *testing.T) warehouse.Warehouse {
			w, err := duckdb.Open(context.Background(), ":memory:")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			return w
		}, false},
		pgEngine("postgres-icu", pgtest.DSN),
		pgEngine("postgres-c", pgtest.CLocaleDSN),
		{"bigquery", func(t *testing.T) warehouse.Warehouse { return bqtest.Open(t) }, os.Getenv(EnvFullCorpus) == ""},
	}
}

// pgEngine opens a PostgreSQL database made by dsn (ICU or C locale).
func pgEngine(name string, dsn func(testing.TB) string) engine {
	return engine{name, func(t *testing.T) warehouse.Warehouse {
		w, err := postgres.Open(context.Background(), dsn(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return w
	}, false}
}

// key is one corpus value: the raw text and its default region.
type key struct{ raw, region string }

// distinctCases is the corpus with perRegion numbers per region, each
// (raw, region) pair once.
func distinctCases(perRegion int) []phoneCase {
	seen := map[key]bool{}
	var uniq []phoneCase
	for _, c := range corpus(perRegion) {
		if k := (key{c.raw, c.region}); !seen[k] {
			seen[k] = true
			uniq = append(uniq, c)
		}
	}
	return uniq
}

// minAgreement is the share of corpus values on which every engine must
// give libphonenumber's answer (E.164 or invalid).
const minAgreement = 0.999

// TestCorpusMatchesLibphonenumber runs the SQL normalizer over the oracle
// corpus on every engine and compares each value with phone.Normalize
// (nyaruka/phonenumbers).
func TestCorpusMatchesLibphonenumber(t *testing.T) {
	perRegion := 32
	if testing.Short() {
		perRegion = 4
	}
	full := distinctCases(perRegion)
	short := full
	if perRegion > 4 {
		short = distinctCases(4)
	}
	uniq := full
	regions := map[string]bool{}
	for _, c := range uniq {
		regions[c.region] = true
	}
	if !testing.Short() && (len(uniq) < 20000 || len(regions) < 40) {
		t.Fatalf("corpus has %d distinct values over %d regions: want at least 20,000 over 40", len(uniq), len(regions))
	}
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			uniq := uniq
			if e.small {
				uniq = short
				t.Logf("the short corpus (%d values); %s=1 (make phone-oracle) gives the full one", len(uniq), EnvFullCorpus)
			}
			w := e.open(t)
			d := w.Dialect()
			ctx := context.Background()
			schema := "phone_test"
			if _, err := w.Exec(ctx, d.CreateSchema(schema)); err != nil {
				t.Fatal(err)
			}
			meta, _ := phone.Metadata()
			regionsTable := d.Table(schema, phone.RegionsTable(meta.Version))
			for _, s := range phone.Setup(d, regionsTable) {
				if _, err := w.Exec(ctx, s); err != nil {
					t.Fatalf("%v\n%.2000s", err, s)
				}
			}
			input := d.Table(schema, "phone_corpus")
			load(t, w, input, uniq)
			p := phone.Build(d, regionsTable, input, func(s string) string { return d.Table(schema, "scratch_"+s) })
			for _, s := range p.Setup {
				if _, err := w.Exec(ctx, s); err != nil {
					t.Fatalf("%v\n%s", err, s)
				}
			}
			q := p.Select
			rows, err := w.Query(ctx, q)
			if err != nil {
				t.Fatalf("%v\n%s", err, q)
			}
			got := map[key][2]*string{}
			for rows.Next() {
				var raw, region, e164, reason *string
				if err := rows.Scan(&raw, &region, &e164, &reason); err != nil {
					t.Fatal(err)
				}
				got[key{*raw, *region}] = [2]*string{e164, reason}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			agree, reasons, valid := 0, 0, 0
			classes := map[string][]string{}
			for _, c := range uniq {
				want, wantReason := phone.Normalize(c.raw, c.region)
				g, ok := got[key{c.raw, c.region}]
				var gotE, gotR string
				if ok && g[0] != nil {
					gotE = *g[0]
				}
				if ok && g[1] != nil {
					gotR = *g[1]
				}
				if gotE == want {
					agree++
					if want != "" {
						valid++
					}
					if gotR == wantReason {
						reasons++
					}
					continue
				}
				cl := c.kind
				classes[cl] = append(classes[cl], fmt.Sprintf("%q region %q: want %q (%s), got %q (%s)", c.raw, c.region, want, wantReason, gotE, gotR))
			}
			share := float64(agree) / float64(len(uniq))
			t.Logf("%s: %d/%d values agree with libphonenumber (%.4f%%; %d valid); reasons agree on %d", e.name, agree, len(uniq), 100*share, valid, reasons)
			var names []string
			for k := range classes {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				ex := classes[k]
				if len(ex) > 5 {
					ex = ex[:5]
				}
				t.Logf("  %s: %d disagreements, e.g.\n    %s", k, len(classes[k]), strings.Join(ex, "\n    "))
			}
			if share < minAgreement {
				t.Errorf("agreement %.4f%% < %.1f%%", 100*share, 100*minAgreement)
			}
		})
	}
}

// load writes the corpus into a (raw, region) table.
func load(t *testing.T, w warehouse.Warehouse, table string, cases []phoneCase) {
	t.Helper()
	bl, ok := w.(warehouse.BulkLoader)
	if !ok {
		t.Fatalf("%T cannot bulk load", w)
	}
	i := 0
	cols := []warehouse.Column{{Name: "raw", Type: models.TypeString}, {Name: "region", Type: models.TypeString}}
	if _, err := bl.LoadRows(context.Background(), table, cols, func() ([]any, error) {
		if i == len(cases) {
			return nil, io.EOF
		}
		c := cases[i]
		i++
		return []any{c.raw, c.region}, nil
	}); err != nil {
		t.Fatal(err)
	}
}
