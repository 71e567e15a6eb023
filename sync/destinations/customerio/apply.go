package customerio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// Apply delivers one batch: adds and changes as identify entries of one or
// more v2 batch requests (split at 500 kB), then in mirror mode the
// identified people are added to the segment and the removed ones taken
// out of it. A whole-request failure of any of these requests fails the
// batch (every request is idempotent, so resending the confirmed part is
// harmless).
func (d *Destination) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	if len(batch) > d.caps.MaxBatch {
		return nil, &destination.BatchError{Err: fmt.Errorf("%s: batch of %d records exceeds batch_size %d", d.client.Name, len(batch), d.caps.MaxBatch)}
	}
	results := make([]destination.Result, len(batch))
	var entries []json.RawMessage
	var sent, removes []int // indexes in batch
	for i, r := range batch {
		switch r.Op {
		case destination.OpAdd, destination.OpChange:
			e, err := d.encode(r)
			if err != nil {
				results[i] = d.reject("%v", err)
				continue
			}
			entries = append(entries, e)
			sent = append(sent, i)
		case destination.OpRemove:
			if !d.mirror {
				results[i] = d.reject("remove is only delivered in mirror mode")
				continue
			}
			if err := d.checkKey(r.Key); err != nil {
				results[i] = d.reject("%v", err)
				continue
			}
			removes = append(removes, i)
		default:
			results[i] = d.reject("unknown operation %q", r.Op)
		}
	}
	if err := d.identify(ctx, entries, sent, results); err != nil {
		return nil, err
	}
	if !d.mirror {
		return results, nil
	}
	var members []int
	for _, i := range sent {
		if results[i].Err == nil {
			members = append(members, i)
		}
	}
	if err := d.membership(ctx, "add_customers", batch, members); err != nil {
		return nil, err
	}
	if err := d.membership(ctx, "remove_customers", batch, removes); err != nil {
		return nil, err
	}
	return results, nil
}

func (d *Destination) reject(format string, args ...any) destination.Result {
	return httpdest.RecordError(false, "%s: "+format, append([]any{d.client.Name}, args...)...)
}

// identify sends the entries and sets the results of the records they
// stand for (sent[j] is the batch index of entries[j]).
func (d *Destination) identify(ctx context.Context, entries []json.RawMessage, sent []int, results []destination.Result) error {
	for _, chunk := range chunks(entries) {
		resp, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodPost, Path: "/api/v2/batch",
			Body: body(entries, chunk), ContentType: "application/json"})
		if err != nil {
			return err
		}
		errs, err := entryErrors(resp, len(chunk))
		if err != nil {
			return &destination.BatchError{Err: fmt.Errorf("%s: %v", d.client.Name, err), Retryable: true, Status: resp.Status}
		}
		for j, e := range errs {
			if e != nil {
				results[sent[chunk[j]]] = d.reject("%s", e)
			}
		}
	}
	return nil
}

// membership adds (add_customers) or removes (remove_customers) the
// records' people to or from the segment, by the key's id_type.
func (d *Destination) membership(ctx context.Context, action string, batch []destination.Record, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	ids := make([]string, len(idx))
	for j, i := range idx {
		ids[j] = batch[i].Key
	}
	_, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodPost, Path: d.segmentPath(action),
		Query: url.Values{"id_type": {d.idType()}}, JSON: map[string][]string{"ids": ids}})
	return err
}

// entryError is one element of a 207 answer's "errors".
type entryError struct {
	BatchIndex *int   `json:"batch_index"`
	Reason     string `json:"reason"`
	Field      string `json:"field"`
	Message    string `json:"message"`
}

// String renders the error for a rejection message.
func (e entryError) String() string {
	s := "refused by Customer.io"
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// entryErrors reads a 2xx answer to a batch of n entries: an empty body or
// object confirms them all; {"errors": [{"batch_index", …}]} (207) names
// the refused ones. A body that is neither, or an index outside the batch,
// is an error: nothing can be assumed confirmed.
func entryErrors(resp *httpdest.Response, n int) ([]*entryError, error) {
	out := make([]*entryError, n)
	b := bytes.TrimSpace(resp.Body)
	if len(b) == 0 {
		if resp.Status == http.StatusMultiStatus {
			return nil, fmt.Errorf("%s %s: 207 without a body", resp.Method, resp.URL)
		}
		return out, nil
	}
	var v struct {
		Errors []entryError `json:"errors"`
	}
	if err := resp.Decode(&v); err != nil {
		return nil, err
	}
	if resp.Status == http.StatusMultiStatus && len(v.Errors) == 0 {
		return nil, fmt.Errorf("%s %s: 207 without errors: %s", resp.Method, resp.URL, httpdest.Snippet(b))
	}
	for k, e := range v.Errors {
		if e.BatchIndex == nil || *e.BatchIndex < 0 || *e.BatchIndex >= n {
			return nil, fmt.Errorf("%s %s: errors[%d] has no batch_index within the %d entries sent: %s",
				resp.Method, resp.URL, k, n, httpdest.Snippet(b))
		}
		out[*e.BatchIndex] = &e
	}
	return out, nil
}
