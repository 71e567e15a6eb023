package klaviyo

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// Profile attributes a destination field may name (besides location.* and
// properties.*), per the bulk import's profile object.
var (
	profileAttributes = []string{"email", "phone_number", "external_id", "first_name", "last_name",
		"organization", "locale", "title", "image"}
	locationKeys = []string{"address1", "address2", "city", "country", "latitude", "longitude",
		"region", "zip", "timezone", "ip"}
	attributeList = strings.Join(profileAttributes, ", ")
	locationList  = strings.Join(locationKeys, ", ")
)

// Groups of a profile's fields.
const (
	groupAttribute = ""
	groupLocation  = "location"
	groupProperty  = "properties"
)

// target is where one destination field goes in a profile object.
type target struct {
	group string // groupAttribute, groupLocation or groupProperty
	name  string
}

// parseField maps a destination field name: a profile attribute (email,
// first_name…), location.<key>, or properties.<name> for a custom property.
func parseField(f string) (target, error) {
	if g, name, ok := strings.Cut(f, "."); ok {
		switch {
		case g == groupProperty && name != "":
			return target{groupProperty, name}, nil
		case g == groupLocation && slices.Contains(locationKeys, name):
			return target{groupLocation, name}, nil
		case g == groupLocation:
			return target{}, fmt.Errorf("field `%s`: a profile's location has no `%s`", f, name)
		}
		return target{}, fmt.Errorf("field `%s`: Klaviyo profiles have no `%s` object (custom properties are properties.<name>)", f, g)
	}
	if slices.Contains(profileAttributes, f) {
		return target{groupAttribute, f}, nil
	}
	return target{}, fmt.Errorf("field `%s` is no Klaviyo profile attribute; a custom property is `properties.%s`", f, f)
}

// clearing lists a record's fields to clear (null with null_values: send):
// the bulk import ignores nulls, so they are cleared by Update Profile.
type clearing struct {
	attributes []string // set to null
	location   []string // location keys set to null
	unset      []string // custom properties removed (meta.patch_properties.unset)
}

func (c clearing) empty() bool { return len(c.attributes)+len(c.location)+len(c.unset) == 0 }

// profileObject is a bulk import profile resource.
type profileObject struct {
	Type       string         `json:"type"`
	Attributes map[string]any `json:"attributes"`
}

// encodeProfile renders a record as a bulk import profile (email = the
// record key; null fields left out) and lists the fields it clears.
func encodeProfile(r destination.Record) (json.RawMessage, clearing, error) {
	var clr clearing
	if strings.TrimSpace(r.Key) == "" {
		return nil, clr, fmt.Errorf("empty key: a profile needs its email")
	}
	fields, err := destination.JSONFields(r.Fields)
	if err != nil {
		return nil, clr, err
	}
	attrs := map[string]any{"email": r.Key}
	location, props := map[string]any{}, map[string]any{}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, f := range names {
		t, err := parseField(f)
		if err != nil {
			return nil, clr, err
		}
		v := fields[f]
		switch {
		case t.group == groupAttribute && t.name == "email":
			continue // the key is the email
		case t.group == groupAttribute && v == nil:
			clr.attributes = append(clr.attributes, t.name)
		case t.group == groupAttribute:
			attrs[t.name] = text(v)
		case t.group == groupLocation && v == nil:
			clr.location = append(clr.location, t.name)
		case t.group == groupLocation:
			location[t.name] = locationValue(t.name, v)
		case v == nil:
			clr.unset = append(clr.unset, t.name)
		default:
			props[t.name] = v
		}
	}
	if len(location) > 0 {
		attrs["location"] = location
	}
	if len(props) > 0 {
		attrs["properties"] = props
	}
	b, err := json.Marshal(profileObject{Type: "profile", Attributes: attrs})
	if err != nil {
		return nil, clr, err
	}
	return b, clr, nil
}

// text renders a value for a string attribute: Klaviyo refuses a request
// whose first_name is a number, so every value is sent as text.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}

// locationValue keeps numbers for latitude and longitude (which take a
// number or a string) and renders everything else as text.
func locationValue(key string, v any) any {
	switch v.(type) {
	case int64, float64, int, float32, int32:
		if key == "latitude" || key == "longitude" {
			return v
		}
	}
	return text(v)
}

// patchBody is the Update Profile request that clears fields.
func patchBody(id string, c clearing) map[string]any {
	attrs := map[string]any{}
	for _, a := range c.attributes {
		attrs[a] = nil
	}
	if len(c.location) > 0 {
		loc := map[string]any{}
		for _, k := range c.location {
			loc[k] = nil
		}
		attrs["location"] = loc
	}
	data := map[string]any{"type": "profile", "id": id, "attributes": attrs}
	if len(c.unset) > 0 {
		data["meta"] = map[string]any{"patch_properties": map[string]any{"unset": c.unset}}
	}
	return map[string]any{"data": data}
}
