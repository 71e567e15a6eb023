package braze

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// object is one record's encoded attributes object.
type object struct {
	index int // position in the batch
	json  []byte
	unsub bool // an unsubscribe's email_subscribe object
}

// sorted is a batch sorted by what it sends.
type sorted struct {
	objs    []object // /users/track objects: adds, changes, unsubscribes without a group
	removes []int    // mirror removes: unsubscribed from the group
	unsubs  []int    // unsubscribes from the group
	erases  []int    // /users/delete
}

// Envelope of a /users/track body: {"attributes":[…]}.
var (
	trackOpen  = []byte(`{"attributes":[`)
	trackClose = []byte(`]}`)
)

// Apply writes one batch: the attributes objects of its adds and changes
// with /users/track (in as few requests as the 4 MB body limit allows),
// then, in mirror, the subscription changes with
// /v2/subscription/status/set: subscribed for the records Braze accepted,
// unsubscribed for the removed ones. Unsubscribes are unsubscribed from
// subscription_group_id when one is set, else sent to /users/track as
// email_subscribe: unsubscribed; erases are deleted with /users/delete.
// Results are index-aligned with batch; a whole-request failure of any of
// these requests is returned as the batch's error (every request is
// idempotent, so resending is harmless).
func (d *Destination) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	if len(batch) > d.caps.MaxBatch {
		return nil, &destination.BatchError{Err: fmt.Errorf("braze: batch of %d records exceeds batch_size %d", len(batch), d.caps.MaxBatch)}
	}
	results := make([]destination.Result, len(batch))
	st := d.sort(batch, results)
	for _, chunk := range d.chunks(st.objs) {
		if err := d.track(ctx, chunk, results); err != nil {
			return nil, err
		}
	}
	var subscribe, unsubscribe []string
	for _, o := range st.objs {
		switch {
		case results[o.index].Err != nil:
		case o.unsub:
			results[o.index].Receipt = "users/track: email_subscribe unsubscribed"
		case d.mirror:
			subscribe = append(subscribe, batch[o.index].Key)
		}
	}
	for _, i := range append(st.removes, st.unsubs...) {
		unsubscribe = append(unsubscribe, batch[i].Key)
	}
	if err := d.setSubscriptions(ctx, subscribe, unsubscribe); err != nil {
		return nil, err
	}
	for _, i := range st.unsubs {
		results[i].Receipt = "v2/subscription/status/set: unsubscribed from " + d.group
	}
	for _, i := range st.erases {
		res, err := d.erase(ctx, batch[i])
		if err != nil {
			return nil, err
		}
		results[i] = res
	}
	return results, nil
}

// sort encodes the adds, changes and group-less unsubscribes and lists the
// other operations; records that cannot be sent get their rejection in
// results.
func (d *Destination) sort(batch []destination.Record, results []destination.Result) (st sorted) {
	limit := d.maxPayload - len(trackOpen) - len(trackClose)
	for i, r := range batch {
		switch {
		case r.Key == "":
			results[i] = httpdest.RecordError(false, "braze: record has an empty key (%s)", d.identifier)
		case r.Op == destination.OpAdd || r.Op == destination.OpChange:
			b, err := d.encode(r)
			switch {
			case err != nil:
				results[i] = httpdest.RecordError(false, "braze: %v", err)
			case len(b) > limit:
				results[i] = httpdest.RecordError(false, "braze: the attributes object is %d bytes, over the %d-byte request limit", len(b), d.maxPayload)
			default:
				st.objs = append(st.objs, object{index: i, json: b})
			}
		case r.Op == destination.OpRemove && d.mirror:
			st.removes = append(st.removes, i)
		case r.Op == destination.OpUnsubscribe && d.group != "":
			st.unsubs = append(st.unsubs, i)
		case r.Op == destination.OpUnsubscribe:
			st.objs = append(st.objs, object{index: i, json: d.unsubscribeObject(r), unsub: true})
		case r.Op == destination.OpErase:
			st.erases = append(st.erases, i)
		default:
			results[i] = httpdest.RecordError(false, "braze: operation %q is not supported in this mode", r.Op)
		}
	}
	return st
}

// encode renders one record as a user attributes object: the fields (nil
// as null, which removes the attribute) and the key as the identifier.
func (d *Destination) encode(r destination.Record) ([]byte, error) {
	fields, err := destination.JSONFields(r.Fields)
	if err != nil {
		return nil, err
	}
	obj := make(map[string]any, len(fields)+1)
	for k, v := range fields {
		if slices.Contains(reserved, k) && k != d.identifier {
			return nil, fmt.Errorf("field %q is a Braze identifier or flag, not an attribute", k)
		}
		obj[k] = v
	}
	obj[d.identifier] = r.Key
	return json.Marshal(obj)
}

// chunks splits objects into requests of at most the payload limit (the
// batch is already within the per-request object limit).
func (d *Destination) chunks(objs []object) [][]object {
	var out [][]object
	size := len(trackOpen) + len(trackClose)
	start := 0
	for i, o := range objs {
		add := len(o.json)
		if i > start {
			add++ // the comma
		}
		if i > start && size+add > d.maxPayload {
			out = append(out, objs[start:i])
			start, size, add = i, len(trackOpen)+len(trackClose), len(o.json)
		}
		size += add
	}
	if start < len(objs) {
		out = append(out, objs[start:])
	}
	return out
}

// trackBody renders {"attributes":[…]} of a chunk.
func trackBody(chunk []object) []byte {
	var b bytes.Buffer
	b.Write(trackOpen)
	for i, o := range chunk {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(o.json)
	}
	b.Write(trackClose)
	return b.Bytes()
}

// track sends one /users/track request and fills the chunk's results.
func (d *Destination) track(ctx context.Context, chunk []object, results []destination.Result) error {
	resp, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodPost, Path: trackPath,
		Body: trackBody(chunk), ContentType: "application/json"})
	if err != nil {
		if resp == nil || resp.Status != http.StatusBadRequest {
			return err
		}
		// A 400 that names the invalid objects: none was processed.
		out, ok := rejected(resp, len(chunk))
		if !ok {
			return err
		}
		for j, o := range chunk {
			results[o.index] = out[j]
		}
		return nil
	}
	out, err := processed(resp, len(chunk))
	if err != nil {
		return err
	}
	for j, o := range chunk {
		results[o.index] = out[j]
	}
	return nil
}
