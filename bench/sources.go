package bench

import (
	"math/rand/v2"
	"time"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// SourceIdent is one identifier column of a generated source.
type SourceIdent struct {
	Column, Type string
}

// Source is one generated raw table: its columns, the identifiers the
// project declares on it, and the rows of one person.
type Source struct {
	Name      string
	Cols      []warehouse.Column
	Timestamp string
	Event     string // event-name column of an event source
	Idents    []SourceIdent
	rows      func(g Gen, p Person, r *rand.Rand, emit func(row []any))
}

// Sources are the generated systems: a CRM, web orders and a web event stream.
var Sources = []*Source{
	{
		Name: "crm_contacts", Timestamp: "updated_at",
		Cols:   cols("contact_id:integer", "user_id:string", "email:string", "alt_email:string", "phone:string", "updated_at:timestamp"),
		Idents: []SourceIdent{{"user_id", "user_id"}, {"email", "email"}, {"alt_email", "email"}, {"phone", "phone"}},
		rows:   crmRows,
	},
	{
		Name: "orders", Timestamp: "ordered_at",
		Cols:   cols("order_id:integer", "email:string", "phone:string", "amount:number", "status:string", "ordered_at:timestamp"),
		Idents: []SourceIdent{{"email", "email"}, {"phone", "phone"}},
		rows:   orderRows,
	},
	{
		Name: "web_events", Timestamp: "occurred_at", Event: "event_name",
		Cols: cols("event_id:integer", "anonymous_id:string", "previous_id:string", "user_id:string", "email:string",
			"device_id:string", "event_name:string", "occurred_at:timestamp"),
		Idents: []SourceIdent{{"anonymous_id", "anonymous_id"}, {"previous_id", "anonymous_id"}, {"user_id", "user_id"},
			{"email", "email"}, {"device_id", "device"}},
		rows: webRows,
	},
}

func cols(specs ...string) []warehouse.Column {
	var out []warehouse.Column
	for _, s := range specs {
		for i := range s {
			if s[i] == ':' {
				out = append(out, warehouse.Column{Name: s[:i], Type: s[i+1:]})
			}
		}
	}
	return out
}

// nilIf returns nil for an empty string, so the column is NULL.
func nilIf(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// crmRows: one contact per email (or one with the phone when there is
// none), carrying the account; without an account the first email anchors
// the others. Some contacts hold placeholders typed by staff.
func crmRows(_ Gen, p Person, r *rand.Rand, emit func([]any)) {
	id := int64(p.N) * 8
	phone := func(k int) any {
		if len(p.Phones) == 0 || (k > 0 && r.IntN(2) == 0) {
			return nil
		}
		return messyPhone(r, p.Phones[k%len(p.Phones)])
	}
	if len(p.Emails) == 0 {
		emit([]any{id, nilIf(p.UserID), nil, nil, phone(0), ts(r)})
		id++
	}
	for k, e := range p.Emails {
		var alt any
		if k > 0 && p.UserID == "" {
			alt = p.Emails[0]
		}
		emit([]any{id, nilIf(p.UserID), messyEmail(r, e), alt, phone(k), ts(r)})
		id++
	}
	if len(p.Phones) > 1 { // a second number, given once to customer service
		var anchor any
		if len(p.Emails) > 0 {
			anchor = messyEmail(r, p.Emails[0])
		}
		emit([]any{id, nilIf(p.UserID), anchor, nil, messyPhone(r, p.Phones[1]), ts(r)})
		id++
	}
	if r.Float64() < 0.04 {
		emit([]any{id, nilIf(p.UserID), junkEmails[r.IntN(len(junkEmails))], nil, junkPhones[r.IntN(len(junkPhones))], ts(r)})
	}
}

// orderRows: guest checkouts with one of the person's emails and sometimes
// their phone.
func orderRows(_ Gen, p Person, r *rand.Rand, emit func([]any)) {
	statuses := []string{"paid", "paid", "paid", "refunded", "cancelled"}
	for k := 0; k < p.Orders; k++ {
		var email, phone any
		if len(p.Emails) > 0 {
			email = messyEmail(r, p.Emails[r.IntN(len(p.Emails))])
		}
		if len(p.Phones) > 0 && (email == nil || r.IntN(5) < 2) {
			phone = messyPhone(r, p.Phones[0])
		}
		emit([]any{int64(p.N)*8 + int64(k), email, phone, float64(1000+r.IntN(30000)) / 100,
			statuses[r.IntN(len(statuses))], ts(r)})
	}
}

// webRows: an anonymous_id chain (each new cookie aliased to the previous
// one), the device on its first event, the login (or newsletter email) on
// its last.
func webRows(_ Gen, p Person, r *rand.Rand, emit func([]any)) {
	if len(p.Anon) == 0 {
		return
	}
	t := ts(r)
	id := int64(p.N) * 1024
	for j, a := range p.Anon {
		var prev, dev any
		if j > 0 {
			prev = p.Anon[j-1]
		} else {
			dev = p.Device
		}
		emit([]any{id, a, prev, nil, nil, dev, eventNames[r.IntN(2)], t})
		id++
		t = t.Add(time.Duration(1+r.IntN(48)) * time.Hour)
	}
	last := p.Anon[len(p.Anon)-1]
	switch {
	case p.UserID != "":
		emit([]any{id, last, nil, p.UserID, nil, nil, "added_to_cart", t})
	case len(p.Emails) > 0:
		emit([]any{id, last, nil, nil, messyEmail(r, p.Emails[0]), nil, "newsletter_signup", t})
	}
}

// Rows streams the rows of persons [from, to) of one source.
func (s *Source) Rows(g Gen, from, to int, emit func(row []any)) {
	stream := uint64(10)
	for i, x := range Sources {
		if x == s {
			stream += uint64(i)
		}
	}
	for i := from; i < to; i++ {
		s.rows(g, g.Person(i), g.rng(i, stream), emit)
	}
}

// IDTypes are the project's identifier types, strongest first.
func IDTypes() []*models.IDType {
	types := []*models.IDType{
		{Name: "user_id", Normalize: "trim", Limit: 1},
		{Name: "email", Normalize: "email", Exclude: []string{`@example\.(com|org|net)$`, `^(test|noreply|no-reply)@`}},
		{Name: "phone", Normalize: "phone", DefaultCountry: "FR", Limit: 3, Exclude: []string{`^\+?0+$`, `^\+330+$`}},
		{Name: "device", Normalize: "trim"},
		{Name: "anonymous_id", Normalize: "none"},
	}
	for i, t := range types {
		t.Rank = i
	}
	return types
}
