// Command gen writes the seed CSVs of the retail example project, and the
// ground truth that tells which raw identifiers belong to one real person.
//
//	go run ./examples/retail/gen                 # rewrite the committed seeds
//	go run ./examples/retail/gen -people 200 -out /tmp/seeds -truth /tmp/truth.csv
//
// The output is a pure function of the flags (-seed, -people, -anchor): the
// random source is a math/rand/v2 PCG with a fixed seed and nothing depends on
// map order or the clock. Every timestamp is before -anchor, spread over the
// two previous years and heavier in the last 90 days, so a run with
// `cdp --as-of <anchor>` always sees the same windows.
//
// Files written into -out (one header row, RFC3339 UTC timestamps):
//
//	crm_contacts.csv      contact_id,email,phone,first_name,last_name,country,loyalty_card,email_opt_in,created_at,updated_at
//	shop_customers.csv    customer_id,email,first_name,phone,signup_at
//	orders.csv            order_id,customer_id,email,amount,currency,status,ordered_at
//	pos_transactions.csv  txn_id,loyalty_card,store_id,amount,email,phone,occurred_at
//	web_events.csv        event_id,anonymous_id,user_id,event_name,occurred_at,page_url,properties_total
//
// and -truth (person_id,id_type,id_value): every raw identifier value as it
// appears in some seed row (same spelling, case and spaces), under the id type
// of the project's identity block. crm_id values are written as the source
// expression produces them ('crm-' || contact_id). Junk placeholders are not
// anyone's identifiers and are left out; a shared device is listed under
// every person who used it. Next to it, demo.txt names (key=value) the
// identifiers of each hard case, for `make demo`, the README and tests.
//
// Deliberately hard cases:
//
//   - CRM duplicates: about 12% of CRM people have a second (or third) contact
//     row with a differently cased/spaced email and no phone, or the same phone
//     in another format with no email (or a second address), with its own
//     updated_at and sometimes a flipped opt-in; 5% changed phone number
//     (another row with the new number).
//   - Messy formats: emails in mixed case with stray spaces; French phones as
//     "06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "06.12.34.56.78"…
//     Phones of other countries always carry their country code, so the
//     default_country FR never misreads them.
//   - Junk star: till staff type the placeholder phone "0000000000" or the
//     email "noemail@example.com" for customers who refuse to give one; the
//     CRM holds "n/a", "test@example.com" and "noreply@example.com" rows too.
//     Hundreds of unrelated people share these values: without the identity
//     exclude rules they would collapse into giant mixed profiles.
//   - Shared devices: one anonymous_id per 150 people (a family computer) is
//     used by two different shop accounts. user_id has limit 1, so they must not merge:
//     the device stays with the person who logged in on it first.
//   - Anonymous → known: a person's first device browses anonymously before
//     the account is created, other devices until their first login; those
//     earlier events are stitched through the anonymous_id.
//     Some people use two or three devices; about 900 devices never log in.
//   - Checkout-email-only link: some people have a shop account under a work
//     email and no phone, and a CRM contact under their personal email; the only
//     row holding both sides is an order whose checkout email is the personal one.
//   - Guest orders (no customer_id) and loyalty cards missing from the CRM,
//     linked (or not) only through an email typed at checkout or at the till.
//   - Person p00001 is a showcase: CRM (with a duplicate), shop, orders with a
//     second checkout email, a loyalty card used in stores and two web devices.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

// config holds every input of a generation; the output depends on nothing else.
type config struct {
	seed   uint64
	people int
	anchor time.Time
}

// Defaults of the flags: the committed seeds are generated with exactly these.
const (
	defaultSeed   = 42
	defaultPeople = 3000
	defaultAnchor = "2026-11-01"
)

func main() {
	var (
		seed   = flag.Uint64("seed", defaultSeed, "random seed (PCG)")
		people = flag.Int("people", defaultPeople, "number of real people to generate")
		anchor = flag.String("anchor", defaultAnchor, "every timestamp is before this date (YYYY-MM-DD or RFC3339)")
		out    = flag.String("out", "examples/retail/seeds", "directory receiving the seed CSVs")
		truth  = flag.String("truth", "examples/retail/testdata/truth.csv", "ground-truth CSV (person_id,id_type,id_value)")
		quiet  = flag.Bool("q", false, "do not print the summary")
	)
	flag.Parse()
	at, err := parseAnchor(*anchor)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(2)
	}
	if *people < 10 {
		fmt.Fprintln(os.Stderr, "gen: -people must be at least 10")
		os.Exit(2)
	}
	d := generate(config{seed: *seed, people: *people, anchor: at})
	if err := d.write(*out, *truth); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if !*quiet {
		d.summary(os.Stdout)
	}
}

func parseAnchor(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("-anchor %q: want YYYY-MM-DD or RFC3339", s)
	}
	return t.UTC(), nil
}
