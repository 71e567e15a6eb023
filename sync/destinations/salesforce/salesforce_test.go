package salesforce_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	sftest "github.com/cdpkit/cdp/sync/destinationtest/salesforce"
)

// rounds returns three rounds of changes for mode, applying each to the
// model as it goes: adds, changes (a new value, a cleared ltv, a new
// name), and in mirror mode removals and re-adds.
func rounds(mode string) []func(m map[int]person) []destination.Record {
	if mode == "insert" {
		return insertRounds()
	}
	mirror := mode == "mirror"
	return []func(m map[int]person) []destination.Record{
		func(m map[int]person) []destination.Record {
			var recs []destination.Record
			for i := range 120 {
				p := person{name: fmt.Sprintf("Last%d", i), ltv: float64(i) * 1.5}
				if i%4 == 0 {
					p.ltv = int64(i)
				}
				m[i] = p
				recs = append(recs, record(destination.OpAdd, i, p))
			}
			return recs
		},
		func(m map[int]person) []destination.Record {
			var recs []destination.Record
			for i := range 40 {
				p := m[i]
				switch {
				case i%10 == 0:
					p.ltv = nil
				case i%7 == 0:
					p.name = "Renamed" + fmt.Sprint(i)
				default:
					p.ltv = 1000.25 + float64(i)
				}
				m[i] = p
				recs = append(recs, record(destination.OpChange, i, p))
			}
			if mirror {
				for i := 100; i < 120; i++ {
					recs = append(recs, record(destination.OpRemove, i, m[i]))
					delete(m, i)
				}
			}
			for i := 120; i < 135; i++ {
				m[i] = person{name: fmt.Sprintf("New%d", i), ltv: 7.0}
				recs = append(recs, record(destination.OpAdd, i, m[i]))
			}
			return recs
		},
		func(m map[int]person) []destination.Record {
			var recs []destination.Record
			for i := 40; i < 80; i++ {
				p := m[i]
				p.name, p.ltv = fmt.Sprintf("Third%d", i), nil
				m[i] = p
				recs = append(recs, record(destination.OpChange, i, p))
			}
			if mirror {
				for i := range 10 {
					recs = append(recs, record(destination.OpRemove, i, m[i]))
					delete(m, i)
				}
				for i := 100; i < 105; i++ {
					m[i] = person{name: "Back", ltv: 1.0}
					recs = append(recs, record(destination.OpAdd, i, m[i]))
				}
			}
			return recs
		},
	}
}

// insertRounds only add: new records, and records already delivered sent
// again (as after a crash), which must be confirmed and left unchanged.
func insertRounds() []func(m map[int]person) []destination.Record {
	add := func(from, to int, again ...int) func(m map[int]person) []destination.Record {
		return func(m map[int]person) []destination.Record {
			var recs []destination.Record
			for i := from; i < to; i++ {
				m[i] = person{name: fmt.Sprintf("Ins%d", i), ltv: float64(i)}
				recs = append(recs, record(destination.OpAdd, i, m[i]))
			}
			for _, i := range again {
				recs = append(recs, record(destination.OpAdd, i, person{name: "Changed", ltv: 0.5}))
			}
			return recs
		}
	}
	return []func(m map[int]person) []destination.Record{add(0, 120), add(120, 140, 1, 2, 3, 50), add(140, 150, 120, 7)}
}

func TestModesThreeRounds(t *testing.T) {
	for _, mode := range []string{"upsert", "mirror", "insert"} {
		for _, bulk := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/bulk=%v", mode, bulk), func(t *testing.T) {
				s := server(t)
				settings := s.Settings(mode)
				if bulk {
					settings = s.BulkSettings(mode, 60)
				}
				d := open(t, settings, mode)
				st, model := newState(), map[int]person{}
				for n, round := range rounds(mode) {
					recs := round(model)
					stats, outs := deliver(t, d, st, recs)
					if stats.Confirmed != int64(len(recs)) {
						for k, o := range outs {
							if o.Err != nil {
								t.Errorf("round %d: %s: %v", n+1, k, o.Err)
							}
						}
						t.Fatalf("round %d: %d of %d confirmed: %+v", n+1, stats.Confirmed, len(recs), stats)
					}
					if got, want := s.Audience(mode), audience(model); !reflect.DeepEqual(got, want) {
						t.Fatalf("round %d: audience differs:\n got %v\nwant %v", n+1, got, want)
					}
					checkRemoteIDs(t, s, st, model)
				}
				for _, c := range s.Calls() {
					if c.Route == "sobjects by field" {
						t.Errorf("a removal was looked up although its Id was known: %+v", c)
					}
				}
			})
		}
	}
}

// checkRemoteIDs checks that the state holds the Salesforce Id of every
// member.
func checkRemoteIDs(t *testing.T, s *sftest.Server, st *state, model map[int]person) {
	t.Helper()
	for i := range model {
		c := s.Contact(email(i))
		if c == nil || st.remote[email(i)] != c["Id"] {
			t.Fatalf("%s: state holds Id %q, Salesforce %v", email(i), st.remote[email(i)], c)
		}
	}
}

func TestRequestsCarryAtMostBatchSize(t *testing.T) {
	s := server(t)
	d := open(t, with(s.Settings("upsert"), "batch_size", "200"), "upsert")
	m := map[int]person{}
	recs := rounds("upsert")[0](m)
	for i := 120; i < 450; i++ {
		recs = append(recs, record(destination.OpAdd, i, person{name: "X"}))
	}
	stats, _ := deliver(t, d, newState(), recs)
	if stats.Confirmed != 450 {
		t.Fatalf("stats %+v", stats)
	}
	n := 0
	for _, c := range s.Calls() {
		if c.Route == "composite/sobjects upsert" {
			n++
			if c.Records > 200 {
				t.Errorf("upsert of %d records", c.Records)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d upsert requests for 450 records at 200 each", n)
	}
	if _, err := d.Apply(t.Context(), recs[:201]); err == nil || destination.IsRetryable(err) {
		t.Errorf("a batch over batch_size: %v", err)
	}
}

func TestNullClearsTheField(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		t.Run(fmt.Sprintf("bulk=%v", bulk), func(t *testing.T) {
			s := server(t)
			settings := s.Settings("upsert")
			if bulk {
				settings = s.BulkSettings("upsert", 100)
			}
			d := open(t, settings, "upsert")
			mustApply(t, d, []destination.Record{record(destination.OpAdd, 1, person{name: "A", ltv: 3.5}),
				record(destination.OpAdd, 2, person{name: "B", ltv: 4.5})})
			// null_values: send gives a nil field (clear it); skip leaves it out (keep it).
			skip := destination.Record{Op: destination.OpChange, Key: email(2), Fields: map[string]any{"LastName": "B2"}}
			res := mustApply(t, d, []destination.Record{record(destination.OpChange, 1, person{name: "A"}), skip})
			for i, r := range res {
				if r.Err != nil {
					t.Fatalf("record %d: %v", i, r.Err)
				}
			}
			if c := s.Contact(email(1)); c["LTV__c"] != nil || c["LastName"] != "A" {
				t.Errorf("nil LTV__c must clear it: %v", c)
			}
			if c := s.Contact(email(2)); c["LTV__c"] != 4.5 || c["LastName"] != "B2" {
				t.Errorf("an absent field must stay: %v", c)
			}
		})
	}
}

func TestRemovalWithoutIDIsLookedUp(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		t.Run(fmt.Sprintf("bulk=%v", bulk), func(t *testing.T) {
			s := server(t)
			settings := s.Settings("mirror")
			if bulk {
				settings = s.BulkSettings("mirror", 100)
			}
			d := open(t, settings, "mirror")
			mustApply(t, d, []destination.Record{record(destination.OpAdd, 1, person{name: "A"})})
			res := mustApply(t, d, []destination.Record{
				{Op: destination.OpRemove, Key: email(1)},
				{Op: destination.OpRemove, Key: email(99)}, // never delivered: nothing to delete
			})
			if res[0].Err != nil || res[1].Err != nil {
				t.Fatalf("results %+v", res)
			}
			if len(s.Audience("mirror")) != 0 {
				t.Errorf("audience %v", s.Audience("mirror"))
			}
			lookups := 0
			for _, c := range s.Calls() {
				if c.Route == "sobjects by field" {
					lookups++
				}
			}
			if lookups != 2 {
				t.Errorf("%d lookups", lookups)
			}
		})
	}
}

func TestDeletingADeletedRecordIsDone(t *testing.T) {
	s := server(t)
	d := open(t, s.Settings("mirror"), "mirror")
	res := mustApply(t, d, []destination.Record{record(destination.OpAdd, 1, person{name: "A"})})
	rm := destination.Record{Op: destination.OpRemove, Key: email(1), RemoteID: res[0].RemoteID}
	mustApply(t, d, []destination.Record{rm})
	if r := mustApply(t, d, []destination.Record{rm}); r[0].Err != nil {
		t.Errorf("ENTITY_IS_DELETED must count as removed: %v", r[0].Err)
	}
}
