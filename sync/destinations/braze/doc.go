// Package braze is the "braze" destination: it writes warehouse records to
// Braze user profiles through the REST API and, in mirror mode, keeps the
// members of one subscription group.
//
// # Settings
//
//	api_key                required; REST API key (users.track, and
//	                       subscription.status.set for mirror), sent as
//	                       Authorization: Bearer <api_key>
//	base_url               required; the workspace's REST endpoint, which
//	                       depends on its instance: https://rest.iad-01.braze.com
//	                       (US-01), https://rest.fra-01.braze.eu (EU-01), …
//	                       There is no default, so a workspace on another
//	                       instance is never written to the wrong one.
//	identifier             email (default) or external_id: what the record
//	                       key is at Braze
//	subscription_group_id  the group mirror mode keeps (required for mirror),
//	                       and the one unsubscribes leave
//	batch_size             attributes objects per request, 1–75 (default 75)
//	rate_limit             default 40/s (see Limits)
//	concurrency, timeout   default 4 and 30s
//
// # Modes and operations
//
// upsert: add and change send the record as a user attributes object in
// POST /users/track: {"attributes": [{"email": key, field: value, …}]} (or
// "external_id": key). Fields keep their names: Braze's standard profile
// fields (first_name, email, country, …) are set as such, any other name is
// a custom attribute. A nil field (null_values: send) is sent as null,
// which removes the attribute, standard or custom. Times are ISO 8601 in
// UTC. Removes are not sent (upsert declares no remove).
//
// mirror: add and change are written as in upsert, then the records Braze
// accepted are subscribed to subscription_group_id with POST
// /v2/subscription/status/set {"subscription_groups": [{"subscription_group_id",
// "subscription_state": "subscribed", "emails" | "external_ids": […]}]};
// remove sends "subscription_state": "unsubscribed" for the record and
// nothing else: the profile and its attributes stay. Subscribed and
// unsubscribed users share requests, at most 50 users per request.
//
// unsubscribe (a withdrawn consent): with subscription_group_id, the person
// is unsubscribed from the group with /v2/subscription/status/set (in any
// mode); without it, POST /users/track sets the profile's global
// email_subscribe to "unsubscribed" with _update_existing_only, so no
// profile is created. The receipt names the request.
//
// erase (cdp forget): POST /users/delete, one request per person, naming
// it by external_id or by email with the prioritization
// ["most_recently_updated"] Braze requires for emails. The receipt is
// Braze's deleted count; a count of 0 is confirmed with the receipt "not
// found: nothing to erase". The API key needs users.delete.
//
// # Responses
//
// Braze answers /users/track with {"message": "success",
// "attributes_processed": N, "errors": [{"type", "input_array":
// "attributes", "index"}]}: the object at index is rejected with type as
// the message, every other object is confirmed. A 400 whose errors name
// objects (every object was invalid) rejects those and leaves the rest
// retryable. An error Braze does not attribute to an object makes the
// unnamed objects retryable. Braze documents no transient per-object
// error, so every named object is a rejection (retried by the next run).
//
// Whole-request failures follow sync/httpdest: 429 is retryable and
// throttled, after the X-RateLimit-Reset (UTC epoch seconds) Braze sends;
// 401 (unknown or revoked key), 403 (plan or account) and 404 (Braze's
// answer to an unknown key, or a wrong base_url) stop the run; 5xx and
// timeouts are retryable; other 4xx reject the batch. Any failure of the
// requests of one Apply fails the whole batch, which is resent as a whole:
// every request is idempotent. Braze returns no object ID, so Results
// carry no RemoteID, and takes no idempotency key.
//
// # Limits
//
// 75 attributes objects per /users/track request; 3,000 /users/track
// requests per 3 seconds per workspace; 4 MB per request body (a batch
// whose body would be larger is split over several requests, a single
// object over the limit is rejected); 50 users per
// /v2/subscription/status/set request and 5,000 requests per minute. The
// default rate_limit of 40 Apply calls per second keeps mirror's
// subscription requests under their limit; upsert alone may go far higher.
//
// Braze's REST API has no endpoint listing custom attributes with their
// types, so the destination does not implement destination.SchemaChecker.
//
// # Vendor documentation
//
//   - https://www.braze.com/docs/api/endpoints/user_data/post_user_track/
//   - https://www.braze.com/docs/api/objects_filters/user_attributes_object/
//   - https://www.braze.com/docs/api/endpoints/subscription_groups/post_update_user_subscription_group_status_v2/
//   - https://www.braze.com/docs/api/api_limits/
//   - https://www.braze.com/docs/api/errors/
//   - https://www.braze.com/docs/api/basics/#endpoints
//   - https://www.braze.com/docs/api/endpoints/user_data/ (the 4 MB limit)
//   - https://www.braze.com/docs/api/endpoints/user_data/post_user_delete/
//
// sync/destinationtest/braze is a local contract server of these endpoints.
package braze
