package identity

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

// emailPattern accepts one @ with a dotted domain and no whitespace or
// zero-width character anywhere (warehouse.SpaceChars): after the ends are
// trimmed, a space inside an address makes it invalid.
var emailPattern = `^[^@` + warehouse.SpaceChars + `]+@[^@` + warehouse.SpaceChars + `]+\.[^@` +
	warehouse.SpaceChars + `]+$`

var emailRE = regexp.MustCompile(emailPattern)

// gmailPattern matches the addresses gmail_canonical rewrites.
const gmailPattern = `@(gmail|googlemail)\.com$`

var gmailRE = regexp.MustCompile(gmailPattern)

// gmailSuffix matches a +suffix and the domain of an address: removing it
// leaves the local part without its +suffix.
const gmailSuffix = `(\+[^@]*)?@.*$`

var gmailSuffixRE = regexp.MustCompile(gmailSuffix)

// minPhoneDigits is the fewest digits a phone number may have to be kept.
const minPhoneDigits = 6

// Reasons an invalid value is written to the audit table with.
const (
	ReasonEmpty    = "empty after trimming"
	ReasonNotEmail = "not an email"
	ReasonPhone    = "fewer than 6 digits"
)

// NormalizeSQL renders the SQL that normalizes expr for an identifier type:
// the result is text, or NULL when the value is empty or invalid.
func NormalizeSQL(d warehouse.Dialect, t *models.IDType, expr string) string {
	text := d.CastText(expr)
	switch t.Normalize {
	case "email":
		v := emailValueSQL(d, t, text)
		return "CASE WHEN " + d.RegexpMatch(v, emailPattern) + " THEN " + v + " END"
	case "phone":
		return phoneSQL(d, text, CallingCode(t.DefaultCountry))
	case "lowercase":
		return "NULLIF(" + d.Lower(d.TrimSpace(text)) + ", '')"
	case "none":
		return "NULLIF(" + text + ", '')"
	default: // trim
		return "NULLIF(" + d.TrimSpace(text) + ", '')"
	}
}

// emailValueSQL trims, lower-cases and (gmail_canonical) canonicalizes an
// address, before the pattern check.
func emailValueSQL(d warehouse.Dialect, t *models.IDType, text string) string {
	v := d.Lower(d.TrimSpace(text))
	if !t.GmailCanonical {
		return v
	}
	local := "REPLACE(" + d.RegexpReplaceAll(v, gmailSuffix, "") + ", '.', '')"
	return "CASE WHEN " + d.RegexpMatch(v, gmailPattern) + " THEN " + local + " || '@gmail.com' ELSE " + v + " END"
}

// InvalidSQL renders the reason a non-empty value is rejected by the type's
// normalizer (ReasonEmpty, ReasonNotEmail, ReasonPhone), or NULL when it is
// kept or missing (NULL or ”). The audit table records these values.
func InvalidSQL(d warehouse.Dialect, t *models.IDType, expr string) string {
	text := d.CastText(expr)
	if t.Normalize == "none" {
		return d.CastText("NULL")
	}
	reason := ReasonEmpty
	switch t.Normalize {
	case "email":
		reason = ReasonNotEmail
	case "phone":
		reason = ReasonPhone
	}
	return "CASE WHEN " + text + " IS NULL OR " + text + " = '' THEN NULL" +
		" WHEN " + d.TrimSpace(text) + " = '' THEN " + d.QuoteString(ReasonEmpty) +
		" WHEN " + NormalizeSQL(d, t, expr) + " IS NULL THEN " + d.QuoteString(reason) + " END"
}

// InvalidGo is the reference implementation of InvalidSQL.
func InvalidGo(t *models.IDType, v string) string {
	if v == "" || t.Normalize == "none" {
		return ""
	}
	if strings.Trim(v, warehouse.SpaceChars) == "" {
		return ReasonEmpty
	}
	if _, ok := NormalizeGo(t, v); ok {
		return ""
	}
	switch t.Normalize {
	case "email":
		return ReasonNotEmail
	case "phone":
		return ReasonPhone
	}
	return ReasonEmpty
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
		s := strings.ToLower(strings.Trim(v, warehouse.SpaceChars))
		if t.GmailCanonical && gmailRE.MatchString(s) {
			s = strings.ReplaceAll(gmailSuffixRE.ReplaceAllString(s, ""), ".", "") + "@gmail.com"
		}
		if !emailRE.MatchString(s) {
			return "", false
		}
		return s, true
	case "phone":
		return phoneGo(v, CallingCode(t.DefaultCountry))
	case "lowercase":
		s := strings.ToLower(strings.Trim(v, warehouse.SpaceChars))
		return s, s != ""
	case "none":
		return v, v != ""
	default:
		s := strings.Trim(v, warehouse.SpaceChars)
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
