package mailchimp

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"sync"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

var hashRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// archive archives the members of the records at idx, d.parallel requests
// at a time. When nothing of the batch was applied yet (applied false), the
// first request goes alone and its retryable or fatal failure is the whole
// batch's, so delivery sees Mailchimp's throttle and waits as asked. Later
// failures are per record; after a throttle or a fatal answer nothing more
// is sent, and a fatal answer stops the run.
func (d *Destination) archive(ctx context.Context, batch []destination.Record, idx []int, results []destination.Result, applied bool) error {
	if !applied {
		i := idx[0]
		id, err := d.archiveOne(ctx, batch[i])
		if stopsBatch(err) {
			return err
		}
		results[i] = archiveResult(id, err)
		idx = idx[1:]
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		fatal    error
		stopped  error
		sem      = make(chan struct{}, d.parallel)
		notTried = func(i int, cause error) {
			results[i] = httpdest.RecordError(true, "mailchimp: not archived: an earlier request of the batch failed: %v", cause)
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
			id, err := d.archiveOne(ctx, batch[i])
			mu.Lock()
			defer mu.Unlock()
			results[i] = archiveResult(id, err)
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
func (d *Destination) archiveOne(ctx context.Context, r destination.Record) (string, error) {
	id := r.RemoteID
	if !hashRe.MatchString(id) {
		id = SubscriberHash(r.Key)
	}
	_, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodDelete, Path: d.listPath() + "/members/" + id})
	var be *destination.BatchError
	if errors.As(err, &be) && be.Status == http.StatusNotFound {
		return id, nil
	}
	return id, err
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

// archiveResult is the result of one archive request.
func archiveResult(id string, err error) destination.Result {
	if err == nil {
		return destination.Result{RemoteID: id}
	}
	return destination.Result{Err: err, Retryable: destination.IsRetryable(err)}
}
