package mailchimp

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"sync"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

var hashRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// memberOp sends one request for one record's member.
type memberOp func(ctx context.Context, r destination.Record) (destination.Result, error)

// archive archives the members of the records at idx, d.parallel requests
// at a time (see perMember).
func (d *Destination) archive(ctx context.Context, batch []destination.Record, idx []int, results []destination.Result, applied bool) error {
	return d.perMember(ctx, batch, idx, results, applied, "archived", d.archiveOne)
}

// perMember sends op for the records at idx, d.parallel requests at a
// time. When nothing of the batch was applied yet (applied false), the
// first request goes alone and its retryable or fatal failure is the whole
// batch's, so delivery sees Mailchimp's throttle and waits as asked. Later
// failures are per record; after a throttle or a fatal answer nothing more
// is sent, and a fatal answer stops the run.
func (d *Destination) perMember(ctx context.Context, batch []destination.Record, idx []int, results []destination.Result,
	applied bool, what string, op memberOp) error {
	if !applied {
		i := idx[0]
		res, err := op(ctx, batch[i])
		if stopsBatch(err) {
			return err
		}
		results[i] = opResult(res, err)
		idx = idx[1:]
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		fatal    error
		stopped  error
		sem      = make(chan struct{}, d.parallel)
		notTried = func(i int, cause error) {
			results[i] = httpdest.RecordError(true, "mailchimp: not %s: an earlier request of the batch failed: %v", what, cause)
		}
	)
	for _, i := range idx {
		sem <- struct{}{}
		mu.Lock()
		cause := stopped
		mu.Unlock()
		if cause != nil {
			<-sem
			notTried(i, cause)
			continue
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := op(ctx, batch[i])
			mu.Lock()
			defer mu.Unlock()
			results[i] = opResult(res, err)
			var be *destination.BatchError
			if errors.As(err, &be) && (be.Fatal || be.Throttled) {
				stopped = err
				if be.Fatal && fatal == nil {
					fatal = err
				}
			}
		}(i)
	}
	wg.Wait()
	return fatal
}

// archiveOne archives one record's member; a member Mailchimp does not
// hold (404: never added, or archived before) counts as archived.
func (d *Destination) archiveOne(ctx context.Context, r destination.Record) (destination.Result, error) {
	id := memberID(r)
	_, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodDelete, Path: d.listPath() + "/members/" + id})
	var be *destination.BatchError
	if errors.As(err, &be) && be.Status == http.StatusNotFound {
		return destination.Result{RemoteID: id}, nil
	}
	return destination.Result{RemoteID: id}, err
}

// memberID is a record's subscriber hash: the stored remote ID, else the
// MD5 of the lower-cased email.
func memberID(r destination.Record) string {
	if hashRe.MatchString(r.RemoteID) {
		return r.RemoteID
	}
	return SubscriberHash(r.Key)
}

// stopsBatch reports whether a failure of the batch's first request is the
// whole batch's: retryable (throttled, 5xx, no answer) or fatal.
func stopsBatch(err error) bool {
	var be *destination.BatchError
	if errors.As(err, &be) {
		return be.Retryable || be.Fatal
	}
	return err != nil
}

// opResult is the result of one member request.
func opResult(res destination.Result, err error) destination.Result {
	if err == nil {
		return res
	}
	return destination.Result{Err: err, Retryable: destination.IsRetryable(err)}
}

// NotFound is the receipt of an erase whose member Mailchimp did not hold.
const NotFound = "not found: nothing to erase"

// eraseOne permanently deletes one record's member (POST
// …/members/{subscriber_hash}/actions/delete-permanent, 204): its data is
// erased and the address cannot be re-imported. A 404 (never added, or
// deleted before) is confirmed with the receipt NotFound.
func (d *Destination) eraseOne(ctx context.Context, r destination.Record) (destination.Result, error) {
	id := memberID(r)
	resp, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodPost,
		Path: d.listPath() + "/members/" + id + "/actions/delete-permanent"})
	var be *destination.BatchError
	if errors.As(err, &be) && be.Status == http.StatusNotFound {
		return destination.Result{RemoteID: id, Receipt: NotFound}, nil
	}
	if err != nil {
		return destination.Result{RemoteID: id}, err
	}
	return destination.Result{RemoteID: id, Receipt: "delete-permanent HTTP " + strconv.Itoa(resp.Status)}, nil
}
