package klaviyo

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// MaxUnsubscribe is the most profiles one Bulk Unsubscribe Profiles
// request takes.
const MaxUnsubscribe = 100

// Paths of the consent and erasure endpoints.
const (
	deletionPath    = "/api/data-privacy-deletion-jobs"
	unsubscribePath = "/api/profile-subscription-bulk-delete-jobs"
)

// deletionGap spaces Request Profile Deletion calls: the endpoint allows
// 3/s burst but 60/m steady, one a second.
var deletionGap = time.Second

// receiptSep separates a job ID's import job IDs from the receipts of the
// batch's privacy records (Klaviyo's job IDs never contain it).
const receiptSep = "|"

// privacy sends the batch's unsubscribes (Bulk Unsubscribe Profiles, 100 a
// request) and erasures (Request Profile Deletion, one per person, spaced
// by deletionGap) and returns their receipts by record index. Both
// endpoints answer 202 and do the work asynchronously: the 202 is
// Klaviyo's confirmation, and the receipt is the job ID when the answer
// carries one, else the job type with "HTTP 202".
func (d *Destination) privacy(ctx context.Context, batch []destination.Record, unsubs, erases []int) (map[int]string, error) {
	out := map[int]string{}
	for start := 0; start < len(unsubs); start += MaxUnsubscribe {
		part := unsubs[start:min(start+MaxUnsubscribe, len(unsubs))]
		body, _ := json.Marshal(d.unsubscribeBody(batch, part))
		resp, err := d.client.Do(ctx, httpdest.Request{Method: "POST", Path: unsubscribePath, Body: body, ContentType: mediaType})
		if err != nil {
			return nil, err
		}
		r := receipt(resp, "profile-subscription-bulk-delete-job")
		for _, i := range part {
			out[i] = r
		}
	}
	for _, i := range erases {
		if err := d.deletions.wait(ctx); err != nil {
			return nil, &destination.BatchError{Retryable: true, Err: d.errorf("waiting to request a deletion: %v", err)}
		}
		body, _ := json.Marshal(deletionBody(batch[i]))
		resp, err := d.client.Do(ctx, httpdest.Request{Method: "POST", Path: deletionPath, Body: body, ContentType: mediaType})
		if err != nil {
			return nil, err
		}
		out[i] = receipt(resp, "data-privacy-deletion-job")
	}
	return out, nil
}

// unsubscribeBody unsubscribes the records at idx from email marketing
// (consent UNSUBSCRIBED) and, with list_id, removes them from the list.
func (d *Destination) unsubscribeBody(batch []destination.Record, idx []int) map[string]any {
	profiles := make([]map[string]any, len(idx))
	for n, i := range idx {
		profiles[n] = map[string]any{"type": "profile", "attributes": map[string]any{
			"email": batch[i].Key,
			"subscriptions": map[string]any{"email": map[string]any{
				"marketing": map[string]any{"consent": "UNSUBSCRIBED"}}},
		}}
	}
	data := map[string]any{"type": "profile-subscription-bulk-delete-job",
		"attributes": map[string]any{"profiles": map[string]any{"data": profiles}}}
	if d.listID != "" {
		data["relationships"] = map[string]any{"list": map[string]any{"data": ref{Type: "list", ID: d.listID}}}
	}
	return map[string]any{"data": data}
}

// deletionBody asks for the deletion of one person's profiles: by the
// profile ID the engine kept, else by email (Klaviyo deletes every profile
// with it).
func deletionBody(r destination.Record) map[string]any {
	prof := map[string]any{"type": "profile", "attributes": map[string]any{"email": r.Key}}
	if r.RemoteID != "" {
		prof = map[string]any{"type": "profile", "id": r.RemoteID}
	}
	return map[string]any{"data": map[string]any{"type": "data-privacy-deletion-job",
		"attributes": map[string]any{"profile": map[string]any{"data": prof}}}}
}

// receipt is the job ID of a 202 answer, or the job type and status when
// the answer has none (Klaviyo's 202s have no body).
func receipt(resp *httpdest.Response, kind string) string {
	var doc struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if json.Unmarshal(resp.Body, &doc) == nil && doc.Data.ID != "" {
		return kind + " " + doc.Data.ID
	}
	return kind + " HTTP " + strconv.Itoa(resp.Status)
}

// withReceipts appends the privacy receipts to a job ID.
func withReceipts(id string, receipts map[int]string) string {
	if len(receipts) == 0 {
		return id
	}
	q := url.Values{}
	for i, r := range receipts {
		q.Set(strconv.Itoa(i), r)
	}
	return id + receiptSep + q.Encode()
}

// splitReceipts splits a job ID into the import job IDs and the receipts
// of the privacy records.
func splitReceipts(jobID string) (string, map[int]string) {
	id, enc, ok := strings.Cut(jobID, receiptSep)
	out := map[int]string{}
	if !ok {
		return id, out
	}
	q, _ := url.ParseQuery(enc)
	for k, v := range q {
		if i, err := strconv.Atoi(k); err == nil && len(v) > 0 {
			out[i] = v[0]
		}
	}
	return id, out
}
