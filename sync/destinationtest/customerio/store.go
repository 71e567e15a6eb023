package customerio

import (
	"fmt"
	"maps"
	"sort"
	"strings"
)

// Person is one person of the workspace.
type Person struct {
	CioID string // assigned by the server
	ID    string // the id identifier ("" when unset)
	Email string // the email identifier as first given ("" when unset)
	// Attributes holds every other attribute; numbers are json.Number.
	Attributes map[string]any
}

func (p *Person) clone() Person {
	c := *p
	c.Attributes = maps.Clone(p.Attributes)
	return c
}

// segment is a segment and its members (by cio_id).
type segment struct {
	manual  bool
	members map[string]bool
}

// store is the workspace: people with their identifier indexes, and
// segments. The server's mutex guards it.
type store struct {
	people   []*Person
	byEmail  map[string]*Person // lower-cased email
	byID     map[string]*Person
	byCio    map[string]*Person
	segments map[int]*segment
	nextCio  int
}

func newStore() *store {
	return &store{byEmail: map[string]*Person{}, byID: map[string]*Person{}, byCio: map[string]*Person{},
		segments: map[int]*segment{}, nextCio: 0xa3000001}
}

func (st *store) addSegment(id int, manual bool) {
	if st.segments[id] == nil {
		st.segments[id] = &segment{manual: manual, members: map[string]bool{}}
	}
}

// lookup finds a person by one identifier kind: id, email or cio_id.
func (st *store) lookup(kind, value string) *Person {
	switch kind {
	case "id":
		return st.byID[value]
	case "email":
		return st.byEmail[strings.ToLower(value)]
	case "cio_id":
		return st.byCio[value]
	}
	return nil
}

// create adds a person with one identifier.
func (st *store) create(kind, value string) *Person {
	p := &Person{CioID: fmt.Sprintf("%x", st.nextCio), Attributes: map[string]any{}}
	st.nextCio++
	switch kind {
	case "id":
		p.ID = value
		st.byID[value] = p
	case "email":
		p.Email = value
		st.byEmail[strings.ToLower(value)] = p
	}
	st.byCio[p.CioID] = p
	st.people = append(st.people, p)
	return p
}

// setIdentifier gives p an email or id from its attributes; it fails when
// another person holds it.
func (st *store) setIdentifier(p *Person, kind, value string) error {
	if o := st.lookup(kind, value); o != nil && o != p {
		return fmt.Errorf("%s %q already belongs to another person", kind, value)
	}
	switch kind {
	case "email":
		delete(st.byEmail, strings.ToLower(p.Email))
		p.Email = value
		st.byEmail[strings.ToLower(value)] = p
	case "id":
		delete(st.byID, p.ID)
		p.ID = value
		st.byID[value] = p
	}
	return nil
}

// members lists a segment's members by email (or id), sorted.
func (st *store) members(id int) []string {
	seg := st.segments[id]
	if seg == nil {
		return nil
	}
	var out []string
	for cio := range seg.members {
		p := st.byCio[cio]
		switch {
		case p == nil:
		case p.Email != "":
			out = append(out, p.Email)
		default:
			out = append(out, "id:"+p.ID)
		}
	}
	sort.Strings(out)
	return out
}
