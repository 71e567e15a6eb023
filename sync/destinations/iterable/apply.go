package iterable

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// progress is what earlier attempts of this run achieved for one record, so
// that a batch retried after a failed second or third request does not
// resend what Iterable already confirmed (and a fault schedule cannot fail
// the same step of every attempt).
type progress struct {
	updated bool                // bulkUpdate confirmed the profile
	listed  bool                // subscribe or unsubscribe confirmed the membership
	res     *destination.Result // a final per-record failure already known
	receipt string              // the vendor's confirmation of an erase or unsubscribe
}

// attempt is one Apply call.
type attempt struct {
	d     *Destination
	batch []destination.Record
	keys  []string
	prog  []*progress
}

// Apply sends one batch: bulkUpdate for adds and changes (split when the
// body would pass 4 MB), then lists/subscribe for them when a list is set,
// lists/unsubscribe for removes, users/forget for erasures and the message
// channel unsubscribe for unsubscribes. A request that fails as a whole ends
// the call with its error; the steps already confirmed are remembered for
// the retry.
func (d *Destination) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	if len(batch) > d.batchSize {
		return nil, &destination.BatchError{Err: fmt.Errorf("iterable: batch of %d records exceeds batch_size %d", len(batch), d.batchSize)}
	}
	a := d.begin(batch)
	if err := a.run(ctx); err != nil {
		return nil, err
	}
	d.finish(a.keys)
	return a.results(), nil
}

// begin looks up (or starts) the progress of every record.
func (d *Destination) begin(batch []destination.Record) *attempt {
	a := &attempt{d: d, batch: batch, keys: make([]string, len(batch)), prog: make([]*progress, len(batch))}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, r := range batch {
		k := destination.RecordKey(d.sync, r)
		p := d.memo[k]
		if p == nil {
			p = &progress{}
			d.memo[k] = p
		}
		a.keys[i], a.prog[i] = k, p
	}
	return a
}

// finish forgets the progress of records whose results are returned.
func (d *Destination) finish(keys []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range keys {
		delete(d.memo, k)
	}
}

// run performs the steps still to do.
func (a *attempt) run(ctx context.Context) error {
	for i, r := range a.batch {
		if err := destination.CheckOp(r.Op); err != nil {
			a.fail(i, httpdest.RecordError(false, "iterable: %v", err))
		} else if r.Op == destination.OpRemove && !a.d.mirror {
			a.fail(i, httpdest.RecordError(false, "iterable: remove is only delivered in mirror mode"))
		}
	}
	if err := a.bulkUpdate(ctx, a.pending(func(r destination.Record, p *progress) bool {
		return upsertOp(r.Op) && !p.updated
	})); err != nil {
		return err
	}
	if a.d.listID != 0 {
		if err := a.list(ctx, subscribe, a.pending(func(r destination.Record, p *progress) bool {
			return upsertOp(r.Op) && p.updated && !p.listed
		})); err != nil {
			return err
		}
	}
	if a.d.mirror {
		if err := a.list(ctx, unsubscribe, a.pending(func(r destination.Record, p *progress) bool {
			return r.Op == destination.OpRemove && !p.listed
		})); err != nil {
			return err
		}
	}
	return a.privacy(ctx)
}

// upsertOp reports whether an operation writes the profile (bulkUpdate).
func upsertOp(op destination.Op) bool {
	return op == destination.OpAdd || op == destination.OpChange
}

// pending lists the records without a final failure that want a step.
func (a *attempt) pending(want func(destination.Record, *progress) bool) []int {
	a.d.mu.Lock()
	defer a.d.mu.Unlock()
	var out []int
	for i, r := range a.batch {
		if p := a.prog[i]; p.res == nil && want(r, p) {
			out = append(out, i)
		}
	}
	return out
}

// fail records a final failure of record i.
func (a *attempt) fail(i int, r destination.Result) {
	a.d.mu.Lock()
	defer a.d.mu.Unlock()
	if a.prog[i].res == nil {
		a.prog[i].res = &r
	}
}

// done records a confirmed step of record i.
func (a *attempt) done(i int, ep endpoint) {
	a.d.mu.Lock()
	defer a.d.mu.Unlock()
	if ep == bulkUpdate {
		a.prog[i].updated = true
	} else {
		a.prog[i].listed = true
	}
}

// results are the outcomes: confirmed unless a step failed.
func (a *attempt) results() []destination.Result {
	a.d.mu.Lock()
	defer a.d.mu.Unlock()
	out := make([]destination.Result, len(a.batch))
	for i, p := range a.prog {
		if p.res != nil {
			out[i] = *p.res
		} else {
			out[i].Receipt = p.receipt
		}
	}
	return out
}

// encoded is one user of a bulkUpdate body.
type encoded struct {
	i      int            // index in the batch
	fields map[string]any // its dataFields
	raw    []byte         // its JSON
}

// bodyOverhead is `{"users":[` + `]}`.
const bodyOverhead = len(`{"users":[]}`)

// bulkUpdate writes the profiles of records idx, in as few requests as
// the 4 MB body limit allows.
func (a *attempt) bulkUpdate(ctx context.Context, idx []int) error {
	var users []encoded
	for _, i := range idx {
		r := a.batch[i]
		df, err := a.d.dataFields(r)
		if err != nil {
			a.fail(i, httpdest.RecordError(false, "iterable: record %s: %v", r.Key, err))
			continue
		}
		u := a.d.identify(r.Key)
		u.DataFields = df
		raw, err := json.Marshal(u)
		if err != nil {
			a.fail(i, httpdest.RecordError(false, "iterable: record %s: encoding: %v", r.Key, err))
			continue
		}
		if len(raw)+bodyOverhead > MaxBody {
			a.fail(i, httpdest.RecordError(false, "iterable: record %s: its profile is %d bytes, above bulkUpdate's 4 MB body limit", r.Key, len(raw)))
			continue
		}
		users = append(users, encoded{i: i, fields: df, raw: raw})
	}
	for len(users) > 0 {
		n, size := 0, bodyOverhead
		for n < len(users) && size+len(users[n].raw)+1 <= MaxBody {
			size += len(users[n].raw) + 1
			n++
		}
		if err := a.sendUsers(ctx, users[:n]); err != nil {
			return err
		}
		users = users[n:]
	}
	return nil
}

// sendUsers posts one bulkUpdate body. When Iterable refuses it because
// some values do not fit the types its fields already have
// (RequestFieldsTypesMismatched), the users holding them are rejected and
// the others sent again.
func (a *attempt) sendUsers(ctx context.Context, users []encoded) error {
	for round := 0; len(users) > 0; round++ {
		var body bytes.Buffer
		body.WriteString(`{"users":[`)
		for j, u := range users {
			if j > 0 {
				body.WriteByte(',')
			}
			body.Write(u.raw)
		}
		body.WriteString(`]}`)
		resp, err := a.d.client.Do(ctx, httpdest.Request{Method: http.MethodPost, Path: string(bulkUpdate),
			Body: body.Bytes(), ContentType: "application/json"})
		if m, ok := mismatches(resp); ok && err != nil {
			if round < 2 {
				users = a.rejectMismatched(users, m, err)
				continue
			}
			for _, u := range users {
				a.fail(u.i, httpdest.RecordError(false, "iterable %s: %v", bulkUpdate, err))
			}
			return nil
		}
		if err != nil {
			return err
		}
		ids := make([]string, len(users))
		sent := make([]int, len(users))
		for j, u := range users {
			ids[j], sent[j] = a.batch[u.i].Key, u.i
		}
		return a.apply(bulkUpdate, resp, ids, sent)
	}
	return nil
}

// rejectMismatched rejects the users whose values Iterable's field types
// refuse and returns the others; when none can be told, all are rejected.
func (a *attempt) rejectMismatched(users []encoded, m map[string]mismatch, cause error) []encoded {
	var keep []encoded
	for _, u := range users {
		var bad []string
		for f, mm := range m {
			if v, ok := u.fields[f]; ok && offends(v, mm) {
				bad = append(bad, fmt.Sprintf("`%s` is %s in Iterable but the value %v is %s", f, mm.ExpectedType, v, kindOf(v)))
			}
		}
		if len(bad) == 0 {
			keep = append(keep, u)
			continue
		}
		sort.Strings(bad)
		a.fail(u.i, httpdest.RecordError(false, "iterable %s: RequestFieldsTypesMismatched: %s (a field's type is fixed by its first value)",
			bulkUpdate, strings.Join(bad, "; ")))
	}
	if len(keep) == len(users) {
		for _, u := range users {
			a.fail(u.i, httpdest.RecordError(false, "iterable %s: %v", bulkUpdate, cause))
		}
		return nil
	}
	return keep
}

// list subscribes records idx to the list, or unsubscribes them from it.
func (a *attempt) list(ctx context.Context, ep endpoint, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	ids := make([]string, len(idx))
	for j, i := range idx {
		ids[j] = a.batch[i].Key
	}
	var body any
	if ep == subscribe {
		subs := make([]user, len(ids))
		for j, id := range ids {
			subs[j] = a.d.identify(id)
		}
		body = subscribeRequest{ListID: a.d.listID, Subscribers: subs}
	} else {
		subs := make([]unsubscriber, len(ids))
		for j, id := range ids {
			u := a.d.identify(id)
			subs[j] = unsubscriber{Email: u.Email, UserID: u.UserID}
		}
		body = unsubscribeRequest{ListID: a.d.listID, Subscribers: subs, CampaignID: a.d.campaignID, ChannelUnsubscribe: a.d.channel}
	}
	resp, err := a.d.client.Do(ctx, httpdest.Request{Method: http.MethodPost, Path: string(ep), JSON: body})
	if err != nil {
		return err
	}
	return a.apply(ep, resp, ids, idx)
}

// apply reads a 2xx answer into the progress of the records sent.
func (a *attempt) apply(ep endpoint, resp *httpdest.Response, ids []string, sent []int) error {
	var br bulkResponse
	if err := resp.Decode(&br); err != nil {
		return &destination.BatchError{Err: fmt.Errorf("iterable: %v", err), Retryable: true, Status: resp.Status}
	}
	res, err := a.d.outcomes(ep, &br, ids)
	if err != nil {
		return err
	}
	for j, r := range res {
		if r.Err != nil {
			a.fail(sent[j], r)
		} else {
			a.done(sent[j], ep)
		}
	}
	if len(br.FilteredOutFields) > 0 && a.d.logger != nil {
		a.d.logger.Warn("iterable: the project dropped fields it does not know (enable them in Data Schema Management, or let the project add new fields)",
			"endpoint", string(ep), "fields", strings.Join(br.FilteredOutFields, ", "))
	}
	return nil
}
