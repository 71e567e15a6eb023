package phone

import (
	"errors"
	"strconv"

	"github.com/nyaruka/phonenumbers"
)

// Normalize is the reference of Build: the number libphonenumber parses
// from raw with region as the default region (phonenumbers.Parse), as E.164
// when it is a valid number (IsValidNumber); otherwise "" and the reason.
// region is a supported ISO region code or "" (then only numbers written
// with a leading + are understood).
func Normalize(raw, region string) (e164, reason string) {
	n, err := phonenumbers.Parse(raw, region)
	if err != nil {
		switch {
		case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
			return "", ReasonCountryCode
		case errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
			return "", ReasonShortIDD
		case errors.Is(err, phonenumbers.ErrTooShortNSN):
			return "", ReasonTooShort
		case errors.Is(err, phonenumbers.ErrNumTooLong):
			return "", ReasonTooLong
		}
		return "", ReasonNotANumber
	}
	if !phonenumbers.IsValidNumber(n) {
		cc := int(n.GetCountryCode())
		main := phonenumbers.GetRegionCodeForCountryCode(cc)
		switch main {
		case "ZZ":
			return "", ReasonCountryCode
		case "001":
			main = "+" + strconv.Itoa(cc)
		}
		return "", ReasonInvalidFor + main
	}
	return phonenumbers.Format(n, phonenumbers.E164), ""
}

// Supported reports whether libphonenumber knows an ISO region code
// (upper case).
func Supported(region string) bool { return phonenumbers.GetSupportedRegions()[region] }
