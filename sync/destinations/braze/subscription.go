package braze

import (
	"context"
	"net/http"

	"github.com/cdpkit/cdp/sync/httpdest"
)

// Subscription states of /v2/subscription/status/set.
const (
	stateSubscribed   = "subscribed"
	stateUnsubscribed = "unsubscribed"
)

// subscriptionGroup is one entry of a /v2/subscription/status/set body.
type subscriptionGroup struct {
	GroupID     string   `json:"subscription_group_id"`
	State       string   `json:"subscription_state"`
	ExternalIDs []string `json:"external_ids,omitempty"`
	Emails      []string `json:"emails,omitempty"`
}

// subscriptionBody is the request body.
type subscriptionBody struct {
	Groups []subscriptionGroup `json:"subscription_groups"`
}

// change is one user's new state in the group.
type change struct{ key, state string }

// setSubscriptions subscribes and unsubscribes users of the group, naming
// them by the identifier (emails or external_ids), at most
// MaxSubscriptionIDs per request, each request with up to one subscribed
// and one unsubscribed entry.
func (d *Destination) setSubscriptions(ctx context.Context, subscribe, unsubscribe []string) error {
	changes := make([]change, 0, len(subscribe)+len(unsubscribe))
	for _, k := range subscribe {
		changes = append(changes, change{k, stateSubscribed})
	}
	for _, k := range unsubscribe {
		changes = append(changes, change{k, stateUnsubscribed})
	}
	for start := 0; start < len(changes); start += MaxSubscriptionIDs {
		part := changes[start:min(start+MaxSubscriptionIDs, len(changes))]
		if _, err := d.client.Do(ctx, httpdest.Request{Method: http.MethodPost, Path: subscriptionPath,
			JSON: d.subscriptionBody(part)}); err != nil {
			return err
		}
	}
	return nil
}

// subscriptionBody groups changes by state, subscribed first.
func (d *Destination) subscriptionBody(part []change) subscriptionBody {
	var body subscriptionBody
	for _, state := range []string{stateSubscribed, stateUnsubscribed} {
		g := subscriptionGroup{GroupID: d.group, State: state}
		var ids []string
		for _, c := range part {
			if c.state == state {
				ids = append(ids, c.key)
			}
		}
		if len(ids) == 0 {
			continue
		}
		if d.identifier == IdentifierExternalID {
			g.ExternalIDs = ids
		} else {
			g.Emails = ids
		}
		body.Groups = append(body.Groups, g)
	}
	return body
}
