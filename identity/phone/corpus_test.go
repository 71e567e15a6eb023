package phone_test

import (
	"math/rand"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// corpusRegions are the regions of the oracle corpus: every continent,
// leading-zero countries (IT, SM, VA), trunk prefixes other than 0 (RU, BY,
// KZ: 8; HU: 06; US and the NANP islands: 1), national prefix transform
// rules (AR, BR, MX-era rules, AG, GG, JE, SM, JP), shared calling codes (+1,
// +7, +44, +61, +262, +590), and a non-geographical code (+800, +882).
var corpusRegions = []string{
	"US", "CA", "AG", "BS", "JM", "PR", "GB", "GG", "JE", "IM", "IE", "FR", "DE", "AT", "CH", "BE", "NL", "LU",
	"IT", "SM", "VA", "ES", "PT", "SE", "NO", "DK", "FI", "IS", "PL", "CZ", "SK", "HU", "RO", "BG", "GR", "TR",
	"RU", "KZ", "BY", "UA", "IL", "SA", "AE", "EG", "MA", "NG", "KE", "ZA", "GA", "MG", "RE", "GP", "IN", "PK",
	"BD", "LK", "CN", "HK", "TW", "JP", "KR", "SG", "MY", "TH", "VN", "ID", "PH", "AU", "CX", "NZ", "MX", "BR",
	"AR", "CL", "CO", "PE", "VE", "UY",
}

// callingFrom are the regions numbers are dialled from in the corpus (their
// international prefix: 00, 011, 010, 8~10, 0011, 001…).
var callingFrom = []string{"US", "GB", "FR", "DE", "RU", "JP", "AU", "BR", "IT", "CN", "KR", "SG"}

var numberTypes = []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE,
	phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.VOIP, phonenumbers.UAN,
	phonenumbers.SHARED_COST, phonenumbers.PERSONAL_NUMBER}

// phoneCase is one corpus input: a raw value and its row's region.
type phoneCase struct {
	raw, region, kind string
}

// corpus generates the oracle corpus deterministically: for each region,
// example numbers of every type with their last digits varied (valid and
// invalid numbers), each written in many formats, plus junk.
func corpus(perRegion int) []phoneCase {
	rng := rand.New(rand.NewSource(20261202))
	var out []phoneCase
	add := func(raw, region, kind string) { out = append(out, phoneCase{raw, region, kind}) }
	for _, region := range corpusRegions {
		var base []*phonenumbers.PhoneNumber
		for _, t := range numberTypes {
			if n := phonenumbers.GetExampleNumberForType(region, t); n != nil {
				base = append(base, n)
			}
		}
		if len(base) == 0 {
			continue
		}
		for i := 0; i < perRegion; i++ {
			n := vary(rng, base[i%len(base)], i)
			formats(rng, n, region, add)
		}
	}
	for _, cc := range []int{800, 808, 870, 882, 883} {
		if n := phonenumbers.GetExampleNumberForNonGeoEntity(cc); n != nil {
			for i := 0; i < 6; i++ {
				n2 := vary(rng, n, i)
				add(phonenumbers.Format(n2, phonenumbers.E164), "US", "nongeo")
				add(phonenumbers.Format(n2, phonenumbers.INTERNATIONAL), "", "nongeo")
			}
		}
	}
	junk := []string{"0000000000", "000", "12", "1", "+", "++44", "n/a", "none", "unknown", "-", "()",
		"123456789012345678901", "+999 123 456", "+0 123 456 789", "00", "0", "+44", "+44 20", "tel:",
		"tel:;phone-context=", "x136", "call me", "1-800-FLOWERS", "+1 (800) GOT-JUNK", "555-TAXI",
		"+1-212-555-0100;ext=12", "+1 650 253 0000 extension 12", "tel:863-1234;phone-context=+1-914-555",
		"tel:863-1234;phone-context=example.com", "tel:+1-914-555-8631;isub=1234", "+49 (0)30 1234567",
		"+39 06 6982 1234", "(+44) 20 7946 0958", "+44 (0) 7911 123456", "8 (495) 123-45-67", "8 800 555 35 35",
		"+7 (495) 123-45-67", "\u200b+33 6 12 34 56 78", "+33\u00a06\u00a012\u00a034\u00a056\u00a078", "06 12 34 56 78\t",
		"\uff10\uff16 \uff11\uff12 \uff13\uff14 \uff15\uff16 \uff17\uff18", "+\u0663\u0663 \u0666 \u0661\u0662 \u0663\u0664 \u0665\u0666 \u0667\u0668",
		"+1 201-555-0123 / +1 201-555-0199", "201-555-0123 x 5", "201-555-0123#5#", "201 555 0123,,5",
		"+1 201 555 0123 ext. 136", "+1 201 555 0123 #136", "+1 201 555 0123 x136", "201.555.0123", "(201) 555-0123",
		"1 (201) 555-0123", "1-201-555-0123", "12015550123", "+12015550123", "011 44 20 7946 0958", "0044 20 7946 0958",
		"00 1 201 555 0123", "+00 1 201 555 0123", "+0044 20 7946 0958",
	}
	for _, j := range junk {
		for _, r := range []string{"US", "GB", "FR", "RU", "IT", ""} {
			add(j, r, "junk")
		}
	}
	// random digit strings of every length, with and without +
	for i := 0; i < 400; i++ {
		l := 1 + rng.Intn(18)
		var b strings.Builder
		for k := 0; k < l; k++ {
			b.WriteByte(byte('0' + rng.Intn(10)))
		}
		r := corpusRegions[rng.Intn(len(corpusRegions))]
		add(b.String(), r, "random")
		add("+"+b.String(), r, "random")
	}
	return out
}

// vary replaces the last digits of a number by random ones (i%4 of them,
// at least one), which keeps many numbers valid and makes some invalid.
func vary(rng *rand.Rand, n *phonenumbers.PhoneNumber, i int) *phonenumbers.PhoneNumber {
	nsn := []byte(phonenumbers.GetNationalSignificantNumber(n))
	k := 1 + i%4
	for j := 0; j < k && j < len(nsn)-1; j++ {
		nsn[len(nsn)-1-j] = byte('0' + rng.Intn(10))
	}
	if i%17 == 5 && len(nsn) > 3 { // one digit too many or too few
		if rng.Intn(2) == 0 {
			nsn = append(nsn, byte('0'+rng.Intn(10)))
		} else {
			nsn = nsn[:len(nsn)-1]
		}
	}
	out, err := phonenumbers.Parse("+"+strconv.Itoa(int(n.GetCountryCode()))+string(nsn), "ZZ")
	if err != nil {
		return n
	}
	return out
}

// formats writes a number the ways real data holds it.
func formats(rng *rand.Rand, n *phonenumbers.PhoneNumber, region string, add func(raw, region, kind string)) {
	e164 := phonenumbers.Format(n, phonenumbers.E164)
	intl := phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
	nat := phonenumbers.Format(n, phonenumbers.NATIONAL)
	nsn := phonenumbers.GetNationalSignificantNumber(n)
	cc := strconv.Itoa(int(n.GetCountryCode()))
	add(e164, region, "e164")
	add(intl, region, "international")
	add(nat, region, "national")
	add(strings.ReplaceAll(nat, " ", "."), region, "national-dots")
	add(strings.ReplaceAll(nat, " ", "-"), region, "national-dashes")
	add(strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(nat), region, "national-digits")
	from := callingFrom[rng.Intn(len(callingFrom))]
	add(phonenumbers.FormatOutOfCountryCallingNumber(n, from), from, "idd")
	add("00"+cc+nsn, region, "00")
	if ndd := phonenumbers.GetNddPrefixForRegion(region, true); ndd != "" {
		add("+"+cc+" ("+ndd+") "+nsn, region, "plus-bracket-trunk")
	}
	add(phonenumbers.Format(n, phonenumbers.RFC3966), region, "tel")
	switch rng.Intn(6) {
	case 0:
		add(nat+" x"+strconv.Itoa(rng.Intn(1000)), region, "ext")
	case 1:
		add(intl+" ext. "+strconv.Itoa(rng.Intn(1000)), region, "ext")
	case 2:
		add(nat+" #"+strconv.Itoa(rng.Intn(1000)), region, "ext")
	case 3:
		add(fullWidth(nat), region, "fullwidth")
	case 4:
		other := corpusRegions[rng.Intn(len(corpusRegions))]
		add(nat, other, "national-other-region")
	case 5:
		add(" "+intl+"\t", region, "padded")
	}
}

func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '\uff10'
		}
		return r
	}, s)
}
