package synctest

import (
	"encoding/json"
	"fmt"
)

// Person is one profile of the synthetic audience.
type Person struct {
	ID      string
	Email   *string
	Name    *string
	LTV     *float64
	InSeg   bool
	Holdout bool
}

// S and F return pointers for Person fields.
func S(s string) *string { return &s }

// F returns a pointer to f.
func F(f float64) *float64 { return &f }

// World is the data a sync reads: profiles and one segment's memberships.
type World []Person

// Clone copies a world so runs can change it.
func (w World) Clone() World { return append(World{}, w...) }

// Audience is what a mirror destination must hold: key → fields
// (JSON-decoded), nil fields left out; holdout and null keys excluded; one
// profile per key (the smallest profile_id).
func (w World) Audience() map[string]map[string]any {
	byKey := map[string]Person{}
	for _, p := range w {
		if !p.InSeg || p.Holdout || p.Email == nil {
			continue
		}
		if q, ok := byKey[*p.Email]; ok && q.ID < p.ID {
			continue
		}
		byKey[*p.Email] = p
	}
	out := map[string]map[string]any{}
	for k, p := range byKey {
		f := map[string]any{"email": *p.Email}
		if p.Name != nil {
			f["name"] = *p.Name
		}
		if p.LTV != nil {
			f["ltv"] = *p.LTV
		}
		out[k] = jsonRound(f)
	}
	return out
}

func jsonRound(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// BaseWorld has n people; some without email (null key), some in holdout,
// one duplicate email (only the smaller profile_id is synced).
func BaseWorld(n int) World {
	var w World
	for i := 0; i < n; i++ {
		p := Person{ID: fmt.Sprintf("p%05d", i), Email: S(fmt.Sprintf("p%d@mail.test", i)),
			Name: S(fmt.Sprintf("Name %d", i)), LTV: F(float64(i) * 1.5), InSeg: i%5 != 0, Holdout: i%23 == 0}
		if i%17 == 0 {
			p.Email = nil
		}
		if i%11 == 0 {
			p.Name = nil
		}
		w = append(w, p)
	}
	return append(w, Person{ID: "z-dup", Email: S("p1@mail.test"), Name: S("Duplicate"), InSeg: true})
}

// Evolve changes a world between runs: new people, changed traits, people
// leaving, a merge (one profile absorbed: its key disappears) and a key
// change.
func Evolve(w World, step int) World {
	w = w.Clone()
	n := len(w)
	for i := 0; i < 40; i++ {
		w = append(w, Person{ID: fmt.Sprintf("n%d-%03d", step, i), Email: S(fmt.Sprintf("new%d.%d@mail.test", step, i)),
			Name: S("Newcomer"), LTV: F(10), InSeg: true})
	}
	for i := step; i < n; i += 7 {
		if w[i].Name != nil {
			w[i].Name = S(*w[i].Name + fmt.Sprintf(" v%d", step))
		} else {
			w[i].Name = S("now named")
		}
	}
	for i := step + 2; i < n; i += 13 {
		w[i].InSeg = !w[i].InSeg
	}
	for i := step + 3; i < n; i += 29 {
		w[i].LTV = nil
	}
	m := 2*step + 6 // a merge: this profile is absorbed into its neighbour
	w = append(w[:m], w[m+1:]...)
	w[4*step+8].Email = S(fmt.Sprintf("changed%d@mail.test", step)) // a key change
	return w
}
