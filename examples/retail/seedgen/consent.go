package seedgen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// consentRow is one event of the email platform's preference centre: a
// double opt-in confirmed, an unsubscribe link clicked, an SMS keyword.
type consentRow struct {
	p       *person
	id      string
	email   string // as the platform stores it: trimmed, lower case
	purpose string // email_marketing or sms_marketing
	status  string // subscribed, unsubscribed, opt_in, opt_out
	at      time.Time
}

// consentSeed is xored into the config's seed: the consent events draw
// from their own random stream, so adding them changed no other seed row.
const consentSeed = 0xc0175e17

// consent writes the preference centre's events. Only people whose email
// appears in some other source row are on the platform (the platform is fed
// by the shop and the CRM), and the email is spelled as one of those rows
// spells it once trimmed and lower-cased, so the events join existing
// profiles and create none. About 18% confirmed a newsletter subscription,
// a third of those unsubscribed later and some of them came back; a few
// people who never subscribed clicked "unsubscribe" in a transactional
// email; 6% answered an SMS opt-in campaign.
func (g *gen) consent(d *dataset) {
	r := rand.New(rand.NewPCG(g.seed^consentSeed, g.seed^0x9e3779b97f4a7c15^consentSeed))
	chance := func(p float64) bool { return r.Float64() < p }
	between := func(a, b time.Time) time.Time {
		if b.Sub(a) < 2*time.Second {
			return a.Truncate(time.Second)
		}
		return a.Add(time.Duration(r.Int64N(int64(b.Sub(a))))).Truncate(time.Second)
	}
	known := map[*person]string{}
	note := func(p *person, email string) {
		e := strings.ToLower(strings.TrimSpace(email))
		if p == nil || e == "" || isJunk(email) || !strings.Contains(e, "@") || known[p] != "" {
			return
		}
		known[p] = e
	}
	for _, row := range d.crm {
		note(row.p, row.email)
	}
	for _, row := range d.shop {
		note(row.p, row.email)
	}
	for _, row := range d.orders {
		note(row.p, row.email)
	}
	var rows []consentRow
	emit := func(p *person, purpose, status string, at time.Time) {
		rows = append(rows, consentRow{p: p, email: known[p], purpose: purpose, status: status, at: at})
	}
	for _, p := range d.people {
		if known[p] == "" {
			continue
		}
		switch {
		case chance(0.18):
			at := between(p.since, p.until)
			emit(p, "email_marketing", "subscribed", at)
			if chance(0.33) {
				at = between(at, p.until)
				emit(p, "email_marketing", "unsubscribed", at)
				if chance(0.2) {
					emit(p, "email_marketing", "subscribed", between(at, p.until))
				}
			}
		case chance(0.04):
			emit(p, "email_marketing", "unsubscribed", between(p.since, p.until))
		}
		if !p.phone.zero() && chance(0.06) {
			at := between(p.since, p.until)
			emit(p, "sms_marketing", "opt_in", at)
			if chance(0.25) {
				emit(p, "sms_marketing", "opt_out", between(at, p.until))
			}
		}
	}
	slices.SortStableFunc(rows, func(a, b consentRow) int { return a.at.Compare(b.at) })
	for i := range rows {
		rows[i].id = fmt.Sprintf("ce_%06d", i+1)
	}
	d.consent = rows
}
