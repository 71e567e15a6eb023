package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// describeField is the part of an sObject Describe field the check reads.
type describeField struct {
	Name              string `json:"name"`
	Type              string `json:"type"`
	Createable        bool   `json:"createable"`
	Updateable        bool   `json:"updateable"`
	Nillable          bool   `json:"nillable"`
	DefaultedOnCreate bool   `json:"defaultedOnCreate"`
	ExternalID        bool   `json:"externalId"`
	Unique            bool   `json:"unique"`
}

// describeResult is the part of an sObject Describe answer the check reads.
type describeResult struct {
	Name   string          `json:"name"`
	Fields []describeField `json:"fields"`
}

// textTypes take any value Salesforce can render as text.
var textTypes = []string{"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox", "encryptedstring"}

// accepts lists, per CDP trait type, the Salesforce field types it fits.
var accepts = map[string][]string{
	"string":    append([]string{"reference", "id"}, textTypes...),
	"integer":   append([]string{"int", "long", "double", "currency", "percent"}, textTypes...),
	"number":    append([]string{"double", "currency", "percent", "int", "long"}, textTypes...),
	"boolean":   append([]string{"boolean"}, textTypes...),
	"timestamp": append([]string{"datetime", "date"}, textTypes...),
	"json":      {"textarea", "string"},
}

// CheckFields checks the sync's mapped fields against the object's
// describe (GET /services/data/vNN.0/sobjects/{sobject}/describe): each
// must exist, be writable and fit the trait's type; the external_id_field
// must be an External ID; and the fields Salesforce requires to create a
// record must be mapped.
func (d *Destination) CheckFields(ctx context.Context, fields []destination.FieldInfo) ([]destination.FieldProblem, error) {
	resp, err := d.call(ctx, httpdest.Request{Method: http.MethodGet, Path: d.dataPath("/sobjects/" + d.sobject + "/describe")})
	if resp != nil && resp.Status == http.StatusNotFound {
		return nil, d.errorf("the org has no object %s (check sobject)", d.sobject)
	}
	if err != nil {
		return nil, err
	}
	var desc describeResult
	if err := resp.Decode(&desc); err != nil {
		return nil, d.errorf("%v", err)
	}
	byName := map[string]describeField{}
	var names []string
	for _, f := range desc.Fields {
		byName[strings.ToLower(f.Name)] = f
		names = append(names, f.Name)
	}
	var probs []destination.FieldProblem
	for _, fi := range fields {
		if p, bad := checkField(byName, names, fi, d.sobject); bad {
			probs = append(probs, p)
		}
	}
	probs = append(probs, d.checkExternalID(byName)...)
	return append(probs, d.checkRequired(desc.Fields, fields)...), nil
}

// checkField checks one mapped field.
func checkField(byName map[string]describeField, names []string, fi destination.FieldInfo, sobject string) (destination.FieldProblem, bool) {
	f, ok := byName[strings.ToLower(fi.Field)]
	switch {
	case !ok:
		msg := fmt.Sprintf("%s has no field %s", sobject, fi.Field)
		if c := destination.Closest(fi.Field, names); c != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", c)
		}
		return destination.FieldProblem{Field: fi.Field, Message: msg}, true
	case !f.Createable && !f.Updateable:
		return destination.FieldProblem{Field: fi.Field, Message: fmt.Sprintf("%s.%s is read-only", sobject, f.Name)}, true
	case f.Name != fi.Field:
		return destination.FieldProblem{Field: fi.Field, Message: fmt.Sprintf("the field's API name is spelt %s", f.Name)}, true
	}
	if want, known := accepts[fi.Type]; known && !slices.Contains(want, f.Type) {
		return destination.FieldProblem{Field: fi.Field,
			Message: fmt.Sprintf("%s.%s is a %s field, which does not take a %s trait", sobject, f.Name, f.Type, fi.Type)}, true
	}
	return destination.FieldProblem{}, false
}

// checkExternalID checks that external_id_field is an External ID field.
func (d *Destination) checkExternalID(byName map[string]describeField) []destination.FieldProblem {
	f, ok := byName[strings.ToLower(d.extField)]
	switch {
	case !ok:
		return []destination.FieldProblem{{Field: d.extField, Message: fmt.Sprintf("external_id_field: %s has no field %s", d.sobject, d.extField)}}
	case !f.ExternalID:
		return []destination.FieldProblem{{Field: d.extField,
			Message: fmt.Sprintf("external_id_field: %s.%s is not marked External ID, so upserts cannot match on it", d.sobject, f.Name)}}
	case d.mode == "insert" && !f.Unique:
		return []destination.FieldProblem{{Field: d.extField,
			Message: fmt.Sprintf("external_id_field: insert mode needs %s.%s to be unique, or a resent record is created twice", d.sobject, f.Name)}}
	}
	return nil
}

// checkRequired reports the fields Salesforce requires to create a record
// (createable, not nillable, no default) that nothing fills.
func (d *Destination) checkRequired(all []describeField, fields []destination.FieldInfo) []destination.FieldProblem {
	mapped := map[string]bool{strings.ToLower(d.extField): true}
	for _, fi := range fields {
		mapped[strings.ToLower(fi.Field)] = true
	}
	var probs []destination.FieldProblem
	for _, f := range all {
		if f.Createable && !f.Nillable && !f.DefaultedOnCreate && f.Type != "boolean" && !mapped[strings.ToLower(f.Name)] {
			probs = append(probs, destination.FieldProblem{Field: f.Name,
				Message: fmt.Sprintf("%s.%s is required to create a record and no trait is mapped to it", d.sobject, f.Name)})
		}
	}
	sort.Slice(probs, func(a, b int) bool { return probs[a].Field < probs[b].Field })
	return probs
}
