package salesforce_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinationtest"
)

const nothingToErase = "not found: nothing to erase"

// TestErase deletes erased people in every mode, with and without bulk:
// by the stored Id or looked up by External ID; the receipt is the deleted
// Id, and a person Salesforce never held (or already deleted) is confirmed
// as nothing to erase.
func TestErase(t *testing.T) {
	for _, mode := range []string{"upsert", "insert", "mirror"} {
		for _, bulk := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/bulk=%v", mode, bulk), func(t *testing.T) {
				s := server(t)
				settings := s.Settings(mode)
				if bulk {
					settings = s.BulkSettings(mode, 100)
				}
				d := open(t, settings, mode)
				if !d.Capabilities().Supports(destination.OpErase) {
					t.Fatal("erase is not among the capabilities")
				}
				res := mustApply(t, d, []destination.Record{record(destination.OpAdd, 1, person{name: "A"}),
					record(destination.OpAdd, 2, person{name: "B"}), record(destination.OpAdd, 3, person{name: "C"})})
				id1, id2 := res[0].RemoteID, res[1].RemoteID
				erase := func(i int, remote string) destination.Record {
					r := record(destination.OpErase, i, person{name: "x"})
					r.RemoteID = remote
					return r
				}
				res = mustApply(t, d, []destination.Record{erase(1, id1), erase(2, ""), erase(99, "")})
				for i, want := range []string{id1, id2, nothingToErase} {
					if res[i].Err != nil || res[i].Receipt != want {
						t.Errorf("erase %d: %+v, want receipt %q", i, res[i], want)
					}
				}
				if s.Contact(email(1)) != nil || s.Contact(email(2)) != nil || !s.Deleted(id1) || !s.Deleted(id2) {
					t.Error("erased records are still there")
				}
				if s.Contact(email(3)) == nil {
					t.Error("a record that was not erased is gone")
				}
				res = mustApply(t, d, []destination.Record{erase(1, id1)})
				if res[0].Err != nil || res[0].Receipt != nothingToErase {
					t.Errorf("second erase: %+v", res[0])
				}
			})
		}
	}
}

// TestEraseRetryable leaves an erase Salesforce throttled
// (REQUEST_LIMIT_EXCEEDED) or failed with a 5xx retryable, the record kept.
func TestEraseRetryable(t *testing.T) {
	for _, f := range []destinationtest.Faults{{Status429Every: 1}, {Status500Every: 1}} {
		s := server(t)
		d := open(t, s.Settings("upsert"), "upsert")
		res := mustApply(t, d, []destination.Record{record(destination.OpAdd, 1, person{name: "A"})})
		s.SetFaults(f)
		r := record(destination.OpErase, 1, person{name: "A"})
		r.RemoteID = res[0].RemoteID
		_, err := d.Apply(context.Background(), []destination.Record{r})
		if err == nil || !destination.IsRetryable(err) {
			t.Errorf("%+v: %v, want a retryable error", f, err)
		}
		if s.Contact(email(1)) == nil {
			t.Errorf("%+v: the record is gone although the erase failed", f)
		}
		s.SetFaults(destinationtest.Faults{})
		res = mustApply(t, d, []destination.Record{r})
		if res[0].Err != nil || res[0].Receipt != r.RemoteID || s.Contact(email(1)) != nil {
			t.Errorf("%+v: retry: %+v", f, res[0])
		}
	}
}

// TestRemovalHasNoReceipt keeps receipts to erasures.
func TestRemovalHasNoReceipt(t *testing.T) {
	s := server(t)
	d := open(t, s.Settings("mirror"), "mirror")
	res := mustApply(t, d, []destination.Record{record(destination.OpAdd, 1, person{name: "A"})})
	res = mustApply(t, d, []destination.Record{{Op: destination.OpRemove, Key: email(1), RemoteID: res[0].RemoteID}})
	if res[0].Err != nil || res[0].Receipt != "" {
		t.Errorf("removal: %+v", res[0])
	}
}
