package seedgen

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Junk placeholders typed by staff and test tooling; never a person's identifier.
const (
	junkPhone = "0000000000"
	junkEmail = "noemail@example.com"
)

var junkValues = map[string]bool{junkPhone: true, junkEmail: true, "n/a": true, "test@example.com": true, "noreply@example.com": true}

func isJunk(v string) bool { return junkValues[strings.ToLower(strings.TrimSpace(v))] }

type crmRow struct {
	p                                        *person // nil for QA test records
	id                                       int
	email, phone, first, last, country, card string
	optIn                                    bool
	created, updated                         time.Time
}

type shopRow struct {
	p            *person
	email, phone string
	signup       time.Time
}

type orderRow struct {
	p                 *person
	id                string
	customerID, email string
	amount            float64
	currency, status  string
	at                time.Time
}

type posRow struct {
	id           string
	card, store  string
	amount       float64
	email, phone string
	at           time.Time
}

type webRow struct {
	seq                   int // generation order, breaks timestamp ties
	id                    string
	anon, user, name, url string
	total                 string
	at                    time.Time
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// crm writes one contact per CRM person plus duplicates, phone changes and QA records.
func (g *gen) crm(d *dataset) {
	for _, p := range d.people {
		if !p.inCRM {
			continue
		}
		created := g.between(p.since, minTime(p.since.Add(60*day), p.until))
		row := crmRow{p: p, first: p.first, last: p.last, country: p.country, created: created,
			updated: g.between(created, p.until), optIn: g.chance(0.55)}
		row.email = g.crmEmail(p)
		switch {
		case !p.phone.zero() && g.chance(0.85):
			row.phone = g.format(p.phone)
		case g.chance(0.06):
			row.phone = junkPhone
		}
		if !p.phone.zero() && p.n != 1 && g.chance(0.03) {
			row.phone = junkPhone
		}
		if g.chance(0.04) {
			row.first = strings.ToLower(row.first)
		}
		if g.chance(0.12) {
			row.last = strings.ToUpper(row.last)
		}
		if p.cardInCRM {
			row.card = p.card
		}
		d.crm = append(d.crm, row)
		dups := 0
		if p.n == 1 || g.chance(0.12) {
			dups = 1
			if g.chance(0.2) {
				dups = 2
			}
		}
		for range dups {
			d.crm = append(d.crm, g.crmDuplicate(p, row))
		}
		if !p.phone.zero() && !p.checkoutOnly && p.n != 1 && g.chance(0.05) {
			p.phone2 = g.newPhone(p.country)
			dup := g.crmDuplicate(p, row)
			dup.email, dup.phone = g.messyEmail(p.email), g.format(p.phone2)
			d.crm = append(d.crm, dup)
		}
	}
	for range max(4, len(d.people)/300) {
		at := g.between(g.start, g.anchor)
		row := crmRow{email: g.pick([]string{"test@example.com", "Test@Example.com ", "noreply@example.com"}),
			first: "Test", last: "TEST", country: "FR", created: at, updated: at}
		if g.chance(0.5) {
			row.phone = junkPhone
		}
		d.crm = append(d.crm, row)
	}
	slices.SortStableFunc(d.crm, func(a, b crmRow) int { return a.created.Compare(b.created) })
	for i := range d.crm {
		d.crm[i].id = 100001 + i
	}
}

func (g *gen) crmEmail(p *person) string {
	if p.checkoutOnly || p.n == 1 {
		return g.messyEmail(p.email)
	}
	switch r := g.r.Float64(); {
	case r < 0.04:
		return ""
	case r < 0.08:
		return junkEmail
	case r < 0.10:
		return "n/a"
	case r < 0.11:
		return "noreply@example.com"
	}
	return g.messyEmail(p.email)
}

// crmDuplicate is a later contact row for the same person with slightly different data.
func (g *gen) crmDuplicate(p *person, orig crmRow) crmRow {
	dup := orig
	dup.created = g.between(orig.created, p.until)
	dup.updated = g.between(dup.created, p.until)
	if !p.phone.zero() && g.chance(0.5) {
		dup.email, dup.phone = "", g.format(p.phone)
		if p.email2 != "" && !p.checkoutOnly && g.chance(0.4) {
			dup.email = g.messyEmail(p.email2)
		}
	} else {
		dup.email, dup.phone = g.messyEmail(p.email), ""
	}
	if g.chance(0.2) {
		dup.optIn = !dup.optIn
	}
	if g.chance(0.1) {
		dup.country = ""
	}
	if g.chance(0.7) {
		dup.card = ""
	}
	dup.first, dup.last = p.first, p.last
	return dup
}

// shop writes one account per shop person and assigns user ids in signup order.
func (g *gen) shop(d *dataset) {
	for _, p := range d.people {
		if !p.inShop {
			continue
		}
		p.signup = g.between(p.since, p.since.Add(p.until.Sub(p.since)/3))
		row := shopRow{p: p, email: p.email, signup: p.signup}
		if p.checkoutOnly {
			row.email = p.email2
		} else if g.chance(0.05) {
			row.email = titleEmail(p.email)
		}
		if !p.checkoutOnly && !p.phone.zero() && (p.n == 1 || g.chance(0.4)) {
			row.phone = g.format(p.phone)
		}
		d.shop = append(d.shop, row)
	}
	slices.SortStableFunc(d.shop, func(a, b shopRow) int { return a.signup.Compare(b.signup) })
	for i := range d.shop {
		d.shop[i].p.userID = fmt.Sprintf("u_%06d", i+1)
	}
}

var currencies = map[string]string{"GB": "GBP", "US": "USD"}

// orders writes account orders (checkout email sometimes differs) and guest orders.
func (g *gen) orders(d *dataset) {
	for _, p := range d.people {
		n := 0
		switch {
		case p.inShop && (p.checkoutOnly || p.n == 1 || g.chance(0.82)):
			n = 1
			for n < 12 && g.chance(0.55) {
				n++
			}
			if p.bigSpender {
				n += 3
			}
		case !p.inShop && g.chance(0.08):
			n = 1 + g.intn(2)
		}
		for i := range n {
			d.orders = append(d.orders, g.order(p, i))
		}
	}
	slices.SortStableFunc(d.orders, func(a, b orderRow) int { return a.at.Compare(b.at) })
	for i := range d.orders {
		d.orders[i].id = fmt.Sprintf("R%06d", 100001+i)
	}
}

func (g *gen) order(p *person, i int) orderRow {
	o := orderRow{p: p, currency: cmp.Or(currencies[p.country], "EUR"), status: "paid"}
	median := 55.0
	if p.bigSpender {
		median = 170
	}
	o.amount = g.amount(median, 9.9, 1500)
	switch r := g.r.Float64(); {
	case r < 0.07:
		o.status = "refunded"
	case r < 0.13:
		o.status = "cancelled"
	}
	if !p.inShop {
		o.email, o.at = g.messyEmail(p.email), g.activity(p, p.since)
		return o
	}
	o.customerID, o.at = p.userID, g.activity(p, p.signup)
	o.email = p.email
	switch {
	case p.checkoutOnly:
		o.email = p.email2
		if i == 0 || g.chance(0.4) {
			o.email = p.email
		}
	case p.n == 1 && i == 0:
		o.email = p.email2
	case p.email2 != "" && g.chance(0.15):
		o.email = p.email2
	}
	if g.chance(0.05) {
		o.email = titleEmail(o.email)
	}
	return o
}

// pos writes loyalty-card purchases, till captures (real and junk) and walk-ins.
func (g *gen) pos(d *dataset) {
	for _, p := range d.people {
		if p.card == "" {
			continue
		}
		n := 1
		for n < 20 && g.chance(0.7) {
			n++
		}
		if p.n == 1 {
			n = 8
		}
		for range n {
			t := posRow{card: p.card, store: p.favStore, amount: g.amount(35, 2.5, 600), at: g.activity(p, p.since)}
			if g.chance(0.3) {
				t.store = fmt.Sprintf("S%02d", g.intn(12)+1)
			}
			if g.chance(0.1) {
				t.card = strings.ToLower(t.card)
			}
			switch r := g.r.Float64(); {
			case r < 0.06:
				t.email = g.messyEmail(p.email)
				if p.email2 != "" && !p.checkoutOnly && g.chance(0.3) {
					t.email = g.messyEmail(p.email2)
				}
			case r < 0.10 && !p.phone.zero():
				t.phone = g.format(p.phone)
			case r < 0.14:
				t.phone = junkPhone
			case r < 0.16:
				t.email = junkEmail
			}
			d.pos = append(d.pos, t)
		}
	}
	for range len(d.pos) * 18 / 100 {
		t := posRow{store: fmt.Sprintf("S%02d", g.intn(12)+1), amount: g.amount(25, 1.5, 300), at: g.anyTime()}
		if g.chance(0.03) {
			t.phone = junkPhone
		}
		d.pos = append(d.pos, t)
	}
	slices.SortStableFunc(d.pos, func(a, b posRow) int { return a.at.Compare(b.at) })
	for i := range d.pos {
		d.pos[i].id = fmt.Sprintf("TX%07d", i+1)
	}
}

// anyTime is a moment of the two years, heavier in the last 90 days.
func (g *gen) anyTime() time.Time {
	if g.chance(0.45) {
		return g.between(g.anchor.Add(-90*day), g.anchor)
	}
	return g.between(g.start, g.anchor)
}
