package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// sfError is one error of a per-record result.
type sfError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

// saveResult is one record's result of an sObject Collections request
// (UpsertResult, SaveResult or DeleteResult).
type saveResult struct {
	ID      string    `json:"id"`
	Success bool      `json:"success"`
	Errors  []sfError `json:"errors"`
	Created bool      `json:"created"`
}

// collection is the body of an sObject Collections upsert.
type collection struct {
	AllOrNone bool             `json:"allOrNone"`
	Records   []map[string]any `json:"records"`
}

// transientCodes are the per-record status codes worth retrying: the row
// was locked or the platform was busy, not the data refused.
var transientCodes = map[string]bool{
	"UNABLE_TO_LOCK_ROW":                true,
	"REQUEST_RUNNING_TOO_LONG":          true,
	"SERVER_UNAVAILABLE":                true,
	"ALL_OR_NONE_OPERATION_ROLLED_BACK": true,
}

// classify refines the shared classification. Salesforce's rate-limit
// signal is a 403 with REQUEST_LIMIT_EXCEEDED, which httpdest.Classify
// already marks retryable and throttled; the status is reported as 429 so
// that sync/delivery, which counts throttling by status, counts it too.
func classify(r *httpdest.Response) (error, bool) {
	err := httpdest.Classify(r)
	var be *destination.BatchError
	if errors.As(err, &be) && be.Throttled && be.Retryable {
		be.Status = http.StatusTooManyRequests
	}
	return err, true
}

// call sends one request to the org: the path is joined to base_url or the
// token's instance_url. After a 401 (INVALID_SESSION_ID: the session
// expired or was revoked) the token is dropped and the request sent once
// more with a new one; a grant Salesforce refuses then is fatal.
func (d *Destination) call(ctx context.Context, rq httpdest.Request) (*httpdest.Response, error) {
	path := rq.Path
	for attempt := 0; ; attempt++ {
		base, err := d.sess.base(ctx)
		if err != nil {
			var be *destination.BatchError
			if errors.As(err, &be) {
				be.Err = d.errorf("%v", be.Err)
			}
			return nil, err
		}
		rq.Path = base + path
		resp, err := d.client.Do(ctx, rq)
		if attempt == 0 && resp != nil && resp.Status == http.StatusUnauthorized {
			d.sess.renew()
			continue
		}
		return resp, err
	}
}

// outcome collects a batch's results across its requests.
type outcome struct {
	results []destination.Result
	settled []bool
	wrote   bool // a write request was answered
}

func newOutcome(n int) *outcome {
	return &outcome{results: make([]destination.Result, n), settled: make([]bool, n)}
}

func (o *outcome) settle(i int, r destination.Result) { o.results[i], o.settled[i] = r, true }

// abort ends the batch at a whole-request failure. Before anything was
// written the error is the whole batch's; after that the records not yet
// settled take it alone, so what Salesforce confirmed stays confirmed. A
// fatal error always stops the run.
func (o *outcome) abort(err error) ([]destination.Result, error) {
	if !o.wrote || destination.IsFatal(err) {
		return nil, err
	}
	retry := destination.IsRetryable(err)
	for i := range o.results {
		if !o.settled[i] {
			o.results[i] = destination.Result{Err: err, Retryable: retry}
		}
	}
	return o.results, nil
}

// Apply writes one batch: upserts through sObject Collections, then
// deletions of removed records by Id (bulk: Submit, then Poll until the
// jobs are done).
func (d *Destination) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	if d.bulk {
		return d.applyBulk(ctx, batch)
	}
	if len(batch) > d.batchSize {
		return nil, &destination.BatchError{Err: d.errorf("batch of %d records exceeds batch_size %d", len(batch), d.batchSize)}
	}
	o := newOutcome(len(batch))
	ups, dels := d.split(batch, o)
	if err := d.upsert(ctx, batch, ups, o); err != nil {
		return o.abort(err)
	}
	if err := d.remove(ctx, batch, dels, o); err != nil {
		return o.abort(err)
	}
	receipts(batch, o.results)
	return o.results, nil
}

// split sorts a batch into upserts and removals; an unknown operation, or
// a removal outside mirror mode, is rejected.
func (d *Destination) split(batch []destination.Record, o *outcome) (ups, dels []int) {
	for i, r := range batch {
		switch {
		case d.caps.Supports(r.Op) && !deletes(r.Op):
			ups = append(ups, i)
		case d.caps.Supports(r.Op):
			dels = append(dels, i)
		default:
			o.settle(i, destination.Result{Err: d.errorf("operation %q is not sent in this mode", r.Op)})
		}
	}
	return ups, dels
}

// sobjectJSON is one record as sObject Collections takes it: attributes,
// the external ID (the key) and the mapped fields, null clearing a field.
func (d *Destination) sobjectJSON(r destination.Record) (map[string]any, error) {
	fields, err := destination.JSONFields(r.Fields)
	if err != nil {
		return nil, err
	}
	for k := range fields {
		if strings.EqualFold(k, "Id") || strings.EqualFold(k, "attributes") {
			return nil, fmt.Errorf("field %q cannot be written", k)
		}
	}
	fields["attributes"] = map[string]string{"type": d.sobject}
	fields[d.extField] = r.Key
	return fields, nil
}

// upsert sends the records of idx in one sObject Collections upsert.
func (d *Destination) upsert(ctx context.Context, batch []destination.Record, idx []int, o *outcome) error {
	body := collection{Records: make([]map[string]any, 0, len(idx))}
	var sent []int
	for _, i := range idx {
		rec, err := d.sobjectJSON(batch[i])
		if err != nil {
			o.settle(i, destination.Result{Err: d.errorf("record %q: %v", batch[i].Key, err)})
			continue
		}
		body.Records = append(body.Records, rec)
		sent = append(sent, i)
	}
	if len(sent) == 0 {
		return nil
	}
	rq := httpdest.Request{Method: http.MethodPatch, Path: d.dataPath("/composite/sobjects/" + d.sobject + "/" + d.extField), JSON: body}
	if d.mode == "insert" {
		rq.Method, rq.Path = http.MethodPost, d.dataPath("/composite/sobjects")
	}
	resp, err := d.call(ctx, rq)
	if err != nil {
		return err
	}
	res, err := d.results(resp, len(sent))
	if err != nil {
		return err
	}
	o.wrote = true
	for j, r := range res {
		o.settle(sent[j], d.saved(r, false))
	}
	return nil
}

// results decodes an sObject Collections answer of n records.
func (d *Destination) results(resp *httpdest.Response, n int) ([]saveResult, error) {
	var res []saveResult
	if err := resp.Decode(&res); err != nil {
		return nil, &destination.BatchError{Err: d.errorf("%v", err), Retryable: true, Status: resp.Status}
	}
	if len(res) != n {
		return nil, &destination.BatchError{Retryable: true, Status: resp.Status,
			Err: d.errorf("%s %s: %d results for %d records", resp.Method, resp.URL, len(res), n)}
	}
	return res, nil
}

// saved maps one per-record result: the Salesforce Id when it succeeded;
// otherwise the errors, retryable when one is transient. For a deletion,
// ENTITY_IS_DELETED means the record is already gone; the receipt is the
// deleted Id, or nothingToErase (kept for erasures only, see receipts).
func (d *Destination) saved(r saveResult, deletion bool) destination.Result {
	if r.Success {
		if deletion {
			return destination.Result{Receipt: r.ID}
		}
		return destination.Result{RemoteID: r.ID}
	}
	if len(r.Errors) == 0 {
		return destination.Result{Err: d.errorf("record %s failed without an error", r.ID), Retryable: true}
	}
	retry := false
	msgs := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		if deletion && e.StatusCode == "ENTITY_IS_DELETED" {
			return destination.Result{Receipt: nothingToErase}
		}
		if id, dup := d.duplicate(e.StatusCode, e.Message); dup {
			return destination.Result{RemoteID: id}
		}
		retry = retry || transientCodes[e.StatusCode]
		msgs[i] = e.StatusCode + ": " + e.Message
		if len(e.Fields) > 0 {
			msgs[i] += " (fields " + strings.Join(e.Fields, ", ") + ")"
		}
	}
	return destination.Result{Err: d.errorf("%s rejected the record: %s", d.sobject, strings.Join(msgs, "; ")), Retryable: retry}
}

// duplicateRe finds the Id in Salesforce's DUPLICATE_VALUE message
// ("… duplicates value on record with id: 003…").
var duplicateRe = regexp.MustCompile(`with id: ([a-zA-Z0-9]{15,18})`)

// duplicate reports whether an insert error says a record with the same
// External ID exists — in insert mode the record is already delivered —
// and that record's Id when the message gives it.
func (d *Destination) duplicate(code, msg string) (string, bool) {
	if d.mode != "insert" || code != "DUPLICATE_VALUE" || !strings.Contains(msg, d.extField) {
		return "", false
	}
	if m := duplicateRe.FindStringSubmatch(msg); m != nil {
		return m[1], true
	}
	return "", true
}

// remove deletes the records of idx by their Salesforce Id, looking up
// those whose Id is unknown by their external ID first.
func (d *Destination) remove(ctx context.Context, batch []destination.Record, idx []int, o *outcome) error {
	ids, sent, err := d.resolveIDs(ctx, batch, idx, o)
	if err != nil || len(ids) == 0 {
		return err
	}
	resp, err := d.call(ctx, httpdest.Request{Method: http.MethodDelete, Path: d.dataPath("/composite/sobjects"),
		Query: url.Values{"ids": {strings.Join(ids, ",")}, "allOrNone": {"false"}}})
	if err != nil {
		return err
	}
	res, err := d.results(resp, len(ids))
	if err != nil {
		return err
	}
	o.wrote = true
	for j, r := range res {
		rs := d.saved(r, true)
		if rs.Err == nil && rs.Receipt != nothingToErase {
			rs.Receipt = ids[j] // a DeleteResult's id is the one deleted
		}
		o.settle(sent[j], rs)
	}
	return nil
}

// resolveIDs returns the Ids to delete for the removals of idx and their
// batch indexes. A removal without a stored Id is looked up; one Salesforce
// does not hold is settled as done, one it holds several times rejected.
func (d *Destination) resolveIDs(ctx context.Context, batch []destination.Record, idx []int, o *outcome) (ids []string, sent []int, err error) {
	for _, i := range idx {
		id := batch[i].RemoteID
		if id == "" {
			var res destination.Result
			id, res, err = d.lookup(ctx, batch[i].Key)
			if err != nil {
				return nil, nil, err
			}
			if id == "" {
				if res.Err == nil {
					res.Receipt = nothingToErase
				}
				o.settle(i, res)
				continue
			}
		}
		ids, sent = append(ids, id), append(sent, i)
	}
	return ids, sent, nil
}

// lookup finds the Id of the record whose external ID is key: "" with a
// confirmed result when there is none (nothing to delete), "" with a
// rejection when several records hold it.
func (d *Destination) lookup(ctx context.Context, key string) (string, destination.Result, error) {
	resp, err := d.call(ctx, httpdest.Request{Method: http.MethodGet,
		Path:  d.dataPath("/sobjects/" + d.sobject + "/" + d.extField + "/" + url.PathEscape(key)),
		Query: url.Values{"fields": {"Id"}}})
	switch {
	case resp != nil && resp.Status == http.StatusNotFound:
		return "", destination.Result{}, nil
	case resp != nil && resp.Status == http.StatusMultipleChoices:
		return "", destination.Result{Err: d.errorf("several %s records have %s = %q; delete them in Salesforce", d.sobject, d.extField, key)}, nil
	case err != nil:
		return "", destination.Result{}, err
	}
	var rec struct {
		ID string `json:"Id"`
	}
	if err := resp.Decode(&rec); err != nil || rec.ID == "" {
		return "", destination.Result{}, &destination.BatchError{Retryable: true, Status: resp.Status,
			Err: d.errorf("%s %s: no Id in the answer", resp.Method, resp.URL)}
	}
	return rec.ID, destination.Result{}, nil
}
