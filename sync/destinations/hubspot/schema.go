package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// property is a contact property definition of GET /crm/v3/properties/contacts.
type property struct {
	Name                 string `json:"name"`
	Type                 string `json:"type"`
	FieldType            string `json:"fieldType"`
	HasUniqueValue       bool   `json:"hasUniqueValue"`
	Calculated           bool   `json:"calculated"`
	Archived             bool   `json:"archived"`
	ModificationMetadata struct {
		ReadOnlyValue bool `json:"readOnlyValue"`
	} `json:"modificationMetadata"`
}

// CheckFields compares the sync's mapped fields with the account's contact
// properties (GET /crm/v3/properties/contacts): a property that does not
// exist, is read-only, or whose type does not fit the trait's, and an
// id_property that is not unique. In mode mirror it also checks that
// list_id is a contact list whose membership can be changed.
func (d *Destination) CheckFields(ctx context.Context, fields []destination.FieldInfo) ([]destination.FieldProblem, error) {
	resp, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodGet, Path: "/crm/v3/properties/contacts"})
	if err != nil {
		return nil, err
	}
	var body struct {
		Results []property `json:"results"`
	}
	if err := resp.Decode(&body); err != nil {
		return nil, err
	}
	props := map[string]property{}
	var names []string
	for _, p := range body.Results {
		if !p.Archived {
			props[p.Name] = p
			names = append(names, p.Name)
		}
	}
	var probs []destination.FieldProblem
	for _, f := range fields {
		if msg := fieldProblem(f, props, names); msg != "" {
			probs = append(probs, destination.FieldProblem{Field: f.Field, Message: msg})
		}
	}
	if p, ok := props[d.idProperty]; !ok || (d.idProperty != "email" && !p.HasUniqueValue && d.idProperty != "hs_object_id") {
		probs = append(probs, destination.FieldProblem{Field: d.idProperty,
			Message: fmt.Sprintf("id_property `%s` is not a unique contact property in HubSpot; contacts can only be matched on email or a property with unique values", d.idProperty)})
	}
	if d.mode == "mirror" {
		if msg, err := d.checkList(ctx); err != nil {
			return probs, err
		} else if msg != "" {
			probs = append(probs, destination.FieldProblem{Field: "list_id", Message: msg})
		}
	}
	return probs, nil
}

// fieldProblem describes what is wrong with one mapped field ("" if
// nothing).
func fieldProblem(f destination.FieldInfo, props map[string]property, names []string) string {
	p, ok := props[f.Field]
	switch {
	case !ok:
		msg := fmt.Sprintf("contact property `%s` does not exist in HubSpot", f.Field)
		if c := destination.Closest(f.Field, names); c != "" {
			msg += fmt.Sprintf(" (did you mean `%s`?)", c)
		}
		return msg + "; create it under Settings → Properties, or map the trait to an existing property"
	case p.ModificationMetadata.ReadOnlyValue || p.Calculated:
		return fmt.Sprintf("contact property `%s` is read-only in HubSpot", f.Field)
	case f.Type != "" && !fits(f.Type, p.Type):
		return fmt.Sprintf("contact property `%s` is of HubSpot type %s; a %s trait does not fit it", f.Field, p.Type, f.Type)
	}
	return ""
}

// fits reports whether a trait of a CDP type can be written to a property
// of a HubSpot type.
func fits(trait, prop string) bool {
	switch prop {
	case "string", "phone_number":
		return true // any value is sent as text
	case "number":
		return trait == "integer" || trait == "number"
	case "bool":
		return trait == "boolean"
	case "enumeration":
		return trait == "string" || trait == "boolean"
	case "date", "datetime":
		return trait == "timestamp"
	}
	return false
}

// checkList reads the list (GET /crm/v3/lists/{list_id}) and says what
// keeps a sync from mirroring into it.
func (d *Destination) checkList(ctx context.Context) (string, error) {
	resp, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodGet, Path: "/crm/v3/lists/" + d.listID})
	var be *destination.BatchError
	if errors.As(err, &be) && be.Status == http.StatusNotFound {
		return fmt.Sprintf("HubSpot has no list %s", d.listID), nil
	}
	if err != nil {
		return "", err
	}
	var body struct {
		List struct {
			ProcessingType string `json:"processingType"`
			ObjectTypeID   string `json:"objectTypeId"`
			Name           string `json:"name"`
		} `json:"list"`
	}
	if err := resp.Decode(&body); err != nil {
		return "", err
	}
	l := body.List
	switch {
	case l.ObjectTypeID != "" && l.ObjectTypeID != "0-1":
		return fmt.Sprintf("list %s (%s) holds objects of type %s, not contacts (0-1)", d.listID, l.Name, l.ObjectTypeID), nil
	case !slices.Contains([]string{"MANUAL", "SNAPSHOT"}, strings.ToUpper(l.ProcessingType)):
		return fmt.Sprintf("list %s (%s) is a %s list; its membership can only be changed when it is MANUAL (static) or SNAPSHOT",
			d.listID, l.Name, l.ProcessingType), nil
	}
	return "", nil
}
