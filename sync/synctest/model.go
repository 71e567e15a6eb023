package synctest

import (
	"fmt"
	"reflect"
	"sort"
)

// Model is what a destination that obeys a sync mode holds: State is what
// the CDP believes it delivered, Dest what the destination holds.
type Model struct {
	Mode        string
	State, Dest map[string]map[string]any
}

// NewModel returns an empty destination for mode.
func NewModel(mode string) *Model {
	return &Model{Mode: mode, State: map[string]map[string]any{}, Dest: map[string]map[string]any{}}
}

// Apply is one run against the audience; a baseline only marks it
// delivered.
func (m *Model) Apply(aud map[string]map[string]any, baseline bool) {
	if baseline {
		m.State = map[string]map[string]any{}
		for k, v := range aud {
			m.State[k] = v
		}
		return
	}
	send := map[string]bool{"add": m.Mode != "update", "change": m.Mode != "insert", "remove": m.Mode == "mirror"}
	for k, f := range aud {
		prev, ok := m.State[k]
		op := "add"
		if ok {
			if reflect.DeepEqual(prev, f) {
				continue
			}
			op = "change"
		}
		if send[op] {
			m.State[k], m.Dest[k] = f, f
		}
	}
	for k := range m.State {
		if _, ok := aud[k]; !ok && send["remove"] {
			delete(m.State, k)
			delete(m.Dest, k)
		}
	}
}

// Texts renders records the way destinationtest.Vendor.Audience reports
// them: every value as text, numbers in Go's %v form.
func Texts(recs map[string]map[string]any) map[string]map[string]string {
	out := make(map[string]map[string]string, len(recs))
	for k, f := range recs {
		m := make(map[string]string, len(f))
		for n, v := range f {
			if v != nil {
				m[n] = fmt.Sprintf("%v", v)
			}
		}
		out[k] = m
	}
	return out
}

// Diff lists how got differs from want (at most 10 lines), empty when equal.
func Diff[V any](got, want map[string]V) []string {
	var diffs []string
	for k, v := range want {
		if g, ok := got[k]; !ok || !reflect.DeepEqual(g, v) {
			diffs = append(diffs, fmt.Sprintf("%s: got %v want %v", k, got[k], v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: unexpected %v", k, v))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 10 {
		diffs = append(diffs[:10], fmt.Sprintf("… %d more", len(diffs)-10))
	}
	return diffs
}
