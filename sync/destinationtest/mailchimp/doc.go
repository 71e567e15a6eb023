// Package mailchimp is a local contract server of the Mailchimp Marketing
// API (version 3.0) for the mailchimp destination
// (sync/destinations/mailchimp). It implements destinationtest.Vendor, so
// the destination guarantee suite can drive it, and holds one audience
// (ListID) with the merge fields FNAME, LNAME (text), PHONE (phone) and
// LTV (number).
//
// It follows these pages of Mailchimp's public reference:
//
//   - https://mailchimp.com/developer/marketing/api/lists/batch-subscribe-or-unsubscribe/
//     (POST /3.0/lists/{list_id}: members, update_existing, sync_tags;
//     skip_merge_validation and skip_duplicate_check; the response's
//     new_members, updated_members, errors[{email_address, error,
//     error_code, field, field_message}], total_created, total_updated,
//     error_count)
//   - https://mailchimp.com/developer/marketing/api/list-members/archive-list-member/
//     and …/get-member-info/ (DELETE and GET
//     /3.0/lists/{list_id}/members/{subscriber_hash})
//   - https://mailchimp.com/developer/marketing/api/list-members/delete-list-member/
//     (POST /3.0/lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent)
//   - https://mailchimp.com/developer/marketing/api/list-merges/list-merge-fields/
//     (GET /3.0/lists/{list_id}/merge-fields with count ≤ 1000 and offset)
//   - https://mailchimp.com/developer/marketing/docs/merge-fields/ (types;
//     a field is cleared with "")
//   - https://mailchimp.com/developer/marketing/docs/fundamentals/ (API-key
//     basic auth with any user name, OAuth bearer tokens, the data center in
//     the key's -usNN suffix, the limit of 10 simultaneous connections)
//   - https://mailchimp.com/developer/marketing/docs/errors/ (problem+json
//     errors {type, title, status, detail, instance})
//   - the machine-readable definition behind Mailchimp's SDKs
//     (github.com/mailchimp/mailchimp-client-lib-codegen, spec/marketing.json;
//     the generated mailchimp-marketing-typescript-sdk types of the batch
//     request and response, error codes ERROR_CONTACT_EXISTS and ERROR_GENERIC)
//
// What it enforces, answering as Mailchimp does and recording a contract
// violation (Kit.Violation, which fails the test):
//
//   - Authorization: Basic with the key as password, or Bearer; a missing or
//     malformed header is 401 API Key Missing (a violation), a wrong or
//     revoked key 401 API Key Invalid (not a violation: RevokeKey tests it);
//   - paths /3.0/lists/{list_id}, …/merge-fields, …/members/{hash} and their
//     methods (404 Resource Not Found, 405 Method Not Allowed), a known list;
//   - the batch body: content-type application/json, valid JSON with no
//     unknown members, members present with 1 to 500 entries, each with
//     email_address, status or status_if_new from Mailchimp's enum, only the
//     documented member properties, merge_fields an object whose values are
//     not null (Mailchimp clears with ""), tags non-empty strings;
//   - more than 10 requests at once: the next one is answered 429 Too Many
//     Requests in Mailchimp's problem shape.
//
// Per-member outcomes come back in the batch response's errors, never as
// violations: an unknown merge tag or a value the field's type refuses
// ("Your merge fields were invalid."), a required merge field without value,
// an address that looks invalid, a duplicate address in one request, an
// existing member without update_existing (ERROR_CONTACT_EXISTS), a new
// member without a status.
//
// Members: status_if_new applies to a new (or archived) member, status to
// any member (to an existing one only with update_existing); merge values
// are kept per tag (numbers as numbers, "" removes); tags are added (replaced
// with sync_tags). DELETE archives (204), a second DELETE or one of an
// unknown member is 404. POST …/actions/delete-permanent erases the member
// (204; Deleted reports it) and the batch call refuses the address from
// then on ("… was permanently deleted and cannot be re-imported"); an
// unknown or deleted member is 404. The subscriber hash is the MD5 of the lower-cased
// email; the email address itself is accepted in its place.
//
// Options.Latency holds each admitted request a while, so concurrent
// clients overlap as over the Internet (for connection-limit tests).
//
// Faults come from destinationtest.Kit: the 429 is Mailchimp's problem
// document (with Retry-After when the schedule sets one, which Mailchimp
// itself does not send); RejectRate and RetryableRecordRate both come out
// as per-member errors with ERROR_GENERIC, since Mailchimp has no transient
// per-member error.
//
// Not enforced: Mailchimp's request body size (it documents none; the server
// reads at most 32 MiB), the 120-second server-side timeout, interests,
// marketing permissions, location and the other member properties beyond
// their JSON types, the formats of date, birthday, phone, url, zip and
// address merge fields, the compliance states (a cleaned or self-unsubscribed
// contact can be resubscribed here), and the bare 403 Mailchimp may send under
// exceptional load.
package mailchimp
