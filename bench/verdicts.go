package bench

import (
	"fmt"
	"math"
	"strings"
)

// TargetVerdict is one target of issue 5, as measured.
type TargetVerdict struct {
	Target   string `json:"target"`
	Status   string `json:"status"` // met | missed | not measured
	Measured string `json:"measured"`
	Why      string `json:"why,omitempty"`
}

// largest returns the identity run of engine at the largest scale.
func largest(rep *Report, engine string) *IdentityRun {
	var best *IdentityRun
	for _, r := range rep.Identity {
		if r.Engine == engine && r.Error == "" && (best == nil || r.People > best.People) {
			best = r
		}
	}
	return best
}

func status(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

// Verdicts checks the targets against the report.
func Verdicts(rep *Report) []TargetVerdict {
	var out []TargetVerdict
	out = append(out, speedVerdicts(rep)...)
	out = append(out, chainVerdict(rep))
	out = append(out, incrementalVerdict(rep))
	out = append(out, syncVerdicts(rep)...)
	return out
}

func speedVerdicts(rep *Report) []TargetVerdict {
	r := largest(rep, "duckdb")
	if r == nil || r.Approach("stitcher") == nil {
		return []TargetVerdict{{Target: "identity on DuckDB ≥3× faster than naive propagation", Status: "not measured"},
			{Target: "identity on DuckDB within 5× of in-memory union-find", Status: "not measured"}}
	}
	st, nv, uf := r.Approach("stitcher"), r.Approach("naive"), r.Approach("unionfind")
	scale := fmt.Sprintf(" at %s people", human(r.People))
	if !st.Finished {
		why := "the stitcher " + st.Note + "; no ratio can be given"
		return []TargetVerdict{{Target: "identity on DuckDB ≥3× faster than naive propagation" + scale, Status: "not measured", Why: why},
			{Target: "identity on DuckDB within 5× of in-memory union-find" + scale, Status: "not measured", Why: why}}
	}
	v1 := TargetVerdict{Target: "identity on DuckDB ≥3× faster than naive propagation" + scale, Status: "not measured"}
	if nv != nil {
		x := nv.Seconds / st.Seconds
		v1.Status = status(x >= 3)
		v1.Measured = fmt.Sprintf("%.1f× (stitcher %.1f s, naive %.1f s, %d rounds)", x, st.Seconds, nv.Seconds, nv.Rounds)
		if !nv.Finished {
			px := nv.ProjectedSeconds / st.Seconds
			v1.Measured = fmt.Sprintf("≥ %.1f× measured (stitcher %.1f s; naive %s, stopped after %.0f s), %.0f× projected "+
				"(naive needs %d rounds: ≈ %.0f s at its measured time per round)",
				x, st.Seconds, nv.Note, nv.Seconds, px, nv.RoundsNeeded, nv.ProjectedSeconds)
			if x < 3 && px >= 3 {
				v1.Status = "met (projected)"
			}
			x = max(x, px)
		}
		if x < 3 {
			v1.Why = "the naive loop's rounds are cheap full-table passes on DuckDB; see the stage table"
		}
	}
	v2 := TargetVerdict{Target: "identity on DuckDB within 5× of in-memory union-find" + scale, Status: "not measured"}
	if uf != nil {
		x := st.Seconds / uf.Seconds
		v2.Status = status(x <= 5)
		v2.Measured = fmt.Sprintf("%.1f× (stitcher %.1f s, union-find %.1f s)", x, st.Seconds, uf.Seconds)
		if x > 5 {
			v2.Why = whyVsUF(st)
		}
	}
	return []TargetVerdict{v1, v2}
}

// whyVsUF names the stitcher's heaviest stage.
func whyVsUF(st *IdentityResult) string {
	var top Stage
	for _, s := range st.Stages {
		if s.Seconds > top.Seconds {
			top = s
		}
	}
	return fmt.Sprintf("the SQL program materializes every intermediate table; its heaviest stage is %q (%.1f s of %.1f s), "+
		"while the union-find works on an in-memory array with no I/O, no normalization in SQL and no stable-ID bookkeeping",
		top.Name, top.Seconds, st.Seconds)
}

func chainVerdict(rep *Report) TargetVerdict {
	v := TargetVerdict{Target: "stitcher rounds grow with the log of the longest chain (≤ 2·log₂ hops + 2)"}
	if len(rep.Chains) == 0 {
		v.Status = "not measured"
		return v
	}
	okComp, okLimit := true, true
	var s string
	for _, p := range rep.Chains {
		bound := 2*math.Log2(float64(p.Hops)) + 2
		okComp = okComp && float64(p.StitcherRounds) <= bound
		okLimit = okLimit && p.ConflictFinished && float64(p.ConflictLimitRounds) <= bound
		s += fmt.Sprintf("%d hops: %d rounds (naive %d), with a user_id conflict %d limit rounds; ",
			p.Hops, p.StitcherRounds, p.NaiveRounds, p.ConflictLimitRounds)
	}
	v.Status, v.Measured = status(okComp && okLimit), strings.TrimSuffix(s, "; ")
	switch {
	case !okComp:
		v.Why = "a chain needed more component rounds than the bound"
	case !okLimit:
		v.Status = "met for components, missed under a limit"
		v.Why = "connected components converge in O(log n) rounds, but a component that breaks a limit is rebuilt " +
			"link by link: a round accepts only links that are the earliest pending link at both of their clusters, " +
			"and along a chain whose links are in time order that is one link per round, so rounds grow linearly with the chain"
	}
	return v
}

func incrementalVerdict(rep *Report) TargetVerdict {
	v := TargetVerdict{Target: "incremental run after 1% new rows ≤ 20% of a full run", Status: "not measured"}
	in := rep.Incremental
	switch {
	case in == nil:
		v.Why = "not run"
	case !in.Available:
		v.Why = in.Note
	case in.Error != "":
		v.Why = in.Error
	default:
		v.Status = status(in.Ratio <= 0.2 && in.SameResult)
		v.Measured = fmt.Sprintf("%.0f%% (incremental %.1f s, full refresh %.1f s at %s people; same result: %v)",
			100*in.Ratio, in.IncrementalSeconds, in.FullSeconds, human(in.People), in.SameResult)
		if in.Ratio > 0.2 {
			v.Why = "the incremental run still does work proportional to the whole data set"
		}
	}
	return v
}

func syncVerdicts(rep *Report) []TargetVerdict {
	v1 := TargetVerdict{Target: "sync uses ≥95% of the rate limit, nothing lost", Status: "not measured"}
	v2 := TargetVerdict{Target: "sync CLI peak RSS at 1M within 1.5× of 100k", Status: "not measured"}
	var small, big *SyncRun
	for _, s := range rep.Sync {
		if s.Error != "" || len(s.Passes) == 0 {
			continue
		}
		if small == nil || s.Members < small.Members {
			small = s
		}
		if big == nil || s.Members > big.Members {
			big = s
		}
	}
	if big == nil {
		return []TargetVerdict{v1, v2}
	}
	first := big.Passes[0]
	exact := true
	for _, s := range rep.Sync {
		for _, p := range s.Passes {
			exact = exact && p.Exact && p.Failed == 0
		}
	}
	v1.Status = status(first.RateUsed >= 0.95 && exact)
	v1.Measured = fmt.Sprintf("%.1f%% of %g requests/s (%.0f rows/s) on the first delivery of %s members; receiver exact after every pass: %v",
		100*first.RateUsed, big.RateLimit, first.RowsPerSec, human(big.Members), exact)
	if first.RateUsed < 0.95 && first.Requests > 0 {
		per := first.Delivery / float64(first.Requests)
		v1.Why = fmt.Sprintf("the webhook destination declares no concurrency, so one request is in flight at a time: "+
			"%.0f ms per request on average (send, receiver applies 1000 records, state commit of the batch in DuckDB, "+
			"and the backoff of %d retried records) caps it at %.1f requests/s, below the %g/s limit",
			1000*per, first.Retries, 1/per, big.RateLimit)
	}
	if small != big {
		// every pass counts: the first delivery and the 1% rerun
		var parts []string
		worst := 0.0
		for i := range big.Passes {
			if i >= len(small.Passes) {
				break
			}
			b, sm := big.Passes[i], small.Passes[i]
			x := float64(b.PeakRSSKiB) / float64(sm.PeakRSSKiB)
			worst = max(worst, x)
			parts = append(parts, fmt.Sprintf("%s: %.2f× (%.0f MiB at %s, %.0f MiB at %s)", b.Name, x,
				float64(b.PeakRSSKiB)/1024, human(big.Members), float64(sm.PeakRSSKiB)/1024, human(small.Members)))
		}
		v2.Status = status(worst <= 1.5)
		v2.Measured = strings.Join(parts, "; ")
		if worst > 1.5 {
			v2.Why = "the Go side streams the diff O(batch) (1M changed rows peak at 42 MiB against 40 MiB for 100k in " +
				"sync/engine's TestSyncMemoryIsBoundedByBatch on PostgreSQL), so the growth is most likely the embedded DuckDB's " +
				"(not measured apart): " +
				"the rerun's diff joins 1M snapshot rows with 1M state rows in-process, and DuckDB's buffer manager may " +
				"use up to 80% of RAM by default; capping its memory_limit (not yet a duckdb target setting) is the lever"
		}
	}
	return []TargetVerdict{v1, v2}
}

// human writes 100000 as 100k and 1000000 as 1M.
func human(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
