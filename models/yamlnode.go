package models

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits on the shape of a YAML document, checked before anything is decoded so
// that aliases and nesting cannot make the loader blow up.
const (
	maxYAMLDepth      = 256       // nesting of maps and lists, aliases expanded
	maxAliasExpansion = 1_000_000 // nodes added by expanding aliases, beyond the file's own
)

// checkTree rejects documents that nest too deeply, whose anchors contain
// themselves, or whose aliases expand to far more nodes than the file holds
// ("billion laughs"). Sizes and depths are memoized per node, so it is linear.
func (l *loader) checkTree(doc *yaml.Node) bool {
	t := treeCheck{size: map[*yaml.Node]int{}, depth: map[*yaml.Node]int{}, active: map[*yaml.Node]bool{}}
	size, depth := t.walk(doc, 0)
	switch {
	case t.cycle != nil:
		l.errorf(l.pos(t.cycle), "an anchor cannot be used inside its own value",
			"alias `*%s` refers to a value that contains it", t.cycle.Value)
	case depth > maxYAMLDepth:
		l.errorf(l.pos(t.deep), "flatten the document",
			"document is nested too deeply (more than %d levels)", maxYAMLDepth)
	case size > len(t.size)+maxAliasExpansion:
		l.errorf(Pos{File: l.file, Line: doc.Line, Col: doc.Column}, "use fewer nested aliases",
			"aliases expand to too many values (more than %d)", maxAliasExpansion)
	default:
		return true
	}
	return false
}

type treeCheck struct {
	size   map[*yaml.Node]int
	depth  map[*yaml.Node]int
	active map[*yaml.Node]bool
	cycle  *yaml.Node // alias found inside its own anchor
	deep   *yaml.Node // first node beyond maxYAMLDepth
}

// walk returns the expanded size and depth of n; level is n's nesting so far.
func (t *treeCheck) walk(n *yaml.Node, level int) (int, int) {
	if n == nil || t.cycle != nil {
		return 0, 0
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return 1, 1
		}
		if t.active[n.Alias] {
			t.cycle = n
			return 0, 0
		}
		n = n.Alias
	}
	if s, ok := t.size[n]; ok {
		return s, t.depth[n]
	}
	if level > maxYAMLDepth {
		if t.deep == nil {
			t.deep = n
		}
		return 1, maxYAMLDepth + 1
	}
	t.active[n] = true
	size, depth := 1, 0
	for _, c := range n.Content {
		s, d := t.walk(c, level+1)
		size = satAdd(size, s)
		depth = max(depth, d)
	}
	delete(t.active, n)
	t.size[n], t.depth[n] = size, depth+1
	return size, depth + 1
}

func satAdd(a, b int) int {
	const limit = 1 << 40
	if a+b > limit {
		return limit
	}
	return a + b
}

// deref follows an alias to the value it names.
func deref(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// describe names the shape of a value for "got …" messages.
func describe(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "an empty value"
		case "!!bool":
			return "a boolean"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		}
		return "a string"
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// entry is one key/value pair of a YAML map.
type entry struct {
	key  string
	k, v *yaml.Node // v is dereferenced
}

// mapNode is a YAML map whose keys were checked against a vocabulary.
type mapNode struct {
	node  *yaml.Node
	what  string            // e.g. "source `crm`", for messages
	vals  map[string]*entry // known keys
	extra []*entry          // unknown keys, when the caller accepts them
}

// get returns the value of key, or nil when absent.
func (m *mapNode) get(key string) *yaml.Node {
	if e := m.vals[key]; e != nil {
		return e.v
	}
	return nil
}

func (m *mapNode) has(key string) bool { return m.vals[key] != nil }

// present lists which of keys are set, in the order given.
func (m *mapNode) present(keys ...string) []string {
	var out []string
	for _, k := range keys {
		if m.has(k) {
			out = append(out, k)
		}
	}
	return out
}

// mapping checks that n is a map and splits its entries into known keys and, when
// extra is true, the others; unknown keys are otherwise reported with the closest
// known key. Merge keys (`<<: *anchor`) are expanded, explicit keys winning.
func (l *loader) mapping(n *yaml.Node, what string, known []string, extra bool) (*mapNode, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		l.errorf(l.pos(n), "", "%s must be a map, got %s", what, describe(n))
		return nil, false
	}
	return l.split(n, l.entries(n, what), what, known, extra), true
}

// split sorts the entries of map n into known keys and the others; see mapping.
func (l *loader) split(n *yaml.Node, entries []*entry, what string, known []string, extra bool) *mapNode {
	m := &mapNode{node: n, what: what, vals: map[string]*entry{}}
	for _, e := range entries {
		switch {
		case contains(known, e.key):
			m.vals[e.key] = e
		case extra:
			m.extra = append(m.extra, e)
		default:
			l.errorf(l.pos(e.k), unknownHint(e.key, known), "unknown key `%s` in %s", e.key, what)
		}
	}
	return m
}

// entries returns the pairs of map n in file order, with merged maps expanded
// and duplicate keys reported.
func (l *loader) entries(n *yaml.Node, what string) []*entry {
	var own, merged []*entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, l.mergeEntries(v, what)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			l.errorf(l.pos(k), "", "keys in %s must be strings, got %s", what, describe(k))
			continue
		}
		own = append(own, &entry{key: k.Value, k: k, v: v})
	}
	seen := map[string]*entry{}
	out := make([]*entry, 0, len(own)+len(merged))
	for _, e := range own {
		if first := seen[e.key]; first != nil {
			l.errorf(l.pos(e.k), "remove one of them", "duplicate key `%s` in %s (first at line %d)", e.key, what, first.k.Line)
			continue
		}
		seen[e.key] = e
		out = append(out, e)
	}
	for _, e := range merged {
		if seen[e.key] == nil {
			seen[e.key] = e
			out = append(out, e)
		}
	}
	return out
}

// mergeEntries returns the entries a `<<` merge key brings: a map or a list of maps.
func (l *loader) mergeEntries(v *yaml.Node, what string) []*entry {
	switch v.Kind {
	case yaml.MappingNode:
		return l.entries(v, what)
	case yaml.SequenceNode:
		var out []*entry
		for _, item := range v.Content {
			if item = deref(item); item.Kind == yaml.MappingNode {
				out = append(out, l.entries(item, what)...)
				continue
			}
			l.errorf(l.pos(item), "", "`<<` merges maps, got %s", describe(item))
		}
		return out
	}
	l.errorf(l.pos(v), "", "`<<` merges maps, got %s", describe(v))
	return nil
}

// expect reports n unless it is of the given kind; what and hint shape the message.
func (l *loader) expect(n *yaml.Node, kind yaml.Kind, what, hint string) bool {
	if d := deref(n); d != nil && d.Kind == kind {
		return true
	}
	shape := map[yaml.Kind]string{yaml.MappingNode: "a map", yaml.SequenceNode: "a list", yaml.ScalarNode: "a single value"}[kind]
	l.errorf(l.pos(deref(n)), hint, "%s must be %s, got %s", what, shape, describe(n))
	return false
}

// list checks that n is a list and returns its items, dereferenced.
func (l *loader) list(n *yaml.Node, what string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		l.errorf(l.pos(n), "", "%s must be a list, got %s", what, describe(n))
		return nil, false
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, item := range n.Content {
		out[i] = deref(item)
	}
	return out, true
}

// text returns the string value of scalar n, with ${VAR} interpolated. Numbers
// and booleans are taken as written; maps, lists and empty values are errors.
func (l *loader) text(n *yaml.Node, what string) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		l.errorf(l.pos(n), "", "%s must be a string, got %s", what, describe(n))
		return "", false
	}
	if n.ShortTag() != "!!str" {
		return n.Value, true
	}
	return l.interp(n)
}

// interp interpolates the string scalar n, reporting syntax errors and unset
// variables at n. In lenient mode an unset variable keeps its ${…} text.
func (l *loader) interp(n *yaml.Node) (string, bool) {
	r := interpolate(n.Value, l.opts.Getenv)
	if r.err != "" {
		l.errorf(l.pos(n), "write `${NAME}` or `${NAME:-default}`; `$${` is a literal `${`", "bad interpolation: %s", r.err)
		return r.out, false
	}
	if len(r.missing) > 0 {
		if l.lenient {
			return n.Value, false
		}
		l.errorf(l.pos(n), "set it, or give a default with `${"+r.missing[0]+":-…}`",
			"environment variable %s is not set", strings.Join(quoteAll(r.missing), ", "))
		return r.out, false
	}
	return r.out, true
}

// outOfRange reports a plain decimal number that YAML leaves as text
// because it is beyond a 64-bit float (1e400).
func outOfRange(v string) bool {
	_, err := strconv.ParseFloat(v, 64)
	return errors.Is(err, strconv.ErrRange) && strings.Trim(v, "+-.0123456789eE") == ""
}

// scalar decodes a scalar value: integers to int64, floats to float64, booleans,
// strings (interpolated) and null to nil. An unquoted string that contained
// ${…} is re-typed after interpolation, so `gte: ${MIN}` compares as a number.
func (l *loader) scalar(n *yaml.Node, what string) (any, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		l.errorf(l.pos(n), "", "%s must be a single value, got %s", what, describe(n))
		return nil, false
	}
	tag := n.ShortTag()
	if tag == "!!str" {
		s, ok := l.interp(n)
		if ok && n.Style&^yaml.FlowStyle == 0 && outOfRange(s) {
			// a plain number YAML leaves as text: beyond a 64-bit float
			l.errorf(l.pos(n), "write a number within ±1.8e308, or quote it to compare as text",
				"%s: number %s is out of range", what, s)
			return nil, false
		}
		if !ok || n.Style&^yaml.FlowStyle != 0 || s == n.Value {
			return s, ok
		}
		n = &yaml.Node{Kind: yaml.ScalarNode, Value: s, Line: n.Line, Column: n.Column}
		if tag = n.ShortTag(); tag == "!!str" {
			return s, true
		}
	}
	switch tag {
	case "!!null":
		return nil, true
	case "!!timestamp", "!!str":
		return n.Value, true
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			l.errorf(l.pos(n), "", "%s: integer %s out of range", what, n.Value)
			return nil, false
		}
		return i, true
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			l.errorf(l.pos(n), "", "%s: bad number %s", what, n.Value)
			return nil, false
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// compiled, NaN and infinity compare as NULL: the condition
			// would match nobody (and a mirror sync remove everyone)
			l.errorf(l.pos(n), "write a finite number; a comparison with NaN or infinity matches nothing",
				"%s: %s is not a finite number", what, n.Value)
			return nil, false
		}
		return f, true
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			l.errorf(l.pos(n), "", "%s: bad boolean %s", what, n.Value)
			return nil, false
		}
		return b, true
	}
	l.errorf(l.pos(n), "remove the tag", "%s: unsupported YAML tag `%s`", what, n.Tag)
	return nil, false
}

// integer decodes an integer scalar.
func (l *loader) integer(n *yaml.Node, what string) (int64, bool) {
	v, ok := l.scalar(n, what)
	if !ok {
		return 0, false
	}
	i, isInt := v.(int64)
	if !isInt {
		l.errorf(l.pos(n), "", "%s must be an integer, got %s", what, describeValue(v))
		return 0, false
	}
	return i, true
}

// boolean decodes a true/false scalar.
func (l *loader) boolean(n *yaml.Node, what string) (bool, bool) {
	v, ok := l.scalar(n, what)
	if !ok {
		return false, false
	}
	b, isBool := v.(bool)
	if !isBool {
		l.errorf(l.pos(n), "write `true` or `false`", "%s must be a boolean, got %s", what, describeValue(v))
		return false, false
	}
	return b, true
}

// anyValue decodes any YAML value: scalars as in scalar, lists to []any and maps
// to map[string]any (used by sync options).
func (l *loader) anyValue(n *yaml.Node, what string) (any, bool) {
	n = deref(n)
	switch n.Kind {
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for _, item := range n.Content {
			v, good := l.anyValue(item, what)
			ok = ok && good
			out = append(out, v)
		}
		return out, ok
	case yaml.MappingNode:
		out := map[string]any{}
		ok := true
		for _, e := range l.entries(n, what) {
			v, good := l.anyValue(e.v, what+"."+e.key)
			ok = ok && good
			out[e.key] = v
		}
		return out, ok
	}
	return l.scalar(n, what)
}

func describeValue(v any) string {
	switch v.(type) {
	case nil:
		return "an empty value"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a number"
	}
	return fmt.Sprintf("%q", v)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "`" + n + "`"
	}
	return out
}

// sortedKeys returns the keys of m in sorted order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
