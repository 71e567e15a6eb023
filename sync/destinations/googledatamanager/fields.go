package googledatamanager

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cdpkit/cdp/sync/destination"
)

// Destination fields: one e-mail, one phone, and an address made of the
// four parts Data Manager requires together.
const (
	FieldEmail      = "email_address"
	FieldPhone      = "phone_number"
	FieldGivenName  = "address.given_name"
	FieldFamilyName = "address.family_name"
	FieldRegionCode = "address.region_code"
	FieldPostalCode = "address.postal_code"
)

// fieldProfiles maps each field to the hashing profile that follows
// Google's formatting rules; "" marks a field sent in clear (Data Manager
// takes region and postal codes unhashed).
var fieldProfiles = map[string]string{
	FieldEmail: "google_email", FieldPhone: "google_phone",
	FieldGivenName: "google_name", FieldFamilyName: "google_name",
	FieldRegionCode: "", FieldPostalCode: "",
}

var addressFields = []string{FieldGivenName, FieldFamilyName, FieldRegionCode, FieldPostalCode}

func fieldNames() []string {
	return []string{FieldEmail, FieldPhone, FieldGivenName, FieldFamilyName, FieldRegionCode, FieldPostalCode}
}

var (
	hexHash  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	regionRe = regexp.MustCompile(`^[A-Z]{2}$`)
)

// checkFields reports mapped fields Data Manager cannot take: unknown
// names, PII without a hashing profile (an error), another profile than
// Google's (a warning), a hashed region or postal code, part of an
// address only, no identifier at all.
func checkFields(fields []string, hashes map[string]string) []destination.Problem {
	var probs []destination.Problem
	addr := 0
	for _, f := range fields {
		want, ok := fieldProfiles[f]
		if !ok {
			hint := "Data Manager fields: " + strings.Join(fieldNames(), ", ")
			if c := destination.Closest(f, fieldNames()); c != "" {
				hint = "did you mean `" + c + "`? " + hint
			}
			probs = append(probs, destination.Problem{Message: fmt.Sprintf("field `%s` is not a Data Manager user identifier", f), Hint: hint})
			continue
		}
		if slices.Contains(addressFields, f) {
			addr++
		}
		h := hashes[f]
		switch {
		case want == "" && h != "":
			probs = append(probs, destination.Problem{Message: fmt.Sprintf("field `%s` is sent in clear (Data Manager does not match a hashed %s); remove its `hash:`", f, f)})
		case want != "" && h == "":
			probs = append(probs, destination.Problem{
				Message: fmt.Sprintf("field `%s` is PII that Data Manager takes only as a SHA-256 hash, but it is mapped without a hashing profile", f),
				Hint:    fmt.Sprintf("map it as `%s: { trait: <trait>, hash: %s }` (see docs/hashing.md)", f, want)})
		case want != "" && h != want:
			probs = append(probs, destination.Problem{Warning: true,
				Message: fmt.Sprintf("field `%s` is hashed with `%s`, not `%s`: Google formats it differently, so fewer people will match", f, h, want),
				Hint:    fmt.Sprintf("use `hash: %s`", want)})
		}
	}
	if addr > 0 && addr < len(addressFields) {
		probs = append(probs, destination.Problem{Message: "an address needs all of " + strings.Join(addressFields, ", ")})
	}
	if len(fields) > 0 && !slices.Contains(fields, FieldEmail) && !slices.Contains(fields, FieldPhone) && addr < len(addressFields) {
		probs = append(probs, destination.Problem{Message: "no user identifier: map email_address, phone_number or a whole address"})
	}
	return probs
}

// ids are one member's identifiers: the hashed e-mail and phone and the
// address parts ("" when unknown).
type ids struct {
	Email, Phone                  string
	Given, Family, Region, Postal string
}

func (x ids) hasAddress() bool {
	return x.Given != "" && x.Family != "" && x.Region != "" && x.Postal != ""
}

func (x ids) empty() bool { return x.Email == "" && x.Phone == "" && !x.hasAddress() }

// idsOf reads a record's fields; a hashed field that is not a lowercase
// hex SHA-256, or a bad region code, is an error.
func idsOf(fields map[string]any) (ids, error) {
	get := func(f string) string {
		switch v := fields[f].(type) {
		case nil:
			return ""
		case string:
			return v
		default:
			return fmt.Sprint(v)
		}
	}
	x := ids{Email: get(FieldEmail), Phone: get(FieldPhone), Given: get(FieldGivenName), Family: get(FieldFamilyName),
		Region: strings.ToUpper(strings.TrimSpace(get(FieldRegionCode))), Postal: strings.TrimSpace(get(FieldPostalCode))}
	for f, v := range map[string]string{FieldEmail: x.Email, FieldPhone: x.Phone, FieldGivenName: x.Given, FieldFamilyName: x.Family} {
		if v != "" && !hexHash.MatchString(v) {
			return ids{}, fmt.Errorf("field %s is not a lowercase hex SHA-256 (map it with a hashing profile)", f)
		}
	}
	if x.Region != "" && !regionRe.MatchString(x.Region) {
		return ids{}, fmt.Errorf("field %s %q is not an ISO 3166-1 alpha-2 code", FieldRegionCode, x.Region)
	}
	if x.empty() {
		return ids{}, fmt.Errorf("no user identifier: the e-mail, the phone and the address are all empty or incomplete")
	}
	return x, nil
}

// identifiers renders the wire form.
func (x ids) identifiers() []UserIdentifier {
	var out []UserIdentifier
	if x.Email != "" {
		out = append(out, UserIdentifier{EmailAddress: x.Email})
	}
	if x.Phone != "" {
		out = append(out, UserIdentifier{PhoneNumber: x.Phone})
	}
	if x.hasAddress() {
		out = append(out, UserIdentifier{Address: &AddressInfo{GivenName: x.Given, FamilyName: x.Family, RegionCode: x.Region, PostalCode: x.Postal}})
	}
	return out
}

// encode is the remote ID of a confirmed member: what a later change or
// removal must take back out.
func (x ids) encode() string {
	var parts []string
	if x.Email != "" {
		parts = append(parts, "e="+x.Email)
	}
	if x.Phone != "" {
		parts = append(parts, "p="+x.Phone)
	}
	if x.hasAddress() {
		parts = append(parts, "a="+strings.Join([]string{x.Given, x.Family, x.Region, x.Postal}, "|"))
	}
	return strings.Join(parts, ";")
}

// decodeIDs reads a remote ID.
func decodeIDs(s string) ids {
	var x ids
	for _, p := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "e":
			x.Email = v
		case "p":
			x.Phone = v
		case "a":
			if a := strings.Split(v, "|"); len(a) == 4 {
				x.Given, x.Family, x.Region, x.Postal = a[0], a[1], a[2], a[3]
			}
		}
	}
	return x
}

// minus is what old identifies that nw does not: the identifiers a change
// must remove.
func (x ids) minus(nw ids) ids {
	var out ids
	if x.Email != nw.Email {
		out.Email = x.Email
	}
	if x.Phone != nw.Phone {
		out.Phone = x.Phone
	}
	if x.hasAddress() && (x.Given != nw.Given || x.Family != nw.Family || x.Region != nw.Region || x.Postal != nw.Postal) {
		out.Given, out.Family, out.Region, out.Postal = x.Given, x.Family, x.Region, x.Postal
	}
	return out
}
