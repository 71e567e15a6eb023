package identity

import (
	"slices"
	"strings"

	"github.com/cdpkit/cdp/identity/phone"
	"github.com/cdpkit/cdp/models"
	"github.com/cdpkit/cdp/warehouse"
)

const (
	lowerASCII = "abcdefghijklmnopqrstuvwxyz"
	upperASCII = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// ReasonNotNormalized is the reason of a phone value that its source's
// PhoneMap does not hold yet: the source node fills the map before the view
// is read, so it only shows up when someone reads a view by hand before the
// source node ran.
const ReasonNotNormalized = "not normalized yet: run the source node"

// PhoneVersion identifies libphonenumber's metadata the phone normalizer
// uses (a digest): tables derived from it carry it in their name.
func PhoneVersion() string {
	m, _ := phone.Metadata()
	return m.Version
}

// PhoneRegion is the region a phone value of a row is parsed in: the row's
// country (trimmed, ASCII letters upper-cased) when it is not empty,
// otherwise the type's default_country. A country libphonenumber does not
// know is kept as written: only numbers written with +<code> are then valid.
func PhoneRegion(t *models.IDType, country string) string {
	c := strings.Trim(country, warehouse.SpaceChars)
	c = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, c)
	if c == "" {
		return t.DefaultCountry
	}
	return c
}

// PhoneRegionSQL renders PhoneRegion over a row: country is the SQL of the
// row's `country:` column, or "" when the identifier has none.
func PhoneRegionSQL(d warehouse.Dialect, t *models.IDType, country string) string {
	def := d.QuoteString(t.DefaultCountry)
	if country == "" {
		return def
	}
	c := "TRANSLATE(" + d.TrimSpace(d.CastText(country)) + ", " + d.QuoteString(lowerASCII) + ", " + d.QuoteString(upperASCII) + ")"
	return "COALESCE(NULLIF(" + c + ", ''), " + def + ")"
}

// regionalReasons are the phone reasons that name the region they were
// judged in ("too short for FR").
var regionalReasons = []string{phone.ReasonTooShort, phone.ReasonTooLong, phone.ReasonShortIDD}

// phoneReason is the audit reason of a phone value the normalizer rejected
// with reason in region (PhoneInvalidSQL's Go twin).
func phoneReason(reason, region string) string {
	if slices.Contains(regionalReasons, reason) && region != "" {
		return reason + " for " + region
	}
	return reason
}

// PhoneInvalidSQL renders the audit reason of a phone value: raw is the
// value as text, region its PhoneRegionSQL, and reason and mapped the
// PhoneMap row's reason column and its raw column (NULL when the map has no
// row for the value). NULL when the value is kept or missing.
func PhoneInvalidSQL(d warehouse.Dialect, raw, region, reason, mapped string) string {
	quoted := make([]string, len(regionalReasons))
	for i, r := range regionalReasons {
		quoted[i] = d.QuoteString(r)
	}
	return blankCasesSQL(d, raw) +
		" WHEN " + mapped + " IS NULL THEN " + d.QuoteString(ReasonNotNormalized) +
		" WHEN " + reason + " IN (" + strings.Join(quoted, ", ") + ") AND " + region + " <> '' THEN " +
		reason + " || ' for ' || " + region + " ELSE " + reason + " END"
}
