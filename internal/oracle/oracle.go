// Package oracle is the test-only reference for identity resolution: an
// in-memory union-find over the same normalized identifiers, applying the
// limit rules as a strict one-link-at-a-time greedy in priority order. The
// SQL stitcher must produce exactly its clusters (and, on a first run, its
// profile IDs) on every engine.
package oracle

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/models"
)

// Ident is one raw identifier value of a row.
type Ident struct {
	Type  string
	Value string
	// Country is the row's `country:` value for a phone identifier ("" for
	// none: the type's default_country).
	Country string
}

// Row is one source row: identifiers that belong to the same person.
type Row struct {
	Source string
	TS     *time.Time
	IDs    []Ident
}

// Node is a normalized identifier.
type Node struct {
	Type, Value string
}

// Result is the oracle's answer.
type Result struct {
	// ProfileOf maps every kept identifier to its first-run profile ID.
	ProfileOf map[Node]string
	// Dropped lists links rejected by a limit, as "type:value|type:value".
	Dropped []string
	// Excluded lists identifiers removed by an exclusion pattern.
	Excluded []Node
}

type edge struct {
	a, b int
	tier int
	ts   *time.Time
}

// Resolve computes clusters for rows under the identity rules of p.
func Resolve(p *models.Project, rows []Row, asOf time.Time) Result {
	types := map[string]*models.IDType{}
	for _, t := range p.Identity.IDTypes {
		types[t.Name] = t
	}
	excl := map[string][]*regexp.Regexp{}
	for _, t := range p.Identity.IDTypes {
		for _, pat := range t.Exclude {
			excl[t.Name] = append(excl[t.Name], regexp.MustCompile(pat))
		}
	}
	first := map[Node]*time.Time{}
	seen := map[Node]bool{}
	excluded := map[Node]bool{}
	type pair struct{ a, b Node }
	pairTS := map[pair]*time.Time{}
	pairSeen := map[pair]bool{}
	for _, r := range rows {
		var kept []Node
		for _, id := range r.IDs {
			t := types[id.Type]
			v, ok := identity.NormalizeGoIn(t, id.Value, id.Country)
			if !ok {
				continue
			}
			n := Node{id.Type, v}
			if !seen[n] || earlier(r.TS, first[n]) {
				first[n] = r.TS
			}
			seen[n] = true
			bad := false
			for _, re := range excl[id.Type] {
				if re.MatchString(v) {
					bad = true
				}
			}
			if bad {
				excluded[n] = true
				continue
			}
			kept = append(kept, n)
		}
		for i := range kept {
			for j := i + 1; j < len(kept); j++ {
				a, b := kept[i], kept[j]
				if a == b {
					continue
				}
				if less(b, a) {
					a, b = b, a
				}
				k := pair{a, b}
				if !pairSeen[k] || earlier(r.TS, pairTS[k]) {
					pairTS[k] = r.TS
				}
				pairSeen[k] = true
			}
		}
	}
	var nodes []Node
	for n := range seen {
		if !excluded[n] {
			nodes = append(nodes, n)
		}
	}
	sort.Slice(nodes, func(i, j int) bool { return less(nodes[i], nodes[j]) })
	id := map[Node]int{}
	for i, n := range nodes {
		id[n] = i
	}
	var edges []edge
	for k := range pairSeen {
		tier := types[k.a.Type].Rank
		if r := types[k.b.Type].Rank; r > tier {
			tier = r
		}
		edges = append(edges, edge{id[k.a], id[k.b], tier, pairTS[k]})
	}
	sort.Slice(edges, func(i, j int) bool {
		x, y := edges[i], edges[j]
		if x.tier != y.tier {
			return x.tier < y.tier
		}
		if !sameTime(x.ts, y.ts) {
			return earlier(x.ts, y.ts)
		}
		if x.a != y.a {
			return x.a < y.a
		}
		return x.b < y.b
	})

	// union-find with per-root counts of limited types
	parent := make([]int, len(nodes))
	counts := make([]map[string]int, len(nodes))
	for i, n := range nodes {
		parent[i] = i
		counts[i] = map[string]int{}
		if types[n.Type].Limit > 0 {
			counts[i][n.Type] = 1
		}
	}
	var find func(int) int
	find = func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	var res Result
	for _, e := range edges {
		ra, rb := find(e.a), find(e.b)
		if ra == rb {
			continue
		}
		ok := true
		for t, c := range counts[ra] {
			if c+counts[rb][t] > types[t].Limit {
				ok = false
			}
		}
		for t, c := range counts[rb] {
			if c+counts[ra][t] > types[t].Limit {
				ok = false
			}
		}
		if !ok {
			res.Dropped = append(res.Dropped, key(nodes[e.a])+"|"+key(nodes[e.b]))
			continue
		}
		parent[rb] = ra
		for t, c := range counts[rb] {
			counts[ra][t] += c
		}
	}
	// first-run profile IDs: md5 of the oldest identifier of each cluster
	oldest := map[int]int{}
	for i, n := range nodes {
		r := find(i)
		o, ok := oldest[r]
		if !ok || olderThan(n, first[n], nodes[o], first[nodes[o]], asOf) {
			oldest[r] = i
		}
	}
	res.ProfileOf = map[Node]string{}
	for i, n := range nodes {
		o := nodes[oldest[find(i)]]
		sum := md5.Sum([]byte(o.Type + ":" + o.Value))
		res.ProfileOf[n] = hex.EncodeToString(sum[:])[:16]
	}
	for n := range excluded {
		res.Excluded = append(res.Excluded, n)
	}
	sort.Slice(res.Excluded, func(i, j int) bool { return less(res.Excluded[i], res.Excluded[j]) })
	sort.Strings(res.Dropped)
	return res
}

func key(n Node) string { return n.Type + ":" + n.Value }

func less(a, b Node) bool {
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	return a.Value < b.Value
}

// earlier orders timestamps with NULL last.
func earlier(a, b *time.Time) bool {
	if a == nil {
		return false
	}
	if b == nil {
		return true
	}
	return a.Before(*b)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func olderThan(a Node, ta *time.Time, b Node, tb *time.Time, asOf time.Time) bool {
	x, y := asOf, asOf
	if ta != nil {
		x = *ta
	}
	if tb != nil {
		y = *tb
	}
	if !x.Equal(y) {
		return x.Before(y)
	}
	return less(a, b)
}

// Clusters groups identifiers by profile ID, each cluster sorted, for diffs.
func (r Result) Clusters() map[string][]string {
	out := map[string][]string{}
	for n, p := range r.ProfileOf {
		out[p] = append(out[p], key(n))
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// String renders a node for messages.
func (n Node) String() string { return fmt.Sprintf("%s:%s", n.Type, n.Value) }
