package iterable

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cdpkit/cdp/sync/destination"
	"github.com/cdpkit/cdp/sync/httpdest"
)

// Paths of the consent and erasure endpoints.
const (
	forgetPath          = "/api/users/forget"
	subscriptionsPrefix = "/api/subscriptions/messageChannel/"
)

// forgetRequest is the body of POST /api/users/forget: the user's email
// (email-based and hybrid projects) or userId (userID-based and hybrid).
type forgetRequest struct {
	Email  string `json:"email,omitempty"`
	UserID string `json:"userId,omitempty"`
}

// iterableResponse is IterableApiResponse: {msg, code, params}.
type iterableResponse struct {
	Msg  string `json:"msg"`
	Code string `json:"code"`
}

// privacy sends the erasures (GDPR forget) and unsubscribes (from the
// unsubscribe_channel_id message channel) still pending, one request per
// user, and records each confirmation's receipt.
func (a *attempt) privacy(ctx context.Context) error {
	for _, i := range a.pending(func(r destination.Record, p *progress) bool {
		return (r.Op == destination.OpErase || r.Op == destination.OpUnsubscribe) && !p.updated
	}) {
		r := a.batch[i]
		var rq httpdest.Request
		if r.Op == destination.OpErase {
			u := a.d.identify(r.Key)
			rq = httpdest.Request{Method: http.MethodPost, Path: forgetPath, JSON: forgetRequest{Email: u.Email, UserID: u.UserID}}
		} else {
			if a.d.channelID == 0 {
				a.fail(i, httpdest.RecordError(false, "iterable: unsubscribe needs unsubscribe_channel_id, the message channel to leave"))
				continue
			}
			by := "user"
			if a.d.identifier == IdentifierUserID {
				by = "byUserId"
			}
			rq = httpdest.Request{Method: http.MethodDelete,
				Path: subscriptionsPrefix + strconv.FormatInt(a.d.channelID, 10) + "/" + by + "/" + url.PathEscape(r.Key)}
		}
		resp, err := a.d.client.Do(ctx, rq)
		if err != nil {
			return err
		}
		var ir iterableResponse
		if json.Unmarshal(resp.Body, &ir) != nil || (ir.Code != "" && ir.Code != "Success") {
			return &destination.BatchError{Retryable: true, Status: resp.Status,
				Err: fmt.Errorf("iterable: %s %s: %d answer is not a Success: %s", resp.Method, resp.URL, resp.Status, httpdest.Snippet(resp.Body))}
		}
		a.confirm(i, fmt.Sprintf("%s %s: %s (%s)", rq.Method, rq.Path, ir.Code, ir.Msg))
	}
	return nil
}

// confirm records a confirmed privacy step of record i with its receipt.
func (a *attempt) confirm(i int, receipt string) {
	a.d.mu.Lock()
	defer a.d.mu.Unlock()
	a.prog[i].updated = true
	a.prog[i].receipt = receipt
}
