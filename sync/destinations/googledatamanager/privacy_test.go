package googledatamanager_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	gdm "github.com/cdpkit/cdp/sync/destinations/googledatamanager"
	"github.com/cdpkit/cdp/sync/destinationtest"
	srvpkg "github.com/cdpkit/cdp/sync/destinationtest/googledatamanager"
)

func TestPrivacyOpsRemoveMembers(t *testing.T) {
	spec, _ := destination.Lookup(gdm.Type)
	for _, op := range []destination.Op{destination.OpErase, destination.OpUnsubscribe} {
		s := srvpkg.New(t)
		d := open(t, s)
		if !d.Capabilities().Supports(op) || !spec.Supports(op) {
			t.Errorf("%s not declared", op)
		}
		ctx := context.Background()
		res, err := d.Apply(ctx, []destination.Record{
			{Op: destination.OpAdd, Key: "p1", Fields: map[string]any{"email_address": mary}},
			{Op: destination.OpAdd, Key: "p2", Fields: map[string]any{"email_address": newMail}},
		})
		if err != nil || res[0].Err != nil || res[1].Err != nil {
			t.Fatalf("add: %+v %v", res, err)
		}
		res, err = d.Apply(ctx, []destination.Record{
			{Op: op, Key: "p1", Fields: map[string]any{"email_address": mary}, RemoteID: res[0].RemoteID},
			{Op: op, Key: "p3"}, // never delivered
		})
		if err != nil || res[0].Err != nil || !strings.Contains(res[0].Receipt, "requestId") {
			t.Fatalf("%s: %+v %v", op, res, err)
		}
		if res[1].Err != nil || res[1].Receipt == "" {
			t.Errorf("%s of a person never delivered: %+v", op, res[1])
		}
		if aud := s.Audience("mirror"); len(aud) != 1 || aud[newMail] == nil {
			t.Errorf("%s: list %v, want only the other person", op, aud)
		}
		if v := s.Violations(); len(v) > 0 {
			t.Error(v)
		}
	}
}

func TestPrivacyOpsRetryable(t *testing.T) {
	for _, f := range []destinationtest.Faults{{Status429Every: 1}, {Status500Every: 1}} {
		s := srvpkg.New(t)
		d := open(t, s)
		ctx := context.Background()
		if _, err := d.Apply(ctx, []destination.Record{{Op: destination.OpAdd, Key: "p1", Fields: map[string]any{"email_address": mary}}}); err != nil {
			t.Fatal(err)
		}
		s.SetFaults(f)
		_, err := d.Submit(ctx, []destination.Record{{Op: destination.OpErase, Key: "p1", Fields: map[string]any{"email_address": mary}}})
		if err == nil || !destination.IsRetryable(err) || destination.IsFatal(err) {
			t.Errorf("%+v: %v, want a retryable batch error", f, err)
		}
		if len(s.Audience("mirror")) != 1 {
			t.Errorf("%+v: the faulted removal was applied", f)
		}
	}
}
