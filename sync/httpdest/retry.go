package httpdest

import (
	"context"
	"errors"
	"time"

	"github.com/cdpkit/cdp/sync/destination"
)

// Retry calls step until it succeeds, fails for good, or attempts run out:
// for one step of a multi-request exchange whose repetition is harmless (a
// job's upload or close, a poll), so a transient failure does not throw
// away the steps before it. It waits 100ms, 200ms, 400ms… between attempts
// (capped at 2s), or what the vendor asked for (BatchError.RetryAfter, up
// to 10s). Fatal and non-retryable errors are returned at once.
func Retry(ctx context.Context, attempts int, step func() error) error {
	var err error
	wait := 100 * time.Millisecond
	for i := 0; i < max(attempts, 1); i++ {
		if err = step(); err == nil || destination.IsFatal(err) || !destination.IsRetryable(err) {
			return err
		}
		if i == attempts-1 {
			break
		}
		d := wait
		var be *destination.BatchError
		if errors.As(err, &be) && be.RetryAfter > 0 {
			d = min(be.RetryAfter, 10*time.Second)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
		wait = min(wait*2, 2*time.Second)
	}
	return err
}
