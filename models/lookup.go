package models

// Target returns the target with the given name, or the selected target
// (DefaultTarget) when name is empty; nil if there is none.
func (p *Project) Target(name string) *Target {
	if name == "" {
		name = p.DefaultTarget
	}
	return p.Targets[name]
}

// Destination returns the destination with the given name, or nil.
func (p *Project) Destination(name string) *Destination {
	for _, d := range p.Destinations {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Sync returns the sync with the given name, or nil.
func (p *Project) Sync(name string) *Sync {
	for _, s := range p.Syncs {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// TraitDeps returns the names of the traits an expr trait reads, in order of
// first appearance in its expression: every identifier token (outside
// single-quoted literals) that names a trait of the project. It is nil for
// from traits. The loader rejects cycles among these dependencies.
func (p *Project) TraitDeps(t *Trait) []string {
	if !t.IsExpr() {
		return nil
	}
	var out []string
	for _, name := range exprIdents(t.Expr) {
		if p.Trait(name) != nil {
			out = append(out, name)
		}
	}
	return out
}

// SegmentDeps returns the names of the segments a segment's condition refers
// to, in order of first appearance, without duplicates.
func (p *Project) SegmentDeps(s *Segment) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(c *Condition)
	walk = func(c *Condition) {
		if c == nil {
			return
		}
		if c.Kind == CondSegment && !seen[c.Segment] {
			seen[c.Segment] = true
			out = append(out, c.Segment)
		}
		for _, ch := range c.Children {
			walk(ch)
		}
	}
	walk(s.Where)
	return out
}
