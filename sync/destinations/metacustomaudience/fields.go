package metacustomaudience

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cdpkit/cdp/sync/destination"
)

// key is one of Meta's multi-key schema keys.
type key struct {
	Name string
	// Profile is the hashing profile that follows Meta's normalization
	// rules for the key ("" when any SHA-256 profile will do).
	Profile string
	// Strong keys identify a person on their own; a row needs one.
	Strong bool
	// Plain keys are sent as they are (IDs, not PII that must be hashed).
	Plain bool
}

// Keys lists the schema keys a destination field may name, as Meta's
// Custom Audience users reference lists them.
var Keys = []key{
	{Name: "EMAIL", Profile: "meta_email", Strong: true},
	{Name: "PHONE", Profile: "meta_phone", Strong: true},
	{Name: "MADID", Strong: true, Plain: true},
	{Name: "EXTERN_ID", Strong: true, Plain: true},
	{Name: "FN", Profile: "meta_name"},
	{Name: "LN", Profile: "meta_name"},
	{Name: "FI", Profile: "meta_name"},
	{Name: "COUNTRY", Profile: "meta_country"},
	{Name: "CT"}, {Name: "ST"}, {Name: "ZIP"}, {Name: "GEN"},
	{Name: "DOBY"}, {Name: "DOBM"}, {Name: "DOBD"},
}

// keyOf returns the schema key a destination field names.
func keyOf(field string) (key, bool) {
	for _, k := range Keys {
		if k.Name == field {
			return k, true
		}
	}
	return key{}, false
}

func keyNames() []string {
	out := make([]string, len(Keys))
	for i, k := range Keys {
		out[i] = k.Name
	}
	return out
}

// hexHash is what a hashed value must look like: lowercase hex SHA-256.
var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

// checkFields reports the mapped fields Meta cannot take: a field that
// names no schema key, a key mapped twice, PII mapped without a hashing
// profile (an error: plain PII must not leave the warehouse), a profile
// other than the one following Meta's rules (a warning), no strong key.
func checkFields(fields []string, hashes map[string]string) []destination.Problem {
	var probs []destination.Problem
	seen := map[string]bool{}
	strong := false
	for _, f := range fields {
		k, ok := keyOf(f)
		if !ok {
			hint := "Meta's schema keys: " + strings.Join(keyNames(), ", ")
			if c := destination.Closest(f, keyNames()); c != "" {
				hint = "did you mean `" + c + "`? " + hint
			}
			probs = append(probs, destination.Problem{Message: fmt.Sprintf("field `%s` is not a Meta custom audience schema key", f), Hint: hint})
			continue
		}
		if seen[f] {
			probs = append(probs, destination.Problem{Message: fmt.Sprintf("field `%s` is mapped twice", f)})
		}
		seen[f] = true
		strong = strong || k.Strong
		h := hashes[f]
		switch {
		case k.Plain:
		case h == "":
			want := k.Profile
			if want == "" {
				want = "sha256"
			}
			probs = append(probs, destination.Problem{
				Message: fmt.Sprintf("field `%s` is PII that Meta takes only as a SHA-256 hash, but it is mapped without a hashing profile", f),
				Hint:    fmt.Sprintf("map it as `%s: { trait: <trait>, hash: %s }` (see docs/hashing.md)", f, want)})
		case k.Profile != "" && h != k.Profile:
			probs = append(probs, destination.Problem{Warning: true,
				Message: fmt.Sprintf("field `%s` is hashed with `%s`, not `%s`: Meta normalizes %s differently, so fewer people will match", f, h, k.Profile, f),
				Hint:    fmt.Sprintf("use `hash: %s`", k.Profile)})
		}
	}
	if len(fields) > 0 && !strong {
		probs = append(probs, destination.Problem{
			Message: "no field identifies a person on its own: map at least one of EMAIL, PHONE, MADID, EXTERN_ID",
			Hint:    "e.g. `EMAIL: { trait: email, hash: meta_email }`"})
	}
	return probs
}

// schemaOf is the request schema: the mapped keys in mapping order.
func schemaOf(fields []string) []string {
	var out []string
	for _, f := range fields {
		if _, ok := keyOf(f); ok && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// row is one record's values in schema order ("" for an unknown value).
type row []string

// rowOf builds a record's row from its fields; it fails when a hashed key
// holds anything but a lowercase hex SHA-256, or when no strong key has a
// value.
func rowOf(schema []string, fields map[string]any) (row, error) {
	out := make(row, len(schema))
	strong := false
	for i, f := range schema {
		k, _ := keyOf(f)
		v := fields[f]
		if v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		if s == "" {
			continue
		}
		if !k.Plain && !hexHash.MatchString(s) {
			return nil, fmt.Errorf("field %s is not a lowercase hex SHA-256 (map it with a hashing profile)", f)
		}
		out[i] = s
		strong = strong || k.Strong
	}
	if !strong {
		return nil, fmt.Errorf("no value Meta can match: every one of the mapped EMAIL, PHONE, MADID, EXTERN_ID is empty")
	}
	return out, nil
}

// encodeRow renders a row as a remote ID: KEY=value pairs joined by ";",
// empty values left out. It is what a later change or removal of the
// record must take back out of the audience.
func encodeRow(schema []string, r row) string {
	var parts []string
	for i, f := range schema {
		if r[i] != "" {
			parts = append(parts, f+"="+r[i])
		}
	}
	return strings.Join(parts, ";")
}

// decodeRow reads a remote ID back into key → value.
func decodeRow(s string) map[string]any {
	out := map[string]any{}
	for _, p := range strings.Split(s, ";") {
		if k, v, ok := strings.Cut(p, "="); ok && v != "" {
			out[k] = v
		}
	}
	return out
}

// strongDiffers reports whether the old row holds a strong key value the
// new one does not: the old identifiers must then leave the audience.
func strongDiffers(schema []string, old map[string]any, nw row) bool {
	for _, k := range Keys {
		if !k.Strong {
			continue
		}
		ov, _ := old[k.Name].(string)
		if ov == "" {
			continue
		}
		i := slices.Index(schema, k.Name)
		if i < 0 || nw[i] != ov {
			return true
		}
	}
	return false
}
