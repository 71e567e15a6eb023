// Package klaviyo is the "klaviyo" destination: it upserts the sync's
// records as Klaviyo profiles with bulk import jobs (JSON:API), waits for
// each job to finish before its records count as delivered, and in mirror
// mode keeps a list's membership equal to the audience.
//
// # Requests
//
// Every request carries `Authorization: Klaviyo-API-Key <api_key>`, the
// `revision` header (setting `revision`, default 2025-10-15) and JSON:API
// bodies (content-type and accept application/vnd.api+json).
//
//   - add, change: the batch's profiles go to POST /api/profile-bulk-import-jobs,
//     {data: {type: profile-bulk-import-job, attributes: {profiles: {data:
//     [{type: profile, attributes: {email, first_name, …, location: {…},
//     properties: {…}}}]}}, relationships: {lists: {data: [{type: list, id}]}}}}
//     — the list relationship only when list_id is set. A batch whose body
//     would pass 5 MB is split into several jobs; a profile over 100 KB is
//     rejected without being sent.
//   - the jobs are polled (GET /api/profile-bulk-import-jobs/{id}) every
//     poll_interval while queued or processing. A complete job's import
//     errors (GET …/{id}/import-errors, matched to records by
//     source.pointer or original_payload's email) are the records'
//     rejections; its profiles (GET …/{id}/profiles, matched by email) give
//     each record its profile ID, returned as Result.RemoteID. A cancelled
//     job leaves its records to be retried.
//   - null fields (null_values: send): the bulk import ignores nulls, so
//     after the job each such profile gets PATCH /api/profiles/{id} with the
//     attributes (or location keys) set to null and the custom properties
//     listed in meta.patch_properties.unset, Klaviyo's documented ways to
//     clear them.
//   - remove (mirror): DELETE /api/lists/{list_id}/relationships/profiles
//     with {data: [{type: profile, id}]}, 1,000 a request, by the stored
//     profile ID (Record.RemoteID); for a record without one, GET
//     /api/profiles?filter=any(email,[…]) finds it (a profile Klaviyo does
//     not have needs no removal). The profile itself is not deleted.
//   - unsubscribe (a withdrawn consent): POST
//     /api/profile-subscription-bulk-delete-jobs, 100 profiles a request,
//     each {type: profile, attributes: {email, subscriptions: {email:
//     {marketing: {consent: UNSUBSCRIBED}}}}}, with the list relationship
//     when list_id is set. This is Klaviyo's "unsubscribe from email
//     marketing"; suppression (profile-suppression-bulk-create-jobs) is
//     not used, as it blocks all email and is meant for bounces and
//     complaints.
//   - erase (cdp forget): POST /api/data-privacy-deletion-jobs, one person
//     a request, by Record.RemoteID when known, else by email (Klaviyo then
//     deletes every profile with it); spaced one a second, under the
//     endpoint's 60/m. Both privacy endpoints answer 202 with no body and
//     work asynchronously: the 202 is the confirmation, the receipt the job
//     type with "HTTP 202". Klaviyo does not report an unknown person, so
//     no erase is confirmed as not found.
//
// # Fields
//
// The record key is the profile's email. Destination fields name profile
// attributes (email, phone_number, external_id, first_name, last_name,
// organization, locale, title, image), location keys as location.<key>,
// and custom properties as properties.<name>: `ltv` mapped to
// `properties.ltv` is the profile's custom property ltv. String attributes
// are sent as text whatever the trait's type.
//
// # Jobs
//
// The destination is a destination.AsyncDestination: Submit sends the
// removals, unsubscribes and erasures and creates the jobs (the job ID is
// their Klaviyo IDs joined by commas, "none" when nothing is imported,
// then "|" and the privacy records' receipts URL-encoded by record index,
// so Poll returns them), Poll reads them, JobTiming is
// poll_interval and job_timeout. Everything Poll needs comes from the
// batch, so a later process can poll the jobs of a crashed one. Apply
// submits and polls until done, within job_timeout (the call's timeout in
// Capabilities); a throttled or failed poll is asked again after
// Retry-After or poll_interval. The job polls of all of a destination's
// batches are spaced at least 125 ms apart, under the endpoint's burst
// limit of 10/s. Klaviyo takes no idempotency key: a
// resubmitted batch is a second job, harmless since the import is an
// upsert.
//
// # Failures
//
// httpdest classifies answers: 429 (Klaviyo's throttle, with Retry-After)
// and 5xx are retried, 401 and 403 stop the run, other 4xx reject the
// batch. RateLimit-Reset, which Klaviyo sends on every response that is not
// a 429, is not taken as a wait.
//
// Vendor documentation followed:
//
//	https://developers.klaviyo.com/en/reference/bulk_import_profiles
//	https://developers.klaviyo.com/en/reference/get_bulk_import_profiles_job
//	https://developers.klaviyo.com/en/reference/get_errors_for_bulk_import_profiles_job
//	https://developers.klaviyo.com/en/reference/get_profiles_for_bulk_import_profiles_job
//	https://developers.klaviyo.com/en/reference/update_profile
//	https://developers.klaviyo.com/en/reference/get_profiles
//	https://developers.klaviyo.com/en/reference/bulk_unsubscribe_profiles
//	https://developers.klaviyo.com/en/reference/request_profile_deletion
//	https://developers.klaviyo.com/en/reference/remove_profiles_from_list
//	https://developers.klaviyo.com/en/docs/use_klaviyos_bulk_profile_import_api
//	https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling
//	https://developers.klaviyo.com/en/reference/api_overview
//	https://github.com/klaviyo/openapi (openapi/stable.json, revision 2025-10-15)
package klaviyo
