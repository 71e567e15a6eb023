package compiler

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/cdpkit/cdp/identity"
	"github.com/cdpkit/cdp/layout"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// Options parameterize a compilation.
type Options struct {
	Schema string    // target schema the CDP writes to
	AsOf   time.Time // reference time of windows (`within`)
	RunID  string    // written to audit rows
	// Mode selects a full or an incremental build (see Mode); the zero
	// value is full.
	Mode Mode
}

// Graph is the compiled DAG in run order (dependencies first).
type Graph struct {
	Nodes  []*Node
	Tables layout.Tables
	// Mode is how the graph builds (full or incremental) and why.
	Mode Mode
	// Prepare creates what nodes read besides the model's relations (the
	// phone normalizer's metadata); it runs before the first node of every
	// run, and is idempotent.
	Prepare []Step
	// Finish records the run's watermarks; it runs after every node of a
	// complete run succeeded (a partial run records none).
	Finish []Step
}

// Node returns the node with the given ID, or nil.
func (g *Graph) Node(id string) *Node {
	for _, n := range g.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// Compile builds the DAG of a validated project for a dialect:
// sources → identity → profiles → segments (→ consent), each node with
// deterministic SQL.
func Compile(p *models.Project, d warehouse.Dialect, o Options) (*Graph, error) {
	if p.Identity == nil {
		return nil, fmt.Errorf("the project has no identity block: declare identity.id_types to build profiles")
	}
	t := layout.Tables{D: d, Schema: o.Schema, Entity: p.Entity}
	g := &Graph{Tables: t, Mode: o.Mode, Prepare: PrepareSteps(p, t), Finish: finishSteps(p, t, o)}
	var srcIDs []string
	for _, s := range p.Sources {
		n := &Node{ID: "source." + s.Name, Kind: "source", Pos: s.Pos, Output: t.SourceView(s.Name)}
		n.Steps = SourceSteps(p, t, s, o.Mode.Erasures.FilterSalt())
		g.Nodes = append(g.Nodes, n)
		srcIDs = append(srcIDs, n.ID)
	}
	idNode := &Node{ID: "identity." + p.Entity, Kind: "identity", Pos: p.Identity.Pos,
		Deps: srcIDs, Output: t.Identifiers()}
	idNode.Steps = identity.Steps(p, t, identity.Options{RunID: o.RunID, AsOf: o.AsOf,
		Incremental: o.Mode.Incremental, Watermarks: o.Mode.Watermarks})
	g.Nodes = append(g.Nodes, idNode)

	profNode := &Node{ID: "profiles." + p.Entity, Kind: "profiles", Deps: append([]string{idNode.ID}, srcIDs...),
		Output: t.Profiles()}
	if len(p.Traits) > 0 {
		profNode.Pos = p.Traits[0].Pos
	}
	profNode.Steps = ProfilesSQL(p, t, o.AsOf)
	if o.Mode.Incremental {
		profNode.Steps = ProfilesIncrementalSQL(p, t, o.AsOf, o.Mode.Watermarks)
	}
	g.Nodes = append(g.Nodes, profNode)

	order, err := segmentOrder(p)
	if err != nil {
		return nil, err
	}
	for _, s := range order {
		n := &Node{ID: "segment." + s.Name, Kind: "segment", Pos: s.Pos, Output: t.Segments(),
			Deps: append([]string{profNode.ID}, srcIDs...)}
		for _, ref := range segmentRefs(p, s) {
			n.Deps = append(n.Deps, "segment."+ref)
		}
		n.Steps = SegmentSQL(p, t, s, o.AsOf)
		g.Nodes = append(g.Nodes, n)
	}
	cn, err := consentNode(p, t, o.AsOf, append([]string{idNode.ID}, srcIDs...))
	if err != nil {
		return nil, err
	}
	if cn != nil {
		g.Nodes = append(g.Nodes, cn)
	}
	return g, nil
}

// SourceSteps is the program of a source node: its phone map brought up to
// date (when it has phone identifiers), then its view. With a tombstone
// salt (someone was forgotten), the view drops every row that carries a
// tombstoned identifier.
func SourceSteps(p *models.Project, t layout.Tables, s *models.Source, salt string) []Step {
	return append(phoneSteps(p, t, s), Stmts("view over the source with normalized identifiers",
		t.D.CreateView(t.Q(t.SourceView(s.Name)), SourceViewSQL(p, t, s, salt))...)...)
}

// segmentOrder sorts segments so that referenced segments come first
// (stable: file order otherwise).
func segmentOrder(p *models.Project) ([]*models.Segment, error) {
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	var out []*models.Segment
	var visit func(s *models.Segment, path []string) error
	visit = func(s *models.Segment, path []string) error {
		switch state[s.Name] {
		case 1:
			return fmt.Errorf("segments reference each other in a cycle: %s", strings.Join(append(path, s.Name), " → "))
		case 2:
			return nil
		}
		state[s.Name] = 1
		for _, ref := range segmentRefs(p, s) {
			r := p.Segment(ref)
			if r == nil {
				return fmt.Errorf("segment %s references unknown segment %s", s.Name, ref)
			}
			if err := visit(r, append(path, s.Name)); err != nil {
				return err
			}
		}
		state[s.Name] = 2
		out = append(out, s)
		return nil
	}
	for _, s := range p.Segments {
		if err := visit(s, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// segmentRefs lists the segments a segment references, sorted (the order of
// its dependencies and of the DAG does not depend on how the YAML lists them).
func segmentRefs(p *models.Project, s *models.Segment) []string {
	refs := p.SegmentDeps(s)
	sort.Strings(refs)
	return refs
}

var nodeIDPattern = regexp.MustCompile(`^\+?[a-z]+\.[a-z][a-z0-9_]*$`)

// Select returns the nodes named by selectors, in run order. A selector is a
// node ID (`segment.vip`), or `+ID` to include everything it depends on.
// No selectors selects every node.
func (g *Graph) Select(selectors []string) ([]*Node, error) {
	if len(selectors) == 0 {
		return g.Nodes, nil
	}
	want := map[string]bool{}
	var add func(id string)
	add = func(id string) {
		if want[id] {
			return
		}
		want[id] = true
		for _, d := range g.Node(id).Deps {
			add(d)
		}
	}
	for _, sel := range selectors {
		if !nodeIDPattern.MatchString(sel) {
			return nil, fmt.Errorf("bad node selector %q: use kind.name (source.x, identity.x, profiles.x, segment.x, consent.x), optionally prefixed with +", sel)
		}
		id := strings.TrimPrefix(sel, "+")
		if g.Node(id) == nil {
			return nil, fmt.Errorf("unknown node %q (known: %s)", id, strings.Join(g.IDs(), ", "))
		}
		if strings.HasPrefix(sel, "+") {
			add(id)
		} else {
			want[id] = true
		}
	}
	var out []*Node
	for _, n := range g.Nodes {
		if want[n.ID] {
			out = append(out, n)
		}
	}
	return out, nil
}

// IDs lists every node ID in run order.
func (g *Graph) IDs() []string {
	out := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		out[i] = n.ID
	}
	return out
}
