package seedgen

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

const site = "https://rivage.shop"

var categories = []string{"/", "/c/women", "/c/men", "/c/home", "/c/sale", "/c/new-in"}

var products = []string{"linen-shirt-1042", "merino-sweater-1107", "canvas-tote-1150", "denim-jacket-1213",
	"wool-scarf-1288", "leather-belt-1302", "silk-blouse-1349", "chino-trousers-1417", "rain-mac-1466",
	"cotton-tee-1520", "cashmere-beanie-1583", "ceramic-mug-1611", "linen-napkins-1678", "throw-blanket-1705",
	"espadrilles-1769", "sneakers-1834", "trench-coat-1890", "wrap-dress-1942"}

// device is one browser cookie as used by one person (a shared cookie has two).
type device struct {
	p     *person
	anon  string
	start time.Time // first event
	login time.Time // from then on the person is logged in on this device
}

// web writes browsing sessions, stitched logins, order events, shared devices
// and never-identified visitors.
func (g *gen) web(d *dataset) {
	devs := map[*person][]*device{}
	var onWeb []*person
	for _, p := range d.people {
		if !p.onWeb {
			continue
		}
		onWeb = append(onWeb, p)
		k := 1
		if p.n == 1 || g.chance(0.3) {
			k = 2
			if p.n != 1 && g.chance(0.27) {
				k = 3
			}
		}
		first := g.between(maxTime(g.start, p.signup.Add(-21*day)), p.signup)
		devs[p] = append(devs[p], &device{p: p, anon: g.uuid(), start: first, login: p.signup})
		for range k - 1 {
			s := g.activity(p, p.signup)
			devs[p] = append(devs[p], &device{p: p, anon: g.uuid(), start: s,
				login: g.between(s, minTime(s.Add(14*day), p.until))})
		}
	}
	g.shareDevices(d, onWeb, devs)

	orders := map[*person][]orderRow{}
	for _, o := range d.orders {
		if o.customerID != "" {
			orders[o.p] = append(orders[o.p], o)
		}
	}
	for _, p := range onWeb {
		ds := devs[p]
		for _, o := range orders[p] {
			dv := ds[0]
			var ok []*device
			for _, c := range ds {
				if !c.start.After(o.at) {
					ok = append(ok, c)
				}
			}
			if len(ok) > 0 {
				dv = ok[g.intn(len(ok))]
			}
			cart := o.at.Add(-time.Duration(2+g.intn(20)) * time.Minute)
			dv.login = minTime(dv.login, cart)
			d.emit(cart, dv.anon, p.userID, "added_to_cart", site+"/p/"+g.pick(products), "")
			d.emit(o.at, dv.anon, p.userID, "order_completed", site+"/checkout/confirmation",
				strconv.FormatFloat(o.amount, 'f', 2, 64))
		}
		d.emit(p.signup, ds[0].anon, p.userID, "page_viewed", site+"/account/welcome", "")
		for i, dv := range ds {
			n := 1 + g.intn(4)
			if i == 0 && dv.p == p {
				for range 1 + g.intn(2) {
					g.session(d, dv, g.between(dv.start, p.signup), p.signup)
				}
			}
			for range n {
				g.session(d, dv, g.activity(p, dv.start), g.anchor)
			}
		}
		if g.chance(0.12) {
			dv := ds[g.intn(len(ds))]
			t := g.activity(p, dv.start)
			d.emit(t, dv.anon, dv.userAt(t), "newsletter_signup", site+"/newsletter", "")
		}
	}
	for range len(d.people) * 3 / 10 {
		dv := &device{anon: g.uuid(), login: g.anchor.Add(time.Hour)}
		for range 1 + g.intn(2) {
			g.session(d, dv, g.anyTime(), g.anchor)
		}
		if g.chance(0.04) {
			d.emit(g.anyTime(), dv.anon, "", "newsletter_signup", site+"/newsletter", "")
		}
	}
	slices.SortStableFunc(d.web, func(a, b webRow) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	for i := range d.web {
		d.web[i].id = fmt.Sprintf("ev_%07d", i+1)
	}
}

// userAt is the user id logged in on the device at t, or "".
func (dv *device) userAt(t time.Time) string {
	if dv.p == nil || t.Before(dv.login) {
		return ""
	}
	return dv.p.userID
}

// session emits a short visit starting at t; no event reaches end.
func (g *gen) session(d *dataset, dv *device, t, end time.Time) {
	step := func() { t = t.Add(time.Duration(20+g.intn(220)) * time.Second) }
	emit := func(name, url string) {
		if t.Before(end) {
			d.emit(t, dv.anon, dv.userAt(t), name, url, "")
		}
	}
	emit("page_viewed", site+g.pick(categories))
	for range g.intn(3) {
		step()
		emit("product_viewed", site+"/p/"+g.pick(products))
	}
	if g.chance(0.12) {
		step()
		emit("added_to_cart", site+"/p/"+g.pick(products))
	}
	if g.chance(0.3) {
		step()
		emit("page_viewed", site+g.pick(categories))
	}
}

// shareDevices lets a few people log in on another person's first device
// (a family computer), strictly after its owner did.
func (g *gen) shareDevices(d *dataset, onWeb []*person, devs map[*person][]*device) {
	want := max(3, len(d.people)/150)
	if len(onWeb) < 4 {
		return
	}
	taken := map[*person]bool{}
	for tries := 0; len(d.shared) < want && tries < 100*want; tries++ {
		a, b := onWeb[g.intn(len(onWeb))], onWeb[g.intn(len(onWeb))]
		if a == b || a.n == 1 || b.n == 1 || taken[a] || taken[b] || a.country != b.country {
			continue
		}
		from := maxTime(a.signup, b.signup).Add(day)
		if !from.Before(b.until.Add(-2 * day)) {
			continue
		}
		login := g.between(from, b.until)
		owner := devs[a][0]
		devs[b] = append(devs[b], &device{p: b, anon: owner.anon, start: login, login: login})
		taken[a], taken[b] = true, true
		d.shared = append(d.shared, sharedDevice{anon: owner.anon, owner: a, other: b})
	}
}

func (d *dataset) emit(t time.Time, anon, user, name, url, total string) {
	d.web = append(d.web, webRow{seq: len(d.web), anon: anon, user: user, name: name, url: url, total: total, at: t})
}
