package metacustomaudience_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/cdpkit/cdp/sync/destination"
	meta "github.com/cdpkit/cdp/sync/destinations/metacustomaudience"
	"github.com/cdpkit/cdp/sync/destinationtest"
	srvpkg "github.com/cdpkit/cdp/sync/destinationtest/metacustomaudience"
)

func TestPrivacyOpsRemoveFromAudience(t *testing.T) {
	spec, _ := destination.Lookup(meta.Type)
	for _, op := range []destination.Op{destination.OpErase, destination.OpUnsubscribe} {
		for _, mode := range []string{"upsert", "mirror"} {
			s := srvpkg.New(t)
			d := open(t, s, mode)
			if !d.Capabilities().Supports(op) || !spec.Supports(op) {
				t.Errorf("%s %s: not declared", mode, op)
			}
			ctx := context.Background()
			res, err := d.Apply(ctx, []destination.Record{
				{Op: destination.OpAdd, Key: "p1", Fields: map[string]any{"EMAIL": mary}},
				{Op: destination.OpAdd, Key: "p2", Fields: map[string]any{"EMAIL": newMail}},
			})
			if err != nil || res[0].Err != nil || s.Members() != 2 {
				t.Fatalf("add: %+v %v", res, err)
			}
			res, err = d.Apply(ctx, []destination.Record{{Op: op, Key: "p1", Fields: map[string]any{"EMAIL": mary}, RemoteID: res[0].RemoteID}})
			if err != nil || res[0].Err != nil || !strings.Contains(res[0].Receipt, "session_id") {
				t.Fatalf("%s %s: %+v %v", mode, op, res, err)
			}
			if aud := s.Audience(mode); len(aud) != 1 || aud[newMail] == nil {
				t.Errorf("%s %s: audience %v, want only the other person", mode, op, aud)
			}
			if calls := s.Calls(); calls[len(calls)-1].Method != http.MethodDelete {
				t.Errorf("%s %s: last call %+v, want DELETE", mode, op, calls[len(calls)-1])
			}
			if v := s.Violations(); len(v) > 0 {
				t.Error(v)
			}
		}
	}
}

func TestPrivacyOpsRetryable(t *testing.T) {
	for _, f := range []destinationtest.Faults{{Status429Every: 1}, {Status500Every: 1}} {
		s := srvpkg.New(t)
		d := open(t, s, "upsert")
		ctx := context.Background()
		if _, err := d.Apply(ctx, []destination.Record{{Op: destination.OpAdd, Key: "p1", Fields: map[string]any{"EMAIL": mary}}}); err != nil {
			t.Fatal(err)
		}
		s.SetFaults(f)
		_, err := d.Apply(ctx, []destination.Record{{Op: destination.OpErase, Key: "p1", Fields: map[string]any{"EMAIL": mary}}})
		if err == nil || !destination.IsRetryable(err) || destination.IsFatal(err) {
			t.Errorf("%+v: %v, want a retryable batch error", f, err)
		}
		if s.Members() != 1 {
			t.Errorf("%+v: the faulted removal was applied", f)
		}
	}
}
