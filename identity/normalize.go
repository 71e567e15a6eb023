package identity

import (
	"regexp"
	"strings"

	"github.com/cdpkit/cdp/identity/phone"
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

// Reasons an invalid value is written to the audit table with.
const (
	ReasonEmpty    = "empty after trimming"
	ReasonNotEmail = "not an email"
)

// NormalizeSQL renders the SQL that normalizes expr for an identifier type:
// the result is text, or NULL when the value is empty or invalid. Phone
// numbers are not an expression: source views join the source's phone map
// (layout.Tables.PhoneMap, filled by the compiler's source node); for a
// phone type NormalizeSQL gives NULL.
func NormalizeSQL(d warehouse.Dialect, t *models.IDType, expr string) string {
	text := d.CastText(expr)
	switch t.Normalize {
	case "email":
		v := emailValueSQL(d, t, text)
		return "CASE WHEN " + d.RegexpMatch(v, emailPattern) + " THEN " + v + " END"
	case "phone":
		return d.CastText("NULL")
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
// normalizer (ReasonEmpty, ReasonNotEmail), or NULL when it is kept or
// missing (NULL or ”). The audit table records these values. For a phone
// type, PhoneInvalidSQL gives the reason from the PhoneMap.
func InvalidSQL(d warehouse.Dialect, t *models.IDType, expr string) string {
	text := d.CastText(expr)
	if t.Normalize == "none" {
		return d.CastText("NULL")
	}
	reason := ReasonEmpty
	if t.Normalize == "email" {
		reason = ReasonNotEmail
	}
	return blankCasesSQL(d, text) + " WHEN " + NormalizeSQL(d, t, expr) + " IS NULL THEN " + d.QuoteString(reason) + " END"
}

// blankCasesSQL opens the CASE of an audit reason with the cases every
// normalizer shares: NULL for a missing value (NULL or ”), ReasonEmpty for
// one of only whitespace or zero-width characters.
func blankCasesSQL(d warehouse.Dialect, text string) string {
	return "CASE WHEN " + text + " IS NULL OR " + text + " = '' THEN NULL" +
		" WHEN " + d.TrimSpace(text) + " = '' THEN " + d.QuoteString(ReasonEmpty)
}

// InvalidGo is the reference implementation of InvalidSQL (and, for phone
// numbers, of PhoneInvalidSQL in the type's default_country).
func InvalidGo(t *models.IDType, v string) string { return InvalidGoIn(t, v, "") }

// InvalidGoIn is InvalidGo for a value of a row whose `country:` is country
// ("" when the identifier has none).
func InvalidGoIn(t *models.IDType, v, country string) string {
	if v == "" || t.Normalize == "none" {
		return ""
	}
	if strings.Trim(v, warehouse.SpaceChars) == "" {
		return ReasonEmpty
	}
	if t.Normalize == "phone" {
		region := PhoneRegion(t, country)
		_, reason := phone.Normalize(v, region)
		return phoneReason(reason, region)
	}
	if _, ok := NormalizeGo(t, v); ok {
		return ""
	}
	if t.Normalize == "email" {
		return ReasonNotEmail
	}
	return ReasonEmpty
}

// NormalizeGo is the reference implementation of NormalizeSQL in Go, used by
// tests to check every dialect against the same answers and by lookups of a
// value (phone numbers in the type's default_country).
func NormalizeGo(t *models.IDType, v string) (string, bool) { return NormalizeGoIn(t, v, "") }

// NormalizeGoIn is NormalizeGo for a value of a row whose `country:` is
// country ("" when the identifier has none): phone numbers are parsed in
// PhoneRegion(t, country).
func NormalizeGoIn(t *models.IDType, v, country string) (string, bool) {
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
		e164, _ := phone.Normalize(v, PhoneRegion(t, country))
		return e164, e164 != ""
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
