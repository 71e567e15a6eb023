// Package iterable is the "iterable" destination: it writes records as
// Iterable user profiles and, with a static list, keeps the list's members.
//
// # Settings
//
//	api_key              required; a server-side API key, sent as `Api-Key: <key>`
//	list_id              a static list; required by mirror
//	identifier           email (default) or userId: what the record key is
//	campaign_id          attributes list unsubscribes to a campaign (optional)
//	channel_unsubscribe  false (default); true also unsubscribes removed users
//	                     from the list's channel (a global unsubscribe)
//	unsubscribe_channel_id  the message channel a withdrawn consent leaves;
//	                     without it unsubscribe is not declared
//	base_url             https://api.iterable.com (US, default) or
//	                     https://api.eu.iterable.com (EU projects)
//	batch_size           users per request, 1–1000 (default 1000)
//	rate_limit           default 5/s: bulkUpdate's limit per project
//	concurrency          default 1 (at most 5)
//	timeout              per request (default 30s)
//
// # Modes and what each operation sends
//
// upsert (add, change):
//
//	POST /api/users/bulkUpdate {"users": [{"email": <key>, "dataFields": {…}}]}
//	POST /api/lists/subscribe  {"listId": <list_id>, "subscribers": [{"email": <key>}]}   (only with list_id)
//
// mirror (add, change, remove):
//
//	add, change: as upsert (the subscribe always, list_id is required)
//	remove:      POST /api/lists/unsubscribe {"listId": <list_id>, "subscribers": [{"email": <key>}]}
//
// unsubscribe (a withdrawn consent; needs unsubscribe_channel_id) and
// erase (cdp forget), one request per user, in any mode:
//
//	unsubscribe: DELETE /api/subscriptions/messageChannel/<unsubscribe_channel_id>/user/<key>   (…/byUserId/<key>)
//	erase:       POST /api/users/forget {"email": <key>}   ({"userId": <key>})
//
// The channel unsubscribe leaves the user's other subscriptions as they
// are; users/updateSubscriptions is not used because it replaces the whole
// unsubscribedChannelIds array. users/forget is Iterable's GDPR primitive:
// it deletes the user's data and blocks further data about the identifier
// (the plain DELETE /api/users/{email} does not block it). Iterable answers
// both with {"msg", "code": "Success"} whether or not it held the user, so
// no erase is confirmed as not found; the receipt is the request with
// Iterable's code and msg.
//
// mergeNestedObjects, createNewFields and updateExistingUsersOnly are not
// sent (Iterable's defaults apply: top-level objects are overwritten, the
// project's setting decides about new fields, subscribe creates unknown
// users). A removed record leaves the list; its user profile is never deleted. With
// identifier userId, users are sent as {"userId": <key>, "preferUserId":
// true} (so that bulkUpdate creates users it does not know) and a mapped
// `email` field goes into dataFields.
//
// # Fields
//
// The key is the user's identifier, sent at the top level; every other
// mapped destination field goes into dataFields under its name (the guarantee
// suite maps first_name to firstName and ltv to ltv). Integers are sent as
// JSON integers and other numbers always with a decimal point (120 as
// 120.0): Iterable types a new field by its first value (long or double) and
// refuses values of another type later. Times are sent in Iterable's date
// format "2006-01-02 15:04:05 +00:00", in UTC. A nil field (null_values:
// send) is sent as JSON null, Iterable's way of clearing a profile field;
// with null_values: skip it is absent and the profile keeps its value.
//
// # Answers
//
// bulkUpdate, subscribe and unsubscribe answer {successCount, failCount,
// failedUpdates: {conflictEmails, forgottenEmails, invalidDataEmails,
// invalidEmails, notFoundEmails, and the same for userIds}}; each named user
// is a per-record result:
//
//	forgottenEmails     rejected (not retryable), so never resent within the
//	                    run: the user was GDPR-forgotten and Iterable refuses
//	                    it for good (the engine's later runs resend rejected
//	                    records; Iterable refuses them again)
//	invalidEmails       rejected (malformed identifier)
//	invalidDataEmails   rejected (invalid dataFields)
//	conflictEmails      rejected (identity conflict with another user)
//	notFoundEmails      subscribe: retried; unsubscribe: confirmed (a user
//	                    Iterable does not know is in no list)
//
// A user only in the deprecated top-level invalidEmails is rejected; an
// answer whose failCount is larger than the users it names confirms nothing
// (a retryable batch error). A 400 RequestFieldsTypesMismatched (a value
// does not fit the type of an existing field) fails the whole request at
// Iterable: the users holding the offending values (from
// params.validationErrors) are rejected and the others sent again.
//
// Whole-request failures: 429, or any answer with code RateLimitExceeded,
// is throttling (retried after Retry-After when sent, else a backoff); 401,
// 403 and a 400 with code BadApiKey stop the run; a message naming
// error.lists.invalidListId (list_id does not exist) stops the run; 5xx,
// timeouts and dropped connections are retried; other 4xx reject the batch.
// Iterable takes no idempotency key: every request is an idempotent upsert
// or membership change, so a retried batch converges to the same state.
//
// A batch is at most batch_size (≤ 1000) users; a bulkUpdate body above
// 4 MB is split into several requests, and a single user above it is
// rejected. Apply remembers, within a run, which steps (bulkUpdate,
// subscribe, unsubscribe) Iterable already confirmed for each record, so a
// batch retried after its second request failed resends only what is left.
//
// CheckFields (cdp sync check) reads GET /api/users/getFields and reports
// mapped fields whose existing Iterable type cannot hold the trait's values.
//
// # Vendor documentation followed
//
//   - https://api.iterable.com/api/docs (the OpenAPI document
//     https://api.iterable.com/api-docs): users/bulkUpdate (4 MB body,
//     5 requests/second per project), lists/subscribe, lists/unsubscribe,
//     users/getFields (3 requests/second), IterableApiResponse codes,
//     UserBulkUpdateListResponse and FailedUserUpdates
//   - https://support.iterable.com/hc/en-us/articles/204780579-API-Overview-and-Sample-Payloads
//     (base URLs, the Api-Key header, identifying users)
//   - https://support.iterable.com/hc/articles/29156459027348 (email- and
//     userID-based projects, preferUserId)
//   - https://support.iterable.com/hc/en-us/articles/208183076-Field-Data-Types
//     (a field's type is set by its first value and cannot change)
//   - https://support.iterable.com/hc/en-us/articles/217744303-User-Profile-Fields-Used-by-Iterable
//     (the date format, the fields Iterable manages)
//
// sync/destinationtest/iterable is a local contract server of these
// endpoints.
package iterable
