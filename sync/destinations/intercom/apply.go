package intercom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/cdpkit/cdp/sync/destination"
)

// maxCallsPerRecord is the most requests one record takes: a stale ID's
// update, the search, the create (or the update after it) and the tag.
const maxCallsPerRecord = 4

// outcome is one record's result and, when it failed on a whole-request
// error (throttled, 5xx, timeout, refused credentials), that error.
type outcome struct {
	res   destination.Result
	cause *destination.BatchError
}

// Apply writes the batch's contacts, up to concurrency at once, and
// returns their results index-aligned. A record whose request failed
// transiently (429, 5xx, timeout, connection) is a retryable result, one
// that Intercom refused a rejection with its message. When every record
// of the batch failed transiently, Apply returns that failure as the
// batch's error instead (a 429 first, so the delivery counts it and waits
// for the reset); refused credentials (401, 403) stop the batch and are
// returned at once.
func (d *Destination) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	if len(batch) > d.batchSize {
		return nil, &destination.BatchError{Err: fmt.Errorf("intercom %s: batch of %d records exceeds batch_size %d", d.name, len(batch), d.batchSize)}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	outs := make([]outcome, len(batch))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(d.concurrency, len(batch)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				outs[i] = d.applyOne(ctx, batch[i])
				if c := outs[i].cause; c != nil && c.Fatal {
					cancel()
				}
			}
		}()
	}
	for i := range batch {
		next <- i
	}
	close(next)
	wg.Wait()
	return d.results(outs)
}

// results turns the outcomes into Apply's answer.
func (d *Destination) results(outs []outcome) ([]destination.Result, error) {
	var throttled, transient *destination.BatchError
	all := len(outs) > 0
	res := make([]destination.Result, len(outs))
	for i, o := range outs {
		res[i] = o.res
		switch c := o.cause; {
		case c != nil && c.Fatal:
			return nil, c
		case c != nil && c.Retryable && c.Throttled:
			throttled = c
		case c != nil && c.Retryable:
			transient = c
		default:
			all = false
		}
	}
	if !all {
		return res, nil
	}
	be := throttled
	if be == nil {
		be = transient
	}
	cp := *be
	cp.Err = fmt.Errorf("every record of the batch failed: %w", be.Err)
	return nil, &cp
}

// applyOne writes one record, holding one of the concurrency slots.
func (d *Destination) applyOne(ctx context.Context, r destination.Record) outcome {
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return failed(ctx.Err())
	}
	defer func() { <-d.slots }()
	var id string
	var err error
	switch {
	case r.Op == destination.OpAdd || r.Op == destination.OpChange:
		id, err = d.upsert(ctx, r)
	case r.Op == destination.OpRemove && d.mode == ModeMirror:
		id, err = d.remove(ctx, r)
	case r.Op == destination.OpRemove:
		err = fmt.Errorf("intercom %s: mode %s does not remove contacts", d.name, d.mode)
	default:
		err = destination.CheckOp(r.Op)
	}
	if err != nil {
		return failed(err)
	}
	return outcome{res: destination.Result{RemoteID: id}}
}

// failed maps a record's error: whole-request errors keep their
// classification, context ends are transient, anything else (a value JSON
// cannot carry, an unknown operation) is a rejection.
func failed(err error) outcome {
	var be *destination.BatchError
	switch {
	case errors.As(err, &be):
		o := outcome{res: destination.Result{Err: be, Retryable: be.Retryable}}
		if be.Retryable || be.Fatal {
			o.cause = be
		}
		return o
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		be = &destination.BatchError{Err: fmt.Errorf("not written: %w", err), Retryable: true}
		return outcome{res: destination.Result{Err: be, Retryable: true}, cause: be}
	}
	return outcome{res: destination.Result{Err: err}}
}

// upsert updates the contact (by its known ID, or found by the key) or
// creates it, tags it in mirror mode, and returns its ID.
func (d *Destination) upsert(ctx context.Context, r destination.Record) (string, error) {
	body, err := d.contactBody(r)
	if err != nil {
		return "", fmt.Errorf("intercom %s: %v", d.name, err)
	}
	id := r.RemoteID
	if id != "" {
		err := d.update(ctx, id, body)
		switch {
		case statusOf(err) == http.StatusNotFound:
			id = "" // deleted or merged since: look it up again
		case err != nil:
			return "", err
		}
	}
	if id == "" {
		if id, err = d.findOrCreate(ctx, r.Key, body); err != nil {
			return "", err
		}
	}
	if d.mode == ModeMirror {
		if err := d.tag(ctx, id); err != nil {
			return "", err
		}
	}
	return id, nil
}

// findOrCreate searches the key and updates the match, or creates the
// contact (updating the existing one Intercom names in a 409).
func (d *Destination) findOrCreate(ctx context.Context, key string, body map[string]any) (string, error) {
	id, err := d.search(ctx, key)
	if err != nil {
		return "", err
	}
	if id != "" {
		return id, d.update(ctx, id, body)
	}
	id, existing, err := d.create(ctx, body)
	if err != nil {
		return "", err
	}
	if existing {
		return id, d.update(ctx, id, body)
	}
	return id, nil
}

// remove untags the record's contact (mirror mode); a contact that is
// gone or cannot be found has nothing to untag.
func (d *Destination) remove(ctx context.Context, r destination.Record) (string, error) {
	id := r.RemoteID
	if id == "" {
		var err error
		if id, err = d.search(ctx, r.Key); err != nil || id == "" {
			return "", err
		}
	}
	if err := d.untag(ctx, id); err != nil && statusOf(err) != http.StatusNotFound {
		return "", err
	}
	return id, nil
}
