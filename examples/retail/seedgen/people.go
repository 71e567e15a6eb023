package seedgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

const day = 24 * time.Hour

// gen is the generator state: one random stream consumed in a fixed order.
type gen struct {
	r      *rand.Rand
	anchor time.Time
	start  time.Time // anchor minus two years
	used   map[string]bool
	seed   uint64 // the config's seed, for the side streams (consent.go)
}

func newGen(cfg Config) *gen {
	return &gen{
		r:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		anchor: cfg.Anchor,
		start:  cfg.Anchor.Add(-730 * day),
		used:   map[string]bool{},
		seed:   cfg.Seed,
	}
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }
func (g *gen) intn(n int) int        { return g.r.IntN(n) }
func (g *gen) pick(xs []string) string {
	return xs[g.r.IntN(len(xs))]
}

// between returns a second-aligned instant in [a, b); b if the range is empty.
func (g *gen) between(a, b time.Time) time.Time {
	span := b.Sub(a)
	if span < 2*time.Second {
		return a.Truncate(time.Second)
	}
	return a.Add(time.Duration(g.r.Int64N(int64(span)))).Truncate(time.Second)
}

// unique remembers a value and reports whether it was new.
func (g *gen) unique(v string) bool {
	if g.used[v] {
		return false
	}
	g.used[v] = true
	return true
}

// person is one real human; the sources see only fragments of them.
type person struct {
	n            int
	id           string
	country      string
	first, last  string
	email        string // primary, clean lowercase
	email2       string // work or second address, "" when none
	phone        phone  // zero when none
	phone2       phone  // new number after a change, zero when none
	since, until time.Time
	inCRM        bool
	inShop       bool
	onWeb        bool
	checkoutOnly bool // shop and CRM linked only by a checkout email
	bigSpender   bool
	userID       string
	card         string // loyalty card, "" when none
	cardInCRM    bool
	favStore     string
	signup       time.Time
}

// activity returns a moment of p's life as a customer, heavier in the last 90 days.
func (g *gen) activity(p *person, from time.Time) time.Time {
	if from.Before(p.since) {
		from = p.since
	}
	recent := g.anchor.Add(-90 * day)
	if p.until.Equal(g.anchor) && from.Before(recent) && g.chance(0.45) {
		return g.between(recent, g.anchor)
	}
	return g.between(from, p.until)
}

var countries = []struct {
	code   string
	weight int
}{{"FR", 45}, {"DE", 15}, {"ES", 10}, {"IT", 10}, {"NL", 8}, {"GB", 7}, {"US", 5}}

func (g *gen) country() string {
	n := g.intn(100)
	for _, c := range countries {
		if n < c.weight {
			return c.code
		}
		n -= c.weight
	}
	return "FR"
}

var firstNames = map[string][]string{
	"FR": {"Marie", "Camille", "Léa", "Chloé", "Manon", "Inès", "Sarah", "Julie", "Éloïse", "Anaïs", "Thomas", "Nicolas", "Julien", "Hugo", "Lucas", "Mathieu", "Antoine", "Théo", "Quentin", "François", "Céline", "Nathalie", "Sébastien", "Jérôme"},
	"DE": {"Anna", "Lena", "Hannah", "Laura", "Julia", "Sophie", "Jürgen", "Lukas", "Jonas", "Felix", "Maximilian", "Paul", "Tobias", "Stefan", "Katrin", "Sabine", "Björn", "Jörg"},
	"ES": {"Lucía", "María", "Paula", "Carmen", "Sofía", "Elena", "Javier", "Pablo", "Alejandro", "Sergio", "Álvaro", "Diego", "Raúl", "Nuria"},
	"IT": {"Giulia", "Francesca", "Chiara", "Sara", "Martina", "Alessia", "Luca", "Marco", "Matteo", "Andrea", "Lorenzo", "Davide", "Nicolò", "Simone"},
	"NL": {"Emma", "Sanne", "Lotte", "Anouk", "Fleur", "Daan", "Sem", "Bram", "Jeroen", "Thijs", "Ruben", "Joost"},
	"GB": {"Olivia", "Amelia", "Isla", "Emily", "Charlotte", "Oliver", "George", "Harry", "Jack", "William", "James", "Sophie"},
	"US": {"Emma", "Ava", "Madison", "Abigail", "Ashley", "Michael", "Ethan", "Jacob", "Tyler", "Ryan", "Brandon", "Jessica"},
}

var lastNames = map[string][]string{
	"FR": {"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Faure", "Rousseau"},
	"DE": {"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann"},
	"ES": {"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz"},
	"IT": {"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca"},
	"NL": {"de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit", "Meijer", "de Boer", "Mulder"},
	"GB": {"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "Thompson", "Evans"},
	"US": {"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Moore", "Jackson"},
}

var mailDomains = map[string][]string{
	"FR": {"gmail.com", "gmail.com", "orange.fr", "free.fr", "laposte.net", "hotmail.fr", "sfr.fr", "yahoo.fr"},
	"DE": {"gmail.com", "web.de", "gmx.de", "t-online.de", "gmx.net"},
	"ES": {"gmail.com", "gmail.com", "hotmail.es", "yahoo.es", "telefonica.net"},
	"IT": {"gmail.com", "gmail.com", "libero.it", "virgilio.it", "hotmail.it"},
	"NL": {"gmail.com", "ziggo.nl", "kpnmail.nl", "outlook.com", "hotmail.nl"},
	"GB": {"gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk", "sky.com"},
	"US": {"gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com"},
}

// workDomains are fictional employers used for second email addresses.
var workDomains = []string{"atelier-nord.fr", "lumen-conseil.fr", "kontor-sued.de", "vela-studio.it", "brisa-tech.es", "polder-group.nl", "harbourline.co.uk", "northwind-labs.com"}

var fold = strings.NewReplacer(
	"é", "e", "è", "e", "ê", "e", "ë", "e", "É", "e", "à", "a", "á", "a", "â", "a", "Á", "a",
	"ï", "i", "î", "i", "í", "i", "ô", "o", "ö", "o", "ó", "o", "ò", "o", "ü", "u", "ú", "u",
	"ç", "c", "ñ", "n", "ß", "ss", " ", "", "'", "")

func asciiLower(s string) string { return fold.Replace(strings.ToLower(s)) }

// newEmail builds a unique personal (or work) address for a name.
func (g *gen) newEmail(first, last, country string, work bool) string {
	f, l := asciiLower(first), asciiLower(last)
	var local string
	switch g.intn(5) {
	case 0:
		local = f + "." + l
	case 1:
		local = f + l
	case 2:
		local = f[:1] + "." + l
	case 3:
		local = f + "_" + l + fmt.Sprint(g.intn(90)+10)
	default:
		local = f + "." + l + fmt.Sprint(g.intn(1990-1950)+1950)
	}
	if work {
		local = f + "." + l
	}
	domain := g.pick(mailDomains[country])
	if work {
		domain = g.pick(workDomains)
	}
	e := local + "@" + domain
	for i := 2; !g.unique("email:" + e); i++ {
		e = fmt.Sprintf("%s%d@%s", local, i, domain)
	}
	return e
}

// messyEmail returns the address as a human might have typed it.
func (g *gen) messyEmail(e string) string {
	switch g.intn(10) {
	case 0, 1:
		return titleEmail(e)
	case 2:
		return strings.ToUpper(e)
	case 3:
		return " " + e
	case 4:
		return titleEmail(e) + " "
	}
	return e
}

// titleEmail capitalizes every word of an address: Marie.Dupont@Orange.fr.
func titleEmail(e string) string {
	b := []byte(e)
	up := true
	for i, c := range b {
		if up && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == '.' || c == '@' || c == '_'
	}
	return string(b)
}

// phone is a mobile number as country code plus national significant number.
type phone struct{ cc, nsn string }

func (p phone) zero() bool { return p.nsn == "" }

var callingCodes = map[string]string{"FR": "33", "DE": "49", "ES": "34", "IT": "39", "NL": "31", "GB": "44", "US": "1"}

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.intn(10))
	}
	return string(b)
}

// newPhone draws a unique mobile number for a country, valid for
// libphonenumber.
func (g *gen) newPhone(country string) phone {
	for {
		var nsn string
		switch country {
		case "FR":
			nsn = g.pick([]string{"6", "7"}) + g.digits(8)
		case "DE":
			nsn = g.pick([]string{"151", "152", "160", "170", "176"}) + g.digits(8)
		case "ES", "NL":
			nsn = "6" + g.digits(8)
		case "IT":
			nsn = "3" + g.digits(9)
		case "GB":
			nsn = "7" + g.digits(9)
		default:
			nsn = fmt.Sprint(g.intn(700)+201) + fmt.Sprint(g.intn(700)+201) + g.digits(4)
		}
		p := phone{cc: callingCodes[country], nsn: allocated(callingCodes[country], nsn)}
		if g.unique("phone:" + p.e164()) {
			return p
		}
	}
}

// allocated moves a drawn number into its country's allocated mobile
// ranges (libphonenumber's metadata) without drawing again, so the rest of
// the generated data does not change: the digits after the first are
// stepped, lowest position first, until the number is valid. A number that
// cannot be fixed this way is returned as drawn.
func allocated(cc, nsn string) string {
	valid := func(s string) bool {
		n, err := phonenumbers.Parse("+"+cc+s, "")
		return err == nil && phonenumbers.IsValidNumber(n)
	}
	if valid(nsn) {
		return nsn
	}
	for pos := 1; pos < len(nsn); pos++ {
		b := []byte(nsn)
		for k := 1; k < 10; k++ {
			b[pos] = '0' + (nsn[pos]-'0'+byte(k))%10
			if valid(string(b)) {
				return string(b)
			}
		}
	}
	return nsn
}

func (p phone) e164() string { return "+" + p.cc + p.nsn }

// format renders the number in one of the ways people and systems write it.
// French numbers may be national; others always carry their country code.
func (g *gen) format(p phone) string {
	n := p.nsn
	if p.cc == "33" {
		pairs := n[:1] + " " + n[1:3] + " " + n[3:5] + " " + n[5:7] + " " + n[7:9]
		switch g.intn(7) {
		case 0, 1:
			return "0" + pairs
		case 2:
			return "0" + n
		case 3:
			return "+33 " + pairs
		case 4:
			return "+33" + n
		case 5:
			return "0033" + n
		}
		return strings.ReplaceAll("0"+pairs, " ", ".")
	}
	if p.cc == "1" {
		switch g.intn(3) {
		case 0:
			return "+1 " + n[:3] + "-" + n[3:6] + "-" + n[6:]
		case 1:
			return "+1 (" + n[:3] + ") " + n[3:6] + "-" + n[6:]
		}
		return "+1" + n
	}
	switch g.intn(4) {
	case 0, 1:
		return "+" + p.cc + " " + n[:3] + " " + n[3:]
	case 2:
		return "00" + p.cc + n
	}
	return "+" + p.cc + n
}

// uuid draws a random version-4 UUID, the shape of a device cookie.
func (g *gen) uuid() string {
	a, b := g.r.Uint64(), g.r.Uint64()
	a = a&^0xf000 | 0x4000
	b = b&^(0xc<<60) | 0x8<<60
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, a>>16&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// amount draws a log-normal price around median, rounded to cents.
func (g *gen) amount(median, min, max float64) float64 {
	v := median * math.Exp(g.r.NormFloat64()*0.6)
	v = math.Max(min, math.Min(max, v))
	return math.Round(v*100) / 100
}

// newPeople draws the population and decides which systems know each person.
func (g *gen) newPeople(n int) []*person {
	out := make([]*person, 0, n)
	for i := 1; i <= n; i++ {
		p := &person{n: i, id: fmt.Sprintf("p%05d", i), country: g.country()}
		p.first, p.last = g.pick(firstNames[p.country]), g.pick(lastNames[p.country])
		p.email = g.newEmail(p.first, p.last, p.country, false)
		if g.chance(0.25) {
			p.email2 = g.newEmail(p.first, p.last, p.country, g.chance(0.6))
		}
		if g.chance(0.8) {
			p.phone = g.newPhone(p.country)
		}
		if g.chance(0.35) {
			p.since = g.between(g.anchor.Add(-120*day), g.anchor.Add(-2*day))
		} else {
			p.since = g.between(g.start, g.anchor.Add(-120*day))
		}
		p.until = g.anchor
		if p.since.Before(g.anchor.Add(-240*day)) && g.chance(0.22) {
			p.until = g.between(p.since.Add(45*day), g.anchor.Add(-150*day))
		}
		p.inCRM = g.chance(0.7)
		p.inShop = g.chance(0.55)
		p.onWeb = p.inShop && g.chance(0.85)
		p.bigSpender = g.chance(0.08)
		if g.chance(0.4) {
			p.card = fmt.Sprintf("LC-%07d", g.intn(9_000_000)+1_000_000)
			for !g.unique("card:" + p.card) {
				p.card = fmt.Sprintf("LC-%07d", g.intn(9_000_000)+1_000_000)
			}
			p.cardInCRM = p.inCRM && g.chance(0.85)
			p.favStore = fmt.Sprintf("S%02d", g.intn(12)+1)
		}
		if p.inCRM && p.inShop && p.email2 == "" && !p.phone.zero() && g.chance(0.1) {
			p.checkoutOnly = true
			p.email2 = g.newEmail(p.first, p.last, p.country, true)
		}
		if i == 1 {
			g.showcase(p)
		}
		out = append(out, p)
	}
	return out
}

// showcase makes p00001 a person every source knows, for docs and tests.
func (g *gen) showcase(p *person) {
	p.country, p.first, p.last = "FR", "Camille", "Moreau"
	p.email, p.email2 = "camille.moreau@orange.fr", "c.moreau@lumen-conseil.fr"
	g.unique("email:" + p.email)
	g.unique("email:" + p.email2)
	if p.phone.zero() || p.phone.cc != "33" {
		p.phone = g.newPhone("FR")
	}
	p.since, p.until = g.anchor.Add(-600*day), g.anchor
	p.inCRM, p.inShop, p.onWeb, p.checkoutOnly, p.bigSpender = true, true, true, false, true
	if p.card == "" {
		p.card = "LC-4052187"
		g.unique("card:" + p.card)
	}
	p.cardInCRM, p.favStore = true, "S03"
}
