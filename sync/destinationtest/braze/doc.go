// Package braze is a local contract server of the Braze REST API endpoints
// the braze destination (sync/destinations/braze) uses, built from Braze's
// public API reference:
//
//   - POST /users/track: https://www.braze.com/docs/api/endpoints/user_data/post_user_track/
//     and the user attributes object,
//     https://www.braze.com/docs/api/objects_filters/user_attributes_object/
//   - POST /v2/subscription/status/set:
//     https://www.braze.com/docs/api/endpoints/subscription_groups/post_update_user_subscription_group_status_v2/
//   - POST /users/delete: https://www.braze.com/docs/api/endpoints/user_data/post_user_delete/
//   - rate limits and their headers: https://www.braze.com/docs/api/api_limits/
//   - errors and responses: https://www.braze.com/docs/api/errors/
//   - the 4 MB body limit: https://www.braze.com/docs/api/endpoints/user_data/
//
// # What it enforces
//
// Every request: POST, Authorization: Bearer <REST API key> (a missing
// header is a violation answered 401; a wrong key is answered 401
// {"message": "Invalid API key"} without one, which is how a revoked key
// looks), content-type application/json, a JSON body of at most 4 MB (413
// beyond). Unknown paths are answered 404.
//
// /users/track: a body with only attributes (events and purchases are not
// modelled, other members are refused), 1 to 75 attributes objects
// (400 "Max Input Length Exceeded" beyond); each object identified by
// external_id or email (braze_id, user_alias and phone-only objects are
// not modelled). An object without an identifier gets Braze's non-fatal
// error and is also recorded as a violation; an invalid email gets a
// non-fatal error only. Answers are Braze's: 201 {"message": "success",
// "attributes_processed": N, "errors": [{"type", "input_array":
// "attributes", "index"}]}, and 400 {"message": "Valid data must be
// provided…", "errors": […]} when no object was valid. A null value
// removes the attribute; an email names the latest profile with that email
// (one with an external_id first) or creates an email-only profile, as the
// FAQ of /users/track describes.
//
// /v2/subscription/status/set: {"subscription_groups": [{"subscription_group_id",
// "subscription_state": "subscribed" | "unsubscribed", "external_ids" |
// "emails", "use_double_opt_in_logic"}]} with no other members, emails and
// phones never together, at most 50 users per request ("The max number of
// ids per request was exceeded"); an unknown group is answered 400 without
// a violation (a configuration error). Emails update every profile with
// the email.
//
// /users/delete: exactly one of external_ids, user_aliases, braze_ids,
// email_addresses, phone_numbers (only external_ids and email_addresses
// are modelled), 1 to 50 identifiers; each email_addresses entry is
// {"email", "prioritization"} with an ordered prioritization of
// identified | unidentified | most_recently_updated (not both of the first
// two). The profiles named are removed from the store and the answer is
// 201 {"deleted": N, "message": "success"}, N the profiles deleted (an
// email whose prioritization leaves several profiles deletes none). An
// email_subscribe attribute of /users/track must be opted_in, subscribed
// or unsubscribed.
//
// Rate limits: 3,000 /users/track requests per 3 seconds and 5,000
// subscription requests per minute and 20,000 /users/delete requests per
// minute, as fixed windows (SetEndpointLimit
// changes them). Every admitted answer carries X-RateLimit-Limit,
// X-RateLimit-Remaining and X-RateLimit-Reset (UTC epoch seconds); beyond
// the limit, and for the fault schedule's 429s, the answer is 429 with
// X-RateLimit-Remaining: 0 and the reset time (Faults.RetryAfter after now,
// or the next whole second). Braze sends no Retry-After.
//
// Record faults: RejectRate and RetryableRecordRate both come out as
// non-fatal errors[{index}] (Braze has no transient per-object error), and
// the object is not applied.
//
// # What it does not enforce
//
// Events, purchases, aliases, braze_id, phone identification, push tokens
// and nested-attribute operations ("inc", "add", "remove"); attribute value
// limits (string length, array sizes, date formats); the workspace's
// data-point accounting; "Update Only" semantics beyond skipping unknown
// profiles; Braze's eventual consistency between endpoints (writes apply at
// once); the exact wording of Braze's error messages, which the docs do not
// fully give; the Monthly Active Users CY 24-25 limits.
//
// New serves one on 127.0.0.1 for a test; Serve on any address for demos.
package braze
