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

// kindIDType is the registry kind of identity.id_types names.
const kindIDType = "identifier type"

// sections name where each kind of item is declared, for hints.
var sections = map[string]string{
	"source": "sources", "trait": "traits", "segment": "segments",
	"destination": "destinations", kindIDType: "identity.id_types",
}

// unknown reports a reference to an undeclared name, suggesting the closest
// declared one of the same kind.
func (l *loader) unknown(kind, name string, at Pos) {
	hint := didYouMean(name, l.names(kind))
	if hint == "" {
		hint = "declare it under `" + sections[kind] + "`"
	}
	l.errorf(at, hint, "unknown %s `%s`", kind, name)
}

// names returns the declared names of kind, sorted. It is only called once
// every file is parsed, so the list is computed once.
func (l *loader) names(kind string) []string {
	if names, ok := l.nameCache[kind]; ok {
		return names
	}
	names := sortedKeys(l.declared[kind])
	l.nameCache[kind] = names
	return names
}

// eventSources returns the names of the event sources, in project order.
func (l *loader) eventSources() []string {
	if l.events == nil {
		l.events = []string{}
		for _, s := range l.p.Sources {
			if s.IsEventStream() {
				l.events = append(l.events, s.Name)
			}
		}
	}
	return l.events
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
