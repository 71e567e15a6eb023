// Package hubspot is a local contract server of HubSpot's CRM v3 API, as
// far as the hubspot destination (sync/destinations/hubspot) uses it:
// contacts, their property definitions, and contact lists. Tests and demos
// point the destination at it and then look at what HubSpot would hold
// (Audience, Contact, Members). New serves one for a test; Serve one on any
// address for demos, printing nothing, with the token Token and the MANUAL
// list ListID.
//
// # What it enforces
//
// Every request needs `Authorization: Bearer <token>` (a missing header is
// a violation answered 401 INVALID_AUTHENTICATION; a wrong or revoked token
// gets the 401 without a violation), the documented method and path, and
// for bodies content-type application/json (415 otherwise). Bodies are
// decoded strictly: unknown members, trailing data, and values of the wrong
// JSON type are violations answered 400 VALIDATION_ERROR.
//
//	POST /crm/v3/objects/contacts/batch/upsert   inputs [{idProperty, id, properties, objectWriteTraceId}]
//	POST /crm/v3/objects/contacts/batch/update   inputs [{id, idProperty?, properties, objectWriteTraceId}]
//	POST /crm/v3/objects/contacts/batch/read     {inputs [{id}], properties, propertiesWithHistory, idProperty?}
//	POST /crm/v3/objects/contacts/gdpr-delete    {objectId, idProperty?}: 204, no body
//	GET  /crm/v3/objects/contacts                ?limit&after&properties (for demos)
//	GET  /crm/v3/properties/contacts             the property definitions
//	GET  /crm/v3/lists/{listId}                  {list: {listId, processingType, objectTypeId, size…}}
//	PUT  /crm/v3/lists/{listId}/memberships/add-and-remove  {recordIdsToAdd, recordIdsToRemove}
//	GET  /crm/v3/lists/{listId}/memberships      ?limit&after (for demos)
//
// Batches hold 1 to 100 inputs, each with an id, string property values
// (an empty string clears a property), an idProperty naming a unique
// property (email) for upserts, no repeated id or objectWriteTraceId.
// Membership changes take record IDs only, both arrays present.
//
// Per input, values are checked against the definitions (email, firstname,
// lastname, phone, lifecyclestage, the custom number ltv, bool vip and date
// signup_date; hs_object_id, createdate and lastmodifieddate are read-only):
// an unknown property fails the input with PROPERTY_DOESNT_EXIST, a
// read-only one with READ_ONLY_VALUE, a malformed number, boolean, option,
// date or email with INVALID_*, a value over 65,536 characters with
// INVALID_LENGTH; an update of a contact that does not exist with
// OBJECT_NOT_FOUND. When every input carries an objectWriteTraceId
// (multi-status error handling) the others are applied and the answer is
// 207 with status COMPLETE, results and errors whose context holds the
// input's ids and objectWriteTraceId; otherwise the first failure fails the
// whole batch with 400 and nothing is applied. Emails are stored lowercased;
// a removal from a list never deletes the contact.
//
// A GDPR delete takes objectId (a record ID, or with idProperty the value
// of email or another unique property), deletes the contact and its list
// memberships for good, blocklists its email and answers 204 with no body
// (Erased, Blocked). An email no contact has is blocklisted and answered
// 204 too, as HubSpot documents; a record ID no contact has is 404
// OBJECT_NOT_FOUND. Upserts do not yet refuse a blocklisted email.
//
// # Faults and limits
//
// The destinationtest.Kit's schedule applies to every valid request. Its
// throttles, and the burst limit set with SetBurstLimit, are answered with
// HubSpot's 429: {"status":"error","errorType":"RATE_LIMIT","policyName":…}
// (TEN_SECONDLY_ROLLING unless SetPolicy says SECONDLY or DAILY) and
// X-HubSpot-RateLimit-Remaining: 0. Every answer carries
// X-HubSpot-RateLimit-Daily, -Daily-Remaining, -Interval-Milliseconds, -Max
// and -Remaining; the rolling window is 10 s with Serve and 200 ms with New
// so that throttled tests stay fast. Record faults come out per input in
// the 207's errors: a rejection as VALIDATION_ERROR, a transient failure as
// LOCKED (modelled on HubSpot's 423 Locked).
//
// # Not enforced
//
// Scopes (crm.objects.contacts.write, crm.lists.write…), the daily limit
// other than through SetPolicy(DAILY), associations, archived contacts,
// merges and secondary emails, property history, HubSpot's exact wording of
// every message, and a limit on the record IDs of one membership change.
// LOCKED as a per-input category and the INVALID_* codes other than
// INVALID_EMAIL are modelled, not quoted from HubSpot.
//
// # References
//
//   - https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/upsert-contacts
//   - https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/update-contacts
//   - https://developers.hubspot.com/docs/api/crm/contacts
//   - https://developers.hubspot.com/docs/api-reference/legacy/crm/properties/get-properties
//   - https://developers.hubspot.com/docs/api-reference/crm-lists-v3/memberships/put-crm-v3-lists-listId-memberships-add-and-remove
//   - https://developers.hubspot.com/beta-docs/reference/api/crm/lists
//   - https://developers.hubspot.com/docs/api-reference/error-handling
//   - https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines
//   - https://developers.hubspot.com/docs/api-reference/crm-contacts-v3/basic/post-crm-v3-objects-contacts-gdpr-delete
package hubspot
