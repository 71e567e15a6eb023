package webhook_test

import (
	"context"
	"slices"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinationtest"
)

// TestEraseAndUnsubscribe sends erase and unsubscribe as ops of the
// payload: the receiver deletes the erased person and marks the
// unsubscribed one; the receipts are "HTTP 200", and an erase of a person
// the receiver does not hold is confirmed as nothing to erase.
func TestEraseAndUnsubscribe(t *testing.T) {
	s := destinationtest.New(t, destinationtest.Options{MaxBatch: 100})
	d := openServer(t, s)
	for _, op := range []destination.Op{destination.OpUnsubscribe, destination.OpErase} {
		if !d.Capabilities().Supports(op) {
			t.Errorf("%s is not among the capabilities", op)
		}
	}
	mustApply(t, d, recs("add", "add", "add"))
	batch := recs("erase", "unsubscribe", "change", "erase")
	res := mustApply(t, d, batch)
	for i, want := range []string{"HTTP 200", "HTTP 200", "", "not found: nothing to erase"} {
		if res[i].Err != nil || res[i].Receipt != want {
			t.Errorf("record %d (%s): %+v, want receipt %q", i, batch[i].Op, res[i], want)
		}
	}
	if got := s.Erased(); !slices.Equal(got, []string{batch[0].Key}) {
		t.Errorf("erased %v", got)
	}
	if _, held := s.State()[batch[0].Key]; held {
		t.Error("the erased person is still held")
	}
	if !s.Unsubscribed(batch[1].Key) {
		t.Error("the unsubscribe was not applied")
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("violations %v", v)
	}
}

// TestEraseRetryable leaves an erase the receiver throttled or failed
// retryable, and the person held until the retry.
func TestEraseRetryable(t *testing.T) {
	s := destinationtest.New(t, destinationtest.Options{MaxBatch: 100})
	d := openServer(t, s)
	mustApply(t, d, recs("add"))
	for _, f := range []destinationtest.Faults{{Status429Every: 1}, {Status500Every: 1}} {
		s.SetFaults(f)
		_, err := d.Apply(context.Background(), recs("erase"))
		if be := batchError(t, err); !be.Retryable {
			t.Errorf("%+v: %v is not retryable", f, err)
		}
	}
	if len(s.State()) != 1 {
		t.Error("a failed erase removed the person")
	}
	s.SetFaults(destinationtest.Faults{})
	if res := mustApply(t, d, recs("erase")); res[0].Receipt != "HTTP 200" || len(s.State()) != 0 {
		t.Errorf("retry: %+v, state %v", res[0], s.State())
	}
}
