package bench

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/models"
)

// Input is the generated raw data held in memory for the union-find: every
// row's raw identifiers (type index into IDTypes, raw value) and timestamp.
type Input struct {
	Types []*models.IDType
	typ   []uint8
	val   []string
	start []int32 // row r holds identifiers start[r]:start[r+1]
	ts    []int64
}

// ReadInput generates persons [0, n) of every source into memory.
func ReadInput(g Gen, n int) *Input {
	in := &Input{Types: IDTypes()}
	typeIdx := map[string]uint8{}
	for i, t := range in.Types {
		typeIdx[t.Name] = uint8(i)
	}
	for _, s := range Sources {
		colIdx := map[string]int{}
		for i, c := range s.Cols {
			colIdx[c.Name] = i
		}
		tsCol := colIdx[s.Timestamp]
		s.Rows(g, 0, n, func(row []any) {
			in.start = append(in.start, int32(len(in.val)))
			in.ts = append(in.ts, row[tsCol].(time.Time).Unix())
			for _, id := range s.Idents {
				if v, ok := row[colIdx[id.Column]].(string); ok {
					in.typ = append(in.typ, typeIdx[id.Type])
					in.val = append(in.val, v)
				}
			}
		})
	}
	in.start = append(in.start, int32(len(in.val)))
	return in
}

// UFResult is the union-find's partition: node keys ("type\x00value") in
// byte order and the root of each.
type UFResult struct {
	Keys   []string
	Root   []int32
	Stages []Stage
	edges  []ufEdge
}

type ufEdge struct {
	a, b int32
	tier uint8
	ts   int64
}

// UnionFind resolves the identity graph of in exactly like the SQL
// stitcher promises: normalize, drop excluded values, link identifiers
// sharing a row, then a greedy merge in (tier, earliest time, byte order)
// order that refuses links breaking a limit.
func UnionFind(in *Input) *UFResult {
	res := &UFResult{}
	t0 := time.Now()
	var excl [][]*regexp.Regexp
	for _, t := range in.Types {
		var res []*regexp.Regexp
		for _, p := range t.Exclude {
			res = append(res, regexp.MustCompile(p))
		}
		excl = append(excl, res)
	}
	id := map[string]int32{}
	var keys []string
	var nodeType []uint8
	pairs := map[uint64]int64{}
	var kept []int32
	for r := 0; r+1 < len(in.start); r++ {
		kept = kept[:0]
		for k := in.start[r]; k < in.start[r+1]; k++ {
			ti := in.typ[k]
			v, ok := identity.NormalizeGo(in.Types[ti], in.val[k])
			if !ok || excluded(excl[ti], v) {
				continue
			}
			key := in.Types[ti].Name + "\x00" + v
			n, ok := id[key]
			if !ok {
				n = int32(len(keys))
				id[key] = n
				keys = append(keys, key)
				nodeType = append(nodeType, ti)
			}
			kept = append(kept, n)
		}
		for i := range kept {
			for j := i + 1; j < len(kept); j++ {
				a, b := kept[i], kept[j]
				if a == b {
					continue
				}
				if a > b {
					a, b = b, a
				}
				pk := uint64(a)<<32 | uint64(b)
				if old, ok := pairs[pk]; !ok || in.ts[r] < old {
					pairs[pk] = in.ts[r]
				}
			}
		}
	}
	res.Stages = append(res.Stages, Stage{"normalize + intern + pairs", time.Since(t0).Seconds()})
	t1 := time.Now()
	edges, order := sortEdges(keys, nodeType, pairs, in.Types)
	res.Stages = append(res.Stages, Stage{"sort nodes and edges", time.Since(t1).Seconds()})
	t2 := time.Now()
	res.Keys = make([]string, len(keys))
	types := make([]uint8, len(keys))
	for old, nw := range order {
		res.Keys[nw] = keys[old]
		types[nw] = nodeType[old]
	}
	res.Root = merge(edges, types, in.Types)
	res.edges = edges
	res.Stages = append(res.Stages, Stage{"greedy merge (union-find with limits)", time.Since(t2).Seconds()})
	return res
}

func excluded(res []*regexp.Regexp, v string) bool {
	for _, re := range res {
		if re.MatchString(v) {
			return true
		}
	}
	return false
}

// sortEdges numbers nodes in byte order (order[old] = new) and sorts the
// edges by tier, time, then node numbers.
func sortEdges(keys []string, nodeType []uint8, pairs map[uint64]int64, types []*models.IDType) ([]ufEdge, []int32) {
	perm := make([]int32, len(keys))
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(x, y int32) int { return strings.Compare(keys[x], keys[y]) })
	order := make([]int32, len(keys))
	for nw, old := range perm {
		order[old] = int32(nw)
	}
	edges := make([]ufEdge, 0, len(pairs))
	for pk, ts := range pairs {
		a, b := order[int32(pk>>32)], order[int32(pk&0xffffffff)]
		if a > b {
			a, b = b, a
		}
		tier := max(types[nodeType[pk>>32]].Rank, types[nodeType[pk&0xffffffff]].Rank)
		edges = append(edges, ufEdge{a: a, b: b, tier: uint8(tier), ts: ts})
	}
	slices.SortFunc(edges, func(x, y ufEdge) int {
		switch {
		case x.tier != y.tier:
			return int(x.tier) - int(y.tier)
		case x.ts != y.ts:
			if x.ts < y.ts {
				return -1
			}
			return 1
		case x.a != y.a:
			return int(x.a - y.a)
		}
		return int(x.b - y.b)
	})
	return edges, order
}

// merge is Kruskal with per-root counts of limited types.
func merge(edges []ufEdge, nodeType []uint8, types []*models.IDType) []int32 {
	parent := make([]int32, len(nodeType))
	var limited []int
	for i, t := range types {
		if t.Limit > 0 {
			limited = append(limited, i)
		}
	}
	counts := make([][]int32, len(limited))
	for li, ti := range limited {
		counts[li] = make([]int32, len(nodeType))
		for n, nt := range nodeType {
			if int(nt) == ti {
				counts[li][n] = 1
			}
		}
	}
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, e := range edges {
		ra, rb := find(e.a), find(e.b)
		if ra == rb {
			continue
		}
		ok := true
		for li, ti := range limited {
			if counts[li][ra]+counts[li][rb] > int32(types[ti].Limit) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		parent[rb] = ra
		for li := range limited {
			counts[li][ra] += counts[li][rb]
		}
	}
	for i := range parent {
		parent[i] = find(int32(i))
	}
	return parent
}

// NaiveRoundsNeeded is how many rounds one-hop minimum-label propagation
// needs on the graph of pairs (no limit rule): the largest distance from a
// component's smallest node to any of its nodes, plus the final round that
// changes nothing. Nodes are numbered in byte order, as the naive SQL does
// on a byte-ordered engine.
func (r *UFResult) NaiveRoundsNeeded() int {
	n := len(r.Keys)
	deg := make([]int32, n+1)
	for _, e := range r.edges {
		deg[e.a+1]++
		deg[e.b+1]++
	}
	for i := 1; i <= n; i++ {
		deg[i] += deg[i-1]
	}
	adj := make([]int32, deg[n])
	fill := slices.Clone(deg[:n])
	for _, e := range r.edges {
		adj[fill[e.a]], adj[fill[e.b]] = e.b, e.a
		fill[e.a]++
		fill[e.b]++
	}
	dist := make([]int32, n)
	for i := range dist {
		dist[i] = -1
	}
	best := int32(0)
	var queue []int32
	for s := int32(0); s < int32(n); s++ { // in byte order: the first unseen node is its component's minimum
		if dist[s] >= 0 {
			continue
		}
		dist[s] = 0
		queue = append(queue[:0], s)
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			best = max(best, dist[v])
			for _, u := range adj[deg[v]:deg[v+1]] {
				if dist[u] < 0 {
					dist[u] = dist[v] + 1
					queue = append(queue, u)
				}
			}
		}
	}
	return int(best) + 1
}
