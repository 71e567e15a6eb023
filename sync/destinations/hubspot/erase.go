package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// gdprInput is the body of POST /crm/v3/objects/contacts/gdpr-delete.
type gdprInput struct {
	ObjectID   string `json:"objectId"`
	IDProperty string `json:"idProperty,omitempty"`
}

// eraseInput names the contact of an erase: by email when id_property is
// email (HubSpot then also blocklists an address it has no contact for), by
// the record ID when it is known or is the key, else by id_property.
func (d *Destination) eraseInput(r destination.Record) gdprInput {
	switch {
	case d.idProperty == "email":
		return gdprInput{ObjectID: r.Key, IDProperty: "email"}
	case d.idProperty == "hs_object_id":
		return gdprInput{ObjectID: r.Key}
	case r.RemoteID != "":
		return gdprInput{ObjectID: r.RemoteID}
	}
	return gdprInput{ObjectID: r.Key, IDProperty: d.idProperty}
}

// erase sends one GDPR delete per erased record, in order. A confirmed
// delete (204) gets the receipt "gdpr-delete <objectId> HTTP 204"; a 404
// is confirmed with "not found: nothing to erase". A fatal error is
// returned; a retryable one is returned too when it is the batch's first
// request (the batch is retried as a whole, after the wait HubSpot asked
// for), otherwise it and the erases not yet sent are left retryable.
func (d *Destination) erase(ctx context.Context, batch []destination.Record, idx []int, results []destination.Result) error {
	for n, i := range idx {
		in := d.eraseInput(batch[i])
		resp, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodPost, Path: "/crm/v3/objects/contacts/gdpr-delete", JSON: in})
		var be *destination.BatchError
		switch {
		case err == nil:
			results[i] = destination.Result{RemoteID: batch[i].RemoteID,
				Receipt: fmt.Sprintf("gdpr-delete %s HTTP %d", in.ObjectID, resp.Status)}
		case errors.As(err, &be) && be.Status == http.StatusNotFound:
			results[i] = destination.Result{Receipt: "not found: nothing to erase"}
		case destination.IsFatal(err) || (n == 0 && destination.IsRetryable(err)):
			return err
		case destination.IsRetryable(err):
			for _, j := range idx[n:] {
				results[j] = destination.Result{Retryable: true, Err: d.errorf("contact %s: gdpr-delete: %v", batch[j].Key, err)}
			}
			return nil
		default:
			results[i] = destination.Result{Err: d.errorf("contact %s: gdpr-delete: %v", batch[i].Key, err)}
		}
	}
	return nil
}
