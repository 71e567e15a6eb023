package hubspot

import (
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// Property is a contact property definition as GET /crm/v3/properties/contacts
// returns it.
type Property struct {
	Name                 string       `json:"name"`
	Label                string       `json:"label"`
	Type                 string       `json:"type"`      // string, number, date, datetime, enumeration, bool
	FieldType            string       `json:"fieldType"` // text, number, date, select, booleancheckbox…
	GroupName            string       `json:"groupName"`
	Description          string       `json:"description"`
	Options              []Option     `json:"options"`
	DisplayOrder         int          `json:"displayOrder"`
	HasUniqueValue       bool         `json:"hasUniqueValue"`
	Hidden               bool         `json:"hidden"`
	FormField            bool         `json:"formField"`
	Calculated           bool         `json:"calculated"`
	ExternalOptions      bool         `json:"externalOptions"`
	HubspotDefined       bool         `json:"hubspotDefined"`
	Archived             bool         `json:"archived"`
	ModificationMetadata Modification `json:"modificationMetadata"`
	CreatedAt            string       `json:"createdAt"`
	UpdatedAt            string       `json:"updatedAt"`
}

// Option is one choice of an enumeration property.
type Option struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

// Modification says what of a property may be changed.
type Modification struct {
	Archivable         bool `json:"archivable"`
	ReadOnlyDefinition bool `json:"readOnlyDefinition"`
	ReadOnlyValue      bool `json:"readOnlyValue"`
	ReadOnlyOptions    bool `json:"readOnlyOptions"`
}

// defaultProperties are the definitions the server holds: a few of
// HubSpot's default contact properties and two custom ones (ltv, vip).
func defaultProperties() []Property {
	p := func(name, label, typ, field string, hubspot, readOnly bool) Property {
		return Property{Name: name, Label: label, Type: typ, FieldType: field, GroupName: "contactinformation",
			Options: []Option{}, HubspotDefined: hubspot, FormField: !readOnly,
			ModificationMetadata: Modification{Archivable: !hubspot, ReadOnlyDefinition: hubspot, ReadOnlyValue: readOnly},
			CreatedAt:            "2020-06-30T15:57:37.277Z", UpdatedAt: "2024-01-08T10:00:00Z"}
	}
	stage := p("lifecyclestage", "Lifecycle Stage", "enumeration", "radio", true, false)
	for i, v := range []string{"subscriber", "lead", "marketingqualifiedlead", "opportunity", "customer"} {
		stage.Options = append(stage.Options, Option{Label: v, Value: v, DisplayOrder: i})
	}
	return []Property{
		p("email", "Email", "string", "text", true, false),
		p("firstname", "First Name", "string", "text", true, false),
		p("lastname", "Last Name", "string", "text", true, false),
		p("phone", "Phone Number", "string", "phonenumber", true, false),
		stage,
		p("ltv", "Lifetime value", "number", "number", false, false),
		p("vip", "VIP", "bool", "booleancheckbox", false, false),
		p("signup_date", "Signup date", "date", "date", false, false),
		p("hs_object_id", "Record ID", "number", "number", true, true),
		p("createdate", "Create Date", "datetime", "date", true, true),
		p("lastmodifieddate", "Last Modified Date", "datetime", "date", true, true),
	}
}

// properties answers GET /crm/v3/properties/contacts.
func (s *Server) properties(w http.ResponseWriter, r *http.Request) {
	if !s.method(w, r, http.MethodGet) || s.faulted(w, r) {
		return
	}
	s.mu.Lock()
	out := append([]Property(nil), s.props...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

// property returns the definition of a property; r.mu is held.
func (s *Server) property(name string) (Property, bool) {
	for _, p := range s.props {
		if p.Name == name {
			return p, true
		}
	}
	return Property{}, false
}

// propertyError is one failed property of an input.
type propertyError struct {
	name, code, msg string
}

// checkValues validates an input's property values against the
// definitions and returns them normalised (numbers canonical, emails
// lowercased); s.mu is held.
func (s *Server) checkValues(props map[string]string) (map[string]string, []propertyError) {
	out := make(map[string]string, len(props))
	var errs []propertyError
	for name, v := range props {
		p, ok := s.property(name)
		switch {
		case !ok:
			errs = append(errs, propertyError{name, "PROPERTY_DOESNT_EXIST", fmt.Sprintf("Property \"%s\" does not exist", name)})
			continue
		case p.ModificationMetadata.ReadOnlyValue:
			errs = append(errs, propertyError{name, "READ_ONLY_VALUE", fmt.Sprintf("%s is a read only property; its value cannot be set.", name)})
			continue
		case len([]rune(v)) > MaxValueLen:
			errs = append(errs, propertyError{name, "INVALID_LENGTH", fmt.Sprintf("%s value is %d characters, more than the limit of %d", name, len([]rune(v)), MaxValueLen)})
			continue
		case v == "":
			out[name] = "" // clears the property
			continue
		}
		norm, err := normalise(p, v)
		if err != nil {
			errs = append(errs, propertyError{name, err.code, err.msg})
			continue
		}
		out[name] = norm
	}
	return out, errs
}

// normalise checks a non-empty value against a property's type.
func normalise(p Property, v string) (string, *propertyError) {
	bad := func(code, format string, args ...any) (string, *propertyError) {
		return "", &propertyError{p.Name, code, fmt.Sprintf(format, args...)}
	}
	switch p.Type {
	case "number":
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return bad("INVALID_FLOAT", "%s was not a valid number.", v)
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case "bool":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return bad("INVALID_BOOLEAN", "%s was not a valid boolean; use true or false.", v)
		}
		return strconv.FormatBool(b), nil
	case "enumeration":
		for _, part := range strings.Split(v, ";") {
			if !hasOption(p, part) {
				return bad("INVALID_OPTION", "%s was not one of the allowed options: %s", part, optionList(p))
			}
		}
		return v, nil
	case "date", "datetime":
		return checkTime(p, v, bad)
	}
	if p.Name == "email" {
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != v || !strings.Contains(v[strings.LastIndex(v, "@")+1:], ".") {
			return bad("INVALID_EMAIL", "Email address %s is invalid", v)
		}
		return strings.ToLower(v), nil
	}
	return v, nil
}

// checkTime accepts epoch milliseconds or ISO 8601; a date must fall on
// midnight UTC.
func checkTime(p Property, v string, bad func(string, string, ...any) (string, *propertyError)) (string, *propertyError) {
	var t time.Time
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		t = time.UnixMilli(ms).UTC()
	} else if d, err := time.Parse("2006-01-02", v); err == nil {
		t = d
	} else if d, err := time.Parse(time.RFC3339Nano, v); err == nil {
		t = d.UTC()
	} else {
		return bad("INVALID_DATE", "%s is not a valid date: use epoch milliseconds or ISO 8601", v)
	}
	if p.Type == "date" && !t.Equal(t.Truncate(24*time.Hour)) {
		return bad("INVALID_DATE", "%s is not midnight UTC, which a date property requires", v)
	}
	return strconv.FormatInt(t.UnixMilli(), 10), nil
}

func hasOption(p Property, v string) bool {
	for _, o := range p.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

func optionList(p Property) string {
	vals := make([]string, len(p.Options))
	for i, o := range p.Options {
		vals[i] = o.Value
	}
	return strings.Join(vals, ", ")
}

// uniqueProperty reports whether name may be an idProperty: email, or a
// property with unique values; s.mu is held.
func (s *Server) uniqueProperty(name string) bool {
	p, ok := s.property(name)
	return ok && (name == "email" || p.HasUniqueValue)
}
