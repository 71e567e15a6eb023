package guarantee_test

import (
	"fmt"
	"testing"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/sync/synctest"
)

// TestHashedIdentifierChangeLeavesTheAudience: an ad platform synced with
// key profile_id (as docs/hashing.md advises) sees a person's e-mail
// change as a change of the same record; the old hash must leave the
// audience and the new one join it. Runs for the vendors that hold only
// hashes, in mirror mode, over three runs of an evolving world without
// shared e-mails. People without an e-mail, synced now that the key is
// profile_id, are refused for good (no identifier to send).
func TestHashedIdentifierChangeLeavesTheAudience(t *testing.T) {
	forEachVendor(t, func(t *testing.T, v vendor) {
		srv := v.new(t)
		if len(srv.Fields().Hash) == 0 {
			t.Skip("the vendor holds plain fields")
		}
		env := synctest.DuckDB.Open(t)
		eng := newEngine(env, srv, "mirror")
		eng.Project.Syncs[0].Key = models.ProfileIDColumn
		w := synctest.BaseWorld(200)
		w = w[:len(w)-1] // no second profile with p1's e-mail: one hash, one person
		for r := 0; r < 3; r++ {
			if r > 0 {
				w = synctest.Evolve(w, r)
				moveEmail(w, r)
			}
			synctest.Load(t, env.W, w)
			res := run(t, eng, engine.RunOptions{})
			// people without an e-mail have no identifier: refused for good, not lost
			if res.Failed != res.Refused || (r == 0 && res.Refused == 0) {
				t.Fatalf("run %d: only the people without an e-mail may fail, refused: %+v", r+1, res)
			}
			if r > 0 && res.Changed == 0 {
				t.Fatalf("run %d: the e-mail change must be a change of the same profile: %+v", r+1, res)
			}
			same(t, srv, "mirror", w.Audience(), fmt.Sprintf("run %d", r+1))
		}
		if vs := srv.Violations(); len(vs) > 0 {
			t.Fatalf("contract violations: %v", vs)
		}
	})
}

// moveEmail gives a synced person a new e-mail (same profile).
func moveEmail(w synctest.World, r int) {
	for i := range w {
		if w[i].InSeg && !w[i].Holdout && w[i].Email != nil {
			w[i].Email = synctest.S(fmt.Sprintf("moved%d@mail.test", r))
			return
		}
	}
}
