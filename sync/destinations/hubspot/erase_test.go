package hubspot_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/destinationtest"
	hs "github.com/cdpkit/cdp/sync/destinationtest/hubspot"
)

func erase(key, remoteID string) destination.Record {
	return destination.Record{Op: destination.OpErase, Key: key, RemoteID: remoteID,
		Fields: map[string]any{"email": key}, Hash: "h-" + key}
}

// TestErase GDPR-deletes contacts by email: they are gone from HubSpot and
// from the list, their emails blocklisted, and each result carries the
// receipt.
func TestErase(t *testing.T) {
	srv := hs.New(t)
	d := open(t, srv, "mirror")
	if !d.Capabilities().Supports(destination.OpErase) {
		t.Fatal("erase is not among the capabilities")
	}
	res := apply(t, d, add("a@x.org", map[string]any{"email": "a@x.org"}), add("b@x.org", map[string]any{"email": "b@x.org"}))
	idA := res[0].RemoteID
	res = apply(t, d, erase("A@x.org", idA), erase("nobody@x.org", ""))
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("erase %d: %v", i, r.Err)
		}
	}
	if want := "gdpr-delete A@x.org HTTP 204"; res[0].Receipt != want {
		t.Errorf("receipt %q, want %q", res[0].Receipt, want)
	}
	if id, _ := srv.Contact("a@x.org"); id != "" {
		t.Errorf("a@x.org is still contact %s", id)
	}
	if id, _ := srv.Contact("b@x.org"); id == "" {
		t.Error("b@x.org was erased too")
	}
	if got := srv.Erased(); !slices.Equal(got, []string{idA}) {
		t.Errorf("erased %v, want [%s]", got, idA)
	}
	if slices.Contains(srv.Members(hs.ListID), idA) {
		t.Error("the erased contact is still in the list")
	}
	if !srv.Blocked("a@x.org") || !srv.Blocked("nobody@x.org") {
		t.Error("erased emails are not blocklisted")
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

// TestEraseNotFound confirms the erase of a record ID HubSpot does not
// have (404) as nothing to erase.
func TestEraseNotFound(t *testing.T) {
	srv := hs.New(t)
	d := open(t, srv, "update", "id_property", "hs_object_id")
	res := apply(t, d, erase("999999", ""))
	if res[0].Err != nil || res[0].Receipt != "not found: nothing to erase" {
		t.Errorf("got %+v, want confirmed with receipt \"not found: nothing to erase\"", res[0])
	}
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

// TestEraseRetryable leaves an erase HubSpot throttled or failed with a
// 5xx retryable: as the batch's error on its first request, per record on
// a later one, and the contact stays until the retry deletes it.
func TestEraseRetryable(t *testing.T) {
	srv := hs.New(t)
	d := open(t, srv, "upsert")
	apply(t, d, add("a@x.org", map[string]any{"email": "a@x.org"}), add("b@x.org", map[string]any{"email": "b@x.org"}))
	for _, f := range []destinationtest.Faults{{Status429Every: 1}, {Status500Every: 1}} {
		srv.SetFaults(f)
		_, err := d.Apply(context.Background(), []destination.Record{erase("a@x.org", "")})
		if be := batchError(t, err); !be.Retryable {
			t.Errorf("%+v: error %v is not retryable", f, err)
		}
	}
	srv.SetFaults(destinationtest.Faults{Status500Every: 2})
	res := apply(t, d, erase("a@x.org", ""), erase("b@x.org", ""))
	if res[0].Err != nil || res[0].Receipt == "" {
		t.Errorf("first erase: %+v", res[0])
	}
	if res[1].Err == nil || !res[1].Retryable || !strings.Contains(res[1].Err.Error(), "500") {
		t.Errorf("second erase: %+v, want a retryable 500", res[1])
	}
	if id, _ := srv.Contact("b@x.org"); id == "" {
		t.Error("b@x.org is gone although its erase failed")
	}
	srv.SetFaults(destinationtest.Faults{})
	if res = apply(t, d, erase("b@x.org", "")); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if id, _ := srv.Contact("b@x.org"); id != "" {
		t.Error("b@x.org is still there after the retry")
	}
}

// TestUnsubscribeRefused rejects an unsubscribe, which HubSpot's
// destination does not offer.
func TestUnsubscribeRefused(t *testing.T) {
	srv := hs.New(t)
	d := open(t, srv, "upsert")
	res := apply(t, d, destination.Record{Op: destination.OpUnsubscribe, Key: "a@x.org"})
	if res[0].Err == nil || res[0].Retryable {
		t.Errorf("got %+v, want a rejection", res[0])
	}
}
