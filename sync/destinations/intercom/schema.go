package intercom

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// dataAttribute is the part of a data attribute the check reads.
type dataAttribute struct {
	Name        string `json:"name"`
	FullName    string `json:"full_name"`
	DataType    string `json:"data_type"`
	APIWritable bool   `json:"api_writable"`
	Custom      bool   `json:"custom"`
	Archived    bool   `json:"archived"`
}

// dataAttributes lists the workspace's contact data attributes
// (GET /data_attributes?model=contact&include_archived=true), standard
// and custom, archived ones too, keyed by
// full_name ("email", "custom_attributes.ltv").
func (d *Destination) dataAttributes(ctx context.Context) (map[string]dataAttribute, error) {
	resp, err := d.call(ctx, httpdest.Request{Method: http.MethodGet, Path: "/data_attributes",
		Query: url.Values{"model": {"contact"}, "include_archived": {"true"}}})
	if err != nil {
		return nil, err
	}
	var list struct {
		Data []dataAttribute `json:"data"`
	}
	if err := resp.Decode(&list); err != nil {
		return nil, err
	}
	out := make(map[string]dataAttribute, len(list.Data))
	for _, a := range list.Data {
		key := a.FullName
		if key == "" {
			key = a.Name
		}
		out[key] = a
	}
	return out, nil
}

// CheckFields checks the mapped fields against the workspace's data
// model: a custom attribute must exist, not be archived and be writable
// through the API, and its data type must hold the trait's type; a
// standard attribute must be writable.
func (d *Destination) CheckFields(ctx context.Context, fields []destination.FieldInfo) ([]destination.FieldProblem, error) {
	attrs, err := d.dataAttributes(ctx)
	if err != nil {
		return nil, err
	}
	var probs []destination.FieldProblem
	for _, f := range fields {
		if msg := checkAttribute(f, attrs); msg != "" {
			probs = append(probs, destination.FieldProblem{Field: f.Field, Message: msg})
		}
	}
	return probs, nil
}

// checkAttribute returns what is wrong with one mapped field ("" if
// nothing).
func checkAttribute(f destination.FieldInfo, attrs map[string]dataAttribute) string {
	if err := checkField(f.Field); err != nil {
		return err.Error()
	}
	t := targetOf(f.Field)
	if !t.custom {
		a, ok := attrs[t.name]
		switch {
		case ok && !a.APIWritable:
			return fmt.Sprintf("contact attribute `%s` is not writable through the API", t.name)
		case f.Type != "" && !slices.Contains(standard[t.name].types, f.Type):
			return fmt.Sprintf("contact attribute `%s` takes %v, not a %s trait", t.name, standard[t.name].types, f.Type)
		}
		return ""
	}
	a, ok := attrs[CustomPrefix+t.name]
	switch {
	case !ok || !a.Custom:
		return fmt.Sprintf("custom attribute `%s` does not exist in the workspace's contact data model; create it first "+
			"(Settings → Data → People, or POST /data_attributes with model contact)", t.name)
	case a.Archived:
		return fmt.Sprintf("custom attribute `%s` is archived", t.name)
	case !a.APIWritable:
		return fmt.Sprintf("custom attribute `%s` is not writable through the API", t.name)
	case !holds(a.DataType, f.Type):
		return fmt.Sprintf("custom attribute `%s` is a %s attribute and cannot hold a %s trait", t.name, a.DataType, f.Type)
	}
	return ""
}

// holds reports whether an Intercom data type takes values of a CDP type
// (an unknown type on either side passes).
func holds(dataType, cdpType string) bool {
	fits := map[string][]string{
		"string":    {"string"},
		"integer":   {"integer", "float"},
		"number":    {"float"},
		"boolean":   {"boolean"},
		"timestamp": {"date", "integer"},
		"json":      {},
	}
	ok, known := fits[cdpType]
	if !known || dataType == "" {
		return true
	}
	return slices.Contains(ok, dataType)
}
