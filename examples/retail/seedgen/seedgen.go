// Package seedgen generates the seed CSVs of the retail example project, and
// the ground truth that tells which raw identifiers belong to one real person
// (the command examples/retail/gen writes them to files).
//
// The output is a pure function of the Config (seed, people, anchor): the
// random source is a math/rand/v2 PCG with a fixed seed and nothing depends on
// map order or the clock. Every timestamp is before the anchor, spread over the
// two previous years and heavier in the last 90 days, so a run with
// `cdp --as-of <anchor>` always sees the same windows.
//
// Files (Dataset.Files; Dataset.Write stores them), one header row each,
// timestamps in RFC3339 UTC:
//
//	crm_contacts.csv      contact_id,email,phone,first_name,last_name,country,loyalty_card,email_opt_in,created_at,updated_at
//	shop_customers.csv    customer_id,email,first_name,phone,signup_at
//	orders.csv            order_id,customer_id,email,amount,currency,status,ordered_at
//	pos_transactions.csv  txn_id,loyalty_card,store_id,amount,email,phone,occurred_at
//	web_events.csv        event_id,anonymous_id,user_id,event_name,occurred_at,page_url,properties_total
//	consent_events.csv    event_id,email,purpose,status,occurred_at
//
// and the truth (person_id,id_type,id_value): every raw identifier value as it
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
//     default_country FR never misreads them (and the CRM's phone identifier
//     also reads the contact's country). Every drawn number lies in its
//     country's allocated mobile ranges, so libphonenumber accepts it.
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
//   - Consent: the CRM's email_opt_in checkbox and the email platform's
//     preference-centre events (consent_events.csv: subscribed/unsubscribed
//     to email_marketing, opt_in/opt_out to sms_marketing) disagree, and the
//     latest statement wins. The events come from their own random stream
//     (consent.go), so they changed no other seed.
//   - Person p00001 is a showcase: CRM (with a duplicate), shop, orders with a
//     second checkout email, a loyalty card used in stores and two web devices.
package seedgen

import (
	"io"
	"time"
)

// Defaults of the command's flags: the committed seeds are generated with
// exactly these.
const (
	DefaultSeed   = 42
	DefaultPeople = 3000
	DefaultAnchor = "2026-11-01"
)

// Config holds every input of a generation; the output depends on nothing
// else.
type Config struct {
	Seed   uint64
	People int       // real people to generate (at least 10)
	Anchor time.Time // every timestamp is before it
}

// Dataset is everything one generation produced.
type Dataset struct{ d *dataset }

// Generate runs the generator.
func Generate(c Config) *Dataset {
	return &Dataset{generate(Config{Seed: c.Seed, People: c.People, Anchor: c.Anchor})}
}

// Files returns the seed CSVs by file name.
func (d *Dataset) Files() map[string][]byte { return d.d.files() }

// Write stores the seeds in dir, the ground truth at truthPath and demo.txt
// next to it.
func (d *Dataset) Write(dir, truthPath string) error { return d.d.write(dir, truthPath) }

// Summary prints what was generated.
func (d *Dataset) Summary(w io.Writer) { d.d.summary(w) }
