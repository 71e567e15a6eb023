package seedgen

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// dataset is everything one generation produced.
type dataset struct {
	people  []*person
	crm     []crmRow
	shop    []shopRow
	orders  []orderRow
	pos     []posRow
	web     []webRow
	shared  []sharedDevice
	consent []consentRow
}

// sharedDevice is a cookie first used by owner, later also by other.
type sharedDevice struct {
	anon         string
	owner, other *person
}

// generate runs every source in a fixed order; see the package comment.
func generate(cfg Config) *dataset {
	g := newGen(cfg)
	d := &dataset{people: g.newPeople(cfg.People)}
	g.crm(d)
	g.shop(d)
	g.orders(d)
	g.pos(d)
	g.web(d)
	g.consent(d)
	return d
}

func ts(t time.Time) string                 { return t.UTC().Format("2006-01-02T15:04:05Z") }
func money(v float64) string                { return strconv.FormatFloat(v, 'f', 2, 64) }
func yesNo(b bool) string                   { return strconv.FormatBool(b) }
func crmID(id int) string                   { return "crm-" + strconv.Itoa(id) }
func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }

// files renders every seed CSV, keyed by file name.
func (d *dataset) files() map[string][]byte {
	out := map[string][]byte{}
	out["crm_contacts.csv"] = table([]string{"contact_id", "email", "phone", "first_name", "last_name", "country", "loyalty_card", "email_opt_in", "created_at", "updated_at"},
		len(d.crm), func(i int) []string {
			r := d.crm[i]
			return []string{strconv.Itoa(r.id), r.email, r.phone, r.first, r.last, r.country, r.card, yesNo(r.optIn), ts(r.created), ts(r.updated)}
		})
	out["shop_customers.csv"] = table([]string{"customer_id", "email", "first_name", "phone", "signup_at"},
		len(d.shop), func(i int) []string {
			r := d.shop[i]
			return []string{r.p.userID, r.email, r.p.first, r.phone, ts(r.signup)}
		})
	out["orders.csv"] = table([]string{"order_id", "customer_id", "email", "amount", "currency", "status", "ordered_at"},
		len(d.orders), func(i int) []string {
			r := d.orders[i]
			return []string{r.id, r.customerID, r.email, money(r.amount), r.currency, r.status, ts(r.at)}
		})
	out["pos_transactions.csv"] = table([]string{"txn_id", "loyalty_card", "store_id", "amount", "email", "phone", "occurred_at"},
		len(d.pos), func(i int) []string {
			r := d.pos[i]
			return []string{r.id, r.card, r.store, money(r.amount), r.email, r.phone, ts(r.at)}
		})
	out["web_events.csv"] = table([]string{"event_id", "anonymous_id", "user_id", "event_name", "occurred_at", "page_url", "properties_total"},
		len(d.web), func(i int) []string {
			r := d.web[i]
			return []string{r.id, r.anon, r.user, r.name, ts(r.at), r.url, r.total}
		})
	out["consent_events.csv"] = table([]string{"event_id", "email", "purpose", "status", "occurred_at"},
		len(d.consent), func(i int) []string {
			r := d.consent[i]
			return []string{r.id, r.email, r.purpose, r.status, ts(r.at)}
		})
	return out
}

func table(header []string, n int, row func(int) []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(header)
	for i := range n {
		w.Write(row(i))
	}
	w.Flush()
	return b.Bytes()
}

// truth lists (person_id, id_type, raw value) for every identifier a real
// person left in some source row, sorted; junk placeholders are omitted.
func (d *dataset) truth() []byte {
	seen := map[[3]string]bool{}
	var rows [][3]string
	add := func(p *person, typ, v string) {
		if p == nil || strings.TrimSpace(v) == "" || isJunk(v) {
			return
		}
		k := [3]string{p.id, typ, v}
		if !seen[k] {
			seen[k] = true
			rows = append(rows, k)
		}
	}
	byUser := map[string]*person{}
	for _, p := range d.people {
		if p.userID != "" {
			byUser[p.userID] = p
		}
	}
	for _, r := range d.crm {
		add(r.p, "crm_id", crmID(r.id))
		add(r.p, "email", r.email)
		add(r.p, "phone", r.phone)
		add(r.p, "loyalty_card", r.card)
	}
	for _, r := range d.shop {
		add(r.p, "user_id", r.p.userID)
		add(r.p, "email", r.email)
		add(r.p, "phone", r.phone)
	}
	for _, r := range d.orders {
		add(r.p, "user_id", r.customerID)
		add(r.p, "email", r.email)
	}
	for _, r := range d.consent {
		add(r.p, "email", r.email)
	}
	byCard := map[string]*person{}
	for _, p := range d.people {
		if p.card != "" {
			byCard[strings.ToLower(p.card)] = p
		}
	}
	for _, r := range d.pos {
		p := byCard[strings.ToLower(r.card)]
		add(p, "loyalty_card", r.card)
		add(p, "email", r.email)
		add(p, "phone", r.phone)
	}
	for _, r := range d.web {
		if r.user != "" {
			p := byUser[r.user]
			add(p, "user_id", r.user)
			add(p, "anonymous_id", r.anon)
		}
	}
	slices.SortFunc(rows, func(a, b [3]string) int {
		for i := range a {
			if c := strings.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	return table([]string{"person_id", "id_type", "id_value"}, len(rows), func(i int) []string { return rows[i][:] })
}

// write stores the seeds in dir and the ground truth at truthPath.
func (d *dataset) write(dir, truthPath string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := d.files()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := writeFile(filepath.Join(dir, name), files[name]); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(truthPath), 0o755); err != nil {
		return err
	}
	if err := writeFile(truthPath, d.truth()); err != nil {
		return err
	}
	return writeFile(filepath.Join(filepath.Dir(truthPath), "demo.txt"), d.demo())
}

// demo lists, as key=value lines, the identifiers that the README, `make demo`
// and integration tests use to show each hard case.
func (d *dataset) demo() []byte {
	var b bytes.Buffer
	kv := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, v) }
	b.WriteString("# Generated by examples/retail/gen with the seeds; do not edit.\n")
	p := d.people[0]
	kv("demo_person", p.id)
	kv("demo_email", p.email)
	kv("demo_second_email", p.email2)
	kv("demo_user_id", p.userID)
	kv("demo_loyalty_card", p.card)
	kv("demo_phone_e164", p.phone.e164())
	if len(d.shared) > 0 {
		s := d.shared[0]
		kv("shared_anonymous_id", s.anon)
		kv("shared_owner_user_id", s.owner.userID)
		kv("shared_other_user_id", s.other.userID)
	}
	for _, q := range d.people {
		if q.checkoutOnly {
			kv("checkout_only_person", q.id)
			kv("checkout_only_crm_email", q.email)
			kv("checkout_only_shop_email", q.email2)
			kv("checkout_only_user_id", q.userID)
			break
		}
	}
	kv("junk_phone", junkPhone)
	kv("junk_email", junkEmail)
	return b.Bytes()
}

// summary prints row counts and the identifiers docs and tests refer to.
func (d *dataset) summary(w io.Writer) {
	files := d.files()
	total := 0
	for _, name := range slices.Sorted(maps.Keys(files)) {
		b := files[name]
		total += len(b)
		fmt.Fprintf(w, "%-22s %6d rows %8d bytes\n", name, bytes.Count(b, []byte("\n"))-1, len(b))
	}
	fmt.Fprintf(w, "%-22s %6s      %8d bytes\n", "total", "", total)
	p := d.people[0]
	fmt.Fprintf(w, "showcase %s: %s / %s, %s, card %s, phone %s\n", p.id, p.email, p.email2, p.userID, p.card, p.phone.e164())
	for _, s := range d.shared {
		fmt.Fprintf(w, "shared device %s: owner %s (%s), also %s (%s)\n", s.anon, s.owner.id, s.owner.userID, s.other.id, s.other.userID)
	}
	n := 0
	for _, q := range d.people {
		if q.checkoutOnly && n < 3 {
			n++
			fmt.Fprintf(w, "checkout-only link %s: crm %s, shop %s (%s)\n", q.id, q.email, q.email2, q.userID)
		}
	}
	junk := map[string]int{}
	for _, r := range d.crm {
		junk[r.email]++
		junk[r.phone]++
	}
	for _, r := range d.pos {
		junk[r.email]++
		junk[r.phone]++
	}
	fmt.Fprintf(w, "junk: %q x%d, %q x%d, \"n/a\" x%d\n", junkPhone, junk[junkPhone], junkEmail, junk[junkEmail], junk["n/a"])
}
