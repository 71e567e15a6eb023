package seedgen

import (
	"bytes"
	"encoding/csv"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustAnchor(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse("2006-01-02", s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// readDir returns every regular file of dir by name.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = b
		}
	}
	return out
}

func TestGenerationIsDeterministic(t *testing.T) {
	cfg := Config{Seed: 7, People: 150, Anchor: mustAnchor(t, DefaultAnchor)}
	a, b := t.TempDir(), t.TempDir()
	if err := generate(cfg).write(a, filepath.Join(a, "truth.csv")); err != nil {
		t.Fatal(err)
	}
	if err := generate(cfg).write(b, filepath.Join(b, "truth.csv")); err != nil {
		t.Fatal(err)
	}
	fa, fb := readDir(t, a), readDir(t, b)
	if len(fa) != 8 {
		t.Fatalf("wrote %d files, want 6 seeds, the truth and demo.txt: %v", len(fa), slices.Sorted(maps.Keys(fa)))
	}
	for name, want := range fa {
		if !bytes.Equal(fb[name], want) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	other := generate(Config{Seed: 8, People: 150, Anchor: cfg.Anchor}).files()
	if bytes.Equal(other["web_events.csv"], fa["web_events.csv"]) {
		t.Error("another seed produced the same web events")
	}
}

func TestCommittedSeedsMatchGenerator(t *testing.T) {
	d := generate(Config{Seed: DefaultSeed, People: DefaultPeople, Anchor: mustAnchor(t, DefaultAnchor)})
	want := d.files()
	var got = map[string][]byte{}
	for name, b := range readDir(t, filepath.Join("..", "seeds")) {
		if strings.HasSuffix(name, ".csv") {
			got[name] = b
		}
	}
	if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
		t.Fatalf("seeds/ holds %v, generator writes %v", g, w)
	}
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("seeds/%s differs from a fresh generation: do not edit seeds by hand, run `go run ./examples/retail/gen` from the repository root", name)
		}
	}
	truth, err := os.ReadFile(filepath.Join("..", "testdata", "truth.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(truth, d.truth()) {
		t.Error("testdata/truth.csv differs from a fresh generation: run `go run ./examples/retail/gen`")
	}
	demo, err := os.ReadFile(filepath.Join("..", "testdata", "demo.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(demo, d.demo()) {
		t.Error("testdata/demo.txt differs from a fresh generation: run `go run ./examples/retail/gen`")
	}
}

func TestSeedInvariants(t *testing.T) {
	anchor := mustAnchor(t, DefaultAnchor)
	files := generate(Config{Seed: 3, People: 400, Anchor: anchor}).files()
	for name, b := range files {
		rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		header, ids := rows[0], map[string]bool{}
		for _, row := range rows[1:] {
			if ids[row[0]] {
				t.Errorf("%s: duplicate primary key %s", name, row[0])
			}
			ids[row[0]] = true
			for i, col := range header {
				if !strings.HasSuffix(col, "_at") {
					continue
				}
				ts, err := time.Parse(time.RFC3339, row[i])
				if err != nil || !ts.Before(anchor) || ts.Before(anchor.AddDate(-2, 0, -1)) {
					t.Fatalf("%s: %s=%q is not an RFC3339 time in the two years before the anchor", name, col, row[i])
				}
			}
		}
	}
}

func TestTinyPopulation(t *testing.T) {
	d := generate(Config{Seed: 1, People: 10, Anchor: mustAnchor(t, DefaultAnchor)})
	if len(d.crm) == 0 || len(d.web) == 0 {
		t.Fatalf("10 people produced %d contacts and %d events", len(d.crm), len(d.web))
	}
}

// TestConsentEventsJoinKnownPeople checks that every consent event's email
// is, once trimmed and lower-cased, an email of the same person in another
// seed row (so the events create no profile), and that the stream holds
// both purposes and both kinds of statement.
func TestConsentEventsJoinKnownPeople(t *testing.T) {
	d := generate(Config{Seed: DefaultSeed, People: 600, Anchor: mustAnchor(t, DefaultAnchor)})
	known := map[string]*person{}
	norm := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	for _, r := range d.crm {
		known[norm(r.email)] = r.p
	}
	for _, r := range d.shop {
		known[norm(r.email)] = r.p
	}
	for _, r := range d.orders {
		known[norm(r.email)] = r.p
	}
	seen := map[string]bool{}
	for _, r := range d.consent {
		if p := known[r.email]; p == nil || p != r.p {
			t.Fatalf("consent event %s: %q is not an email of %s in another seed", r.id, r.email, r.p.id)
		}
		if r.at.After(d.people[0].until) && r.at.After(mustAnchor(t, DefaultAnchor)) {
			t.Fatalf("consent event %s is after the anchor", r.id)
		}
		seen[r.purpose+"/"+r.status] = true
	}
	for _, k := range []string{"email_marketing/subscribed", "email_marketing/unsubscribed", "sms_marketing/opt_in", "sms_marketing/opt_out"} {
		if !seen[k] {
			t.Errorf("no consent event %s", k)
		}
	}
}
