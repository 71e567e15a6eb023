package mailchimp

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// member is one entry of the batch call's members.
type member struct {
	EmailAddress string         `json:"email_address"`
	Status       string         `json:"status,omitempty"`
	StatusIfNew  string         `json:"status_if_new,omitempty"`
	MergeFields  map[string]any `json:"merge_fields,omitempty"`
	Tags         []string       `json:"tags,omitempty"`
}

// batchRequest is the body of POST /3.0/lists/{list_id}.
type batchRequest struct {
	Members        []member `json:"members"`
	UpdateExisting bool     `json:"update_existing"`
}

// batchResponse is what the batch call answers.
type batchResponse struct {
	NewMembers     []respMember `json:"new_members"`
	UpdatedMembers []respMember `json:"updated_members"`
	Errors         []respError  `json:"errors"`
}

type respMember struct {
	ID           string `json:"id"`
	EmailAddress string `json:"email_address"`
}

type respError struct {
	EmailAddress string `json:"email_address"`
	Error        string `json:"error"`
	ErrorCode    string `json:"error_code"`
	Field        string `json:"field"`
	FieldMessage string `json:"field_message"`
}

// String renders a per-member error for a result.
func (e respError) String() string {
	s := "mailchimp refused " + e.EmailAddress + ": " + e.Error
	if e.ErrorCode != "" {
		s += " (" + e.ErrorCode + ")"
	}
	if e.Field != "" {
		s += "; field " + e.Field
		if e.FieldMessage != "" {
			s += ": " + e.FieldMessage
		}
	}
	return s
}

// plan is a batch sorted into the batch call and archive requests.
type plan struct {
	members []member
	sent    map[string]int // lower-cased email → index in the batch
	archive []int          // indexes of records to archive
	erase   []int          // indexes of records to delete permanently
	unsubs  map[int]bool   // indexes of records unsubscribed (OpUnsubscribe)
}

// Apply writes one batch: a batch subscribe call for the added, changed
// and unsubscribed (and, with removal: unsubscribe, removed) records, then
// one archive request per removed record and one permanent deletion per
// erased one. Results are index-aligned with batch.
func (d *Destination) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	if len(batch) > d.caps.MaxBatch {
		return nil, &destination.BatchError{Err: fmt.Errorf("mailchimp: batch of %d records exceeds batch_size %d", len(batch), d.caps.MaxBatch)}
	}
	results := make([]destination.Result, len(batch))
	p := d.plan(batch, results)
	if len(p.members) > 0 {
		if err := d.subscribe(ctx, p, results); err != nil {
			return nil, err
		}
	}
	if len(p.archive) > 0 {
		if err := d.archive(ctx, batch, p.archive, results, len(p.members) > 0); err != nil {
			return nil, err
		}
	}
	if len(p.erase) > 0 {
		if err := d.perMember(ctx, batch, p.erase, results, len(p.members)+len(p.archive) > 0, "erased", d.eraseOne); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// plan sorts the records; records that cannot be sent get their result.
func (d *Destination) plan(batch []destination.Record, results []destination.Result) plan {
	p := plan{sent: map[string]int{}, unsubs: map[int]bool{}}
	seen := map[string]bool{}
	for i, r := range batch {
		email := strings.TrimSpace(r.Key)
		low := strings.ToLower(email)
		switch {
		case destination.CheckOp(r.Op) != nil:
			results[i] = httpdest.RecordError(false, "mailchimp: %v", destination.CheckOp(r.Op))
			continue
		case email == "":
			results[i] = httpdest.RecordError(false, "mailchimp: the record has no email address (its key is empty)")
			continue
		case seen[low]:
			// Mailchimp refuses one address twice in a call; the retry sends it alone.
			results[i] = httpdest.RecordError(true, "mailchimp: %s: another record of the batch has the same email address", email)
			continue
		}
		seen[low] = true
		switch r.Op {
		case destination.OpErase:
			p.erase = append(p.erase, i)
			continue
		case destination.OpUnsubscribe:
			p.members = append(p.members, member{EmailAddress: email, Status: "unsubscribed"})
			p.sent[low] = i
			p.unsubs[i] = true
			continue
		}
		if r.Op == destination.OpRemove {
			if d.removal == RemoveArchive {
				p.archive = append(p.archive, i)
				continue
			}
			p.members = append(p.members, member{EmailAddress: email, Status: "unsubscribed"})
			p.sent[low] = i
			continue
		}
		m, err := d.member(email, r.Fields)
		if err != nil {
			results[i] = httpdest.RecordError(false, "mailchimp: %s: %v", email, err)
			continue
		}
		p.members = append(p.members, m)
		p.sent[low] = i
	}
	return p
}

// member builds the batch entry of an added or changed record.
func (d *Destination) member(email string, fields map[string]any) (member, error) {
	vals, err := destination.JSONFields(fields)
	if err != nil {
		return member{}, err
	}
	m := member{EmailAddress: email, Tags: d.tags}
	if d.mode == "mirror" {
		m.Status = "subscribed"
	} else {
		m.StatusIfNew = d.newStatus
	}
	for k, v := range vals {
		if k == EmailField {
			continue
		}
		if m.MergeFields == nil {
			m.MergeFields = map[string]any{}
		}
		m.MergeFields[k] = mergeValue(v)
	}
	return m, nil
}

// mergeValue renders a field for merge_fields: "" clears it (Mailchimp's
// way), numbers stay numbers, booleans become "true"/"false", a time at
// midnight UTC a date (YYYY-MM-DD), any other time RFC 3339 in UTC.
func mergeValue(v any) any {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		x = x.UTC()
		if x.Equal(x.Truncate(24 * time.Hour)) {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.RFC3339)
	}
	return v
}

// listPath is the batch subscribe path of the list.
func (d *Destination) listPath() string { return "/3.0/lists/" + url.PathEscape(d.listID) }

// subscribe sends the batch call and maps its answer to the results.
func (d *Destination) subscribe(ctx context.Context, p plan, results []destination.Result) error {
	resp, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodPost, Path: d.listPath(),
		JSON: batchRequest{Members: p.members, UpdateExisting: true}})
	if err != nil {
		return d.listError(err)
	}
	var br batchResponse
	if err := resp.Decode(&br); err != nil {
		return &destination.BatchError{Err: fmt.Errorf("mailchimp: %v", err), Retryable: true, Status: resp.Status}
	}
	ids := map[string]string{}
	for _, m := range append(br.NewMembers, br.UpdatedMembers...) {
		ids[strings.ToLower(m.EmailAddress)] = m.ID
	}
	errs := map[string]respError{}
	for _, e := range br.Errors {
		if _, dup := errs[strings.ToLower(e.EmailAddress)]; !dup {
			errs[strings.ToLower(e.EmailAddress)] = e
		}
	}
	for low, i := range p.sent {
		if e, bad := errs[low]; bad {
			results[i] = destination.Result{Err: errors.New(e.String())}
		} else if id, ok := ids[low]; ok {
			results[i] = destination.Result{RemoteID: id}
			if p.unsubs[i] {
				results[i].Receipt = "batch subscribe: member " + id + " status unsubscribed"
			}
		} else {
			results[i] = httpdest.RecordError(true, "mailchimp: the batch answer lists neither the member %s nor an error for it", low)
		}
	}
	return nil
}

// listError makes a 404 of the list fatal: the list_id is wrong, and every
// request would fail the same way.
func (d *Destination) listError(err error) error {
	var be *destination.BatchError
	if errors.As(err, &be) && be.Status == http.StatusNotFound {
		be.Fatal, be.Retryable = true, false
		be.Err = fmt.Errorf("%w (no audience with list_id %q: check list_id; the run stops)", be.Err, d.listID)
	}
	return err
}

// SubscriberHash is Mailchimp's member ID: the MD5 of the lower-cased email.
func SubscriberHash(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(email)))
	return hex.EncodeToString(sum[:])
}

// classify refines the default classification: under exceptional load
// Mailchimp throttles with a 403 that has no JSON body, unlike the 403 of a
// refused key, which carries a problem document.
func classify(r *httpdest.Response) (error, bool) {
	if r.Status == http.StatusForbidden && !json.Valid(r.Body) {
		return &destination.BatchError{Retryable: true, Throttled: true, Status: r.Status,
			RetryAfter: httpdest.RetryAfter(r.Header, time.Now()),
			Err: fmt.Errorf("%s %s: 403 without a problem document (Mailchimp's throttle under heavy load): %s",
				r.Method, r.URL, httpdest.Snippet(r.Body))}, true
	}
	return nil, false
}
