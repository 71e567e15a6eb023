package bench

import (
	"context"
	"fmt"
	"slices"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/warehouse"
)

// Agreement compares a clustering with a reference partition over the
// reference's identifiers.
type Agreement struct {
	// Reference names what was compared against: "ground truth" or "union-find".
	Reference string `json:"reference"`
	// Precision and Recall are pairwise: of the identifier pairs put in one
	// cluster, the share that belong together; of the pairs that belong
	// together, the share put in one cluster.
	Precision float64 `json:"pairwise_precision"`
	Recall    float64 `json:"pairwise_recall"`
	// ExactShare is the share of reference groups reproduced exactly (every
	// identifier in one cluster that holds no identifier of another group).
	ExactShare float64 `json:"exact_cluster_share"`
	Groups     int64   `json:"groups"`
	Exact      int64   `json:"exact_groups"`
	// Missing counts reference identifiers the clustering does not hold.
	Missing int64 `json:"missing_identifiers"`
}

// Identical reports whether the clustering reproduced every group.
func (a *Agreement) Identical() bool { return a != nil && a.Exact == a.Groups && a.Missing == 0 }

// Partition maps identifier keys ("type\x00value") to a group number.
type Partition map[string]int32

// Truth is the ground truth: every identifier of a person, normalized,
// except shared devices (they belong to two people) and junk values.
func Truth(g Gen, n int) Partition {
	it := map[string]int{}
	all := IDTypes()
	for i, t := range all {
		it[t.Name] = i
	}
	out := Partition{}
	add := func(typ, raw string, person int) {
		v, ok := identity.NormalizeGo(all[it[typ]], raw)
		if ok {
			out[typ+"\x00"+v] = int32(person)
		}
	}
	next := g.Person(0)
	for i := 0; i < n; i++ {
		p := next
		next = g.Person(i + 1)
		if p.UserID != "" {
			add("user_id", p.UserID, i)
		}
		for _, e := range p.Emails {
			add("email", e, i)
		}
		for _, ph := range p.Phones {
			add("phone", ph, i)
		}
		for _, a := range p.Anon {
			add("anonymous_id", a, i)
		}
		if p.Device != "" && !p.Shared && !(next.Shared && next.Device == p.Device) {
			add("device", p.Device, i)
		}
	}
	return out
}

// Partition is the union-find's result as a partition.
func (r *UFResult) Partition() Partition {
	out := make(Partition, len(r.Keys))
	for i, k := range r.Keys {
		out[k] = r.Root[i]
	}
	return out
}

// Reference is the union-find's result as a reference to score against;
// lookups binary-search its byte-ordered keys (no second map).
func (r *UFResult) Reference() Reference {
	return Reference{Name: "union-find",
		Groups: func(fn func(g int32)) {
			for _, g := range r.Root {
				fn(g)
			}
		},
		Lookup: func(key string) (int32, bool) {
			i, ok := slices.BinarySearch(r.Keys, key)
			if !ok {
				return 0, false
			}
			return r.Root[i], true
		}}
}

// Compare scores a clustering, given as a stream of (key, label), against ref.
func Compare(ref Partition, reference string, each func(fn func(key, label string)) error) (*Agreement, error) {
	out, err := CompareMany([]Reference{{Name: reference, Groups: ref.groups(), Lookup: ref.lookup}}, each)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Reference is a partition to score against: Lookup finds an identifier's
// group, Groups lists every identifier's group (for group sizes).
type Reference struct {
	Name   string
	Groups func(fn func(g int32))
	Lookup func(key string) (int32, bool)
}

func (p Partition) lookup(key string) (int32, bool) { g, ok := p[key]; return g, ok }
func (p Partition) groups() func(fn func(g int32)) {
	return func(fn func(g int32)) {
		for _, g := range p {
			fn(g)
		}
	}
}

type cell struct{ g, l int32 }

// scorer accumulates one reference's contingency counts.
type scorer struct {
	ref       Reference
	cells     map[cell]int64
	groupSeen map[int32]int64
	labelSize map[int32]int64
	seen      int64
}

// CompareMany scores one stream of (key, label) against several references
// in a single pass.
func CompareMany(refs []Reference, each func(fn func(key, label string)) error) ([]*Agreement, error) {
	labels := map[string]int32{}
	var sc []*scorer
	for _, r := range refs {
		sc = append(sc, &scorer{ref: r, cells: map[cell]int64{}, groupSeen: map[int32]int64{}, labelSize: map[int32]int64{}})
	}
	err := each(func(key, label string) {
		l, ok := labels[label]
		if !ok {
			l = int32(len(labels))
			labels[label] = l
		}
		for _, s := range sc {
			if g, ok := s.ref.Lookup(key); ok {
				s.seen++
				s.cells[cell{g, l}]++
				s.groupSeen[g]++
				s.labelSize[l]++
			}
		}
	})
	if err != nil {
		return nil, err
	}
	var out []*Agreement
	for _, s := range sc {
		out = append(out, s.result())
	}
	return out, nil
}

func (s *scorer) result() *Agreement {
	groupSize := map[int32]int64{}
	var total int64
	s.ref.Groups(func(g int32) { groupSize[g]++; total++ })
	pairs := func(n int64) float64 { return float64(n) * float64(n-1) / 2 }
	var tp, pred, truth float64
	cellsOf := map[int32]int{}
	onlyLabel := map[int32]int32{}
	for c, n := range s.cells {
		tp += pairs(n)
		cellsOf[c.g]++
		onlyLabel[c.g] = c.l
	}
	for _, n := range s.labelSize {
		pred += pairs(n)
	}
	a := &Agreement{Reference: s.ref.Name, Groups: int64(len(groupSize)), Missing: total - s.seen}
	for g, n := range groupSize {
		truth += pairs(n)
		if cellsOf[g] == 1 && s.groupSeen[g] == n && s.labelSize[onlyLabel[g]] == n {
			a.Exact++
		}
	}
	a.Precision, a.Recall = ratio(tp, pred), ratio(tp, truth)
	a.ExactShare = ratio(float64(a.Exact), float64(a.Groups))
	return a
}

func ratio(x, y float64) float64 {
	if y == 0 {
		return 1
	}
	return x / y
}

// labelsQuery selects (id_type, id_value, label) of an approach's result.
func labelsQuery(d warehouse.Dialect, approach string) string {
	switch approach {
	case "stitcher":
		t := layout.Tables{D: d, Schema: CDPSchema, Entity: "customer"}
		return fmt.Sprintf("SELECT id_type, id_value, profile_id FROM %s", t.Q(t.Identifiers()))
	default:
		return fmt.Sprintf("SELECT n.id_type, n.id_value, %s FROM %s n JOIN %s l ON l.node_id = n.node_id",
			d.CastText("l.label"), d.Table(CDPSchema, "bench_naive_nodes"), d.Table(CDPSchema, "bench_naive_labels"))
	}
}

// warehouseLabels streams an approach's clusters from w.
func warehouseLabels(ctx context.Context, w warehouse.Warehouse, approach string) func(fn func(key, label string)) error {
	return func(fn func(key, label string)) error {
		rows, err := w.Query(ctx, labelsQuery(w.Dialect(), approach))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t, v, l string
			if err := rows.Scan(&t, &v, &l); err != nil {
				return err
			}
			fn(t+"\x00"+v, l)
		}
		return rows.Err()
	}
}

// ufLabels streams the union-find's clusters.
func ufLabels(r *UFResult) func(fn func(key, label string)) error {
	return func(fn func(key, label string)) error {
		var buf [12]byte
		for i, k := range r.Keys {
			fn(k, string(fmt.Appendf(buf[:0], "%d", r.Root[i])))
		}
		return nil
	}
}

// labelsCountQuery counts identifiers, profiles and segment members: a
// cheap fingerprint to compare two runs' outputs.
func labelsCountQuery(d warehouse.Dialect) []string {
	t := layout.Tables{D: d, Schema: CDPSchema, Entity: "customer"}
	return []string{
		"SELECT COUNT(*) FROM " + t.Q(t.Identifiers()),
		"SELECT COUNT(DISTINCT profile_id) FROM " + t.Q(t.Identifiers()),
		"SELECT COUNT(*) FROM " + t.Q(t.Profiles()),
		"SELECT COUNT(*) FROM " + t.Q(t.Segments()),
	}
}
