package klaviyo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// noJob is the job ID of a batch that imports nothing (only removals, or
// every record rejected before sending).
const noJob = "none"

// Job statuses (Get Bulk Import Profiles Job). "failed" is not in the
// current enum but is treated like cancelled should it come back.
const (
	statusQueued     = "queued"
	statusProcessing = "processing"
	statusComplete   = "complete"
	statusCancelled  = "cancelled"
	statusFailed     = "failed"
)

// Submit removes the batch's leavers from the list (mirror), sends its
// unsubscribes and erasures, and creates its bulk import jobs; the job ID
// is their Klaviyo IDs, comma-separated, or "none" when nothing is
// imported, followed by the receipts of the privacy records (see
// withReceipts).
func (d *Destination) Submit(ctx context.Context, batch []destination.Record) (string, error) {
	p, err := d.plan(batch)
	if err != nil {
		return "", err
	}
	if err := d.removeMembers(ctx, batch, p.removes); err != nil {
		return "", err
	}
	receipts, err := d.privacy(ctx, batch, p.unsubs, p.erases)
	if err != nil {
		return "", err
	}
	ids := make([]string, 0, len(p.jobs))
	for _, j := range p.jobs {
		id, err := d.createJob(ctx, j.body)
		if err != nil {
			return "", err
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return withReceipts(noJob, receipts), nil
	}
	return withReceipts(strings.Join(ids, ","), receipts), nil
}

// createJob sends one Bulk Import Profiles request.
func (d *Destination) createJob(ctx context.Context, body []byte) (string, error) {
	resp, err := d.client.Do(ctx, httpdest.Request{Method: "POST", Path: "/api/profile-bulk-import-jobs",
		Body: body, ContentType: mediaType})
	if err != nil {
		return "", err
	}
	var doc jobDoc
	if err := resp.Decode(&doc); err != nil || doc.Data.ID == "" {
		return "", &destination.BatchError{Retryable: true, Status: resp.Status,
			Err: d.errorf("bulk import answered %d without a job ID: %s", resp.Status, httpdest.Snippet(resp.Body))}
	}
	return doc.Data.ID, nil
}

// Poll asks for the batch's jobs. While any is queued or processing it
// reports not done. Once all have ended it reads their import errors
// (rejections) and profiles (IDs, returned as RemoteID), clears the null
// fields of the imported profiles, and returns every record's result.
func (d *Destination) Poll(ctx context.Context, jobID string, batch []destination.Record) ([]destination.Result, bool, error) {
	p, err := d.plan(batch)
	if err != nil {
		return nil, false, err
	}
	jobID, receipts := splitReceipts(jobID)
	ids := []string{}
	if jobID != noJob {
		ids = strings.Split(jobID, ",")
	}
	if len(ids) != len(p.jobs) {
		return nil, false, &destination.BatchError{Err: d.errorf("job ID %q names %d jobs but the batch makes %d", jobID, len(ids), len(p.jobs))}
	}
	states := make([]jobAttributes, len(ids))
	for i, id := range ids {
		st, err := d.jobStatus(ctx, id)
		if err != nil {
			return nil, false, err
		}
		if st.Status == statusQueued || st.Status == statusProcessing {
			return nil, false, nil
		}
		states[i] = st
	}
	results := append([]destination.Result(nil), p.results...)
	for _, i := range p.removes {
		results[i] = destination.Result{RemoteID: batch[i].RemoteID}
	}
	for _, i := range append(p.unsubs, p.erases...) {
		if r, ok := receipts[i]; ok {
			results[i] = destination.Result{RemoteID: batch[i].RemoteID, Receipt: r}
		} else {
			results[i] = destination.Result{Retryable: true, Err: d.errorf("record %q: job ID %q has no receipt of its %s", batch[i].Key, jobID, batch[i].Op)}
		}
	}
	for i, j := range p.jobs {
		if err := d.jobResults(ctx, ids[i], states[i], j, batch, results); err != nil {
			return nil, false, err
		}
	}
	if err := d.clearFields(ctx, batch, p.clears, results); err != nil {
		return nil, false, err
	}
	return results, true, nil
}

// jobStatus reads one job's attributes.
func (d *Destination) jobStatus(ctx context.Context, id string) (jobAttributes, error) {
	if err := d.polls.wait(ctx); err != nil {
		return jobAttributes{}, &destination.BatchError{Retryable: true, Err: d.errorf("polling job %s: %v", id, err)}
	}
	resp, err := d.client.Do(ctx, httpdest.Request{Method: "GET", Path: "/api/profile-bulk-import-jobs/" + id})
	if err != nil {
		return jobAttributes{}, err
	}
	var doc jobDoc
	if err := resp.Decode(&doc); err != nil {
		return jobAttributes{}, &destination.BatchError{Err: err, Retryable: true, Status: resp.Status}
	}
	switch doc.Data.Attributes.Status {
	case statusQueued, statusProcessing, statusComplete, statusCancelled, statusFailed:
		return doc.Data.Attributes, nil
	}
	return jobAttributes{}, &destination.BatchError{Retryable: true, Status: resp.Status,
		Err: d.errorf("job %s has an unknown status %q", id, doc.Data.Attributes.Status)}
}

// jobResults fills the results of one ended job's records: a cancelled job
// leaves them to be retried; a complete one confirms every record without
// an import error, with the profile ID Klaviyo gave it.
func (d *Destination) jobResults(ctx context.Context, id string, st jobAttributes, j job,
	batch []destination.Record, results []destination.Result) error {
	if st.Status != statusComplete {
		for _, i := range j.records {
			results[i] = destination.Result{Retryable: true, Err: d.errorf("record %q: bulk import job %s ended %s", batch[i].Key, id, st.Status)}
		}
		return nil
	}
	failed := map[int]string{}
	if st.FailedCount == nil || *st.FailedCount > 0 {
		errs, err := d.importErrors(ctx, id, j, batch)
		if err != nil {
			return err
		}
		failed = errs
	}
	profileIDs := map[string]string{}
	if st.CompletedCount == nil || *st.CompletedCount > 0 {
		ids, err := d.jobProfiles(ctx, id)
		if err != nil {
			return err
		}
		profileIDs = ids
	}
	for _, i := range j.records {
		if msg, bad := failed[i]; bad {
			results[i] = destination.Result{Err: d.errorf("record %q: %s", batch[i].Key, msg)}
			continue
		}
		rid := profileIDs[strings.ToLower(batch[i].Key)]
		if rid == "" {
			rid = batch[i].RemoteID
		}
		results[i] = destination.Result{RemoteID: rid}
	}
	return nil
}

// Apply submits the batch and polls its jobs every poll_interval until they
// end (for callers that do not drive jobs themselves). A poll that fails is
// asked again (after the Retry-After of a 429); an attempt that ends before
// the jobs do is a retryable batch error, and a fatal one (a revoked key)
// stops at once.
func (d *Destination) Apply(ctx context.Context, batch []destination.Record) ([]destination.Result, error) {
	id, err := d.Submit(ctx, batch)
	if err != nil {
		return nil, err
	}
	wait := d.pollEvery
	if imports, _ := splitReceipts(id); imports == noJob {
		wait = 0
	}
	for {
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, &destination.BatchError{Retryable: true, Err: d.errorf("bulk import job %s still running when the attempt ended: %v", id, ctx.Err())}
			case <-t.C:
			}
		}
		res, done, err := d.Poll(ctx, id, batch)
		switch {
		case err == nil && done:
			return res, nil
		case err == nil:
			wait = d.pollEvery
		case destination.IsFatal(err):
			return nil, err
		case ctx.Err() != nil:
			return nil, &destination.BatchError{Retryable: true, Err: d.errorf("polling bulk import job %s: %v", id, err)}
		case !destination.IsRetryable(err):
			// The job cannot be asked about (gone, refused): send the batch again.
			return nil, &destination.BatchError{Retryable: true, Err: d.errorf("polling bulk import job %s: %v", id, err)}
		default:
			wait = max(d.pollEvery, retryAfter(err))
		}
	}
}

// retryAfter is the wait a batch error asks for.
func retryAfter(err error) time.Duration {
	var be *destination.BatchError
	if errors.As(err, &be) {
		return be.RetryAfter
	}
	return 0
}

// importErrors reads a job's import errors and maps them to the job's
// records: by source.pointer (/data/attributes/profiles/data/<n>…, the
// profile's position in the job) or else by the email of original_payload.
// It returns record index → message.
func (d *Destination) importErrors(ctx context.Context, id string, j job, batch []destination.Record) (map[int]string, error) {
	byEmail := map[string]int{}
	for _, i := range j.records {
		byEmail[strings.ToLower(batch[i].Key)] = i
	}
	out := map[int]string{}
	err := d.pages(ctx, "/api/profile-bulk-import-jobs/"+id+"/import-errors", nil, func(resp *httpdest.Response) (string, error) {
		var doc errorsDoc
		if err := resp.Decode(&doc); err != nil {
			return "", &destination.BatchError{Err: err, Retryable: true, Status: resp.Status}
		}
		for _, e := range doc.Data {
			a := e.Attributes
			msg := fmt.Sprintf("Klaviyo import error %s: %s", a.Code, strings.TrimSpace(a.Title+" "+a.Detail))
			if n, ok := pointerIndex(a.Source.Pointer); ok && n < len(j.records) {
				out[j.records[n]] = msg
			} else if i, ok := byEmail[strings.ToLower(payloadEmail(a.OriginalPayload))]; ok {
				out[i] = msg
			} else {
				d.log("import error matches no record", "job", id, "error", msg, "pointer", a.Source.Pointer)
			}
		}
		return doc.Links.Next, nil
	})
	return out, err
}

// jobProfiles reads the profiles a job created or updated: lowercased
// email → profile ID.
func (d *Destination) jobProfiles(ctx context.Context, id string) (map[string]string, error) {
	out := map[string]string{}
	q := map[string][]string{"fields[profile]": {"email"}}
	err := d.pages(ctx, "/api/profile-bulk-import-jobs/"+id+"/profiles", q, func(resp *httpdest.Response) (string, error) {
		var doc profilesDoc
		if err := resp.Decode(&doc); err != nil {
			return "", &destination.BatchError{Err: err, Retryable: true, Status: resp.Status}
		}
		for _, p := range doc.Data {
			if p.Attributes.Email != "" {
				out[strings.ToLower(p.Attributes.Email)] = p.ID
			}
		}
		return doc.Links.Next, nil
	})
	return out, err
}

// pollGap spaces the job polls of one destination (all its batches): eight
// a second stay under the endpoint's burst limit of 10/s.
var pollGap = time.Second / 8

// pacer spaces requests at least gap apart.
type pacer struct {
	mu   sync.Mutex
	next time.Time
	gap  time.Duration
}

// wait blocks until the caller's turn (or ctx ends).
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	at := now
	if p.next.After(now) {
		at = p.next
	}
	p.next = at.Add(p.gap)
	p.mu.Unlock()
	if at.Equal(now) {
		return nil
	}
	t := time.NewTimer(at.Sub(now))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (d *Destination) log(msg string, args ...any) {
	if d.client.Logger != nil {
		d.client.Logger.Debug("klaviyo "+d.name+": "+msg, args...)
	}
}
