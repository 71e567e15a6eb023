// Command gen writes the multi-country example's seed CSVs and its truth
// file (which person owns which identifiers) from a fixed random seed:
//
//	go run ./examples/multicountry/gen
//
// Each person has one email and one mobile number of their country, valid
// for libphonenumber. The members source writes numbers the way people of
// that country do (national format, with its trunk prefix: GB 07…, RU 8…,
// IT's leading zero is part of the number) next to the member's country;
// the orders source writes them internationally (+CC, 00CC, or the
// national form again with the shipping country), sometimes with a blank
// country (the id type's default_country, FR, applies).
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// countries are the regions people come from; each has at least one person.
var countries = []string{"FR", "GB", "DE", "IT", "ES", "US", "RU", "BR", "AR", "JP", "AU", "IN", "NL", "MX"}

// person is one member with their identifiers.
type person struct {
	id, country, email string
	num                *phonenumbers.PhoneNumber
}

func main() {
	out := flag.String("out", "examples/multicountry", "the example's folder")
	n := flag.Int("people", 140, "how many people")
	flag.Parse()
	r := rand.New(rand.NewPCG(2026, 12))
	var people []person
	seen := map[string]bool{}
	for i := 0; len(people) < *n; i++ {
		c := countries[i%len(countries)]
		num := mobile(r, c)
		e164 := phonenumbers.Format(num, phonenumbers.E164)
		if num == nil || seen[e164] {
			continue
		}
		seen[e164] = true
		id := fmt.Sprintf("m%04d", len(people)+1)
		people = append(people, person{id: id, country: c, num: num,
			email: fmt.Sprintf("%s.%s@example-%s.test", id, strings.ToLower(c), strings.ToLower(c))})
	}
	var members, orders, truth [][]string
	members = append(members, []string{"member_id", "email", "phone", "country", "updated_at"})
	orders = append(orders, []string{"order_id", "phone", "ship_country", "amount", "ordered_at"})
	truth = append(truth, []string{"person", "email", "phone"})
	for i, p := range people {
		country := p.country
		if r.IntN(4) == 0 {
			country = strings.ToLower(country) + " " // case and spaces do not matter
		}
		members = append(members, []string{p.id, p.email, national(p), country,
			fmt.Sprintf("2026-10-%02d 10:00:00", 1+i%28)})
		truth = append(truth, []string{p.id, p.email, phonenumbers.Format(p.num, phonenumbers.E164)})
		for k := 0; k <= r.IntN(2); k++ {
			phone, ship := phonenumbers.Format(p.num, phonenumbers.INTERNATIONAL), p.country
			switch r.IntN(5) {
			case 0:
				ship = "" // international numbers need no country
			case 1:
				phone = "00" + strings.TrimPrefix(phonenumbers.Format(p.num, phonenumbers.E164), "+")
				ship = "FR" // 00 is the international prefix in France
			case 2:
				phone = national(p)
			case 3:
				phone = "tel:" + phonenumbers.Format(p.num, phonenumbers.RFC3966)[4:]
			}
			orders = append(orders, []string{fmt.Sprintf("o%05d", len(orders)), phone, ship,
				strconv.FormatFloat(float64(10+r.IntN(2000))/10, 'f', 2, 64), fmt.Sprintf("2026-10-%02d 12:00:00", 1+r.IntN(28))})
		}
	}
	// numbers nobody can own: junk, and a national number without a country
	orders = append(orders, []string{"o99998", "0000000000", "GB", "10.00", "2026-10-02 12:00:00"},
		[]string{"o99999", "12", "DE", "10.00", "2026-10-03 12:00:00"})
	write(filepath.Join(*out, "seeds", "members.csv"), members)
	write(filepath.Join(*out, "seeds", "orders.csv"), orders)
	write(filepath.Join(*out, "testdata", "truth.csv"), truth)
}

// national is the number in its country's national format when
// libphonenumber reads that back as the same number (not AR's "09 15…"
// mobile format, which needs the 9 written internationally), otherwise in
// international format.
func national(p person) string {
	s := phonenumbers.Format(p.num, phonenumbers.NATIONAL)
	if n, err := phonenumbers.Parse(s, p.country); err == nil &&
		phonenumbers.Format(n, phonenumbers.E164) == phonenumbers.Format(p.num, phonenumbers.E164) {
		return s
	}
	return phonenumbers.Format(p.num, phonenumbers.INTERNATIONAL)
}

// mobile draws a valid mobile number of a region: the region's example
// number with random last digits, redrawn until libphonenumber accepts it.
func mobile(r *rand.Rand, region string) *phonenumbers.PhoneNumber {
	ex := phonenumbers.GetExampleNumberForType(region, phonenumbers.MOBILE)
	nsn := phonenumbers.GetNationalSignificantNumber(ex)
	for try := 0; try < 100; try++ {
		b := []byte(nsn)
		for i := len(b) - 4; i < len(b); i++ {
			b[i] = byte('0' + r.IntN(10))
		}
		n, err := phonenumbers.Parse("+"+strconv.Itoa(int(ex.GetCountryCode()))+string(b), "")
		if err == nil && phonenumbers.IsValidNumber(n) && phonenumbers.GetNumberType(n) != phonenumbers.FIXED_LINE {
			return n
		}
	}
	return nil
}

func write(path string, rows [][]string) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
