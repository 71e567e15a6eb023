// Package mailchimp is the "mailchimp" destination: it keeps the members of
// one Mailchimp audience (a list) up to date through the Marketing API 3.0.
//
// # Fields
//
// The record key is the member's email address (the sync's key should be
// the email, mapped to email_address or not mapped at all). Every other
// destination field name is a merge tag of the audience and goes into the
// member's merge_fields: map the first name to FNAME, a lifetime value to a
// number merge field such as LTV. Values: strings as they are, numbers as
// JSON numbers, booleans as "true"/"false", times at midnight UTC as
// YYYY-MM-DD (date merge fields) and other times as RFC 3339 in UTC. With
// null_values: send a nil field is sent as "", which is how Mailchimp clears
// a merge field. CheckFields (`cdp sync check`) reads the audience's merge
// field definitions (GET /3.0/lists/{list_id}/merge-fields, 1000 per page)
// and reports unknown tags, type mismatches and unmapped required fields;
// Mailchimp itself refuses unknown merge fields member by member.
//
// # Modes and operations
//
// One Apply is one batch subscribe call, POST /3.0/lists/{list_id} with
// {members: […], update_existing: true} (at most 500 members), followed in
// mirror mode by the archive requests of the removed records:
//
//	upsert  add, change  members[] {email_address, status_if_new: <new_status>,
//	                     merge_fields, tags}: new members get new_status
//	                     (default subscribed), existing ones keep their status
//	mirror  add, change  members[] {email_address, status: subscribed,
//	                     merge_fields, tags}: the list's subscribed members are
//	                     the audience, so a member written is subscribed
//	        remove       removal: archive (default): DELETE
//	                     /3.0/lists/{list_id}/members/{subscriber_hash}, one per
//	                     member; a 404 (not or no longer in the list) counts as
//	                     done. removal: unsubscribe: members[] {email_address,
//	                     status: unsubscribed} in the batch call (an address
//	                     Mailchimp does not hold is added as unsubscribed).
//	any     unsubscribe  members[] {email_address, status: unsubscribed} in the
//	                     batch call; the receipt names the member
//	        erase        POST /3.0/lists/{list_id}/members/{subscriber_hash}/
//	                     actions/delete-permanent, one per member (204, receipt
//	                     "delete-permanent HTTP 204"); the contact's data is
//	                     erased and the address cannot be re-imported. A 404
//	                     is confirmed with the receipt "not found: nothing to
//	                     erase".
//
// Mailchimp answers the batch call 200 with new_members, updated_members and
// errors [{email_address, error, error_code, field, field_message}]; errors
// are mapped to their records by email address (case-insensitively) and are
// rejections (Mailchimp has no transient per-member error); a record listed
// neither as a member nor as an error is retried. The member's id (the
// subscriber hash: MD5 of the lower-cased email) is the record's RemoteID and
// addresses the archive request. Two records with the same address in one
// batch: the second is retried alone.
//
// Mailchimp takes no idempotency key; the batch call is an upsert and
// archiving is idempotent (a repeated archive is a 404, counted as done), so
// resending a batch after a crash or retry is harmless.
//
// # Limits and failures
//
// An account may hold 10 connections at once and Mailchimp documents no
// request rate limit: concurrency is at most 10, rate_limit has no default,
// and one Apply runs at most 10/concurrency archive requests at a time. A 429
// (one connection too many) is retryable and throttled; so is a 403 without a
// JSON body, Mailchimp's throttle "at exceptionally high volumes". A 401 or a
// 403 with a problem document (revoked key, disabled account, wrong data
// center) is fatal, and so is a 404 of the batch call (no such list_id). 5xx,
// timeouts and dropped connections are retryable. When the first request of a
// batch fails retryably nothing was applied and the whole batch is retried;
// once something was applied, a failed archive request is that record's
// result, and after a throttle the rest of the batch's archive requests wait
// for the retry.
//
// # Authentication
//
// api_key: HTTP basic auth with the key as password; the API host is
// https://<dc>.api.mailchimp.com from the key's -<dc> suffix unless base_url
// is set. access_token: an OAuth token sent as a bearer token; it needs
// base_url.
//
// Vendor documentation followed:
//
//   - https://mailchimp.com/developer/marketing/api/lists/batch-subscribe-or-unsubscribe/
//   - https://mailchimp.com/developer/marketing/api/list-members/archive-list-member/
//   - https://mailchimp.com/developer/marketing/api/list-merges/list-merge-fields/
//   - https://mailchimp.com/developer/marketing/docs/merge-fields/
//   - https://mailchimp.com/developer/marketing/docs/fundamentals/
//   - https://mailchimp.com/developer/marketing/docs/errors/
//
// sync/destinationtest/mailchimp is a local contract server of these pages.
package mailchimp
