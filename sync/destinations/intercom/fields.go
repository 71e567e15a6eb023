package intercom

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// CustomPrefix marks a field as a custom attribute explicitly
// ("custom_attributes.ltv"); a field that is not a standard attribute is one
// too.
const CustomPrefix = "custom_attributes."

// standard lists the contact attributes a create or update request takes
// at the top level (Create/Update Contact Request Payload), with whether
// JSON null clears them and the CDP types that suit them. role is set by
// the role setting and is not mappable.
var standard = map[string]struct {
	nullable bool
	types    []string // CDP types that fit ("" = any)
}{
	"email":                    {false, []string{"string"}},
	"external_id":              {false, []string{"string", "integer"}},
	"phone":                    {true, []string{"string"}},
	"name":                     {true, []string{"string"}},
	"avatar":                   {true, []string{"string"}},
	"signed_up_at":             {true, []string{"timestamp", "integer"}},
	"last_seen_at":             {true, []string{"timestamp", "integer"}},
	"owner_id":                 {true, []string{"integer", "string"}},
	"unsubscribed_from_emails": {true, []string{"boolean"}},
}

// readOnly are contact attributes Intercom sets itself.
var readOnly = map[string]bool{
	"id": true, "type": true, "workspace_id": true, "created_at": true, "updated_at": true,
	"role": true, "tags": true, "notes": true, "companies": true, "location": true,
	"social_profiles": true, "has_hard_bounced": true, "marked_email_as_spam": true,
	"last_replied_at": true, "last_contacted_at": true, "last_email_opened_at": true,
	"last_email_clicked_at": true, "browser": true, "os": true,
}

// target is where a destination field goes in a contact request.
type target struct {
	custom bool   // under custom_attributes
	name   string // the attribute's name
}

// targetOf places a destination field: a standard attribute by name, a
// custom attribute with the custom_attributes. prefix or any other name.
func targetOf(field string) target {
	if rest, ok := strings.CutPrefix(field, CustomPrefix); ok {
		return target{custom: true, name: rest}
	}
	if _, ok := standard[field]; ok {
		return target{name: field}
	}
	return target{custom: true, name: field}
}

// checkField refuses fields the connector cannot write.
func checkField(field string) error {
	if rest, ok := strings.CutPrefix(field, CustomPrefix); ok {
		if rest == "" || strings.Contains(rest, ".") {
			return fmt.Errorf("field `%s` does not name a custom attribute", field)
		}
		return nil
	}
	switch {
	case field == "role":
		return fmt.Errorf("field `role` cannot be mapped: the `role` setting decides it")
	case readOnly[field]:
		return fmt.Errorf("field `%s` is set by Intercom and cannot be written", field)
	case field == "" || strings.Contains(field, "."):
		return fmt.Errorf("field `%s` is neither a contact attribute nor a custom attribute name", field)
	}
	return nil
}

// keyAttribute is the attribute the record key identifies contacts by:
// the email, unless the key is mapped to external_id.
func keyAttribute(keyField string) (string, error) {
	switch keyField {
	case "", "email":
		return "email", nil
	case "external_id":
		return "external_id", nil
	}
	return "", fmt.Errorf("the sync key is mapped to `%s`; Intercom contacts are found by `email` or `external_id`", keyField)
}

func standardList() string {
	names := make([]string, 0, len(standard))
	for n := range standard {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// contactBody renders a record as a create or update request body: the
// standard attributes at the top level, the others under
// custom_attributes, the key as its attribute, times as Unix seconds, a
// whole-number external_id as text, and a
// nil value as JSON null (which clears it) except for email and
// external_id, which cannot be cleared and are left out. A NaN or infinite
// number is an error.
func (d *Destination) contactBody(r destination.Record) (map[string]any, error) {
	body := map[string]any{}
	custom := map[string]any{}
	for field, v := range r.Fields {
		v, err := wireValue(field, v)
		if err != nil {
			return nil, err
		}
		t := targetOf(field)
		if n, ok := v.(int64); ok && t == (target{name: "external_id"}) {
			v = strconv.FormatInt(n, 10) // a string in the request schema
		}
		switch {
		case t.custom:
			custom[t.name] = v
		case v == nil && !standard[t.name].nullable:
			// email and external_id cannot be cleared
		default:
			body[t.name] = v
		}
	}
	if r.Key == "" {
		return nil, fmt.Errorf("the record has no key (its %s)", d.keyAttr)
	}
	body[d.keyAttr] = r.Key
	if len(custom) > 0 {
		body["custom_attributes"] = custom
	}
	return body, nil
}

// wireValue converts one field value for JSON: times as Unix seconds.
func wireValue(field string, v any) (any, error) {
	switch x := v.(type) {
	case time.Time:
		return x.Unix(), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("field %q is %v, which JSON cannot carry", field, x)
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("field %q is %v, which JSON cannot carry", field, x)
		}
	}
	return v, nil
}
