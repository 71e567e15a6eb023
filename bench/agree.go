package bench

import (
	"context"
	"fmt"

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

// UFPartition is the union-find's result as a partition.
func (r *UFResult) Partition() Partition {
	out := make(Partition, len(r.Keys))
	for i, k := range r.Keys {
		out[k] = r.Root[i]
	}
	return out
}

// Compare scores a clustering, given as a stream of (key, label), against ref.
func Compare(ref Partition, reference string, each func(fn func(key, label string)) error) (*Agreement, error) {
	labels := map[string]int32{}
	type cell struct{ g, l int32 }
	cells := map[cell]int64{}
	groupSeen := map[int32]int64{}
	labelSize := map[int32]int64{}
	var seen int64
	err := each(func(key, label string) {
		g, ok := ref[key]
		if !ok {
			return
		}
		l, ok := labels[label]
		if !ok {
			l = int32(len(labels))
			labels[label] = l
		}
		seen++
		cells[cell{g, l}]++
		groupSeen[g]++
		labelSize[l]++
	})
	if err != nil {
		return nil, err
	}
	groupSize := map[int32]int64{}
	for _, g := range ref {
		groupSize[g]++
	}
	pairs := func(n int64) float64 { return float64(n) * float64(n-1) / 2 }
	var tp, pred, truth float64
	cellsOf := map[int32]int{}
	var onlyLabel = map[int32]int32{}
	for c, n := range cells {
		tp += pairs(n)
		cellsOf[c.g]++
		onlyLabel[c.g] = c.l
	}
	for _, n := range labelSize {
		pred += pairs(n)
	}
	a := &Agreement{Reference: reference, Groups: int64(len(groupSize)), Missing: int64(len(ref)) - seen}
	for g, n := range groupSize {
		truth += pairs(n)
		if cellsOf[g] == 1 && groupSeen[g] == n && labelSize[onlyLabel[g]] == n {
			a.Exact++
		}
	}
	a.Precision, a.Recall = ratio(tp, pred), ratio(tp, truth)
	a.ExactShare = ratio(float64(a.Exact), float64(a.Groups))
	return a, nil
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
