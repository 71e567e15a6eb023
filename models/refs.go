package models

// kindIDType is the registry kind of identity.id_types names.
const kindIDType = "identifier type"

// sections name where each kind of item is declared, for hints.
var sections = map[string]string{
	"source": "sources", "trait": "traits", "segment": "segments",
	"destination": "destinations", kindIDType: "identity.id_types",
	kindPurpose: "consent.purposes", kindSuppression: "suppress",
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

// sourceRef resolves a source name, reporting unknown ones with a suggestion.
func (l *loader) sourceRef(name string, at Pos) *Source {
	if s := l.sources[name]; s != nil {
		return s
	}
	l.unknown("source", name, at)
	return nil
}

// traitRef resolves a trait name, reporting unknown ones with a suggestion.
func (l *loader) traitRef(name string, at Pos) *Trait {
	if t := l.traits[name]; t != nil {
		return t
	}
	l.unknown("trait", name, at)
	return nil
}
