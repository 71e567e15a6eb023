// Package googledatamanager is a local contract server of the Google Data
// Manager API v1 methods the google_data_manager destination
// (sync/destinations/googledatamanager) calls, with a Google OAuth2 token
// endpoint, built from the API's protos (googleapis/googleapis,
// google/ads/datamanager/v1, Apache-2.0: ingestion_service.proto,
// audience.proto, user_data.proto, destination.proto, consent.proto,
// request_status_per_destination.proto, match_rate.proto, error.proto) and
// https://developers.google.com/data-manager/api/reference/rest.
//
// # What it enforces
//
//   - POST /token: a JWT-bearer grant (urn:ietf:params:oauth:grant-type:jwt-bearer)
//     signed RS256 by the service account's key (New writes its JSON key
//     file, KeyFile), issued by its client_email, for the datamanager
//     scope, addressed to this token_uri, living at most an hour;
//   - the bearer token it issued on every API call (401 UNAUTHENTICATED
//     otherwise, and after Revoke);
//   - POST /v1/audienceMembers:ingest and :remove with a proto3-JSON body
//     and no unknown field: one destination naming this operating account
//     (GOOGLE_ADS) and list (productDestinationId), encoding HEX,
//     validateOnly off, 1 to 10,000 audience members of 1 to 10 user
//     identifiers, each exactly one of a hex SHA-256 emailAddress or
//     phoneNumber or an address with hashed names, a two-letter region and
//     a postal code; ingest needs consent {adUserData, adPersonalization}
//     (the account serves EEA users), remove takes neither consent nor
//     terms of service;
//   - GET (or POST) /v1/requestStatus:retrieve?requestId= (404 NOT_FOUND for
//     an unknown request).
//
// A violation is recorded (through t.Errorf with New) and answered 400
// INVALID_ARGUMENT.
//
// # Requests
//
// An accepted request is applied at once (Data Manager processes it in the
// background whether or not anyone polls) and answered {requestId}; its
// status is PROCESSING for the first SetPollsToComplete-1 reads, then
// SUCCESS with record and identifier counts and, for an ingest,
// uploadMatchRateRange MATCH_RATE_RANGE_41_TO_50. FailNext makes requests
// end FAILED (PROCESSING_ERROR_REASON_INTERNAL_ERROR) without being
// applied. A member replaces those it shares an identifier with; a removal
// takes out every member with one of its identifiers. Audience reports the
// members by e-mail hash.
//
// # Faults
//
// The kit's schedule on API calls (not on the token endpoint): its 429 is
// RESOURCE_EXHAUSTED with a google.rpc.RetryInfo retryDelay; rejected
// records make the whole request a 400 INVALID_ARGUMENT whose
// google.rpc.BadRequest field violations name
// audience_members[n].user_data.user_identifiers[0] (nothing applied); a
// retry drawn for a request's first member makes the request end FAILED
// with an internal error (Data Manager has no transient per-member error:
// the whole request fails, and is not applied).
package googledatamanager
