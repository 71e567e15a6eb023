// Package klaviyo is a local contract server of the Klaviyo API parts the
// klaviyo destination (sync/destinations/klaviyo) calls, built from
// Klaviyo's public API reference and OpenAPI description
// (https://github.com/klaviyo/openapi, openapi/stable.json):
//
//	https://developers.klaviyo.com/en/reference/bulk_import_profiles
//	https://developers.klaviyo.com/en/reference/get_bulk_import_profiles_job
//	https://developers.klaviyo.com/en/reference/get_errors_for_bulk_import_profiles_job
//	https://developers.klaviyo.com/en/reference/get_profiles_for_bulk_import_profiles_job
//	https://developers.klaviyo.com/en/reference/get_profile_ids_for_bulk_import_profiles_job
//	https://developers.klaviyo.com/en/reference/add_profiles_to_list
//	https://developers.klaviyo.com/en/reference/remove_profiles_from_list
//	https://developers.klaviyo.com/en/reference/update_profile
//	https://developers.klaviyo.com/en/reference/get_profiles
//	https://developers.klaviyo.com/en/reference/bulk_unsubscribe_profiles
//	https://developers.klaviyo.com/en/reference/request_profile_deletion
//	https://developers.klaviyo.com/en/docs/use_klaviyos_bulk_profile_import_api
//	https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling
//	https://developers.klaviyo.com/en/reference/api_overview
//
// # What it enforces
//
//   - paths and methods (404 and 405 otherwise; one trailing slash is
//     tolerated);
//   - `Authorization: Klaviyo-API-Key <key>` (401 not_authenticated; a wrong
//     or revoked key — Revoke — is a 401 that is not a violation);
//   - the `revision` header, YYYY-MM-DD[.suffix], 2024-10-15 or later;
//     an Accept admitting application/vnd.api+json; content-type
//     application/vnd.api+json on bodies (415 otherwise);
//   - JSON:API bodies with every required member and no unknown one
//     ("'x' is not a valid field for the resource 'profile'."), typed
//     attributes (strings, location latitude/longitude numbers or strings);
//   - bulk import: 1 to 10,000 profiles and at most 5 MB (413), lists that
//     exist; the job is queued, then processing, then complete over
//     DefaultPollsToComplete polls of GET …/{id}, and only then are its
//     profiles applied: upserted by id or email, non-null values set —
//     nulls are ignored, as Klaviyo's guide says the bulk import does not
//     clear fields — and added to the job's lists. Profiles without an
//     identifier, with a malformed email, an unknown id or over 100 KB fail
//     as import errors ({code, title, detail, source: {pointer:
//     /data/attributes/profiles/data/<n>…}, original_payload});
//   - import errors, job profiles and Get Profiles paginated (page[size] 1
//     to 100, an opaque page[cursor], absolute links.next), sparse
//     fieldsets checked;
//   - list relationships: 1 to 1,000 profiles a request; adding an unknown
//     profile is a 400, removing a non-member is ignored;
//   - Update Profile: at most 100 KB, data.id equal to the path's (409),
//     null clears an attribute or location key, meta.patch_properties.unset
//     removes custom properties;
//   - Bulk Unsubscribe Profiles (POST /api/profile-subscription-bulk-delete-jobs):
//     1 to 100 profiles {type: profile, attributes: {email, subscriptions:
//     {email: {marketing: {consent: UNSUBSCRIBED}}}}}, an optional list
//     relationship to a list that exists; each profile's email marketing
//     consent becomes UNSUBSCRIBED (Consent), an unknown email gets a new
//     unsubscribed profile, and the list loses them; 202 without a body;
//   - Request Profile Deletion (POST /api/data-privacy-deletion-jobs):
//     exactly one of email, phone_number or id in data.attributes.profile.data;
//     every matching profile is deleted, from the lists too (Erased); 202
//     without a body, also for an identifier no profile has;
//   - rate limits per endpoint in Klaviyo's two fixed windows, burst (1 s)
//     and steady (1 min), with the documented values (10/s and 150/m for the
//     bulk import and list endpoints, 75/s and 750/m for Update and Get
//     Profiles, 75/s and 700/m for Bulk Unsubscribe, 3/s and 60/m for
//     Request Profile Deletion; SetLimit changes them): 429 with Retry-After and a throttled
//     error; other answers carry RateLimit-Limit, RateLimit-Remaining and
//     RateLimit-Reset of the steady window.
//
// Errors are Klaviyo's JSON:API shape: {"errors": [{"id", "status", "code",
// "title", "detail", "source": {"pointer"}, "links", "meta"}]}. A request
// that breaks the contract is also recorded through the kit's Violation
// (failing the test with New).
//
// # Faults
//
// The destinationtest.Kit schedule applies to valid requests: 429s come out
// as Klaviyo's throttle (Retry-After when the schedule has one), 5xx and
// status faults with Klaviyo's error body, timeouts and drops as such.
// Record faults hit profiles when their job completes: both rejections and
// "retryable" draws become import errors, since Klaviyo documents no
// transient per-profile error.
//
// # Not enforced
//
// Scopes (every key has them all), consent and subscriptions other than
// email marketing unsubscription, SMS unsubscription, phone number
// formats, per-profile property limits, job expiry, the documented but
// unused endpoints (job lists, list members, profile creation), sorting
// other than by ID, filters other than equals/any on email, id,
// phone_number and external_id, meta.patch_properties append/unappend
// (refused as not modelled), and whether Klaviyo applies
// meta.patch_properties.unset inside a bulk import (accepted and ignored
// here). The 100 KB profile limit is measured on the re-encoded profile.
package klaviyo
