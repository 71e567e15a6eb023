package iterable

import (
	"context"
	"fmt"
	"net/http"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// CheckFields compares the mapped fields with the project's user profile
// fields (GET /api/users/getFields): a field Iterable already holds with a
// type the trait's values cannot be stored in is a problem, since Iterable
// fixes a field's type at its first value and refuses other types.
// Fields the project does not have yet are fine: the first value types them.
func (d *Destination) CheckFields(ctx context.Context, fields []destination.FieldInfo) ([]destination.FieldProblem, error) {
	resp, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodGet, Path: "/api/users/getFields"})
	if err != nil {
		return nil, err
	}
	var body struct {
		Fields map[string]string `json:"fields"`
	}
	if err := resp.Decode(&body); err != nil {
		return nil, err
	}
	var out []destination.FieldProblem
	for _, f := range fields {
		if f.Field == d.identifier {
			continue
		}
		have, ok := body.Fields[f.Field]
		if !ok {
			continue
		}
		if want := wireKind(f.Type); want != "" && !compatible(want, have) {
			out = append(out, destination.FieldProblem{Field: f.Field,
				Message: fmt.Sprintf("Iterable holds `%s` as %s, but the trait is %s (sent as %s): Iterable would refuse its values; map it to a new field name", f.Field, have, f.Type, want)})
		}
	}
	return out, nil
}

// wireKind is the Iterable type the values of a CDP type are sent as (""
// for types not checked).
func wireKind(cdpType string) string {
	switch cdpType {
	case "string":
		return "string"
	case "integer":
		return "long"
	case "number":
		return "double"
	case "boolean":
		return "boolean"
	case "timestamp":
		return "date"
	}
	return ""
}
