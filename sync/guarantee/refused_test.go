package guarantee_test

import (
	"testing"

	"github.com/cdpkit/cdp/sync/destinationtest/iterable"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/sync/synctest"
)

// TestRefusedForGoodIsNotResent: a record the destination refuses for as
// long as it stays as it is (a user GDPR-forgotten in Iterable) is recorded
// once and not sent again by later runs; once its fields change it is
// sent again.
func TestRefusedForGoodIsNotResent(t *testing.T) {
	env := synctest.DuckDB.Open(t)
	srv := iterable.New(t)
	eng := newEngine(env, srv, "upsert")
	w := synctest.BaseWorld(40)
	forgotten := *w[1].Email
	srv.Forget(forgotten)
	synctest.Load(t, env.W, w)
	res := run(t, eng, engine.RunOptions{})
	if res.Failed != 1 || res.Refused != 1 {
		t.Fatalf("the forgotten user must be refused for good: %+v", res)
	}
	calls := len(srv.Calls())
	res = run(t, eng, engine.RunOptions{})
	if res.Added+res.Changed+res.Failed != 0 || len(srv.Calls()) != calls {
		t.Fatalf("a refused record must not be sent again while it is unchanged: %+v", res)
	}
	w[1].Name = synctest.S("Renamed")
	synctest.Load(t, env.W, w)
	if res = run(t, eng, engine.RunOptions{}); res.Refused != 1 {
		t.Fatalf("once changed it is sent again (and refused again): %+v", res)
	}
}
