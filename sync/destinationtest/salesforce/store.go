package salesforce

import (
	"fmt"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Field is one field of the server's Contact, as sObject Describe reports
// it.
type Field struct {
	Name              string `json:"name"`
	Label             string `json:"label"`
	Type              string `json:"type"`
	Length            int    `json:"length"`
	Createable        bool   `json:"createable"`
	Updateable        bool   `json:"updateable"`
	Nillable          bool   `json:"nillable"`
	DefaultedOnCreate bool   `json:"defaultedOnCreate"`
	ExternalID        bool   `json:"externalId"`
	IDLookup          bool   `json:"idLookup"`
	Unique            bool   `json:"unique"`
	Custom            bool   `json:"custom"`
}

// Contact's fields: a slice of the standard object plus the two custom
// fields a CDP sync uses (an External ID holding the email, and a number).
var contactFields = []Field{
	{Name: "Id", Label: "Contact ID", Type: "id", Length: 18, DefaultedOnCreate: true, IDLookup: true},
	{Name: "FirstName", Label: "First Name", Type: "string", Length: 40, Createable: true, Updateable: true, Nillable: true},
	{Name: "LastName", Label: "Last Name", Type: "string", Length: 80, Createable: true, Updateable: true},
	{Name: "Name", Label: "Full Name", Type: "string", Length: 121},
	{Name: "Email", Label: "Email", Type: "email", Length: 80, Createable: true, Updateable: true, Nillable: true, IDLookup: true},
	{Name: "Phone", Label: "Business Phone", Type: "phone", Length: 40, Createable: true, Updateable: true, Nillable: true},
	{Name: "HasOptedOutOfEmail", Label: "Email Opt Out", Type: "boolean", Createable: true, Updateable: true, DefaultedOnCreate: true},
	{Name: "OwnerId", Label: "Owner ID", Type: "reference", Length: 18, Createable: true, Updateable: true, DefaultedOnCreate: true},
	{Name: "CreatedDate", Label: "Created Date", Type: "datetime", DefaultedOnCreate: true},
	{Name: "External_Email__c", Label: "External Email", Type: "email", Length: 80, Createable: true, Updateable: true,
		Nillable: true, ExternalID: true, IDLookup: true, Unique: true, Custom: true},
	{Name: "LTV__c", Label: "Lifetime Value", Type: "double", Createable: true, Updateable: true, Nillable: true, Custom: true},
}

// SObject and ExternalIDField are the object and External ID field the
// server's Settings point a destination at.
const (
	SObject         = "Contact"
	ExternalIDField = "External_Email__c"
)

// fieldByName finds a field, case-insensitively as Salesforce does.
func fieldByName(name string) (Field, bool) {
	for _, f := range contactFields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Field{}, false
}

// sfError is a per-record error in Salesforce's shape.
type sfError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// bulkText renders an error as a Bulk API sf__Error cell.
func (e sfError) bulkText() string {
	return e.StatusCode + ":" + e.Message + ":" + strings.Join(e.Fields, ",") + " --"
}

// value is one field value of a write: null clears the field.
type value struct {
	v    any // string, float64, bool
	null bool
}

// record is one stored Contact.
type record struct {
	id     string
	fields map[string]any // by canonical field name; nil values are never stored
}

// store holds the Contacts by Id and by External ID (case-folded), and
// the Ids deleted.
type store struct {
	byID    map[string]*record
	byExt   map[string]*record
	deleted map[string]bool
	seq     int
}

func newStore() *store {
	return &store{byID: map[string]*record{}, byExt: map[string]*record{}, deleted: map[string]bool{}}
}

// clone copies the store, for allOrNone rollbacks.
func (s *store) clone() *store {
	c := &store{byID: make(map[string]*record, len(s.byID)), byExt: make(map[string]*record, len(s.byExt)),
		deleted: maps.Clone(s.deleted), seq: s.seq}
	for id, r := range s.byID {
		cp := &record{id: r.id, fields: maps.Clone(r.fields)}
		c.byID[id] = cp
		if ext, ok := cp.fields[ExternalIDField].(string); ok {
			c.byExt[strings.ToLower(ext)] = cp
		}
	}
	return c
}

// newID returns the next Contact Id (key prefix 003, 18 characters).
func (s *store) newID() string {
	s.seq++
	return fmt.Sprintf("003%012dAAQ", s.seq)
}

var idRe = regexp.MustCompile(`^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$`)

// upsert creates or updates the Contact whose External ID is ext.
func (s *store) upsert(ext string, vals map[string]value) (id string, created bool, errs []sfError) {
	if e, ok := checkValues(vals); !ok {
		return "", false, []sfError{e}
	}
	rec := s.byExt[strings.ToLower(ext)]
	if rec == nil {
		if v, ok := vals["LastName"]; !ok || v.null {
			return "", false, []sfError{{StatusCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [LastName]", Fields: []string{"LastName"}}}
		}
		rec = &record{id: s.newID(), fields: map[string]any{"CreatedDate": time.Now().UTC().Format("2006-01-02T15:04:05.000+0000")}}
		created = true
	} else if v, ok := vals["LastName"]; ok && v.null {
		return "", false, []sfError{{StatusCode: "REQUIRED_FIELD_MISSING", Message: "Required fields are missing: [LastName]", Fields: []string{"LastName"}}}
	}
	for name, v := range vals {
		if v.null {
			delete(rec.fields, name)
		} else {
			rec.fields[name] = v.v
		}
	}
	s.byID[rec.id] = rec
	if ext != "" {
		rec.fields[ExternalIDField] = ext
		s.byExt[strings.ToLower(ext)] = rec
	}
	return rec.id, created, nil
}

// create creates a Contact; an External ID another Contact holds is a
// DUPLICATE_VALUE naming that Contact.
func (s *store) create(ext string, vals map[string]value) (string, []sfError) {
	if other := s.byExt[strings.ToLower(ext)]; ext != "" && other != nil {
		return "", []sfError{{StatusCode: "DUPLICATE_VALUE",
			Message: "duplicate value found: " + ExternalIDField + " duplicates value on record with id: " + other.id, Fields: []string{}}}
	}
	id, _, errs := s.upsert(ext, vals)
	return id, errs
}

// checkValues applies the per-field rules: writable, email syntax, length.
func checkValues(vals map[string]value) (sfError, bool) {
	for name, v := range vals {
		f, _ := fieldByName(name)
		if !f.Createable && !f.Updateable {
			return sfError{StatusCode: "INVALID_FIELD_FOR_INSERT_UPDATE",
				Message: "Unable to create/update fields: " + f.Name + ". Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
				Fields:  []string{f.Name}}, false
		}
		str, isText := v.v.(string)
		if v.null || !isText {
			continue
		}
		if f.Length > 0 && len([]rune(str)) > f.Length {
			return sfError{StatusCode: "STRING_TOO_LONG",
				Message: fmt.Sprintf("%s: data value too large: %s (max length=%d)", f.Label, str, f.Length), Fields: []string{f.Name}}, false
		}
		if f.Type == "email" && !validEmail(str) {
			return sfError{StatusCode: "INVALID_EMAIL_ADDRESS", Message: f.Label + ": invalid email address: " + str, Fields: []string{f.Name}}, false
		}
	}
	return sfError{}, true
}

var emailRe = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

func validEmail(s string) bool { return emailRe.MatchString(s) }

// remove deletes a Contact by Id.
func (s *store) remove(id string) []sfError {
	switch {
	case !idRe.MatchString(id):
		return []sfError{{StatusCode: "MALFORMED_ID", Message: "malformed id " + id, Fields: []string{}}}
	case s.deleted[id]:
		return []sfError{{StatusCode: "ENTITY_IS_DELETED", Message: "entity is deleted", Fields: []string{}}}
	}
	rec := s.byID[id]
	if rec == nil {
		return []sfError{{StatusCode: "INVALID_CROSS_REFERENCE_KEY", Message: "invalid cross reference id", Fields: []string{}}}
	}
	delete(s.byID, id)
	if ext, ok := rec.fields[ExternalIDField].(string); ok {
		delete(s.byExt, strings.ToLower(ext))
	}
	s.deleted[id] = true
	return nil
}

// find returns the Contacts whose field (an idLookup field) equals v,
// case-insensitively.
func (s *store) find(field Field, v string) []*record {
	if field.Name == "Id" {
		if r := s.byID[v]; r != nil {
			return []*record{r}
		}
		return nil
	}
	if field.Name == ExternalIDField {
		if r := s.byExt[strings.ToLower(v)]; r != nil {
			return []*record{r}
		}
		return nil
	}
	var out []*record
	for _, r := range s.byID {
		if x, ok := r.fields[field.Name].(string); ok && strings.EqualFold(x, v) {
			out = append(out, r)
		}
	}
	return out
}

// parseText reads a Bulk API CSV cell into a value of field f: "#N/A" is
// null; numbers, booleans and datetimes must parse.
func parseText(f Field, cell string) (value, *sfError) {
	if cell == "#N/A" {
		return value{null: true}, nil
	}
	bad := func() (value, *sfError) {
		return value{}, &sfError{StatusCode: "INVALID_TYPE_ON_FIELD_IN_RECORD",
			Message: fmt.Sprintf("%s: value not of required type: %s", f.Label, cell), Fields: []string{f.Name}}
	}
	switch f.Type {
	case "double", "currency", "percent", "int", "long":
		n, err := strconv.ParseFloat(cell, 64)
		if err != nil {
			return bad()
		}
		return value{v: n}, nil
	case "boolean":
		b, err := strconv.ParseBool(cell)
		if err != nil {
			return bad()
		}
		return value{v: b}, nil
	case "datetime":
		if _, err := time.Parse(time.RFC3339, cell); err != nil {
			return bad()
		}
	}
	return value{v: cell}, nil
}
