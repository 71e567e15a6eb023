package models

import "strings"

// edge is a reference from one named item to another, at the referencing value.
type edge struct {
	to  string
	pos Pos
}

// checkCycles reports reference cycles among segments and among expr traits.
func (l *loader) checkCycles() {
	segs := make([]string, len(l.p.Segments))
	for i, s := range l.p.Segments {
		segs[i] = s.Name
	}
	for _, c := range findCycles(segs, l.segEdges) {
		l.errorf(c.at, "a segment cannot include itself, directly or through others", "segment reference cycle: %s", strings.Join(c.path, " → "))
	}
	traits := make([]string, len(l.p.Traits))
	for i, t := range l.p.Traits {
		traits[i] = t.Name
	}
	for _, c := range findCycles(traits, l.traitEdges) {
		l.errorf(c.at, "an expr trait cannot depend on itself, directly or through others", "trait expression cycle: %s", strings.Join(c.path, " → "))
	}
}

// cycle is a closed path a → … → a, reported at the reference that closes it.
type cycle struct {
	path []string
	at   Pos
}

// findCycles walks the graph depth-first from each node in order and returns
// every cycle found through a back edge. It is iterative so long reference
// chains cannot exhaust the stack.
func findCycles(nodes []string, edges map[string][]edge) []cycle {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	type frame struct {
		node string
		next int
	}
	var out []cycle
	for _, start := range nodes {
		if color[start] != white {
			continue
		}
		stack := []frame{{node: start}}
		color[start] = grey
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			outs := edges[top.node]
			if top.next >= len(outs) {
				color[top.node] = black
				stack = stack[:len(stack)-1]
				continue
			}
			e := outs[top.next]
			top.next++
			switch color[e.to] {
			case white:
				color[e.to] = grey
				stack = append(stack, frame{node: e.to})
			case grey:
				var path []string
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i].node == e.to {
						for _, f := range stack[i:] {
							path = append(path, f.node)
						}
						break
					}
				}
				out = append(out, cycle{path: append(path, e.to), at: e.pos})
			}
		}
	}
	return out
}

// checkUnused warns about id types no source identifier uses.
func (l *loader) checkUnused() {
	if l.p.Identity == nil {
		return
	}
	for _, t := range l.p.Identity.IDTypes {
		if !l.idTypeUsed[t.Name] {
			l.warnf(t.Pos, "remove it, or map a source column to it under `identifiers`", "id type `%s` is not used by any source identifier", t.Name)
		}
	}
}
