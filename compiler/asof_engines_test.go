//go:build cgo

package compiler_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/cdpkit/cdp/models"
)

// TestAsOfPlaceholder: traits that read {{ as_of }} (an expression and a
// source trait's where) follow the run's as-of time, on a full run and on an
// incremental one with no new rows, where every profile must be recomputed.
func TestAsOfPlaceholder(t *testing.T) {
	engines := engineOpeners()
	for _, name := range []string{"duckdb", "postgres"} {
		t.Run(name, func(t *testing.T) {
			w := engines[name](t)
			t.Cleanup(func() { w.Close() })
			p := loadIDTraits(t)
			crm := []models.ColumnRef{{Source: "crm", Column: "updated_at"}}
			p.Traits = append(p.Traits,
				&models.Trait{Name: "last_seen", From: crm, Aggregate: models.AggMax},
				&models.Trait{Name: "days_since_seen", Expr: "CAST({{ as_of }} AS DATE) - CAST(last_seen AS DATE)", Type: models.TypeInteger},
				&models.Trait{Name: "crm_rows_30d", From: []models.ColumnRef{{Source: "crm"}}, Aggregate: models.AggCount,
					Where: "updated_at >= {{as_of}} - INTERVAL '30 days'"})
			execAll(t, w, idTraitsSetup)
			check := func(label string, want map[string][]string) {
				t.Helper()
				got := map[string][]string{}
				for _, r := range queryRows(t, w, "SELECT i.id_value, p.days_since_seen, p.crm_rows_30d FROM cdp.customer_profiles AS p"+
					" JOIN cdp.customer_identifiers AS i ON i.profile_id = p.profile_id"+
					" WHERE i.id_type = 'phone' AND i.id_value IN ('+33781234567', '+447911123456')") {
					got[r[0]] = r[1:]
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: got %v, want %v", label, got, want)
				}
			}
			asOf := time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)
			if mode := buildIDTraits(t, w, p, asOf, "run1"); mode.Incremental {
				t.Fatalf("first run must be full: %s", mode.Reason)
			}
			// B last seen 2024-05-01 on two rows, E on 2024-04-01
			check("full run", map[string][]string{"+33781234567": {"1", "2"}, "+447911123456": {"31", "0"}})
			if mode := buildIDTraits(t, w, p, asOf.AddDate(0, 0, 44), "run2"); !mode.Incremental {
				t.Fatalf("second run must be incremental: %s", mode.Reason)
			}
			check("incremental run, 44 days later", map[string][]string{"+33781234567": {"45", "0"}, "+447911123456": {"75", "0"}})
		})
	}
}
