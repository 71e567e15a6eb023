package bench_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdpkit/cdp/bench"
	"github.com/cdpkit/cdp/internal/pgtest"
)

func TestMain(m *testing.M) {
	bench.MaybeChild()
	pgtest.Main(m)
}

func TestGeneratorIsDeterministic(t *testing.T) {
	a, b := bench.Gen{Seed: 7}, bench.Gen{Seed: 7}
	for i := 0; i < 500; i++ {
		pa, pb := a.Person(i), b.Person(i)
		if strings.Join(pa.Emails, ",") != strings.Join(pb.Emails, ",") || strings.Join(pa.Anon, ",") != strings.Join(pb.Anon, ",") ||
			pa.Device != pb.Device || pa.UserID != pb.UserID {
			t.Fatalf("person %d differs between two generators with the same seed", i)
		}
	}
	if len(bench.Truth(a, 500)) == 0 {
		t.Fatal("no ground truth")
	}
}

func TestCompare(t *testing.T) {
	ref := bench.Partition{"a": 1, "b": 1, "c": 2, "d": 2}
	stream := func(m map[string]string) func(func(k, l string)) error {
		return func(fn func(k, l string)) error {
			for k, l := range m {
				fn(k, l)
			}
			return nil
		}
	}
	same, _ := bench.Compare(ref, "t", stream(map[string]string{"a": "x", "b": "x", "c": "y", "d": "y"}))
	if !same.Identical() || same.Precision != 1 || same.Recall != 1 {
		t.Fatalf("identical clustering scored %+v", same)
	}
	merged, _ := bench.Compare(ref, "t", stream(map[string]string{"a": "x", "b": "x", "c": "x", "d": "x", "junk": "x"}))
	if merged.Exact != 0 || merged.Recall != 1 || merged.Precision != 2.0/6 {
		t.Fatalf("merged clustering scored %+v", merged)
	}
}

// TestSmoke runs every section of the harness at a few thousand people and
// checks the numbers are there and the stitcher equals the union-find.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole benchmark harness at small scale")
	}
	dir := t.TempDir()
	cdp := filepath.Join(dir, "cdp")
	build := exec.Command("go", "build", "-o", cdp, "../cmd/cdp")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build cdp: %v\n%s", err, out)
	}
	var log strings.Builder
	h := &bench.Harness{Self: []string{os.Args[0], "-test.run=^$"}, CDP: cdp, Work: dir, Seed: 1,
		DuckDBScales: []int{1500}, PostgresScales: []int{1500}, NaiveBudget: 5 * time.Second,
		ChainLengths: []int{10, 100}, ChainNaiveBudget: 5 * time.Second, IncrementalPeople: 1500,
		SyncScales: []int{2000, 4000}, SyncRate: 200, Log: &log}
	rep, err := h.Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Log(log.String())
	engines := map[string]bool{}
	for _, r := range rep.Identity {
		if r.Error != "" {
			t.Fatalf("identity %s: %s", r.Engine, r.Error)
		}
		engines[r.Engine] = true
		st, nv, uf := r.Approach("stitcher"), r.Approach("naive"), r.Approach("unionfind")
		if st == nil || nv == nil || uf == nil {
			t.Fatalf("%s: missing approaches: %+v", r.Engine, r.Approaches)
		}
		if !st.VsUF.Identical() {
			t.Errorf("%s: the stitcher differs from the union-find: %+v", r.Engine, st.VsUF)
		}
		if st.Truth == nil || uf.Truth == nil || *st.Truth != *uf.Truth {
			t.Errorf("%s: stitcher and union-find score differently against the ground truth: %+v vs %+v", r.Engine, st.Truth, uf.Truth)
		}
		if st.Rounds == 0 || st.Seconds <= 0 || len(st.Stages) < 3 || (r.Engine == "duckdb" && st.PeakRSSKiB == 0) {
			t.Errorf("%s: stitcher numbers missing: %+v", r.Engine, st)
		}
		if !nv.Finished && nv.Note == "" {
			t.Errorf("%s: naive neither finished nor said why", r.Engine)
		}
	}
	if !engines["duckdb"] || (!engines["postgres"] && rep.Skipped["postgres"] == "") {
		t.Errorf("engines measured: %v, skipped: %v", engines, rep.Skipped)
	}
	if len(rep.Chains) != 2 || rep.Chains[1].StitcherRounds == 0 {
		t.Errorf("chains: %+v", rep.Chains)
	}
	if rep.Incremental == nil || (!rep.Incremental.Available && rep.Incremental.Note == "") || rep.Incremental.Error != "" {
		t.Errorf("incremental: %+v", rep.Incremental)
	}
	for _, s := range rep.Sync {
		if s.Error != "" || len(s.Passes) != 2 {
			t.Fatalf("sync %d: %+v", s.Members, s)
		}
		for _, p := range s.Passes {
			if !p.Exact || p.Failed != 0 || p.PeakRSSKiB == 0 || p.Records == 0 {
				t.Errorf("sync %d %s: %+v", s.Members, p.Name, p)
			}
		}
	}
	if len(rep.Targets) != 6 {
		t.Errorf("targets: %+v", rep.Targets)
	}
	out := t.TempDir()
	if err := bench.WriteReport(rep, out); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(out, "benchmarks.md"))
	svg, _ := os.ReadFile(filepath.Join(out, "benchmarks.svg"))
	if !strings.Contains(string(md), "## Targets") || !strings.Contains(string(svg), "<polyline") {
		t.Errorf("report incomplete:\n%s", md)
	}
}
