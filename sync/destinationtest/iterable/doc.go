// Package iterable is a local contract server of the Iterable API endpoints
// the iterable destination (sync/destinations/iterable) uses. It models one
// email-based project with a static list, keeps its users, list members,
// GDPR-forgotten users and field types in memory, and implements
// destinationtest.Vendor for the destination guarantee suite.
//
// # What it follows
//
//   - the Iterable API reference, https://api.iterable.com/api/docs, and
//     its OpenAPI document https://api.iterable.com/api-docs (as vendored
//     in github.com/Iterable/api-client, api-docs.json): POST
//     /api/users/bulkUpdate (BulkUpdateUsersRequest of OptionalApiUser; 4 MB
//     body; 5 requests/second per project), POST /api/lists/subscribe
//     (SubscribeRequest), POST /api/lists/unsubscribe (UnsubscribeRequest of
//     Unsubscriber), GET /api/users/getFields (3 requests/second), GET
//     /api/lists; the answer UserBulkUpdateListResponse with
//     FailedUserUpdates; errors as IterableApiResponse {msg, code, params};
//     the Api-Key header (securityDefinitions.api_key); POST
//     /api/users/forget ({email} or {userId}) and DELETE
//     /api/subscriptions/{subscriptionGroup}/{subscriptionGroupId}/user/{email}
//     (and …/byUserId/{userId})
//   - https://support.iterable.com/hc/en-us/articles/360029174171-Responding-to-GDPR-Requests
//     (forget deletes the user's data and blocks further data collection)
//   - https://support.iterable.com/hc/en-us/articles/204780579-API-Overview-and-Sample-Payloads
//     and https://support.iterable.com/hc/articles/29156459027348
//     (identifying users by email or userId, not both; preferUserId)
//   - https://support.iterable.com/hc/en-us/articles/208183076-Field-Data-Types
//     (a field's type is set by its first value; values of another type
//     fail the call)
//   - https://support.iterable.com/hc/en-us/articles/217744303-User-Profile-Fields-Used-by-Iterable
//     (the date format 2016-08-02 18:53:45 +00:00)
//
// # What it enforces
//
// A request that breaks the contract is answered in Iterable's error shape
// and recorded as a violation (Kit.Violation; with New it fails the test):
// an unknown path (404), a wrong method (405), no Api-Key header (401), a
// content type other than application/json, a body that is not one JSON
// value, members the reference does not list (the real API may ignore
// them), a bulkUpdate without users, with none or more than 1,000 of them,
// or a body above 4 MB (413), a user with neither or both of email and
// userId, dataFields that is not an object, a subscribe or unsubscribe
// without a positive integer listId or without subscribers.
//
// Answers that are Iterable's and no violation: a wrong or revoked key
// (401 BadApiKey; RevokeKey), an unknown list (400 BadParams,
// "error.lists.invalidListId"), a value whose type differs from the field's
// (400 RequestFieldsTypesMismatched with params.validationErrors keyed
// "<project>:::<field>"; nothing is applied), and per user in
// failedUpdates: a malformed email (invalidEmails), a GDPR-forgotten user
// (forgottenEmails; Forget), an unknown user on unsubscribe or with
// updateExistingUsersOnly (notFoundEmails). Beyond bulkUpdate's 5
// requests/second (a token bucket of 5; SetBulkRate) and getFields' 3 it
// answers 429 {"code": "RateLimitExceeded"}; Iterable documents no
// rate-limit headers, so Retry-After is sent only when the fault schedule
// asks for it.
//
// Faults come from destinationtest.Kit: 429 in Iterable's shape, 500,
// timeouts, dropped connections, and record faults: a rejected record is
// named in failedUpdates.invalidDataEmails (invalidEmails on unsubscribe);
// the transient draw is notFoundEmails on subscribe (which the destination
// retries) and, since bulkUpdate and unsubscribe have no transient
// per-user category, a rejection there.
//
// dataFields null clears a field (Audience omits it); numbers are held as
// float64. Audience(mirror) is the list's members; Audience(upsert) every
// user with an email.
//
// users/forget takes exactly one of email and userId; the user's profile
// and memberships are deleted and the identifier is forgotten (Forgotten),
// also when no user had it, answered {"msg", "code": "Success"}. The
// subscriptions DELETE takes a messageChannel group (emailList and
// messageType are not modelled) with a positive ID the project has
// (ChannelID; another is 400 InvalidChannelId); the user leaves that
// channel only (Unsubscribed); an unknown user is answered Success.
//
// # What it does not enforce
//
// Rate limits of users/forget and the subscriptions endpoints
// (undocumented), forget's ten-minute delay, per-user field limits (32k characters, 1,000 fields per project),
// unknown-field dropping (filteredOutFields) and createNewFields, nested
// objects and mergeNestedObjects, userID-based and hybrid project rules
// beyond storing userId users, list size and subscribe/unsubscribe body
// limits (undocumented), Iterable's exact email validation, asynchronous
// processing delays, JWT keys, and the statuses Iterable really answers for
// an unknown path or method (undocumented; 404 and 405 are used).
//
// New serves it on 127.0.0.1 for a test; Serve on any address for demos.
package iterable
