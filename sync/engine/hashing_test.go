package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/sync/destinationtest"
	"github.com/cdpkit/cdp/sync/engine"
	"github.com/cdpkit/cdp/sync/hashing"
	"github.com/cdpkit/cdp/sync/synctest"
)

// hashedFields map PII traits through hashing profiles.
var hashedFields = []models.FieldMap{
	{Field: "em_google", Trait: "email", Hash: "google_email"},
	{Field: "em_meta", Trait: "email", Hash: "meta_email"},
	{Field: "em_raw", Trait: "email", Hash: "sha256"},
	{Field: "fn", Trait: "first_name", Hash: "meta_name"},
	{Field: "ltv", Trait: "ltv"},
}

// piiWorld has e-mails and names that normalization changes: case,
// padding, gmail dots and +suffixes, punctuation, non-ASCII letters.
func piiWorld(n, run int) synctest.World {
	w := baseWorld(n)
	for i := range w {
		if w[i].Email != nil {
			switch i % 4 {
			case 0:
				w[i].Email = sp(fmt.Sprintf("  P.%d+r%d@GMail.com\t", i, run))
			case 1:
				w[i].Email = sp(fmt.Sprintf("Ünï.%d@Example.ORG", i))
			case 2:
				w[i].Email = sp(fmt.Sprintf("p%d.x@googlemail.com", i))
			}
		}
		if w[i].Name != nil && i%3 == 0 {
			w[i].Name = sp(fmt.Sprintf(" O'Brien-Émile %d. ", i+run))
		}
	}
	return w
}

// hashedAudience is what the destination must hold: profile_id → the Go
// reference hashes (NULL values left out, as null_values: skip does).
func hashedAudience(w synctest.World) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, p := range w {
		if !p.InSeg || p.Holdout {
			continue
		}
		f := map[string]any{}
		for _, m := range hashedFields {
			var v *string
			switch m.Trait {
			case "email":
				v = p.Email
			case "first_name":
				v = p.Name
			case "ltv":
				if p.LTV != nil {
					f[m.Field] = *p.LTV
				}
				continue
			}
			if v == nil {
				continue
			}
			if h, ok := hashing.Lookup(m.Hash).Reference(*v); ok {
				f[m.Field] = h
			}
		}
		out[p.ID] = f
	}
	return out
}

// bodyTap records every request body before the contract server sees it.
type bodyTap struct {
	mu     sync.Mutex
	bodies [][]byte
	next   http.Handler
}

func (b *bodyTap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.bodies = append(b.bodies, body)
	b.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	b.next.ServeHTTP(w, r)
}

// TestHashedFieldsDeliverReferenceHashes checks that a sync with hashed
// fields delivers exactly the Go reference hashes, stores them as its state,
// and never sends (or stores) a plain e-mail or name.
func TestHashedFieldsDeliverReferenceHashes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engineEnv) {
		secret := destinationtest.NewSecret()
		rcv, err := destinationtest.NewReceiver(destinationtest.Options{MaxBatch: 50, Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		tap := &bodyTap{next: rcv}
		ts := httptest.NewServer(tap)
		t.Cleanup(ts.Close)
		p := project(ts.URL, secret, "mirror")
		p.Syncs[0].Key = models.ProfileIDColumn
		p.Syncs[0].Fields = hashedFields
		eng := &engine.Engine{W: e.W, Project: p, Tables: tables(e.W)}
		ctx := context.Background()
		d := e.W.Dialect()
		for _, tb := range []string{"cdp_sync_state", "cdp_sync_runs", "cdp_sync_rejections", "cdp_sync_locks"} {
			e.W.Exec(ctx, d.DropTable(d.Table("cdp", tb)))
		}
		var plain []string
		for run := 0; run < 2; run++ {
			w := piiWorld(120, run)
			load(t, e.W, w)
			res := runSync(t, eng, engine.RunOptions{})
			if res.Failed != 0 || res.Status != "success" {
				t.Fatalf("run %d: %+v", run+1, res)
			}
			sameState(t, rcv.State(), hashedAudience(w), fmt.Sprintf("run %d", run+1))
			if run == 1 && res.Plan.Change == 0 {
				t.Fatalf("run 2 changed e-mails and names but delivered no change: %+v", res.Plan)
			}
			pl, err := eng.Plan(ctx, p.Syncs[0], engine.PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if pl.Counts.Total() != 0 {
				t.Fatalf("run %d left work: %+v", run+1, pl.Counts)
			}
			for _, person := range w {
				for _, v := range []*string{person.Email, person.Name} {
					if v != nil {
						plain = append(plain, strings.TrimSpace(*v))
					}
				}
			}
		}
		tap.mu.Lock()
		all := bytes.Join(tap.bodies, []byte("\n"))
		tap.mu.Unlock()
		if len(all) == 0 {
			t.Fatal("nothing was delivered")
		}
		for _, v := range plain {
			if bytes.Contains(bytes.ToLower(all), []byte(strings.ToLower(v))) {
				t.Fatalf("a request body holds the plain value %q", v)
			}
		}
		if bytes.Contains(all, []byte("@")) {
			t.Fatal("a request body holds an @: a plain e-mail left the warehouse")
		}
		st := d.Table("cdp", "cdp_sync_state")
		rows, err := e.W.Query(ctx, "SELECT COUNT(*) FROM "+st+" WHERE "+d.Contains(d.CastText("fields"), "@"))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var n int64
		for rows.Next() {
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
		if n != 0 {
			t.Fatalf("%d rows of cdp_sync_state hold a plain e-mail", n)
		}
	})
}
