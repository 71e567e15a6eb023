package identity

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// emailPattern accepts one @ with a dotted domain and no whitespace.
const emailPattern = `^[^@\s]+@[^@\s]+\.[^@\s]+$`

var emailRE = regexp.MustCompile(emailPattern)

// minPhoneDigits is the fewest digits a phone number may have to be kept.
const minPhoneDigits = 6

// NormalizeSQL renders the SQL that normalizes expr for an identifier type:
// the result is text, or NULL when the value is empty or invalid.
func NormalizeSQL(d warehouse.Dialect, t *models.IDType, expr string) string {
	text := d.CastText(expr)
	switch t.Normalize {
	case "email":
		v := "LOWER(" + d.Trim(text) + ")"
		return "CASE WHEN " + d.RegexpMatch(v, emailPattern) + " THEN " + v + " END"
	case "phone":
		return phoneSQL(d, text, CallingCode(t.DefaultCountry))
	case "lowercase":
		return "NULLIF(LOWER(" + d.Trim(text) + "), '')"
	case "none":
		return "NULLIF(" + text + ", '')"
	default: // trim
		return "NULLIF(" + d.Trim(text) + ", '')"
	}
}

// phoneSQL normalizes to E.164: keep digits; a leading + or 00 means the
// number already carries its country code; a leading 0 is a national trunk
// prefix replaced by the default country's code; 11+ digits starting with the
// country code are taken as international; anything else gets the code.
func phoneSQL(d warehouse.Dialect, text, cc string) string {
	digits := d.RegexpReplaceAll(text, `[^0-9]`, "")
	q := d.QuoteString
	plus := q("+")
	ccPlus := q("+" + cc)
	return fmt.Sprintf("CASE WHEN LENGTH(%[1]s) < %[2]d THEN NULL"+
		" WHEN %[3]s LIKE '+%%' THEN %[4]s || %[1]s"+
		" WHEN %[1]s LIKE '00%%' THEN %[4]s || SUBSTR(%[1]s, 3)"+
		" WHEN %[1]s LIKE '0%%' THEN %[5]s || SUBSTR(%[1]s, 2)"+
		" WHEN LENGTH(%[1]s) >= 11 AND %[1]s LIKE %[6]s THEN %[4]s || %[1]s"+
		" ELSE %[5]s || %[1]s END",
		digits, minPhoneDigits, d.Trim(text), plus, ccPlus, q(cc+"%"))
}

// NormalizeGo is the reference implementation of NormalizeSQL in Go, used by
// tests to check every dialect against the same answers.
func NormalizeGo(t *models.IDType, v string) (string, bool) {
	switch t.Normalize {
	case "email":
		s := strings.ToLower(strings.Trim(v, " "))
		if !emailRE.MatchString(s) {
			return "", false
		}
		return s, true
	case "phone":
		return phoneGo(v, CallingCode(t.DefaultCountry))
	case "lowercase":
		s := strings.ToLower(strings.Trim(v, " "))
		return s, s != ""
	case "none":
		return v, v != ""
	default:
		s := strings.Trim(v, " ")
		return s, s != ""
	}
}

func phoneGo(v, cc string) (string, bool) {
	var b strings.Builder
	for _, r := range v {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	dd := b.String()
	switch {
	case len(dd) < minPhoneDigits:
		return "", false
	case strings.HasPrefix(strings.Trim(v, " "), "+"):
		return "+" + dd, true
	case strings.HasPrefix(dd, "00"):
		return "+" + dd[2:], true
	case strings.HasPrefix(dd, "0"):
		return "+" + cc + dd[1:], true
	case len(dd) >= 11 && strings.HasPrefix(dd, cc):
		return "+" + dd, true
	}
	return "+" + cc + dd, true
}

// callingCodes maps ISO 3166 alpha-2 countries to E.164 calling codes.
var callingCodes = map[string]string{
	"AT": "43", "AU": "61", "BE": "32", "BR": "55", "CA": "1", "CH": "41",
	"CN": "86", "CZ": "420", "DE": "49", "DK": "45", "ES": "34", "FI": "358",
	"FR": "33", "GB": "44", "GR": "30", "HU": "36", "IE": "353", "IN": "91",
	"IT": "39", "JP": "81", "KR": "82", "LU": "352", "MA": "212", "MX": "52",
	"NL": "31", "NO": "47", "NZ": "64", "PL": "48", "PT": "351", "RO": "40",
	"SE": "46", "SG": "65", "TR": "90", "US": "1", "ZA": "27",
}

// CallingCode returns the calling code of a country ("" when unknown).
func CallingCode(country string) string { return callingCodes[strings.ToUpper(country)] }

// KnownCountry reports whether CallingCode knows the country.
func KnownCountry(country string) bool { return CallingCode(country) != "" }
