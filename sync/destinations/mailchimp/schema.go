package mailchimp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// mergeField is the part of a merge field definition the check reads.
type mergeField struct {
	Tag      string `json:"tag"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
}

// mergeFieldPage is one page of GET /3.0/lists/{list_id}/merge-fields.
type mergeFieldPage struct {
	MergeFields []mergeField `json:"merge_fields"`
	TotalItems  int          `json:"total_items"`
}

// pageSize is the most merge fields Mailchimp returns per page.
const pageSize = 1000

// CheckFields checks the mapped fields against the audience's merge fields
// (GET /3.0/lists/{list_id}/merge-fields): each field other than
// email_address must be a merge tag of the audience, of a type its trait can
// fill, and every required merge field must be mapped.
func (d *Destination) CheckFields(ctx context.Context, fields []destination.FieldInfo) ([]destination.FieldProblem, error) {
	defs, err := d.mergeFields(ctx)
	if err != nil {
		return nil, err
	}
	byTag := map[string]mergeField{}
	var tags []string
	for _, f := range defs {
		byTag[f.Tag] = f
		tags = append(tags, f.Tag)
	}
	sort.Strings(tags)
	var probs []destination.FieldProblem
	mapped := map[string]bool{}
	for _, f := range fields {
		mapped[f.Field] = true
		if f.Field == EmailField {
			if f.Type != "string" {
				probs = append(probs, destination.FieldProblem{Field: f.Field, Message: "email_address takes text, the trait is " + f.Type})
			}
			continue
		}
		def, ok := byTag[f.Field]
		if !ok {
			probs = append(probs, destination.FieldProblem{Field: f.Field, Message: unknownTag(f.Field, d.listID, tags)})
			continue
		}
		if msg := typeProblem(def, f.Type); msg != "" {
			probs = append(probs, destination.FieldProblem{Field: f.Field, Message: msg})
		}
	}
	for _, def := range defs {
		if def.Required && !mapped[def.Tag] {
			probs = append(probs, destination.FieldProblem{Field: def.Tag, Message: fmt.Sprintf(
				"the audience requires the merge field %s (%s) and the sync does not map it: Mailchimp refuses new members without it", def.Tag, def.Name)})
		}
	}
	return probs, nil
}

// mergeFields reads every merge field definition, a page at a time.
func (d *Destination) mergeFields(ctx context.Context) ([]mergeField, error) {
	var out []mergeField
	for offset := 0; ; offset += pageSize {
		resp, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodGet, Path: d.listPath() + "/merge-fields",
			Query: url.Values{"count": {strconv.Itoa(pageSize)}, "offset": {strconv.Itoa(offset)}}})
		if err != nil {
			return nil, d.listError(err)
		}
		var page mergeFieldPage
		if err := resp.Decode(&page); err != nil {
			return nil, err
		}
		out = append(out, page.MergeFields...)
		if len(page.MergeFields) == 0 || len(out) >= page.TotalItems {
			return out, nil
		}
	}
}

// unknownTag explains a field that is no merge tag of the audience.
func unknownTag(field, listID string, tags []string) string {
	msg := fmt.Sprintf("the audience %s has no merge field %s (its merge tags: %s)", listID, field, strings.Join(tags, ", "))
	for _, t := range tags {
		if strings.EqualFold(t, field) {
			return msg + "; did you mean " + t + "?"
		}
	}
	return msg
}

// typeProblem says when a trait of CDP type typ cannot fill merge field f.
func typeProblem(f mergeField, typ string) string {
	switch {
	case f.Type == "number" && (typ == "boolean" || typ == "timestamp" || typ == "json"):
		return fmt.Sprintf("merge field %s is a number, the trait is %s", f.Tag, typ)
	case f.Type == "address" && typ != "json" && typ != "string":
		return fmt.Sprintf("merge field %s is an address, the trait is %s", f.Tag, typ)
	case f.Type != "address" && typ == "json":
		return fmt.Sprintf("merge field %s is %s, and a json trait cannot fill it", f.Tag, f.Type)
	}
	return ""
}
