// Package intercom is the "intercom" destination: it writes the sync's
// records as Intercom contacts (users or leads) through Intercom's REST API,
// and in mirror mode keeps a tag on exactly the audience.
//
// # Settings
//
//	access_token  required; sent as Authorization: Bearer <token>
//	region        us (api.intercom.io, default), eu (api.eu.intercom.io),
//	              au (api.au.intercom.io); base_url overrides it
//	api_version   the Intercom-Version header, 2.7–2.16 (default 2.11)
//	role          user (default) or lead: the role contacts are created
//	              with and looked up by
//	tag_id        the tag marking the audience; required by mirror
//	batch_size    records per Apply call, 1–100 (default 50)
//	concurrency   contacts written at once, 1–16 (default 4)
//	rate_limit    optional cap on requests per second of our own
//	timeout       per request (default 30s)
//
// Every request carries Accept: application/json and Intercom-Version;
// bodies are application/json.
//
// # Operations
//
// Intercom has no batch upsert, so Apply writes each record with its own
// requests, up to concurrency at a time (one slot pool shared by every
// Apply call of the destination):
//
//	add, change  PUT /contacts/{id} with the record's RemoteID when known;
//	             otherwise (or when that answers 404: the contact was
//	             deleted or merged) POST /contacts/search with
//	             {"query": {"operator": "AND", "value": [
//	               {"field": "email", "operator": "=", "value": <key>},
//	               {"field": "role", "operator": "=", "value": <role>}]},
//	              "pagination": {"per_page": 5}}
//	             then PUT /contacts/{id} of the oldest match, or
//	             POST /contacts with {"role": <role>, …}; a 409 "A contact
//	             matching those details already exists with id=…" (new
//	             contacts take minutes to appear in search) updates that
//	             contact instead.
//	             mirror: then POST /contacts/{id}/tags {"id": <tag_id>}
//	remove       mirror: DELETE /contacts/{id}/tags/{tag_id} (the contact
//	             is found by search when no RemoteID is known; a 404 or no
//	             match means there is nothing to untag). The contact is
//	             never deleted. Upsert mode does not remove.
//
// The contact ID is returned as Result.RemoteID. The key is searched as
// email unless the sync maps its key to external_id.
//
// # Fields
//
// email, external_id, name, phone, avatar, signed_up_at, last_seen_at,
// owner_id and unsubscribed_from_emails are standard attributes, sent at the
// top level; a field written custom_attributes.<name>, or any other name,
// goes under custom_attributes. role is decided by the role setting and
// Intercom's own attributes (id, created_at, …) cannot be mapped. Times are
// sent as Unix seconds. A nil field (null_values: send) clears the
// attribute by sending JSON null, as the request schemas allow for every
// standard attribute but email and external_id (left out: they cannot be
// cleared) and for custom attribute values. A NaN or infinite number
// rejects its record without sending it.
//
// Custom attributes must exist in the workspace's data model: Intercom
// refuses unknown ones. CheckFields (destination.SchemaChecker, `cdp sync
// check`) reads GET /data_attributes?model=contact and reports fields
// whose custom attribute is missing, archived, not API-writable, or of a
// data type the trait's type does not fit.
//
// # Failures and rate limits
//
// Per record: 429, 5xx, 408, timeouts and dropped connections make the
// record's result retryable; other 4xx reject it with Intercom's error list
// ({"type": "error.list", "errors": [{"code", "message"}]}) as the message.
// When every record of a batch failed that way Apply returns the failure as
// a *destination.BatchError (a 429 first, with the wait from
// X-RateLimit-Reset), so the delivery backs off, counts throttling and
// waits. 401 and 403 are fatal: the run stops.
//
// Intercom allows 10,000 requests a minute per app and 25,000 per workspace,
// spread over 10-second windows. Every response carries X-RateLimit-Limit,
// X-RateLimit-Remaining and X-RateLimit-Reset (Unix seconds); when the
// remaining count reaches 0, or a 429 arrives, every request of the
// destination waits until the reset. rate_limit, when set, spaces requests
// further. Because the limit is per request, Capabilities declares no rate
// of Apply calls, one call in flight, and a timeout covering a whole
// batch.
//
// Intercom takes no idempotency key; a resent record finds the contact it
// created before by search (or the 409) and updates it with the same
// values.
//
// # Documentation followed
//
//   - https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/createcontact
//   - https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/updatecontact
//   - https://developers.intercom.com/docs/references/rest-api/api.intercom.io/contacts/searchcontacts
//   - https://developers.intercom.com/docs/references/rest-api/api.intercom.io/tags/attachtagtocontact
//   - https://developers.intercom.com/docs/references/rest-api/api.intercom.io/tags/detachtagfromcontact
//   - https://developers.intercom.com/docs/references/rest-api/api.intercom.io/data-attributes/listdataattributes
//   - https://developers.intercom.com/docs/references/rest-api/errors/rate-limiting
//   - https://developers.intercom.com/docs/references/rest-api/errors/error-codes
//   - https://developers.intercom.com/docs/references/rest-api/errors/http-responses
//   - https://github.com/intercom/Intercom-OpenAPI (the OpenAPI descriptions, MIT)
//
// sync/destinationtest/intercom is a local contract server of these
// endpoints.
package intercom
