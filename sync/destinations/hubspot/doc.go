// Package hubspot is the "hubspot" destination: it writes a sync's records
// to HubSpot CRM contacts through the CRM v3 batch API, authenticated with
// a private app's access token (Authorization: Bearer), and in mode mirror
// keeps a static contact list equal to the audience.
//
// # Settings
//
//	access_token  required secret: the private app's token
//	id_property   the unique contact property the sync key is matched on (default email)
//	list_id       ILS ID of a MANUAL (or SNAPSHOT) contact list; required by mode mirror
//	base_url      default https://api.hubapi.com
//	batch_size    contacts per request, 1–100 (default 100)
//	rate_limit    default 10/s: a private app's 100 requests per 10 s on Free and Starter
//	concurrency   requests in flight (default 1, at most 10)
//	timeout       per request (default 30s)
//
// # Modes and operations
//
// upsert: add and change are one POST /crm/v3/objects/contacts/batch/upsert
// per batch, each input {idProperty: id_property, id: the record key,
// properties, objectWriteTraceId}. Contacts are created or updated.
//
// update: change is POST /crm/v3/objects/contacts/batch/update with the same
// inputs: contacts that exist are updated, a record without one is rejected
// (OBJECT_NOT_FOUND), nothing is created.
//
// mirror: add and change are upserted as above, then the contacts' record
// IDs are added to the list with PUT
// /crm/v3/lists/{list_id}/memberships/add-and-remove (recordIdsToAdd; a
// member already in it is left alone). remove takes the contact out of the
// list (recordIdsToRemove) and never deletes it. The record ID is the one
// the engine hands back (Record.RemoteID, from the Result.RemoteID of an
// earlier upsert); only when it knows none is it looked up by id_property
// with POST /crm/v3/objects/contacts/batch/read. A contact HubSpot no longer
// has is not in the list, so its removal is confirmed.
//
// erase (every mode) is one POST /crm/v3/objects/contacts/gdpr-delete per
// record: {objectId: key, idProperty: "email"} when id_property is email,
// {objectId: record ID} when the key is the record ID or the record ID is
// known, else {objectId: key, idProperty: id_property}. HubSpot permanently
// deletes the contact and answers 204 with no body; the receipt is
// "gdpr-delete <objectId> HTTP 204". A 404 (no contact has that record ID)
// is confirmed with the receipt "not found: nothing to erase"; by email
// HubSpot answers 204 even for an address it has no contact for (it
// blocklists it). A 429 or 5xx of the batch's first erase fails the batch
// (retried after the wait); of a later one leaves that erase and the rest
// retryable. unsubscribe is refused: the communication-preferences API needs
// a subscription type the destination does not know.
//
// Insert is not offered: a batch create fails as a whole when one contact
// exists, and a read before the create would race with other writers.
//
// # Values
//
// Mapped fields are contact property names. Values are sent as HubSpot's
// property text: strings as they are, numbers in plain decimal, booleans
// true or false, times as ISO 8601 in UTC with milliseconds. A nil field
// (null_values: send) is sent as "", which clears the property; the id
// property is never cleared. A value over 65,536 characters, or a NaN or
// infinite number, rejects that record without sending it.
//
// # Answers
//
// Every input carries an objectWriteTraceId derived with
// destination.RecordKey from the sync and the record's key, operation and
// fields hash, so a resend carries the same ID and HubSpot answers partial
// failures per contact (multi-status): 200 or 207 with results, matched by
// objectWriteTraceId (or the id property's value), and errors, matched by
// the objectWriteTraceId or ids of their context. A result's id (the
// contact's record ID, hs_object_id) becomes Result.RemoteID. Per-contact
// errors of category LOCKED, RATE_LIMITS, CONFLICT or INTERNAL_ERROR are
// retryable, others (VALIDATION_ERROR with PROPERTY_DOESNT_EXIST,
// INVALID_EMAIL…, OBJECT_NOT_FOUND) reject the record with HubSpot's
// message. An input answered neither way is retried.
//
// A request that fails as a whole returns httpdest's *BatchError: 429 is
// retryable and throttled — with no Retry-After, policyName SECONDLY waits a
// second and TEN_SECONDLY_ROLLING the X-HubSpot-RateLimit-Interval-
// Milliseconds window (at most 10 s); policyName DAILY, 401 and 403 stop the
// run; 5xx and timeouts are retried; a 404 or 400 of the list endpoint
// (list_id missing, or not a MANUAL/SNAPSHOT list) stops the run; another
// 4xx rejects the batch. In mirror a failed membership change resends the
// whole batch, whose upserts are idempotent.
//
// CheckFields (destination.SchemaChecker) reads GET /crm/v3/properties/contacts
// and reports mapped fields that do not exist, are read-only or whose type
// does not fit the trait's, an id_property that is not unique, and in
// mirror a list_id that is not a MANUAL or SNAPSHOT contact list
// (GET /crm/v3/lists/{list_id}).
//
// # HubSpot documentation
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
//
// sync/destinationtest/hubspot is a local server that enforces this
// contract.
package hubspot
