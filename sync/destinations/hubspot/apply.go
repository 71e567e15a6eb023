package hubspot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// pending is a record of the batch to write, with its position.
type pending struct {
	i  int
	in input
}

// Apply sends one batch: one batch upsert (or update) of its adds and
// changes and, in mode mirror, one membership change of the list. It
// returns index-aligned results with the contacts' record IDs, or the
// *destination.BatchError of a request that failed as a whole (the batch is
// then resent as a whole; upserts are idempotent).
func (d *Destination) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	if len(batch) > d.batchSize {
		return nil, &destination.BatchError{Err: d.errorf("batch of %d records exceeds batch_size %d", len(batch), d.batchSize)}
	}
	results := make([]destination.Result, len(batch))
	writes, removes, erases := d.plan(batch, results)
	if len(erases) > 0 {
		if err := d.erase(ctx, batch, erases, results); err != nil {
			return nil, err
		}
	}
	send := writes
	if d.mode == "mirror" {
		send = d.skipUpserted(writes, results)
	}
	if len(send) > 0 {
		out, err := d.write(ctx, send)
		if err != nil {
			return nil, err
		}
		for j, p := range send {
			results[p.i] = out[j]
		}
	}
	if d.mode == "mirror" {
		if err := d.mirror(ctx, batch, results, writes, removes); err != nil {
			d.remember(batch, writes, removes, results, false)
			return nil, err
		}
		d.remember(batch, writes, removes, results, true)
	}
	return results, nil
}

// skipUpserted leaves out the contacts HubSpot confirmed in an earlier
// attempt of this run whose membership change then failed: the same
// content (the same objectWriteTraceId) is not upserted again, only the
// membership is retried. Their results get the record IDs confirmed then.
func (d *Destination) skipUpserted(writes []pending, results []destination.Result) []pending {
	var send []pending
	for _, p := range writes {
		if id := d.recall(p.in.ObjectWriteTraceID); id != "" {
			results[p.i] = destination.Result{RemoteID: id}
			continue
		}
		send = append(send, p)
	}
	return send
}

// recall returns the record ID remembered for a record's content.
func (d *Destination) recall(trace string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.upserted[trace]
}

// remember keeps, after a failed membership change, the record IDs the
// batch's attempt learnt (contacts upserted, removals looked up), so the
// retry sends only the membership change. With done it forgets them.
func (d *Destination) remember(batch []destination.Record, writes []pending, removes []int, results []destination.Result, done bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	keep := func(trace, id string) {
		if done {
			delete(d.upserted, trace)
		} else if id != "" {
			d.upserted[trace] = id
		}
	}
	for _, p := range writes {
		if r := results[p.i]; r.Err == nil {
			keep(p.in.ObjectWriteTraceID, r.RemoteID)
		}
	}
	for _, i := range removes {
		if r := results[i]; r.Err == nil {
			keep(destination.RecordKey(d.sync, batch[i]), r.RemoteID)
		}
	}
}

// plan sorts the batch into contacts to write, removals and erasures,
// rejecting in results the records that cannot be sent.
func (d *Destination) plan(batch []destination.Record, results []destination.Result) (writes []pending, removes, erases []int) {
	seen := map[string]bool{}
	for i, r := range batch {
		if err := d.check(r); err != nil {
			results[i] = destination.Result{Err: d.errorf("contact %s: %v", r.Key, err)}
			continue
		}
		k := d.norm(r.Key)
		if seen[k] {
			results[i] = destination.Result{Err: d.errorf("contact %s is twice in one batch; it is sent again on its own", r.Key), Retryable: true}
			continue
		}
		seen[k] = true
		switch r.Op {
		case destination.OpRemove:
			removes = append(removes, i)
			continue
		case destination.OpErase:
			erases = append(erases, i)
			continue
		}
		in, err := d.input(r)
		if err != nil {
			results[i] = destination.Result{Err: d.errorf("contact %s: %v", r.Key, err)}
			continue
		}
		writes = append(writes, pending{i, in})
	}
	return writes, removes, erases
}

// check refuses a record the mode cannot send.
func (d *Destination) check(r destination.Record) error {
	if err := destination.CheckOp(r.Op); err != nil {
		return err
	}
	if r.Key == "" {
		return fmt.Errorf("the key (%s) is empty", d.idProperty)
	}
	if r.Op == destination.OpRemove && d.mode != "mirror" {
		return fmt.Errorf("mode %s does not remove contacts", d.mode)
	}
	if r.Op == destination.OpUnsubscribe {
		return fmt.Errorf("HubSpot has no unsubscribe primitive here; the contact is removed or no longer sent")
	}
	return nil
}

// norm normalises an id property value for matching (HubSpot lowercases
// emails).
func (d *Destination) norm(v string) string {
	if d.idProperty == "email" {
		return strings.ToLower(strings.TrimSpace(v))
	}
	return v
}

// input encodes a record as a batch input keyed by id_property, with an
// objectWriteTraceId naming the record's content.
func (d *Destination) input(r destination.Record) (input, error) {
	fields, err := destination.JSONFields(r.Fields)
	if err != nil {
		return input{}, err
	}
	props := make(map[string]string, len(fields))
	for k, v := range fields {
		if k == d.idProperty && v == nil {
			continue // the id property cannot be cleared; the id names it
		}
		s := formatValue(v)
		if n := utf8.RuneCountInString(s); n > MaxValueLen {
			return input{}, fmt.Errorf("field %q holds %d characters; HubSpot takes at most %d per property", k, n, MaxValueLen)
		}
		props[k] = s
	}
	in := input{IDProperty: d.idProperty, ID: r.Key, Properties: props, ObjectWriteTraceID: destination.RecordKey(d.sync, r)}
	if d.idProperty == "hs_object_id" {
		in.IDProperty = "" // the key is the record ID itself
	}
	return in, nil
}

// write sends the batch upsert (mode update: the batch update) and maps
// its answer to the writes' results.
func (d *Destination) write(ctx context.Context, writes []pending) ([]destination.Result, error) {
	path := "/crm/v3/objects/contacts/batch/upsert"
	if d.mode == "update" {
		path = "/crm/v3/objects/contacts/batch/update"
	}
	ins := make([]input, len(writes))
	for j, p := range writes {
		ins[j] = p.in
	}
	resp, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodPost, Path: path, JSON: batchInput{Inputs: ins}})
	if err != nil {
		return nil, err
	}
	var body batchResponse
	if err := resp.Decode(&body); err != nil {
		return nil, &destination.BatchError{Err: d.errorf("%v", err), Retryable: true, Status: resp.Status}
	}
	return d.match(ins, body), nil
}

// match maps a batch answer to its inputs: results by objectWriteTraceId
// (or the id property's value), errors by the objectWriteTraceId or ids of
// their context. An input HubSpot answered nothing about is retried.
func (d *Destination) match(ins []input, body batchResponse) []destination.Result {
	byTrace, byKey := map[string]int{}, map[string]int{}
	for j, in := range ins {
		byTrace[in.ObjectWriteTraceID] = j
		byKey[d.norm(in.ID)] = j
	}
	out := make([]destination.Result, len(ins))
	done := make([]bool, len(ins))
	for _, o := range body.Results {
		j, ok := byTrace[o.ObjectWriteTraceID]
		if !ok {
			j, ok = byKey[d.norm(o.property(d.idProperty))]
		}
		if ok && o.ID != "" {
			out[j], done[j] = destination.Result{RemoteID: o.ID}, true
		}
	}
	for _, e := range body.Errors {
		for _, j := range d.targets(e, byTrace, byKey) {
			out[j], done[j] = d.recordError(ins[j], e), true
		}
	}
	for j := range out {
		if !done[j] {
			out[j] = destination.Result{Retryable: true,
				Err: d.errorf("contact %s: HubSpot answered neither a result nor an error for it (status %s)", ins[j].ID, body.Status)}
		}
	}
	return out
}

// targets returns the inputs an error names.
func (d *Destination) targets(e apiError, byTrace, byKey map[string]int) []int {
	var out []int
	if traces := e.contextValues("objectWriteTraceId"); len(traces) > 0 {
		for _, t := range traces {
			if j, ok := byTrace[t]; ok {
				out = append(out, j)
			}
		}
		return out
	}
	for _, id := range e.contextValues("ids") {
		if j, ok := byKey[d.norm(id)]; ok {
			out = append(out, j)
		}
	}
	return out
}

// recordError is the result of a contact HubSpot refused.
func (d *Destination) recordError(in input, e apiError) destination.Result {
	msg := e.text()
	if d.mode == "update" && strings.EqualFold(e.Category, "OBJECT_NOT_FOUND") {
		msg = fmt.Sprintf("no contact has %s %s (mode update never creates one): %s", d.idProperty, in.ID, msg)
	}
	return destination.Result{Err: d.errorf("contact %s: %s", in.ID, msg), Retryable: e.retryable()}
}

// mirror changes the list's membership: the contacts written are added,
// the removals' contacts removed (by record ID; looked up by id_property
// when the engine knows none). A contact that no longer exists is not in
// the list, so its removal is confirmed.
func (d *Destination) mirror(ctx context.Context, batch []destination.Record, results []destination.Result, writes []pending, removes []int) error {
	add, rem := newIDSet(), newIDSet()
	for _, p := range writes {
		if r := results[p.i]; r.Err == nil && r.RemoteID != "" {
			add.put(r.RemoteID, p.i)
		}
	}
	var unknown []int
	for _, i := range removes {
		if id := cmp.Or(batch[i].RemoteID, d.recall(destination.RecordKey(d.sync, batch[i]))); id != "" {
			rem.put(id, i)
		} else {
			unknown = append(unknown, i)
		}
	}
	if len(unknown) > 0 {
		if err := d.resolve(ctx, batch, unknown, results, rem); err != nil {
			return err
		}
	}
	for _, id := range append([]string(nil), rem.ids...) {
		if _, both := add.at[id]; both { // one contact under two keys: it stays
			rem.drop(id)
		}
	}
	if len(add.ids)+len(rem.ids) == 0 {
		return nil
	}
	resp, err := d.changeMembers(ctx, add.ids, rem.ids)
	if err != nil {
		return err
	}
	missing := map[string]bool{}
	for _, id := range resp.Missing {
		missing[id] = true
	}
	for id, idx := range add.at {
		for _, i := range idx {
			if missing[id] {
				results[i] = destination.Result{Retryable: true,
					Err: d.errorf("contact %s: HubSpot did not find record %s to add to list %s", batch[i].Key, id, d.listID)}
			}
		}
	}
	for id, idx := range rem.at {
		for _, i := range idx {
			results[i] = destination.Result{RemoteID: id}
		}
	}
	return nil
}

// changeMembers sends PUT /crm/v3/lists/{list_id}/memberships/add-and-remove.
// A missing list, or one whose membership cannot be changed, stops the run.
func (d *Destination) changeMembers(ctx context.Context, add, rem []string) (*membershipResponse, error) {
	path := "/crm/v3/lists/" + d.listID + "/memberships/add-and-remove"
	add, rem = append([]string{}, add...), append([]string{}, rem...) // both arrays are required, [] for none
	resp, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodPut, Path: path,
		JSON: map[string][]string{"recordIdsToAdd": add, "recordIdsToRemove": rem}})
	var be *destination.BatchError
	if errors.As(err, &be) && (be.Status == http.StatusNotFound || be.Status == http.StatusBadRequest) {
		be.Fatal = true
		be.Err = fmt.Errorf("%w (check list_id %s: it must be a MANUAL or SNAPSHOT contact list; the run stops)", be.Err, d.listID)
	}
	if err != nil {
		return nil, err
	}
	var body membershipResponse
	if err := resp.Decode(&body); err != nil {
		return nil, &destination.BatchError{Err: d.errorf("%v", err), Retryable: true, Status: resp.Status}
	}
	return &body, nil
}

// resolve looks up the record IDs of removals by id_property with one
// batch read; one that HubSpot does not find is confirmed (nothing to
// remove).
func (d *Destination) resolve(ctx context.Context, batch []destination.Record, idx []int, results []destination.Result, rem *idSet) error {
	body := readInput{IDProperty: d.idProperty, Properties: []string{d.idProperty}, PropertiesWithHistory: []string{}}
	if d.idProperty == "hs_object_id" {
		body.IDProperty = ""
	}
	for _, i := range idx {
		body.Inputs = append(body.Inputs, readID{ID: batch[i].Key})
	}
	resp, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodPost, Path: "/crm/v3/objects/contacts/batch/read", JSON: body})
	if err != nil {
		return err
	}
	var out batchResponse
	if err := resp.Decode(&out); err != nil {
		return &destination.BatchError{Err: d.errorf("%v", err), Retryable: true, Status: resp.Status}
	}
	found, absent := map[string]string{}, map[string]bool{}
	for _, o := range out.Results {
		found[d.norm(o.property(d.idProperty))] = o.ID
	}
	for _, e := range out.Errors {
		if strings.EqualFold(e.Category, "OBJECT_NOT_FOUND") {
			for _, id := range e.contextValues("ids") {
				absent[d.norm(id)] = true
			}
		}
	}
	for _, i := range idx {
		k := d.norm(batch[i].Key)
		switch {
		case found[k] != "":
			rem.put(found[k], i)
			results[i] = destination.Result{RemoteID: found[k]}
		case absent[k]:
			results[i] = destination.Result{}
		default:
			results[i] = destination.Result{Retryable: true, Err: d.errorf("contact %s: HubSpot's batch read answered nothing about it", batch[i].Key)}
		}
	}
	return nil
}

// idSet is an ordered set of record IDs with the batch positions of each.
type idSet struct {
	ids []string
	at  map[string][]int
}

func newIDSet() *idSet { return &idSet{at: map[string][]int{}} }

func (s *idSet) put(id string, i int) {
	if _, ok := s.at[id]; !ok {
		s.ids = append(s.ids, id)
	}
	s.at[id] = append(s.at[id], i)
}

func (s *idSet) drop(id string) {
	delete(s.at, id)
	for j, x := range s.ids {
		if x == id {
			s.ids = append(s.ids[:j], s.ids[j+1:]...)
			return
		}
	}
}
