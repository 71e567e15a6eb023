package braze

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// Receipts of confirmed privacy operations.
const (
	// NotFound is the receipt of an erase whose person Braze did not hold.
	NotFound = "not found: nothing to erase"
)

// deletePath is the endpoint that permanently deletes user profiles.
const deletePath = "/users/delete"

// deleteBody is a /users/delete body naming one user, by external_id or
// by email with the prioritization Braze requires for emails.
type deleteBody struct {
	ExternalIDs []string        `json:"external_ids,omitempty"`
	Emails      []emailDeletion `json:"email_addresses,omitempty"`
}

// emailDeletion is one entry of email_addresses: the most recently updated
// profile with the email (Braze deletes nothing when the prioritization
// leaves several).
type emailDeletion struct {
	Email          string   `json:"email"`
	Prioritization []string `json:"prioritization"`
}

// deleteResponse is the body of a /users/delete answer.
type deleteResponse struct {
	Deleted *int   `json:"deleted"`
	Message string `json:"message"`
}

// unsubscribeObject renders the attributes object of an unsubscribe
// without a subscription group: the global email subscription state
// unsubscribed, for an existing profile only (no profile is created for a
// person who withdrew consent).
func (d *Destination) unsubscribeObject(r destination.Record) []byte {
	b, _ := json.Marshal(map[string]any{d.identifier: r.Key, "email_subscribe": stateUnsubscribed,
		"_update_existing_only": true})
	return b
}

// erase deletes one user with /users/delete, one request per record so
// Braze's count says whether the person was there: deleted 0 is confirmed
// as NotFound, otherwise the receipt names the count and Braze's message.
func (d *Destination) erase(ctx context.Context, r destination.Record) (destination.Result, error) {
	var body deleteBody
	if d.identifier == IdentifierExternalID {
		body.ExternalIDs = []string{r.Key}
	} else {
		body.Emails = []emailDeletion{{Email: r.Key, Prioritization: []string{"most_recently_updated"}}}
	}
	resp, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodPost, Path: deletePath, JSON: body})
	if err != nil {
		return destination.Result{}, err
	}
	var out deleteResponse
	if json.Unmarshal(resp.Body, &out) != nil || out.Deleted == nil {
		return destination.Result{}, &destination.BatchError{Retryable: true, Status: resp.Status,
			Err: fmt.Errorf("braze: %s %s: %d answer has no deleted count: %s", resp.Method, resp.URL, resp.Status, httpdest.Snippet(resp.Body))}
	}
	if *out.Deleted == 0 {
		return destination.Result{Receipt: NotFound}, nil
	}
	return destination.Result{Receipt: fmt.Sprintf("users/delete: deleted %d (%s)", *out.Deleted, out.Message)}, nil
}
